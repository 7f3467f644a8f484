/**
 * The one vocabulary every data source speaks to the dashboard's model: the in-page cluster and
 * the live nodes (over the client WebSocket protocol) both turn what they see into these events.
 * Times are milliseconds since the Unix epoch, as the page received or produced the event.
 */

/** A node id. */
export type NodeId = string;

/** A node's Raft role (`down`: crashed or unreachable). */
export type NodeRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** A configuration as the client protocol writes it: C(new) in `voters`, C(old) in `outgoing` while joint. */
export interface ConfigView {
  readonly voters: Readonly<Record<NodeId, number>>;
  readonly learners: readonly NodeId[];
  /** C(old) during a joint change, else `null`. */
  readonly outgoing: Readonly<Record<NodeId, number>> | null;
}

/** A market participant: what kind of node it is. */
export interface Participant {
  readonly id: NodeId;
  readonly kind: 'generation' | 'consumption';
  readonly renewable: boolean;
}

/** The six component scores of the paper (§4.2), each in [0, 100], and the total the strategy in force gives. */
export interface ScoreBreakdown {
  readonly credit: number;
  readonly volume: number;
  readonly participation: number;
  readonly greenCertificates: number;
  readonly carbon: number;
  readonly lineFaults: number;
  /** The score of the strategy in force, or `null` when it could not score. */
  readonly total: number | null;
}

/** One acknowledgement of a commit quorum, in arrival order (the leader's own first). */
export interface QuorumAck {
  readonly id: NodeId;
  readonly weight: number;
  readonly latencyMs: number;
}

/** One contract of a settled round (money in milli-yuan). */
export interface ContractOutcome {
  readonly id: string;
  readonly generator: NodeId;
  readonly consumer: NodeId;
  readonly contractedKWh: number;
  readonly generatedKWh: number | null;
  readonly consumedKWh: number | null;
  readonly generatorRevenue: number;
  readonly consumerExpense: number;
  readonly generatorPenalty: number;
  readonly consumerPenalty: number;
  readonly allocatedToOthers: number;
}

/** One node's outcome of a settled round (money in milli-yuan). */
export interface NodeOutcome {
  readonly id: NodeId;
  readonly contractedKWh: number;
  readonly actualKWh: number;
  readonly penalty: number;
  readonly compensation: number;
  readonly allocation: number;
  readonly balanceChange: number;
  readonly creditWeightAfter: number;
}

/** The latest settled round. `contracts` and `nodes` are empty when the source only knows the summary. */
export interface RoundView {
  readonly round: number;
  readonly totalContractedKWh: number | null;
  readonly contracts: readonly ContractOutcome[];
  readonly nodes: readonly NodeOutcome[];
  readonly voteWeights: Readonly<Record<NodeId, number>> | null;
}

/** A node's green certificates (eq. 6, 20) and carbon account (eq. 21–22). */
export interface HoldingsView {
  readonly balance: number;
  readonly certificatesHeld: number;
  readonly certificatesIssued: number;
  readonly carbonQuota: number;
  readonly carbonPurchased: number;
  readonly carbonEmitted: number;
  /** A_ce of the last completed carbon cycle (eq. 22). */
  readonly carbonSettlement: number;
}

/** The head of the hash-chained ledger (`ledgerHead()`). */
export interface LedgerHeadView {
  readonly height: number;
  readonly hash: string;
  readonly index: number;
  readonly term: number;
  readonly appliedIndex: number;
}

/** One transaction of a block, summarised for people. */
export interface TransactionView {
  readonly type: string;
  readonly signer: NodeId;
  readonly nonce: number;
  /** What it does, in words: `solar offers mill 120 kWh at 0.55 ¥/kWh`. */
  readonly summary: string;
}

/** A ledger block. */
export interface BlockView {
  readonly height: number;
  readonly hash: string;
  readonly index: number;
  readonly term: number;
  readonly transactions: readonly TransactionView[];
}

/** Everything a data source reports. */
export type DashboardEvent =
  /** The participants (node ids, kinds), once known; again when they change. */
  | { readonly type: 'roster'; readonly at: number; readonly participants: readonly Participant[] }
  /** One node's Raft state: on every change (in-page) or on every status event (live). */
  | {
      readonly type: 'status';
      readonly at: number;
      readonly node: NodeId;
      readonly role: NodeRole;
      readonly term: number;
      readonly leader: NodeId | null;
      readonly commitIndex: number;
      readonly appliedIndex: number;
      /** The configuration in force in this node's own log. */
      readonly config: ConfigView;
    }
  /** A node stopped answering: crashed (in-page) or its connection failed (live). */
  | { readonly type: 'down'; readonly at: number; readonly node: NodeId; readonly reason: string }
  /** The scores behind the weights, from a replica of the market, and the strategy in force. */
  | { readonly type: 'scores'; readonly at: number; readonly strategy: string; readonly scores: Readonly<Record<NodeId, ScoreBreakdown>> }
  /** The leader reported the acknowledgements that completed a commit quorum. */
  | { readonly type: 'commitQuorum'; readonly at: number; readonly leader: NodeId; readonly index: number; readonly term: number; readonly acks: readonly QuorumAck[] }
  /** A node learned of a leader (or lost it: `null`). */
  | { readonly type: 'leader'; readonly at: number; readonly reporter: NodeId; readonly leader: NodeId | null; readonly term: number }
  /** A node was seen as a candidate (in-page: each one; live: those a status sample caught). The model counts elections by terms. */
  | { readonly type: 'election'; readonly at: number; readonly node: NodeId; readonly term: number }
  /** A measured round-trip time between two nodes. */
  | { readonly type: 'rtt'; readonly at: number; readonly from: NodeId; readonly to: NodeId; readonly rttMs: number }
  /** Event-loop lag of a node's process (`node: null`: the page itself, which runs the in-page cluster). */
  | { readonly type: 'lag'; readonly at: number; readonly node: NodeId | null; readonly meanMs: number; readonly maxMs: number }
  /** A round settled. */
  | { readonly type: 'round'; readonly at: number; readonly round: RoundView }
  /** Balances, certificates and carbon accounts, per participant. */
  | { readonly type: 'holdings'; readonly at: number; readonly holdings: Readonly<Record<NodeId, HoldingsView>>; readonly gridBalance: number | null }
  /** The ledger's head. */
  | { readonly type: 'ledgerHead'; readonly at: number; readonly head: LedgerHeadView }
  /** New (or re-read) blocks of the ledger. */
  | { readonly type: 'blocks'; readonly at: number; readonly blocks: readonly BlockView[] }
  /** Something a person should read: what an action did, a round, new weights. */
  | { readonly type: 'log'; readonly at: number; readonly level: 'info' | 'warn'; readonly text: string };

/** The `type` of a {@link DashboardEvent}. */
export type DashboardEventType = DashboardEvent['type'];
