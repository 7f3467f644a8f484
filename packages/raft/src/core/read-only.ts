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
