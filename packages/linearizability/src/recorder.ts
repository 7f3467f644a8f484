import { InvalidArgumentError } from '@greenraft/consensus';
import type { Operation } from './types.js';

/**
 * Records a client history as it happens, for {@link checkOperations}.
 *
 * @typeParam Input - an operation's input, e.g. {@link KvInput}.
 * @typeParam Output - an operation's output, e.g. {@link KvOutput}.
 */
export interface HistoryRecorder<Input, Output> {
  /** Records that `clientId` invoked `input` at `time`; returns the id to complete it with. */
  invoke(clientId: number, input: Input, time: number): number;
  /** Records that the operation returned `output` at `time`. */
  complete(id: number, output: Output, time: number): void;
  /**
   * Records that the operation definitely did not take effect (for instance it was refused
   * before it was proposed) and leaves it out of the history. An operation whose outcome is
   * unknown, such as a timed-out proposal, should instead be left open.
   */
  discard(id: number): void;
  /** The operations so far, in invocation order; those not completed are indefinite. */
  history(): Operation<Input, Output>[];
}

/** An operation as recorded; `output` is only meaningful once `returned` is defined. */
interface RecordedOperation<Input, Output> {
  clientId: number;
  input: Input;
  call: number;
  output: Output | undefined;
  returned: number | undefined;
  discarded: boolean;
}

/**
 * Creates a recorder of a client history: call `invoke` when a client issues an operation and
 * `complete` when it gets the answer. Operations never completed come out indefinite.
 *
 * @returns an empty recorder.
 * @example
 * ```ts
 * import { checkOperations, historyRecorder, kvModel, type KvInput, type KvOutput } from '@greenraft/linearizability';
 *
 * const recorder = historyRecorder<KvInput, KvOutput>();
 * recorder.invoke(1, { kind: 'put', key: 'x', value: 'a' }, 10); // never completes: indefinite
 * const get = recorder.invoke(2, { kind: 'get', key: 'x' }, 12);
 * recorder.complete(get, { kind: 'get', value: 'a' }, 15);
 * // 'ok': the indefinite put took effect before the get
 * console.log(checkOperations(kvModel(), recorder.history()).result);
 * ```
 */
export function historyRecorder<Input, Output>(): HistoryRecorder<Input, Output> {
  const recorded: RecordedOperation<Input, Output>[] = [];
  const open = (id: number, action: string): RecordedOperation<Input, Output> => {
    const op = Number.isInteger(id) ? recorded[id] : undefined;
    if (op === undefined) throw new InvalidArgumentError(`cannot ${action} operation ${id}: no such operation`);
    if (op.discarded) throw new InvalidArgumentError(`cannot ${action} operation ${id}: it was discarded`);
    if (op.returned !== undefined) throw new InvalidArgumentError(`cannot ${action} operation ${id}: it already completed`);
    return op;
  };
  return {
    invoke(clientId, input, time) {
      if (!Number.isFinite(time)) throw new InvalidArgumentError(`invocation time must be a finite number, got ${time}`);
      recorded.push({ clientId, input, call: time, output: undefined, returned: undefined, discarded: false });
      return recorded.length - 1;
    },
    complete(id, output, time) {
      const op = open(id, 'complete');
      if (!Number.isFinite(time) || time < op.call) {
        throw new InvalidArgumentError(`operation ${id} cannot complete at ${time}: it was invoked at ${op.call}`);
      }
      if (output === undefined) throw new InvalidArgumentError(`operation ${id} needs an output to complete`);
      op.output = output;
      op.returned = time;
    },
    discard(id) {
      open(id, 'discard').discarded = true;
    },
    history() {
      return recorded
        .filter((op) => !op.discarded)
        .map((op) => ({
          clientId: op.clientId,
          input: op.input,
          call: op.call,
          output: op.returned === undefined ? undefined : op.output,
          return: op.returned,
        }));
    },
  };
}
