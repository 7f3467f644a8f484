import { InvalidArgumentError, rejectUnknownOptions } from '@greenraft/consensus';
import type { NodeId } from '@greenraft/consensus';
import { participationAfterCommit } from '@greenraft/weight-scoring';

/** What the leader measured about one node from the commit quorums it saw. */
export interface NodeParticipation {
  readonly id: NodeId;
  /** Commit rounds whose quorum this node's acknowledgement helped form (the leader's own ack included). */
  readonly quorumAcks: number;
  /** Rounds in which this node's acknowledgement was the one that completed the quorum. */
  readonly completedQuorums: number;
  /** Mean arrival position of its acknowledgements among those that formed quorums (1 = first). */
  readonly meanPosition: number;
  /** W_g (eq. 19): the consensus-participation score in [0, 100], as `NodeScoreInput.participation` takes it. */
  readonly score: number;
  /**
   * Smoothed time from the leader's append to this node's acknowledgement, in ms, over the
   * quorums it helped form (for `latencyScoring`, as `NodeScoreInput.ackLatencyMs`). For the
   * leader itself it is the time to persist its own entry. Absent when no latency was reported.
   */
  readonly latencyMs?: number;
}

/** One commit quorum as the `commitQuorum` event reports it: acknowledgements in arrival order, leader first. */
export interface QuorumReport {
  readonly acks: readonly { readonly id: NodeId; readonly latencyMs?: number }[];
}

/** Options of {@link participationTracker}. */
export interface ParticipationTrackerInit {
  /**
   * ω (eq. 19): participation gained per valid acknowledgement, scaled by (k + 1)/k.
   * @default 1
   */
  participationStep?: number;
  /**
   * Whether the leader's own acknowledgement (the first of each quorum) earns participation. The
   * paper credits the followers' replies only.
   * @default false
   */
  includeLeader?: boolean;
  /**
   * Weight of the newest sample in the latency moving average, in (0, 1]; 1 keeps only the last.
   * @default 0.2
   */
  latencySmoothing?: number;
}

/**
 * Tracks, from commit quorums, which acknowledgements formed each quorum and in what order:
 * the input of the participation score (eq. 19) and of latency-aware scoring. A weighted node's
 * leader feeds it from `commitQuorum` events; a simulator can feed it from `Ready.commitQuorums`
 * (converting ticks to milliseconds). Its figures are the leader's local measurements, not
 * replicated state: they may only feed scores, and scores only change weights through the log.
 */
export interface ParticipationTracker {
  /** Counts one commit round (k = {@link ParticipationTracker.rounds} + 1 in eq. 19). */
  record(quorum: QuorumReport): void;
  /** Rounds recorded so far. */
  readonly rounds: number;
  /** Per-node figures, for every node seen in a quorum. */
  participation(): Map<NodeId, NodeParticipation>;
  /** Forgets everything. */
  reset(): void;
}

const PARTICIPATION_OPTIONS = Object.keys({
  participationStep: true,
  includeLeader: true,
  latencySmoothing: true,
} satisfies Record<keyof ParticipationTrackerInit, true>);

interface Tally {
  quorumAcks: number;
  completedQuorums: number;
  positionSum: number;
  latencyMs: number | undefined;
}

/**
 * Creates a {@link ParticipationTracker}.
 *
 * @example
 * ```ts
 * import { participationTracker } from '@greenraft/weighted-raft';
 *
 * const tracker = participationTracker();
 * tracker.record({ acks: [{ id: 'a', latencyMs: 0 }, { id: 'c', latencyMs: 10 }] }); // a leads, c acked first
 * tracker.participation().get('c')?.score; // 2: eq. 19 with k = 1 gives ω·(1 + 1)/1
 * ```
 */
export function participationTracker(init: ParticipationTrackerInit = {}): ParticipationTracker {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('participationTracker needs an options object');
  rejectUnknownOptions('participationTracker', init, PARTICIPATION_OPTIONS);
  const participationStep = init.participationStep ?? 1;
  if (!(Number.isFinite(participationStep) && participationStep >= 0)) {
    throw new InvalidArgumentError(`participationStep must be a finite number ≥ 0, not ${String(participationStep)}`);
  }
  const includeLeader = init.includeLeader ?? false;
  const smoothing = init.latencySmoothing ?? 0.2;
  if (!(Number.isFinite(smoothing) && smoothing > 0 && smoothing <= 1)) {
    throw new InvalidArgumentError(`latencySmoothing must be in (0, 1], not ${String(smoothing)}`);
  }
  let rounds = 0;
  let scores = new Map<NodeId, number>();
  const tallies = new Map<NodeId, Tally>();

  return {
    record(quorum) {
      if (!Array.isArray(quorum?.acks) || quorum.acks.length === 0) {
        throw new InvalidArgumentError('a commit quorum needs at least one acknowledgement');
      }
      rounds++;
      // eq. 19: every reply up to the one that completed the quorum is a valid reply.
      scores = participationAfterCommit(scores, quorum, rounds, { participationStep, includeLeader });
      quorum.acks.forEach((ack, position) => {
        let tally = tallies.get(ack.id);
        if (tally === undefined) tallies.set(ack.id, (tally = { quorumAcks: 0, completedQuorums: 0, positionSum: 0, latencyMs: undefined }));
        tally.quorumAcks++;
        tally.positionSum += position + 1;
        if (position === quorum.acks.length - 1) tally.completedQuorums++;
        if (ack.latencyMs !== undefined && Number.isFinite(ack.latencyMs) && ack.latencyMs >= 0) {
          tally.latencyMs = tally.latencyMs === undefined ? ack.latencyMs : tally.latencyMs + smoothing * (ack.latencyMs - tally.latencyMs);
        }
      });
    },
    get rounds() {
      return rounds;
    },
    participation() {
      const report = new Map<NodeId, NodeParticipation>();
      for (const [id, tally] of tallies) {
        report.set(id, {
          id,
          quorumAcks: tally.quorumAcks,
          completedQuorums: tally.completedQuorums,
          meanPosition: tally.positionSum / tally.quorumAcks,
          score: scores.get(id) ?? 0,
          ...(tally.latencyMs === undefined ? {} : { latencyMs: tally.latencyMs }),
        });
      }
      return report;
    },
    reset() {
      rounds = 0;
      scores = new Map();
      tallies.clear();
    },
  };
}
