import { InvalidScoreInputError } from './errors.js';
import { PAPER_ELECTION_PARAMETERS, type PaperParameters, paperParameters } from './parameters.js';
import {
  MAX_SCORE,
  clampScore,
  requireFinite,
  requireInRange,
  requireInteger,
  requireNonNegative,
  requirePositive,
} from './validate.js';

// ───────────────────────────── trading volume, eq. 18 ─────────────────────────────

/** A node's contracted and actual volume in one round (kWh). */
export interface RoundVolume {
  /** E_c,i: the volume the node contracted. */
  contracted: number;
  /** E_a,i: the volume the node actually generated or consumed. */
  actual: number;
}

/** The round-wide extremes eq. 18 normalises against. */
export interface TradingVolumeRange {
  /** E_a^min: the smallest actual volume of the round. */
  minActual: number;
  /** E_c^min: the smallest contracted volume of the round. */
  minContracted: number;
  /** E^max: the largest contracted volume of the round. */
  maxContracted: number;
}

/**
 * The extremes of a round's volumes, the normalisation range of {@link tradingVolumeScore}.
 * An empty round gives all zeros.
 *
 * @example
 * ```ts
 * tradingVolumeRange([{ contracted: 60, actual: 80 }, { contracted: 310, actual: 310 }]);
 * // { minActual: 80, minContracted: 60, maxContracted: 310 }
 * ```
 */
export function tradingVolumeRange(volumes: readonly RoundVolume[]): TradingVolumeRange {
  if (volumes.length === 0) return { minActual: 0, minContracted: 0, maxContracted: 0 };
  let minActual = Number.POSITIVE_INFINITY;
  let minContracted = Number.POSITIVE_INFINITY;
  let maxContracted = 0;
  for (const volume of volumes) {
    const contracted = requireNonNegative('contracted', volume.contracted);
    const actual = requireNonNegative('actual', volume.actual);
    minActual = Math.min(minActual, actual);
    minContracted = Math.min(minContracted, contracted);
    maxContracted = Math.max(maxContracted, contracted);
  }
  return { minActual, minContracted, maxContracted };
}

/**
 * W_d,i (eq. 18): the trading-volume score, the node's settled volume min{E_a, E_c} placed
 * between a floor of φ times the round's smallest volume and the round's largest contract.
 *
 * Degenerate case: when E^max = φ·min{E_a^min, E_c^min} (every contract equal and φ = 1, or
 * nothing contracted at all) the fraction is 0/0; a node that traded then scores 100 (it traded
 * as much as anyone) and a node that traded nothing scores 0.
 *
 * @throws {@link InvalidScoreInputError} on negative or non-finite volumes, φ outside [0, 1],
 *   or a range whose smallest contract exceeds its largest.
 *
 * @example
 * ```ts
 * const range = { minActual: 50, minContracted: 60, maxContracted: 310 };
 * tradingVolumeScore({ contracted: 310, actual: 310 }, range); // 100
 * tradingVolumeScore({ contracted: 60, actual: 50 }, range); // (50 − 25) / (310 − 25) · 100 ≈ 8.77
 * ```
 */
export function tradingVolumeScore(
  volume: RoundVolume,
  range: TradingVolumeRange,
  params?: Pick<Partial<PaperParameters>, 'volumeFloorFactor'>,
): number {
  const contracted = requireNonNegative('contracted', volume.contracted);
  const actual = requireNonNegative('actual', volume.actual);
  const minActual = requireNonNegative('minActual', range.minActual);
  const minContracted = requireNonNegative('minContracted', range.minContracted);
  const maxContracted = requireNonNegative('maxContracted', range.maxContracted);
  if (minContracted > maxContracted) {
    throw new InvalidScoreInputError(`minContracted ${minContracted} exceeds maxContracted ${maxContracted}`);
  }
  const phi = requireInRange('volumeFloorFactor', params?.volumeFloorFactor ?? PAPER_ELECTION_PARAMETERS.volumeFloorFactor, 0, 1);
  const settled = Math.min(actual, contracted);
  const floor = phi * Math.min(minActual, minContracted);
  const span = maxContracted - floor;
  if (span <= 0) return settled > 0 ? MAX_SCORE : 0;
  // eq. 18: W_d = (min{E_a, E_c} − φ·min{E_a^min, E_c^min}) / (E^max − φ·min{…}) · 100
  return clampScore(((settled - floor) / span) * MAX_SCORE);
}

