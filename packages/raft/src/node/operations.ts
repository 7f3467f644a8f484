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
  #cleanups: (() => void)[] = [];

  /**
   * @param description - what the caller waits for, for the timeout message
   * @param timeoutMs - the deadline; the outcome is unknown when it passes
   */
  constructor(description: string, options: OperationOptions, timeoutMs: number) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#timer = setTimeout(() => this.reject(new TimeoutError(`${description} timed out after ${timeoutMs} ms; its outcome is unknown`)), timeoutMs);
    const signal = options.signal;
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.reject(new AbortError(`${description} was aborted; its outcome is unknown`, { cause: signal.reason }));
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Runs `cleanup` once the operation settles, however it settles. */
  onSettle(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  resolve(value: T): void {
    if (this.#finish()) this.#resolve(value);
  }

  reject(error: Error): void {
    if (this.#finish()) this.#reject(error);
  }

  #finish(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const cleanup of this.#cleanups) cleanup();
    return true;
  }
}

/** Rejects with AbortError when `options.signal` is already aborted (libp2p's `throwIfAborted` on entry). */
export function abortedError(options: OperationOptions, description: string): AbortError | undefined {
  const signal = options.signal;
  if (signal?.aborted !== true) return undefined;
  return new AbortError(`${description} was aborted before it started`, { cause: signal.reason });
}
