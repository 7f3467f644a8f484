import type { NodeId } from '@greenraft/consensus';
import type { NodeScoreInput } from '@greenraft/weight-scoring';
import type { NodeParticipation } from './participation.js';

/** What a weighted node's leader hands to `scoreInputs` at each weight epoch. */
export interface ScoreInputsContext {
  /** The voters of the configuration in effect, with their current weights: the nodes to score. */
  readonly voters: ReadonlyMap<NodeId, number>;
  /** What this leader measured from commit quorums (eq. 19 participation, acknowledgement latency). */
  readonly participation: ReadonlyMap<NodeId, NodeParticipation>;
  /** Commit rounds this node has counted while leading. */
  readonly round: number;
  /** The number of this epoch on this node (1 for its first). */
  readonly epoch: number;
}

/**
 * Score inputs built from the leader's own measurements only: every voter gets the same neutral
 * market figures (full credit, no volume, no certificates, no carbon) plus its measured
 * participation score (eq. 19) and acknowledgement latency. Pass it as `scoreInputs` to weigh
 * voters by responsiveness with `latencyScoring()`, or by participation with a paper strategy
 * whose participation factors are positive, when no power market feeds the weights.
 *
 * @example
 * ```ts
 * import { latencyScoring } from '@greenraft/weight-scoring';
 * import { createWeightedRaftNode, measuredScoreInputs } from '@greenraft/weighted-raft';
 *
 * const node = createWeightedRaftNode({ ...init, scoring: latencyScoring(), scoreInputs: measuredScoreInputs });
 * ```
 */
export function measuredScoreInputs(context: ScoreInputsContext): NodeScoreInput[] {
  return [...context.voters.keys()].map((id) => {
    const measured = context.participation.get(id);
    return {
      id,
      kind: 'generation',
      creditWeight: 100,
      contracted: 0,
      actual: 0,
      participation: measured?.score ?? 0,
      greenCertificates: 0,
      carbonSettlement: 0,
      ...(measured?.latencyMs === undefined ? {} : { ackLatencyMs: measured.latencyMs }),
    };
  });
}
