import {
  AbortError,
  ConfigurationError,
  GreenraftError,
  InvalidArgumentError,
  NotLeaderError,
  StoppedError,
  configuration,
  configurationToJSON,
  validateConfiguration,
} from '@greenraft/consensus';
import type {
  ClusterConfig,
  Configuration,
  ConsensusEvents,
  ConsensusNode,
  Index,
  NodeId,
  NodeStatus,
  OperationOptions,
  ProposeResult,
  Role,
  StateMachine,
  Term,
} from '@greenraft/consensus';
import { createRaftNode } from '@greenraft/raft';
import type { RaftNode, RaftNodeInit } from '@greenraft/raft';
import { paperScoring, ScoringError, voteTimeoutRank } from '@greenraft/weight-scoring';
import type { NodeScoreInput, ScoringStrategy } from '@greenraft/weight-scoring';
import { EventEmitter } from 'eventemitter3';
import { participationTracker } from './participation.js';
import type { NodeParticipation, ParticipationTracker, ParticipationTrackerInit } from './participation.js';
import { rankElectionTimeout, resolveRankTimeout, weightRank } from './rank-timeout.js';
import type { ScoreInputsContext } from './score-inputs.js';
import { satisfiesFaultToleranceGuard } from '@greenraft/weight-scoring';
import { guardedVoteWeights, integerOption, planWeightEpoch, resolveWeightPlan } from './weight-plan.js';
import type { ResolvedWeightPlan } from './weight-plan.js';

/**
 * The founding vote weights: integers per voter, or the inputs of the scores they are computed
 * from (with the node's `scoring` strategy and the fault-tolerance guard). Every founding node
 * must be given the same weights (or the same inputs).
 */
export type InitialWeights =
  | ReadonlyMap<NodeId, number>
  | Readonly<Record<NodeId, number>>
  | { readonly inputs: readonly NodeScoreInput[] };

/** Why a weight epoch did not change the weights. */
export type WeightEpochFailure =
  /** This node is not (or no longer) the leader: only the leader proposes weights. */
  | 'notLeader'
  /** A configuration change or another epoch is still in flight: one change at a time. */
  | 'changeInFlight'
  /** `scoreInputs` or the scoring strategy failed, or no weights satisfy the guard. */
  | 'scoring'
  /** The configuration change was proposed but did not complete (dropped, timed out, aborted). */
  | 'proposal'
  /** The node stopped. */
  | 'stopped';

/** What started a weight epoch: the `epoch` schedule, or a call to `applyWeights()`. */
export type WeightEpochTrigger = 'schedule' | 'demand';

/** The `weightEpoch` event: the leader scored the voters and planned new weights. */
export interface WeightEpochEvent {
  /** This node's epoch counter (1 for its first epoch). */
  readonly epoch: number;
  /** Commit rounds counted by this node when the epoch ran. */
  readonly round: number;
  readonly trigger: WeightEpochTrigger;
  /** The scoring strategy's name. */
  readonly strategy: string;
  /** The voters' scores, in [0, 100]. */
  readonly scores: ReadonlyMap<NodeId, number>;
  /** The configuration to move to by joint consensus, or `undefined` when the weights stay as they are. */
  readonly target: Configuration | undefined;
}

/** The `weightEpochFailed` event: an epoch changed nothing; a scheduled one is retried at the next epoch. */
export interface WeightEpochFailedEvent {
  readonly epoch: number;
  readonly round: number;
  readonly trigger: WeightEpochTrigger;
  readonly reason: WeightEpochFailure;
  /** The underlying error (NotLeaderError, ConfigurationError, TimeoutError, ...). */
  readonly error: Error;
}

/** The `weightsChange` event: the voters' weights in effect changed (a C(new) entry was appended, or rolled back). */
export interface WeightsChangeEvent {
  /** The index of the configuration entry that set the new weights. */
  readonly index: Index;
  readonly weights: ReadonlyMap<NodeId, number>;
  readonly previous: ReadonlyMap<NodeId, number>;
  readonly config: ClusterConfig;
}

