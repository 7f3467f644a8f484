import type { Index, NodeId, Term } from '@greenraft/consensus';
import type { CoreCommitQuorum } from '../core/api.js';

/** The latency of one acknowledgement of a commit report, as the `commitQuorum` event gives it. */
export interface TimedAck {
  readonly id: NodeId;
  readonly weight: number;
  readonly latencyMs: number;
}

/**
 * Rows of three numbers in parallel columns, oldest first, dropped from the front: no object per
 * row, and a dropped prefix is reclaimed once it is half of the columns.
 */
class Rows {
  readonly #columns: [number[], number[], number[]] = [[], [], []];
  #head = 0;

  get size(): number {
    return this.#columns[0].length - this.#head;
  }

  push(a: number, b: number, c: number): void {
    this.#columns[0].push(a);
    this.#columns[1].push(b);
    this.#columns[2].push(c);
  }

  /** Column `c` of the `r`-th live row (0 = oldest). */
  at(r: number, c: number): number {
    return this.#columns[c]![this.#head + r]!;
  }

  /** Drops the oldest rows while column `c` is ≤ `limit`; a smaller value behind a larger one waits for it. */
  dropWhileAtMost(c: number, limit: number): void {
    const column = this.#columns[c]!;
    while (this.#head < column.length && column[this.#head]! <= limit) this.#head++;
    if (this.#head === column.length) this.clear();
    else if (this.#head >= 64 && this.#head * 2 >= column.length) {
      for (const each of this.#columns) each.splice(0, this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    for (const column of this.#columns) column.length = 0;
    this.#head = 0;
  }
}

// Columns of the leader's writes and of its followers' acknowledgements.
const LAST_INDEX = 0;
const HANDED_AT = 1;
const DURABLE_AT = 2;
const STEP = 0;
const ACK_INDEX = 1;
const ARRIVED_AT = 2;

/**
 * On the leader, the wall-clock times behind its commit reports, so each acknowledgement's latency
 * is measured rather than counted in ticks (the core has no clock). An entry's clock starts when
 * the driver hands the Ready holding it to storage and, on the hot path, to the transport; a
 * follower's acknowledgement stops it when the response that first covered the entry is stepped
 * into the core (matched by the core's step ordinal, so it is the very response the core counted);
 * the leader's own stops it when its write of the entry is durable. Everything recorded belongs to
 * one leadership term and is dropped once a report passes it, so memory is bounded by what is not
 * yet committed.
 */
export class AckClock {
  #term: Term | undefined;
  /** The first index of the first write recorded in this term: reports below it have nothing to measure from. */
  #from: Index | undefined;
  /** One row per leader Ready that wrote entries: its last index, when it was handed on, when durable. */
  readonly #writes = new Rows();
  /** Per follower, one row per success response stepped: the core's step ordinal, the index, when. */
  readonly #acks = new Map<NodeId, Rows>();

  /** Rows held, for tests of the bound. */
  get size(): number {
    let held = this.#writes.size;
    for (const rows of this.#acks.values()) held += rows.size;
    return held;
  }

  /**
   * The leader of `term` wrote entries `firstIndex`..`lastIndex`: handed on at `handedAt`, durable at
   * `durableAt`. Every later write of the term must be recorded too.
   */
  written(term: Term, firstIndex: Index, lastIndex: Index, handedAt: number, durableAt: number): void {
    this.#enter(term);
    this.#from ??= firstIndex;
    this.#writes.push(lastIndex, handedAt, durableAt);
  }

  /** The leader of `term` stepped `peer`'s success response for `index` at `arrivedAt`, as its `step`-th message. */
  acked(term: Term, peer: NodeId, step: number, index: Index, arrivedAt: number): void {
    this.#enter(term);
    let rows = this.#acks.get(peer);
    if (rows === undefined) this.#acks.set(peer, (rows = new Rows()));
    rows.push(step, index, arrivedAt);
  }

  /**
   * The latencies of `quorum`'s acknowledgements, in its order, or undefined when this clock holds
   * no write of `quorum`'s term covering its index (nothing to measure from). `self` is the leader's
   * id; a follower's answer this clock lacks (it never should) is taken as arriving at `now`, which
   * makes its figure an upper bound.
   */
  latencies(quorum: CoreCommitQuorum, self: NodeId, now: number): TimedAck[] | undefined {
    const write = this.#term === quorum.term && this.#from !== undefined && quorum.index >= this.#from ? this.#writeCovering(quorum.index) : -1;
    if (write < 0) return undefined;
    const handedAt = this.#writes.at(write, HANDED_AT);
    return quorum.acks.map((ack) => {
      const at = ack.id === self ? this.#writes.at(write, DURABLE_AT) : (this.#arrival(ack.id, ack.step) ?? now);
      // A clock that stepped back (a suspended host) must not make a latency negative.
      return { id: ack.id, weight: ack.weight, latencyMs: Math.max(0, at - handedAt) };
    });
  }

  /** A report covered `index`: no later one needs what was recorded at or below it. */
  passed(index: Index): void {
    this.#writes.dropWhileAtMost(LAST_INDEX, index);
    // An emptied follower's rows stay, cleared, for its next answer; only clear() drops them.
    for (const rows of this.#acks.values()) {
      // Responses arrive in index order but for a duplicate or a late one; those go with the next row passed.
      rows.dropWhileAtMost(ACK_INDEX, index);
    }
  }

  /** Forgets everything (the node is no longer the leader). */
  clear(): void {
    this.#term = undefined;
    this.#from = undefined;
    this.#writes.clear();
    this.#acks.clear();
  }

  #enter(term: Term): void {
    if (this.#term !== term) {
      this.clear();
      this.#term = term;
    }
  }

  /** The row of the first write whose last index reaches `index`, or -1. */
  #writeCovering(index: Index): number {
    for (let r = 0; r < this.#writes.size; r++) if (this.#writes.at(r, LAST_INDEX) >= index) return r;
    return -1;
  }

  #arrival(peer: NodeId, step: number): number | undefined {
    const rows = this.#acks.get(peer);
    if (rows === undefined) return undefined;
    for (let r = 0; r < rows.size; r++) if (rows.at(r, STEP) === step) return rows.at(r, ARRIVED_AT);
    return undefined;
  }
}
