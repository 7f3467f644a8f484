import { HistoryParseError } from './errors.js';
import type { Operation } from './types.js';

/** An open invocation that a completion line has just closed. */
export interface Completed<Input, Output> {
  readonly op: Operation<Input, Output>;
  /** The line of the invocation. */
  readonly invokedOn: number;
  /** Its position among the operations. */
  readonly index: number;
}

/**
 * Pairs the invocation and completion lines of a recorded history into operations, for the
 * history parsers: one open operation per process, `:fail` on a cas a definite `swapped: false`,
 * `:fail` on anything else dropped. Each parser keeps its format's checks and messages.
 */
export class InvocationPairing<Input extends { readonly kind: string }, Output> {
  private readonly operations: (Operation<Input, Output> | undefined)[] = [];
  /** Per process: the index in `operations` of its open invocation, and that invocation's line. */
  private readonly open = new Map<number, { index: number; line: number }>();

  /** `process` invokes `input` on `line`; throws when it still has an operation open. */
  invoke(process: number, line: number, input: Input): void {
    const busy = this.open.get(process);
    if (busy) throw new HistoryParseError(line, `process ${process} invokes again before its operation of line ${busy.line} completed`);
    this.open.set(process, { index: this.operations.length, line });
    this.operations.push({ clientId: process, input, call: line, output: undefined, return: undefined });
  }

  /** The operation `process` completes on `line`, no longer open; throws when it invoked none. */
  complete(process: number, line: number): Completed<Input, Output> {
    const invocation = this.open.get(process);
    if (!invocation) throw new HistoryParseError(line, `process ${process} completes an operation it never invoked`);
    this.open.delete(process);
    return { op: this.operations[invocation.index]!, invokedOn: invocation.line, index: invocation.index };
  }

  /** A `:fail` on `line`: a cas's compare failed (a definite outcome); any other operation did not take effect. */
  fail(completed: Completed<Input, Output>, line: number): void {
    const { op, index } = completed;
    if (op.input.kind === 'cas') {
      op.output = { kind: 'cas', swapped: false } as Output;
      op.return = line;
    } else {
      this.operations[index] = undefined;
    }
  }

  /** The operations in invocation order, the dropped ones left out. */
  result(): Operation<Input, Output>[] {
    return this.operations.filter((op): op is Operation<Input, Output> => op !== undefined);
  }
}
