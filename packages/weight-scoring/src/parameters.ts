import { DEFAULT_MAX_CREDIT_WEIGHT } from './credit.js';
import { InvalidScoreInputError } from './errors.js';
import { requireInRange, requireInteger, requireNonNegative, requirePositive } from './validate.js';

/**
 * The moderating factors and coefficients of the paper's scores (§4.2, values from §5.2).
 * Generation nodes use the `…Generation` factors (eq. 9–10), consumption nodes the
 * `…Consumption` ones (eq. 12–13).
 */
export interface PaperParameters {
  /** α1 (eq. 9): weight of the credit score W_a,f in a generation node's total. */
  readonly creditFactorGeneration: number;
  /** α2 (eq. 12): weight of the credit score W_a,y in a consumption node's total. */
  readonly creditFactorConsumption: number;
  /** β1 (eq. 9): weight of the trading-volume score W_d,f. */
  readonly volumeFactorGeneration: number;
  /** β2 (eq. 12): weight of the trading-volume score W_d,y. */
  readonly volumeFactorConsumption: number;
  /** γ1 (eq. 9): weight of the consensus-participation score W_g,f. */
  readonly participationFactorGeneration: number;
  /** γ2 (eq. 12): weight of the consensus-participation score W_g,y. */
  readonly participationFactorConsumption: number;
  /** η1 (eq. 10): weight of the green-certificate score W_gc,f. */
  readonly greenCertificateFactorGeneration: number;
  /** η2 (eq. 13): weight of the green-certificate score W_gc,y. */
  readonly greenCertificateFactorConsumption: number;
  /** μ1 (eq. 10): weight of the carbon-settlement score W_ce,f. */
  readonly carbonFactorGeneration: number;
  /** μ2 (eq. 13): weight of the carbon-settlement score W_ce,y. */
  readonly carbonFactorConsumption: number;
  /** λ (eq. 10): weight of the line-fault score W_b (generation nodes only). */
  readonly lineFaultFactor: number;
  /** φ (eq. 18): share of the round's smallest volume subtracted as the volume score's floor, in [0, 1]. */
  readonly volumeFloorFactor: number;
  /** ω (eq. 19): participation gained per valid acknowledgement, scaled by (k + 1)/k. */
  readonly participationStep: number;
  /** δ (eq. 24–25): decay coefficient; credit and participation are multiplied by e^(−δ). */
  readonly decayRate: number;
  /** l (§4.2.7): credit and participation decay once every `decayInterval` rounds. */
  readonly decayInterval: number;
  /** W_a^max (eq. 15): upper limit of a credit weight; §5.2 prints 0, a typo for 100. */
  readonly maxCreditWeight: number;
}

const SHARED_PAPER_PARAMETERS = {
  creditFactorGeneration: 0.2,
  creditFactorConsumption: 0.2,
  volumeFactorGeneration: 0.2,
  volumeFactorConsumption: 0.2,
  greenCertificateFactorGeneration: 0.1,
  greenCertificateFactorConsumption: 0.1,
  carbonFactorGeneration: 0.1,
  carbonFactorConsumption: 0.2,
  lineFaultFactor: 0.1,
  volumeFloorFactor: 0.5,
  participationStep: 1,
  decayRate: 0.05,
  decayInterval: 30,
  maxCreditWeight: DEFAULT_MAX_CREDIT_WEIGHT,
} as const;

/**
 * The paper's §5.2 parameters of its leader-election study (§5.2.1): γ1 = γ2 = 0, so
 * consensus participation does not count. The default of {@link paperScoring}.
 */
export const PAPER_ELECTION_PARAMETERS: Readonly<PaperParameters> = Object.freeze({
  ...SHARED_PAPER_PARAMETERS,
  participationFactorGeneration: 0,
  participationFactorConsumption: 0,
});

/** The paper's §5.2 parameters of its consensus-time study (§5.2.2): γ1 = γ2 = 0.3. */
export const PAPER_CONSENSUS_TIME_PARAMETERS: Readonly<PaperParameters> = Object.freeze({
  ...SHARED_PAPER_PARAMETERS,
  participationFactorGeneration: 0.3,
  participationFactorConsumption: 0.3,
});

const FACTOR_KEYS = [
  'creditFactorGeneration',
  'creditFactorConsumption',
  'volumeFactorGeneration',
  'volumeFactorConsumption',
  'participationFactorGeneration',
  'participationFactorConsumption',
  'greenCertificateFactorGeneration',
  'greenCertificateFactorConsumption',
  'carbonFactorGeneration',
  'carbonFactorConsumption',
  'lineFaultFactor',
] as const satisfies readonly (keyof PaperParameters)[];

/**
 * Completes a partial parameter set from a base (by default {@link PAPER_ELECTION_PARAMETERS})
 * and checks every value, so a bad parameter is reported before anything is scored.
 *
 * @throws {@link InvalidScoreInputError} when a factor is negative or non-finite, φ is outside
 *   [0, 1], the decay interval is not a positive integer, or the maximum credit weight is not positive.
 *
 * @example
 * ```ts
 * const params = paperParameters({ participationFactorGeneration: 0.3 });
 * params.volumeFloorFactor; // 0.5
 * ```
 */
export function paperParameters(
  overrides: Partial<PaperParameters> = {},
  base: Readonly<PaperParameters> = PAPER_ELECTION_PARAMETERS,
): Readonly<PaperParameters> {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new InvalidScoreInputError('parameters must be an object');
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const params: PaperParameters = { ...base, ...defined };
  for (const key of FACTOR_KEYS) requireNonNegative(key, params[key]);
  requireInRange('volumeFloorFactor', params.volumeFloorFactor, 0, 1);
  requireNonNegative('participationStep', params.participationStep);
  requireNonNegative('decayRate', params.decayRate);
  requireInteger('decayInterval', params.decayInterval, 1);
  requirePositive('maxCreditWeight', params.maxCreditWeight);
  return Object.freeze(params);
}
