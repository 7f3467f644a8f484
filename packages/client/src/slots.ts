import { TooManyRequestsError } from './errors.js';

interface Waiter {
  readonly grant: () => void;
  readonly refuse: (error: unknown) => void;
}

/**
 * The client's in-flight bound: at most `max` calls hold a slot; up to `maxQueued` more wait for
 * one in arrival order; past that a call is refused at once. A waiter that gives up (deadline,
 * abort, close) leaves the queue without taking a slot.
 */
export class Slots {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly max: number,
    private readonly maxQueued: number,
  ) {}

  /** Calls holding a slot. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for one. */
  get queued(): number {
    return this.queue.length;
  }

  /** Takes a slot now if one is free and nobody waits; `false` otherwise. */
  tryAcquire(): boolean {
    if (this.active >= this.max || this.queue.length > 0) return false;
    this.active++;
    return true;
  }

  /**
   * Waits for a slot. `giveUp` registers what ends the wait early (it is called with a function
   * that rejects the wait and removes the waiter); it returns a function that unregisters it.
   */
  acquire(giveUp: (cancel: (error: unknown) => void) => () => void): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new TooManyRequestsError(`more than ${this.max} requests in flight and ${this.maxQueued} waiting: the client's queue is full`));
    }
    return new Promise<void>((resolve, reject) => {
      let stop = () => {};
      const waiter: Waiter = {
        grant: () => {
          stop();
          resolve();
        },
        refuse: (error) => {
          stop();
          reject(error);
        },
      };
      this.queue.push(waiter);
      stop = giveUp((error) => {
        const at = this.queue.indexOf(waiter);
        if (at === -1) return;
        this.queue.splice(at, 1);
        waiter.refuse(error);
      });
    });
  }

  /** Gives a slot back; the longest waiter takes it. */
  release(): void {
    const next = this.queue.shift();
    if (next === undefined) this.active--;
    else next.grant();
  }

  /** Refuses every waiter (the client is closing). */
  refuseAll(error: unknown): void {
    for (const waiter of this.queue.splice(0)) waiter.refuse(error);
  }
}