// ───────────────────────────── participation, eq. 19 ─────────────────────────────

/** A node's consensus-participation score before a round, and whether it earned credit in it. */
export interface ParticipationRoundInput {
  /** W_g^{k-1}: the participation score before the round, in [0, 100]. */
  participation: number;
  /** k: the round (transaction) number, an integer ≥ 1. */
  round: number;
  /** Whether the node's acknowledgement was one of those that formed the commit quorum. */
  acknowledged: boolean;
}

/**
 * W_g,i^k (eq. 19): the consensus-participation score after round k. A node whose
 * acknowledgement helped form the commit quorum gains ω·(k + 1)/k; the score is capped at 100.
 *
 * @example
 * ```ts
 * participationAfterRound({ participation: 10, round: 1, acknowledged: true }); // 12
 * participationAfterRound({ participation: 99.5, round: 4, acknowledged: true }); // 100 (capped)
 * ```
 */
export function participationAfterRound(
  input: ParticipationRoundInput,
  params?: Pick<Partial<PaperParameters>, 'participationStep'>,
): number {
  const participation = requireInRange('participation', input.participation, 0, MAX_SCORE);
  const round = requireInteger('round', input.round, 1);
  const step = requireNonNegative('participationStep', params?.participationStep ?? PAPER_ELECTION_PARAMETERS.participationStep);
  if (!input.acknowledged) return participation;
  // eq. 19: W_g^k = W_g^{k-1} + ω·(k + 1)/k, at most 100
  return clampScore(participation + (step * (round + 1)) / round);
}

/** Options of {@link participationAfterCommit}. */
export interface ParticipationCommitInit {
  /**
   * ω (eq. 19): participation gained per valid acknowledgement, scaled by (k + 1)/k.
   * @default 1
   */
  participationStep?: number;
  /**
   * Whether the first acknowledgement (the leader's own, by the `commitQuorum` event's
   * convention) also earns participation. The paper credits the followers' replies.
   * @default false
   */
  includeLeader?: boolean;
}

/**
 * Applies eq. 19 to a whole cluster after one commit: every voter whose acknowledgement formed
 * the commit quorum (the `acks` of a `commitQuorum` event: leader first, then followers in
 * arrival order up to the one that completed the quorum) gains ω·(k + 1)/k. Other nodes keep
 * their score; a node seen for the first time starts from 0. Returns a new map.
 *
 * @example
 * ```ts
 * const before = new Map([['a', 0], ['b', 5], ['c', 7]]);
 * const after = participationAfterCommit(before, { acks: [{ id: 'a' }, { id: 'b' }] }, 1);
 * // a is the leader: a 0, b 7, c 7
 * ```
 */
export function participationAfterCommit(
  participation: ReadonlyMap<string, number>,
  quorum: { readonly acks: readonly { readonly id: string }[] },
  round: number,
  options: ParticipationCommitInit = {},
): Map<string, number> {
  const counted = new Set(quorum.acks.slice(options.includeLeader ? 0 : 1).map((ack) => ack.id));
  const ids = new Set([...participation.keys(), ...counted]);
  const result = new Map<string, number>();
  for (const id of ids) {
    result.set(
      id,
      participationAfterRound({ participation: participation.get(id) ?? 0, round, acknowledged: counted.has(id) }, options),
    );
  }
  return result;
}

// ───────────────────────────── green certificates, eq. 20 ─────────────────────────────

/**
 * W_gc,i (eq. 20): a node's share of the green certificates held in the market, times 100.
 * Certificates a node sold no longer count; certificates it bought do. With no certificate in
 * circulation every node scores 0 (nobody holds a share).
 *
 * @throws {@link InvalidScoreInputError} when `held` exceeds `totalHeld` or either is negative.
 *
 * @example
 * ```ts
 * greenCertificateScore(3, 12); // 25
 * greenCertificateScore(0, 0); // 0
 * ```
 */
