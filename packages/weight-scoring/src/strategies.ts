import { InvalidScoreInputError, MissingScoreInputError } from './errors.js';
import { type PaperParameters, paperParameters } from './parameters.js';
import {
  type ComponentScores,
  carbonSettlementScore,
  consumptionNodeWeight,
  creditScore,
  generationNodeWeight,
  greenCertificateScore,
  lineFaultScore,
  tradingVolumeRange,
  tradingVolumeScore,
} from './scores.js';
import { MAX_SCORE, clampScore, requireFinite, requireInRange, requireNonNegative } from './validate.js';

/** What a scoring strategy knows about one node at the end of a round. */
export interface NodeScoreInput {
  /** The node's id, unique within the scored set. */
  readonly id: string;
  /** Generation nodes are scored by eq. 8–10 (with line faults), consumption nodes by eq. 11–13. */
  readonly kind: 'generation' | 'consumption';
  /** W_a: the credit weight after this round ({@link creditWeightAfterRound}), in [0, W_a^max]. */
  readonly creditWeight: number;
  /** E_c: volume contracted this round (kWh). */
  readonly contracted: number;
  /** E_a: volume actually generated or consumed this round (kWh). */
  readonly actual: number;
  /** W_g: the consensus-participation score ({@link participationAfterRound}), in [0, 100]. */
  readonly participation: number;
  /** A_gc: green certificates the node holds (sold ones excluded, bought ones included). */
  readonly greenCertificates: number;
  /** A_ce: carbon settlement of the previous cycle ({@link carbonSettlement}, eq. 22); may be negative. */
  readonly carbonSettlement: number;
  /** C_t: power transmissions so far; generation nodes only. @default 0 */
  readonly transmissions?: number;
  /** C_b: transmissions with a line fault; generation nodes only. @default 0 */
  readonly transmissionFaults?: number;
  /** Recent acknowledgement latency seen by the leader (ms), for {@link latencyScoring}; absent when unmeasured. */
  readonly ackLatencyMs?: number;
}

/**
 * A way of scoring nodes. Every strategy returns a score in [0, 100] for every node it is given;
 * {@link toVoteWeights} turns those scores into integer vote weights.
 *
 * @example
 * ```ts
 * const strategy: ScoringStrategy = { name: 'flat', score: (nodes) => new Map(nodes.map((n) => [n.id, 100])) };
 * ```
 */
export interface ScoringStrategy {
  /** A short human-readable name, shown in logs and dashboards. */
  readonly name: string;
  /** Scores every node, each in [0, 100]. Pure: the same nodes always give the same scores. */
  score(nodes: readonly NodeScoreInput[]): Map<string, number>;
}

function checkedIds(nodes: readonly NodeScoreInput[]): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (typeof node.id !== 'string') throw new InvalidScoreInputError(`node id must be a string, got ${String(node.id)}`);
    if (seen.has(node.id)) throw new InvalidScoreInputError(`node ${node.id} appears twice`);
    seen.add(node.id);
  }
}

/** A node's component scores and its total, as {@link paperScoreBreakdown} reports them. */
export interface PaperScoreBreakdown extends ComponentScores {
  /** W_f (eq. 8) for a generation node, W_y (eq. 11) for a consumption node. */
  readonly total: number;
}

/**
 * Every component score of the paper (§4.2) and the total, per node. The round-wide terms are
 * taken over the nodes given: the volume range of eq. 18, the certificate total of eq. 20 and the
 * carbon range of eq. 21.
 *
 * @throws {@link InvalidScoreInputError} on duplicate ids or any invalid input or parameter.
 *
 * @example
 * ```ts
 * const breakdown = paperScoreBreakdown(nodes, PAPER_CONSENSUS_TIME_PARAMETERS);
 * breakdown.get('g1')?.greenCertificates;
 * ```
 */
export function paperScoreBreakdown(
  nodes: readonly NodeScoreInput[],
  params: Partial<PaperParameters> = {},
): Map<string, PaperScoreBreakdown> {
  const p = paperParameters(params);
  checkedIds(nodes);
  const volumeRange = tradingVolumeRange(nodes);
  let totalCertificates = 0;
  let minCarbon = Number.POSITIVE_INFINITY;
  let maxCarbon = Number.NEGATIVE_INFINITY;
  for (const node of nodes) {
    totalCertificates += requireNonNegative(`greenCertificates of ${node.id}`, node.greenCertificates);
    const settlement = requireFinite(`carbonSettlement of ${node.id}`, node.carbonSettlement);
    minCarbon = Math.min(minCarbon, settlement);
    maxCarbon = Math.max(maxCarbon, settlement);
  }
  const result = new Map<string, PaperScoreBreakdown>();
  for (const node of nodes) {
    if (node.kind !== 'generation' && node.kind !== 'consumption') {
      throw new InvalidScoreInputError(`node ${node.id} has unknown kind ${String(node.kind)}`);
    }
    const components: ComponentScores = {
      credit: creditScore(node.creditWeight, p),
      volume: tradingVolumeScore(node, volumeRange, p),
      participation: requireInRange(`participation of ${node.id}`, node.participation, 0, MAX_SCORE),
      greenCertificates: greenCertificateScore(node.greenCertificates, totalCertificates),
      carbon: carbonSettlementScore(node.carbonSettlement, { min: minCarbon, max: maxCarbon }),
      lineFaults: lineFaultScore({ transmissions: node.transmissions ?? 0, faults: node.transmissionFaults ?? 0 }),
    };
    const total = node.kind === 'generation' ? generationNodeWeight(components, p) : consumptionNodeWeight(components, p);
    result.set(node.id, { ...components, total });
  }
  return result;
}

