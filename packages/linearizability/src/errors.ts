import { GreenraftError, type GreenraftErrorOptions } from '@greenraft/consensus';

/**
 * A recorded history could not be read: a line is malformed, or events contradict each other
 * (a completion with no invocation, a second invocation by a busy client).
 *
 * @example
 * ```ts
 * import { parseKvHistory, HistoryParseError } from '@greenraft/linearizability';
 *
 * try {
 *   parseKvHistory('{:process 0, :type :invoke, :f :get');
 * } catch (err) {
 *   if (err instanceof HistoryParseError) console.log(err.line, err.message); // 1 ...
 * }
 * ```
 */
export class HistoryParseError extends GreenraftError<'INVALID_HISTORY'> {
  /** The 1-based line number of the offending line. */
  readonly line: number;

  constructor(line: number, reason: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_HISTORY', `line ${line}: ${reason}`, options);
    this.name = 'HistoryParseError';
    this.line = line;
  }
}
