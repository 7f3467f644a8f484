import type {
  ClusterConfig,
  Configuration,
  HardState,
  Index,
  LogEntry,
  Message,
  NodeId,
  PersistentState,
  Role,
  Snapshot,
  Term,
} from '@greenraft/consensus';

/** What an election-timeout policy sees each time a node resets its election timer. */
export interface ElectionTimeoutContext {
  readonly id: NodeId;
  /** The configuration in effect (from the node's own log). */
  readonly config: ClusterConfig;
  /** `electionTicks` from the options. */
  readonly electionTicks: number;
  /** The core's seeded PRNG: uniform in [0, 1). */
  readonly random: () => number;
}

/**
 * Pluggable parts of the protocol. Classic Raft uses the defaults; weighted Raft supplies a
 * rank-based election timeout (paper eq. 7). Quorums always come from the configuration's weights.
 */
export interface RaftPolicy {
  /**
   * The election timeout, in ticks, drawn each time the timer resets.
   * @default electionTicks + floor(random() · electionTicks)  (randomised, Raft §5.2)
   */
  electionTimeoutTicks?(context: ElectionTimeoutContext): number;
}

/** Options of the pure core. Time is ticks; randomness is the injected PRNG. */
export interface RaftCoreOptions {
  /** This node's id. */
  id: NodeId;
  /** What storage held at start. Omit for a brand-new node. */
  state?: PersistentState;
  /**
   * The initial configuration of a brand-new cluster (same on every founding node). Ignored when
   * `state` holds a log or snapshot. A node that joins later omits it and learns the configuration
   * from the leader.
   */
  bootstrap?: Configuration;
  /** @default 10 */
  electionTicks?: number;
  /** @default 1 */
  heartbeatTicks?: number;
  /** Uniform PRNG in [0, 1). @default a PRNG seeded from `seed` */
  random?: () => number;
  /**
   * Seed for the default PRNG (election jitter).
   * @default a hash of `id`, so nodes with different ids draw different election timeouts
   */
  seed?: number;
  /** Pre-vote (thesis §9.6): a partitioned node does not disrupt the cluster when it returns. @default true */
  preVote?: boolean;
  /**
   * Check-quorum (thesis §6.2): a leader steps down when it has not heard from a quorum for an
   * election timeout (a new leader counts only itself at the start of its term), and a voter that
   * heard from a leader within an election timeout ignores candidates (the leader lease). Without
   * it, voters grant pre-votes whenever the candidate's log is up to date.
   * @default true
   */
  checkQuorum?: boolean;
  /** Max AppendRequests in flight per follower in replicate state. @default 256 */
  maxInflightMessages?: number;
  /** Max bytes of entries in flight per follower (0 = no limit). @default 0 */
  maxInflightBytes?: number;
  /** Max bytes of entries in one AppendRequest. @default 1 MiB */
  maxMessageBytes?: number;
  /** Max bytes of uncommitted entries on the leader; further proposals throw ProposalDroppedError (0 = no limit). @default 0 */
  maxUncommittedBytes?: number;
  /**
   * Snapshot chunk size for InstallSnapshot. One chunk is in flight per follower; it goes again
   * only when its answer is overdue (a timeout in ticks: `electionTicks` until a round trip is
   * measured, then RFC 6298's estimate, at least 2), or once a follower that fell silent answers again.
   * @default 256 KiB
   */
  snapshotChunkBytes?: number;
  /** Protocol policies. */
  policy?: RaftPolicy;
  /**
   * How the leader confirms a ReadIndex (thesis §6.4): `'safe'` runs a heartbeat round that a quorum
   * must answer; `'lease'` answers from the commit index while the leader's lease holds, which relies
   * on bounded clock drift and is only accepted together with `checkQuorum`.
   * @default 'safe'
   */
  readOnly?: 'safe' | 'lease';
  /**
   * The index the state machine already reflects when it survives a restart on its own. The core
   * re-emits committed entries after it (and after the snapshot) in `Ready.committedEntries`.
   * @default the snapshot's index (0 without one)
   */
  applied?: Index;
}

/** A linearizable read that may be served once the local node has applied `index`. */
export interface ReadState {
  readonly context: string;
  readonly index: Index;
}

/** Volatile state worth reporting when it changes. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | undefined;
  readonly term: Term;
}

/** One acknowledgement that counted towards a commit, in arrival order. `tick` is the core's tick count when it arrived. */
export interface QuorumAck {
  readonly id: NodeId;
  readonly weight: number;
  readonly tick: number;
  /**
   * For a follower, the ordinal of the response that delivered it among every message stepped into
   * this core ({@link RaftCore.steps} just after that `step` call), so a driver can match it to its
   * own record of when the response arrived. For the leader's own, the count when it appended.
   */
  readonly step: number;
}

/** On the leader: which acknowledgements formed the quorum that committed `index`. */
export interface CoreCommitQuorum {
  readonly index: Index;
  readonly term: Term;
  /** The tick at which the leader appended `index`. */
  readonly proposedTick: number;
  readonly acks: readonly QuorumAck[];
}

/**
 * A batch of work the driver must do, in this order (etcd-io/raft's Ready):
 * 1. persist `snapshot`, `entries` and `hardState` in one atomic, durable storage batch;
 * 2. then send `messages`;
 * 3. restore `snapshot` into the state machine, then apply `committedEntries` in order;
 * 4. serve `readStates` once the applied index reaches each one's index, and fail `droppedReads`;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  /** To persist; overwrite stored entries from `entries[0].index` on. */
  readonly entries: readonly LogEntry[];
  /** To persist and install (replaces the state machine's state and the log up to its index). */
  readonly snapshot?: Snapshot;
  /** Committed entries to apply, in order (normal and config entries; apply only normal ones' data). */
  readonly committedEntries: readonly LogEntry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /**
   * Contexts of this node's reads ({@link RaftCore.readIndex}) that will never be served: the
   * leader lost leadership before confirming them or answered that it cannot serve them, or, on a
   * follower, its request went unanswered for an election timeout or the follower moved to a
   * newer term. Fail them at once; retrying is safe.
   */
  readonly droppedReads: readonly string[];
  readonly commitQuorums: readonly CoreCommitQuorum[];
}

/** A proposal accepted by the leader's core: it commits at `index` iff the entry there keeps `term`. */
export interface Proposed {
  readonly index: Index;
  readonly term: Term;
}
