import {
  type ClusterConfig,
  type Configuration,
  ConfigurationError,
  InvalidArgumentError,
  type Message,
  type NodeId,
  NotLeaderError,
  ProposalDroppedError,
  type Transport,
  configuration,
  integerOption,
  members,
} from '@greenraft/consensus';
import { RaftCore, type RaftCoreOptions, type Ready, isQuorum } from '@greenraft/raft';
import { ENGINE_BUGS, type EngineBug, engineBugOptions } from '@greenraft/raft/testing';
import type { ScoringStrategy } from '@greenraft/weight-scoring';
import { type LinkFaults, type MemoryNetwork, type VirtualClock, memoryNetwork, virtualClock } from '@greenraft/transport-memory';
import { type PropertyViolation, type SafetyChecker, type SafetyProperty, safetyChecker } from './checkers.js';
import { chainDigest, decodeChainSnapshot } from './digest.js';
import { SimulatedDisk } from './disk.js';
import { KvWorkload } from './kv-workload.js';
import type { CheckVerdict } from '@greenraft/linearizability';
import { type CrashPoint, type FaultKind, type NemesisAction, type NemesisEvent, type NodeTarget, formatNemesis, nemesisSchedule, parseNemesis } from './nemesis.js';
import { LogConfigurations } from './reconfig-log.js';
import { RECONFIGURATION_RETRY_STEPS, planReconfiguration } from './reconfig-plan.js';
import { type Rng, deriveSeed, rng } from './random.js';
import type { SimulationEvent } from './trace.js';
import { SIMULATION_POLICIES, type SimulationPolicy, type SimulationScoring, WeightEpochs, checkScoring } from './weighted-epochs.js';

/** Options of one simulated run ({@link runSimulation}). */
export interface SimulationInit {
  /** Seeds everything random in the run: the same seed replays the same run exactly. */
  seed: number;
  /**
   * Cluster size (voters, each of weight 1 unless `policy` is `'weighted'`).
   * @default 5
   */
  nodes?: number;
  /**
   * Steps to run; a step is one tick period of virtual time.
   * @default 2000
   */
  steps?: number;
  /**
   * The faults to inject: `'none'`, `'all'`, a comma-separated list, or the kinds themselves.
   * @default 'all'
   */
  nemesis?: string | readonly FaultKind[];
  /** Build every node's engine with this known bug, to prove the checkers catch it. */
  bug?: EngineBug;
  /**
   * Election timeout base of every node, in ticks.
   * @default 10
   */
  electionTicks?: number;
  /**
   * Heartbeat interval of leaders, in ticks.
   * @default 1
   */
  heartbeatTicks?: number;
  /**
   * Virtual milliseconds per step (one tick).
   * @default 10
   */
  tickMs?: number;
  /**
   * Message latency of every link outside delay bursts, in virtual milliseconds.
   * @default { min: 1, max: 5 }
   */
  latency?: { min: number; max: number };
  /**
   * Concurrent key-value clients: puts and compare-and-sets go to whoever they believe leads, gets go
   * through ReadIndex on any member; their history is checked for linearizability.
   * @default 3
   */
  clients?: number;
  /**
   * Client operations recorded and checked for linearizability per run; operations past it go to an
   * unchecked key, so the load on the cluster stays the same while the check stays fast.
   * @default 800
   */
  historyLimit?: number;
  /**
   * Wall-clock limit of one run's linearizability check, in milliseconds; past it the verdict is
   * `'unknown'` (neither a pass nor a violation).
   * @default 2000
   */
  linearizabilityTimeoutMs?: number;
  /**
   * Spare nodes outside the initial configuration, running from the start, for the `reconfigure`
   * nemesis to add as voters or learners.
   * @default 2 when the nemesis includes `reconfigure`, else 0
   */
  spares?: number;
  /**
   * Each node snapshots its state machine and compacts its log every this many applied entries (0: never).
   * @default 64
   */
  snapshotEvery?: number;
  /**
   * `'classic'`: every weight 1, randomized election timeouts. `'weighted'`: founding weights from
   * `scoring`, rank election timeouts (eq. 7), and a weight epoch every `epoch` commit rounds of a
   * leader, proposed by it by joint consensus (the weighted node's schedule, `weightEpochScheduler`).
   * Founding and epoch weights keep the default fault-tolerance guard (⌊(n − 1) / 2⌋ of n voters).
   * @default 'classic'
   */
  policy?: SimulationPolicy;
  /**
   * Where weighted runs get their scores: `'paper'` (the paper's eq. 8–13 over a seeded power
   * market settled round by round), `'uniform'` (every score equal: classic quorums), `'latency'`
   * (the acknowledgement latencies the leader measured from its commit quorums), or any
   * `ScoringStrategy` over the market's figures (in-process runs only).
   * @default 'paper'
   */
  scoring?: SimulationScoring | ScoringStrategy;
  /**
   * Weighted runs: commit rounds between two weight epochs (a round: a leader's commit quorum that
   * committed client entries). 20 changes the weights every few dozen steps under the default
   * load, often enough to overlap with every fault.
   * @default 20
   */
  epoch?: number;
  /**
   * Weighted runs: `'rank'` (eq. 7: the heaviest voter times out first, one tick per rank) or
   * `'randomized'` (Raft's timeout, so only the weights differ from a classic run).
   * @default 'rank'
   */
  electionTimeout?: 'rank' | 'randomized';
  /** Called with each election and each applied entry, in order: a trace of the run for tests and tools. */
  onEvent?: (event: SimulationEvent) => void;
  /**
   * Extra engine options per node, merged into every `RaftCore` the run builds (at boot and each
   * restart); `step()` reads the run's current step. Tests only (e.g. the unsafe local-weights hook).
   * @internal
   */
  engineOptions?: (id: NodeId, run: { readonly step: () => number }) => Partial<RaftCoreOptions>;
}

