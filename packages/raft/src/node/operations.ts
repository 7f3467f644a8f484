import { AbortError, TimeoutError } from '@greenraft/consensus';
import type { OperationOptions } from '@greenraft/consensus';

/**
 * A caller waiting on the node (a proposal, a read, a configuration change, a transfer):
 * one promise that settles once, by the node, by its deadline, by its abort signal or by stop.
 */
export class PendingOperation<T> {
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  #settled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  #cleanup: (() => void) | (() => void)[] | undefined;
  readonly #description: string | (() => string);
  readonly #timeoutMs: number;
  /** When the deadline passes, in `performance.now()` time (operations on a {@link DeadlineQueue}). */
  deadline = 0;
  #queue: DeadlineQueue | undefined;

  /**
   * @param description - what the caller waits for, for the timeout and abort messages (a function: built only if needed)
   * @param timeoutMs - the deadline; the outcome is unknown when it passes
   * @param deadlines - the node's shared deadline queue, used when its timeout is `timeoutMs` (one timer for many operations)
   */
  constructor(description: string | (() => string), options: OperationOptions, timeoutMs: number, deadlines?: DeadlineQueue) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#description = description;
    this.#timeoutMs = timeoutMs;
    if (deadlines !== undefined && deadlines.timeoutMs === timeoutMs) {
      this.#queue = deadlines;
      deadlines.add(this as PendingOperation<unknown>);
    } else {
      this.#timer = setTimeout(() => this.timeOut(), timeoutMs);
    }
    const signal = options.signal;
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.reject(new AbortError(`${this.#describe()} was aborted; its outcome is unknown`, { cause: signal.reason }));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Runs `cleanup` once the operation settles, however it settles. */
  onSettle(cleanup: () => void): void {
    if (this.#cleanup === undefined) this.#cleanup = cleanup;
    else if (typeof this.#cleanup === 'function') this.#cleanup = [this.#cleanup, cleanup];
    else this.#cleanup.push(cleanup);
  }

  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value);
  }

  reject(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  /** The deadline passed. */
  timeOut(): void {
    this.reject(new TimeoutError(`${this.#describe()} timed out after ${this.#timeoutMs} ms; its outcome is unknown`));
  }

  #describe(): string {
    return typeof this.#description === 'string' ? this.#description : this.#description();
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    const cleanup = this.#cleanup;
    if (typeof cleanup === 'function') cleanup();
    else if (cleanup !== undefined) for (const each of cleanup) each();
    this.#queue?.settled();
    return true;
  }
}

/**
 * The deadlines of operations that share one timeout (a node's default): created in order, they
 * expire in order, so one timer and a queue serve them all instead of a timer per operation. The
 * queue drops settled operations from its head as they settle (proposals settle roughly in order),
 * so it holds about as many as are in flight.
 */
export class DeadlineQueue {
  readonly timeoutMs: number;
  #operations: PendingOperation<unknown>[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Operations queued, settled ones not yet dropped included (for tests). */
  get size(): number {
    return this.#operations.length - this.#head;
  }

  add(operation: PendingOperation<unknown>): void {
    operation.deadline = performance.now() + this.timeoutMs;
    this.#operations.push(operation);
    if (this.#timer === undefined) this.#arm(operation.deadline);
  }

  /** An operation settled: drop the settled run at the head. */
  settled(): void {
    const operations = this.#operations;
    while (this.#head < operations.length && operations[this.#head]!.settled) this.#head++;
    if (this.#head === operations.length) {
      operations.length = 0;
      this.#head = 0;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (this.#head >= 1024 && this.#head * 2 >= operations.length) {
      this.#operations = operations.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Stops the timer (the node stopped and rejected every operation). */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#operations = [];
    this.#head = 0;
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - performance.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    // Timing out settles the operation, which moves the head on.
    while (this.#head < this.#operations.length) {
      const first = this.#operations[this.#head]!;
      if (first.settled) {
        this.#head++;
        continue;
      }
      if (first.deadline > now) break;
      first.timeOut();
    }
    this.settled();
    if (this.#head < this.#operations.length && this.#timer === undefined) this.#arm(this.#operations[this.#head]!.deadline);
  }
}

/** Rejects with AbortError when `options.signal` is already aborted (libp2p's `throwIfAborted` on entry). */
export function abortedError(options: OperationOptions, description: string): AbortError | undefined {
  const signal = options.signal;
  if (signal?.aborted !== true) return undefined;
  return new AbortError(`${description} was aborted before it started`, { cause: signal.reason });
}