/** The `leaderHandover` event: the leader hands leadership to a heavier, caught-up voter. */
export interface LeaderHandoverEvent {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** The events of a weighted node: those of every {@link ConsensusNode}, plus weight epochs and handovers. */
export interface WeightedRaftEvents<Result = unknown> extends ConsensusEvents<Result> {
  /** On every node: the weights in effect changed. */
  weightsChange: (event: WeightsChangeEvent) => void;
  /** On the leader: an epoch scored the voters (and proposed `target` if it is set). */
  weightEpoch: (event: WeightEpochEvent) => void;
  /**
   * On the leader (or a node that thought it was): an epoch changed nothing, and why. A scheduled
   * epoch reports its failure only here, never by throwing; `applyWeights()` also rejects.
   */
  weightEpochFailed: (event: WeightEpochFailedEvent) => void;
  /** On the leader, with `preferredLeader`: it asked a heavier voter to take over. */
  leaderHandover: (event: LeaderHandoverEvent) => void;
}

/** What {@link WeightedRaftNode.applyWeights} did. */
export interface WeightEpochOutcome {
  /** True when new weights were committed by joint consensus. */
  readonly changed: boolean;
  /** The voters' scores the epoch computed. */
  readonly scores: ReadonlyMap<NodeId, number>;
  /** The configuration in effect afterwards. */
  readonly config: ClusterConfig;
}

/** Eq. 7's parameters: timeout = base + step · rank (+ jitter), in milliseconds. */
export interface WeightedElectionTimeout {
  /** @default 100 */
  baseMs?: number;
  /** @default 5 */
  stepMs?: number;
  /** @default 0 */
  jitterMs?: number;
}

/** Options of {@link createWeightedRaftNode}: everything `createRaftNode` takes, plus the weighted parts. */
export interface WeightedRaftNodeInit<Result = unknown> extends Omit<RaftNodeInit<Result>, 'policy'> {
  /** The replicated state machine committed entries are applied to (its results type the node's). */
  stateMachine: StateMachine<Result>;
  /**
   * The founding configuration of a brand-new cluster (same on every founding node). Its weights
   * are replaced by `weights` when that is given. Omit both on a node that joins an existing cluster.
   * @default the voters of `weights`, or undefined (join an existing cluster)
   */
  bootstrap?: Configuration;
  /**
   * The founding vote weights: integers, or `{ inputs }` scored by `scoring` and turned into weights
   * with the guard. Must name exactly the voters of `bootstrap` when both are given. The founding
   * weights must satisfy the fault-tolerance guard for `tolerateFailures`.
   * @default the weights of `bootstrap`
   */
  weights?: InitialWeights;
  /**
   * How the leader scores voters at each epoch (and founding `{ inputs }`).
   * @default paperScoring()
   */
  scoring?: ScoringStrategy;
  /**
   * Where the leader gets the inputs of the scores at each epoch: typically read from a
   * replicated power-market state machine, or {@link measuredScoreInputs} for the leader's own
   * measurements. Inputs should come from replicated state so that any leader scores alike, but
   * safety never depends on them: weights only change through the log, by joint consensus.
   * Without it, epochs have nothing to score and do not run.
   * @default undefined (no epochs)
   */
  scoreInputs?: (context: ScoreInputsContext) => readonly NodeScoreInput[] | Promise<readonly NodeScoreInput[]>;
  /**
   * Apply new weights every `epoch` commit rounds (a round: a commit quorum over user entries), as
   * the paper does after each round; 0 applies them only on {@link WeightedRaftNode.applyWeights}.
   * @default 1
   */
  epoch?: number;
  /**
   * f: computed weights keep the f heaviest voters strictly below half the total, so any f
   * crashed voters never block the cluster and no node alone is a quorum.
   * @default 1
   */
  tolerateFailures?: number;
  /**
   * Integer weight units for a score of 100 (`resolution` of `toVoteWeights`).
   * @default 100
   */
  weightResolution?: number;
  /**
   * The smallest weight a voter gets from its score.
   * @default 1
   */
  minWeight?: number;
  /**
   * The rank-based election timeout of eq. 7.
   * @default { baseMs: 100, stepMs: 5, jitterMs: 0 }
   */
  electionTimeout?: WeightedElectionTimeout;
  /**
   * Milliseconds per core tick.
   * @default 5
   */
  tickMs?: number;
  /**
   * The leader's check-quorum and leadership-transfer window, in ticks.
   * @default ceil(electionTimeout.baseMs / tickMs)
   */
  electionTicks?: number;
  /**
   * Ticks between leader heartbeats.
   * @default max(1, floor(electionTicks / 10))
   */
  heartbeatTicks?: number;
  /**
   * When true, a leader hands leadership to the heaviest voter once that voter is caught up
   * (its match index equals the leader's last index), at most once per weight epoch, never to
   * itself and only to a strictly heavier voter, so heavier nodes lead more often. Proposals
   * pause during a handover.
   * @default false
   */
  preferredLeader?: boolean;
  /**
   * How the leader turns commit quorums into participation figures (eq. 19).
   * @default {} (ω = 1, followers' replies only, latency smoothing 0.2)
   */
  participation?: ParticipationTrackerInit;
}

/**
 * A running weighted Raft node: a {@link ConsensusNode} on the same engine as classic Raft, with
 * rank-based election timeouts, weight epochs applied by joint consensus, participation tracking
 * and an optional preferred leader. Create it with {@link createWeightedRaftNode}.
 */
export interface WeightedRaftNode<Result = unknown> extends ConsensusNode<Result> {
  /**
   * Runs a weight epoch now, on the leader: scores the voters from `scoreInputs`, plans integer
   * weights with the guard and, if they differ, moves to them by joint consensus. Resolves once
   * C(new) is applied here (or at once when nothing changes). Epochs run one at a time: a call
   * waits for the epoch in progress.
   *
   * @throws NotLeaderError on a follower; ConfigurationError when no `scoreInputs` is set, a
   * change is in flight or no weights satisfy the guard; InvalidArgumentError when the inputs or
   * scores are invalid; ProposalDroppedError, TimeoutError, AbortError, StoppedError.
   */
  applyWeights(options?: OperationOptions): Promise<WeightEpochOutcome>;
  /** What this node measured while leading: per node, eq. 19 participation, quorum positions, latency. */
  participation(): Map<NodeId, NodeParticipation>;
  /** The voters' weights of the configuration in effect (its incoming half while joint). */
  voteWeights(): ReadonlyMap<NodeId, number>;
  /** This node's n_i of eq. 7 under the configuration in effect (1 = heaviest). */
  electionRank(): number;
  on<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E]): this;
  off<E extends keyof WeightedRaftEvents<Result>>(event: E, listener?: WeightedRaftEvents<Result>[E]): this;
  once<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E]): this;
}