/** A property violation found in a run, with the command that replays it. */
export interface Violation {
  readonly seed: number;
  readonly property: SafetyProperty;
  /** The step at which the checker fired (0-based). */
  readonly step: number;
  /** What the checker saw. */
  readonly detail: string;
  /** The `greenraft sim` command that replays exactly this run. */
  readonly replay: string;
}

/** Counters of one run. */
export interface SimulationStats {
  readonly proposals: number;
  /** Client proposals seen applied at the index and term they were accepted at. */
  readonly acknowledged: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly pauses: number;
  readonly snapshots: number;
  readonly messagesSent: number;
  readonly messagesDelivered: number;
  readonly messagesDropped: number;
  /** Nemesis events applied. */
  readonly nemesisEvents: number;
  /** Configuration changes the reconfiguration nemesis got a leader to accept. */
  readonly configChanges: number;
  /** Client reads served through ReadIndex. */
  readonly reads: number;
  /** Weighted runs: weight changes the leaders proposed by joint consensus. */
  readonly weightEpochs: number;
}

/** What one run found. */
export interface SimulationResult {
  readonly seed: number;
  /** Steps actually run: fewer than asked when a violation stopped the run. */
  readonly steps: number;
  /** The first violation, which stops the run; `undefined` when every check held. */
  readonly violation: Violation | undefined;
  /** Distinct (term, leader) pairs seen. */
  readonly elections: number;
  /** The highest index known committed at the end. */
  readonly commits: number;
  /** The highest term any node reached. */
  readonly maxTerm: number;
  /**
   * The step at which liveness was shown after the final heal (a leader and a fresh proposal
   * committed on a quorum); `undefined` when the run is too short to check liveness.
   */
  readonly livenessStep: number | undefined;
  /** The linearizability checker's verdict on the clients' key-value history (`'unknown'`: it timed out). */
  readonly linearizability: CheckVerdict;
  /** Operations in the checked history. */
  readonly historyOps: number;
  readonly stats: SimulationStats;
}

/** The options of a run with every default filled in. */
export interface ResolvedSimulationInit {
  readonly seed: number;
  readonly nodes: number;
  readonly steps: number;
  readonly nemesis: readonly FaultKind[];
  readonly bug: EngineBug | undefined;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly tickMs: number;
  readonly latency: { readonly min: number; readonly max: number };
  readonly clients: number;
  readonly snapshotEvery: number;
  readonly historyLimit: number;
  readonly linearizabilityTimeoutMs: number;
  readonly spares: number;
  readonly policy: SimulationPolicy;
  readonly scoring: SimulationScoring | ScoringStrategy;
  readonly epoch: number;
  readonly electionTimeout: 'rank' | 'randomized';
  readonly onEvent: ((event: SimulationEvent) => void) | undefined;
  /** @internal */
  readonly engineOptions: SimulationInit['engineOptions'];
}

const integerIn = (name: string, value: unknown, min: number, max: number): number => integerOption(name, value, { min, max });

/**
 * Checks a run's options and fills in the defaults. Throws `InvalidArgumentError` (from `@greenraft/consensus`) naming
 * the first bad option.
 */
