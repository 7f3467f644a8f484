import { ConfigurationError, type NodeId } from '@greenraft/consensus';
import type { PowerMarket } from '@greenraft/power-market';
import { type PaperParameters, latencyScoring, paperScoring } from '@greenraft/weight-scoring';
import { measuredScoreInputs, participationTracker, planWeightEpoch } from '@greenraft/weighted-raft';
import { type ClusterPolicy, SimulatedCluster } from './cluster.js';
import type { LinkLatencies } from './latency.js';
import type { MarketScript } from './market-script.js';

/** Where a scenario's vote weights come from. */
export type ScenarioScoring = 'classic' | 'paper' | 'latency';

/** Options of {@link runConsensusScenario}. */
export interface ConsensusScenarioInit {
  readonly script: MarketScript;
  readonly seed: number;
  readonly latencies: LinkLatencies;
  /** The node that leads throughout (the paper's scenarios 1, 2 and 3: nodes 1, 2 and 5). */
  readonly leader: NodeId;
  /** `'classic'`: every weight 1, no weight changes. `'paper'`: eq. 8–25 over the market. `'latency'`: the leader's measured acknowledgement latencies. */
  readonly scoring: ScenarioScoring;
  readonly parameters: Readonly<PaperParameters>;
  readonly carbonCycle: number;
  readonly rounds: number;
  /** Rounds between two weight changes (weighted runs); the paper changes them after every round. */
  readonly epoch: number;
  /** f of the fault-tolerance guard when scores become vote weights. */
  readonly tolerateFailures: number;
  /** Called after each round with the leader's market (weighted runs with paper scoring only). */
  readonly observe?: (round: number, market: PowerMarket) => void;
  /** Called after each round. */
  readonly onRound?: () => void;
}

/** One round of a scenario as the leader measured it. */
export interface ScenarioRound {
  readonly round: number;
  /** Virtual ms from the trade entry's proposal to its commit at the leader. */
  readonly consensusMs: number;
  /** The acknowledgement that completed the quorum: the paper's intermediate node. */
  readonly intermediate: NodeId;
  /** Acknowledgements in the commit quorum, the leader's own included. */
  readonly quorumSize: number;
  /** Messages (heartbeats aside) sent while the trade entry was committed. */
  readonly messages: number;
  /** Virtual ms of the weight change after the round (C(old,new) proposed to C(new) committed); 0 without one. */
  readonly epochMs: number;
  /** Messages the weight change sent. */
  readonly epochMessages: number;
}

/** What {@link runConsensusScenario} measured. */
export interface ScenarioResult {
  readonly rounds: readonly ScenarioRound[];
  /** The vote weights in effect at the end. */
  readonly weights: ReadonlyMap<NodeId, number>;
  /** Market transactions some replica refused (none for a correct script). */
  readonly refused: readonly string[];
}

/**
 * One of the paper's consensus-time scenarios (§5.2.2–5.2.3) on a simulated cluster: `leader`
 * is elected, the participants register, then every round one entry carries the day's trades
 * (and the leader's record of the previous quorum, eq. 19), is committed, and the leader times it
 * from proposal to commit on the virtual clock. Weighted runs then score the nodes from the
 * leader's market replica and apply the new vote weights by joint consensus.
 */
export async function runConsensusScenario(init: ConsensusScenarioInit): Promise<ScenarioResult> {
  const ids = init.script.roster.nodes.map((node) => node.id);
  const policy: ClusterPolicy = init.scoring === 'classic' ? 'classic' : 'weighted';
  const cluster = await SimulatedCluster.start({
    ids,
    seed: init.seed,
    latencies: init.latencies,
    policy,
    market: { parameters: init.parameters, carbonCycle: init.carbonCycle },
  });
  try {
    cluster.elect(init.leader);
    cluster.propose(init.script.registrationEntry());
    const strategy = init.scoring === 'latency' ? latencyScoring() : paperScoring(init.parameters);
    const tracker = participationTracker({ participationStep: init.parameters.participationStep });
    const rounds: ScenarioRound[] = [];
    let acknowledgements: NodeId[] = [];
    for (let round = 1; round <= init.rounds; round++) {
      const trade = cluster.propose(init.script.entry(round, init.leader, acknowledgements));
      acknowledgements = trade.quorum.map((ack) => ack.id);
      tracker.record({ acks: trade.quorum });
      let epochMs = 0;
      let epochMessages = 0;
      if (policy === 'weighted' && round % init.epoch === 0) {
        const core = cluster.core(init.leader);
        const scores =
          init.scoring === 'latency'
            ? strategy.score(measuredScoreInputs({ voters: core.config.incoming.voters, participation: tracker.participation(), round, epoch: round / init.epoch }))
            : strategy.score(cluster.replica(init.leader).market().scoreInputs());
        let target: ReturnType<typeof planWeightEpoch>;
        try {
          target = planWeightEpoch(core.config, scores, { tolerateFailures: init.tolerateFailures });
        } catch (error) {
          // No weights satisfy the guard for these scores: keep the current ones.
          if (!(error instanceof ConfigurationError)) throw error;
        }
        if (target !== undefined) {
          const change = cluster.changeWeights(target);
          epochMs = change.ms;
          epochMessages = change.messages;
        }
      }
      if (init.observe !== undefined && init.scoring === 'paper') init.observe(round, cluster.replica(init.leader).market());
      rounds.push({
        round,
        consensusMs: trade.ms,
        intermediate: trade.quorum.at(-1)?.id ?? init.leader,
        quorumSize: trade.quorum.length,
        messages: trade.messages,
        epochMs,
        epochMessages,
      });
      init.onRound?.();
    }
    const refused = init.scoring === 'paper' ? cluster.replica(init.leader).refused : [];
    return { rounds, weights: new Map(cluster.core(init.leader).config.incoming.voters), refused: [...refused] };
  } finally {
    cluster.close();
  }
}
