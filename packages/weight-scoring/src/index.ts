/**
 * The node scores of the power-trading weighted Raft paper (Xiong, Liu, Qu and Cai, 2023, §4.2)
 * as pure functions citing their equations: credit reward and penalty (eq. 14–17), trading
 * volume (eq. 18), consensus participation (eq. 19), green certificates (eq. 20), carbon
 * settlement (eq. 21–22), line faults (eq. 23), decay (eq. 24–25) and the totals (eq. 8–13).
 * Swappable {@link ScoringStrategy | scoring strategies} (paper, uniform, latency, composed,
 * custom) score nodes in [0, 100]; {@link toVoteWeights} turns scores into integer vote weights
 * that keep the f heaviest voters below half the total (by default f = ⌊(n − 1) / 2⌋ of n voters).
 *
 * @example
 * ```ts
 * import {
 *   composeScoring,
 *   creditPenaltyDelta,
 *   creditWeightAfterRound,
 *   latencyScoring,
 *   paperScoring,
 *   toVoteWeights,
 *   uniformScoring,
 *   type NodeScoreInput,
 * } from '@greenraft/weight-scoring';
 *
 * const nodes: NodeScoreInput[] = [
 *   { id: 'g1', kind: 'generation', creditWeight: 97.98, contracted: 310, actual: 310, participation: 12,
 *     greenCertificates: 40, carbonSettlement: 15, transmissions: 200, transmissionFaults: 2, ackLatencyMs: 4 },
 *   { id: 'g2', kind: 'generation', creditWeight: 87.64, contracted: 200, actual: 200, participation: 9,
 *     greenCertificates: 25, carbonSettlement: -5, transmissions: 150, transmissionFaults: 6, ackLatencyMs: 9 },
 *   { id: 'c1', kind: 'consumption', creditWeight: 96.16, contracted: 310, actual: 310, participation: 11,
 *     greenCertificates: 10, carbonSettlement: 30, ackLatencyMs: 6 },
 *   { id: 'c2', kind: 'consumption', creditWeight: 86.04, contracted: 200, actual: 180, participation: 3,
 *     greenCertificates: 0, carbonSettlement: -20, ackLatencyMs: 15 },
 * ];
 *
 * for (const strategy of [
 *   paperScoring(),
 *   uniformScoring(),
 *   latencyScoring(),
 *   composeScoring([{ strategy: paperScoring(), weight: 2 }, { strategy: latencyScoring(), weight: 1 }]),
 * ]) {
 *   const scores = strategy.score(nodes);
 *   console.log(strategy.name, scores, toVoteWeights(scores, { tolerateFailures: 1 }));
 * }
 *
 * // The power market updates credit weights after each round. Table 2 of the paper: node 29
 * // consumed 50 of its 60 kWh; the round contracted 2310 kWh in total.
 * console.log(creditWeightAfterRound({ creditWeight: 64.93, contracted: 60, actual: 50, totalContracted: 2310 })); // ≈ 54.11
 * console.log(creditPenaltyDelta({ creditWeight: 64.93, contracted: 60, actual: 50 })); // ≈ 10.82, the ΔW_a of eq. 33
 * ```
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './credit.js';
export * from './parameters.js';
export * from './scores.js';
export * from './strategies.js';
export * from './vote-weights.js';