export function resolveSimulationInit(init: SimulationInit): ResolvedSimulationInit {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('simulation options must be an object');
  const seed = integerIn('seed', init.seed, 0, 0xffffffff);
  const nodes = integerIn('nodes', init.nodes ?? 5, 3, 15);
  const steps = integerIn('steps', init.steps ?? 2000, 1, 10_000_000);
  const nemesis = typeof init.nemesis === 'string' || init.nemesis === undefined ? parseNemesis(init.nemesis ?? 'all') : parseNemesis(init.nemesis.join(','));
  if (init.bug !== undefined && !ENGINE_BUGS.includes(init.bug)) {
    throw new InvalidArgumentError(`unknown engine bug '${String(init.bug)}'; known: ${ENGINE_BUGS.join(', ')}`);
  }
  const electionTicks = integerIn('electionTicks', init.electionTicks ?? 10, 2, 1000);
  const heartbeatTicks = integerIn('heartbeatTicks', init.heartbeatTicks ?? 1, 1, electionTicks - 1);
  const tickMs = integerIn('tickMs', init.tickMs ?? 10, 1, 60_000);
  const latency = init.latency ?? { min: 1, max: 5 };
  integerIn('latency.min', latency.min, 0, 60_000);
  integerIn('latency.max', latency.max, latency.min, 60_000);
  const clients = integerIn('clients', init.clients ?? 3, 0, 100);
  const snapshotEvery = integerIn('snapshotEvery', init.snapshotEvery ?? 64, 0, 1_000_000);
  const historyLimit = integerIn('historyLimit', init.historyLimit ?? 800, 0, 1_000_000);
  const linearizabilityTimeoutMs = integerIn('linearizabilityTimeoutMs', init.linearizabilityTimeoutMs ?? 2000, 1, 3_600_000);
  const spares = integerIn('spares', init.spares ?? (nemesis.includes('reconfigure') ? 2 : 0), 0, 15);
  const policy = init.policy ?? 'classic';
  if (!SIMULATION_POLICIES.includes(policy)) throw new InvalidArgumentError(`policy must be one of ${SIMULATION_POLICIES.join(', ')}, got ${String(policy)}`);
  const scoring = checkScoring(init.scoring ?? 'paper');
  const epoch = integerIn('epoch', init.epoch ?? 20, 1, 1_000_000);
  const electionTimeout = init.electionTimeout ?? 'rank';
  if (electionTimeout !== 'rank' && electionTimeout !== 'randomized') {
    throw new InvalidArgumentError(`electionTimeout must be 'rank' or 'randomized', got ${String(electionTimeout)}`);
  }
  return {
    seed,
    nodes,
    steps,
    nemesis,
    bug: init.bug,
    electionTicks,
    heartbeatTicks,
    tickMs,
    latency: { min: latency.min, max: latency.max },
    clients,
    snapshotEvery,
    historyLimit,
    linearizabilityTimeoutMs,
    spares,
    policy,
    scoring,
    epoch,
    electionTimeout,
    onEvent: init.onEvent,
    engineOptions: init.engineOptions,
  };
}

/**
 * Steps the cluster gets, after the final heal, to elect a leader and commit a fresh proposal on a
 * quorum: a few randomised election timeouts (up to 2 × electionTicks each) per node.
 */
export function livenessBound(nodes: number, electionTicks: number): number {
  return 2 * electionTicks * (nodes + 2);
}

/**
 * The `greenraft sim` command that replays one seed of a run.
 *
 * @example
 * ```ts
 * replayCommand({ seed: 42, nodes: 3, steps: 500 });
 * // 'npx greenraft sim --nodes 3 --seeds 1 --seed-start 42 --steps 500 --nemesis all'
 * ```
 */
export function replayCommand(init: SimulationInit): string {
  const resolved = resolveSimulationInit(init);
  const parts = [
    'npx greenraft sim',
    `--nodes ${resolved.nodes}`,
    '--seeds 1',
    `--seed-start ${resolved.seed}`,
    `--steps ${resolved.steps}`,
    `--nemesis ${formatNemesis(resolved.nemesis)}`,
  ];
  if (resolved.bug !== undefined) parts.push(`--inject-bug ${resolved.bug}`);
  if (resolved.policy === 'weighted') {
    const scoring = typeof resolved.scoring === 'string' ? resolved.scoring : resolved.scoring.name;
    parts.push(`--policy weighted --scoring ${scoring}`);
    if (resolved.epoch !== 20) parts.push(`--epoch ${resolved.epoch}`);
  }
  return parts.join(' ');
}

/**
 * Runs one deterministic simulation of a whole cluster and checks Raft's safety properties after
 * every step; the first violation stops the run. The same options always give the same result.
 *
 * @example
 * ```ts
 * const result = await runSimulation({ seed: 42, nodes: 5, steps: 1000, nemesis: 'all' });
 * console.log(result.violation ?? `ok: ${result.elections} elections, ${result.commits} entries committed`);
 * ```
 */
export async function runSimulation(init: SimulationInit): Promise<SimulationResult> {
  const resolved = resolveSimulationInit(init);
  const run = new ClusterRun(resolved, replayCommand(init));
  await run.start();
  return run.execute();
}

interface SimNode {
  readonly id: NodeId;
  readonly position: number;
  readonly endpoint: Transport;
  readonly disk: SimulatedDisk;
  core: RaftCore | undefined;
  state: 'up' | 'down' | 'paused';
  /** Messages that arrived while paused, delivered in order on resume. */
  inbox: Message[];
  incarnation: number;
  dirty: boolean;
  /** The state machine: the chain digest of everything applied (its KV store is the workload's), and where it stands. */
  appliedIndex: number;
  appliedChain: number;
  lastSnapshotIndex: number;
  /** The term this node led in at its previous durable write, if it was leader then. */
  leaderTermAtLastWrite: number | undefined;
  /** The term in which this node was last reported leader to the checker. */
  reportedLeaderTerm: number;
}

