/** A node's identity in the cluster. Stable across restarts. */
export type NodeId = string;
/** A Raft term: a logical clock that only grows. */
export type Term = number;
/** A log position; the first entry has index 1, index 0 means "before the log". */
export type Index = number;

/**
 * A voting configuration: who votes, with what integer weight, and who only learns.
 *
 * A set Q of voters is a quorum iff `2 · Σ_{i∈Q} w_i > Σ_all w_i`. Classic Raft is the
 * case where every weight is 1. Weights are integers ≥ 0 with a positive total.
 */
export interface Configuration {
  /** Voters and their vote weights. */
  readonly voters: ReadonlyMap<NodeId, number>;
  /** Non-voting members that receive the log. Disjoint from `voters`. */
  readonly learners: ReadonlySet<NodeId>;
}

/**
 * The configuration a node acts on. During a joint-consensus change (Raft thesis ch. 4),
 * `outgoing` holds C(old) and `incoming` C(new): elections and commits need a quorum in both.
 */
export interface ClusterConfig {
  /** C(new), or the only configuration when not joint. */
  readonly incoming: Configuration;
  /** C(old) while a joint change is in progress; `undefined` otherwise. */
  readonly outgoing?: Configuration;
}

/** An entry that carries user data for the state machine. An empty `data` is the leader's no-op. */
export interface NormalEntry {
  readonly type: 'normal';
  readonly term: Term;
  readonly index: Index;
  readonly data: Uint8Array;
}

/** An entry that changes the configuration; it takes effect as soon as it is appended. */
export interface ConfigEntry {
  readonly type: 'config';
  readonly term: Term;
  readonly index: Index;
  readonly config: ClusterConfig;
}

/** A replicated log entry. */
export type LogEntry = NormalEntry | ConfigEntry;

/** What must survive a crash besides the log (Raft paper Figure 2, "persistent state"). */
export interface HardState {
  readonly term: Term;
  /** The candidate voted for in `term`, if any. */
  readonly vote: NodeId | undefined;
  /** The highest index known committed. Persisting it is an optimisation, never a requirement. */
  readonly commit: Index;
}

/** What a snapshot covers: the log up to `index` (of `term`), under `config`. */
export interface SnapshotMetadata {
  readonly index: Index;
  readonly term: Term;
  readonly config: ClusterConfig;
}

/** A state-machine snapshot that replaces the log prefix up to its metadata's index. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** RequestVote (§5.2), or its pre-vote probe (thesis §9.6), which changes no state on the receiver. */
export interface VoteRequest extends MessageBase {
  readonly type: 'voteRequest';
  readonly preVote: boolean;
  readonly lastLogIndex: Index;
  readonly lastLogTerm: Term;
  /** Set when campaigning because the leader asked (TimeoutNow): voters ignore their leader lease. */
  readonly transfer: boolean;
}

/** The answer to a {@link VoteRequest}. */
export interface VoteResponse extends MessageBase {
  readonly type: 'voteResponse';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries (§5.3). `entries` may be empty (a probe). */
export interface AppendRequest extends MessageBase {
  readonly type: 'appendRequest';
  readonly prevLogIndex: Index;
  readonly prevLogTerm: Term;
  readonly entries: readonly LogEntry[];
  readonly commitIndex: Index;
}

/**
 * The answer to an {@link AppendRequest}. On success `index` is the last index now known to match;
 * on rejection `index` is the rejected `prevLogIndex` and `hintIndex`/`hintTerm` help the leader
 * skip back past a conflicting term in one step.
 */
export interface AppendResponse extends MessageBase {
  readonly type: 'appendResponse';
  readonly success: boolean;
  readonly index: Index;
  readonly hintIndex: Index;
  readonly hintTerm: Term;
}

/** Leader heartbeat: asserts leadership, carries the commit index and an optional read context. */
export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeat';
  readonly commitIndex: Index;
  /** ReadIndex round this heartbeat confirms, if any. */
  readonly context?: string;
}

/** The answer to a {@link HeartbeatRequest}. */
export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context?: string;
}

/** InstallSnapshot, in chunks: `offset` into the snapshot data, `done` on the last chunk. */
export interface SnapshotRequest extends MessageBase {
  readonly type: 'snapshotRequest';
  readonly metadata: SnapshotMetadata;
  readonly offset: number;
  readonly chunk: Uint8Array;
  readonly done: boolean;
}

/** The answer to a {@link SnapshotRequest}: how far the follower got. */
export interface SnapshotResponse extends MessageBase {
  readonly type: 'snapshotResponse';
  readonly index: Index;
  /** Bytes received so far of the snapshot at `index`, or -1 when the follower rejected it. */
  readonly offset: number;
  readonly done: boolean;
}

