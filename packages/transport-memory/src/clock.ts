import { InvalidArgumentError, rejectUnknownOptions } from '@greenraft/consensus';

/**
 * A clock the network schedules deliveries on. {@link realClock} wraps the host's timers;
 * {@link virtualClock} only moves when told to, which makes a whole cluster deterministic.
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now (never synchronously, even for 0). Returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * A clock that only moves when told to. Timers due at the same time run in the order they
 * were scheduled, so the same calls always run the same callbacks in the same order.
 */
export interface VirtualClock extends Clock {
  /**
   * Moves time forward by `ms`, running every timer due up to `now() + ms` in (time, insertion)
   * order; timers scheduled while advancing also run if they fall due. A timer that throws
   * stops the advance at its time and the error propagates; the other timers stay scheduled.
   */
  advance(ms: number): void;
  /** Like {@link VirtualClock.advance}, to an absolute time not before `now()`. */
  advanceTo(time: number): void;
  /** Jumps to the next due timer and runs it (and every timer due at that same time); `false` if none is pending. */
  runNext(): boolean;
  /** When the next pending timer is due, or `undefined` if none is pending. */
  nextTimerAt(): number | undefined;
  /** How many timers are scheduled and not yet run or cleared. */
  pendingTimers(): number;
}

/** Options of {@link virtualClock}. */
export interface VirtualClockInit {
  /**
   * The time the clock starts at, in milliseconds.
   * @default 0
   */
  start?: number;
}

/** A zero-delay timer of {@link realClock}: an immediate, which `clearTimeout` must clear with `clearImmediate`. */
class NextTurn {
  constructor(readonly immediate: ReturnType<typeof setImmediate>) {}
}

/**
 * The host's clock: `Date.now` and the global timers. A delay of 0 (or less) runs on the next
 * turn of the event loop (`setImmediate`) rather than after the host's 1 ms minimum for
 * `setTimeout`, so a zero-latency hop costs microseconds, not a millisecond; callbacks scheduled
 * that way run in the order they were scheduled.
 *
 * @example
 * ```ts
 * const clock = realClock();
 * const handle = clock.setTimeout(() => console.log('later'), 10);
 * clock.clearTimeout(handle);
 * clock.setTimeout(() => console.log('on the next turn of the event loop'), 0);
 * ```
 */
export function realClock(): Clock {
  return {
    now: () => Date.now(),
    // The globals are looked up at each call, so test fake timers installed later still apply.
    setTimeout: (fn, ms) => (ms > 0 ? setTimeout(fn, ms) : new NextTurn(setImmediate(fn))),
    clearTimeout: (handle) => {
      if (handle instanceof NextTurn) clearImmediate(handle.immediate);
      else clearTimeout(handle as ReturnType<typeof setTimeout> | undefined);
    },
  };
}

interface VirtualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only through {@link VirtualClock.advance} and {@link VirtualClock.runNext}.
 *
 * @example
 * ```ts
 * const clock = virtualClock();
 * const fired: number[] = [];
 * clock.setTimeout(() => fired.push(clock.now()), 5);
 * clock.advance(10);
 * console.log(fired, clock.now()); // [5] 10
 * ```
 */
export function virtualClock(init: VirtualClockInit = {}): VirtualClock {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('virtualClock: init must be an object');
  rejectUnknownOptions('virtualClock', init, ['start']);
  const start = init.start ?? 0;
  if (typeof start !== 'number' || !Number.isFinite(start)) {
    throw new InvalidArgumentError(`virtualClock: start must be a finite number, got ${String(start)}`);
  }
  return new ManualClock(start);
}

/** Binary min-heap on (at, id): `id` grows with every timer, so ties keep insertion order. */
class ManualClock implements VirtualClock {
  private time: number;
  private nextId = 1;
  private readonly heap: VirtualTimer[] = [];
  /** Live timers by id; a heap entry whose id is missing here was cleared (lazy deletion). */
  private readonly live = new Map<number, VirtualTimer>();

  constructor(start: number) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (typeof fn !== 'function') throw new InvalidArgumentError('setTimeout: the callback must be a function');
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      throw new InvalidArgumentError(`setTimeout: delay must be a number, got ${String(ms)}`);
    }
    if (ms === Number.POSITIVE_INFINITY) {
      throw new InvalidArgumentError('setTimeout: delay must be finite');
    }
    // Negative delays behave like 0, as the host's setTimeout does.
    const timer: VirtualTimer = { id: this.nextId++, at: this.time + Math.max(0, ms), fn };
    this.live.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle !== 'number' || !this.live.delete(handle)) return;
    // Rebuild once cleared entries dominate, so a node that keeps resetting timers does not grow the heap.
    if (this.heap.length > 1024 && this.heap.length > 2 * this.live.size) {
      this.heap.length = 0;
      for (const timer of [...this.live.values()].sort(compareTimers)) this.heap.push(timer);
    }
  }

  advance(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new InvalidArgumentError(`advance: ms must be a finite number ≥ 0, got ${String(ms)}`);
    }
    const target = this.time + ms;
    this.runDue(target);
    if (this.time < target) this.time = target;
  }

  advanceTo(time: number): void {
    if (typeof time !== 'number' || !Number.isFinite(time) || time < this.time) {
      throw new InvalidArgumentError(`advanceTo: time must be finite and not before now (${this.time}), got ${String(time)}`);
    }
    this.advance(time - this.time);
  }

  runNext(): boolean {
    const next = this.peekLive();
    if (next === undefined) return false;
    this.runDue(Math.max(this.time, next.at));
    return true;
  }

  nextTimerAt(): number | undefined {
    return this.peekLive()?.at;
  }

  pendingTimers(): number {
    return this.live.size;
  }

  /** Runs every live timer due at or before `target`, moving time to each one's due time. */
  private runDue(target: number): void {
    for (let timer = this.peekLive(); timer !== undefined && timer.at <= target; timer = this.peekLive()) {
      this.pop();
      this.live.delete(timer.id);
      if (timer.at > this.time) this.time = timer.at;
      timer.fn();
    }
  }

  private peekLive(): VirtualTimer | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.live.has(top.id)) return top;
      this.pop();
    }
    return undefined;
  }

  private push(timer: VirtualTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareTimers(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && compareTimers(heap[left]!, heap[smallest]!) < 0) smallest = left;
      if (right < heap.length && compareTimers(heap[right]!, heap[smallest]!) < 0) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}

function compareTimers(a: VirtualTimer, b: VirtualTimer): number {
  return a.at - b.at || a.id - b.id;
}
