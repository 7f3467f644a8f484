import { FaultToleranceError } from './errors.js';
import { MAX_SCORE, requireInRange, requireInteger, requireNonNegative } from './validate.js';

/** Options of {@link toVoteWeights}. */
export interface VoteWeightsInit {
  /**
   * Integer weight units for a score of 100: a score s first maps to round(s · resolution / 100).
   * Higher resolutions follow the scores more finely; 100 gives one unit per score point.
   * At most 1,000,000, which keeps every sum exact in integer arithmetic.
   * @default 100
   */
  resolution?: number;
  /**
   * f: the number of voters that may fail (crash, or be cut off) without blocking the cluster.
   * The mapping keeps the f heaviest voters together strictly below half the total weight.
   * @default ⌊(p − 1) / 2⌋ for p voters with a positive weight ({@link defaultTolerateFailures}):
   *   as many failures as classic Raft survives, and always satisfiable
   */
  tolerateFailures?: number;
  /**
   * The smallest weight a voter gets, whatever its score. With the default 1 every voter's
   * acknowledgement counts towards quorums, so a zero score means "least weight", not "no
   * vote"; 0 lets a zero score give a zero weight (the voter still replicates but never counts).
   * @default 1
   */
  minWeight?: number;
  /**
   * Divide the weights by their greatest common divisor. Quorums are unchanged (only ratios
   * matter) and equal scores give weight 1 each, classic Raft.
   * @default true
   */
  reduce?: boolean;
}

const MAX_RESOLUTION = 1_000_000;

/**
 * The fault tolerance greenraft assumes when none is given: ⌊(p − 1) / 2⌋ for p voters with a
 * positive weight, the number of crashed voters classic Raft survives with p voters (1 of 3, 2 of
 * 5, 3 of 7; none of 1 or 2). It is the largest f the guard can ever satisfy with p voters, so the
 * default never makes {@link toVoteWeights} fail; with it, weighting never makes a cluster less
 * available than classic Raft, and no ⌊(p − 1) / 2⌋ voters ever form a quorum by themselves.
 *
 * @example
 * ```ts
 * defaultTolerateFailures(5); // 2: the 2 heaviest of 5 voters weigh less than half the total
 * defaultTolerateFailures(2); // 0
 * ```
 */
