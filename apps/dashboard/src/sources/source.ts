/**
 * What the page needs from a data source: a stream of {@link DashboardEvent}s and a control
 * interface. The in-page cluster implements every control; the live source implements those the
 * nodes' client API offers and hands the rest (processes, links, signing trades) to a
 * {@link ControlBackend}, which a supervisor of the node processes provides.
 */
import { GreenraftError, InvalidArgumentError } from '@greenraft/consensus';
import type { DashboardEvent, NodeId } from '../model/events.js';

export { InvalidArgumentError };

/** Every control the dashboard offers. */
export type ControlName = 'crash' | 'restart' | 'partition' | 'heal' | 'proposeTrade' | 'runRound' | 'setScoring' | 'transferLeadership';

/** Every control, in the order the page shows them. */
export const CONTROL_NAMES: readonly ControlName[] = ['crash', 'restart', 'partition', 'heal', 'proposeTrade', 'runRound', 'setScoring', 'transferLeadership'];

/** A day-ahead contract between a generation node and a consumption node, offered by the generator and accepted by the consumer. */
export interface TradeInit {
  /** The generation node that sells. */
  readonly seller: NodeId;
  /** The consumption node that buys. */
  readonly buyer: NodeId;
  /** Contracted volume, kWh (> 0). */
  readonly kWh: number;
  /** Unit price, yuan/kWh, within the market's price range. */
  readonly unitPrice: number;
}

/** What a trade became. */
export interface TradeResult {
  /** `"<seller>/<nonce>"`. */
  readonly contractId: string;
  /** The log index of the entry that carried it. */
  readonly index: number;
  /** The ledger block it is in. */
  readonly blockHeight: number;
}

/** What a trading round did. */
export interface RoundResult {
  readonly round: number;
  readonly contracts: number;
  readonly index: number;
  /** Contracts planned that could not be made (a party down or a transaction refused), when some could not. */
  readonly dropped?: number;
}

/** A scoring strategy a cluster can put in force, named as `cluster.setScoring` names it. */
export interface ScoringChoice {
  /** The page's name for it. */
  readonly id: string;
  /** A label for people. */
  readonly label: string;
  /** The replicated selection: strategy name, version and parameters. */
  readonly selection: { readonly name: string; readonly version: string; readonly params?: Readonly<Record<string, number>> };
}

/** The strategies both kinds of cluster know (the server's built-in `paper` and `uniform`, version 1). */
export const SCORING_CHOICES: readonly ScoringChoice[] = [
  { id: 'paper-election', label: 'Paper, leader-election study (γ = 0)', selection: { name: 'paper', version: '1' } },
  {
    id: 'paper-consensus',
    label: 'Paper, consensus-time study (γ = 0.3)',
    selection: { name: 'paper', version: '1', params: { participationFactorGeneration: 0.3, participationFactorConsumption: 0.3 } },
  },
  { id: 'uniform', label: 'Uniform (classic Raft)', selection: { name: 'uniform', version: '1' } },
];

/**
 * The controls of a cluster. Each resolves once its effect is in place (a crashed node stopped, a
 * trade in a committed block) or rejects with a typed error: {@link InvalidArgumentError} for a
 * bad argument (an unknown node), {@link UnsupportedControlError} for a control this source does
 * not offer, {@link ControlFailedError} when the cluster could not do it (no leader in time).
 */
export interface ClusterControls {
  /** The controls this source offers; the others reject with {@link UnsupportedControlError}. */
  readonly supported: ReadonlySet<ControlName>;
  /** Stops a node as a crash would: its durable state stays, its process (or in-page node) stops. */
  crash(node: NodeId): Promise<void>;
  /** Starts a crashed node again on its durable state. */
  restart(node: NodeId): Promise<void>;
  /** Cuts the link between two nodes, both ways. */
  partition(a: NodeId, b: NodeId): Promise<void>;
  /** Heals the link between two nodes, or every cut link when none is named. */
  heal(a?: NodeId, b?: NodeId): Promise<void>;
  /** Signs and submits a day-ahead contract (offered and accepted in one entry). */
  proposeTrade(trade: TradeInit): Promise<TradeResult>;
  /** Runs one trading round: contracts, metered delivery, settlement, participation, new weights. */
  runRound(): Promise<RoundResult>;
  /** Puts a scoring strategy in force (a replicated entry); the next weight epoch scores with it. */
  setScoring(choice: ScoringChoice['id']): Promise<void>;
  /** Asks the leader to hand leadership to `to`. */
  transferLeadership(to: NodeId): Promise<void>;
}

/**
 * The controls a supervisor of the node processes provides to a live page (crash a process, cut a
 * link, sign trades and run rounds with the participants' keys): any of them, each as
 * {@link ClusterControls} defines it.
 */
export type ControlBackend = Partial<Pick<ClusterControls, 'crash' | 'restart' | 'partition' | 'heal' | 'proposeTrade' | 'runRound' | 'setScoring'>>;

/** A source of events and the controls of the cluster they come from. */
export interface DataSource {
  /** `in-browser`: a cluster in this page; `live`: nodes over the client WebSocket protocol. */
  readonly mode: 'in-browser' | 'live';
  /** What the page calls it. */
  readonly description: string;
  readonly controls: ClusterControls;
  /** Starts the source; `emit` receives every event from then on, in order. */
  start(emit: (event: DashboardEvent) => void): Promise<void>;
  /** Stops it: no event after this resolves. */
  stop(): Promise<void>;
}

/** The source does not offer this control (a live cluster without a supervisor cannot crash a process). */
export class UnsupportedControlError extends GreenraftError<'UNSUPPORTED_CONTROL'> {
  readonly control: ControlName;
  constructor(control: ControlName, message: string) {
    super('UNSUPPORTED_CONTROL', message);
    this.name = 'UnsupportedControlError';
    this.control = control;
  }
}

/** The cluster could not carry out a control (no leader in time, the market refused a transaction). */
export class ControlFailedError extends GreenraftError<'CONTROL_FAILED'> {
  readonly control: ControlName;
  constructor(control: ControlName, message: string, options: { cause?: unknown } = {}) {
    super('CONTROL_FAILED', message, options);
    this.name = 'ControlFailedError';
    this.control = control;
  }
}