const FORWARDED_EVENTS: readonly (keyof ConsensusEvents)[] = [
  'stateChange',
  'leaderChange',
  'commit',
  'apply',
  'commitQuorum',
  'configChange',
  'snapshot',
  'error',
];

type Listener = (...args: unknown[]) => void;

/** An epoch that changed nothing, with the reason reported in `weightEpochFailed`. */
class EpochFailure {
  constructor(
    readonly reason: WeightEpochFailure,
    readonly error: Error,
  ) {}
}

function asGreenraftError(error: unknown, what: string): Error {
  // A ScoringError is a GreenraftError too, but applyWeights promises InvalidArgumentError for bad scores.
  if (error instanceof GreenraftError && !(error instanceof ScoringError)) return error;
  return new InvalidArgumentError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function sameWeights(a: ReadonlyMap<NodeId, number>, b: ReadonlyMap<NodeId, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, weight] of a) if (b.get(id) !== weight) return false;
  return true;
}

/** The founding configuration: `bootstrap` with `weights` applied, checked against the guard. */
function foundingConfiguration(
  bootstrap: Configuration | undefined,
  weights: InitialWeights | undefined,
  scoring: ScoringStrategy,
  plan: ResolvedWeightPlan,
): Configuration | undefined {
  if (bootstrap !== undefined) validateConfiguration(bootstrap);
  let founding = bootstrap;
  if (weights !== undefined) {
    let voters: Map<NodeId, number>;
    if (weights instanceof Map) voters = new Map(weights);
    else if ('inputs' in weights && Array.isArray(weights.inputs)) {
      let scores: Map<NodeId, number>;
      try {
        scores = scoring.score(weights.inputs as readonly NodeScoreInput[]);
      } catch (error) {
        throw asGreenraftError(error, 'the initial score inputs were rejected');
      }
      voters = guardedVoteWeights(scores, plan);
    } else voters = new Map(Object.entries(weights as Readonly<Record<NodeId, number>>));
    if (bootstrap !== undefined) {
      const expected = [...bootstrap.voters.keys()].sort().join(',');
      const given = [...voters.keys()].sort().join(',');
      if (expected !== given) throw new ConfigurationError(`weights name voters ${given} but bootstrap has voters ${expected}`);
    }
    founding = configuration(voters, bootstrap?.learners ?? []);
  }
  if (founding !== undefined && !satisfiesFaultToleranceGuard(founding.voters, plan.tolerateFailures)) {
    throw new ConfigurationError(
      `the founding weights ${JSON.stringify(configurationToJSON(founding).voters)} break the fault-tolerance guard: ` +
        `the ${plan.tolerateFailures} heaviest voter(s) must weigh less than half the total (lower tolerateFailures for a smaller cluster)`,
    );
  }
  return founding;
}

