/**
 * A 3-node weighted Raft cluster in one process, the way separate hosts would run it: each node
 * on the WebSocket transport (loopback, authenticated by a random cluster secret) and a
 * write-ahead log in a directory of its own. Meter readings are committed, every node and its
 * log are stopped, and the nodes are started again on the same directories: each finds its log
 * on disk, replays it into a fresh state machine, and the cluster carries on.
 *
 *   npm install @greenraft/weighted-raft @greenraft/transport-websocket @greenraft/storage-wal
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WalStorage, walStorage } from '@greenraft/storage-wal';
import { websocketTransport } from '@greenraft/transport-websocket';
import { type ApplyInput, type StateMachine, type WeightedRaftNode, createWeightedRaftNode, isGreenraftError } from '@greenraft/weighted-raft';

// The replicated state machine: a ledger of meter readings; apply returns how many it holds.
class MeterLedger implements StateMachine<number> {
  readings: string[] = [];
  apply({ data }: ApplyInput): number {
    return this.readings.push(new TextDecoder().decode(data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.readings));
  }
  restore(data: Uint8Array): void {
    this.readings = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

interface Member {
  readonly node: WeightedRaftNode<number>;
  readonly storage: WalStorage;
  readonly ledger: MeterLedger;
}

// n1 weighs most (it times out first, eq. 7); any two nodes weigh more than half of 7.
const weights = { n1: 3, n2: 2, n3: 2 };
const ids = Object.keys(weights);
// The cluster secret: the same random bytes on every member, never on the wire.
const secret = randomBytes(32);
const root = mkdtempSync(join(tmpdir(), 'greenraft-durable-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens every node's log in its directory and starts the cluster on fresh loopback ports. */
async function startCluster(): Promise<Member[]> {
  const storages = await Promise.all(ids.map((id) => walStorage({ directory: join(root, id) })));
  const transports = ids.map((id) => websocketTransport({ id, clusterId: 'grid-east', secret }));
  // Port 0 lets the OS pick each endpoint's port; then every node learns every URL.
  const peers = Object.fromEntries(await Promise.all(transports.map(async (t) => [t.localId, await t.listen()])));
  for (const transport of transports) transport.setPeers(peers);
  const members = transports.map((transport, i) => {
    const ledger = new MeterLedger();
    const node = createWeightedRaftNode({
      id: transport.localId,
      transport,
      storage: storages[i]!,
      stateMachine: ledger,
      weights, // founds the cluster on an empty log; a restarted node reads its configuration from disk
      ...transport.nodeLimits(),
    });
    return { node, storage: storages[i]!, ledger };
  });
  await Promise.all(members.map(({ node }) => node.start()));
  return members;
}

/** Stops every node (and its transport), then closes its log, which releases the directory. */
async function stopCluster(members: Member[]): Promise<void> {
  await Promise.all(members.map(({ node }) => node.stop()));
  await Promise.all(members.map(({ storage }) => storage.close()));
}

async function leader(members: Member[]): Promise<WeightedRaftNode<number>> {
  for (;;) {
    const found = members.find(({ node }) => node.status().role === 'leader');
    if (found !== undefined) return found.node;
    await sleep(10);
  }
}

/** Proposes through whichever node leads, following a change of leader. */
async function record(members: Member[], reading: string): Promise<void> {
  for (;;) {
    const node = await leader(members);
    try {
      const { index } = await node.propose(new TextEncoder().encode(reading), { timeoutMs: 2000 });
      console.log(`${node.id} committed "${reading}" at index ${index}`);
      return;
    } catch (error) {
      if (!isGreenraftError(error, 'NOT_LEADER') && !isGreenraftError(error, 'TIMEOUT') && !isGreenraftError(error, 'PROPOSAL_DROPPED')) throw error;
    }
  }
}

/** Waits until every replica has applied what the leader has committed, then prints each ledger. */
async function printLedgers(members: Member[]): Promise<void> {
  const node = await leader(members);
  await node.readBarrier(); // a commit in the leader's current term: everything before it is committed
  const target = node.status().commitIndex;
  while (!members.every((member) => member.node.status().appliedIndex >= target)) await sleep(10);
  for (const { node, ledger } of members) console.log(`${node.id}: ${ledger.readings.join(', ')}`);
}

try {
  let members = await startCluster();
  const first = await leader(members);
  console.log(`${first.id} leads, weighing ${weights[first.id as keyof typeof weights]} of 7`);
  for (const reading of ['meter-1: 12.5 kWh', 'meter-2: 8.0 kWh', 'meter-3: 4.2 kWh']) await record(members, reading);
  await printLedgers(members);

  console.log('stopping every node and its log');
  await stopCluster(members);

  // Same directories, fresh processes' worth of state: nothing but the logs on disk carries over.
  members = await startCluster();
  for (const { node, storage } of members) {
    const stored = await storage.entries(storage.firstIndex, storage.lastIndex + 1);
    const readings = stored.filter((entry) => entry.type === 'normal' && entry.data.length > 0);
    const torn = storage.recovery.tornTail === undefined ? 'no torn tail' : 'a torn tail dropped';
    console.log(`${node.id} reopened its log: ${readings.length} readings, ${torn}`);
  }
  const second = await leader(members);
  console.log(`${second.id} leads after the restart`);
  await record(members, 'meter-4: 3.1 kWh');
  await printLedgers(members);
  await stopCluster(members);
} finally {
  rmSync(root, { recursive: true, force: true });
}