interface PendingProposal {
  readonly node: SimNode;
  readonly incarnation: number;
  readonly index: number;
  readonly term: number;
  readonly since: number;
}

/** Thrown inside the run to unwind at the first violation; never escapes {@link ClusterRun.execute}. */
class StopRun extends Error {}

class ClusterRun {
  private readonly clock: VirtualClock;
  private readonly network: MemoryNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly byId = new Map<NodeId, SimNode>();
  private readonly checker: SafetyChecker = safetyChecker();
  private readonly bootstrap: Configuration;
  private readonly baseLink: LinkFaults;
  private readonly schedule: NemesisEvent[];
  private readonly nemesisEnd: number;
  private readonly checkLiveness: boolean;
  private readonly random: Rng;
  private readonly workload: KvWorkload;
  private readonly nodeIds: NodeId[];
  /** The configuration clients' targets were taken from, and those targets (its members). */
  private targetsConfig: ClusterConfig | undefined;
  private targetNodes: SimNode[] = [];
  /** The configurations in each node's log (by position), to check each uses the latest. */
  private readonly logConfigs: LogConfigurations[] = [];
  /** A configuration change the nemesis asked for, retried until a leader accepts it or `until`. */
  private reconfiguration: { readonly action: Extract<NemesisAction, { type: 'reconfigure' }>; readonly until: number } | undefined;
  private readonly slots = new Map<number, SimNode>();
  private nextEvent = 0;
  private step = 0;
  private violation: PropertyViolation | undefined;
  private maxTerm = 0;
  private payloadCounter = 0;
  private probe: PendingProposal | undefined;
  private livenessStep: number | undefined;
  private counters = { crashes: 0, restarts: 0, pauses: 0, snapshots: 0, nemesisEvents: 0, configChanges: 0 };
  /** Weighted runs: the weight epochs (`undefined` for classic). */
  private readonly weights: WeightEpochs | undefined;

  constructor(
    private readonly init: ResolvedSimulationInit,
    private readonly replay: string,
  ) {
    const { seed, nodes, steps, electionTicks } = init;
    this.clock = virtualClock();
    this.baseLink = { latency: { min: init.latency.min, max: init.latency.max } };
    // Messages are never mutated after send, so the network may share them instead of cloning.
    this.network = memoryNetwork({ clock: this.clock, seed: deriveSeed(seed, 1), defaultLink: this.baseLink, clone: false });
    this.network.on('handlerError', ({ error }) => {
      this.violation ??= { property: 'engine-error', step: this.step, detail: `a message handler threw: ${describe(error)}` };
    });
    this.random = rng(deriveSeed(seed, 2));
    // Spares run from the start outside the configuration, so reconfiguration has nodes to add.
    const ids = Array.from({ length: nodes + init.spares }, (_, i) => `n${i + 1}`);
    this.nodeIds = ids;
    this.weights =
      init.policy === 'weighted'
        ? new WeightEpochs({
            voters: ids.slice(0, nodes),
            nodes: ids,
            seed: deriveSeed(seed, 5),
            scoring: init.scoring,
            epoch: init.epoch,
            electionTimeout: init.electionTimeout,
            electionTicks,
            tickMs: init.tickMs,
          })
        : undefined;
    this.bootstrap = this.weights?.bootstrap() ?? configuration(ids.slice(0, nodes));
    const bound = livenessBound(nodes, electionTicks);
    // Liveness is only checked when the run leaves the cluster a full bound of quiet steps after the nemesis.
    this.checkLiveness = steps >= 2 * bound;
    this.nemesisEnd = this.checkLiveness ? steps - bound : steps;
    this.schedule = nemesisSchedule({ seed: deriveSeed(seed, 3), nodes, spares: init.spares, steps: this.nemesisEnd, faults: init.nemesis, tickMs: init.tickMs });
    for (const [position, id] of ids.entries()) {
      const node: SimNode = {
        id,
        position,
        endpoint: this.network.transport(id),
        disk: new SimulatedDisk(),
        core: undefined,
        state: 'down',
        inbox: [],
        incarnation: 0,
        dirty: false,
        appliedIndex: 0,
        appliedChain: 0,
        lastSnapshotIndex: 0,
        leaderTermAtLastWrite: undefined,
        reportedLeaderTerm: -1,
      };
      this.nodes.push(node);
      this.byId.set(id, node);
    }
    this.targetNodes = this.nodes.slice(0, nodes);
    this.workload = new KvWorkload({
      clients: init.clients,
      nodes: this.nodes.length,
      random: this.random,
      timeoutSteps: 6 * electionTicks,
      historyLimit: init.historyLimit,
      currentStep: () => this.step,
      onEngineError: (detail) => this.fail('engine-error', detail),
    });
  }

