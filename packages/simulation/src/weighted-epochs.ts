import {
  type Configuration,
  ConfigurationError,
  InvalidArgumentError,
  type NodeId,
  NotLeaderError,
  ProposalDroppedError,
  configuration,
} from '@greenraft/consensus';
import type { RaftCore, RaftPolicy, Ready } from '@greenraft/raft';
import { type ScoringStrategy, latencyScoring, paperScoring, uniformScoring } from '@greenraft/weight-scoring';
import {
  type ParticipationTracker,
  type WeightEpochScheduler,
  measuredScoreInputs,
  participationTracker,
  planWeightEpoch,
  rankElectionTimeout,
  weightEpochScheduler,
} from '@greenraft/weighted-raft';
import { type SimulatedPowerMarket, generatedPowerMarket } from './weighted-market.js';

/** How the simulated cluster counts votes: every weight 1, or weights from a scoring strategy. */
export type SimulationPolicy = 'classic' | 'weighted';

/** The weight-scoring strategies `greenraft sim --scoring` offers. */
export type SimulationScoring = 'paper' | 'uniform' | 'latency';

/** Every {@link SimulationPolicy}, for CLIs. */
export const SIMULATION_POLICIES: readonly SimulationPolicy[] = ['classic', 'weighted'];
/** Every {@link SimulationScoring}, for CLIs. */
export const SIMULATION_SCORINGS: readonly SimulationScoring[] = ['paper', 'uniform', 'latency'];

/** What the weighted policy of a run needs, every default filled in. */
export interface WeightEpochsInit {
  /** The founding voters. */
  readonly voters: readonly NodeId[];
  /** Every node that may ever vote (founders and spares): each gets a score at every epoch. */
  readonly nodes: readonly NodeId[];
  /** Seeds the simulated power market. */
  readonly seed: number;
  readonly scoring: SimulationScoring | ScoringStrategy;
  /** Commit rounds between two weight epochs (a round as {@link weightEpochScheduler} counts it). */
  readonly epoch: number;
  readonly electionTimeout: 'rank' | 'randomized';
  readonly electionTicks: number;
  readonly tickMs: number;
}

/**
 * Checks a scoring option: one of {@link SIMULATION_SCORINGS}, or a `ScoringStrategy` object
 * (in-process runs only: a strategy cannot cross to a worker thread).
 */
export function checkScoring(value: unknown): SimulationScoring | ScoringStrategy {
  if (typeof value === 'string' && (SIMULATION_SCORINGS as readonly string[]).includes(value)) return value as SimulationScoring;
  if (typeof value === 'object' && value !== null && typeof (value as ScoringStrategy).score === 'function') return value as ScoringStrategy;
  throw new InvalidArgumentError(`scoring must be one of ${SIMULATION_SCORINGS.join(', ')} or a ScoringStrategy, got ${String(value)}`);
}

/**
 * Weighted Raft in the simulator: vote weights from a scoring strategy, rank election timeouts
 * (eq. 7), and weight epochs that the leader proposes through the log by joint consensus, on the
 * same schedule as the weighted node (`weightEpochScheduler` of `@greenraft/weighted-raft`): every
 * `epoch` commit rounds of a leadership, an epoch skipped while a change is in flight stays due.
 *
 * The power market it scores is one object per run standing for replicated market state: every
 * leader reads the same figures. Latency scores come from the acknowledgement latencies the
 * current leader measured from its own `Ready.commitQuorums` (eq. 19's tracker), reset when the
 * leadership changes. Nothing here draws from the run's other random streams, so a run whose
 * weights never change is step for step the classic run.
 */
export class WeightEpochs {
  private readonly strategy: ScoringStrategy;
  private readonly market: SimulatedPowerMarket;
  /** Each node's own schedule and measurements, as every weighted node keeps its own. */
  private readonly leaders = new Map<NodeId, { key: string | undefined; schedule: WeightEpochScheduler; tracker: ParticipationTracker }>();
  /** The node whose measurements latency scores come from: the last one that led. */
  private lastTracker: ParticipationTracker = participationTracker();
  /** Scores computed for an epoch that could not be proposed yet (a change in flight): retried. */
  private pendingScores: Map<NodeId, number> | undefined;
  private epochNumber = 0;
  private proposedChanges = 0;