/**
 * The paper's strategy: each node's total weight W_f or W_y (eq. 8–13) from its credit, volume,
 * participation, green-certificate, carbon and line-fault scores. Defaults to
 * {@link PAPER_ELECTION_PARAMETERS}; pass overrides, or spread
 * {@link PAPER_CONSENSUS_TIME_PARAMETERS} to count participation.
 *
 * @throws {@link InvalidScoreInputError} at creation when a parameter is invalid, and when
 *   scoring on invalid node input.
 *
 * @example
 * ```ts
 * const strategy = paperScoring({ participationFactorGeneration: 0.3, participationFactorConsumption: 0.3 });
 * const scores = strategy.score(nodes); // Map { id → score in [0, 100] }
 * ```
 */
export function paperScoring(params: Partial<PaperParameters> = {}): ScoringStrategy {
  const p = paperParameters(params);
  return {
    name: 'paper',
    score(nodes) {
      return new Map([...paperScoreBreakdown(nodes, p)].map(([id, breakdown]) => [id, breakdown.total]));
    },
  };
}

/**
 * Every node scores 100: equal vote weights, that is classic Raft.
 *
 * @example
 * ```ts
 * toVoteWeights(uniformScoring().score(nodes)); // every weight 1
 * ```
 */
export function uniformScoring(): ScoringStrategy {
  return {
    name: 'uniform',
    score(nodes) {
      checkedIds(nodes);
      return new Map(nodes.map((node) => [node.id, MAX_SCORE]));
    },
  };
}

/** Options of {@link latencyScoring}. */
export interface LatencyScoringInit {
  /**
   * Score ratio between consecutive latency ranks: the fastest node scores 100, the next
   * 100·r, then 100·r², … A geometric sequence, as Cabinet assigns weights by responsiveness.
   * In (0, 1].
   * @default 0.9
   */
  rankRatio?: number;
  /**
   * Score of a node without an `ackLatencyMs` measurement: `'neutral'` gives it the mean score of
   * the measured nodes, so a node that has not been measured yet (it never helped complete a
   * quorum) is neither favoured nor starved and keeps the weight it needs to be measured; a
   * number in [0, 100] gives it that score.
   * @default 'neutral'
   */
  unmeasuredScore?: number | 'neutral';
}

/**
 * Faster acknowledgers weigh more, in the spirit of Cabinet and AWARE: nodes are ranked by
 * `ackLatencyMs` (rank 1 = fastest; equal latencies share a rank) and score 100·r^(rank − 1).
 * Quorums then form from the fastest voters, which shortens commit latency. A node without a
 * measurement scores the mean of the measured ones (see {@link LatencyScoringInit.unmeasuredScore}).
 *
 * @throws {@link InvalidScoreInputError} at creation on a bad option, and when scoring on a
 *   negative or non-finite latency.
 * @throws {@link MissingScoreInputError} when scoring nodes none of which has an `ackLatencyMs`:
 *   there is nothing to rank them by.
 *
 * @example
 * ```ts
 * const strategy = latencyScoring({ rankRatio: 0.5 });
 * strategy.score([a, b, c, d]); // latencies 3, 9, 5 ms and d unmeasured → a 100, c 50, b 25, d 58.33
 * ```
 */
