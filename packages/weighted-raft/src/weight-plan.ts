import { ConfigurationError, InvalidArgumentError, integerOption, validateConfiguration } from '@greenraft/consensus';
import type { ClusterConfig, Configuration, NodeId } from '@greenraft/consensus';
import { FaultToleranceError, ScoringError, toVoteWeights } from '@greenraft/weight-scoring';

/** Options of {@link planWeightEpoch}: how scores become integer vote weights. */
export interface WeightPlanInit {
  /**
   * f: the number of voters that may crash without blocking the cluster. The new weights keep the
   * f heaviest voters together strictly below half the total (the fault-tolerance guard).
   * @default ⌊(n − 1) / 2⌋ for n voters with a positive weight (`defaultTolerateFailures` of
   *   `@greenraft/weight-scoring`): the failures classic Raft survives, so weights never make the
   *   cluster less available than classic Raft
   */
  tolerateFailures?: number;
  /**
   * Integer weight units for a score of 100 (see `toVoteWeights` in `@greenraft/weight-scoring`).
   * @default 100
   */
  resolution?: number;
  /**
   * The smallest weight a voter gets, whatever its score; 0 lets a voter with a zero score stop
   * counting towards quorums (it still replicates the log).
   * @default 1
   */
  minWeight?: number;
}

/** Validated {@link WeightPlanInit}, every default filled in (`tolerateFailures` stays undefined: it follows the voters). */
export interface ResolvedWeightPlan {
  readonly tolerateFailures: number | undefined;
  readonly resolution: number;
  readonly minWeight: number;
}

/** Checks a {@link WeightPlanInit} and fills in its defaults. */
export function resolveWeightPlan(init: WeightPlanInit = {}): ResolvedWeightPlan {
  return {
    tolerateFailures: init.tolerateFailures === undefined ? undefined : integerOption('tolerateFailures', init.tolerateFailures, { min: 0 }),
    resolution: integerOption('resolution', init.resolution ?? 100, { min: 1 }),
    minWeight: integerOption('minWeight', init.minWeight ?? 1, { min: 0 }),
  };
}

/**
 * `toVoteWeights` with greenraft's errors: scores in [0, 100] → integer weights that satisfy the
 * fault-tolerance guard. Throws ConfigurationError when the guard cannot hold, InvalidArgumentError
 * for a bad score.
 */
export function guardedVoteWeights(scores: ReadonlyMap<NodeId, number>, plan: ResolvedWeightPlan): Map<NodeId, number> {
  try {
    return toVoteWeights(scores, plan);
  } catch (error) {
    if (error instanceof FaultToleranceError) throw new ConfigurationError(`no vote weights satisfy the fault-tolerance guard: ${error.message}`, { cause: error });
    if (error instanceof ScoringError) throw new InvalidArgumentError(`the scores cannot become vote weights: ${error.message}`, { cause: error });
    throw error;
  }
}

/** True when `a` and `b` have the same voters with weights in the same proportions: same quorums, same ranks. */
function sameProportions(a: ReadonlyMap<NodeId, number>, b: ReadonlyMap<NodeId, number>): boolean {
  if (a.size !== b.size) return false;
  let totalA = 0;
  let totalB = 0;
  for (const weight of a.values()) totalA += weight;
  for (const weight of b.values()) totalB += weight;
  for (const [id, weight] of a) {
    const other = b.get(id);
    // Cross-multiplied, so the comparison stays exact in integers.
    if (other === undefined || weight * totalB !== other * totalA) return false;
  }
  return true;
}

/**
 * Plans one weight epoch, purely: turns `scores` (node id → score in [0, 100], as a
 * `ScoringStrategy` from `@greenraft/weight-scoring` returns them) into integer vote weights with
 * the fault-tolerance guard (`toVoteWeights`), and returns the configuration to move to: the same
 * voters and learners as `config`, with the new weights.
 *
 * Returns `undefined` when there is nothing to do: a joint change is still in progress
 * (`config.outgoing` is set: one change at a time), or the new weights equal the current ones or
 * are in the same proportions (which give the same quorums and the same ranks).
 *
 * The caller, the leader, proposes the result by joint consensus (`changeConfiguration` on a node,
 * `proposeConfigChange` on a `RaftCore`); nothing here changes any state. Scores of nodes that
 * are not voters of `config.incoming` are ignored.
 *
 * @throws InvalidArgumentError when a voter has no score, a score is outside [0, 100], or an
 *   option is invalid.
 * @throws ConfigurationError when no weights can satisfy the guard (fewer than 2f + 1 voters
 *   with a positive weight, for an explicit `tolerateFailures`: the default always can).
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { planWeightEpoch } from '@greenraft/weighted-raft';
 *
 * const current = { incoming: configuration(['a', 'b', 'c', 'd', 'e']) };
 * const scores = new Map([['a', 90], ['b', 60], ['c', 30], ['d', 30], ['e', 30]]);
 * planWeightEpoch(current, scores)?.voters; // Map { a → 22, b → 22, c → 15, d → 15, e → 15 }: any 2 of 5 may crash
 * const target = planWeightEpoch(current, scores, { tolerateFailures: 1 });
 * // target.voters: Map { a → 3, b → 2, c → 1, d → 1, e → 1 }; then: core.proposeConfigChange(target)
 * ```
 */
export function planWeightEpoch(
  config: ClusterConfig,
  scores: ReadonlyMap<NodeId, number>,
  init: WeightPlanInit = {},
): Configuration | undefined {
  const plan = resolveWeightPlan(init);
  if (!(scores instanceof Map)) throw new InvalidArgumentError('scores must be a Map of node id → score');
  if (config.outgoing !== undefined) return undefined;
  const current = config.incoming;
  const voterScores = new Map<NodeId, number>();
  for (const id of current.voters.keys()) {
    const score = scores.get(id);
    if (score === undefined) throw new InvalidArgumentError(`voter ${id} has no score`);
    voterScores.set(id, score);
  }
  const weights = guardedVoteWeights(voterScores, plan);
  if (sameProportions(weights, current.voters)) return undefined;
  const target: Configuration = { voters: weights, learners: new Set(current.learners) };
  validateConfiguration(target);
  return target;
}