  async start(): Promise<void> {
    for (const node of this.nodes) {
      await node.endpoint.start((message) => this.contained(() => this.deliver(node, message)));
      this.boot(node);
    }
  }

  execute(): SimulationResult {
    const { steps } = this.init;
    let completed = 0;
    try {
      for (this.step = 0; this.step < steps; this.step++) {
        this.runStep();
        completed = this.step + 1;
      }
    } catch (error) {
      if (!(error instanceof StopRun)) throw error;
      completed = this.step + 1;
    } finally {
      this.network.close();
    }
    const stats = this.network.stats;
    // The clients' history is checked whatever stopped the run; a safety violation found first is reported first.
    const history = this.workload.check(this.init.linearizabilityTimeoutMs);
    if (history.verdict === 'illegal') this.violation ??= { property: 'linearizability', step: history.step ?? completed - 1, detail: history.detail ?? '' };
    const violation = this.violation;
    return {
      seed: this.init.seed,
      steps: completed,
      violation: violation && { seed: this.init.seed, property: violation.property, step: violation.step, detail: violation.detail, replay: this.replay },
      elections: this.checker.elections,
      commits: this.checker.maxCommitted,
      maxTerm: this.maxTerm,
      livenessStep: this.livenessStep,
      linearizability: history.verdict,
      historyOps: history.operations,
      stats: {
        proposals: this.workload.proposals,
        acknowledged: this.workload.acknowledged,
        reads: this.workload.reads,
        ...this.counters,
        weightEpochs: this.weights?.proposed ?? 0,
        messagesSent: stats.sent, messagesDelivered: stats.delivered, messagesDropped: stats.dropped,
      },
    };
  }

  // ------------------------------------------------------------------ the step

  private runStep(): void {
    const end = (this.step + 1) * this.init.tickMs;
    while (this.nextEvent < this.schedule.length && this.schedule[this.nextEvent]!.step <= this.step) {
      this.applyNemesis(this.schedule[this.nextEvent++]!.action);
    }
    // Deliver everything due within this tick period, one instant at a time, handling each node's Ready after each.
    for (let at = this.clock.nextTimerAt(); at !== undefined && at <= end; at = this.clock.nextTimerAt()) {
      this.clock.runNext();
      if (this.violation) throw new StopRun(this.violation.detail);
      this.processDirty();
    }
    if (this.clock.now() < end) this.clock.advanceTo(end);
    for (const node of this.nodes) {
      if (node.state !== 'up') continue;
      this.guard(() => node.core!.tick());
      node.dirty = true;
    }
    this.runClients();
    if (this.reconfiguration !== undefined) this.attemptReconfiguration();
    this.processDirty();
    this.checkStep();
  }

  private processDirty(): void {
    for (const node of this.nodes) {
      if (node.dirty && node.state === 'up') this.processReady(node);
      node.dirty = false;
    }
  }

  /** Persist, send, apply, advance: the Ready contract, with every durable write and apply checked. */
  private processReady(node: SimNode): void {
    const core = node.core!;
    while (this.guard(() => core.hasReady())) {
      const rd = this.guard(() => core.ready());
      this.persist(node, core, rd);
      const configs = this.logConfigs[node.position]!;
      if (rd.snapshot) configs.installed(rd.snapshot);
      configs.appended(rd.entries);
      for (const message of rd.messages) node.endpoint.send(message);
      this.applyReady(node, core, rd);
      if (rd.readStates.length > 0) this.workload.readStates(node, rd.readStates);
      if (rd.droppedReads.length > 0) this.workload.droppedReads(node, rd.droppedReads);
      this.workload.serveReads(node);
      this.guard(() => core.advance(rd));
      // Right after advance the core holds exactly the log its Readies described: its configuration must be that log's latest.
      this.report(configs.check(this.step, node.id, core.config));
      // Weighted runs: the leader measures its commit quorums and proposes weight epochs (handled by the next loop round).
      if (this.weights !== undefined) this.guard(() => this.weights!.afterReady(node.id, core, rd));
      this.report(this.checker.commitAdvanced(this.step, node.id, core.term, core.commitIndex, core));
      this.noteLeader(node, core);
      this.maybeSnapshot(node, core);
    }
  }

