import {
  AbortError,
  ConfigurationError,
  GreenraftError,
  InvalidArgumentError,
  NotLeaderError,
  StoppedError,
  configuration,
  configurationToJSON,
  integerOption,
  rejectUnknownOptions,
  validateConfiguration,
} from '@greenraft/consensus';
import type {
  ClusterConfig,
  CommitQuorum,
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
import { createRaftNode, RAFT_NODE_OPTIONS } from '@greenraft/raft';
import type { RaftNode, RaftNodeInit } from '@greenraft/raft';
import {
  FaultToleranceError,
  ScoringError,
  capForFaultTolerance,
  defaultTolerateFailures,
  paperScoring,
  satisfiesFaultToleranceGuard,
  voteTimeoutRank,
} from '@greenraft/weight-scoring';
import type { NodeScoreInput, ScoringStrategy } from '@greenraft/weight-scoring';
import { EventEmitter } from 'eventemitter3';
import { type WeightEpochScheduler, weightEpochScheduler } from './epoch-scheduler.js';
import { participationTracker } from './participation.js';
import type { NodeParticipation, ParticipationTracker, ParticipationTrackerInit } from './participation.js';
import { rankElectionTimeout, resolveRankTimeout, weightRank } from './rank-timeout.js';
import type { ScoreInputsContext } from './score-inputs.js';
import { guardedVoteWeights, planWeightEpoch, resolveWeightPlan } from './weight-plan.js';
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

/** Why a weight epoch that ran failed. */
export type WeightEpochFailure =
  /** `scoreInputs` or the scoring strategy failed (inputs missing or invalid), or no weights satisfy the guard. */
  | 'scoring'
  /** The configuration change was proposed but did not complete (dropped, timed out, aborted, leadership lost, node stopped). */
  | 'proposal';

/** Why a weight epoch did not run: nothing was wrong, it was not its moment. */
export type WeightEpochSkipReason =
  /** A configuration change (an earlier epoch's or an operator's) is still in flight: one change at a time. */
  | 'changeInFlight'
  /** This node is not (or no longer) the leader: only the leader proposes weights. */
  | 'notLeader'
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

/** The `weightEpochSkipped` event: an epoch was due (or asked for) but could not run now; a scheduled one is tried again at the next round. */
export interface WeightEpochSkippedEvent {
  /** Commit rounds counted by this node when the epoch was skipped. */
  readonly round: number;
  readonly trigger: WeightEpochTrigger;
  readonly reason: WeightEpochSkipReason;
  /** What the node would have answered `applyWeights()` with (ConfigurationError, NotLeaderError, StoppedError). */
  readonly error: GreenraftError;
}

/** The `weightEpochFailed` event: an epoch ran and failed, changing nothing; a scheduled one is retried at the next epoch. */
export interface WeightEpochFailedEvent {
  readonly epoch: number;
  readonly round: number;
  readonly trigger: WeightEpochTrigger;
  readonly reason: WeightEpochFailure;
  /** The underlying error (InvalidArgumentError, ConfigurationError, TimeoutError, ProposalDroppedError, ...). */
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
   * On the leader (or a node that thought it was): an epoch was due or asked for but did not run,
   * and why (a change in flight, leadership moved, the node stopped). Not a failure: under load
   * with `epoch: 1`, most rounds end while the previous epoch's change is still committing.
   */
  weightEpochSkipped: (event: WeightEpochSkippedEvent) => void;
  /**
   * On the leader: an epoch ran and failed, and why (scoring or the proposal). A scheduled epoch
   * reports its failure only here, never by throwing; `applyWeights()` also rejects.
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
   * Apply new weights every `epoch` commit rounds, as the paper does after each round; 0 applies
   * them only on {@link WeightedRaftNode.applyWeights}. A round is a commit quorum that committed
   * client entries (see {@link weightEpochScheduler}); an epoch that falls due while a change is
   * still in flight is skipped (`weightEpochSkipped`) and tried again at the next round.
   * @default 1
   */
  epoch?: number;
  /**
   * f: weights (founding and computed) keep the f heaviest voters strictly below half the total,
   * so any f crashed voters never block the cluster and no f voters alone are a quorum. By
   * default it follows the cluster: ⌊(n − 1) / 2⌋ for n voters with a positive weight, the
   * failures classic Raft survives with n voters (1 of 3 or 4, 2 of 5 or 6, 3 of 7), so weighting
   * never makes a cluster less available than classic Raft. Set it lower to let weights differ
   * more (f = 1 on five voters lets two heavy voters hold most of the weight, and a cluster that
   * survives any one crash, not any two).
   * @default ⌊(n − 1) / 2⌋ of the configuration's n voters with a positive weight
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

/** The driver's options a weighted node does not take (the weighted policy fills `policy`), checked complete and exact by the compiler. */
const DRIVER_OPTIONS_NOT_TAKEN = { policy: true } satisfies Record<Exclude<keyof RaftNodeInit, keyof WeightedRaftNodeInit>, true>;

/** Every option of {@link WeightedRaftNodeInit}: the driver's less those it does not take, and its own, checked complete and exact by the compiler. */
const WEIGHTED_NODE_OPTIONS: readonly string[] = [
  ...RAFT_NODE_OPTIONS.filter((name) => !Object.hasOwn(DRIVER_OPTIONS_NOT_TAKEN, name)),
  ...Object.keys({
    weights: true,
    scoring: true,
    scoreInputs: true,
    epoch: true,
    tolerateFailures: true,
    weightResolution: true,
    minWeight: true,
    electionTimeout: true,
    preferredLeader: true,
    participation: true,
  } satisfies Record<Exclude<keyof WeightedRaftNodeInit, keyof RaftNodeInit>, true>),
];

const ELECTION_TIMEOUT_OPTIONS = Object.keys({ baseMs: true, stepMs: true, jitterMs: true } satisfies Record<keyof WeightedElectionTimeout, true>);

/** A skipped epoch, with the reason reported in `weightEpochSkipped`. */
class EpochSkip {
  constructor(
    readonly reason: WeightEpochSkipReason,
    readonly error: GreenraftError,
  ) {}
}

/** A failed epoch, with the reason reported in `weightEpochFailed`. */
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

function positiveVoters(weights: ReadonlyMap<NodeId, number>): number {
  let count = 0;
  for (const weight of weights.values()) if (weight > 0) count++;
  return count;
}

const weightsText = (weights: ReadonlyMap<NodeId, number>): string => JSON.stringify(Object.fromEntries(weights));

/**
 * Why `weights` break the guard for `failures`, and which weights to flatten: the f heaviest and
 * what they weigh, then the smallest flattening that satisfies it (`capForFaultTolerance`).
 */
function guardAdvice(weights: ReadonlyMap<NodeId, number>, failures: number, defaulted: boolean): string {
  const heaviest = [...voteTimeoutRank(weights)].filter(([, rank]) => rank <= failures).map(([id]) => id);
  let total = 0;
  for (const weight of weights.values()) total += weight;
  const heavy = heaviest.reduce((sum, id) => sum + (weights.get(id) ?? 0), 0);
  const f = `tolerateFailures ${failures}${defaulted ? ` (the default for ${positiveVoters(weights)} voters)` : ''}`;
  const who = heaviest.map((id) => `${id} (${weights.get(id)})`).join(', ');
  let flattened: Map<NodeId, number>;
  try {
    flattened = capForFaultTolerance(weights, failures);
  } catch (error) {
    if (!(error instanceof FaultToleranceError)) throw error;
    return `${f} needs at least ${2 * failures + 1} voters with a positive weight; these weights give ${positiveVoters(weights)} a positive weight`;
  }
  const lowered = [...weights.keys()].filter((id) => flattened.get(id) !== weights.get(id));
  const cap = Math.max(...flattened.values());
  return (
    `with ${f} the ${failures} heaviest voter(s), ${who}, must weigh less than half the total, but weigh ${heavy} of ${total}; ` +
    `flatten ${lowered.join(', ')} to at most ${cap}: ${weightsText(flattened)} keeps the guard`
  );
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
  if (founding !== undefined) {
    const failures = plan.tolerateFailures ?? defaultTolerateFailures(positiveVoters(founding.voters));
    if (!satisfiesFaultToleranceGuard(founding.voters, failures)) {
      throw new ConfigurationError(
        `the founding weights ${weightsText(founding.voters)} break the fault-tolerance guard: ` +
          guardAdvice(founding.voters, failures, plan.tolerateFailures === undefined),
      );
    }
  }
  return founding;
}

/**
 * A running weighted Raft node: a {@link ConsensusNode} on the same engine as classic Raft, with
 * rank-based election timeouts, weight epochs applied by joint consensus, participation tracking
 * and an optional preferred leader. It is an eventemitter3 `EventEmitter` of
 * {@link WeightedRaftEvents}. Create it with {@link createWeightedRaftNode}.
 *
 * @example
 * ```ts
 * import { type WeightedRaftNode, createWeightedRaftNode } from '@greenraft/weighted-raft';
 *
 * const node: WeightedRaftNode<number> = createWeightedRaftNode(init); // init as in createWeightedRaftNode's example
 * node.on('weightsChange', ({ weights, index }) => console.log(`weights at index ${index}:`, weights));
 * node.on('weightEpochSkipped', ({ reason }) => console.log('epoch skipped:', reason)); // e.g. changeInFlight
 * node.on('weightEpochFailed', ({ reason, error }) => console.error(`epoch failed (${reason}):`, error.message));
 * await node.start();
 * ```
 */
export class WeightedRaftNode<Result = unknown> extends EventEmitter<keyof WeightedRaftEvents> implements ConsensusNode<Result> {
  readonly id: NodeId;
  readonly #inner: RaftNode<Result>;
  readonly #scoring: ScoringStrategy;
  readonly #scoreInputs: WeightedRaftNodeInit<Result>['scoreInputs'];
  readonly #schedule: WeightEpochScheduler;
  readonly #plan: ResolvedWeightPlan;
  readonly #preferredLeader: boolean;
  readonly #handoverCheckMs: number;
  readonly #tracker: ParticipationTracker;

  #role: Role = 'follower';
  #weights: ReadonlyMap<NodeId, number>;
  #stopped = false;
  #epochs = 0;
  /** An epoch is queued or running: a due one waits for the next round (skipped, changeInFlight). */
  #epochBusy = false;
  #epochQueue: Promise<unknown> = Promise.resolve();
  #handoverEpoch: string | undefined;
  /** The voters' configuration the two fields below were derived from (the core keeps one object per configuration). */
  #handoverConfig: Configuration | undefined;
  /** The weight epoch's key: its voters and weights, as JSON. */
  #handoverKey = '';
  /** The heaviest voter (rank 1) when it is strictly heavier than this node, else undefined. */
  #handoverCandidate: NodeId | undefined;
  #handoverTimer: ReturnType<typeof setInterval> | undefined;

  /** Prefer {@link createWeightedRaftNode}; the options are the same. */
  constructor(init: WeightedRaftNodeInit<Result>) {
    super();
    if (init === null || typeof init !== 'object') throw new InvalidArgumentError('createWeightedRaftNode needs an options object');
    // Checked here, not by createRaftNode: `policy` is the engine's but not this node's (eq. 7 sets it).
    rejectUnknownOptions('createWeightedRaftNode', init, WEIGHTED_NODE_OPTIONS);
    if (init.electionTimeout !== undefined) {
      if (init.electionTimeout === null || typeof init.electionTimeout !== 'object') {
        throw new InvalidArgumentError('createWeightedRaftNode: electionTimeout must be an object');
      }
      rejectUnknownOptions('createWeightedRaftNode electionTimeout', init.electionTimeout, ELECTION_TIMEOUT_OPTIONS);
    }
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
    this.#schedule = weightEpochScheduler({ epoch: epoch ?? 1 });
    if (scoreInputs !== undefined && typeof scoreInputs !== 'function') throw new InvalidArgumentError('scoreInputs must be a function');
    this.#scoring = scoring ?? paperScoring();
    if (typeof this.#scoring?.score !== 'function') throw new InvalidArgumentError('scoring must be a ScoringStrategy with a score function');
    this.#scoreInputs = scoreInputs;
    this.#preferredLeader = preferredLeader ?? false;
    this.#tracker = participationTracker(participation);
    const founding = foundingConfiguration(bootstrap, weights, this.#scoring, this.#plan);
    const electionTicks = integerOption('electionTicks', init.electionTicks ?? Math.max(2, Math.ceil(timeout.baseMs / tickMs)), { min: 2 });
    const heartbeatTicks = init.heartbeatTicks ?? Math.max(1, Math.floor(electionTicks / 10));
    this.#handoverCheckMs = tickMs * heartbeatTicks * 2;
    const inner = createRaftNode<Result>({
      ...raftInit,
      tickMs,
      electionTicks,
      heartbeatTicks,
      bootstrap: founding,
      policy: rankElectionTimeout({ ...timeout }),
    });
    this.#inner = inner;
    this.id = inner.id;
    this.#weights = founding?.voters ?? new Map();
    // The engine's events, forwarded as they are; the weighted bookkeeping listens first.
    inner.on('stateChange', (event) => {
      this.#onRole(event.to, event.term);
      this.emit('stateChange', event);
    });
    inner.on('leaderChange', (event) => this.emit('leaderChange', event));
    inner.on('commit', (event) => this.emit('commit', event));
    // 'apply' fires once per entry: followed on the inner node only while it is needed (see #syncApply).
    this.#syncApply();
    inner.on('commitQuorum', (quorum) => {
      this.emit('commitQuorum', quorum);
      this.#onCommitQuorum(quorum);
    });
    inner.on('configChange', (event) => {
      this.emit('configChange', event);
      this.#onConfigChange(event.index, event.config);
    });
    inner.on('snapshot', (event) => this.emit('snapshot', event));
    inner.on('error', (error) => this.emit('error', error));
  }

  // ------------------------------------------------------------------ typed events

  override on<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E], context?: unknown): this {
    super.on(event, listener, context);
    if (event === 'apply') this.#syncApply();
    return this;
  }

  override addListener<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E], context?: unknown): this {
    super.addListener(event, listener, context);
    if (event === 'apply') this.#syncApply();
    return this;
  }

  override once<E extends keyof WeightedRaftEvents<Result>>(event: E, listener: WeightedRaftEvents<Result>[E], context?: unknown): this {
    super.once(event, listener, context);
    if (event === 'apply') this.#syncApply();
    return this;
  }

  override off<E extends keyof WeightedRaftEvents<Result>>(
    event: E,
    listener?: WeightedRaftEvents<Result>[E],
    context?: unknown,
    once?: boolean,
  ): this {
    super.off(event, listener, context, once);
    if (event === 'apply') this.#syncApply();
    return this;
  }

  override removeListener<E extends keyof WeightedRaftEvents<Result>>(
    event: E,
    listener?: WeightedRaftEvents<Result>[E],
    context?: unknown,
    once?: boolean,
  ): this {
    super.removeListener(event, listener, context, once);
    if (event === 'apply') this.#syncApply();
    return this;
  }

  override removeAllListeners(event?: keyof WeightedRaftEvents<Result>): this {
    super.removeAllListeners(event);
    if (event === undefined || event === 'apply') this.#syncApply();
    return this;
  }

  override listeners<E extends keyof WeightedRaftEvents<Result>>(event: E): WeightedRaftEvents<Result>[E][] {
    return super.listeners(event);
  }

  override emit<E extends keyof WeightedRaftEvents<Result>>(event: E, ...args: Parameters<WeightedRaftEvents<Result>[E]>): boolean {
    return super.emit(event, ...args);
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

  // ------------------------------------------------------------------ weighted

  /**
   * Runs a weight epoch now, on the leader: scores the voters from `scoreInputs`, plans integer
   * weights with the guard and, if they differ, moves to them by joint consensus. Resolves once
   * C(new) is applied here (or at once when nothing changes). Epochs run one at a time: a call
   * waits for the epoch in progress. An epoch that cannot run now is reported by
   * `weightEpochSkipped` as well as by the rejection; one that runs and fails, by `weightEpochFailed`.
   *
   * @throws NotLeaderError on a follower; ConfigurationError when no `scoreInputs` is set, a
   * change is in flight or no weights satisfy the guard; InvalidArgumentError when the inputs or
   * scores are invalid or missing (its `cause` is the scoring error); ProposalDroppedError,
   * TimeoutError, AbortError, StoppedError.
   */
  applyWeights(options: OperationOptions = {}): Promise<WeightEpochOutcome> {
    if (options.signal?.aborted === true) {
      return Promise.reject(new AbortError('the weight epoch was aborted before it started', { cause: options.signal.reason }));
    }
    return this.#enqueueEpoch('demand', options);
  }

  /** What this node measured while leading: per node, eq. 19 participation, quorum positions, latency. */
  participation(): Map<NodeId, NodeParticipation> {
    return this.#tracker.participation();
  }

  /** The voters' weights of the configuration in effect (its incoming half while joint). */
  voteWeights(): ReadonlyMap<NodeId, number> {
    return this.#inner.status().config.incoming.voters;
  }

  /** This node's n_i of eq. 7 under the configuration in effect (1 = heaviest). */
  electionRank(): number {
    return weightRank(this.#inner.status().config, this.id);
  }

  // ------------------------------------------------------------------ internals

  #onRole(role: Role, term: Term): void {
    this.#role = role;
    this.#schedule.leadership(role === 'leader' ? String(term) : undefined);
    this.#syncApply();
  }

  /** Forwards the inner node's 'apply': the leader's epoch schedule counts client entries, listeners get the event. */
  readonly #forwardApply = (event: Parameters<ConsensusEvents<Result>['apply']>[0]): void => {
    if (this.#role === 'leader') this.#schedule.committed(event.index);
    this.emit('apply', event);
    // A `once` listener removes itself inside emit, past the overrides above.
    if (this.#role !== 'leader' && this.listenerCount('apply') === 0) this.#syncApply();
  };

  #applyFollowed = false;

  /**
   * Follows the inner node's per-entry 'apply' only while this node leads (the epoch schedule
   * counts client entries) or someone listens to 'apply' here: a follower with no listener then
   * builds no event per entry at all.
   */
  #syncApply(): void {
    const wanted = this.#role === 'leader' || this.listenerCount('apply') > 0;
    if (wanted === this.#applyFollowed) return;
    this.#applyFollowed = wanted;
    if (wanted) this.#inner.on('apply', this.#forwardApply);
    else this.#inner.off('apply', this.#forwardApply);
  }

  #onCommitQuorum(quorum: CommitQuorum): void {
    if (this.#schedule.quorum(quorum.index)) {
      this.#tracker.record(quorum);
      if (this.#schedule.due && this.#scoreInputs !== undefined) {
        if (this.#epochBusy) {
          // The previous epoch is still moving the weights: this one waits for the next round.
          this.#emitSkip('schedule', new EpochSkip('changeInFlight', new ConfigurationError('the previous weight epoch is still in progress')));
        } else {
          // A scheduled epoch's failures are reported by event only, never thrown.
          this.#enqueueEpoch('schedule', {}).catch(() => undefined);
        }
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
    this.emit('weightsChange', { index, weights: config.incoming.voters, previous, config });
    this.#maybeHandOver();
  }

  #enqueueEpoch(trigger: WeightEpochTrigger, options: OperationOptions): Promise<WeightEpochOutcome> {
    this.#epochBusy = true;
    const run = this.#epochQueue.then(() => this.#runEpoch(trigger, options));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#epochQueue = settled;
    settled.then(() => {
      if (this.#epochQueue === settled) this.#epochBusy = false;
    });
    return run;
  }

  async #runEpoch(trigger: WeightEpochTrigger, options: OperationOptions): Promise<WeightEpochOutcome> {
    let epoch = 0;
    try {
      const config = this.#leaderConfig();
      epoch = ++this.#epochs;
      const outcome = await this.#epochSteps(epoch, trigger, config, options);
      this.#schedule.ran();
      return outcome;
    } catch (caught) {
      if (caught instanceof EpochSkip) {
        // Not run: a scheduled epoch stays due and is tried again at the next round.
        this.#emitSkip(trigger, caught);
        throw caught.error;
      }
      this.#schedule.ran();
      const failure = caught instanceof EpochFailure ? caught : new EpochFailure('proposal', asGreenraftError(caught, 'the weight epoch failed'));
      this.emit('weightEpochFailed', { epoch, round: this.#tracker.rounds, trigger, reason: failure.reason, error: failure.error });
      throw failure.error;
    }
  }

  #emitSkip(trigger: WeightEpochTrigger, skip: EpochSkip): void {
    this.emit('weightEpochSkipped', { round: this.#tracker.rounds, trigger, reason: skip.reason, error: skip.error });
  }

  /** The leader's checks, repeated after every wait: leadership may have moved meanwhile. */
  #leaderConfig(): ClusterConfig {
    if (this.#stopped) throw new EpochSkip('stopped', new StoppedError());
    const status = this.#inner.status();
    if (status.role !== 'leader') throw new EpochSkip('notLeader', new NotLeaderError(status.leader));
    if (status.config.outgoing !== undefined) {
      throw new EpochSkip('changeInFlight', new ConfigurationError('a configuration change is still in progress'));
    }
    return status.config;
  }

  async #epochSteps(epoch: number, trigger: WeightEpochTrigger, current: ClusterConfig, options: OperationOptions): Promise<WeightEpochOutcome> {
    const round = this.#tracker.rounds;
    if (options.signal?.aborted === true) {
      throw new EpochFailure('proposal', new AbortError('the weight epoch was aborted', { cause: options.signal.reason }));
    }
    const scoreInputs = this.#scoreInputs;
    if (scoreInputs === undefined) {
      throw new EpochFailure('scoring', new ConfigurationError('no scoreInputs were given: there is nothing to score the voters from'));
    }
    let scores: Map<NodeId, number>;
    try {
      const inputs = await scoreInputs({ voters: current.incoming.voters, participation: this.#tracker.participation(), round, epoch });
      scores = this.#scoring.score(inputs);
    } catch (error) {
      throw new EpochFailure('scoring', asGreenraftError(error, `scoring with ${this.#scoring.name} failed`));
    }
    // Scoring may have awaited: check leadership and changes in flight again.
    const config = this.#leaderConfig();
    let target: Configuration | undefined;
    try {
      target = planWeightEpoch(config, scores, this.#plan);
    } catch (error) {
      throw new EpochFailure('scoring', asGreenraftError(error, 'planning the weights failed'));
    }
    this.emit('weightEpoch', { epoch, round, trigger, strategy: this.#scoring.name, scores, target });
    if (target === undefined) return { changed: false, scores, config };
    try {
      const final = await this.#inner.changeConfiguration(target, options);
      return { changed: true, scores, config: final };
    } catch (error) {
      // Refused before anything was appended: another change got in first.
      if (error instanceof ConfigurationError) throw new EpochSkip('changeInFlight', error);
      throw new EpochFailure('proposal', asGreenraftError(error, 'the weight change failed'));
    }
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
    this.emit('leaderHandover', { from: this.id, to: heaviest, term: status.term });
    // The outcome shows in leaderChange; a handover that fails is not retried in this epoch.
    this.#inner.transferLeadership(heaviest).catch(() => undefined);
  }
}

/**
 * Creates a weighted Raft node: the same engine as classic Raft (`createRaftNode`) with the
 * paper's rank-based election timeouts (eq. 7), quorums weighted by the configuration, weight
 * epochs that the leader computes from `scoreInputs` with a `ScoringStrategy` and applies by joint
 * consensus, participation tracking from commit quorums (eq. 19), and an optional preferred
 * leader. Call `start()` to run it.
 *
 * Only the leader proposes weights, and only through the log: followers never change weights
 * locally, so two nodes never count votes with different weight vectors outside joint consensus.
 *
 * @throws ConfigurationError when the founding weights break the fault-tolerance guard (the
 * message says which weights to flatten, and to what) or do not match `bootstrap`;
 * InvalidArgumentError for an unknown option (a misspelt `epochs` or `electionTimeout.base` is
 * named, and so is `policy`: eq. 7 sets it) or any other invalid option.
 *
 * @example
 * ```ts
 * import { createWeightedRaftNode, latencyScoring, measuredScoreInputs, memoryStorage } from '@greenraft/weighted-raft';
 * import { memoryNetwork } from '@greenraft/transport-memory';
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
  return new WeightedRaftNode<Result>(init);
}
