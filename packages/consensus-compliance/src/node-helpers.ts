/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /**
   * How long to keep trying before failing. A patience limit, not a speed requirement.
   * @default 10_000
   */
  timeoutMs?: number;
  /**
   * Milliseconds between two checks.
   * @default 5
   */
  intervalMs?: number;
  /** What is awaited, for the failure message. @default 'the condition' */
  what?: string;
}

/**
 * Polls `condition` until it returns true, and rejects with a descriptive error if it is still
 * false after `timeoutMs`. For tests of clusters on real timers.
 *
 * @example
 * ```ts
 * await eventually(() => node.status().role === 'leader', { what: 'node a to lead' });
 * ```
 */
export async function eventually(condition: () => boolean, options: EventuallyOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return;
    if (Date.now() >= deadline) throw new Error(`gave up waiting for ${options.what ?? 'the condition'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