  private persist(node: SimNode, core: RaftCore, rd: Ready): void {
    const leading = core.role === 'leader';
    const first = rd.entries[0];
    if (leading && first !== undefined && node.leaderTermAtLastWrite === core.term) {
      this.report(this.checker.leaderPersisted(this.step, node.id, core.term, first.index, node.disk.lastIndex));
    }
    let outcome: ReturnType<SimulatedDisk['write']>;
    try {
      outcome = node.disk.write({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    } catch (error) {
      this.fail('engine-error', `${node.id} produced an invalid durable write: ${describe(error)}`);
    }
    for (const overwrite of outcome.overwritten) {
      this.report(this.checker.durableOverwrite(this.step, node.id, overwrite.index, overwrite.oldTerm, overwrite.newTerm, outcome.commitBefore));
    }
    for (const written of outcome.written) this.report(this.checker.entryPersisted(this.step, node.id, written.index, written.term, written.chain));
    node.leaderTermAtLastWrite = leading ? core.term : undefined;
  }

  private applyReady(node: SimNode, core: RaftCore, rd: Ready): void {
    if (rd.snapshot) {
      const { index } = rd.snapshot.metadata;
      const chain = decodeChainSnapshot(rd.snapshot.data);
      if (chain === undefined || !this.workload.restored(node, index, rd.snapshot.data)) {
        this.fail('engine-error', `${node.id} was given a snapshot whose data is not this state machine's`);
      }
      node.appliedChain = chain;
      node.appliedIndex = index;
      node.lastSnapshotIndex = index;
      this.report(this.checker.snapshotRestored(this.step, node.id, index, chain));
    }
    const commitIndex = core.commitIndex;
    for (const entry of rd.committedEntries) {
      const chain = chainDigest(node.appliedChain, entry);
      this.report(this.checker.entryApplied(this.step, node.id, entry.index, chain, commitIndex));
      node.appliedChain = chain;
      node.appliedIndex = entry.index;
      this.workload.applied(node, entry);
      this.init.onEvent?.({ type: 'applied', step: this.step, id: node.id, index: entry.index, term: entry.term, chain });
    }
  }

  private maybeSnapshot(node: SimNode, core: RaftCore): void {
    const every = this.init.snapshotEvery;
    if (every === 0 || node.appliedIndex - node.lastSnapshotIndex < every) return;
    const index = node.appliedIndex;
    this.guard(() => {
      const snapshot = { metadata: core.snapshotMetadataAt(index), data: this.workload.snapshotData(node, node.appliedChain) };
      node.disk.compact(snapshot, node.appliedChain);
      core.snapshotTaken(snapshot);
    });
    node.lastSnapshotIndex = index;
    this.counters.snapshots++;
  }

  // ------------------------------------------------------------------ nodes

  private deliver(node: SimNode, message: Message): void {
    if (node.state === 'down') return;
    if (node.state === 'paused') {
      node.inbox.push(message);
      return;
    }
    const core = node.core!;
    this.guard(() => core.step(message));
    node.dirty = true;
    this.noteLeader(node, core);
  }

  private noteLeader(node: SimNode, core: RaftCore): void {
    if (core.role !== 'leader' || node.reportedLeaderTerm === core.term) return;
    node.reportedLeaderTerm = core.term;
    this.init.onEvent?.({ type: 'elected', step: this.step, id: node.id, term: core.term });
    this.report(this.checker.leaderElected(this.step, node.id, core.term, core));
  }

  private boot(node: SimNode): void {
    const state = node.disk.load();
    const core = this.guard(
      () =>
        new RaftCore({
          id: node.id,
          ...(state === undefined ? {} : { state }),
          // Spares start empty and learn the configuration from the leader that adds them.
          ...(node.position < this.init.nodes ? { bootstrap: this.bootstrap } : {}),
          electionTicks: this.init.electionTicks,
          heartbeatTicks: this.init.heartbeatTicks,
          seed: deriveSeed(this.init.seed, 1000 + node.position * 4096 + node.incarnation),
          ...engineBugOptions(this.init.bug),
          ...this.engineExtras(node),
        }),
    );
    node.core = core;
    this.logConfigs[node.position] = LogConfigurations.fromState(state, node.position < this.init.nodes ? this.bootstrap : undefined);
    node.state = 'up';
    node.inbox = [];
    node.dirty = true;
    node.appliedIndex = node.disk.snapshotIndex;
    node.appliedChain = node.disk.snapshotChain;
    node.lastSnapshotIndex = node.disk.snapshotIndex;
    if (!this.workload.restored(node, node.disk.snapshotIndex, node.disk.snapshot?.data)) {
      this.fail('engine-error', `${node.id} restarted from a snapshot whose data is not this state machine's`);
    }
    node.leaderTermAtLastWrite = undefined;
    node.reportedLeaderTerm = -1;
    this.checker.nodeRestarted(node.id, core.commitIndex, core.appliedIndex);
    if (state !== undefined) {
      const { term, vote } = state.hardState;
      this.report(this.checker.stateRestored(this.step, node.id, term, vote, core.term, core.vote));
    }
  }

  /** The weighted policy's timeout, then the test-only engine options, for one core of `node`. */
  private engineExtras(node: SimNode): Partial<RaftCoreOptions> {
    const policy = this.weights?.policy();
    return { ...(policy === undefined ? {} : { policy }), ...this.init.engineOptions?.(node.id, { step: () => this.step }) };
  }

  /** The node loses everything it held only in memory; `point` decides how much of its current Ready made it. */
  private crash(node: SimNode, point: CrashPoint): void {
    if (node.state === 'down') return;
    const core = node.core!;
    if (node.state === 'up') {
      if (point === 'between-readies') this.processReady(node);
      else if (point === 'after-persist' && this.guard(() => core.hasReady())) this.persist(node, core, this.guard(() => core.ready()));
    }
    node.core = undefined;
    node.state = 'down';
    node.inbox = [];
    node.dirty = false;
    this.checker.leaderLost(node.id);
    this.workload.nodeDown(node);
    this.counters.crashes++;
  }

  private restart(node: SimNode): void {
    if (node.state !== 'down') return;
    node.incarnation++;
    this.boot(node);
    this.counters.restarts++;
  }

  private resume(node: SimNode): void {
    if (node.state !== 'paused') return;
    node.state = 'up';
    const queued = node.inbox;
    node.inbox = [];
    for (const message of queued) this.deliver(node, message);
    node.dirty = true;
  }

  private currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes) {
      if (node.state !== 'up' || node.core!.role !== 'leader') continue;
      if (best === undefined || node.core!.term > best.core!.term) best = node;
    }
    return best;
  }