  constructor(private readonly init: WeightEpochsInit) {
    const scoring = init.scoring;
    this.strategy =
      typeof scoring !== 'string' ? scoring : scoring === 'paper' ? paperScoring() : scoring === 'latency' ? latencyScoring() : uniformScoring();
    this.market = generatedPowerMarket(init.nodes, init.seed);
  }

  /** Weight changes proposed so far (each a C(old,new) appended by a leader). */
  get proposed(): number {
    return this.proposedChanges;
  }

  /** The founding configuration: the strategy's weights after the market's first round (every weight 1 without a difference). */
  bootstrap(): Configuration {
    const classic = configuration(this.init.voters);
    // Latency is measured from commit quorums: before the first one there is nothing to rank by.
    if (this.init.scoring === 'latency') return classic;
    const target = planWeightEpoch({ incoming: classic }, this.scores());
    return target ?? classic;
  }

  /** The election-timeout policy of every core: eq. 7 ranks, one tick per rank, or Raft's randomized timeout. */
  policy(): RaftPolicy | undefined {
    if (this.init.electionTimeout === 'randomized') return undefined;
    // eq. 7 with the run's scale: base = one election timeout, one tick per rank, so ranks never tie.
    return rankElectionTimeout({ baseMs: this.init.electionTicks * this.init.tickMs, stepMs: this.init.tickMs, tickMs: this.init.tickMs });
  }

  /**
   * Called after the driver handled one Ready of `core` (`id`): on the leader, counts the commit
   * rounds, measures their quorums and, when an epoch is due, proposes the planned weights by
   * joint consensus. Returns true when it appended a configuration entry.
   */
  afterReady(id: NodeId, core: RaftCore, rd: Ready): boolean {
    let node = this.leaders.get(id);
    if (node === undefined) this.leaders.set(id, (node = { key: undefined, schedule: weightEpochScheduler({ epoch: this.init.epoch }), tracker: participationTracker() }));
    const key = core.role === 'leader' ? `${id}@${core.term}` : undefined;
    if (key !== node.key) {
      node.key = key;
      node.schedule.leadership(key);
      if (key !== undefined) node.tracker.reset();
    }
    if (key === undefined) return false;
    this.lastTracker = node.tracker;
    const { schedule, tracker } = node;
    for (const entry of rd.committedEntries) if (entry.type === 'normal' && entry.data.byteLength > 0) schedule.committed(entry.index);
    for (const quorum of rd.commitQuorums) {
      if (!schedule.quorum(quorum.index)) continue;
      tracker.record({ acks: quorum.acks.map((ack) => ({ id: ack.id, latencyMs: (ack.tick - quorum.proposedTick) * this.init.tickMs })) });
    }
    // Skipped while a change is in flight: the epoch stays due and is tried after the next round.
    if (!schedule.due || core.config.outgoing !== undefined) return false;
    this.pendingScores ??= this.scores();
    let target: Configuration | undefined;
    try {
      target = planWeightEpoch(core.config, this.pendingScores);
    } catch (error) {
      // No weights satisfy the guard for these scores: skip this epoch.
      if (!(error instanceof ConfigurationError)) throw error;
    }
    if (target === undefined) {
      this.closeEpoch(schedule);
      return false;
    }
    try {
      core.proposeConfigChange(target);
    } catch (error) {
      // A change still uncommitted, or no entry of this term committed yet: retry after the next round.
      if (error instanceof ConfigurationError || error instanceof ProposalDroppedError || error instanceof NotLeaderError) return false;
      throw error;
    }
    this.proposedChanges++;
    this.closeEpoch(schedule);
    return true;
  }

  private closeEpoch(schedule: WeightEpochScheduler): void {
    schedule.ran();
    this.pendingScores = undefined;
  }

  /** The scores of the next epoch: a settled market round, or the leader's measurements. */
  private scores(): Map<NodeId, number> {
    this.epochNumber++;
    if (this.init.scoring === 'latency') {
      const voters = new Map(this.init.nodes.map((id) => [id, 1]));
      const tracker = this.lastTracker;
      return this.strategy.score(measuredScoreInputs({ voters, participation: tracker.participation(), round: tracker.rounds, epoch: this.epochNumber }));
    }
    return this.strategy.score(this.market.settleNextRound());
  }
}
