import { type ApplyInput, type StateMachine, configuration } from '@greenraft/consensus';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import { eventually } from '@greenraft/consensus-compliance';
import { expect, it, vi } from 'vitest';
import { websocketTransport } from './index.js';

// The @packageDocumentation example of index.ts and the README, run as written.
it('runs the package example: a 3-node RaftNode cluster over WebSocket on loopback', async () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
  try {
    // A replicated meter-reading ledger: apply returns how many readings it holds.
    class MeterLedger implements StateMachine<number> {
      readings: string[] = [];
      apply({ data }: ApplyInput): number {
        this.readings.push(new TextDecoder().decode(data));
        return this.readings.length;
      }
      snapshot(): Uint8Array {
        return new TextEncoder().encode(JSON.stringify(this.readings));
      }
      restore(data: Uint8Array): void {
        this.readings = JSON.parse(new TextDecoder().decode(data)) as string[];
      }
    }

    const ids = ['n1', 'n2', 'n3'];
    const secret = 'a long random secret that only the members share'; // at least 16 bytes
    const transports = ids.map((id) => websocketTransport({ id, clusterId: 'grid-east', secret }));
    // Port 0 lets the OS pick each endpoint's port; then every node learns every URL.
    const peers = Object.fromEntries(await Promise.all(transports.map(async (t) => [t.localId, await t.listen()])));
    for (const transport of transports) transport.setPeers(peers);

    const nodes = transports.map((transport) =>
      createRaftNode({
        id: transport.localId,
        transport,
        storage: memoryStorage(),
        stateMachine: new MeterLedger(),
        bootstrap: configuration(ids),
        ...transport.nodeLimits(), // append and snapshot sizes that fit the transport's frames and queues
      }),
    );
    const elected = new Promise<RaftNode<number>>((resolve) => {
      for (const node of nodes) node.on('stateChange', ({ to }) => to === 'leader' && resolve(node));
    });
    await Promise.all(nodes.map((node) => node.start()));

    const leader = await elected;
    const { result } = await leader.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
    console.log(result); // 1: the ledger holds one reading
    const follower = transports.find((t) => t.localId !== leader.id)!;
    console.log(follower.stats().peers[leader.id]!.messagesReceived > 0); // true

    await Promise.all(nodes.map((node) => node.stop())); // stops the transports too
    expect(transports.map((t) => t.stats().state)).toEqual(['stopped', 'stopped', 'stopped']);
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([[1], [true]]);
});

// The @example of websocketTransport, run as written.
it('runs the websocketTransport example: two endpoints on loopback', async () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
  const secret = 'a long random cluster secret, shared by every member';
  const a = websocketTransport({ id: 'a', clusterId: 'grid-east', secret });
  const b = websocketTransport({ id: 'b', clusterId: 'grid-east', secret });
  try {
    const peers = { a: await a.listen(), b: await b.listen() }; // port 0: the OS picks
    a.setPeers(peers);
    b.setPeers(peers);
    await b.start((message) => console.log(`b got ${message.type} from ${message.from}`));
    await a.start(() => {});
    a.send({ type: 'timeoutNow', from: 'a', to: 'b', term: 1 }); // b got timeoutNow from a
    await eventually(() => printed.length === 1, { what: 'the message at b' });
  } finally {
    log.mockRestore();
    await a.stop();
    await b.stop();
  }
  expect(printed).toEqual([['b got timeoutNow from a']]);
});