  // ------------------------------------------------------------------ nemesis

  private resolveTarget(target: NodeTarget): SimNode {
    if (target.kind === 'leader') return this.currentLeader() ?? this.nodes[target.fallback]!;
    if (target.kind === 'voter') {
      let best: SimNode | undefined;
      for (const node of this.nodes) {
        const core = node.core;
        if (node.state !== 'up' || core === undefined || core.role !== 'follower' || core.vote === undefined || core.vote === node.id) continue;
        if (best === undefined || core.term > best.core!.term) best = node;
      }
      return best ?? this.nodes[target.fallback]!;
    }
    return this.nodes[target.index]!;
  }

  private applyNemesis(action: NemesisEvent['action']): void {
    this.counters.nemesisEvents++;
    const ids = (positions: readonly number[]) => positions.map((p) => this.nodes[p]!.id);
    switch (action.type) {
      case 'partition': {
        let groups = action.groups.map((group) => ids(group));
        const leader = action.withLeader ? this.currentLeader() : undefined;
        if (leader !== undefined && !groups[0]!.includes(leader.id)) {
          // Swap the leader into the first (minority) group.
          const moved = groups[0]![0]!;
          groups = groups.map((group) => group.map((id) => (id === leader.id ? moved : id === moved ? leader.id : id)));
        }
        this.network.partition(...groups);
        return;
      }
      case 'cut':
        for (const [from, to] of action.links) this.network.block(this.nodes[from]!.id, this.nodes[to]!.id);
        return;
      case 'heal-network':
        this.network.heal();
        return;
      case 'link-faults':
        this.network.setDefaultLink({ ...this.baseLink, ...action.faults });
        return;
      case 'clear-link-faults':
        this.network.setDefaultLink(this.baseLink);
        return;
      case 'crash': {
        const node = this.resolveTarget(action.target);
        if (node.state !== 'up') return;
        this.slots.set(action.slot, node);
        // Strike at a moment inside the step, between deliveries, so in-memory work may be lost.
        this.clock.setTimeout(() => this.contained(() => this.crash(node, action.point)), action.atMs);
        return;
      }
      case 'restart': {
        const node = this.slots.get(action.slot);
        if (node) this.restart(node);
        return;
      }
      case 'pause': {
        const node = this.resolveTarget(action.target);
        if (node.state !== 'up') return;
        this.slots.set(action.slot, node);
        node.state = 'paused';
        this.counters.pauses++;
        return;
      }
      case 'resume': {
        const node = this.slots.get(action.slot);
        if (node) this.resume(node);
        return;
      }
      case 'reconfigure':
        this.reconfiguration = { action, until: Math.min(this.step + RECONFIGURATION_RETRY_STEPS, this.nemesisEnd) };
        return;
      case 'heal-all':
        this.network.heal();
        this.network.setDefaultLink(this.baseLink);
        for (const node of this.nodes) {
          if (node.state === 'down') this.restart(node);
          else if (node.state === 'paused') this.resume(node);
        }
        return;
    }
  }

  // ------------------------------------------------------------------ clients

  private runClients(): void {
    this.workload.runClients(this.step, this.clientTargets(), (id) => this.byId.get(id));
  }

  /** The members of the latest configuration a live leader holds: where clients send operations. */
  private clientTargets(): SimNode[] {
    const config = this.currentLeader()?.core?.config;
    if (config !== undefined && config !== this.targetsConfig) {
      this.targetsConfig = config;
      const ids = members(config);
      this.targetNodes = this.nodes.filter((node) => ids.has(node.id));
    }
    return this.targetNodes;
  }

