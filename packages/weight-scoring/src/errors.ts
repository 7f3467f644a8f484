import { GreenraftError, type GreenraftErrorOptions } from '@greenraft/consensus';

/**
 * Every condition this package reports, as a literal union.
 *
 * - `INVALID_SCORE_INPUT`: an input or parameter is non-finite, negative, out of range or
 *   inconsistent (for example more faults than transmissions); nothing was computed.
 * - `FAULT_TOLERANCE_UNSATISFIABLE`: no integer vote weights can keep the `f` heaviest voters
 *   strictly below half the total (fewer than `2f + 1` voters with positive weight).
 * - `SCORE_INPUT_MISSING`: no node carries the input a strategy scores by (for example no
 *   `ackLatencyMs` for `latencyScoring`), so any scores would be made up; nothing was computed.
 */
export type ScoringErrorCode = 'INVALID_SCORE_INPUT' | 'FAULT_TOLERANCE_UNSATISFIABLE' | 'SCORE_INPUT_MISSING';

/**
 * Options accepted by every scoring error constructor: the `cause`, as for every
 * `GreenraftError`.
 */
export type ScoringErrorOptions = GreenraftErrorOptions;

/**
 * The base class of every error this package throws. It extends `GreenraftError` from
 * `@greenraft/consensus`, like every greenraft error, so one `instanceof GreenraftError` check
 * (or a switch on `code`) covers scoring failures too; catch `ScoringError` to handle only them.
 *
 * @example
 * ```ts
 * import { GreenraftError } from '@greenraft/consensus';
 * import { creditWeightAfterRound, ScoringError } from '@greenraft/weight-scoring';
 *
 * try {
 *   creditWeightAfterRound({ creditWeight: -1, contracted: 10, actual: 10, totalContracted: 100 });
 * } catch (err) {
 *   if (err instanceof ScoringError) console.log(err.code); // 'INVALID_SCORE_INPUT'
 *   console.log(err instanceof GreenraftError); // true
 * }
 * ```
 */
export class ScoringError<Code extends ScoringErrorCode = ScoringErrorCode> extends GreenraftError<Code> {
  constructor(code: Code, message: string, options: ScoringErrorOptions = {}) {
    super(code, message, options);
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

/**
 * A strategy was given nodes none of which carries the input it scores by (for example
 * `latencyScoring` fed market figures without any `ackLatencyMs`). Rather than invent scores that
 * would all be equal, and so silently turn the weights into classic Raft's, it refuses: feed it
 * the inputs it needs, or pick a strategy that scores what you have.
 */
export class MissingScoreInputError extends ScoringError<'SCORE_INPUT_MISSING'> {
  /** The input no node carried, as a `NodeScoreInput` field name. */
  readonly input: string;

  constructor(input: string, message: string, options: ScoringErrorOptions = {}) {
    super('SCORE_INPUT_MISSING', message, options);
    this.name = 'MissingScoreInputError';
    this.input = input;
  }
}
