/**
 * Client sessions (Raft thesis §6.3): per client, the outcome of each of its recent idempotency
 * keys, so a retried write is applied once and answered with its first outcome. Everything here
 * changes only on apply, in log order, and expires by log index, never by the clock: every
 * replica holds the same sessions.
 */

/** What applying an entry gave: a value, or a deterministic refusal (the same on every replica). */
export type EntryOutcome =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: 'REJECTED' | 'CONFLICT' | 'BAD_REQUEST';
      readonly message: string;
      /** A finer reason: the market's refusal code. */
      readonly reason?: string;
    };

/** How long and how many idempotency keys a replica remembers. The same on every replica: they are part of the replicated semantics. */
export interface SessionLimits {
  /** A key is forgotten once this many entries were applied after it. */
  readonly retainEntries: number;
  /** Keys remembered per client; past it, the client's oldest key is forgotten. */
  readonly maxKeysPerClient: number;
  /** Keys remembered over every client; past it, the oldest key is forgotten. */
  readonly maxKeys: number;
}

/**
 * The session limits every greenraft server applies. Fixed, not configurable, so that no two
 * replicas can disagree on which keys they still remember: a client retries with the same key
 * well within a million entries and ten thousand of its own writes.
 */
export const SESSION_LIMITS: Readonly<SessionLimits> = Object.freeze({ retainEntries: 1_000_000, maxKeysPerClient: 10_000, maxKeys: 100_000 });

/** One remembered key. */
export interface SessionRecord {
  /** The index of the entry that first applied the key. */
  readonly index: number;
  /** The request's fingerprint: the same key with another request is a conflict. */
  readonly fingerprint: string;
  readonly outcome: EntryOutcome;
}

/** One remembered key, as a snapshot stores it. */
export type SessionSnapshotRecord = readonly [client: string, key: string, index: number, fingerprint: string, outcome: EntryOutcome];

interface Queued {
  readonly client: string;
  readonly key: string;
  readonly index: number;
}

/** The session table of one replica. */
export class SessionTable {
  readonly #limits: SessionLimits;
  /** Per client, its keys in the order they were applied (Map insertion order). */
  readonly #clients = new Map<string, Map<string, SessionRecord>>();
  /** Every key in apply order; entries whose record is gone are skipped. */
  #queue: Queued[] = [];
  #head = 0;
  #size = 0;

  constructor(limits: SessionLimits = SESSION_LIMITS) {
    this.#limits = limits;
  }

  /** Keys remembered now. */
  get size(): number {
    return this.#size;
  }

  /** Clients with at least one key. */
  get clients(): number {
    return this.#clients.size;
  }

  lookup(client: string, key: string): SessionRecord | undefined {
    return this.#clients.get(client)?.get(key);
  }

  /** Remembers `key` of `client`, applied at `record.index` (indexes only grow). */
  record(client: string, key: string, record: SessionRecord): void {
    let keys = this.#clients.get(client);
    if (keys === undefined) this.#clients.set(client, (keys = new Map()));
    if (keys.has(key)) return;
    keys.set(key, record);
    this.#queue.push({ client, key, index: record.index });
    this.#size++;
    if (keys.size > this.#limits.maxKeysPerClient) {
      const oldest = keys.keys().next().value as string;
      this.#forget(client, oldest);
    }
    while (this.#size > this.#limits.maxKeys) this.#popOldest();
    // Keys a client's own bound forgot leave stale queue entries behind: drop them once they outnumber the live ones.
    if (this.#queue.length - this.#head > 2 * this.#size + 1024) {
      this.#queue = this.#queue.slice(this.#head).filter((queued) => this.#current(queued));
      this.#head = 0;
    }
  }

  /** Forgets the keys applied `retainEntries` or more entries before `index`. */
  expire(index: number): void {
    const horizon = index - this.#limits.retainEntries;
    while (this.#head < this.#queue.length) {
      const front = this.#queue[this.#head]!;
      if (this.#current(front) && front.index > horizon) break;
      this.#popOldest();
    }
  }

  /** Every remembered key, oldest first. */
  snapshot(): SessionSnapshotRecord[] {
    const records: SessionSnapshotRecord[] = [];
    for (let i = this.#head; i < this.#queue.length; i++) {
      const queued = this.#queue[i]!;
      const record = this.#clients.get(queued.client)?.get(queued.key);
      if (record !== undefined && record.index === queued.index) records.push([queued.client, queued.key, record.index, record.fingerprint, record.outcome]);
    }
    return records;
  }

  /** Replaces every session with a snapshot's records (oldest first). */
  restore(records: readonly SessionSnapshotRecord[]): void {
    this.#clients.clear();
    this.#queue = [];
    this.#head = 0;
    this.#size = 0;
    for (const [client, key, index, fingerprint, outcome] of records) this.record(client, key, { index, fingerprint, outcome });
  }

  #current(queued: Queued): boolean {
    return this.#clients.get(queued.client)?.get(queued.key)?.index === queued.index;
  }

  #popOldest(): void {
    while (this.#head < this.#queue.length) {
      const front = this.#queue[this.#head++]!;
      if (this.#current(front)) {
        this.#forget(front.client, front.key);
        break;
      }
    }
    // Reclaim the consumed front of the queue now and then, so it never grows without bound.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #forget(client: string, key: string): void {
    const keys = this.#clients.get(client);
    if (keys?.delete(key) !== true) return;
    this.#size--;
    if (keys.size === 0) this.#clients.delete(client);
  }
}
