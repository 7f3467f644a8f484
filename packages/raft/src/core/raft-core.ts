import {
  type AppendRequest,
  type AppendResponse,
  type ClusterConfig,
  type Configuration,
  ConfigurationError,
  type HardState,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type Index,
  InvalidArgumentError,
  integerOption,
  isVoter,
  rejectUnknownOptions,
  type LogEntry,
  type Message,
  type NodeId,
  type NodeStatus,
  NotLeaderError,
  type PeerProgress,
  ProposalDroppedError,
  type ReadIndexRequest,
  type Role,
  seededRandom,
  type Snapshot,
  type SnapshotMetadata,
  type SnapshotRequest,
  type SnapshotResponse,
  type Term,
  validateConfiguration,
  type VoteRequest,
  type VoteResponse,
} from '@greenraft/consensus';
import { committedIndex, voteResult } from '../quorum/quorum.js';
import type { Proposed, RaftCoreOptions, RaftPolicy, Ready, SoftState } from './api.js';
import { ConfigHistory, checkConfigChange, copyConfiguration, enterJoint, leaveJoint, membership } from './confchange/index.js';
import { type EngineBug, type UnsafeLocalWeights, engineBugOf, unsafeLocalWeightsOf } from './engine-bugs.js';
import { InvariantViolationError } from './errors.js';
import { entryBytes, RaftLog } from './log.js';
import { ReadyTracker } from './rawnode.js';
import { SnapshotAssembly } from './snapshot-assembly.js';
import { ForwardedReads, ReadOnly, type ReadRequest } from './read-only.js';
import { defaultSeed } from './seed.js';
import { type ChunkTiming, type Progress, ProgressTracker, type SnapshotTransfer } from './tracker/index.js';

const EMPTY_CONFIG: ClusterConfig = { incoming: { voters: new Map(), learners: new Set() } };

/** Every option of {@link RaftCoreOptions}: the compiler checks the list is complete and exact. */
const CORE_OPTIONS = Object.keys({
  id: true,
  state: true,
  bootstrap: true,
  electionTicks: true,
  heartbeatTicks: true,
  random: true,
  seed: true,
  preVote: true,
  checkQuorum: true,
  maxInflightMessages: true,
  maxInflightBytes: true,
  maxMessageBytes: true,
  maxUncommittedBytes: true,
  snapshotChunkBytes: true,
  policy: true,
  readOnly: true,
  applied: true,
} satisfies Record<keyof RaftCoreOptions, true>);

/**
 * The pure, deterministic Raft state machine (etcd-io/raft's `raft`): no timers, no I/O, no clock,
 * no randomness of its own. Feed it `tick()`, `step(message)`, `propose(data)`, and collect its
 * work with `ready()` / `advance(ready)`. The same inputs always give the same outputs.
 *
 * The core keeps the roles and the messages; it builds on the progress tracker (`tracker/`), the
 * configurations of its log (`confchange/`), the read-only requests (`read-only.ts`) and the Ready
 * bookkeeping (`rawnode.ts`).
 *
 * Quorums (votes, commits, check-quorum, reads) are weighted by the configuration in the node's own
 * log: a set of voters Q is a quorum iff 2·Σ_{i∈Q} w_i > Σ_all w_i, in both halves while joint.
 *
 * @example
 * ```ts
 * import { configuration } from '@greenraft/consensus';
 * import { RaftCore } from '@greenraft/raft';
 *
 * const core = new RaftCore({ id: 'a', bootstrap: configuration(['a']) });
 * core.campaign();                       // a single voter elects itself at once
 * const ready = core.ready();            // persist ready.entries + ready.hardState, send ready.messages
 * core.advance(ready);
 * const { index } = core.propose(new TextEncoder().encode('hello'));
 * const next = core.ready();             // next.committedEntries holds the entry at `index`
 * core.advance(next);
 * ```
 */
export class RaftCore {
  /** This node's id. */
  readonly id: NodeId;

  private readonly electionTicks: number;
  private readonly heartbeatTicks: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxMessageBytes: number;
  private readonly maxUncommittedBytes: number;
  private readonly snapshotChunkBytes: number;
  private readonly chunkTiming: ChunkTiming;
  private readonly random: () => number;
  private readonly policy: RaftPolicy;
  private readonly bug: EngineBug | undefined;
  /** UNSAFE demonstration hook (see `UNSAFE_LOCAL_WEIGHTS_OPTION`); undefined in every real use. */
  private readonly unsafeLocalWeights: UnsafeLocalWeights | undefined;

  private _term: Term = 0;
  private _vote: NodeId | undefined = undefined;
  private _role: Role = 'follower';
  private _leader: NodeId | undefined = undefined;
  private readonly log: RaftLog;
  private _commit: Index = 0;
  private _applied: Index = 0;
  private _ticks = 0;
  private _steps = 0;

  /** The latest snapshot this node holds (taken locally or installed), for lagging followers. */
  private latestSnapshot: Snapshot | undefined;
  /** A snapshot received from the leader, to hand to the driver in the next Ready. */
  private snapshotToInstall: Snapshot | undefined;
  /** A snapshot the leader is sending, chunk by chunk. */
  private readonly assembly = new SnapshotAssembly();

  private readonly configs: ConfigHistory;
  private _config: ClusterConfig = EMPTY_CONFIG;
  private voterIds: readonly NodeId[] = [];
  private memberIds: ReadonlySet<NodeId> = new Set();
  private promotable = false;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private transferElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** False while the constructor runs (it draws the first timeout itself). */
  private started = false;

  private readonly tracker: ProgressTracker;
  private transferee: NodeId | undefined = undefined;
  private uncommittedBytes = 0;
  private broadcastEntries = false;
  private broadcastCommit = false;

  private readonly reads: ReadOnly;
  /** On a follower: its reads, asked of the leader one batched request at a time. */
  private readonly forwarded: ForwardedReads;
  private readonly output: ReadyTracker;