class WeightedRaftNodeImpl<Result> implements WeightedRaftNode<Result> {
  readonly id: NodeId;
  readonly #inner: RaftNode<Result>;
  readonly #events = new EventEmitter();
  readonly #scoring: ScoringStrategy;
  readonly #scoreInputs: WeightedRaftNodeInit<Result>['scoreInputs'];
  readonly #epochRounds: number;
  readonly #plan: ResolvedWeightPlan;
  readonly #preferredLeader: boolean;
  readonly #handoverCheckMs: number;
  readonly #tracker: ParticipationTracker;

  #role: Role = 'follower';
  #weights: ReadonlyMap<NodeId, number>;
  #stopped = false;
  #userEntriesSinceQuorum = false;
  #roundsSinceEpoch = 0;
  #epochs = 0;
  #epochRunning = false;
  #epochQueue: Promise<unknown> = Promise.resolve();
  #handoverEpoch: string | undefined;
  /** The voters' configuration the two fields below were derived from (the core keeps one object per configuration). */
  #handoverConfig: Configuration | undefined;
  /** The weight epoch's key: its voters and weights, as JSON. */
  #handoverKey = '';
  /** The heaviest voter (rank 1) when it is strictly heavier than this node, else undefined. */
  #handoverCandidate: NodeId | undefined;
  #handoverTimer: ReturnType<typeof setInterval> | undefined;

