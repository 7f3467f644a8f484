/**
 * A three-node RaftNode cluster on WAL storage over the memory transport. Nodes are stopped hard
 * (their store abandoned mid-write, as a crash leaves it, and their files cut back to what they
 * had fsynced, as a power cut would) and restarted from their directories, over several seeded
 * rounds: one node, a majority, then all of them at once. Afterwards every acknowledged proposal is applied everywhere, the ledgers agree and the
 * logs on disk are identical.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { configuration, seededRandom } from '@greenraft/consensus';
import type { ApplyInput, LogEntry, NodeId, StateMachine } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode } from '@greenraft/raft';
import { type MemoryNetwork, memoryNetwork } from '@greenraft/transport-memory';
import { afterAll, describe, expect, it } from 'vitest';
import { type WalStorage, walStorage } from './index.js';
import { abandonWalStorage } from './wal.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-cluster-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const SEGMENT_BYTES = 16_384;

/** A replicated list of meter readings. */
class ReadingLedger implements StateMachine<number> {
  readings: string[] = [];
  apply({ data }: ApplyInput): number {
    this.readings.push(decoder.decode(data));
    return this.readings.length;
  }
  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify(this.readings));
  }
  restore(data: Uint8Array): void {
    this.readings = JSON.parse(decoder.decode(data)) as string[];
  }
}

interface Member {
  readonly id: NodeId;
  readonly directory: string;
  storage: WalStorage;
  node: RaftNode<number>;
  ledger: ReadingLedger;
  /** Bytes of each segment known durable: everything present at open, then what each fsync reported. */
  durable: Map<string, number>;
}

class WalCluster {
  readonly network: MemoryNetwork = memoryNetwork();
  readonly members = new Map<NodeId, Member>();
  constructor(readonly ids: readonly NodeId[]) {}

  async open(id: NodeId): Promise<void> {
    const directory = join(root, id);
    const durable = new Map<string, number>();
    const storage = await walStorage({ directory, segmentBytes: SEGMENT_BYTES, onSync: ({ file, offset }) => durable.set(basename(file), offset) });
    for (const name of readdirSync(directory)) if (name.endsWith('.log')) durable.set(name, statSync(join(directory, name)).size);
    const ledger = new ReadingLedger();
    const node = createRaftNode<number>({ id, transport: this.network.transport(id), storage, stateMachine: ledger, bootstrap: configuration(this.ids), tickMs: 5, snapshotThreshold: 40 });
    node.on('error', () => undefined);
    this.members.set(id, { id, directory, storage, node, ledger, durable });
    await node.start();
  }

  member(id: NodeId): Member {
    return this.members.get(id)!;
  }

  /** A crash: the store stops mid-write, the node with it; then a power cut drops what was not fsynced. */
  async crash(id: NodeId): Promise<void> {
    const member = this.member(id);
    await abandonWalStorage(member.storage);
    await member.node.stop();
    for (const name of readdirSync(member.directory)) {
      const durable = member.durable.get(name);
      if (durable !== undefined && statSync(join(member.directory, name)).size > durable) truncateSync(join(member.directory, name), durable);
    }
  }

  async leader(): Promise<RaftNode<number>> {
    let leader: RaftNode<number> | undefined;
    await eventually(
      () => {
        leader = [...this.members.values()].map((m) => m.node).find((node) => node.status().role === 'leader');
        return leader !== undefined;
      },
      { what: 'a leader', timeoutMs: 15_000 },
    );
    return leader!;
  }

  async stop(): Promise<void> {
    for (const member of this.members.values()) {
      await member.node.stop();
      await member.storage.close();
    }
    this.network.close();
  }
}

describe('a RaftNode cluster on WAL storage', () => {
  it('keeps every acknowledged proposal through hard stops and restarts, and ends with identical logs', async () => {
    const random = seededRandom(Number(process.env.GREENRAFT_WAL_CLUSTER_SEED ?? 9));
    const ids = ['n1', 'n2', 'n3'];
    const cluster = new WalCluster(ids);
    const acknowledged: string[] = [];
    try {
      for (const id of ids) await cluster.open(id);
      const rounds = 9;
      for (let round = 0; round < rounds; round++) {
        // One node, then a majority, then the whole cluster at once (a power cut): from the second
        // on, committed entries survive only if what each node fsynced does.
        const first = Math.floor(random() * ids.length);
        const victims = Array.from({ length: (round % 3) + 1 }, (_, k) => ids[(first + k) % ids.length]!);
        const proposals: Promise<void>[] = [];
        const propose = async (text: string): Promise<void> => {
          try {
            const leader = await cluster.leader();
            await leader.propose(encoder.encode(text), { timeoutMs: 2000 });
            acknowledged.push(text);
          } catch {
            // Not acknowledged (no leader, leader crashed, timed out): it may or may not be applied.
          }
        };
        const count = 20 + Math.floor(random() * 30);
        for (let i = 0; i < count; i++) {
          proposals.push(propose(`round ${round} reading ${i}`));
          if (i % 8 === 7) await Promise.all(proposals.splice(0));
          // Mid-round, the victims (the leader as often as not among them) go down hard, and come back.
          if (i === Math.floor(count / 2)) {
            await Promise.all(victims.map((victim) => cluster.crash(victim)));
            for (const victim of victims) await cluster.open(victim);
          }
        }
        await Promise.all(proposals);
      }
      // One more acknowledged proposal, then wait until every node has applied everything.
      const leader = await cluster.leader();
      const last = await leader.propose(encoder.encode('final reading'), { timeoutMs: 5000 });
      acknowledged.push('final reading');
      await eventually(() => ids.every((id) => cluster.member(id).node.status().appliedIndex >= last.index), { what: 'every node to apply the final reading', timeoutMs: 15_000 });

      expect(acknowledged.length).toBeGreaterThan(rounds * 10);
      const reference = cluster.member('n1').ledger.readings;
      for (const id of ids) {
        const { readings } = cluster.member(id).ledger;
        expect(readings, id).toEqual(reference);
        for (const text of acknowledged) expect(readings, `${id} lost the acknowledged ${text}`).toContain(text);
      }
    } finally {
      await cluster.stop();
    }

    // On disk: every node's log, read back from its directory, ends at the same index and term, and
    // agrees with the others wherever two of them hold an entry.
    const logs = new Map<NodeId, { entries: Map<number, LogEntry>; lastIndex: number; lastTerm: number | undefined }>();
    for (const id of ids) {
      const storage = await walStorage({ directory: join(root, id) });
      try {
        expect(storage.recovery.tornTail).toBeUndefined();
        const state = await storage.load();
        logs.set(id, { entries: new Map(state.entries.map((entry) => [entry.index, entry])), lastIndex: storage.lastIndex, lastTerm: storage.term(storage.lastIndex) });
      } finally {
        await storage.close();
      }
    }
    const [reference, ...others] = [...logs.values()];
    for (const other of others) {
      expect([other.lastIndex, other.lastTerm]).toEqual([reference!.lastIndex, reference!.lastTerm]);
      for (const [index, entry] of other.entries) {
        const same = reference!.entries.get(index);
        if (same !== undefined) expect(entry, `index ${index}`).toEqual(same);
      }
    }
  }, 120_000);
});
