import {
  GreenraftError,
  InvalidArgumentError,
  InvalidMessageError,
  integerOption,
  NotLeaderError,
  ProposalDroppedError,
  StateMachineError,
  type StateMachineOperation,
  StoppedError,
  StorageError,
  TimeoutError,
  TransportError,
  configurationsEqual,
  messageProblem,
  rejectUnknownOptions,
  validateConfiguration,
} from '@greenraft/consensus';
import type {
  ClusterConfig,
  Configuration,
  ConsensusEvents,
  ConsensusNode,
  HardState,
  Index,
  LogEntry,
  Message,
  NodeId,
  NodeStatus,
  OperationOptions,
  PersistentState,
  ProposeResult,
  Role,
  Snapshot,
  StateMachine,
  Storage,
  StorageBatch,
  Term,
  Transport,
} from '@greenraft/consensus';
import { EventEmitter } from 'eventemitter3';
import type { RaftCoreOptions, Ready } from '../core/api.js';
import { RaftCore } from '../core/index.js';
import { AckClock } from './ack-clock.js';
import { DeadlineQueue, PendingOperation, abortedError } from './operations.js';

/**
 * Options of {@link createRaftNode}. Core options not listed here pass through unchanged; an
 * option that is neither is refused with `InvalidArgumentError`.
 */
export interface RaftNodeInit<Result = unknown>
  extends Omit<RaftCoreOptions, 'id' | 'state' | 'bootstrap' | 'applied'> {
  /** This node's id; must equal `transport.localId`. */
  id: NodeId;
  /** The endpoint this node sends and receives Raft messages through. Started and stopped by the node. */
  transport: Transport;
  /** Where the log, hard state and snapshots are persisted. Owned by the caller: `stop()` does not close it. */
  storage: Storage;
  /** The replicated state machine committed entries are applied to. */
  stateMachine: StateMachine<Result>;
  /**
   * The founding configuration of a brand-new cluster, the same on every founding node.
   * Ignored when storage already holds state. Omit on a node that joins an existing cluster:
   * it learns its configuration from the leader.
   * @default undefined (join an existing cluster)
   */
  bootstrap?: Configuration;
  /**
   * Seed of the core's PRNG (election jitter), unless `random` is given.
   * @default a hash of `id`, so nodes draw different election timeouts
   */
  seed?: number;
  /**
   * Milliseconds per core tick: election and heartbeat timeouts are counted in ticks.
   * @default 10
   */
  tickMs?: number;
  /**
   * Entries applied since the last snapshot before the node takes a new one and compacts the log.
   * @default 10_000
   */
  snapshotThreshold?: number;
  /**
   * Deadline of `propose`, `readBarrier`, `changeConfiguration` and `transferLeadership`
   * when the caller gives no `timeoutMs`.
   * @default 5000
   */
  proposalTimeoutMs?: number;
}

/**
 * What a leader may send before its own write of the same Ready: replication, which promises
 * nothing about this node's disk (votes, acknowledgements and answers wait for the write).
 */
const SENT_BEFORE_WRITE: ReadonlySet<Message['type']> = new Set(['appendRequest', 'heartbeat', 'snapshotRequest']);

/**
 * Whether the replication a Ready sends announces no commit of the entries it writes, so it may
 * leave before the write: everything before `entries[0]` was written by an earlier Ready.
 */
function announcesOnlyDurable(ready: Ready): boolean {
  const firstNew = ready.entries[0]?.index;
  if (firstNew === undefined) return false;
  for (const message of ready.messages) {
    if ((message.type === 'appendRequest' || message.type === 'heartbeat') && message.commitIndex >= firstNew) return false;
  }
  return true;
}

/** Whether a state machine's result is a promise to wait for (any thenable, as `await` treats it). */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The configuration of a node that has none yet (it joins and learns one from the leader). */
const NO_CONFIGURATION: ClusterConfig = { incoming: { voters: new Map(), learners: new Set() } };

/**
 * What a user's state machine threw, as a typed error: a GreenraftError (the state machine's own
 * typed error) stays as it is; anything else becomes a StateMachineError with it as the cause.
 */
function asStateMachineError(error: unknown, operation: StateMachineOperation, message: string): GreenraftError<string> {
  return error instanceof GreenraftError ? error : new StateMachineError(operation, message, { cause: error });
}

interface PendingProposal<Result> {
  readonly index: Index;
  readonly term: Term;
  readonly operation: PendingOperation<ProposeResult<Result>>;
}

interface PendingConfigChange {
  readonly index: Index;
  readonly term: Term;
  readonly target: Configuration;
  readonly operation: PendingOperation<ClusterConfig>;
}

interface PendingRead {
  /** Set once the core has answered with a read index. */
  index: Index | undefined;
  readonly operation: PendingOperation<Index>;
}

/**
 * The name of every option {@link createRaftNode} takes (the keys of {@link RaftNodeInit}); any
 * other is refused with `InvalidArgumentError`. A node that wraps the driver and passes its
 * options through builds its own list from this one. The compiler checks it is complete and exact.
 */
