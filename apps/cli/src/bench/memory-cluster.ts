/**
 * An in-process cluster on the memory transport with memory storage, classic or weighted, for
 * the `memory`, `scale` and `heterogeneous` suites: start it, find its leader, move leadership,
 * count the messages it sends, stop it.
 */
import { type ConsensusNode, type NodeId, TimeoutError, configuration } from '@greenraft/consensus';
import { createRaftNode, memoryStorage } from '@greenraft/raft';
import { type MemoryNetwork, memoryNetwork } from '@greenraft/transport-memory';
import { type NodeScoreInput, type ScoringStrategy, type WeightedRaftNode, createWeightedRaftNode } from '@greenraft/weighted-raft';
import type { ScoreInputsContext } from '@greenraft/weighted-raft';
import { BenchKvStore } from './workload.js';

/** The weighted parts of a weighted cluster. */
export interface WeightedClusterInit {
  /** Founding weights: integers per voter, or score inputs turned into weights by `scoring`. */
  readonly weights: Readonly<Record<NodeId, number>> | { readonly inputs: readonly NodeScoreInput[] };
  readonly scoring?: ScoringStrategy;
  readonly scoreInputs?: (context: ScoreInputsContext) => readonly NodeScoreInput[];
  readonly preferredLeader?: boolean;
  /** @default ⌊(n − 1) / 2⌋, the weighted node's own default */
  readonly tolerateFailures?: number;
}

/** Options of {@link startMemoryCluster}. */
export interface MemoryClusterInit {
  /** Voter ids. */
  readonly voters: readonly NodeId[];
  /** Learner ids (they replicate the log but never vote). @default none */
  readonly learners?: readonly NodeId[];
  readonly policy: 'classic' | 'weighted';
  /** Weighted clusters only. @default equal weights */
  readonly weighted?: WeightedClusterInit;
  /** One-way latency of the link `from → to` in ms; 0 delivers on the next turn of the event loop. @default 0 */
  readonly latencyMs?: (from: NodeId, to: NodeId) => number;
  /** Copy every message as a real wire would. @default true (the transport's default) */
  readonly clone?: boolean;
  /** Milliseconds per tick. @default each policy's own default (10 classic, 5 weighted) */
  readonly tickMs?: number;
}

/** A running in-process cluster. */
export interface MemoryCluster {
  readonly network: MemoryNetwork;
  readonly nodes: ReadonlyMap<NodeId, ConsensusNode<number>>;
  readonly stores: ReadonlyMap<NodeId, BenchKvStore>;
  /** Waits until one node leads and every voter agrees on it. */
  leader(timeoutMs?: number): Promise<ConsensusNode<number>>;
  /** Moves leadership to `id` and waits until every voter follows it. */
  moveLeader(id: NodeId, timeoutMs?: number): Promise<ConsensusNode<number>>;
  /** Messages the nodes have sent so far. */
  messagesSent(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts every node of the cluster. */
export async function startMemoryCluster(init: MemoryClusterInit): Promise<MemoryCluster> {
  const network = memoryNetwork({ clone: init.clone ?? true, maxQueuedPerLink: 1_000_000 });
  const learners = init.learners ?? [];
  const ids = [...init.voters, ...learners];
  if (init.latencyMs !== undefined) {
    for (const from of ids) for (const to of ids) if (from !== to) network.setLink(from, to, { latency: init.latencyMs(from, to) });
  }
  const bootstrap = configuration(init.voters, learners);
  const nodes = new Map<NodeId, ConsensusNode<number>>();
  const stores = new Map<NodeId, BenchKvStore>();
  for (const [position, id] of ids.entries()) {
    const store = new BenchKvStore();
    stores.set(id, store);
    // A long deadline: at concurrency 1024 on a loaded machine an entry may wait behind many others.
    const common = { id, transport: network.transport(id), storage: memoryStorage(), stateMachine: store, seed: position + 1, proposalTimeoutMs: 60_000 };
    const tick = init.tickMs === undefined ? {} : { tickMs: init.tickMs };
    if (init.policy === 'classic') {
      nodes.set(id, createRaftNode({ ...common, ...tick, bootstrap }));
    } else {
      const weighted = init.weighted ?? { weights: Object.fromEntries(init.voters.map((voter) => [voter, 1])) };
      nodes.set(
        id,
        createWeightedRaftNode({
          ...common,
          ...tick,
          bootstrap,
          weights: weighted.weights,
          ...(weighted.scoring === undefined ? {} : { scoring: weighted.scoring }),
          ...(weighted.scoreInputs === undefined ? {} : { scoreInputs: weighted.scoreInputs }),
          ...(weighted.tolerateFailures === undefined ? {} : { tolerateFailures: weighted.tolerateFailures }),
          // Weights change only when the suite asks (applyWeights), never in the middle of a measurement.
          epoch: 0,
          preferredLeader: weighted.preferredLeader ?? false,
        }),
      );
    }
  }
  await Promise.all([...nodes.values()].map((node) => node.start()));

  const agreedLeader = (): ConsensusNode<number> | undefined => {
    const leaders = [...nodes.values()].filter((node) => node.status().role === 'leader');
    if (leaders.length !== 1) return undefined;
    const leader = leaders[0]!;
    const term = leader.status().term;
    for (const voter of init.voters) {
      const status = nodes.get(voter)!.status();
      if (status.leader !== leader.id || status.term !== term) return undefined;
    }
    return leader;
  };
  const leader = async (timeoutMs = 20_000): Promise<ConsensusNode<number>> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = agreedLeader();
      if (found !== undefined) return found;
      if (performance.now() > deadline) throw new TimeoutError(`no leader agreed on by every voter within ${timeoutMs} ms`);
      await sleep(5);
    }
  };
  return {
    network,
    nodes,
    stores,
    leader,
    async moveLeader(id, timeoutMs = 20_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const current = await leader(Math.max(1, deadline - performance.now()));
        if (current.id === id) return current;
        try {
          await current.transferLeadership(id, { timeoutMs: Math.max(1, Math.min(2000, deadline - performance.now())) });
        } catch (error) {
          if (performance.now() > deadline) throw error;
        }
      }
    },
    messagesSent: () => network.stats.sent,
    async stop() {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      network.close();
    },
  };
}

/** The weighted node behind a cluster's `ConsensusNode` (weighted clusters only). */
export function asWeighted(node: ConsensusNode<number>): WeightedRaftNode<number> {
  return node as WeightedRaftNode<number>;
}
