/**
 * Test support, NOT exported from the package: the naive weighted policy, as a literal reading of
 * the paper describes it. After every trading round each node recomputes the weights from its
 * own, local view of the scores and counts quorums with them at once, through the core's UNSAFE
 * `unsafeLocalWeightsOptions` hook of `@greenraft/raft/testing`. Views differ for a while after each round (each node learns of the
 * round after its own delay), which is all it takes to lose committed entries
 * (docs/weighted-safety.md). greenraft's weighted policy moves the same weights through the log.
 */
import type { NodeId } from '@greenraft/consensus';
import type { RaftCoreOptions } from '@greenraft/raft';
import { unsafeLocalWeightsOptions } from '@greenraft/raft/testing';
import { type ScoringStrategy, customScoring, toVoteWeights } from '@greenraft/weight-scoring';
import { rankElectionTimeout } from '@greenraft/weighted-raft';
import { deriveSeed } from './random.js';
import type { SimulationInit } from './simulation.js';
import { generatedPowerMarket } from './weighted-market.js';

/**
 * A strategy for a market whose daily figures swing widely (weather-driven renewables, say): each
 * round ranks the nodes anew. Scores in [1, 100], a pure function of the round's figures.
 */
export function volatileScoring(): ScoringStrategy {
  return customScoring('volatile', (node) => {
    let h = 2166136261;
    for (const part of [node.id, String(node.contracted), String(node.actual), node.creditWeight.toFixed(6)]) {
      for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 16777619);
    }
    return 1 + ((h >>> 0) % 100);
  });
}

/** Options of {@link naiveLocalWeights}. */
export interface NaiveWeightsInit {
  /** The run's seed: the market follows the same rounds as a weighted run of this seed. */
  readonly seed: number;
  /** Every node id of the run (`n1` … `nN`). */
  readonly ids: readonly NodeId[];
  readonly scoring: ScoringStrategy;
  /** A trading round settles every this many steps. */
  readonly roundSteps: number;
  /** Each node learns of a round between 0 and this many steps after it settles. */
  readonly maxLagSteps: number;
  /** Election timeout base (ticks) and milliseconds per tick of the run, for eq. 7 ranks. */
  readonly electionTicks: number;
  readonly tickMs: number;
}

/**
 * The `engineOptions` of a classic simulation that turns it into the naive weighted policy: every
 * core counts quorums with the weights of the latest round it has heard of (`toVoteWeights` with
 * the fault-tolerance guard, the very weights greenraft would plan) and times out by their ranks.
 */
export function naiveLocalWeights(init: NaiveWeightsInit): NonNullable<SimulationInit['engineOptions']> {
  // The same market stream as `WeightEpochs` of a weighted run of this seed.
  const market = generatedPowerMarket(init.ids, deriveSeed(init.seed, 5));
  const rounds: Map<NodeId, number>[] = [];
  const weightsOfRound = (round: number): Map<NodeId, number> => {
    while (rounds.length < round) rounds.push(toVoteWeights(init.scoring.score(market.settleNextRound()), { tolerateFailures: 1 }));
    return rounds[round - 1]!;
  };
  const lag = (id: NodeId, round: number): number => deriveSeed(deriveSeed(init.seed, 77), round * 64 + init.ids.indexOf(id)) % (init.maxLagSteps + 1);
  /** The weights `id` holds at `step`: those of the latest round it has heard of, none before the first. */
  const localWeights = (id: NodeId, step: number): Map<NodeId, number> | undefined => {
    let round = Math.floor(step / init.roundSteps);
    while (round >= 1 && round * init.roundSteps + lag(id, round) > step) round--;
    return round >= 1 ? weightsOfRound(round) : undefined;
  };
  return (id, run): Partial<RaftCoreOptions> => {
    const rank = rankElectionTimeout({ baseMs: init.electionTicks * init.tickMs, stepMs: init.tickMs, tickMs: init.tickMs });
    return {
      ...unsafeLocalWeightsOptions(() => localWeights(id, run.step())),
      policy: {
        electionTimeoutTicks: (context) => {
          const voters = localWeights(id, run.step()) ?? context.config.incoming.voters;
          return rank.electionTimeoutTicks!({ ...context, config: { incoming: { voters, learners: context.config.incoming.learners } } });
        },
      },
    };
  };
}