  constructor(init: WeightedRaftNodeInit<Result>) {
    const {
      weights,
      scoring,
      scoreInputs,
      epoch,
      tolerateFailures,
      weightResolution,
      minWeight,
      electionTimeout,
      preferredLeader,
      participation,
      bootstrap,
      ...raftInit
    } = init;
    const tickMs = init.tickMs ?? 5;
    const timeout = resolveRankTimeout({ ...electionTimeout, tickMs });
    this.#plan = resolveWeightPlan({ tolerateFailures, resolution: weightResolution, minWeight });
    this.#epochRounds = integerOption('epoch', epoch ?? 1, 0);
    if (scoreInputs !== undefined && typeof scoreInputs !== 'function') throw new InvalidArgumentError('scoreInputs must be a function');
    this.#scoring = scoring ?? paperScoring();
    if (typeof this.#scoring?.score !== 'function') throw new InvalidArgumentError('scoring must be a ScoringStrategy with a score function');
    this.#scoreInputs = scoreInputs;
    this.#preferredLeader = preferredLeader ?? false;
    this.#tracker = participationTracker(participation);
    const founding = foundingConfiguration(bootstrap, weights, this.#scoring, this.#plan);
    const electionTicks = integerOption('electionTicks', init.electionTicks ?? Math.max(2, Math.ceil(timeout.baseMs / tickMs)), 2);
    const heartbeatTicks = init.heartbeatTicks ?? Math.max(1, Math.floor(electionTicks / 10));
    this.#handoverCheckMs = tickMs * heartbeatTicks * 2;
    this.#inner = createRaftNode<Result>({
      ...raftInit,
      tickMs,
      electionTicks,
      heartbeatTicks,
      bootstrap: founding,
      policy: rankElectionTimeout({ ...timeout }),
    });
    this.id = this.#inner.id;
    this.#weights = founding?.voters ?? new Map();
    for (const event of FORWARDED_EVENTS) {
      this.#inner.on(event, (...args: unknown[]) => this.#events.emit(event, ...args));
    }
    this.#inner.on('stateChange', ({ to }) => this.#onRole(to));
    this.#inner.on('apply', () => {
      if (this.#role === 'leader') this.#userEntriesSinceQuorum = true;
    });
    this.#inner.on('commitQuorum', (quorum) => this.#onCommitQuorum(quorum));
    this.#inner.on('configChange', ({ index, config }) => this.#onConfigChange(index, config));
  }

  // ------------------------------------------------------------------ ConsensusNode

  async start(): Promise<void> {
    await this.#inner.start();
    this.#weights = this.#inner.status().config.incoming.voters;
    if (this.#preferredLeader && this.#handoverTimer === undefined && !this.#stopped) {
      // Catch-up is only visible in the leader's progress: look again every few heartbeats.
      this.#handoverTimer = setInterval(() => this.#maybeHandOver(), this.#handoverCheckMs);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#handoverTimer);
    this.#handoverTimer = undefined;
    await this.#inner.stop();
  }

  propose(data: Uint8Array, options?: OperationOptions): Promise<ProposeResult<Result>> {
    return this.#inner.propose(data, options);
  }

  readBarrier(options?: OperationOptions): Promise<Index> {
    return this.#inner.readBarrier(options);
  }

  changeConfiguration(target: Configuration, options?: OperationOptions): Promise<ClusterConfig> {
    return this.#inner.changeConfiguration(target, options);
  }

  transferLeadership(to: NodeId, options?: OperationOptions): Promise<void> {
    return this.#inner.transferLeadership(to, options);
  }

  status(): NodeStatus {
    return this.#inner.status();
  }

  on<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E]): this {
    this.#events.on(event, listener as unknown as Listener);
    return this;
  }

  off<E extends keyof WeightedRaftEvents<Result>>(event: E, listener?: WeightedRaftEvents<Result>[E]): this {
    this.#events.off(event, listener as unknown as Listener | undefined);
    return this;
  }

  once<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E]): this {
    this.#events.once(event, listener as unknown as Listener);
    return this;
  }

  // ------------------------------------------------------------------ weighted

  applyWeights(options: OperationOptions = {}): Promise<WeightEpochOutcome> {
    if (options.signal?.aborted === true) {
      return Promise.reject(new AbortError('the weight epoch was aborted before it started', { cause: options.signal.reason }));
    }
    const run = this.#epochQueue.then(() => this.#runEpoch('demand', options));
    this.#epochQueue = run.catch(() => undefined);
    return run;
  }

  participation(): Map<NodeId, NodeParticipation> {
    return this.#tracker.participation();
  }

  voteWeights(): ReadonlyMap<NodeId, number> {
    return this.#inner.status().config.incoming.voters;
  }

  electionRank(): number {
    return weightRank(this.#inner.status().config, this.id);
  }

  // ------------------------------------------------------------------ internals

  #emit<E extends keyof WeightedRaftEvents<Result>>(event: E, payload: Parameters<WeightedRaftEvents<Result>[E]>[0]): void {
    this.#events.emit(event, payload);
  }

  #onRole(role: Role): void {
    this.#role = role;
    if (role !== 'leader') {
      this.#userEntriesSinceQuorum = false;
      this.#roundsSinceEpoch = 0;
    }
  }

  #onCommitQuorum(quorum: Parameters<ConsensusEvents['commitQuorum']>[0]): void {
    // A round is a quorum that committed user entries: the no-op and configuration entries do not
    // count, so a weight change never triggers the next one by itself.
    if (this.#userEntriesSinceQuorum) {
      this.#userEntriesSinceQuorum = false;
      this.#tracker.record(quorum);
      this.#roundsSinceEpoch++;
      if (this.#epochRounds > 0 && this.#scoreInputs !== undefined && this.#roundsSinceEpoch >= this.#epochRounds) {
        this.#roundsSinceEpoch = 0;
        this.#scheduleEpoch();
      }
    }
    this.#maybeHandOver();
  }

  #onConfigChange(index: Index, config: ClusterConfig): void {
    // The weights of a change count once C(new) alone is in effect; the joint phase is a passage.
    if (config.outgoing !== undefined) return;
    const previous = this.#weights;
    if (sameWeights(previous, config.incoming.voters)) return;
    this.#weights = config.incoming.voters;
    this.#emit('weightsChange', { index, weights: config.incoming.voters, previous, config });
    this.#maybeHandOver();
  }

  #scheduleEpoch(): void {
    if (this.#epochRunning) {
      this.#reportFailure(++this.#epochs, 'schedule', new EpochFailure('changeInFlight', new ConfigurationError('the previous weight epoch is still in progress')));
      return;
    }
    const run = this.#epochQueue.then(() => this.#runEpoch('schedule', {}));
    // A scheduled epoch's failures are reported by event only, never thrown.
    this.#epochQueue = run.catch(() => undefined);
  }

  async #runEpoch(trigger: WeightEpochTrigger, options: OperationOptions): Promise<WeightEpochOutcome> {
    const epoch = ++this.#epochs;
    this.#epochRunning = true;
    try {
      return await this.#epochSteps(epoch, trigger, options);
    } catch (caught) {
      const failure = caught instanceof EpochFailure ? caught : new EpochFailure('proposal', asGreenraftError(caught, 'the weight epoch failed'));
      this.#reportFailure(epoch, trigger, failure);
      throw failure.error;
    } finally {
      this.#epochRunning = false;
    }
  }

  /** The leader's checks, repeated after every wait: leadership may have moved meanwhile. */
  #leaderConfig(): ClusterConfig {
    if (this.#stopped) throw new EpochFailure('stopped', new StoppedError());
    const status = this.#inner.status();
    if (status.role !== 'leader') throw new EpochFailure('notLeader', new NotLeaderError(status.leader));
    if (status.config.outgoing !== undefined) {
      throw new EpochFailure('changeInFlight', new ConfigurationError('a configuration change is still in progress'));
    }
    return status.config;
  }

  async #epochSteps(epoch: number, trigger: WeightEpochTrigger, options: OperationOptions): Promise<WeightEpochOutcome> {
    const round = this.#tracker.rounds;
    if (options.signal?.aborted === true) {
      throw new EpochFailure('proposal', new AbortError('the weight epoch was aborted', { cause: options.signal.reason }));
    }
    let config = this.#leaderConfig();
    const scoreInputs = this.#scoreInputs;
    if (scoreInputs === undefined) {
      throw new EpochFailure('scoring', new ConfigurationError('no scoreInputs were given: there is nothing to score the voters from'));
    }
    let scores: Map<NodeId, number>;
    try {
      const inputs = await scoreInputs({ voters: config.incoming.voters, participation: this.#tracker.participation(), round, epoch });
      scores = this.#scoring.score(inputs);
    } catch (error) {
      throw new EpochFailure('scoring', asGreenraftError(error, `scoring with ${this.#scoring.name} failed`));
    }
    config = this.#leaderConfig();
    let target: Configuration | undefined;
    try {
      target = planWeightEpoch(config, scores, this.#plan);
    } catch (error) {
      throw new EpochFailure('scoring', asGreenraftError(error, 'planning the weights failed'));
    }
    this.#emit('weightEpoch', { epoch, round, trigger, strategy: this.#scoring.name, scores, target });
    if (target === undefined) return { changed: false, scores, config };
    try {
      const final = await this.#inner.changeConfiguration(target, options);
      return { changed: true, scores, config: final };
    } catch (error) {
      const reason: WeightEpochFailure =
        error instanceof NotLeaderError ? 'notLeader' : error instanceof ConfigurationError ? 'changeInFlight' : error instanceof StoppedError ? 'stopped' : 'proposal';
      throw new EpochFailure(reason, asGreenraftError(error, 'the weight change failed'));
    }
  }

  #reportFailure(epoch: number, trigger: WeightEpochTrigger, failure: EpochFailure): void {
    this.#emit('weightEpochFailed', { epoch, round: this.#tracker.rounds, trigger, reason: failure.reason, error: failure.error });
  }

  /** Preferred leader: hand over to the heaviest voter once it is caught up, at most once per weight epoch. */
  #maybeHandOver(): void {
    if (!this.#preferredLeader || this.#stopped || this.#role !== 'leader') return;
    const status = this.#inner.status();
    if (status.role !== 'leader' || status.config.outgoing !== undefined) return;
    const incoming = status.config.incoming;
    if (incoming !== this.#handoverConfig) {
      // Called on every commit quorum: rank the voters once per configuration, not per call.
      const voters = incoming.voters;
      let heaviest: NodeId | undefined;
      for (const [id, rank] of voteTimeoutRank(voters)) if (rank === 1) heaviest = id;
      this.#handoverConfig = incoming;
      this.#handoverKey = JSON.stringify(configurationToJSON(incoming).voters);
      // Only a strictly heavier voter: an equal weight that merely wins the id tie-break gains nothing.
      this.#handoverCandidate =
        heaviest !== undefined && heaviest !== this.id && (voters.get(heaviest) ?? 0) > (voters.get(this.id) ?? 0) ? heaviest : undefined;
    }
    const epochKey = this.#handoverKey;
    if (this.#handoverEpoch === epochKey) return;
    const heaviest = this.#handoverCandidate;
    if (heaviest === undefined) return;
    if (status.progress?.get(heaviest)?.match !== status.lastIndex) return;
    this.#handoverEpoch = epochKey;
    this.#emit('leaderHandover', { from: this.id, to: heaviest, term: status.term });
    // The outcome shows in leaderChange; a handover that fails is not retried in this epoch.
    this.#inner.transferLeadership(heaviest).catch(() => undefined);
  }
}

/**
 * Creates a weighted Raft node: the same engine as classic Raft (`createRaftNode` from
 * `@greenraft/raft`) with the paper's rank-based election timeouts (eq. 7), quorums weighted by
 * the configuration, weight epochs that the leader computes from `scoreInputs` with a
 * `ScoringStrategy` and applies by joint consensus, participation tracking from commit quorums
 * (eq. 19), and an optional preferred leader. Call `start()` to run it.
 *
 * Only the leader proposes weights, and only through the log: followers never change weights
 * locally, so two nodes never count votes with different weight vectors outside joint consensus.
 *
 * @throws ConfigurationError when the founding weights break the fault-tolerance guard or do not
 * match `bootstrap`; InvalidArgumentError for any other invalid option.
 *
 * @example
 * ```ts
 * import { memoryStorage } from '@greenraft/raft';
 * import { memoryNetwork } from '@greenraft/transport-memory';
 * import { createWeightedRaftNode, measuredScoreInputs } from '@greenraft/weighted-raft';
 * import { latencyScoring } from '@greenraft/weight-scoring';
 *
 * const network = memoryNetwork();
 * const node = createWeightedRaftNode({
 *   id: 'a',
 *   transport: network.transport('a'),
 *   storage: memoryStorage(),
 *   stateMachine: { apply: ({ data }) => data.length, snapshot: () => new Uint8Array(), restore() {} },
 *   weights: { a: 3, b: 2, c: 2 },       // founding voters and weights
 *   scoring: latencyScoring(),            // faster acknowledgers weigh more
 *   scoreInputs: measuredScoreInputs,     // from the leader's own measurements
 * });
 * await node.start();
 * ```
 */
export function createWeightedRaftNode<Result = unknown>(init: WeightedRaftNodeInit<Result>): WeightedRaftNode<Result> {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('createWeightedRaftNode needs an options object');
  return new WeightedRaftNodeImpl<Result>(init);
}
