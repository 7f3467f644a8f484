import {
  AbortError,
  NotLeaderError,
  StoppedError,
  TimeoutError,
  configuration,
  configurationsEqual,
} from '@greenraft/consensus';
import type { ConsensusNode, NodeId, StateMachine } from '@greenraft/consensus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './node-helpers.js';
import { AppendOnlyJournal } from './node-journal.js';

export { eventually } from './node-helpers.js';
export type { EventuallyOptions } from './node-helpers.js';
export { AppendOnlyJournal } from './node-journal.js';

/** What the suite asks `setup` for. */
export interface ConsensusClusterInit {
  /** The founding voters, each with weight 1. */
  readonly ids: readonly NodeId[];
  /** The state machine each node must run; the suite inspects it. Returns `"<index>:<text>"` per applied entry. */
  stateMachine(id: NodeId): StateMachine<string>;
}

/** A started cluster the suite drives. */
export interface ConsensusCluster {
  /** The started founding nodes, by id. */
  readonly nodes: ReadonlyMap<NodeId, ConsensusNode<string>>;
  /**
   * Creates and starts a node with `stateMachine` that is not (yet) in the configuration and
   * bootstraps nothing: it must learn everything from the leader once added.
   */
  addNode(id: NodeId, stateMachine: StateMachine<string>): Promise<ConsensusNode<string>>;
  /** Crashes a node: stops it and cuts it off the network. */
  kill(id: NodeId): Promise<void>;
}

/** What {@link consensusNodeCompliance} needs to exercise a {@link ConsensusNode} implementation. */
export interface ConsensusNodeComplianceOptions<C extends ConsensusCluster = ConsensusCluster> {
  /** Creates and starts a cluster of `init.ids` sharing one network. */
  setup(init: ConsensusClusterInit): Promise<C>;
  /** Stops every node of the cluster and releases the network. */
  teardown(cluster: C): Promise<void>;
  /**
   * How long the suite waits for something that must eventually happen (an election, a commit)
   * before failing; never a speed requirement.
   * @default 10_000
   */
  patienceMs?: number;
}

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

/**
 * Registers vitest tests that every {@link ConsensusNode} implementation must pass on a
 * three-node cluster: one leader is elected; proposals resolve on the leader with the applied
 * result and reach every node in the same order; followers answer NotLeaderError naming the
 * leader; read barriers are linearizable on leaders and followers; abort, timeout and stop
 * reject with AbortError, TimeoutError and StoppedError; a crashed leader is replaced without
 * losing committed entries; configuration changes add a node and change a weight; leadership
 * can be handed over.
 *
 * @example
 * ```ts
 * // raft-node.spec.test.ts
 * import { configuration, type Configuration, type StateMachine } from '@greenraft/consensus';
 * import { consensusNodeCompliance } from '@greenraft/consensus-compliance';
 * import { createRaftNode, memoryStorage, type RaftNode } from '@greenraft/raft';
 * import { memoryNetwork, type MemoryNetwork } from '@greenraft/transport-memory';
 *
 * let network: MemoryNetwork;
 * consensusNodeCompliance({
 *   setup: async ({ ids, stateMachine }) => {
 *     network = memoryNetwork();
 *     const nodes = new Map<string, RaftNode<string>>();
 *     const start = async (id: string, sm: StateMachine<string>, bootstrap: Configuration | undefined) => {
 *       const node = createRaftNode({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: sm, bootstrap });
 *       nodes.set(id, node);
 *       await node.start();
 *       return node;
 *     };
 *     await Promise.all(ids.map((id) => start(id, stateMachine(id), configuration(ids))));
 *     return {
 *       nodes,
 *       addNode: (id, sm) => start(id, sm, undefined), // joins with no bootstrap: learns from the leader
 *       kill: async (id) => { await nodes.get(id)?.stop(); network.isolate(id); },
 *     };
 *   },
 *   teardown: async (cluster) => {
 *     await Promise.all([...cluster.nodes.values()].map((node) => node.stop()));
 *     network.close();
 *   },
 * });
 * ```
 */
