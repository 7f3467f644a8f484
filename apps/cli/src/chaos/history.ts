/**
 * The client history of a chaos run: every operation's invocation and completion, in the real-time
 * order the run observed them. Every client runs in this process, so one counter orders every
 * event exactly: operation A precedes B iff A's completion was recorded before B's invocation.
 *
 * Outcomes:
 * - `ok`: the cluster answered (a cas that did not swap is `ok` with `swapped: false`);
 * - `fail`: a definite failure, the operation surely took no effect: left out of the history;
 * - `info`: timed out or otherwise unknown: indefinite, it may take effect at any point after its
 *   invocation, or never. The process that issued it is retired (as Jepsen does): the client goes
 *   on under a new process id, since the old one may still have that operation in flight.
 *
 * It is written as EDN lines, the format `greenraft lincheck --format kv` reads, so a kept history
 * can be checked again on its own.
 */
import type { KvInput, KvOutput, Operation } from '@greenraft/linearizability';

/** How an operation ended. */
export type Outcome = 'ok' | 'fail' | 'info';

/** One operation as recorded. */
export interface RecordedOperation {
  readonly process: number;
  readonly input: KvInput;
  /** Sequence number of its invocation. */
  readonly call: number;
  /** Milliseconds since the run began, at invocation. */
  readonly callMs: number;
  outcome: Outcome | undefined;
  output: KvOutput | undefined;
  /** Sequence number of its completion. */
  returned: number | undefined;
  returnedMs: number | undefined;
  /** The error that ended it, for `fail` and `info`. */
  error: string | undefined;
}

/** The history of one run. */
export class ChaosHistory {
  readonly operations: RecordedOperation[] = [];
  #seq = 0;
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  invoke(process: number, input: KvInput): RecordedOperation {
    const op: RecordedOperation = { process, input, call: this.#seq++, callMs: this.#clock(), outcome: undefined, output: undefined, returned: undefined, returnedMs: undefined, error: undefined };
    this.operations.push(op);
    return op;
  }

  #end(op: RecordedOperation, outcome: Outcome, output: KvOutput | undefined, error: string | undefined): void {
    if (op.outcome !== undefined) throw new Error(`operation ${op.call} already ended (${op.outcome})`);
    op.outcome = outcome;
    op.output = output;
    op.returned = this.#seq++;
    op.returnedMs = this.#clock();
    op.error = error;
  }

  ok(op: RecordedOperation, output: KvOutput): void {
    this.#end(op, 'ok', output, undefined);
  }

  fail(op: RecordedOperation, error: string): void {
    this.#end(op, 'fail', undefined, error);
  }

  info(op: RecordedOperation, error: string): void {
    this.#end(op, 'info', undefined, error);
  }

  /**
   * The operations for the checker: definite failures left out, indefinite ones (and any never
   * ended) without a return.
   */
  forChecker(): Operation<KvInput, KvOutput>[] {
    return this.operations
      .filter((op) => op.outcome !== 'fail')
      .map((op) => ({
        clientId: op.process,
        input: op.input,
        call: op.call,
        output: op.outcome === 'ok' ? op.output : undefined,
        return: op.outcome === 'ok' ? op.returned : undefined,
      }));
  }

  /** The history as EDN lines, events in the order they happened; definite failures are left out. */
  toEdn(): string {
    const events: { seq: number; line: string }[] = [];
    for (const op of this.operations) {
      if (op.outcome === 'fail') continue;
      const { input } = op;
      const key = JSON.stringify(input.key);
      const f = `:${input.kind}`;
      const invoked = input.kind === 'get' ? 'nil' : input.kind === 'cas' ? `[${JSON.stringify(input.expected)} ${JSON.stringify(input.value)}]` : JSON.stringify(input.value);
      events.push({ seq: op.call, line: `{:process ${op.process}, :type :invoke, :f ${f}, :key ${key}, :value ${invoked}}` });
      if (op.outcome === undefined || op.returned === undefined) continue;
      let type = op.outcome === 'info' ? ':info' : ':ok';
      let value = invoked;
      if (op.outcome === 'ok' && op.output?.kind === 'get') value = op.output.value === '' ? 'nil' : JSON.stringify(op.output.value);
      // In the EDN form a cas that did not swap is a :fail: a definite outcome, its compare failed.
      if (op.outcome === 'ok' && op.output?.kind === 'cas' && !op.output.swapped) type = ':fail';
      events.push({ seq: op.returned, line: `{:process ${op.process}, :type ${type}, :f ${f}, :key ${key}, :value ${value}}` });
    }
    events.sort((a, b) => a.seq - b.seq);
    return `${events.map((event) => event.line).join('\n')}\n`;
  }
}