export function greenCertificateScore(held: number, totalHeld: number): number {
  requireNonNegative('greenCertificates', held);
  requireNonNegative('totalGreenCertificates', totalHeld);
  if (held > totalHeld) {
    throw new InvalidScoreInputError(`greenCertificates ${held} exceeds the market total ${totalHeld}`);
  }
  if (totalHeld === 0) return 0;
  // eq. 20: W_gc,i = A_gc,i / Σ_I A_gc · 100
  return clampScore((held / totalHeld) * MAX_SCORE);
}

/**
 * Eq. 20 for every node at once: each node's share of all certificates held.
 *
 * @example
 * ```ts
 * greenCertificateScores(new Map([['a', 3], ['b', 1]])); // Map { a → 75, b → 25 }
 * ```
 */
export function greenCertificateScores(holdings: ReadonlyMap<string, number>): Map<string, number> {
  let total = 0;
  for (const [id, held] of holdings) total += requireNonNegative(`greenCertificates of ${id}`, held);
  return new Map([...holdings].map(([id, held]) => [id, greenCertificateScore(held, total)]));
}

// ───────────────────────────── carbon settlement, eq. 21–22 ─────────────────────────────

/** A node's carbon-emission account over the previous trading cycle (tonnes of CO₂). */
export interface CarbonAccount {
  /** A_ce^q: the quota the node was issued for the cycle. */
  quota: number;
  /** A_ce^b: emission rights the node bought. */
  purchased: number;
  /** A_ce^e: what the node actually emitted. */
  emitted: number;
}

/**
 * A_ce,i (eq. 22): the carbon settlement, quota plus purchased rights minus actual emissions.
 * Positive for a node within its allowance, negative for one over it.
 *
 * @example
 * ```ts
 * carbonSettlement({ quota: 100, purchased: 20, emitted: 130 }); // −10
 * ```
 */
export function carbonSettlement(account: CarbonAccount): number {
  const quota = requireNonNegative('quota', account.quota);
  const purchased = requireNonNegative('purchased', account.purchased);
  const emitted = requireNonNegative('emitted', account.emitted);
  // eq. 22: A_ce = A_ce^q + A_ce^b − A_ce^e
  return quota + purchased - emitted;
}

/** The smallest and largest carbon settlement among all nodes, the range of eq. 21. */
export interface CarbonSettlementRange {
  /** A_ce^min. */
  min: number;
  /** A_ce^max. */
  max: number;
}

/**
 * The score every node gets when all carbon settlements are equal (eq. 21 is then 0/0):
 * the middle of the scale. No node can be ranked above another, so none is rewarded or
 * punished; the midpoint keeps the term's share of the total the same for everyone without
 * inflating (100) or erasing (0) the carbon factor's weight.
 */
export const EQUAL_CARBON_SETTLEMENT_SCORE = 50;

/**
 * W_ce,i (eq. 21): the carbon settlement min-max normalised over all nodes, times 100.
 * When every settlement is equal the score is {@link EQUAL_CARBON_SETTLEMENT_SCORE} (50).
 *
 * @throws {@link InvalidScoreInputError} when the settlement lies outside the range or the
 *   range is inverted.
 *
 * @example
 * ```ts
 * carbonSettlementScore(-10, { min: -40, max: 20 }); // 50
 * ```
 */
export function carbonSettlementScore(settlement: number, range: CarbonSettlementRange): number {
  requireFinite('carbonSettlement', settlement);
  const min = requireFinite('min carbon settlement', range.min);
  const max = requireFinite('max carbon settlement', range.max);
  if (min > max || settlement < min || settlement > max) {
    throw new InvalidScoreInputError(`carbon settlement ${settlement} is outside the range [${min}, ${max}]`);
  }
  if (max === min) return EQUAL_CARBON_SETTLEMENT_SCORE;
  // eq. 21: W_ce = (A_ce − A_ce^min) / (A_ce^max − A_ce^min) · 100
  return clampScore(((settlement - min) / (max - min)) * MAX_SCORE);
}