export function consensusNodeCompliance<C extends ConsensusCluster>(options: ConsensusNodeComplianceOptions<C>): void {
  const patienceMs = options.patienceMs ?? 10_000;
  const ids = ['n1', 'n2', 'n3'] as const;

  describe('ConsensusNode compliance', () => {
    let cluster: C;
    let journals: Map<NodeId, AppendOnlyJournal>;
    const alive = new Set<NodeId>();

    const node = (id: NodeId): ConsensusNode<string> => {
      const found = cluster.nodes.get(id);
      if (found === undefined) throw new Error(`the cluster has no node ${id}`);
      return found;
    };

    /** Waits until the live nodes agree on one leader in one term, and returns it. */
    const agreedLeader = async (): Promise<NodeId> => {
      let leader: NodeId | undefined;
      await eventually(
        () => {
          const statuses = [...alive].map((id) => node(id).status());
          const leaders = statuses.filter((status) => status.role === 'leader');
          if (leaders.length !== 1) return false;
          const [only] = leaders;
          leader = only!.id;
          return statuses.every((status) => status.leader === only!.id && status.term === only!.term);
        },
        { timeoutMs: patienceMs, what: 'the live nodes to agree on one leader' },
      );
      return leader!;
    };

    const appliedEverywhere = async (index: number, on: Iterable<NodeId> = alive): Promise<void> => {
      const targets = [...on];
      await eventually(() => targets.every((id) => node(id).status().appliedIndex >= index), {
        timeoutMs: patienceMs,
        what: `index ${index} to be applied on ${targets.join(', ')}`,
      });
    };

    beforeEach(async () => {
      journals = new Map(ids.map((id) => [id, new AppendOnlyJournal()]));
      cluster = await options.setup({ ids, stateMachine: (id) => journals.get(id)! });
      alive.clear();
      for (const id of ids) alive.add(id);
    });

    afterEach(async () => {
      await options.teardown(cluster);
    });

    it('elects exactly one leader that every node recognises', async () => {
      const leader = await agreedLeader();
      const statuses = ids.map((id) => node(id).status());
      expect(statuses.filter((status) => status.role === 'leader').map((status) => status.id)).toEqual([leader]);
      expect(new Set(statuses.map((status) => status.term)).size).toBe(1);
      expect(statuses.filter((status) => status.role === 'follower')).toHaveLength(2);
    });

    it('resolves a proposal on the leader with the applied result, and every node applies it in the same order', async () => {
      const leader = node(await agreedLeader());
      const first = await leader.propose(bytes('meter-1: 12.5 kWh'));
      const second = await leader.propose(bytes('meter-2: 7.0 kWh'));
      expect(first.result).toBe(`${first.index}:meter-1: 12.5 kWh`);
      expect(second.result).toBe(`${second.index}:meter-2: 7.0 kWh`);
      expect(second.index).toBeGreaterThan(first.index);
      expect(second.term).toBe(first.term);
      await appliedEverywhere(second.index);
      for (const id of ids) expect(journals.get(id)!.records).toEqual([first.result, second.result]);
    });

    it('emits apply events with the state machine result', async () => {
      const leaderId = await agreedLeader();
      const follower = ids.find((id) => id !== leaderId)!;
      const seen: string[] = [];
      node(follower).on('apply', ({ index, result }) => seen.push(`${index}=${result}`));
      const { index, result } = await node(leaderId).propose(bytes('settle'));
      await appliedEverywhere(index);
      expect(seen).toEqual([`${index}=${result}`]);
    });

    it('rejects a proposal on a follower with NotLeaderError naming the leader', async () => {
      const leader = await agreedLeader();
      const follower = ids.find((id) => id !== leader)!;
      const error = await node(follower).propose(bytes('misdirected')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(NotLeaderError);
      expect((error as NotLeaderError).leader).toBe(leader);
      expect(journals.get(follower)!.records).toEqual([]);
    });

    it('serves read barriers on the leader and on followers after the writes before them', async () => {
      const leaderId = await agreedLeader();
      const { index } = await node(leaderId).propose(bytes('before the read'));
      for (const id of ids) {
        const readIndex = await node(id).readBarrier();
        expect(readIndex).toBeGreaterThanOrEqual(index);
        expect(node(id).status().appliedIndex).toBeGreaterThanOrEqual(readIndex);
        expect(journals.get(id)!.records).toContain(`${index}:before the read`);
      }
    });

    it('rejects with AbortError for an aborted signal, and proposes nothing', async () => {
      const leader = node(await agreedLeader());
      const lastIndex = leader.status().lastIndex;
      const controller = new AbortController();
      controller.abort();
      await expect(leader.propose(bytes('never'), { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
      await expect(leader.readBarrier({ signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
      expect(leader.status().lastIndex).toBe(lastIndex);
    });

    it('rejects with AbortError when the signal aborts while the proposal waits', async () => {
      const leader = node(await agreedLeader());
      const controller = new AbortController();
      const pending = leader.propose(bytes('aborted in flight'), { signal: controller.signal });
      controller.abort(new Error('the operator gave up'));
      const error = await pending.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AbortError);
      expect((error as AbortError).code).toBe('ABORTED');
    });

    it('rejects with TimeoutError when no quorum can commit in time', async () => {
      const leaderId = await agreedLeader();
      for (const id of ids) if (id !== leaderId) await killNode(id);
      const error = await node(leaderId).propose(bytes('stranded'), { timeoutMs: 150 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(journals.get(leaderId)!.records).not.toContain('stranded');
    });

    it('rejects pending operations with StoppedError on stop, and every later call too', async () => {
      const leaderId = await agreedLeader();
      for (const id of ids) if (id !== leaderId) await killNode(id);
      const pending = node(leaderId).propose(bytes('cut short'), { timeoutMs: patienceMs });
      await node(leaderId).stop();
      await expect(pending).rejects.toBeInstanceOf(StoppedError);
      await expect(node(leaderId).propose(bytes('after stop'))).rejects.toBeInstanceOf(StoppedError);
      await expect(node(leaderId).readBarrier()).rejects.toBeInstanceOf(StoppedError);
      await node(leaderId).stop();
    });

    it('replaces a crashed leader and keeps every committed entry', async () => {
      const oldLeader = await agreedLeader();
      const committed: string[] = [];
      for (const text of ['trade-1', 'trade-2', 'trade-3']) committed.push((await node(oldLeader).propose(bytes(text))).result);
      await killNode(oldLeader);
      const newLeader = await agreedLeader();
      expect(newLeader).not.toBe(oldLeader);
      const after = await node(newLeader).propose(bytes('trade-4'));
      await appliedEverywhere(after.index);
      for (const id of alive) expect(journals.get(id)!.records).toEqual([...committed, after.result]);
    });

    it('adds a node by a configuration change, and the new node catches up', async () => {
      const leader = node(await agreedLeader());
      const before = await leader.propose(bytes('before n4 joined'));
      const journal = new AppendOnlyJournal();
      await cluster.addNode('n4', journal);
      const target = configuration(['n1', 'n2', 'n3', 'n4']);
      const config = await leader.changeConfiguration(target);
      expect(config.outgoing).toBeUndefined();
      expect(configurationsEqual(config.incoming, target)).toBe(true);
      const after = await leader.propose(bytes('after n4 joined'));
      alive.add('n4');
      await appliedEverywhere(after.index);
      expect(journal.records).toEqual([before.result, after.result]);
      expect(configurationsEqual(node('n4').status().config.incoming, target)).toBe(true);
    });

    it('changes a voter weight by a configuration change seen by every node', async () => {
      const leaderId = await agreedLeader();
      const target = configuration({ n1: 1, n2: 1, n3: 1, [leaderId]: 3 });
      const config = await node(leaderId).changeConfiguration(target);
      expect(config.incoming.voters.get(leaderId)).toBe(3);
      expect(config.outgoing).toBeUndefined();
      await eventually(() => ids.every((id) => node(id).status().config.outgoing === undefined && configurationsEqual(node(id).status().config.incoming, target)), {
        timeoutMs: patienceMs,
        what: 'every node to adopt the new weights',
      });
    });

    it('hands leadership over to a chosen follower', async () => {
      const leaderId = await agreedLeader();
      const successor = ids.find((id) => id !== leaderId)!;
      await node(leaderId).transferLeadership(successor, { timeoutMs: patienceMs });
      expect(await agreedLeader()).toBe(successor);
      const { result } = await node(successor).propose(bytes('under new leadership'));
      expect(result).toMatch(/:under new leadership$/);
    });

    async function killNode(id: NodeId): Promise<void> {
      await cluster.kill(id);
      alive.delete(id);
    }
  });
}
