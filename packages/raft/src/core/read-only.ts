import type { ClusterConfig, Index, NodeId, Term } from '@greenraft/consensus';
import { voteResult } from '../quorum/quorum.js';

/** A read asked of the leader, by itself or by a follower, identified by the asker's context. */
export interface ReadRequest {
  readonly requester: NodeId;
  readonly context: string;
}

/** A read with its read index: once leadership is confirmed, serve it when the requester has applied `index`. */
export interface IndexedRead extends ReadRequest {
  readonly index: Index;
}

/** One heartbeat round that confirms leadership for its reads (thesis §6.4). */
interface Round {
  readonly context: string;
  readonly reads: readonly IndexedRead[];
  readonly acks: Map<NodeId, boolean>;
}

/**
 * The leader's read-only requests (etcd-io/raft's `read_only.go`): ReadIndex reads waiting for a
 * heartbeat round that a quorum answers, and reads deferred until the leader has committed an
 * entry of its own term. Lease reads (`'lease'`) never wait for a round.
 *
 * Rounds are batched: reads wait for the next round, which starts when the core hands out its
 * next Ready and no round is in flight (or with the next heartbeat, should a round stall), so one
 * round serves every read that arrived between two Readys or while the previous round was in
 * flight. Each read keeps the commit index it arrived at.
 */
export class ReadOnly {
  /** Rounds in flight, oldest first. */
  private readonly rounds: Round[] = [];
  /** Reads for the next round. */
  private waiting: IndexedRead[] = [];
  private deferred: ReadRequest[] = [];
  private sequence = 0;

  constructor(
    /** How a read index is confirmed: a heartbeat round (`'safe'`) or the leader's lease. */
    readonly mode: 'safe' | 'lease',
  ) {}

  /** Thesis §6.4: the commit index is not yet current; hold the read until the leader commits in its term. */
  defer(read: ReadRequest): void {
    this.deferred.push(read);
  }

  /** The deferred reads, which are forgotten here (the caller asks for each again). */
  takeDeferred(): ReadRequest[] {
    const deferred = this.deferred;
    this.deferred = [];
    return deferred;
  }

  get hasDeferred(): boolean {
    return this.deferred.length > 0;
  }

  /** Adds `read` at read index `index`, for the next round. */
  add(read: ReadRequest, index: Index): void {
    this.waiting.push({ requester: read.requester, context: read.context, index });
  }

  /** The context of a round to broadcast now for the reads waiting, unless a round is in flight. */
  flush(term: Term, self: NodeId): string | undefined {
    return this.rounds.length === 0 ? this.startRound(term, self) : undefined;
  }

  /**
   * The context a heartbeat should carry now: a new round for the reads waiting (a stalled round
   * must not hold them back), else the newest round in flight (its answers confirm every older
   * one, so a lost heartbeat is made good), else none.
   */
  heartbeatContext(term: Term, self: NodeId): string | undefined {
    return this.startRound(term, self) ?? this.rounds[this.rounds.length - 1]?.context;
  }

  /**
   * `from` answered the heartbeat of `context`. Once a quorum of `config` has, leadership is
   * confirmed for that round and every older one: their reads are returned, in order.
   */
  acknowledge(from: NodeId, context: string, config: ClusterConfig): IndexedRead[] {
    const position = this.rounds.findIndex((round) => round.context === context);
    if (position < 0) return [];
    const round = this.rounds[position]!;
    round.acks.set(from, true);
    if (voteResult(config, round.acks) !== 'won') return [];
    // Leadership confirmed at this round confirms every earlier round too.
    return this.rounds.splice(0, position + 1).flatMap((done) => done.reads);
  }

  /** Every read still waiting (in a round, for the next one, or deferred), in that order; all are forgotten here. */
  drop(): ReadRequest[] {
    const dropped: ReadRequest[] = [...this.rounds.flatMap((round) => round.reads), ...this.waiting, ...this.deferred];
    this.rounds.length = 0;
    this.waiting = [];
    this.deferred = [];
    return dropped;
  }

  /** A round for the reads waiting, the leader `self` its first acknowledgement; `undefined` when none wait. */
  private startRound(term: Term, self: NodeId): string | undefined {
    if (this.waiting.length === 0) return undefined;
    const context = `${term}.${++this.sequence}`;
    this.rounds.push({ context, reads: this.waiting, acks: new Map([[self, true]]) });
    this.waiting = [];
    return context;
  }
}

/** A follower's ReadIndex request to its leader: the reads it asks for, under the first one's context. */
interface ForwardedRequest {
  readonly context: string;
  readonly contexts: readonly string[];
  /** Ticks since the request was sent. */
  elapsed: number;
}

/**
 * A follower's reads (thesis §6.4, "the follower asks the leader for the read index"), batched as
 * the leader batches its rounds: one request to the leader at a time, carrying every read that
 * arrived since the previous one left; the leader's read index serves them all. A request is named
 * by its first read's context, which the caller keeps unique (across restarts too), so a late
 * answer to a request of an earlier run, or to one given up, never releases another.
 *
 * A request that is not answered within `timeoutTicks` is given up and its reads are dropped, so a
 * lost request or answer fails its reads within a bound instead of at the caller's deadline.
 */
export class ForwardedReads {
  private waiting: string[] = [];
  private inFlight: ForwardedRequest | undefined;

  constructor(
    /** Ticks a request may go unanswered before its reads are dropped. */
    private readonly timeoutTicks: number,
  ) {}

  /** Adds the read `context`, for the next request. */
  add(context: string): void {
    this.waiting.push(context);
  }

  /** True when reads wait for a request and none is in flight. */
  get ready(): boolean {
    return this.inFlight === undefined && this.waiting.length > 0;
  }

  /** The context of the request to send now, for every read waiting; `undefined` while one is in flight or none waits. */
  flush(): string | undefined {
    if (!this.ready) return undefined;
    const contexts = this.waiting;
    this.waiting = [];
    this.inFlight = { context: contexts[0]!, contexts, elapsed: 0 };
    return this.inFlight.context;
  }

  /** The leader answered the request `context`: its reads, or none when that request is not the one in flight. */
  answered(context: string): readonly string[] {
    if (this.inFlight?.context !== context) return [];
    const { contexts } = this.inFlight;
    this.inFlight = undefined;
    return contexts;
  }

  /** One tick: the reads of a request unanswered for `timeoutTicks`, which is given up; else none. */
  tick(): readonly string[] {
    if (this.inFlight === undefined || ++this.inFlight.elapsed < this.timeoutTicks) return [];
    const { contexts } = this.inFlight;
    this.inFlight = undefined;
    return contexts;
  }

  /** Every read, in flight then waiting; all are forgotten here. */
  drop(): string[] {
    const dropped = [...(this.inFlight?.contexts ?? []), ...this.waiting];
    this.inFlight = undefined;
    this.waiting = [];
    return dropped;
  }
}