/** Leadership transfer: the leader tells an up-to-date follower to campaign at once (thesis §3.10). */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of a local linearizable read. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndexRequest';
  readonly context: string;
}

/** The leader's answer: the read may be served once the follower has applied `index`. */
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly context: string;
  /** The read index, or -1 when the leader could not serve the read (e.g. it is stepping down). */
  readonly index: Index;
}

/** Every Raft RPC greenraft sends between nodes. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | SnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

/** The `type` tag of a {@link Message}. */
export type MessageType = Message['type'];

/** A node's role in its current term. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** A committed entry as the state machine sees it. */
export interface ApplyInput {
  readonly index: Index;
  readonly term: Term;
  readonly data: Uint8Array;
}

/**
 * The replicated state machine (hashicorp/raft's FSM). `apply` must be deterministic:
 * the same entries in the same order give the same state and results on every node.
 *
 * @example
 * ```ts
 * class Counter implements StateMachine<number> {
 *   value = 0;
 *   apply({ data }: ApplyInput) { this.value += data[0] ?? 0; return this.value; }
 *   snapshot() { return Uint8Array.of(this.value); }
 *   restore(data: Uint8Array) { this.value = data[0] ?? 0; }
 * }
 * ```
 */
export interface StateMachine<Result = unknown> {
  /**
   * Applies one committed entry; the returned value settles the proposal on the leader. It must
   * not throw for an entry it dislikes (every node applies the same log; return a refusal
   * instead): a throw is fatal, and the node stops with a `StateMachineError` (the same goes for
   * `snapshot` and `restore`).
   */
  apply(input: ApplyInput): Result | Promise<Result>;
  /** Serialises the whole state as of the last applied entry. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /** Replaces the whole state with a snapshot's. */
  restore(data: Uint8Array): void | Promise<void>;
}

/** Receives messages from a {@link Transport}. */
export type MessageHandler = (message: Message) => void;

/**
 * What a {@link Transport} tells its node besides delivering messages (etcd's `ReportUnreachable`).
 * Every callback is optional and must not throw; a transport calls them outside `send`.
 */
export interface TransportEvents {
  /**
   * A message to `peer` was dropped because the peer cannot be reached now (no connection, or
   * its send queue is full). The node's leader stops pipelining to that peer and probes it instead
   * of filling a queue that does not drain.
   */
  unreachable?(peer: NodeId): void;
}

/**
 * Sends core messages between node ids and delivers received ones. `send` never blocks
 * and never throws for an unreachable peer: Raft tolerates loss and retries by itself.
 */
export interface Transport {
  /** The id of the node this endpoint belongs to. */
  readonly localId: NodeId;
  /**
   * Starts delivering received messages to `handler`, and reporting to `events` (when given)
   * what the node should know about its peers.
   */
  start(handler: MessageHandler, events?: TransportEvents): Promise<void>;
  /** Queues a message for `message.to`; best effort, in order per peer when the link allows. */
  send(message: Message): void;
  /** Stops sending and delivering; pending messages may be dropped. */
  stop(): Promise<void>;
}

/** What a node reads back from its {@link Storage} when it starts. */
export interface PersistentState {
  readonly hardState: HardState;
  /** The latest snapshot, which replaces the log before its index. */
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous and in order. */
  readonly entries: readonly LogEntry[];
}

/**
 * One atomic, durable write. Entries overwrite any stored entries at or after their first index.
 * A batch that carries a snapshot is applied first: stored entries after the snapshot survive only
 * if the stored log agrees with the snapshot at its index (Raft §7); the batch's entries (the core
 * re-sends the suffix it kept) then overwrite from their first index, so no stale conflicting entry
 * survives a restart.
 */
export interface StorageBatch {
  readonly hardState?: HardState;
  readonly entries?: readonly LogEntry[];
  readonly snapshot?: Snapshot;
}

/**
 * Durable storage of the log, the hard state and the latest snapshot
 * (hashicorp/raft's LogStore + StableStore + SnapshotStore in one small interface).
 * `save` resolves only once the batch is durable: the node sends nothing that depends on it before.
 */
export interface Storage {
  /** Reads everything a restarting node needs. */
  load(): Promise<PersistentState>;
  /** Persists a batch atomically (all of it or none of it survives a crash). */
  save(batch: StorageBatch): Promise<void>;
  /** Drops entries up to and including `index`, which a saved snapshot must cover. */
  compact(index: Index): Promise<void>;
  /** Releases resources. */
  close(): Promise<void>;
}

