import { InvalidScoreInputError } from './errors.js';
import { requireNonNegative, requirePositive } from './validate.js';

/** One node's part in one trading round, as the credit score (paper §4.2.1) needs it. */
export interface CreditRoundInput {
  /** W_a^{k-1}: the node's credit weight before the round, in [0, `maxCreditWeight`]. */
  creditWeight: number;
  /** E_c,i^k: the volume the node contracted for the round (kWh). */
  contracted: number;
  /** E_a,i^k: the volume the node actually generated or consumed (kWh). */
  actual: number;
  /**
   * ΣE_c^k: the total contracted volume of all contracts in the round (kWh), counting each
   * contract once (2310 kWh in the paper's Table 1). Must be at least `contracted`.
   */
  totalContracted: number;
}

/** Parameters of the credit score. */
export interface CreditParameters {
  /**
   * W_a^max: the upper limit of a credit weight (eq. 15). The paper's §5.2 prints 0, a typo:
   * with 0 no node could ever earn credit, and its Tables 1–2 are reproduced with 100.
   * @default 100
   */
  maxCreditWeight?: number;
}

/** The paper's upper limit of a credit weight, W_a^max. */
export const DEFAULT_MAX_CREDIT_WEIGHT = 100;

function checkedMax(params: CreditParameters | undefined): number {
  return requirePositive('maxCreditWeight', params?.maxCreditWeight ?? DEFAULT_MAX_CREDIT_WEIGHT);
}

function checkedCreditWeight(creditWeight: number, max: number): number {
  requireNonNegative('creditWeight', creditWeight);
  if (creditWeight > max) {
    throw new InvalidScoreInputError(`creditWeight ${creditWeight} is above maxCreditWeight ${max}`);
  }
  return creditWeight;
}

/**
 * Whether a node performed its contract in a round: its actual volume reached the contracted
 * one. Delivering or consuming more than contracted counts as performing (the paper's node 26
 * consumed 80 of 60 kWh and was rewarded).
 *
 * @example
 * ```ts
 * contractPerformed({ contracted: 60, actual: 80 }); // true
 * contractPerformed({ contracted: 200, actual: 180 }); // false
 * ```
 */
export function contractPerformed(input: Pick<CreditRoundInput, 'contracted' | 'actual'>): boolean {
  const contracted = requireNonNegative('contracted', input.contracted);
  const actual = requireNonNegative('actual', input.actual);
  return actual >= contracted;
}

/**
 * ΔR_p (eq. 15): the credit reward of a node that performed, a share of its distance to the
 * maximum proportional to its share of the round's contracted volume. Returns 0 when the node
 * did not perform, and 0 when nothing was contracted in the round (no share to earn).
 *
 * @example
 * ```ts
 * // Table 1, node 1: 97.67 + (100 − 97.67) · 310 / 2310 = 97.98
 * creditRewardDelta({ creditWeight: 97.67, contracted: 310, actual: 310, totalContracted: 2310 }); // ≈ 0.313
 * ```
 */
export function creditRewardDelta(input: CreditRoundInput, params?: CreditParameters): number {
  const max = checkedMax(params);
  const creditWeight = checkedCreditWeight(input.creditWeight, max);
  const contracted = requireNonNegative('contracted', input.contracted);
  const totalContracted = requireNonNegative('totalContracted', input.totalContracted);
  if (contracted > totalContracted) {
    throw new InvalidScoreInputError(
      `contracted ${contracted} exceeds totalContracted ${totalContracted}: the total must include this node's contract`,
    );
  }
  if (!contractPerformed(input) || totalContracted === 0) return 0;
  // eq. 15: ΔR_p = (W_a^max − W_a^{k-1}) · E_c,i / ΣE_c
  return (max - creditWeight) * (contracted / totalContracted);
}

/**
 * ΔR_b (eq. 17), the ΔW_a of eq. 32–33: the credit penalty of a node that defaulted, its credit
 * weight times the fraction of the contract it failed to deliver or consume. Returns 0 when the
 * node performed (including when nothing was contracted).
 *
 * @example
 * ```ts
 * // Table 2, node 17 consumed 180 of 200: 95.60 · 20 / 200 = 9.56
 * creditPenaltyDelta({ creditWeight: 95.6, contracted: 200, actual: 180 }); // 9.56
 * ```
 */
export function creditPenaltyDelta(
  input: Pick<CreditRoundInput, 'creditWeight' | 'contracted' | 'actual'>,
  params?: CreditParameters,
): number {
  const max = checkedMax(params);
  const creditWeight = checkedCreditWeight(input.creditWeight, max);
  if (contractPerformed(input)) return 0;
  // eq. 17: ΔR_b = W_a^{k-1} · (E_c,i − E_a,i) / E_c,i; E_c,i > 0 here since E_a,i < E_c,i
  return creditWeight * ((input.contracted - input.actual) / input.contracted);
}

/**
 * W_a^k (eq. 14–17): a node's credit weight after one trading round. A node that performed
 * (actual ≥ contracted) earns ΔR_p (eq. 14–15); a node that defaulted loses ΔR_b (eq. 16–17).
 * The result stays in [0, `maxCreditWeight`].
 *
 * @param input - the node's credit weight before the round, its contracted and actual volumes,
 *   and the round's total contracted volume.
 * @param params - `maxCreditWeight` (W_a^max, default 100).
 * @returns the credit weight after the round.
 * @throws {@link InvalidScoreInputError} when an input is non-finite or negative, the credit
 *   weight is above the maximum, or `contracted` exceeds `totalContracted`.
 *
 * @example
 * ```ts
 * import { creditWeightAfterRound } from '@greenraft/weight-scoring';
 *
 * // Table 2 of the paper: node 26 consumed 80 of 60 kWh (performed), node 29 50 of 60 (defaulted).
 * creditWeightAfterRound({ creditWeight: 65.05, contracted: 60, actual: 80, totalContracted: 2310 }); // ≈ 65.96
 * creditWeightAfterRound({ creditWeight: 64.93, contracted: 60, actual: 50, totalContracted: 2310 }); // ≈ 54.11
 * ```
 */
export function creditWeightAfterRound(
  input: { creditWeight: number; contracted: number; actual: number; totalContracted: number },
  params?: { maxCreditWeight?: number },
): number {
  const max = checkedMax(params);
  const reward = creditRewardDelta(input, params);
  const penalty = creditPenaltyDelta(input, params);
  // eq. 14 / eq. 16; at most one of the two deltas is non-zero. Clamp against float drift.
  return Math.min(max, Math.max(0, input.creditWeight + reward - penalty));
}
