import { InvalidArgumentError, rejectUnknownOptions } from '@greenraft/consensus';
import type { ClusterConfig, NodeId } from '@greenraft/consensus';
import type { ElectionTimeoutContext, RaftPolicy } from '@greenraft/raft';
import { electionTimeoutMs, voteTimeoutRank } from '@greenraft/weight-scoring';

/** Options of {@link rankElectionTimeout}. */
export interface RankElectionTimeoutInit {
  /**
   * The constant part of every timeout, in milliseconds (the 100 of eq. 7).
   * @default 100
   */
  baseMs?: number;
  /**
   * Milliseconds added per weight rank (the 5 of eq. 7).
   * @default 5
   */
  stepMs?: number;
  /**
   * Up to this many milliseconds of random delay, drawn from the core's seeded PRNG at every
   * timer reset. Keep it below `stepMs − tickMs` so that jitter never reorders two ranks.
   * @default 0
   */
  jitterMs?: number;
  /**
   * Milliseconds per core tick: the timeout in milliseconds is rounded up to whole ticks.
   * @default 5
   */
  tickMs?: number;
}

/** The options of {@link rankElectionTimeout} with every default filled in. */
interface ResolvedRankTimeout {
  readonly baseMs: number;
  readonly stepMs: number;
  readonly jitterMs: number;
  readonly tickMs: number;
}

const RANK_TIMEOUT_OPTIONS = Object.keys({ baseMs: true, stepMs: true, jitterMs: true, tickMs: true } satisfies Record<keyof RankElectionTimeoutInit, true>);

function nonNegativeMs(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a finite number of milliseconds ≥ 0, not ${String(value)}`);
  }
  return value;
}

/** Checks the options of {@link rankElectionTimeout} and fills in the defaults. */
export function resolveRankTimeout(init: RankElectionTimeoutInit = {}): ResolvedRankTimeout {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('rankElectionTimeout needs an options object');
  rejectUnknownOptions('rankElectionTimeout', init, RANK_TIMEOUT_OPTIONS);
  const tickMs = init.tickMs ?? 5;
  if (typeof tickMs !== 'number' || !Number.isFinite(tickMs) || tickMs <= 0) {
    throw new InvalidArgumentError(`tickMs must be a positive number, not ${String(tickMs)}`);
  }
  return {
    baseMs: nonNegativeMs('baseMs', init.baseMs ?? 100),
    stepMs: nonNegativeMs('stepMs', init.stepMs ?? 5),
    jitterMs: nonNegativeMs('jitterMs', init.jitterMs ?? 0),
    tickMs,
  };
}

/**
 * n_i of eq. 7 for node `id` under `config`: 1 for the heaviest voter of the configuration in
 * effect (its incoming half while a joint change is in progress), ties broken by node id. A node
 * that is not a voter of that half ranks after every voter.
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { weightRank } from '@greenraft/weighted-raft';
 *
 * const config = { incoming: configuration({ a: 2, b: 5, c: 2 }) };
 * weightRank(config, 'b'); // 1
 * weightRank(config, 'c'); // 3: a and c weigh the same, a comes first by id
 * ```
 */
export function weightRank(config: ClusterConfig, id: NodeId): number {
  const voters = config.incoming.voters;
  return voteTimeoutRank(voters).get(id) ?? voters.size + 1;
}

/**
 * The election-timeout policy of weighted Raft (paper eq. 7): node i times out after
 * `ceil((baseMs + stepMs · n_i + jitterMs · random()) / tickMs)` ticks, where n_i is its weight
 * rank ({@link weightRank}). The heaviest voter times out first, so when every node starts (or
 * loses its leader) at the same moment it campaigns first and usually wins.
 *
 * The rank comes from the configuration in the node's own log, never from unreplicated state, and
 * the policy only decides *when* a node campaigns: votes and commits still need a weighted quorum,
 * so the policy affects liveness, never safety. Plug it into `RaftCore` directly (the simulator
 * does) or let {@link createWeightedRaftNode} do it.
 *
 * @throws InvalidArgumentError for an unknown option, a negative or non-finite duration, or a `tickMs` ≤ 0.
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { RaftCore } from '@greenraft/raft';
 * import { rankElectionTimeout } from '@greenraft/weighted-raft';
 *
 * const core = new RaftCore({
 *   id: 'b',
 *   bootstrap: configuration({ a: 2, b: 5, c: 2 }),
 *   policy: rankElectionTimeout({ tickMs: 5 }), // b is rank 1: (100 + 5·1) / 5 = 21 ticks
 * });
 * ```
 */
export function rankElectionTimeout(init: RankElectionTimeoutInit = {}): RaftPolicy {
  const { baseMs, stepMs, jitterMs, tickMs } = resolveRankTimeout(init);
  // The configuration object only changes when the log's configuration does: rank once per configuration.
  let rankedConfig: ClusterConfig | undefined;
  let ranks = new Map<NodeId, number>();
  return {
    electionTimeoutTicks(context: ElectionTimeoutContext): number {
      if (context.config !== rankedConfig) {
        rankedConfig = context.config;
        ranks = voteTimeoutRank(context.config.incoming.voters);
      }
      const rank = ranks.get(context.id) ?? context.config.incoming.voters.size + 1;
      // eq. 7: T_r,i = base + step · n_i, plus optional jitter, in whole ticks
      const timeoutMs = electionTimeoutMs(rank, { baseMs, stepMs }) + (jitterMs > 0 ? jitterMs * context.random() : 0);
      return Math.max(1, Math.ceil(timeoutMs / tickMs));
    },
  };
}
