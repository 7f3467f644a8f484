import type { ClientEvent, Subscription, SubscriptionTopic } from './types.js';

interface Waiter {
  readonly resolve: (result: IteratorResult<ClientEvent>) => void;
  readonly reject: (error: Error) => void;
}

/** One subscription: a bounded queue of events in front of an async iterator. */
export class SubscriptionQueue implements Subscription {
  readonly topics: readonly SubscriptionTopic[];
  dropped = 0;
  private readonly events: ClientEvent[] = [];
  private readonly waiters: Waiter[] = [];
  private ended = false;
  private failure: Error | undefined;

  constructor(
    topics: readonly SubscriptionTopic[],
    private readonly maxBufferedEvents: number,
    private readonly onClose: (subscription: SubscriptionQueue) => void,
  ) {
    this.topics = topics;
  }

  /** An event frame of the connection: queued if this subscription has its topic. */
  push(topic: string, data: unknown): void {
    if (this.ended || !(this.topics as readonly string[]).includes(topic)) return;
    const event = { topic, data } as ClientEvent;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value: event, done: false });
      return;
    }
    if (this.events.length >= this.maxBufferedEvents) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push(event);
  }

  next(): Promise<IteratorResult<ClientEvent>> {
    const event = this.events.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      // Reported once; after that the iterator is simply done.
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<ClientEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ClientEvent> {
    return this;
  }

  close(): void {
    // The consumer is done: what is queued is not wanted any more.
    this.events.length = 0;
    this.failure = undefined;
    if (this.ended) return;
    this.end();
    this.onClose(this);
  }

  /** Ends the iterator (queued events are still delivered). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  /** Ends the iterator with `error`, after the queued events. */
  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    const waiters = this.waiters.splice(0);
    if (waiters.length === 0) this.failure = error;
    for (const waiter of waiters) waiter.reject(error);
  }
}