/**
 * Eq. 21 for every node at once, normalised over the settlements given.
 *
 * @example
 * ```ts
 * carbonSettlementScores(new Map([['a', -40], ['b', 20], ['c', -10]])); // Map { a → 0, b → 100, c → 50 }
 * ```
 */
export function carbonSettlementScores(settlements: ReadonlyMap<string, number>): Map<string, number> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const [id, settlement] of settlements) {
    requireFinite(`carbon settlement of ${id}`, settlement);
    min = Math.min(min, settlement);
    max = Math.max(max, settlement);
  }
  return new Map([...settlements].map(([id, settlement]) => [id, carbonSettlementScore(settlement, { min, max })]));
}

// ───────────────────────────── line faults, eq. 23 ─────────────────────────────

/** A generation node's transmission history. */
export interface TransmissionRecord {
  /** C_t,f: power transmissions so far. */
  transmissions: number;
  /** C_b,f: transmissions during which the node's line failed. */
  faults: number;
}

/**
 * W_b,f (eq. 23): the share of a generation node's transmissions that went through without a
 * line fault, times 100. A node that has not transmitted yet scores 100: no fault was observed,
 * and a newcomer should not start below nodes with a clean record.
 *
 * @throws {@link InvalidScoreInputError} when there are more faults than transmissions.
 *
 * @example
 * ```ts
 * lineFaultScore({ transmissions: 40, faults: 2 }); // 95
 * lineFaultScore({ transmissions: 0, faults: 0 }); // 100
 * ```
 */
export function lineFaultScore(record: TransmissionRecord): number {
  const transmissions = requireNonNegative('transmissions', record.transmissions);
  const faults = requireNonNegative('transmissionFaults', record.faults);
  if (faults > transmissions) {
    throw new InvalidScoreInputError(`transmissionFaults ${faults} exceeds transmissions ${transmissions}`);
  }
  if (transmissions === 0) return MAX_SCORE;
  // eq. 23: W_b = (C_t − C_b) / C_t · 100
  return clampScore(((transmissions - faults) / transmissions) * MAX_SCORE);
}

// ───────────────────────────── decay, eq. 24–25 ─────────────────────────────

/**
 * Eq. 24–25: one decay step, W · e^(−δ). Applies to the credit weight W_a and the
 * participation score W_g alike.
 *
 * @example
 * ```ts
 * decayedWeight(80); // 80 · e^(−0.05) ≈ 76.10
 * ```
 */
export function decayedWeight(weight: number, params?: Pick<Partial<PaperParameters>, 'decayRate'>): number {
  requireNonNegative('weight', weight);
  const delta = requireNonNegative('decayRate', params?.decayRate ?? PAPER_ELECTION_PARAMETERS.decayRate);
  // eq. 24–25: W^{l+1} = W^l · e^(−δ)
  return weight * Math.exp(-delta);
}

/**
 * Whether round `round` (counting from 1) ends a decay period: weights decay once every
 * `decayInterval` (l) rounds, after rounds l, 2l, 3l, …
 *
 * @example
 * ```ts
 * isDecayRound(30); // true
 * isDecayRound(31); // false
 * ```
 */
export function isDecayRound(round: number, params?: Pick<Partial<PaperParameters>, 'decayInterval'>): boolean {
  requireInteger('round', round, 1);
  const interval = requireInteger('decayInterval', params?.decayInterval ?? PAPER_ELECTION_PARAMETERS.decayInterval, 1);
  return round % interval === 0;
}

/**
 * The weight a node carries into the round after `round`: decayed by e^(−δ) when `round` ends
 * a decay period (eq. 24–25), unchanged otherwise.
 *
 * @example
 * ```ts
 * weightBeforeNextRound(80, 29); // 80
 * weightBeforeNextRound(80, 30); // ≈ 76.10
 * ```
 */
export function weightBeforeNextRound(
  weight: number,
  round: number,
  params?: Pick<Partial<PaperParameters>, 'decayRate' | 'decayInterval'>,
): number {
  requireNonNegative('weight', weight);
  return isDecayRound(round, params) ? decayedWeight(weight, params) : weight;
}

// ───────────────────────────── totals, eq. 8–13 ─────────────────────────────

