/**
 * One operation of a concurrent history: what a client asked for, when, and what it got back.
 *
 * Times are any numbers that respect real time (virtual clock ticks, milliseconds, or the line
 * numbers of a log). An operation A precedes B in real time only when `A.return < B.call`;
 * operations whose intervals touch or overlap are concurrent.
 *
 * @typeParam Input - what the client asked for (e.g. `{ kind: 'write', value: 3 }`).
 * @typeParam Output - what the client was told (e.g. `{ kind: 'write' }`).
 */
export interface Operation<Input, Output> {
  /** The client (process) that issued the operation; used in reports only. */
  clientId: number;
  /** What the client asked for. */
  input: Input;
  /** When the client invoked the operation. */
  call: number;
  /** The result the client received, or `undefined` for an indefinite operation (see {@link Operation.return}). */
  output: Output | undefined;
  /**
   * When the client received the result, or `undefined` when it never did: the operation is
   * indefinite. It may have taken effect at any point after {@link Operation.call}, or never.
   */
  return: number | undefined;
}

/** The result of applying one operation to a model state. */
export interface StepResult<State> {
  /** Whether the operation, with the recorded output, may take effect in the given state. */
  ok: boolean;
  /** The state after the operation; ignored when `ok` is false. */
  state: State;
}

/**
 * A sequential specification: the object the history is checked against.
 *
 * A model needs `init` and `step`; `hash` (or `equal`) lets the checker memoise the states it
 * has already explored, and `partition` splits a history into independent parts (one per key
 * for a key-value store) that are checked separately, which is much faster.
 *
 * @typeParam State - the model's state; treated as immutable by the checker.
 * @typeParam Input - an operation's input.
 * @typeParam Output - an operation's output.
 *
 * @example
 * ```ts
 * import { checkOperations, type Model } from '@greenraft/linearizability';
 *
 * // A counter that clients increment (output: nothing) or read (output: the count).
 * const counter: Model<number, 'inc' | 'read', number | null> = {
 *   init: () => 0,
 *   step: (count, input, output) =>
 *     input === 'inc'
 *       ? { ok: true, state: count + 1 }
 *       : { ok: output === undefined || output === count, state: count },
 *   hash: (count) => String(count),
 * };
 * const result = checkOperations(counter, [
 *   { clientId: 0, input: 'inc', call: 0, output: null, return: 10 },
 *   { clientId: 1, input: 'read', call: 1, output: 1, return: 2 },
 * ]);
 * console.log(result.result); // 'ok': the increment took effect before the read
 * ```
 */
export interface Model<State, Input, Output> {
  /** The state before any operation. */
  init(): State;
  /**
   * May the operation, with this output, take effect in this state, and what state follows?
   * `output` is `undefined` for an indefinite operation: accept whatever result the operation
   * could have had and return the state after it took effect (the checker separately considers
   * that it never took effect).
   */
  step(state: State, input: Input, output: Output | undefined): StepResult<State>;
  /** Whether two states are the same; used for memoisation when `hash` is absent. */
  equal?(a: State, b: State): boolean;
  /**
   * A string that identifies the state: equal states must give equal strings and different
   * states different strings. Without `hash` or `equal`, states are compared with `Object.is`,
   * which is right only for primitive states.
   */
  hash?(state: State): string;
  /** Splits a history into parts that can be checked independently (P-compositionality). */
  partition?(history: Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** A name for a part made by `partition`, such as its key, for reports. */
  partitionName?(part: readonly Operation<Input, Output>[]): string;
  /** A short human-readable description of an operation, for reports. */
  describe?(input: Input, output: Output | undefined): string;
}

/** Options of {@link checkOperations}. */
export interface CheckOptions {
  /**
   * Gives up after this many milliseconds of searching, with the result `'unknown'`.
   * `0` or `undefined` means no limit.
   * @default undefined
   */
  timeoutMs?: number;
  /**
   * When a history is not linearizable, find the smallest failing prefix (a binary search that
   * checks a few prefixes again). Turn off to stop at the verdict.
   * @default true
   */
  findSmallestFailingPrefix?: boolean;
}

/**
 * The verdict of a linearizability check.
 * - `'ok'`: the history is linearizable.
 * - `'illegal'`: it is not; `failing*` fields say where.
 * - `'unknown'`: the search ran out of time ({@link CheckOptions.timeoutMs}).
 */
export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

/** What {@link checkOperations} found. */
export interface CheckResult<Input, Output> {
  /** The verdict. */
  result: CheckVerdict;
  /** How many operations were checked. */
  operations: number;
  /** How many independent parts the history was split into and checked. */
  partitions: number;
  /** Index (in the model's `partition` order) of the part that is not linearizable. */
  failingPartition?: number;
  /** The model's name for that part, e.g. the key of a key-value history. */
  failingKey?: string;
  /**
   * The smallest n such that the first n events of the whole history (invocations and
   * completions in time order; events at the same time count together) are already not
   * linearizable, operations not yet completed at that point counting as indefinite.
   * When the search timed out while narrowing it down, the smallest failing prefix found.
   */
  smallestFailingPrefix?: number;
  /** The operation whose completion is the last event of that prefix. */
  failingOperation?: Operation<Input, Output>;
  /** The model's description of {@link CheckResult.failingOperation}, when the model has `describe`. */
  failingDescription?: string;
  /** Wall-clock time the check took, in milliseconds. */
  ms: number;
}