/** Which acknowledgements formed the quorum that committed `index`, in the order they arrived. */
export interface CommitQuorum {
  readonly index: Index;
  readonly term: Term;
  /**
   * Voters whose acknowledgement counted, leader first, in arrival order up to the one that completed
   * the quorum. `latencyMs` is measured in wall-clock milliseconds (never negative) from when the leader
   * handed the entry at `index` to its storage and its followers: for a follower, until its first
   * answer covering `index` reached the leader (the network's round trip plus the follower's write);
   * for the leader itself, until its own write of the entry was durable.
   */
  readonly acks: readonly { readonly id: NodeId; readonly weight: number; readonly latencyMs: number }[];
}

/** Per-follower replication state, as the leader tracks it. */
export interface PeerProgress {
  readonly match: Index;
  readonly next: Index;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
}

/** A snapshot of a node's state for display and monitoring. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly leader: NodeId | undefined;
  readonly commitIndex: Index;
  readonly appliedIndex: Index;
  readonly lastIndex: Index;
  readonly config: ClusterConfig;
  /** Present on the leader only. */
  readonly progress?: ReadonlyMap<NodeId, PeerProgress>;
}

/** The typed event map every {@link ConsensusNode} emits (eventemitter3 style). */
export interface ConsensusEvents<Result = unknown> {
  /** The node's role changed. */
  stateChange: (event: { readonly from: Role; readonly to: Role; readonly term: Term }) => void;
  /** The node learned of a new leader, or lost it. */
  leaderChange: (event: { readonly leader: NodeId | undefined; readonly term: Term }) => void;
  /** The commit index advanced. */
  commit: (event: { readonly index: Index; readonly term: Term }) => void;
  /** A committed normal entry was applied to the state machine. */
  apply: (event: { readonly index: Index; readonly term: Term; readonly result: Result }) => void;
  /** On the leader: which acknowledgements formed the quorum for a commit. */
  commitQuorum: (event: CommitQuorum) => void;
  /** The configuration in effect changed (on append, or on truncation back to an older one). */
  configChange: (event: { readonly index: Index; readonly config: ClusterConfig }) => void;
  /** A snapshot was taken locally or installed from the leader. */
  snapshot: (event: { readonly index: Index; readonly term: Term; readonly installed: boolean }) => void;
  /** A fatal or reportable error (storage failure, invalid message from a peer, ...). */
  error: (error: Error) => void;
}

/** The result of a successful proposal. */
export interface ProposeResult<Result = unknown> {
  readonly index: Index;
  readonly term: Term;
  /** What the state machine's `apply` returned for the entry. */
  readonly result: Result;
}

/** Options for waiting operations. */
export interface OperationOptions {
  /** Aborts the wait; the operation rejects with an `AbortError` (its outcome is then unknown). */
  signal?: AbortSignal;
  /**
   * Rejects with a `TimeoutError` after this many milliseconds (a positive number; the
   * operation's outcome is then unknown). When omitted, the node's own deadline applies: for
   * `RaftNode` (and the weighted node, which runs on it) that is its `proposalTimeoutMs`, 5000 ms
   * unless set, for `propose`, `readBarrier`, `changeConfiguration` (the whole joint change, up to
   * C(new) applied) and `transferLeadership` alike, and for `applyWeights`' configuration change.
   * @default the node's proposalTimeoutMs (5000)
   */
  timeoutMs?: number;
}

/**
 * What a user programs against: a running member of a consensus cluster.
 * Implemented by `RaftNode` (classic Raft) and the weighted Raft node.
 */
export interface ConsensusNode<Result = unknown> {
  readonly id: NodeId;
  /** Loads storage, restores the state machine and starts timers and the transport. */
  start(): Promise<void>;
  /** Stops timers and the transport; pending operations reject with `StoppedError`. */
  stop(): Promise<void>;
  /** Replicates `data`; resolves once it is committed and applied here, with the state machine's result. */
  propose(data: Uint8Array, options?: OperationOptions): Promise<ProposeResult<Result>>;
  /** A linearizable read barrier (ReadIndex): resolves with an index once this node has applied at least it. */
  readBarrier(options?: OperationOptions): Promise<Index>;
  /** Moves to `target` (any mix of voter, learner and weight changes) by joint consensus. */
  changeConfiguration(target: Configuration, options?: OperationOptions): Promise<ClusterConfig>;
  /** Asks the leader to hand leadership to `to`. */
  transferLeadership(to: NodeId, options?: OperationOptions): Promise<void>;
  /** The node's current state. */
  status(): NodeStatus;
  on<E extends keyof ConsensusEvents<Result>>(event: E, listener: ConsensusEvents<Result>[E]): this;
  off<E extends keyof ConsensusEvents<Result>>(event: E, listener?: ConsensusEvents<Result>[E]): this;
  once<E extends keyof ConsensusEvents<Result>>(event: E, listener: ConsensusEvents<Result>[E]): this;
}