export function latencyScoring(init: LatencyScoringInit = {}): ScoringStrategy {
  const ratio = init.rankRatio ?? 0.9;
  if (!(Number.isFinite(ratio) && ratio > 0 && ratio <= 1)) {
    throw new InvalidScoreInputError(`rankRatio must be in (0, 1], got ${String(ratio)}`);
  }
  const unmeasured = init.unmeasuredScore ?? 'neutral';
  const fixedUnmeasured = unmeasured === 'neutral' ? undefined : requireInRange('unmeasuredScore', unmeasured, 0, MAX_SCORE);
  return {
    name: 'latency',
    score(nodes) {
      checkedIds(nodes);
      const latencies = nodes
        .filter((node) => node.ackLatencyMs !== undefined)
        .map((node) => requireNonNegative(`ackLatencyMs of ${node.id}`, node.ackLatencyMs as number))
        .sort((a, b) => a - b);
      if (latencies.length === 0 && nodes.length > 0) {
        throw new MissingScoreInputError(
          'ackLatencyMs',
          `latency scoring needs an ackLatencyMs measurement on at least one of the ${nodes.length} nodes, and none has one`,
        );
      }
      const measured = new Map<string, number>();
      let sum = 0;
      for (const node of nodes) {
        if (node.ackLatencyMs === undefined) continue;
        // rank − 1 = number of strictly faster nodes, so ties share a rank and a score
        const faster = latencies.findIndex((latency) => latency >= (node.ackLatencyMs as number));
        const score = clampScore(MAX_SCORE * ratio ** faster);
        measured.set(node.id, score);
        sum += score;
      }
      const unmeasuredScore = fixedUnmeasured ?? sum / latencies.length;
      return new Map(nodes.map((node) => [node.id, measured.get(node.id) ?? unmeasuredScore]));
    },
  };
}

/** One strategy in a {@link composeScoring} blend. */
export interface WeightedStrategy {
  /** The strategy to blend in. */
  readonly strategy: ScoringStrategy;
  /** Its relative weight, finite and ≥ 0; the blend divides by the sum of all weights. */
  readonly weight: number;
}

function checkedScores(strategy: ScoringStrategy, nodes: readonly NodeScoreInput[]): Map<string, number> {
  const scores = strategy.score(nodes);
  for (const node of nodes) {
    const score = scores.get(node.id);
    if (score === undefined || typeof score !== 'number' || !Number.isFinite(score)) {
      throw new InvalidScoreInputError(`strategy ${strategy.name} gave node ${node.id} no finite score (${String(score)})`);
    }
  }
  return scores;
}

/**
 * A weighted blend of strategies: each node scores Σ wₖ·sₖ / Σ wₖ. Each part must score every
 * node; a score outside [0, 100] is clamped.
 *
 * @throws {@link InvalidScoreInputError} when there is no part, a weight is negative or
 *   non-finite, or all weights are 0.
 *
 * @example
 * ```ts
 * const blended = composeScoring([
 *   { strategy: paperScoring(), weight: 0.7 },
 *   { strategy: latencyScoring(), weight: 0.3 },
 * ]);
 * blended.name; // 'compose(paper×0.7, latency×0.3)'
 * ```
 */
export function composeScoring(parts: readonly WeightedStrategy[]): ScoringStrategy {
  if (!Array.isArray(parts) || parts.length === 0) throw new InvalidScoreInputError('composeScoring needs at least one strategy');
  let totalWeight = 0;
  for (const part of parts) totalWeight += requireNonNegative(`weight of ${part.strategy.name}`, part.weight);
  if (totalWeight === 0) throw new InvalidScoreInputError('composeScoring needs a positive total weight');
  const frozen = parts.map((part) => ({ strategy: part.strategy, weight: part.weight }));
  return {
    name: `compose(${frozen.map((part) => `${part.strategy.name}×${part.weight}`).join(', ')})`,
    score(nodes) {
      checkedIds(nodes);
      const blended = new Map(nodes.map((node) => [node.id, 0]));
      for (const { strategy, weight } of frozen) {
        const scores = checkedScores(strategy, nodes);
        for (const node of nodes) {
          blended.set(node.id, (blended.get(node.id) ?? 0) + weight * clampScore(scores.get(node.id) as number));
        }
      }
      return new Map([...blended].map(([id, sum]) => [id, clampScore(sum / totalWeight)]));
    },
  };
}

/**
 * A strategy from a per-node function: write your own in a few lines. Scores are clamped to
 * [0, 100]; a non-finite score throws.
 *
 * @example
 * ```ts
 * const greenFirst = customScoring('green-first', (node, nodes) => {
 *   const most = Math.max(1, ...nodes.map((n) => n.greenCertificates));
 *   return (node.greenCertificates / most) * 100;
 * });
 * ```
 */
export function customScoring(
  name: string,
  scoreNode: (node: NodeScoreInput, nodes: readonly NodeScoreInput[]) => number,
): ScoringStrategy {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidScoreInputError('a custom strategy needs a name');
  return {
    name,
    score(nodes) {
      checkedIds(nodes);
      return new Map(
        nodes.map((node) => {
          const score = scoreNode(node, nodes);
          if (typeof score !== 'number' || !Number.isFinite(score)) {
            throw new InvalidScoreInputError(`strategy ${name} gave node ${node.id} no finite score (${String(score)})`);
          }
          return [node.id, clampScore(score)];
        }),
      );
    },
  };
}