  /**
   * @throws InvalidArgumentError for an unknown option (a misspelt `electionTick`, say), an
   *   out-of-range value, or `readOnly: 'lease'` without `checkQuorum`
   * @throws ConfigurationError for an invalid `bootstrap`
   */
  constructor(options: RaftCoreOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('new RaftCore needs an options object');
    // A misspelt option would otherwise be ignored silently (in JavaScript, or through a spread).
    rejectUnknownOptions('new RaftCore', options, CORE_OPTIONS);
    if (typeof options.id !== 'string' || options.id.length === 0) {
      throw new InvalidArgumentError('a node id must be a non-empty string');
    }
    this.id = options.id;
    this.electionTicks = integerOption('electionTicks', options.electionTicks ?? 10, { min: 1 });
    this.heartbeatTicks = integerOption('heartbeatTicks', options.heartbeatTicks ?? 1, { min: 1 });
    if (this.heartbeatTicks >= this.electionTicks) {
      throw new InvalidArgumentError('heartbeatTicks must be smaller than electionTicks');
    }
    this.preVote = options.preVote ?? true;
    this.checkQuorum = options.checkQuorum ?? true;
    const readOnly = options.readOnly ?? 'safe';
    if (readOnly === 'lease' && !this.checkQuorum) {
      throw new InvalidArgumentError("readOnly: 'lease' is only safe with checkQuorum");
    }
    const maxInflightMessages = integerOption('maxInflightMessages', options.maxInflightMessages ?? 256, { min: 1 });
    const maxInflightBytes = integerOption('maxInflightBytes', options.maxInflightBytes ?? 0, { min: 0 });
    this.maxMessageBytes = integerOption('maxMessageBytes', options.maxMessageBytes ?? 1024 * 1024, { min: 1 });
    this.maxUncommittedBytes = integerOption('maxUncommittedBytes', options.maxUncommittedBytes ?? 0, { min: 0 });
    this.snapshotChunkBytes = integerOption('snapshotChunkBytes', options.snapshotChunkBytes ?? 256 * 1024, { min: 1 });
    // An unmeasured link gets an election timeout to answer a chunk; a measured one never less than 2 ticks
    // (a tick boundary may fall between a chunk and its answer).
    this.chunkTiming = { initial: this.electionTicks, min: 2 };
    this.random = options.random ?? seededRandom(options.seed ?? defaultSeed(this.id));
    this.policy = options.policy ?? {};
    this.bug = engineBugOf(options);
    this.unsafeLocalWeights = unsafeLocalWeightsOf(options);
    if (options.bootstrap !== undefined) validateConfiguration(options.bootstrap);
    this.tracker = new ProgressTracker(maxInflightMessages, maxInflightBytes);
    this.reads = new ReadOnly(readOnly);
    // An election timeout: an alive leader with a quorum answers well within it (check-quorum deposes one without).
    this.forwarded = new ForwardedReads(this.electionTicks);

    const state = options.state;
    const snapshot = state?.snapshot;
    const baseConfig: ClusterConfig =
      snapshot?.metadata.config ?? (options.bootstrap ? { incoming: copyConfiguration(options.bootstrap) } : EMPTY_CONFIG);
    const snapshotIndex = snapshot?.metadata.index ?? 0;
    const snapshotTerm = snapshot?.metadata.term ?? 0;
    const entries = [...(state?.entries ?? [])];
    entries.forEach((entry, position) => {
      if (entry.index !== snapshotIndex + 1 + position) {
        throw new InvalidArgumentError(`stored entries must follow the snapshot contiguously (entry ${entry.index} at position ${position})`);
      }
    });
    this.log = new RaftLog(snapshotIndex, snapshotTerm, entries, snapshotIndex + entries.length + 1);
    this.latestSnapshot = snapshot;
    this.configs = new ConfigHistory(snapshotIndex, baseConfig, entries);

    const hardState = state?.hardState;
    if (hardState !== undefined && this.bug !== 'forget-term-on-restart') {
      this._term = hardState.term;
      this._vote = hardState.vote;
    }
    // BUG(forget-term-on-restart): the persisted term and vote above are skipped.
    this._commit = Math.min(Math.max(hardState?.commit ?? 0, snapshotIndex), this.log.lastIndex);
    this._applied = Math.min(Math.max(options.applied ?? snapshotIndex, snapshotIndex), this._commit);
    this.output = new ReadyTracker(this.hardState(), this.softState());
    this.refreshConfig();
    this.resetElectionTimer();
    this.started = true;
  }

  // ---------------------------------------------------------------- introspection

