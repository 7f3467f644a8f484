/**
 * Latency samples and their percentiles, and the closed-loop load generator every Raft suite
 * drives its clients with.
 */

/** Latency samples in milliseconds, stored in growing typed arrays so a million of them stay cheap. */
export class LatencySamples {
  #values = new Float64Array(4096);
  #count = 0;
  #sorted = true;

  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
    this.#sorted = false;
  }

  /** Adds every sample of `other`. */
  addAll(other: LatencySamples): void {
    for (let i = 0; i < other.#count; i++) this.add(other.#values[i]!);
  }

  /** The `q`-quantile (0.5 for the median) by the nearest-rank rule; NaN without samples. */
  quantile(q: number): number {
    if (this.#count === 0) return Number.NaN;
    if (!this.#sorted) {
      this.#values.subarray(0, this.#count).sort();
      this.#sorted = true;
    }
    const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil(q * this.#count) - 1));
    return this.#values[rank]!;
  }

  mean(): number {
    if (this.#count === 0) return Number.NaN;
    let sum = 0;
    for (let i = 0; i < this.#count; i++) sum += this.#values[i]!;
    return sum / this.#count;
  }
}

/** What a closed-loop run measured. */
export interface ClosedLoopResult {
  /** Operations that completed inside the measured window. */
  readonly ops: number;
  /** Operations that failed inside the measured window (they are not in `ops` or the latencies). */
  readonly errors: number;
  /** The first failure, to report. */
  readonly firstError: unknown;
  readonly seconds: number;
  readonly opsPerSec: number;
  /** Latencies of the operations that started inside the window. */
  readonly latencies: LatencySamples;
}

/** Options of {@link closedLoop}. */
export interface ClosedLoopInit {
  /** Clients, each with one operation outstanding at a time. */
  readonly concurrency: number;
  /** Length of the measured window. */
  readonly seconds: number;
  /** Load before the window opens (caches, JIT, batching reach their steady state); not measured. */
  readonly warmUpSeconds: number;
  /** One operation of client `client`; resolves when it completed. */
  readonly operation: (client: number) => Promise<unknown>;
}

/** A growing list of numbers in a typed array. */
class Numbers {
  values = new Float64Array(4096);
  count = 0;

  push(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }
}

/**
 * Closed-loop load: `concurrency` clients, each starting its next operation as soon as the last
 * one completes. The measured window opens once the warm-up has passed and every client has
 * completed an operation (the pipeline is full, whatever the latency), and lasts `seconds`.
 * Throughput counts the completions inside the window, latency the operations started inside it
 * (each client finishes the one it started before it stops, so none is cut short).
 */
export async function closedLoop(init: ClosedLoopInit): Promise<ClosedLoopResult> {
  const begin = performance.now();
  let open = begin + init.warmUpSeconds * 1000;
  // Until every client has completed an operation the window's end is unknown; past this, it opens anyway.
  const primeBy = open + Math.max(10, 5 * init.seconds) * 1000;
  let close = Number.POSITIVE_INFINITY;
  let primed = 0;
  const starts = new Numbers();
  const ends = new Numbers();
  const failures = new Numbers();
  let firstError: unknown;
  const openWindow = (now: number) => {
    if (close !== Number.POSITIVE_INFINITY) return;
    open = Math.max(open, now);
    close = open + init.seconds * 1000;
  };
  const client = async (id: number): Promise<void> => {
    let first = true;
    for (;;) {
      const started = performance.now();
      if (started >= primeBy) openWindow(primeBy);
      if (started >= close) return;
      try {
        await init.operation(id);
      } catch (error) {
        const failed = performance.now();
        failures.push(started);
        if (failed >= open) firstError ??= error;
        // A failing operation must not spin: let the cluster settle before the next one.
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const ended = performance.now();
      starts.push(started);
      ends.push(ended);
      if (first) {
        first = false;
        if (++primed === init.concurrency) openWindow(ended);
      }
    }
  };
  await Promise.all(Array.from({ length: init.concurrency }, (_, id) => client(id)));
  const latencies = new LatencySamples();
  let ops = 0;
  for (let i = 0; i < ends.count; i++) {
    const started = starts.values[i]!;
    const ended = ends.values[i]!;
    if (ended >= open && ended <= close) ops++;
    if (started >= open && started < close) latencies.add(ended - started);
  }
  let errors = 0;
  for (let i = 0; i < failures.count; i++) if (failures.values[i]! >= open && failures.values[i]! < close) errors++;
  return { ops, errors, firstError: errors > 0 ? firstError : undefined, seconds: init.seconds, opsPerSec: ops / init.seconds, latencies };
}