export const RAFT_NODE_OPTIONS: readonly (keyof RaftNodeInit)[] = Object.keys({
  id: true,
  transport: true,
  storage: true,
  stateMachine: true,
  bootstrap: true,
  seed: true,
  tickMs: true,
  snapshotThreshold: true,
  proposalTimeoutMs: true,
  electionTicks: true,
  heartbeatTicks: true,
  random: true,
  preVote: true,
  checkQuorum: true,
  maxInflightMessages: true,
  maxInflightBytes: true,
  maxMessageBytes: true,
  maxUncommittedBytes: true,
  snapshotChunkBytes: true,
  policy: true,
  readOnly: true,
} satisfies Record<keyof RaftNodeInit, true>) as (keyof RaftNodeInit)[];

/**
 * A running Raft node: the deterministic core wired to a transport, a storage, a state machine
 * and a timer. It is an eventemitter3 `EventEmitter` whose listener methods are typed by
 * {@link ConsensusEvents}. Create it with {@link createRaftNode}.
 *
 * One processing loop handles the core's Ready batches strictly one at a time: persist, then
 * send, then install/apply, then report, then advance. Inputs (ticks, messages, proposals)
 * that arrive while the loop awaits I/O are stepped into the core at once and picked up by the
 * loop's next turn. Two departures save disk writes on the path of every commit: a leader sends
 * its appends before its own write of them (Raft thesis §10.2.1; votes, acknowledgements and any
 * announcement of a commit of the entries being written still wait for the write), and a hard state that moved only the commit index is written with the next
 * batch instead of on its own (the commit index is not needed on disk, as etcd's MustSync has it).
 *
 * @example
 * ```ts
 * import { NotLeaderError, StateMachineError } from '@greenraft/consensus';
 * import { createRaftNode, type RaftNode } from '@greenraft/raft';
 *
 * const node: RaftNode<number> = createRaftNode(init); // init as in createRaftNode's example
 * node.on('leaderChange', ({ leader, term }) => console.log(`term ${term}: the leader is ${leader ?? 'unknown'}`));
 * node.on('apply', ({ index, result }) => console.log(`applied entry ${index}: ${result}`));
 * node.on('error', (err) => {
 *   if (err instanceof StateMachineError) console.error(`the state machine failed in ${err.operation}; the node stopped`, err.cause);
 * });
 * await node.start();
 * try {
 *   await node.propose(new TextEncoder().encode('meter-7: 12.5 kWh'), { timeoutMs: 2000 });
 * } catch (err) {
 *   if (err instanceof NotLeaderError) console.log('propose through', err.leader);
 *   else throw err;
 * }
 * console.log(node.status()); // { id, role, term, leader, commitIndex, appliedIndex, lastIndex, config }
 * await node.stop();
 * ```
 */
export class RaftNode<Result = unknown> extends EventEmitter<keyof ConsensusEvents> implements ConsensusNode<Result> {
  readonly id: NodeId;
  readonly #init: RaftNodeInit<Result>;
  readonly #transport: Transport;
  readonly #storage: Storage;
  readonly #stateMachine: StateMachine<Result>;
  readonly #tickMs: number;
  readonly #snapshotThreshold: number;
  readonly #defaultTimeoutMs: number;

  #core: RaftCore | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #stopped = false;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #processing = false;
  /** A kick arrived while the loop was running: run it again once it finishes, so no input waits for the next tick. */
  #kickAgain = false;
  /** A kick of `readBarrier` is queued for the end of this event-loop turn. */
  #readKickQueued = false;

  #role: Role = 'follower';
  #leader: NodeId | undefined;
  #config: ClusterConfig = NO_CONFIGURATION;
  #appliedIndex: Index = 0;
  #snapshotIndex: Index = 0;
  #committedReported: Index = 0;
  /** The term and vote storage holds. */
  #durableTerm: Term = 0;
  #durableVote: NodeId | undefined;
  /** The latest hard state that only moved the commit index: not written yet, it goes with the next save. */
  #unsavedHardState: HardState | undefined;
  #readCounter = 0;
  readonly #incarnation = globalThis.crypto.randomUUID();

  readonly #proposals = new Map<Index, PendingProposal<Result>>();
  /** No pending proposal has a higher index (0 while none is pending), so a scan by index can stop there. */
  #highestProposal: Index = 0;
  readonly #configChanges = new Set<PendingConfigChange>();
  readonly #reads = new Map<string, PendingRead>();
  readonly #transfers = new Map<NodeId, Set<PendingOperation<void>>>();
  readonly #operations = new Set<PendingOperation<unknown>>();
  /** The deadlines of operations with the default timeout: one timer for all of them. */
  readonly #deadlines: DeadlineQueue;
  /** Configuration changes asked of a new leader before it committed an entry of its term. */
  readonly #waitingForOwnTermCommit = new Set<() => boolean>();
  /** On the leader: when its entries were handed on and acknowledged, for the latencies of `commitQuorum`. */
  readonly #ackClock = new AckClock();
  /** Whether `commitQuorum` has had a listener: the clock records from then on, never before. */
  #timed = false;

