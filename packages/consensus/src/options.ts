import { InvalidArgumentError } from './errors.js';

/** The inclusive bounds {@link integerOption} checks. */
export interface IntegerOptionRange {
  /**
   * The smallest value allowed.
   * @default Number.MIN_SAFE_INTEGER
   */
  readonly min?: number;
  /**
   * The largest value allowed.
   * @default Number.MAX_SAFE_INTEGER
   */
  readonly max?: number;
}

/**
 * Checks an integer option: returns `value` when it is a safe integer within `range`, else throws
 * {@link InvalidArgumentError} naming the option, the range and what was given. Every greenraft
 * package checks its integer options with it, so the same mistake reads the same everywhere.
 *
 * @example
 * ```ts
 * import { integerOption } from '@greenraft/consensus';
 *
 * const electionTicks = integerOption('electionTicks', 10, { min: 2 }); // 10
 * integerOption('nodes', 2.5, { min: 3, max: 15 }); // throws: nodes must be an integer from 3 to 15, got 2.5
 * ```
 */
export function integerOption(name: string, value: unknown, range: IntegerOptionRange = {}): number {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be ${describeRange(min, max)}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Checks that an options object names only known options: throws {@link InvalidArgumentError}
 * naming the first unknown one (and `where` it was given). A misspelt or misplaced option
 * (`latency` where `defaultLink.latency` is meant) then fails at once instead of being silently
 * ignored, in JavaScript as in TypeScript.
 *
 * @example
 * ```ts
 * import { rejectUnknownOptions } from '@greenraft/consensus';
 *
 * rejectUnknownOptions('memoryNetwork', { latency: 5 }, ['clock', 'seed', 'defaultLink']);
 * // throws: memoryNetwork: unknown option "latency"; known options: clock, seed, defaultLink
 * ```
 */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`${where}: unknown option "${key}"; known options: ${known.join(', ')}`);
    }
  }
}

function describeRange(min: number, max: number): string {
  const bounded = (bound: number) => bound !== Number.MIN_SAFE_INTEGER && bound !== Number.MAX_SAFE_INTEGER;
  if (bounded(min) && bounded(max)) return `an integer from ${min} to ${max}`;
  if (bounded(min)) return `an integer ≥ ${min}`;
  if (bounded(max)) return `an integer ≤ ${max}`;
  return 'a safe integer';
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