  /** Asks the current leader for the pending configuration change until it accepts it or the retry window closes. */
  private attemptReconfiguration(): void {
    const request = this.reconfiguration!;
    if (this.step >= request.until) {
      this.reconfiguration = undefined;
      return;
    }
    const leader = this.currentLeader();
    // No leader, or a joint change still in flight: try again next step.
    if (leader === undefined || leader.core!.config.outgoing !== undefined) return;
    const core = leader.core!;
    const { change, choice, weight } = request.action;
    const target = planReconfiguration(core.config.incoming, change, this.nodeIds, choice, weight);
    if (target === undefined) {
      this.reconfiguration = undefined;
      return;
    }
    try {
      core.proposeConfigChange(target);
    } catch (error) {
      // Not yet possible (no entry of its term committed yet, a change uncommitted, stepping down): retry.
      if (error instanceof ConfigurationError || error instanceof NotLeaderError || error instanceof ProposalDroppedError) return;
      this.fail('engine-error', `proposeConfigChange on ${leader.id} threw ${describe(error)}`);
    }
    this.reconfiguration = undefined;
    leader.dirty = true;
    this.counters.configChanges++;
  }

  /** A random payload of 8–24 bytes that starts with a run-unique counter, so no two proposals are equal. */
  private payload(): Uint8Array {
    const data = new Uint8Array(8 + this.random.int(0, 16));
    const view = new DataView(data.buffer);
    view.setFloat64(0, ++this.payloadCounter);
    for (let i = 8; i < data.length; i++) data[i] = this.random.int(0, 255);
    return data;
  }

  // ------------------------------------------------------------------ per-step checks

  private checkStep(): void {
    for (const node of this.nodes) {
      if (node.state === 'down') continue;
      const core = node.core!;
      if (core.term > this.maxTerm) this.maxTerm = core.term;
      // A paused leader keeps its view; only a live leader is checked for Append-Only.
      if (node.state === 'up' && core.role === 'leader') this.report(this.checker.leaderStep(this.step, node.id, core.term, core));
      else if (node.state === 'up' && node.reportedLeaderTerm === core.term) {
        this.checker.leaderLost(node.id);
        node.reportedLeaderTerm = -1;
      }
    }
    if (this.checkLiveness && this.step >= this.nemesisEnd && this.livenessStep === undefined) this.checkProgress();
  }

  /** Liveness after the final heal: a leader, then a fresh proposal committed on a quorum, within the bound. */
  private checkProgress(): void {
    const leader = this.currentLeader();
    if (leader !== undefined) {
      const core = leader.core!;
      if (this.probe === undefined || this.probe.node !== leader || this.probe.term !== core.term) {
        try {
          const proposed = core.propose(this.payload());
          this.probe = { node: leader, incarnation: leader.incarnation, index: proposed.index, term: proposed.term, since: this.step };
          leader.dirty = true;
          this.processDirty();
        } catch (error) {
          if (!(error instanceof NotLeaderError || error instanceof ProposalDroppedError)) {
            this.fail('engine-error', `propose on ${leader.id} threw ${describe(error)}`);
          }
        }
      }
    }
    const probe = this.probe;
    if (probe !== undefined) {
      const holders: NodeId[] = [];
      for (const node of this.nodes) {
        if (node.state !== 'up') continue;
        const core = node.core!;
        if (core.commitIndex < probe.index) continue;
        const term = core.termAt(probe.index);
        if (term === probe.term || (term === undefined && probe.index < core.firstIndex)) holders.push(node.id);
      }
      const config: ClusterConfig = probe.node.core?.config ?? { incoming: this.bootstrap };
      if (isQuorum(config, holders)) {
        this.livenessStep = this.step;
        return;
      }
    }
    const deadline = this.nemesisEnd + livenessBound(this.init.nodes, this.init.electionTicks);
    if (this.step >= deadline - 1) {
      this.fail(
        'liveness',
        probe === undefined
          ? `no leader within ${deadline - this.nemesisEnd} steps after the final heal`
          : `a proposal at index ${probe.index} (term ${probe.term}) did not commit on a quorum within ${deadline - this.nemesisEnd} steps after the final heal`,
      );
    }
  }

  // ------------------------------------------------------------------ violations

  private report(violation: PropertyViolation | undefined): void {
    if (violation === undefined) return;
    this.violation ??= violation;
    throw new StopRun(violation.detail);
  }

  private fail(property: SafetyProperty, detail: string): never {
    this.violation ??= { property, step: this.step, detail };
    throw new StopRun(detail);
  }

  /** Runs a callback of the network or the clock, which must not throw: the violation is kept and the step loop stops. */
  private contained(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      if (!(error instanceof StopRun)) this.violation ??= { property: 'engine-error', step: this.step, detail: describe(error) };
    }
  }

  /** Runs an engine call; an exception from the engine is a violation, not a crash of the simulator. */
  private guard<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (error instanceof StopRun) throw error;
      return this.fail('engine-error', describe(error));
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