  /** @internal Use {@link createRaftNode}. */
  constructor(init: RaftNodeInit<Result>) {
    super();
    if (init === null || typeof init !== 'object') throw new InvalidArgumentError('createRaftNode needs an options object');
    // A misspelt option (`electionTick`, `snapshotTreshold`) would otherwise be ignored silently.
    rejectUnknownOptions('createRaftNode', init, RAFT_NODE_OPTIONS);
    if (typeof init.id !== 'string' || init.id.length === 0) throw new InvalidArgumentError('id must be a non-empty string');
    if (init.transport?.localId !== init.id) {
      throw new InvalidArgumentError(`the transport belongs to ${String(init.transport?.localId)}, not to node ${init.id}`);
    }
    if (init.storage === undefined || init.stateMachine === undefined) throw new InvalidArgumentError('storage and stateMachine are required');
    const tickMs = init.tickMs ?? 10;
    if (!(Number.isFinite(tickMs) && tickMs > 0)) throw new InvalidArgumentError(`tickMs must be a positive number, not ${String(tickMs)}`);
    const snapshotThreshold = integerOption('snapshotThreshold', init.snapshotThreshold ?? 10_000, { min: 1 });
    const timeoutMs = init.proposalTimeoutMs ?? 5000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new InvalidArgumentError(`proposalTimeoutMs must be a positive number, not ${String(timeoutMs)}`);
    if (init.bootstrap !== undefined) validateConfiguration(init.bootstrap);
    this.id = init.id;
    this.#init = init;
    this.#transport = init.transport;
    this.#storage = init.storage;
    this.#stateMachine = init.stateMachine;
    this.#tickMs = tickMs;
    this.#snapshotThreshold = snapshotThreshold;
    this.#defaultTimeoutMs = timeoutMs;
    this.#deadlines = new DeadlineQueue(timeoutMs);
    if (init.bootstrap !== undefined) this.#config = { incoming: init.bootstrap };
    // The core checks its own options (tick counts, limits, readOnly with checkQuorum): let it
    // refuse bad ones now, with its typed error, rather than at start().
    new RaftCore(this.#coreOptions());
  }

  /** The options this node passes to its core, besides the persisted state. */
  #coreOptions(): RaftCoreOptions {
    const { transport: _t, storage: _s, stateMachine: _m, tickMs: _k, snapshotThreshold: _h, proposalTimeoutMs: _p, bootstrap: _b, ...coreOptions } = this.#init;
    // Without a seed the core derives one from the id itself, so nodes draw different timeouts.
    return { ...coreOptions, id: this.id };
  }

  // ------------------------------------------------------------------ typed events
  // eventemitter3 keyed by event name; each method takes and gives ConsensusEvents' listener types.

  override on<E extends keyof ConsensusEvents<Result>>(event: E, listener: ConsensusEvents<Result>[E], context?: unknown): this {
    return super.on(event, listener, context);
  }

  override addListener<E extends keyof ConsensusEvents<Result>>(event: E, listener: ConsensusEvents<Result>[E], context?: unknown): this {
    return super.addListener(event, listener, context);
  }

  override once<E extends keyof ConsensusEvents<Result>>(event: E, listener: ConsensusEvents<Result>[E], context?: unknown): this {
    return super.once(event, listener, context);
  }

  override off<E extends keyof ConsensusEvents<Result>>(event: E, listener?: ConsensusEvents<Result>[E], context?: unknown, once?: boolean): this {
    return super.off(event, listener, context, once);
  }

  override removeListener<E extends keyof ConsensusEvents<Result>>(
    event: E,
    listener?: ConsensusEvents<Result>[E],
    context?: unknown,
    once?: boolean,
  ): this {
    return super.removeListener(event, listener, context, once);
  }

  override listeners<E extends keyof ConsensusEvents<Result>>(event: E): ConsensusEvents<Result>[E][] {
    return super.listeners(event);
  }

  override emit<E extends keyof ConsensusEvents<Result>>(event: E, ...args: Parameters<ConsensusEvents<Result>[E]>): boolean {
    return super.emit(event, ...args);
  }