  /** The current term. */
  get term(): Term {
    return this._term;
  }
  /** The candidate this node voted for in the current term. */
  get vote(): NodeId | undefined {
    return this._vote;
  }
  get role(): Role {
    return this._role;
  }
  /** The leader this node knows of in the current term. */
  get leader(): NodeId | undefined {
    return this._leader;
  }
  get commitIndex(): Index {
    return this._commit;
  }
  /** The highest index the driver has applied (acknowledged through `advance`). */
  get appliedIndex(): Index {
    return this._applied;
  }
  /** The first index still in the in-memory log (just after the snapshot). */
  get firstIndex(): Index {
    return this.log.firstIndex;
  }
  get lastIndex(): Index {
    return this.log.lastIndex;
  }
  get lastTerm(): Term {
    return this.log.lastTerm;
  }
  /** Ticks since construction. */
  get ticks(): number {
    return this._ticks;
  }
  /** Messages stepped since construction (every call of {@link step} counts, ignored ones too). */
  get steps(): number {
    return this._steps;
  }
  /** What the in-memory log starts after. */
  get snapshotMetadata(): SnapshotMetadata {
    return { index: this.log.snapshotIndex, term: this.log.snapshotTerm, config: this.configs.base };
  }
  /** The configuration in effect: the latest config entry in the log, committed or not. */
  get config(): ClusterConfig {
    return this._config;
  }
  /** On the leader: the follower leadership is being handed to. */
  get leadTransferee(): NodeId | undefined {
    return this.transferee;
  }
  /** The entry at `index`, or `undefined` when compacted or beyond the log. */
  entry(index: Index): LogEntry | undefined {
    return this.log.entry(index);
  }
  /** The term of the entry at `index` (the snapshot's at its index), or `undefined` when unknown. */
  termAt(index: Index): Term | undefined {
    return this.log.termAt(index);
  }
  /** The entries in [lo, hi) still in the in-memory log. */
  entriesFrom(lo: Index, hi: Index = this.log.lastIndex + 1): LogEntry[] {
    return this.log.slice(lo, hi);
  }
  /** On the leader: each follower's replication state; empty elsewhere. */
  progress(): Map<NodeId, PeerProgress> {
    const view = new Map<NodeId, PeerProgress>();
    if (this._role !== 'leader') return view;
    view.set(this.id, { match: this.log.lastIndex, next: this.log.lastIndex + 1, state: 'replicate', recentActive: true });
    for (const [id, pr] of this.tracker.entries()) {
      view.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
    }
    return view;
  }
  /** A snapshot of this node's state. */
  status(): NodeStatus {
    const base = {
      id: this.id,
      role: this._role,
      term: this._term,
      leader: this._leader,
      commitIndex: this._commit,
      appliedIndex: this._applied,
      lastIndex: this.log.lastIndex,
      config: this._config,
    };
    return this._role === 'leader' ? { ...base, progress: this.progress() } : base;
  }
  /**
   * The metadata a snapshot of the state machine at `index` must carry (term and configuration at
   * that index). The driver calls it when it snapshots, then hands the snapshot to {@link snapshotTaken}.
   */
  snapshotMetadataAt(index: Index): SnapshotMetadata {
    const term = this.log.termAt(index);
    if (term === undefined || index > this._applied) {
      throw new InvalidArgumentError(`index ${index} is not an applied index still in the log`);
    }
    return { index, term, config: this.configs.at(index) };
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick: election timeouts, heartbeats, check-quorum. */
  tick(): void {
    this._ticks++;
    if (this._role === 'leader') this.tickLeader();
    else {
      for (const context of this.forwarded.tick()) this.output.addDroppedRead(context);
      this.tickElection();
    }
  }

  /**
   * Starts an election now (with a pre-vote first when enabled). Ignored on the leader and on a node
   * that votes in neither its latest configuration nor, while that one is uncommitted, the committed one.
   */
  campaign(): void {
    if (this._role === 'leader' || !this.mayCampaign()) return;
    this.startCampaign(this.preVote ? 'preVote' : 'election', false);
  }

  /**
   * Appends `data` to the leader's log.
   * @throws NotLeaderError on a non-leader, carrying the leader it knows of
   * @throws ProposalDroppedError during a leadership transfer, or when the uncommitted log is over its bound
   */
  propose(data: Uint8Array): Proposed {
    if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('a proposal must be a Uint8Array');
    this.checkCanPropose();
    if (this.maxUncommittedBytes > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + data.byteLength > this.maxUncommittedBytes) {
      throw new ProposalDroppedError(`the uncommitted log is over its bound of ${this.maxUncommittedBytes} bytes`, { reason: 'overloaded' });
    }
    const index = this.log.lastIndex + 1;
    this.appendAsLeader([{ type: 'normal', term: this._term, index, data }]);
    return { index, term: this._term };
  }

  /**
   * Starts a membership/weight change to `target` by joint consensus (thesis ch. 4): appends
   * C(old,new) now and C(new) once that commits.
   * @throws NotLeaderError on a non-leader
   * @throws ConfigurationError for an invalid target, a target equal to the current configuration,
   *   a change still in flight, or a leader that has not yet committed an entry of its term
   */
  proposeConfigChange(target: Configuration): Proposed {
    if (this._role !== 'leader') throw new NotLeaderError(this._leader);
    checkConfigChange(this._config, target, {
      latestConfigIndex: this.configs.latestIndex,
      commitIndex: this._commit,
      committedInTerm: this.log.termAt(this._commit) === this._term,
    });
    this.checkCanPropose();
    const index = this.log.lastIndex + 1;
    this.appendAsLeader([{ type: 'config', term: this._term, index, config: enterJoint(this._config, target) }]);
    return { index, term: this._term };
  }

  /**
   * Requests a linearizable read (ReadIndex, thesis §6.4). A `ReadState` with `context` comes out
   * of a later Ready once leadership is confirmed; serve the read when applied ≥ its index.
   * `context` must be unique among this node's reads, across restarts too.
   *
   * On a follower, the reads that arrive while its request to the leader is in flight go out
   * together in its next request (one request at a time, the first read's context naming it), and
   * share the read index the leader answers. A read that will not be served comes out in
   * `Ready.droppedReads`: the leader answered that it cannot serve it, its request went unanswered
   * for an election timeout (`electionTicks`), or the follower moved to a newer term.
   * @throws NotLeaderError when no leader is known
   */
  readIndex(context: string): void {
    if (typeof context !== 'string') throw new InvalidArgumentError('a read context must be a string');
    if (this._role === 'leader') {
      this.handleReadRequest({ requester: this.id, context });
      return;
    }
    if (this._leader === undefined) throw new NotLeaderError(undefined);
    // Batched: the request leaves with the next Ready (flushReads), once none is in flight.
    this.forwarded.add(context);
  }

  /**
   * Hands leadership to `to` (thesis §3.10): proposals stop, `to` is caught up, then told to
   * campaign at once. Aborted after an election timeout.
   * @throws NotLeaderError on a non-leader
   * @throws ConfigurationError when `to` is not a voter
   */
  transferLeadership(to: NodeId): void {
    if (this._role !== 'leader') throw new NotLeaderError(this._leader);
    if (to === this.id) {
      this.transferee = undefined;
      return;
    }
    const pr = this.tracker.get(to);
    if (pr === undefined || !this._config.incoming.voters.has(to)) {
      throw new ConfigurationError(`${to} is not a voter of the current configuration`);
    }
    if (this.transferee === to) return;
    this.transferee = to;
    this.transferElapsed = 0;
    if (pr.match === this.log.lastIndex) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  /**
   * The driver persisted a snapshot of the state machine at `snapshot.metadata.index` (≤ applied):
   * the in-memory log is compacted up to it, and it is sent to followers that fall behind.
   * Build its metadata with {@link snapshotMetadataAt}.
   */
  snapshotTaken(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index > this._applied) throw new InvalidArgumentError(`snapshot index ${index} is beyond the applied index ${this._applied}`);
    if (index < this.log.snapshotIndex) return;
    if (this.log.termAt(index) !== term) {
      throw new InvalidArgumentError(`snapshot term ${term} does not match the log's term at index ${index}`);
    }
    this.log.compactTo(index, term);
    this.latestSnapshot = snapshot;
    this.configs.compact(index, snapshot.metadata.config);
  }

  /**
   * The transport could not deliver a message to `peer` (etcd-io/raft's `ReportUnreachable`): on the
   * leader, a follower in replicate state goes back to probe, so the leader stops pipelining appends
   * into a queue that does not drain and probes it instead; for a follower receiving a snapshot, the
   * chunk in flight counts as lost and goes again as soon as the follower answers anything (its next
   * heartbeat answer once the link is back). Ignored elsewhere.
   */
  reportUnreachable(peer: NodeId): void {
    if (this._role !== 'leader') return;
    const pr = this.tracker.get(peer);
    if (pr?.state === 'replicate') pr.becomeProbe();
    else if (pr?.state === 'snapshot') pr.transfer?.unreachable();
  }

  /**
   * Feeds a message from a peer. Whatever its term or sender, a well-typed message (one that
   * `messageProblem` from `@greenraft/consensus` accepts) is handled or ignored and never makes the
   * core throw, with one exception: {@link InvariantViolationError}, when handling it would break a
   * Raft invariant (a leader asking to overwrite a committed entry), which only a bug can cause.
   * The core must then not be used again: stop the node, never serve its log. (A throwing
   * {@link RaftPolicy} callback propagates too.)
   *
   * @throws InvariantViolationError
   */
  step(m: Message): void {
    this._steps++;
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this._term) {
      if (m.type === 'voteRequest') {
        // Leader lease (check-quorum): a node that heard from a leader recently ignores disruptive candidates.
        const inLease = this.checkQuorum && this._leader !== undefined && this.electionElapsed < this.electionTicks;
        if (inLease && !m.transfer) return;
      }
      if (m.type === 'voteRequest' && m.preVote) {
        // A pre-vote changes no state: the term is not adopted.
      } else if (m.type === 'voteResponse' && m.preVote && m.granted) {
        // Granted pre-votes carry the future term; the candidate adopts it only when it campaigns.
      } else {
        const fromLeader = m.type === 'appendRequest' || m.type === 'heartbeat' || m.type === 'snapshotRequest';
        this.becomeFollower(m.term, fromLeader ? m.from : undefined);
      }
    } else if (m.term < this._term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'appendRequest' || m.type === 'heartbeat')) {
        // Tell a stale leader about the newer term, so it steps down instead of being ignored forever.
        this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this._term, success: false, index: 0, hintIndex: 0, hintTerm: 0 });
      } else if (m.type === 'voteRequest' && m.preVote) {
        this.send({ type: 'voteResponse', from: this.id, to: m.from, term: this._term, preVote: true, granted: false });
      }
      return;
    }

    switch (m.type) {
      case 'voteRequest':
        this.handleVoteRequest(m);
        return;
      case 'voteResponse':
        if (this._role === 'preCandidate' && m.preVote) this.pollVote(m);
        else if (this._role === 'candidate' && !m.preVote && m.term === this._term) this.pollVote(m);
        return;
      case 'appendRequest':
      case 'heartbeat':
      case 'snapshotRequest':
        if (this._role === 'leader') return; // another leader in our term cannot exist; ignore
        if (this._role !== 'follower') this.becomeFollower(this._term, m.from);
        this._leader = m.from;
        this.electionElapsed = 0;
        if (m.type === 'appendRequest') this.handleAppendRequest(m);
        else if (m.type === 'heartbeat') this.handleHeartbeat(m);
        else this.handleSnapshotRequest(m);
        return;
      case 'appendResponse':
        if (this._role === 'leader') this.handleAppendResponse(m);
        return;
      case 'heartbeatResponse':
        if (this._role === 'leader') this.handleHeartbeatResponse(m);
        return;
      case 'snapshotResponse':
        if (this._role === 'leader') this.handleSnapshotResponse(m);
        return;
      case 'timeoutNow':
        if (this._role === 'follower' && this.mayCampaign()) this.startCampaign('election', true);
        return;
      case 'readIndexRequest':
        this.handleRemoteRead(m);
        return;
      case 'readIndexResponse':
        // One answer serves every read of the request; an answer to a request given up serves none.
        for (const context of this.forwarded.answered(m.context)) {
          if (m.index >= 0) this.output.addReadState({ context, index: m.index });
          else this.output.addDroppedRead(context);
        }
        return;
    }
  }

  // ---------------------------------------------------------------- output

  /** True when {@link ready} has work for the driver. */
  hasReady(): boolean {
    this.flushAppends();
    this.flushReads();
    if (this.output.hasOutput) return true;
    if (this.log.unstableFrom <= this.log.lastIndex || this.snapshotToInstall !== undefined) return true;
    if (this.applyLimit() > this.applyFrom() - 1) return true;
    return this.output.stateChanged(this.hardState(), this.softState());
  }

  /**
   * The pending work, in the order the driver must do it (see {@link Ready}). Calling it again
   * before {@link advance} returns the same work plus anything new.
   */
  ready(): Ready {
    this.flushAppends();
    this.flushReads();
    const from = this.applyFrom();
    const limit = this.applyLimit();
    return this.output.ready({
      hardState: this.hardState(),
      softState: this.softState(),
      entries: this.log.unstableFrom <= this.log.lastIndex ? this.log.slice(this.log.unstableFrom, this.log.lastIndex + 1) : [],
      committedEntries: limit >= from ? this.log.slice(from, limit + 1) : [],
      snapshot: this.snapshotToInstall,
    });
  }

  /** The driver finished `ready`: its entries and hard state are durable, its messages sent, its committed entries applied. */
  advance(rd: Ready): void {
    const lastPersisted = rd.entries[rd.entries.length - 1];
    if (lastPersisted !== undefined && this.log.termAt(lastPersisted.index) === lastPersisted.term) {
      // Only if no newer entries replaced them meanwhile (a truncation already lowered unstableFrom).
      this.log.unstableFrom = Math.max(this.log.unstableFrom, lastPersisted.index + 1);
    }
    if (rd.snapshot !== undefined) {
      this._applied = Math.max(this._applied, rd.snapshot.metadata.index);
      if (this.snapshotToInstall === rd.snapshot) this.snapshotToInstall = undefined;
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied !== undefined) this._applied = Math.max(this._applied, lastApplied.index);
    this.output.advance(rd);
  }

  // ---------------------------------------------------------------- roles

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const drawn = this.policy.electionTimeoutTicks?.({
      id: this.id,
      config: this._config,
      electionTicks: this.electionTicks,
      random: this.random,
    });
    // Raft §5.2: randomized timeouts in [T, 2T) make split votes rare.
    this.randomizedElectionTimeout = Math.max(1, Math.floor(drawn ?? this.electionTicks + Math.floor(this.random() * this.electionTicks)));
  }

  private reset(term: Term): void {
    if (this._term !== term) {
      this._term = term;
      this._vote = undefined;
      // Answers from the old term are ignored from now on (step), so a follower's reads could only time out.
      for (const context of this.forwarded.drop()) this.output.addDroppedRead(context);
      // A partly received snapshot is from this term's one leader: dropped with the term, kept within
      // it, so a follower that campaigned and hears from that leader again resumes it.
      this.assembly.reset();
    }
    if (this._role === 'leader') this.dropPendingReads();
    this._leader = undefined;
    this.resetElectionTimer();
    this.heartbeatElapsed = 0;
    this.transferee = undefined;
    this.transferElapsed = 0;
    this.tracker.reset();
    this.uncommittedBytes = 0;
    this.broadcastEntries = false;
    this.broadcastCommit = false;
  }

  private becomeFollower(term: Term, leader: NodeId | undefined): void {
    this.reset(term);
    this._role = 'follower';
    this._leader = leader;
  }

  private startCampaign(kind: 'preVote' | 'election', transfer: boolean): void {
    let voteTerm: Term;
    if (kind === 'preVote') {
      // Thesis §9.6: ask with term+1 but keep our term until a quorum says we could win.
      this._role = 'preCandidate';
      this._leader = undefined;
      this.tracker.resetVotes();
      this.resetElectionTimer();
      voteTerm = this._term + 1;
    } else {
      this.reset(this._term + 1);
      this._role = 'candidate';
      this._vote = this.id;
      voteTerm = this._term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes(this.quorumConfig()) === 'won') {
      if (kind === 'preVote') this.startCampaign('election', transfer);
      else this.becomeLeader();
      return;
    }
    for (const id of this.voterIds) {
      if (id === this.id) continue;
      this.send({
        type: 'voteRequest',
        from: this.id,
        to: id,
        term: voteTerm,
        preVote: kind === 'preVote',
        lastLogIndex: this.log.lastIndex,
        lastLogTerm: this.log.lastTerm,
        transfer,
      });
    }
  }

  private pollVote(m: VoteResponse): void {
    if (!this.tracker.recordVote(m.from, m.granted)) return;
    const result = this.tracker.tallyVotes(this.quorumConfig());
    if (result === 'won') {
      if (this._role === 'preCandidate') this.startCampaign('election', false);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this._term, undefined);
    }
  }

  private becomeLeader(): void {
    this.reset(this._term);
    this._role = 'leader';
    this._leader = this.id;
    // Only the leader itself counts as recently active at the start of its term (check-quorum).
    this.syncPeers(false);
    // §5.4.2: a leader commits entries of earlier terms only through an entry of its own term.
    this.appendAsLeader([{ type: 'normal', term: this._term, index: this.log.lastIndex + 1, data: new Uint8Array(0) }]);
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.mayCampaign()) {
      // §5.2: no word from a leader for an election timeout: start an election.
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.transferee !== undefined && ++this.transferElapsed >= this.electionTicks) {
      // Thesis §3.10: the transfer did not complete within an election timeout; resume normal operation.
      this.transferee = undefined;
      this.transferElapsed = 0;
    }
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      // Check-quorum: step down when no weighted quorum talked to us during the last election timeout.
      if (this.checkQuorum && !this.tracker.quorumActive(this.quorumConfig(), this.id)) {
        this.becomeFollower(this._term, undefined);
        return;
      }
    }
    for (const [id, pr] of this.tracker.entries()) {
      // A snapshot chunk whose answer is overdue goes again (a timeout in ticks, not per heartbeat).
      if (pr.state === 'snapshot' && pr.transfer?.tick()) this.sendSnapshotChunk(id, pr.transfer);
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      // Reads waiting for a round ride on the heartbeat; a stalled round is asked again.
      this.broadcastHeartbeat(this.reads.heartbeatContext(this._term, this.id));
    }
  }

  // ---------------------------------------------------------------- configuration

  /**
   * The configuration quorums are counted in: the one in effect, unless the UNSAFE local-weights
   * hook (tests only) overrides its weights, which is exactly what weighted Raft must never do.
   */
  private quorumConfig(): ClusterConfig {
    const local = this.unsafeLocalWeights?.();
    if (local === undefined) return this._config;
    const voters = new Map<NodeId, number>();
    for (const [id, weight] of this._config.incoming.voters) voters.set(id, local.get(id) ?? weight);
    return { incoming: { voters, learners: this._config.incoming.learners } };
  }

  /**
   * Thesis §4.2.2: a voter of its latest configuration campaigns, and so does a node that a
   * configuration not yet known committed removes, while it is a voter of the committed one: it may
   * hold the only copy of C(new) and be needed to commit it. Its own vote counts only where it votes.
   */
  private mayCampaign(): boolean {
    if (this.promotable) return true;
    if (this.configs.latestIndex <= this._commit) return false;
    return isVoter(this.configs.at(this._commit), this.id);
  }

  /** Recomputes the configuration in effect; called whenever the log or commit index changes it. */
  private refreshConfig(): void {
    // BUG(config-applied-on-commit): the configuration takes effect only once its entry commits.
    const effective = this.bug === 'config-applied-on-commit' ? this.configs.at(this._commit) : this.configs.latest;
    if (effective === this._config) return;
    this._config = effective;
    const { voterIds, memberIds } = membership(effective);
    this.voterIds = voterIds;
    this.memberIds = memberIds;
    this.promotable = voterIds.includes(this.id);
    if (this._role === 'leader') this.syncPeers(true);
    else if (this.policy.electionTimeoutTicks !== undefined && this.started) {
      // A policy timeout may depend on the weights (eq. 7 ranks): redraw it so new ranks apply
      // at once, keeping the time already waited.
      const elapsed = this.electionElapsed;
      this.resetElectionTimer();
      this.electionElapsed = elapsed;
    }
  }

  /**
   * On the leader: one progress per member of the configuration; new members start probing.
   * `addedActive`: whether a member added now counts as recently active (etcd-io/raft: yes when a
   * configuration change adds it mid-term, so check-quorum gives it a chance to answer; no for the
   * peers of a brand-new leader, which must hear from a quorum within its first election timeout).
   */
  private syncPeers(addedActive: boolean): void {
    if (this.tracker.sync(this.memberIds, this.id, this.log.lastIndex + 1, addedActive)) this.broadcastEntries = true;
    if (this.transferee !== undefined && !this.tracker.has(this.transferee)) this.transferee = undefined;
  }

  // ---------------------------------------------------------------- log

  private checkCanPropose(): void {
    if (this._role !== 'leader') throw new NotLeaderError(this._leader);
    if (this.transferee !== undefined) throw new ProposalDroppedError(`leadership is being transferred to ${this.transferee}`, { reason: 'transferring' });
    if (!this.memberIds.has(this.id)) throw new ProposalDroppedError('this leader is leaving the configuration', { reason: 'leaving' });
  }

  private appendAsLeader(entries: LogEntry[]): void {
    this.log.append(entries);
    for (const entry of entries) if (entry.type === 'normal') this.uncommittedBytes += entry.data.byteLength;
    if (this.configs.append(entries)) this.refreshConfig();
    this.tracker.acknowledgeSelf(this.log.lastIndex, this._ticks, this._steps);
    this.broadcastEntries = true;
    this.maybeCommit();
  }

  /** Appends entries from the leader after `prevIndex`, truncating a conflicting suffix (§5.3). */
  private appendFromLeader(entries: readonly LogEntry[]): void {
    const conflict = this.log.findConflict(entries);
    if (conflict === 0) return;
    if (conflict <= this._commit) {
      throw new InvariantViolationError(`entry ${conflict} conflicts with the leader's log but is already committed (commit ${this._commit})`);
    }
    const first = entries[0]!.index;
    const fresh = entries.slice(conflict - first);
    let configChanged = false;
    if (conflict <= this.log.lastIndex) {
      this.log.truncateFrom(conflict);
      // Configurations take effect when appended, so a truncated config entry rolls back.
      configChanged = this.configs.truncate(conflict);
    }
    this.log.append(fresh);
    if (this.configs.append(fresh)) configChanged = true;
    if (configChanged) this.refreshConfig();
  }

  private commitTo(index: Index): void {
    const bounded = Math.min(index, this.log.lastIndex);
    if (bounded <= this._commit) return;
    this._commit = bounded;
    if (this.bug === 'config-applied-on-commit') this.refreshConfig();
  }

  private maybeCommit(): boolean {
    let index = committedIndex(this.quorumConfig(), (id) => (id === this.id ? this.log.lastIndex : this.tracker.get(id)?.match));
    // BUG(commit-without-quorum): the leader commits whatever it appends, alone.
    if (this.bug === 'commit-without-quorum') index = this.log.lastIndex;
    // §5.4.2: only entries of the leader's own term are committed by counting replicas.
    if (index <= this._commit || this.log.termAt(index) !== this._term) return false;
    const previous = this._commit;
    this.commitTo(index);
    this.onLeaderCommit(previous);
    return true;
  }

  private onLeaderCommit(previous: Index): void {
    this.output.addCommitQuorum(this.tracker.commitQuorum(this.quorumConfig(), this.voterIds, this.id, this._commit, this._term, this._ticks));
    for (let i = previous + 1; i <= this._commit; i++) {
      const entry = this.log.entry(i);
      if (entry?.type === 'normal' && entry.term === this._term) this.uncommittedBytes -= entry.data.byteLength;
    }
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    this.broadcastCommit = true;
    if (this.reads.hasDeferred) {
      for (const read of this.reads.takeDeferred()) this.handleReadRequest(read);
    }
    if (this.configs.latestIndex <= this._commit) {
      if (this._config.outgoing !== undefined) {
        // Thesis ch. 4: C(old,new) committed; move on to C(new) alone.
        const index = this.log.lastIndex + 1;
        this.appendAsLeader([{ type: 'config', term: this._term, index, config: leaveJoint(this._config) }]);
      } else if (!this.promotable) {
        // C(new) committed without this leader: tell followers, hand over to an up-to-date voter, step down.
        this.flushAppends();
        const successor = this.voterIds.find((id) => this.tracker.get(id)?.match === this.log.lastIndex);
        if (successor !== undefined) this.sendTimeoutNow(successor);
        this.becomeFollower(this._term, undefined);
      }
    }
  }

  private hardState(): HardState {
    return { term: this._term, vote: this._vote, commit: this._commit };
  }

  private softState(): SoftState {
    return { role: this._role, leader: this._leader, term: this._term };
  }

  private applyFrom(): Index {
    return Math.max(this._applied, this.snapshotToInstall?.metadata.index ?? 0) + 1;
  }

  private applyLimit(): Index {
    // BUG(apply-uncommitted): hand out every entry in the log, committed or not.
    if (this.bug === 'apply-uncommitted') return this.log.lastIndex;
    return this._commit;
  }

  // ---------------------------------------------------------------- replication (leader)

  private send(m: Message): void {
    this.output.send(m);
  }

  /** Sends the batched appends of this round: several proposals between two Readys share one AppendRequest. */
  private flushAppends(): void {
    if (this._role !== 'leader' || (!this.broadcastEntries && !this.broadcastCommit)) return;
    const sendIfEmpty = this.broadcastCommit;
    this.broadcastEntries = false;
    this.broadcastCommit = false;
    for (const id of this.tracker.ids()) this.sendAppend(id, sendIfEmpty);
  }

  /** Sends what `to` is missing, as far as flow control allows; returns false if nothing was sent. */
  private sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.get(to);
    if (pr === undefined) return false;
    let sent = false;
    let allowEmpty = sendIfEmpty;
    while (!pr.paused) {
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.termAt(prevIndex);
      if (prevTerm === undefined) {
        if (prevIndex < this.log.snapshotIndex) return this.sendSnapshot(to, pr) || sent;
        pr.next = this.log.lastIndex + 1; // cannot happen on a leader: its log never shrinks
        continue;
      }
      const entries = this.log.slice(pr.next, this.log.lastIndex + 1, this.maxMessageBytes);
      if (entries.length === 0 && !allowEmpty) return sent;
      this.send({ type: 'appendRequest', from: this.id, to, term: this._term, prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries, commitIndex: this._commit });
      sent = true;
      allowEmpty = false;
      if (pr.state !== 'replicate') {
        pr.probeSent = true;
        return true;
      }
      if (entries.length === 0) return true;
      // Replicate state: optimistically pipeline further appends while flow control allows.
      let bytes = 0;
      for (const entry of entries) bytes += entryBytes(entry);
      const last = entries[entries.length - 1]!.index;
      pr.next = last + 1;
      pr.inflights.add(last, bytes);
      if (pr.next > this.log.lastIndex) return true;
    }
    return sent;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    const snapshot = this.latestSnapshot;
    if (snapshot === undefined) return false;
    pr.becomeSnapshot(snapshot, this.chunkTiming);
    this.sendSnapshotChunk(to, pr.transfer!);
    return true;
  }

  /** Sends the chunk of `transfer` that starts at its offset (the one the follower needs next). */
  private sendSnapshotChunk(to: NodeId, transfer: SnapshotTransfer): void {
    const { snapshot, offset } = transfer;
    const end = Math.min(offset + this.snapshotChunkBytes, snapshot.data.byteLength);
    transfer.sent(this._ticks);
    this.send({
      type: 'snapshotRequest',
      from: this.id,
      to,
      term: this._term,
      metadata: snapshot.metadata,
      offset,
      chunk: snapshot.data.subarray(offset, end),
      done: end >= snapshot.data.byteLength,
    });
  }

  private broadcastHeartbeat(context: string | undefined): void {
    for (const [id, pr] of this.tracker.entries()) {
      const heartbeat: HeartbeatRequest = {
        type: 'heartbeat',
        from: this.id,
        to: id,
        term: this._term,
        // A follower may not yet hold the leader's commit index entry; it only learns what matches.
        commitIndex: Math.min(pr.match, this._commit),
        ...(context === undefined ? {} : { context }),
      };
      this.send(heartbeat);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'timeoutNow', from: this.id, to, term: this._term });
  }

  private handleAppendResponse(m: AppendResponse): void {
    const pr = this.tracker.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (!m.success) {
      // Fast back-off: probe from the last index whose term could match the follower's hint.
      const probeFrom = m.hintTerm > 0 ? this.log.findConflictByTerm(m.hintIndex, m.hintTerm) : m.hintIndex;
      if (pr.maybeDecrTo(m.index, probeFrom)) this.sendAppend(m.from, true);
      return;
    }
    const updated = this.tracker.acknowledge(pr, m.index, this._ticks, this._steps);
    if (!updated && !(pr.match === m.index && pr.state === 'probe')) return;
    pr.accepted(m.index);
    if (updated && this.maybeCommit() && this._role !== 'leader') return;
    this.sendAppend(m.from, false);
    if (m.from === this.transferee && pr.match === this.log.lastIndex) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.tracker.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'snapshot') {
      // No resend per heartbeat: only a chunk given up as lost (a break, an unreachable report) goes again.
      if (pr.transfer?.contact()) this.sendSnapshotChunk(m.from, pr.transfer);
    } else if (pr.match < this.log.lastIndex || pr.state === 'probe') {
      this.sendAppend(m.from, true);
    }
    if (m.context !== undefined) this.ackRead(m.from, m.context);
  }

  private handleSnapshotResponse(m: SnapshotResponse): void {
    const pr = this.tracker.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    const transfer = pr.transfer;
    if (pr.state !== 'snapshot' || transfer === undefined) return;
    if (m.index !== pr.pendingSnapshot) {
      if (transfer.contact()) this.sendSnapshotChunk(m.from, transfer);
      return;
    }
    if (m.offset < 0) {
      pr.becomeProbe();
      this.sendAppend(m.from, true);
      return;
    }
    if (m.done) {
      this.tracker.acknowledge(pr, m.index, this._ticks, this._steps);
      pr.becomeProbe();
      this.maybeCommit();
      if (this._role === 'leader') this.sendAppend(m.from, true);
      return;
    }
    // Only an answer that moves the follower on sends the next chunk: duplicates and stale answers send nothing.
    if (transfer.answered(m.offset, this._ticks) || transfer.contact()) this.sendSnapshotChunk(m.from, transfer);
  }

  // ---------------------------------------------------------------- follower side

  private handleVoteRequest(m: VoteRequest): void {
    const canVote =
      this._vote === m.from ||
      (this._vote === undefined && this._leader === undefined) ||
      (m.preVote && m.term > this._term) ||
      // BUG(vote-twice): grant a vote even after voting for someone else in this term.
      (this.bug === 'vote-twice' && !m.preVote && this._role !== 'leader');
    // §5.4.1: vote only for a candidate whose log is at least as up to date as ours. A voter that
    // recently heard from a leader refuses only through the lease, with check-quorum (see `step`):
    // without check-quorum a leader cut off from its quorum never steps down, so refusing pre-votes
    // for its sake would stall the cluster (a one-way partition livelocks).
    const upToDate = m.lastLogTerm > this.log.lastTerm || (m.lastLogTerm === this.log.lastTerm && m.lastLogIndex >= this.log.lastIndex);
    if (canVote && upToDate) {
      this.send({ type: 'voteResponse', from: this.id, to: m.from, term: m.term, preVote: m.preVote, granted: true });
      if (!m.preVote) {
        this.electionElapsed = 0;
        this._vote = m.from;
      }
    } else {
      this.send({ type: 'voteResponse', from: this.id, to: m.from, term: this._term, preVote: m.preVote, granted: false });
    }
  }

  private handleAppendRequest(m: AppendRequest): void {
    const reply = (success: boolean, index: Index, hintIndex = 0, hintTerm: Term = 0): void => {
      this.send({ type: 'appendResponse', from: this.id, to: m.from, term: this._term, success, index, hintIndex, hintTerm });
    };
    if (m.prevLogIndex < this._commit) {
      reply(true, this._commit);
      return;
    }
    if (this.log.termAt(m.prevLogIndex) !== m.prevLogTerm) {
      // Fast back-off: point the leader at the last index whose term could still match.
      const hintIndex = this.log.findConflictByTerm(Math.min(m.prevLogIndex, this.log.lastIndex), m.prevLogTerm);
      reply(false, m.prevLogIndex, hintIndex, this.log.termAt(hintIndex) ?? 0);
      return;
    }
    if (m.entries.length > 0) this.appendFromLeader(m.entries);
    const lastNew = m.prevLogIndex + m.entries.length;
    // A follower commits only what it knows matches the leader.
    this.commitTo(Math.min(m.commitIndex, lastNew));
    reply(true, lastNew);
  }

  private handleHeartbeat(m: HeartbeatRequest): void {
    this.commitTo(m.commitIndex);
    const response: HeartbeatResponse = {
      type: 'heartbeatResponse',
      from: this.id,
      to: m.from,
      term: this._term,
      ...(m.context === undefined ? {} : { context: m.context }),
    };
    this.send(response);
  }

  private handleSnapshotRequest(m: SnapshotRequest): void {
    const reply = (offset: number, done: boolean): void => {
      this.send({ type: 'snapshotResponse', from: this.id, to: m.from, term: this._term, index: m.metadata.index, offset, done });
    };
    const { metadata } = m;
    if (metadata.term > m.term) {
      reply(-1, false);
      return;
    }
    if (metadata.index <= this._commit) {
      // We already hold (committed) everything the snapshot covers.
      this.assembly.reset();
      reply(m.offset + m.chunk.byteLength, true);
      return;
    }
    const received = this.assembly.receive(m);
    if (received.snapshot !== undefined) this.installSnapshot(received.snapshot);
    reply(received.offset, received.done);
  }

  private installSnapshot(snapshot: Snapshot): void {
    const { index, term, config } = snapshot.metadata;
    if (this.log.termAt(index) === term) {
      // Keep the suffix that matches; re-emit it so storage holds snapshot + suffix.
      this.log.compactTo(index, term);
      this.log.unstableFrom = index + 1;
    } else {
      this.log.resetTo(index, term);
    }
    this.configs.restore(index, config, this.log.entries);
    this._commit = index;
    this.latestSnapshot = snapshot;
    this.snapshotToInstall = snapshot;
    this.refreshConfig();
  }

  // ---------------------------------------------------------------- reads

  private handleRemoteRead(m: ReadIndexRequest): void {
    if (this._role !== 'leader') {
      this.send({ type: 'readIndexResponse', from: this.id, to: m.from, term: this._term, context: m.context, index: -1 });
      return;
    }
    this.handleReadRequest({ requester: m.from, context: m.context });
  }

  private handleReadRequest(read: ReadRequest): void {
    // BUG(read-without-quorum): answer from the commit index without confirming leadership.
    if (this.bug === 'read-without-quorum') {
      this.answerRead(read, this._commit);
      return;
    }
    // Thesis §6.4: the commit index is only current once the leader committed an entry of its term.
    if (this.log.termAt(this._commit) !== this._term) {
      this.reads.defer(read);
      return;
    }
    if (this.reads.mode === 'lease' || voteResult(this.quorumConfig(), new Map([[this.id, true]])) === 'won') {
      this.answerRead(read, this._commit);
      return;
    }
    // Batched: the round starts with the next Ready (flushReads), shared by every read waiting then.
    this.reads.add(read, this._commit);
  }

  /**
   * On the leader, starts the heartbeat round of the reads that arrived since the last one; on a
   * follower, sends the request for the reads that arrived since its last one. Neither while the
   * previous one is in flight.
   */
  private flushReads(): void {
    if (this._role === 'leader') {
      const round = this.reads.flush(this._term, this.id);
      if (round !== undefined) this.broadcastHeartbeat(round);
      return;
    }
    if (!this.forwarded.ready) return;
    if (this._leader === undefined) {
      // The leader this node knew of when the reads arrived is no longer known: nobody to ask.
      for (const context of this.forwarded.drop()) this.output.addDroppedRead(context);
      return;
    }
    const context = this.forwarded.flush()!;
    this.send({ type: 'readIndexRequest', from: this.id, to: this._leader, term: this._term, context });
  }

  private ackRead(from: NodeId, context: string): void {
    for (const read of this.reads.acknowledge(from, context, this.quorumConfig())) this.answerRead(read, read.index);
  }

  private answerRead(read: ReadRequest, index: Index): void {
    if (read.requester === this.id) this.output.addReadState({ context: read.context, index });
    else this.send({ type: 'readIndexResponse', from: this.id, to: read.requester, term: this._term, context: read.context, index });
  }

  /** The leader is stepping down: its own reads are dropped, and followers are told it cannot serve theirs. */
  private dropPendingReads(): void {
    for (const read of this.reads.drop()) {
      if (read.requester === this.id) this.output.addDroppedRead(read.context);
      else this.send({ type: 'readIndexResponse', from: this.id, to: read.requester, term: this._term, context: read.context, index: -1 });
    }
  }
}
