/**
 * Every condition this package reports, as a literal union.
 *
 * - `INVALID_SCORE_INPUT`: an input or parameter is non-finite, negative, out of range or
 *   inconsistent (for example more faults than transmissions); nothing was computed.
 * - `FAULT_TOLERANCE_UNSATISFIABLE`: no integer vote weights can keep the `f` heaviest voters
 *   strictly below half the total (fewer than `2f + 1` voters with positive weight).
 */
export type ScoringErrorCode = 'INVALID_SCORE_INPUT' | 'FAULT_TOLERANCE_UNSATISFIABLE';

/** Options accepted by every scoring error constructor. */
export interface ScoringErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The base class of every error this package throws.
 *
 * It is shaped like `GreenraftError` from `@greenraft/consensus` (`name`, literal-union `code`,
 * `cause`) but does not extend it: `@greenraft/weight-scoring` is a leaf package with no
 * dependencies, so that the power market and other tools can use the scores without the
 * consensus interfaces. Catch it by `instanceof ScoringError` or by its `code`.
 *
 * @example
 * ```ts
 * import { creditWeightAfterRound, ScoringError } from '@greenraft/weight-scoring';
 *
 * try {
 *   creditWeightAfterRound({ creditWeight: -1, contracted: 10, actual: 10, totalContracted: 100 });
 * } catch (err) {
 *   if (err instanceof ScoringError) console.log(err.code); // 'INVALID_SCORE_INPUT'
 * }
 * ```
 */
export class ScoringError<Code extends ScoringErrorCode = ScoringErrorCode> extends Error {
  /** What went wrong, as a stable machine-readable code. */
  readonly code: Code;

  constructor(code: Code, message: string, options: ScoringErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'ScoringError';
  }
}

/** An input or parameter of a score is non-finite, negative, out of range or inconsistent. */
export class InvalidScoreInputError extends ScoringError<'INVALID_SCORE_INPUT'> {
  constructor(message: string, options: ScoringErrorOptions = {}) {
    super('INVALID_SCORE_INPUT', message, options);
    this.name = 'InvalidScoreInputError';
  }
}

/**
 * The fault-tolerance guard cannot hold: with `tolerateFailures: f`, integer vote weights whose
 * `f` heaviest voters stay strictly below half the total need at least `2f + 1` voters with a
 * positive weight.
 */
export class FaultToleranceError extends ScoringError<'FAULT_TOLERANCE_UNSATISFIABLE'> {
  constructor(message: string, options: ScoringErrorOptions = {}) {
    super('FAULT_TOLERANCE_UNSATISFIABLE', message, options);
    this.name = 'FaultToleranceError';
  }
}