/** The component scores of one node, each in [0, 100]. */
export interface ComponentScores {
  /** W_a on the [0, 100] scale: the credit weight, divided by W_a^max and times 100. */
  credit: number;
  /** W_d (eq. 18). */
  volume: number;
  /** W_g (eq. 19). */
  participation: number;
  /** W_gc (eq. 20). */
  greenCertificates: number;
  /** W_ce (eq. 21). */
  carbon: number;
  /** W_b (eq. 23); counted for generation nodes only. */
  lineFaults: number;
}

function checkedComponents(scores: ComponentScores): ComponentScores {
  for (const key of ['credit', 'volume', 'participation', 'greenCertificates', 'carbon', 'lineFaults'] as const) {
    requireInRange(`${key} score`, scores[key], 0, MAX_SCORE);
  }
  return scores;
}

/**
 * W_f (eq. 8–10): a generation node's total weight,
 * α1·W_a + β1·W_d + γ1·W_g + η1·W_gc + μ1·W_ce + λ·W_b, clamped to [0, 100].
 *
 * With the paper's factors the total is at most 70 (election study) or 100 (consensus-time
 * study); factors summing above 1 are clamped at 100.
 *
 * @example
 * ```ts
 * generationNodeWeight({ credit: 100, volume: 100, participation: 0, greenCertificates: 100, carbon: 100, lineFaults: 100 }); // 70
 * ```
 */
export function generationNodeWeight(scores: ComponentScores, params: Partial<PaperParameters> = {}): number {
  const p = paperParameters(params);
  const s = checkedComponents(scores);
  // eq. 9: W_f1 = α1·W_a,f + β1·W_d,f + γ1·W_g,f
  const trading =
    p.creditFactorGeneration * s.credit +
    p.volumeFactorGeneration * s.volume +
    p.participationFactorGeneration * s.participation;
  // eq. 10: W_f2 = η1·W_gc,f + μ1·W_ce,f + λ·W_b
  const environment =
    p.greenCertificateFactorGeneration * s.greenCertificates +
    p.carbonFactorGeneration * s.carbon +
    p.lineFaultFactor * s.lineFaults;
  // eq. 8: W_f = W_f1 + W_f2
  return clampScore(trading + environment);
}

/**
 * W_y (eq. 11–13): a consumption node's total weight,
 * α2·W_a + β2·W_d + γ2·W_g + η2·W_gc + μ2·W_ce, clamped to [0, 100]. `lineFaults` is ignored.
 *
 * @example
 * ```ts
 * consumptionNodeWeight({ credit: 100, volume: 100, participation: 0, greenCertificates: 100, carbon: 100, lineFaults: 100 }); // 70
 * ```
 */
export function consumptionNodeWeight(scores: ComponentScores, params: Partial<PaperParameters> = {}): number {
  const p = paperParameters(params);
  const s = checkedComponents(scores);
  // eq. 12: W_y1 = α2·W_a,y + β2·W_d,y + γ2·W_g,y
  const trading =
    p.creditFactorConsumption * s.credit +
    p.volumeFactorConsumption * s.volume +
    p.participationFactorConsumption * s.participation;
  // eq. 13: W_y2 = η2·W_gc,y + μ2·W_ce,y
  const environment =
    p.greenCertificateFactorConsumption * s.greenCertificates +
    p.carbonFactorConsumption * s.carbon;
  // eq. 11: W_y = W_y1 + W_y2
  return clampScore(trading + environment);
}

/**
 * The credit weight W_a on the [0, 100] scale of the other scores: W_a / W_a^max · 100
 * (the identity with the paper's W_a^max = 100).
 *
 * @example
 * ```ts
 * creditScore(5, { maxCreditWeight: 10 }); // 50
 * ```
 */
export function creditScore(creditWeight: number, params?: Pick<Partial<PaperParameters>, 'maxCreditWeight'>): number {
  const max = requirePositive('maxCreditWeight', params?.maxCreditWeight ?? PAPER_ELECTION_PARAMETERS.maxCreditWeight);
  requireInRange('creditWeight', creditWeight, 0, max);
  return clampScore((creditWeight / max) * MAX_SCORE);
}