  /**
   * Loads storage, restores the state machine from the latest snapshot, starts the transport
   * and the tick timer. Calling it again returns the same promise; a stopped node cannot restart
   * (create a new one on the same storage).
   */
  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new StoppedError('a stopped node cannot restart; create a new node on the same storage'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    let state: PersistentState;
    try {
      state = await this.#storage.load();
    } catch (error) {
      throw error instanceof StorageError ? error : new StorageError('could not load the node\u2019s state', { cause: error });
    }
    const { bootstrap } = this.#init;
    const fresh = state.snapshot === undefined && state.entries.length === 0 && state.hardState.term === 0;
    if (fresh && bootstrap !== undefined) {
      // The founding configuration is in no log entry: persist it as an empty snapshot at index 0,
      // so a node that restarts before its first real snapshot still knows its voters.
      const founding: Snapshot = { metadata: { index: 0, term: 0, config: { incoming: bootstrap } }, data: new Uint8Array(0) };
      try {
        await this.#storage.save({ snapshot: founding });
      } catch (error) {
        throw error instanceof StorageError ? error : new StorageError('could not persist the founding configuration', { cause: error });
      }
      state = { ...state, snapshot: founding };
    }
    if (this.#stopped) throw new StoppedError('the node was stopped while starting');

    const core = new RaftCore({ ...this.#coreOptions(), state, bootstrap });
    this.#durableTerm = state.hardState.term;
    this.#durableVote = state.hardState.vote;

    if (state.snapshot !== undefined) {
      const { metadata, data } = state.snapshot;
      if (metadata.index > 0) {
        try {
          await this.#stateMachine.restore(data);
        } catch (error) {
          throw asStateMachineError(error, 'restore', `the state machine could not restore the snapshot at index ${metadata.index}`);
        }
      }
      this.#appliedIndex = this.#snapshotIndex = this.#committedReported = metadata.index;
    }
    this.#core = core;
    this.#config = core.config;
    this.#role = core.role;
    this.#leader = core.leader;
    if (this.#stopped) throw new StoppedError('the node was stopped while starting');

    try {
      await this.#transport.start((message) => this.#receive(message), { unreachable: (peer) => this.#unreachable(peer) });
    } catch (error) {
      this.#stopped = true;
      throw error instanceof GreenraftError ? error : new TransportError('could not start the transport', { cause: error });
    }
    if (this.#stopped) {
      // stop() ran while the transport was starting: it may have found nothing to stop yet.
      await this.#transport.stop();
      return;
    }
    this.#ticker = setInterval(() => {
      if (this.#stopped) return;
      try {
        core.tick();
      } catch (error) {
        // Only a broken invariant (or a throwing policy) gets here: the core's state cannot be trusted.
        this.#fail(error);
        return;
      }
      this.#kick();
    }, this.#tickMs);
    this.#kick();
  }

  /**
   * Stops the timer and the transport; every pending operation rejects with StoppedError.
   * Idempotent. The storage and the state machine stay open: the caller owns them.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop(new StoppedError());
    return this.#stopping;
  }

  async #stop(reason: Error): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    for (const operation of [...this.#operations]) operation.reject(reason);
    this.#deadlines.clear();
    if (this.#starting !== undefined) {
      try {
        await this.#transport.stop();
      } catch (error) {
        this.emit('error', error instanceof GreenraftError ? error : new TransportError('could not stop the transport', { cause: error }));
      }
    }
  }

  /**
   * A failure the node cannot recover from (storage, state machine, a broken core invariant):
   * report it and stop. They arrive here already typed (StorageError, StateMachineError,
   * InvariantViolationError).
   */
  #fail(error: unknown): void {
    const reported = error instanceof Error ? error : new Error(String(error));
    if (this.#stopped) return;
    this.#stopping ??= this.#stop(new StoppedError('the node stopped after a fatal error', { cause: reported }));
    this.emit('error', reported);
  }

  #receive(message: Message): void {
    if (this.#stopped || this.#core === undefined) return;
    const problem = messageProblem(message, this.id);
    if (problem !== undefined) {
      this.emit('error', new InvalidMessageError(`dropped a message from ${String((message as { from?: unknown })?.from)}: ${problem}`));
      return;
    }
    const core = this.#core;
    // Only a success answer can acknowledge entries: the clock is read for those alone, once timing.
    const acknowledges = ((message.type === 'appendResponse' && message.success) || (message.type === 'snapshotResponse' && message.done)) && this.#timing();
    const arrivedAt = acknowledges ? performance.now() : 0;
    try {
      core.step(message);
    } catch (error) {
      // A well-typed message never makes the core throw unless it caught itself breaking an invariant
      // (InvariantViolationError): its state cannot be trusted, and a corrupted log must never be served.
      this.#fail(error);
      return;
    }
    if (acknowledges && core.role === 'leader' && message.term === core.term) {
      this.#ackClock.acked(core.term, message.from, core.steps, message.index, arrivedAt);
    }
    this.#kick();
  }

  /** The transport dropped a message to `peer` because it cannot reach it now. */
  #unreachable(peer: NodeId): void {
    if (this.#stopped || this.#core === undefined) return;
    this.#core.reportUnreachable(peer);
  }

  /**
   * Emits an event without letting a throwing listener break the Ready loop (which would stop
   * the node): the listener's error is reported as an `error` event instead.
   */
  #notify<E extends Exclude<keyof ConsensusEvents<Result>, 'error'>>(event: E, ...args: Parameters<ConsensusEvents<Result>[E]>): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Whether commit latencies are being recorded: from the first time `commitQuorum` is seen to have
   * a listener, for good, so every write and answer recorded has all of its later ones recorded too.
   */
  #timing(): boolean {
    if (!this.#timed) this.#timed = this.listenerCount('commitQuorum') > 0;
    return this.#timed;
  }

  /**
   * Kicks the loop at the end of this event-loop turn: the reads issued in the turn (readers that a
   * confirmed round released and that read again at once) then share one ReadIndex round.
   */
  #kickReads(): void {
    if (this.#readKickQueued) return;
    this.#readKickQueued = true;
    setImmediate(() => {
      this.#readKickQueued = false;
      this.#kick();
    });
  }

  /** Starts the processing loop unless it is already running; it drains every Ready the core has. */
  #kick(): void {
    if (this.#stopped || this.#core === undefined) return;
    if (this.#processing) {
      this.#kickAgain = true;
      return;
    }
    this.#processing = true;
    void this.#drain().then(
      () => {
        this.#processing = false;
        if (this.#kickAgain) {
          this.#kickAgain = false;
          this.#kick();
        }
      },
      (error: unknown) => {
        this.#processing = false;
        this.#fail(error);
      },
    );
  }

  async #drain(): Promise<void> {
    const core = this.#core!;
    while (!this.#stopped && core.hasReady()) {
      const ready = core.ready();
      if (!(await this.#handle(ready))) return;
      core.advance(ready);
      if (this.#appliedIndex - this.#snapshotIndex >= this.#snapshotThreshold) {
        if (!(await this.#takeSnapshot())) return;
      }
    }
  }

  /** Does what one Ready asks, in the contract's order. Returns false if the node stopped meanwhile. */
  async #handle(ready: Ready): Promise<boolean> {
    const core = this.#core!;
    // 1. Persist before anything that depends on it leaves this node. A hard state that keeps the
    // durable term and vote moved only its commit index, which Raft needs on no disk (etcd's
    // MustSync): it is not written by itself but goes with the next write, saving an fsync per commit.
    const hardState = ready.hardState;
    const commitOnly = hardState !== undefined && hardState.term === this.#durableTerm && hardState.vote === this.#durableVote;
    const mustSave = ready.snapshot !== undefined || ready.entries.length > 0 || (hardState !== undefined && !commitOnly);
    // Raft thesis §10.2.1: a leader sends its appends before its own write, so the followers write
    // in parallel with it. Its entries may count towards a commit meanwhile, but the driver acts on
    // a commit (applies, answers, announces it) only after this write. Not when this Ready changes
    // the term or the vote, or installs a snapshot, or announces a commit of the entries it writes
    // (a leader whose own weight is a quorum commits on append).
    const early = mustSave && ready.snapshot === undefined && (hardState === undefined || commitOnly) && announcesOnlyDurable(ready);
    // The leader's own entries start their commit-latency clock here, as they go to its disk and its followers.
    const leaderTerm = ready.entries.length > 0 && core.role === 'leader' && this.#timing() ? core.term : undefined;
    const handedAt = leaderTerm === undefined ? 0 : performance.now();
    if (early) {
      for (const message of ready.messages) if (SENT_BEFORE_WRITE.has(message.type)) this.#transport.send(message);
    }
    if (mustSave) {
      const batch: { -readonly [K in keyof StorageBatch]: StorageBatch[K] } = {};
      if (ready.snapshot !== undefined) batch.snapshot = ready.snapshot;
      if (ready.entries.length > 0) batch.entries = ready.entries;
      const latest = hardState ?? this.#unsavedHardState;
      if (latest !== undefined) batch.hardState = latest;
      this.#unsavedHardState = undefined;
      try {
        await this.#storage.save(batch);
      } catch (error) {
        throw error instanceof StorageError ? error : new StorageError('could not persist the log', { cause: error });
      }
      if (leaderTerm !== undefined) this.#ackClock.written(leaderTerm, ready.entries[0]!.index, ready.entries[ready.entries.length - 1]!.index, handedAt, performance.now());
      if (latest !== undefined) {
        this.#durableTerm = latest.term;
        this.#durableVote = latest.vote;
      }
      if (this.#stopped) return false;
    } else if (hardState !== undefined) {
      this.#unsavedHardState = hardState;
    }
    // 2. Send (the rest).
    for (const message of ready.messages) if (!early || !SENT_BEFORE_WRITE.has(message.type)) this.#transport.send(message);

    // Role and leader changes.
    if (ready.softState !== undefined) this.#reportSoftState(ready.softState.role, ready.softState.leader, ready.softState.term);
    // Configuration changes take effect on append (or roll back on truncation).
    if (core.config !== this.#config) {
      this.#config = core.config;
      this.#notify('configChange', { index: this.#configIndex(), config: this.#config });
    }
    if (ready.entries.length > 0) this.#dropOverwritten(ready.entries[0]!.index);

    // 3. Install a snapshot from the leader, then apply committed entries in order.
    if (ready.snapshot !== undefined && ready.snapshot.metadata.index > this.#appliedIndex) {
      const { metadata, data } = ready.snapshot;
      try {
        await this.#stateMachine.restore(data);
      } catch (error) {
        throw asStateMachineError(error, 'restore', `the state machine could not install the leader's snapshot at index ${metadata.index}`);
      }
      if (this.#stopped) return false;
      this.#appliedIndex = this.#snapshotIndex = metadata.index;
      this.#committedReported = Math.max(this.#committedReported, metadata.index);
      this.#notify('snapshot', { index: metadata.index, term: metadata.term, installed: true });
      this.#settleAfterSnapshot(metadata.index, metadata.config);
    }
    const committed = ready.committedEntries;
    const lastCommitted = committed[committed.length - 1];
    if (lastCommitted !== undefined && lastCommitted.index > this.#committedReported) {
      this.#committedReported = lastCommitted.index;
      this.#notify('commit', { index: lastCommitted.index, term: lastCommitted.term });
    }
    for (const entry of committed) {
      if (entry.index <= this.#appliedIndex) continue;
      const applied = this.#apply(entry);
      if (!(applied === true || (applied !== false && (await applied)))) return false;
    }
    this.#serveReads();

    // 4. Leader-side commit reports, then reads.
    const quorums = ready.commitQuorums;
    if (quorums.length > 0 && this.#timed) {
      const now = performance.now();
      for (const quorum of quorums) {
        if (this.listenerCount('commitQuorum') === 0) break;
        // None for an entry handed on before the first listener came: there is no time to measure from.
        const acks = this.#ackClock.latencies(quorum, this.id, now);
        if (acks !== undefined) this.#notify('commitQuorum', { index: quorum.index, term: quorum.term, acks });
      }
      this.#ackClock.passed(quorums[quorums.length - 1]!.index);
    }
    for (const readState of ready.readStates) {
      const read = this.#reads.get(readState.context);
      if (read !== undefined) read.index = readState.index;
    }
    for (const context of ready.droppedReads) {
      // The leader lost leadership or could not confirm it: this read will never be served. Retrying is safe.
      this.#reads.get(context)?.operation.reject(new NotLeaderError(core.leader));
    }
    this.#serveReads();
    for (const begin of this.#waitingForOwnTermCommit) if (begin()) this.#waitingForOwnTermCommit.delete(begin);
    return !this.#stopped;
  }

  /**
   * Applies one committed entry and settles its proposal. Synchronous unless the state machine
   * returns a promise: an await per entry would cost a microtask turn per entry. Returns (or
   * resolves) false if the node stopped meanwhile.
   */
  #apply(entry: LogEntry): boolean | Promise<boolean> {
    if (entry.type !== 'normal' || entry.data.length === 0) {
      // The leader's no-op, or a configuration entry: nothing for the state machine.
      this.#appliedIndex = entry.index;
      this.#proposals.get(entry.index)?.operation.reject(new ProposalDroppedError(`another leader's entry committed at index ${entry.index}`, { reason: 'superseded' }));
      if (entry.type === 'config') this.#settleConfigChanges(entry);
      return !this.#stopped;
    }
    let result: Result | Promise<Result>;
    try {
      result = this.#stateMachine.apply({ index: entry.index, term: entry.term, data: entry.data });
    } catch (error) {
      throw asStateMachineError(error, 'apply', `the state machine could not apply the entry at index ${entry.index}`);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        (value) => {
          this.#applied(entry, value);
          // Reads waiting on this entry need not wait for the rest of an asynchronous batch.
          this.#serveReads();
          return !this.#stopped;
        },
        (error: unknown) => {
          throw asStateMachineError(error, 'apply', `the state machine could not apply the entry at index ${entry.index}`);
        },
      );
    }
    this.#applied(entry, result);
    return !this.#stopped;
  }

  #applied(entry: LogEntry, result: Result): void {
    this.#appliedIndex = entry.index;
    if (this.listenerCount('apply') > 0) this.#notify('apply', { index: entry.index, term: entry.term, result });
    const proposal = this.#proposals.get(entry.index);
    if (proposal !== undefined) {
      if (proposal.term === entry.term) proposal.operation.resolve({ index: entry.index, term: entry.term, result });
      else proposal.operation.reject(new ProposalDroppedError(`another leader's entry (term ${entry.term}) committed at index ${entry.index}`, { reason: 'superseded' }));
    }
  }

  #reportSoftState(role: Role, leader: NodeId | undefined, term: Term): void {
    if (role !== this.#role) {
      const from = this.#role;
      this.#role = role;
      if (from === 'leader') this.#ackClock.clear();
      this.#notify('stateChange', { from, to: role, term });
    }
    if (leader !== this.#leader) {
      this.#leader = leader;
      this.#notify('leaderChange', { leader, term });
      if (leader !== undefined) for (const operation of this.#transfers.get(leader) ?? []) operation.resolve();
    }
  }

  /** The index of the entry (or snapshot) that set the configuration now in effect: the latest config entry in the log. */
  #configIndex(): Index {
    const core = this.#core!;
    for (let index = core.lastIndex; index >= core.firstIndex && index > 0; index--) {
      if (core.entry(index)?.type === 'config') return index;
    }
    return core.snapshotMetadata.index;
  }

  /** Rejects proposals whose entries a new leader overwrote (truncated or replaced from `from` on). */
  #dropOverwritten(from: Index): void {
    const core = this.#core!;
    // By index, not over every pending proposal: on the leader this runs on every Ready, and only
    // the indexes it appended (from `from` on) can have been overwritten.
    for (let index = Math.max(from, this.#appliedIndex + 1); index <= this.#highestProposal; index++) {
      const proposal = this.#proposals.get(index);
      if (proposal !== undefined && core.termAt(index) !== proposal.term) {
        proposal.operation.reject(new ProposalDroppedError(`the entry at index ${index} was overwritten by a new leader`, { reason: 'superseded' }));
      }
    }
    for (const change of this.#configChanges) {
      if (change.index >= from && change.index > this.#appliedIndex && core.termAt(change.index) !== change.term) {
        change.operation.reject(new ProposalDroppedError(`the configuration entry at index ${change.index} was overwritten by a new leader`, { reason: 'superseded' }));
      }
    }
  }

  /** A snapshot from the leader jumped over pending entries: settle what can be told from it. */
  #settleAfterSnapshot(index: Index, config: ClusterConfig): void {
    for (const proposal of this.#proposals.values()) {
      if (proposal.index <= index) {
        proposal.operation.reject(new TimeoutError(`a snapshot from the leader replaced the log past index ${proposal.index}; the proposal's outcome is unknown`));
      }
    }
    for (const change of this.#configChanges) {
      if (config.outgoing === undefined && configurationsEqual(config.incoming, change.target) && change.index <= index) change.operation.resolve(config);
    }
  }

  #settleConfigChanges(entry: LogEntry & { type: 'config' }): void {
    for (const change of this.#configChanges) {
      if (entry.index === change.index && entry.term !== change.term) {
        change.operation.reject(new ProposalDroppedError(`another leader's entry committed at index ${entry.index}`, { reason: 'superseded' }));
      } else if (entry.index >= change.index && entry.config.outgoing === undefined && configurationsEqual(entry.config.incoming, change.target)) {
        // C(new) applied: the joint phase and the leave step have both committed.
        change.operation.resolve(entry.config);
      }
    }
  }

  #serveReads(): void {
    for (const read of this.#reads.values()) {
      if (read.index !== undefined && read.index <= this.#appliedIndex) read.operation.resolve(read.index);
    }
  }

  async #takeSnapshot(): Promise<boolean> {
    const core = this.#core!;
    const index = this.#appliedIndex;
    // The term and configuration at the applied index, which the snapshot replaces the log up to.
    const metadata = core.snapshotMetadataAt(index);
    let data: Uint8Array;
    try {
      data = await this.#stateMachine.snapshot();
    } catch (error) {
      throw asStateMachineError(error, 'snapshot', `the state machine could not take a snapshot at index ${index}`);
    }
    if (this.#stopped) return false;
    const snapshot: Snapshot = { metadata, data };
    try {
      await this.#storage.save({ snapshot });
      await this.#storage.compact(index);
    } catch (error) {
      throw error instanceof StorageError ? error : new StorageError(`could not persist the snapshot at ${index}`, { cause: error });
    }
    if (this.#stopped) return false;
    this.#snapshotIndex = index;
    core.snapshotTaken(snapshot);
    this.#notify('snapshot', { index, term: snapshot.metadata.term, installed: false });
    return true;
  }

  /** Creates an operation the node tracks until it settles (so `stop` can reject it). */
  #track<T>(description: string | (() => string), options: OperationOptions, cleanup?: () => void): PendingOperation<T> {
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    const operation = new PendingOperation<T>(description, options, timeoutMs, this.#deadlines);
    this.#operations.add(operation as PendingOperation<unknown>);
    // One closure per operation: the node's own bookkeeping and the caller's.
    operation.onSettle(
      cleanup === undefined
        ? () => this.#operations.delete(operation as PendingOperation<unknown>)
        : () => {
            this.#operations.delete(operation as PendingOperation<unknown>);
            cleanup();
          },
    );
    return operation;
  }

  /** The running core, or the reason an operation cannot start now. */
  #running(description: string, options: OperationOptions): RaftCore {
    const aborted = abortedError(options, description);
    if (aborted !== undefined) throw aborted;
    if (this.#stopped) throw new StoppedError();
    if (this.#core === undefined) throw new StoppedError('the node is not started; call start() first');
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number, not ${String(options.timeoutMs)}`);
    }
    return this.#core;
  }

  /**
   * Replicates `data` through the leader. Resolves once the entry is committed and applied on
   * this node, with what the state machine's `apply` returned.
   *
   * @throws NotLeaderError (carrying the known leader) when this node is not the leader;
   * ProposalDroppedError when a new leader overwrote the entry (safe to retry); TimeoutError or
   * AbortError (the outcome is unknown); StoppedError; InvalidArgumentError for empty data.
   *
   * @example
   * ```ts
   * const { index, result } = await node.propose(new TextEncoder().encode('meter-7: 12.5 kWh'), { timeoutMs: 2000 });
   * ```
   */
  propose(data: Uint8Array, options: OperationOptions = {}): Promise<ProposeResult<Result>> {
    // Not an async function: the caller gets the operation's own promise, without one more to adopt it.
    let proposed: { index: Index; term: Term };
    try {
      const core = this.#running('the proposal', options);
      if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('data must be a Uint8Array');
      // An empty entry is the leader's no-op, which the state machine never sees.
      if (data.length === 0) throw new InvalidArgumentError('data must not be empty: an empty entry is reserved for the leader\u2019s no-op');
      proposed = core.propose(data);
    } catch (error) {
      return Promise.reject(error);
    }
    const { index, term } = proposed;
    // This node lost the index to another leader and now reuses it: the older proposal is gone.
    this.#proposals.get(index)?.operation.reject(new ProposalDroppedError(`the entry at index ${index} was overwritten`, { reason: 'superseded' }));
    let proposal: PendingProposal<Result> | undefined;
    const operation = this.#track<ProposeResult<Result>>(() => `the proposal at index ${index}`, options, () => {
      if (this.#proposals.get(index) === proposal) this.#proposals.delete(index);
      if (this.#proposals.size === 0) this.#highestProposal = 0;
    });
    proposal = { index, term, operation };
    this.#proposals.set(index, proposal);
    this.#highestProposal = Math.max(this.#highestProposal, index);
    this.#kick();
    return operation.promise;
  }

  /**
   * A linearizable read barrier (ReadIndex, Raft thesis §6.4): resolves with a read index once
   * this node has applied at least it, so a read of the local state machine then sees every
   * write committed before the call. Works on followers, which ask the leader for the index.
   *
   * Reads that arrive while the leader confirms its leadership for earlier ones share its next
   * heartbeat round, so one round serves many reads.
   *
   * @throws NotLeaderError when no leader is known, or at once when the leader could not serve the
   * read (it lost leadership before confirming it): retrying is safe; TimeoutError; AbortError;
   * StoppedError.
   */
  async readBarrier(options: OperationOptions = {}): Promise<Index> {
    const core = this.#running('the read barrier', options);
    // The incarnation makes contexts unique across restarts, so a late answer to a read of a
    // previous run of this node can never release a read of this one.
    const context = `${this.id}/${this.#incarnation}/${++this.#readCounter}`;
    core.readIndex(context);
    const operation = this.#track<Index>('the read barrier', options);
    this.#reads.set(context, { index: undefined, operation });
    operation.onSettle(() => this.#reads.delete(context));
    this.#kickReads();
    return operation.promise;
  }

  /**
   * Moves the cluster to `target` (voters with weights, learners) by joint consensus: the leader
   * appends C(old,new), then C(new) once that commits. Resolves with the final configuration once
   * C(new) is applied on this node.
   *
   * @throws ConfigurationError for an invalid target or while another change is in flight;
   * NotLeaderError; ProposalDroppedError; TimeoutError; AbortError; StoppedError.
   */
  async changeConfiguration(target: Configuration, options: OperationOptions = {}): Promise<ClusterConfig> {
    const core = this.#running('the configuration change', options);
    validateConfiguration(target);
    const operation = this.#track<ClusterConfig>('the configuration change', options);
    const begin = (): boolean => {
      if (operation.settled) return true;
      // Thesis §4.1: a new leader first commits an entry of its own term; wait for it rather than fail.
      if (core.role === 'leader' && core.termAt(core.commitIndex) !== core.term) return false;
      try {
        const { index, term } = core.proposeConfigChange(target);
        const change: PendingConfigChange = { index, term, target, operation };
        this.#configChanges.add(change);
        operation.onSettle(() => this.#configChanges.delete(change));
      } catch (error) {
        operation.reject(error as Error);
      }
      return true;
    };
    if (!begin()) {
      this.#waitingForOwnTermCommit.add(begin);
      operation.onSettle(() => this.#waitingForOwnTermCommit.delete(begin));
    }
    this.#kick();
    return operation.promise;
  }

  /**
   * Asks this node, the leader, to hand leadership to `to` (Raft thesis §3.10). Resolves when
   * this node sees `to` become leader.
   *
   * @throws NotLeaderError when this node is not the leader; ConfigurationError when `to` is not
   * a voter; TimeoutError when the transfer did not happen in time; AbortError; StoppedError.
   */
  async transferLeadership(to: NodeId, options: OperationOptions = {}): Promise<void> {
    const core = this.#running('the leadership transfer', options);
    if (core.leader === to && (to !== this.id || core.role === 'leader')) return;
    // Throws NotLeaderError or ConfigurationError before anything is tracked.
    core.transferLeadership(to);
    const operation = this.#track<void>(`the leadership transfer to ${to}`, options);
    let waiting = this.#transfers.get(to);
    if (waiting === undefined) this.#transfers.set(to, (waiting = new Set()));
    waiting.add(operation);
    operation.onSettle(() => {
      waiting.delete(operation);
      if (waiting.size === 0 && this.#transfers.get(to) === waiting) this.#transfers.delete(to);
    });
    this.#kick();
    return operation.promise;
  }

  /** The core's view plus what this node has applied. */
  status(): NodeStatus {
    const core = this.#core;
    if (core === undefined) {
      return { id: this.id, role: this.#role, term: 0, leader: undefined, commitIndex: 0, appliedIndex: this.#appliedIndex, lastIndex: 0, config: this.#config };
    }
    return { ...core.status(), appliedIndex: this.#appliedIndex };
  }
}

/**
 * Creates a Raft node: the deterministic core driven by real timers, persisting to `storage`,
 * talking through `transport` and applying committed entries to `stateMachine`.
 * Call `start()` to run it.
 *
 * @throws InvalidArgumentError for an unknown option (a misspelt `electionTick` or
 * `snapshotTreshold` is named), a missing part or an out-of-range value; ConfigurationError for
 * an invalid `bootstrap`.
 *
 * @example
 * A one-node cluster (the package README runs three):
 * ```ts
 * import { configuration, type StateMachine } from '@greenraft/consensus';
 * import { createRaftNode, memoryStorage } from '@greenraft/raft';
 * import { memoryNetwork } from '@greenraft/transport-memory';
 *
 * // A replicated meter-reading ledger: apply returns how many readings it holds.
 * let readings: string[] = [];
 * const meterLedger: StateMachine<number> = {
 *   apply: ({ data }) => readings.push(new TextDecoder().decode(data)),
 *   snapshot: () => new TextEncoder().encode(JSON.stringify(readings)),
 *   restore: (data) => {
 *     readings = JSON.parse(new TextDecoder().decode(data)) as string[];
 *   },
 * };
 *
 * const network = memoryNetwork();
 * const node = createRaftNode({ id: 'n1', transport: network.transport('n1'), storage: memoryStorage(), stateMachine: meterLedger, bootstrap: configuration(['n1']) });
 * const elected = new Promise<void>((resolve) => node.on('stateChange', ({ to }) => to === 'leader' && resolve()));
 * await node.start();
 * await elected;
 * const { index, result } = await node.propose(new TextEncoder().encode('meter-7: 12.5 kWh'));
 * console.log(index, result); // 2 1: index 1 holds the new leader's no-op
 * await node.stop();
 * network.close();
 * ```
 */
export function createRaftNode<Result = unknown>(init: RaftNodeInit<Result>): RaftNode<Result> {
  return new RaftNode<Result>(init);
}
