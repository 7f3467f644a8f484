import type { ClusterConfig, Index, NodeId, Term } from '@greenraft/consensus';
import { quorumPrefixLength, type VoteResult, voteResult } from '../../quorum/quorum.js';
import type { CoreCommitQuorum } from '../api.js';
import { type AckRecord, Progress } from './progress.js';

/**
 * What a node knows of its peers (etcd-io/raft's `tracker.ProgressTracker`): on a leader, one
 * {@link Progress} per member of the configuration, which of them were recently active, and the
 * acknowledgements behind each commit; on a candidate, the tally of its campaign's votes.
 * Quorums are always counted in the configuration the caller passes (the one in the node's log).
 */
export class ProgressTracker {
  private readonly peers = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  /** The leader's own appends, in order, as acknowledgements of its own log (for commit quorums). */
  private selfAcks: AckRecord[] = [];
  /** Orders every acknowledgement the leader receives, its own included. */
  private ackSequence = 0;

  constructor(
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** The progress of peer `id`, if it is tracked. */
  get(id: NodeId): Progress | undefined {
    return this.peers.get(id);
  }

  has(id: NodeId): boolean {
    return this.peers.has(id);
  }

  /** Every tracked peer, in the order it was first tracked. */
  entries(): IterableIterator<[NodeId, Progress]> {
    return this.peers.entries();
  }

  /** Every tracked peer's id, in the order it was first tracked. */
  ids(): IterableIterator<NodeId> {
    return this.peers.keys();
  }

  /** Forgets every peer, vote and acknowledgement: a new term or a new role starts afresh. */
  reset(): void {
    this.votes.clear();
    this.peers.clear();
    this.selfAcks = [];
  }

  /**
   * On the leader: tracks every member of `members` but `self` (new ones probe from `next`, and
   * count as recently active when `addedActive`) and forgets peers that left. Returns true when a
   * peer was added (it needs the log).
   */
  sync(members: ReadonlySet<NodeId>, self: NodeId, next: Index, addedActive: boolean): boolean {
    let added = false;
    for (const id of members) {
      if (id === self || this.peers.has(id)) continue;
      const pr = new Progress(next, this.maxInflightMessages, this.maxInflightBytes);
      pr.recentActive = addedActive;
      this.peers.set(id, pr);
      added = true;
    }
    for (const id of [...this.peers.keys()]) if (!members.has(id)) this.peers.delete(id);
    return added;
  }

  // ---------------------------------------------------------------- votes

  /** Starts a new tally. */
  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `id`'s answer; false when it already answered in this tally (the first answer counts). */
  recordVote(id: NodeId, granted: boolean): boolean {
    if (this.votes.has(id)) return false;
    this.votes.set(id, granted);
    return true;
  }

  /** The campaign's outcome so far, by weight, in `config` (both halves while joint). */
  tallyVotes(config: ClusterConfig): VoteResult {
    return voteResult(config, this.votes);
  }

  // ---------------------------------------------------------------- recent activity

  /**
   * Check-quorum: did a weighted quorum of `config` talk to the leader `self` since the last call?
   * Clears every peer's mark for the next round.
   */
  quorumActive(config: ClusterConfig, self: NodeId): boolean {
    const active = new Map<NodeId, boolean>([[self, true]]);
    for (const [id, pr] of this.peers) {
      if (pr.recentActive) active.set(id, true);
      pr.recentActive = false;
    }
    return voteResult(config, active) === 'won';
  }

  // ---------------------------------------------------------------- acknowledgements

  /** The leader appended up to `index` at `tick`, `step` messages into its run: its own acknowledgement of those entries. */
  acknowledgeSelf(index: Index, tick: number, step: number): void {
    this.selfAcks.push({ index, sequence: ++this.ackSequence, tick, step });
  }

  /** A follower acknowledged `index` at `tick` in the `step`-th message stepped; returns true when its match index moved. */
  acknowledge(pr: Progress, index: Index, tick: number, step: number): boolean {
    return pr.update(index, ++this.ackSequence, tick, step);
  }

  /**
   * The acknowledgements (in arrival order, the leader's own first) that formed the quorum of
   * `config` committing `index`, then forgets every acknowledgement at or below it.
   */
  commitQuorum(config: ClusterConfig, voterIds: readonly NodeId[], self: NodeId, index: Index, term: Term, tick: number): CoreCommitQuorum {
    const arrivals: { id: NodeId; ack: AckRecord }[] = [];
    let own: AckRecord | undefined;
    for (const ack of this.selfAcks) {
      if (ack.index >= index) {
        own = ack;
        break;
      }
    }
    for (const id of voterIds) {
      const ack = id === self ? own : this.peers.get(id)?.ackCovering(index);
      if (ack !== undefined) arrivals.push({ id, ack });
    }
    arrivals.sort((x, y) => (x.id === self ? -1 : y.id === self ? 1 : x.ack.sequence - y.ack.sequence));
    const formed = quorumPrefixLength(config, arrivals.map((a) => a.id)) ?? arrivals.length;
    const quorum: CoreCommitQuorum = {
      index,
      term,
      proposedTick: own?.tick ?? tick,
      acks: arrivals.slice(0, formed).map(({ id, ack }) => ({
        id,
        weight: config.incoming.voters.get(id) ?? config.outgoing?.voters.get(id) ?? 0,
        tick: ack.tick,
        step: ack.step,
      })),
    };
    let drop = 0;
    while (drop < this.selfAcks.length && this.selfAcks[drop]!.index <= index) drop++;
    if (drop > 0) this.selfAcks.splice(0, drop);
    for (const pr of this.peers.values()) pr.pruneAcks(index);
    return quorum;
  }
}