export function defaultTolerateFailures(positiveVoters: number): number {
  requireInteger('positiveVoters', positiveVoters, 0);
  return Math.max(0, Math.floor((positiveVoters - 1) / 2));
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * g(c) = Σ_i min(wᵢ, c) − 2·Σ_{f heaviest} min(wᵢ, c): positive iff capping every weight at c
 * satisfies the guard. `descending` is sorted heaviest first, so capping keeps the same f heaviest.
 */
function guardSlack(descending: readonly number[], failures: number, cap: number): number {
  let total = 0;
  let heaviest = 0;
  descending.forEach((weight, index) => {
    const capped = Math.min(weight, cap);
    total += capped;
    if (index < failures) heaviest += capped;
  });
  return total - 2 * heaviest;
}

/**
 * Turns scores into integer vote weights with the fault-tolerance guard: the f =
 * `tolerateFailures` heaviest voters together weigh strictly less than half the total
 * (2·Σ top-f < Σ all, exact in integers). So any f voters can crash and the others still form a
 * quorum, and with f ≥ 1 no single node is a quorum by itself. By default f follows the number
 * of voters, as in classic Raft ({@link defaultTolerateFailures}: ⌊(p − 1) / 2⌋ of p voters with
 * a positive weight).
 *
 * Algorithm: each score s maps to max(minWeight, round(s · resolution / 100)). If the guard
 * fails, every weight is capped at the largest integer c that satisfies it, wᵢ ← min(wᵢ, c)
 * ({@link capForFaultTolerance}: water-filling from the top, so only the heaviest lose weight,
 * and as little as possible). Capping at a common level never reorders: a higher score never
 * gets a smaller weight. Finally the weights are divided by their greatest common divisor
 * (`reduce`).
 *
 * @param scores - node id → score in [0, 100], as a {@link ScoringStrategy} returns.
 * @returns node id → integer weight ≥ 0, in the order of `scores`, with a positive total.
 * @throws {@link FaultToleranceError} when fewer than 2f + 1 voters have a positive weight
 *   (then no weights can satisfy the guard).
 * @throws {@link InvalidScoreInputError} on a score outside [0, 100] or an invalid option.
 *
 * @example
 * ```ts
 * import { toVoteWeights } from '@greenraft/weight-scoring';
 *
 * // One dominant node is capped so that it alone is not a quorum.
 * toVoteWeights(new Map([['a', 100], ['b', 20], ['c', 20], ['d', 10]]));
 * // Map { a → 49, b → 20, c → 20, d → 10 }: 2·49 < 99
 * ```
 */
export function toVoteWeights(scores: ReadonlyMap<string, number>, options: VoteWeightsInit = {}): Map<string, number> {
  const resolution = requireInteger('resolution', options.resolution ?? 100, 1, MAX_RESOLUTION);
  const minWeight = requireInteger('minWeight', options.minWeight ?? 1, 0, MAX_RESOLUTION);
  const reduce = options.reduce ?? true;

  const raw = new Map<string, number>();
  for (const [id, score] of scores) {
    requireInRange(`score of ${id}`, score, 0, MAX_SCORE);
    raw.set(id, Math.max(minWeight, Math.round((score * resolution) / MAX_SCORE)));
  }
  let positive = 0;
  for (const weight of raw.values()) if (weight > 0) positive++;
  const failures =
    options.tolerateFailures === undefined ? defaultTolerateFailures(positive) : requireInteger('tolerateFailures', options.tolerateFailures, 0);
  const capped = capForFaultTolerance(raw, failures);
  if (!reduce) return capped;
  const divisor = [...capped.values()].reduce(greatestCommonDivisor, 0);
  return new Map([...capped].map(([id, weight]) => [id, weight / divisor]));
}

/**
 * Flattens integer weights just enough for the fault-tolerance guard: every weight is capped at
 * the largest common level c that keeps the f = `tolerateFailures` heaviest voters together
 * strictly below half the total, wᵢ ← min(wᵢ, c). Only the heaviest lose weight, as little as
 * possible, and the order of the weights is kept; weights that already satisfy the guard come back
 * unchanged. {@link toVoteWeights} uses it after mapping scores to weights; use it directly to
 * repair founding weights that break the guard.
 *
 * With the weights sorted, g(c) = Σ min(wᵢ, c) − 2·Σ_{top f} min(wᵢ, c) is concave and piecewise
 * linear in c, positive at the smallest positive weight whenever at least 2f + 1 weights are
 * positive, so the largest feasible cap is found by binary search.
 *
 * @param weights - node id → integer weight ≥ 0.
 * @returns node id → capped integer weight, in the order of `weights`.
 * @throws {@link FaultToleranceError} when fewer than 2f + 1 voters have a positive weight.
 * @throws {@link InvalidScoreInputError} on a weight that is not an integer ≥ 0, or a bad `tolerateFailures`.
 *
 * @example
 * ```ts
 * import { capForFaultTolerance } from '@greenraft/weight-scoring';
 *
 * capForFaultTolerance(new Map([['a', 5], ['b', 4], ['c', 3], ['d', 2], ['e', 1]]), 2);
 * // Map { a → 2, b → 2, c → 2, d → 2, e → 1 }: 2·(2 + 2) < 9
 * ```
 */
export function capForFaultTolerance(weights: ReadonlyMap<string, number>, tolerateFailures: number): Map<string, number> {
  const failures = requireInteger('tolerateFailures', tolerateFailures, 0);
  for (const [id, weight] of weights) requireInteger(`weight of ${id}`, weight, 0);
  const descending = [...weights.values()].sort((a, b) => b - a);
  const positive = descending.filter((weight) => weight > 0);
  if (positive.length < 2 * failures + 1) {
    const zero = [...weights].filter(([, weight]) => weight === 0).map(([id]) => id);
    throw new FaultToleranceError(
      `tolerating ${failures} failure(s) needs at least ${2 * failures + 1} voters with a positive weight, got ${positive.length}` +
        (zero.length > 0 ? ` (weight 0: ${zero.join(', ')})` : ''),
    );
  }
  let cap = descending[0] ?? 0;
  if (guardSlack(descending, failures, cap) <= 0) {
    // g is concave with g(smallest positive) > 0 and g(heaviest) ≤ 0: binary search the last c with g(c) > 0.
    let feasible = positive[positive.length - 1] as number;
    let infeasible = cap;
    while (infeasible - feasible > 1) {
      const middle = Math.floor((feasible + infeasible) / 2);
      if (guardSlack(descending, failures, middle) > 0) feasible = middle;
      else infeasible = middle;
    }
    cap = feasible;
  }
  return new Map([...weights].map(([id, weight]) => [id, Math.min(weight, cap)]));
}

function byWeightThenId(weights: ReadonlyMap<string, number>): string[] {
  for (const [id, weight] of weights) requireNonNegative(`weight of ${id}`, weight);
  return [...weights.keys()].sort((a, b) => {
    const difference = (weights.get(b) as number) - (weights.get(a) as number);
    if (difference !== 0) return difference;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/**
 * n_i of eq. 7: each voter's rank by weight, 1 for the heaviest. Ties are broken by node id
 * (ascending, in UTF-16 code-unit order) so that every node computes the same ranks.
 *
 * @example
 * ```ts
 * voteTimeoutRank(new Map([['b', 3], ['a', 3], ['c', 5]])); // Map { c → 1, a → 2, b → 3 }
 * ```
 */
export function voteTimeoutRank(weights: ReadonlyMap<string, number>): Map<string, number> {
  return new Map(byWeightThenId(weights).map((id, index) => [id, index + 1]));
}

/** Options of {@link electionTimeoutMs}. */
export interface ElectionTimeoutInit {
  /** The constant part of the timeout (ms). @default 100 */
  baseMs?: number;
  /** Added per rank (ms). @default 5 */
  stepMs?: number;
}

/**
 * T_r,i (eq. 7): the election timeout of the voter with weight rank `rank`,
 * base + step · rank milliseconds; the heaviest voter (rank 1) times out first.
 *
 * @example
 * ```ts
 * electionTimeoutMs(1); // 105
 * electionTimeoutMs(30); // 250
 * ```
 */
export function electionTimeoutMs(rank: number, init: ElectionTimeoutInit = {}): number {
  requireInteger('rank', rank, 1);
  const baseMs = requireNonNegative('baseMs', init.baseMs ?? 100);
  const stepMs = requireNonNegative('stepMs', init.stepMs ?? 5);
  // eq. 7: T_r,i = 100 + 5·n_i
  return baseMs + stepMs * rank;
}

/**
 * True when the f heaviest voters together weigh strictly less than half the total
 * (2 · Σ top-f < Σ all): any f voters can crash and the rest still form a quorum.
 *
 * @param tolerateFailures - f; by default {@link defaultTolerateFailures} of the voters with a
 *   positive weight, as {@link toVoteWeights} uses it.
 *
 * @example
 * ```ts
 * satisfiesFaultToleranceGuard(new Map([['a', 3], ['b', 3], ['c', 1], ['d', 1], ['e', 1]]), 1); // true: 6 < 9
 * satisfiesFaultToleranceGuard(new Map([['a', 4], ['b', 1], ['c', 1], ['d', 1], ['e', 1]]), 1); // false: 8 ≥ 8
 * satisfiesFaultToleranceGuard(new Map([['a', 3], ['b', 3], ['c', 1], ['d', 1], ['e', 1]])); // false: f = 2, 12 ≥ 9
 * ```
 */
export function satisfiesFaultToleranceGuard(weights: ReadonlyMap<string, number>, tolerateFailures?: number): boolean {
  const descending = [...weights.values()].sort((a, b) => b - a);
  const failures = tolerateFailures ?? defaultTolerateFailures(descending.filter((weight) => weight > 0).length);
  let total = 0;
  for (const weight of descending) total += weight;
  let heaviest = 0;
  for (const weight of descending.slice(0, failures)) heaviest += weight;
  return 2 * heaviest < total;
}
