/**
 * The dashboard's one data model: it takes {@link DashboardEvent}s from whichever source feeds
 * it and keeps what the views show. It knows nothing of the DOM, so it is tested in Node.
 */
import { EventEmitter } from 'eventemitter3';
import type {
  BlockView,
  ConfigView,
  DashboardEvent,
  HoldingsView,
  LedgerHeadView,
  NodeId,
  NodeRole,
  Participant,
  QuorumAck,
  RoundView,
  ScoreBreakdown,
} from './events.js';

/** One node as the views show it. */
export interface NodeView {
  readonly id: NodeId;
  readonly kind: Participant['kind'] | undefined;
  readonly renewable: boolean;
  /** False after a `down` event, until the node reports again. */
  readonly up: boolean;
  readonly role: NodeRole | 'down' | 'unknown';
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** The configuration in force in this node's own log. */
  readonly config: ConfigView | undefined;
  /** Its vote weight in the configuration in force (C(new) while joint). */
  readonly weight: number | undefined;
  /** The scores behind the weight. */
  readonly scores: ScoreBreakdown | undefined;
  /** When it last reported, ms since the epoch. */
  readonly seenAt: number;
}

/** One commit quorum: who acknowledged, in order, and the weight it reached against the threshold. */
export interface QuorumView {
  readonly at: number;
  readonly leader: NodeId;
  readonly index: number;
  readonly term: number;
  readonly acks: readonly QuorumAck[];
  /** Σ weight of the acknowledgements. */
  readonly weight: number;
  /** Σ weight of the voters of C(new) at the time. */
  readonly total: number | undefined;
}

/** A term and its leader. */
export interface LeaderTerm {
  readonly term: number;
  readonly leader: NodeId;
  /** When it was first reported. */
  readonly since: number;
}

/**
 * The elections seen. Every term is an election: a term starts only when a node campaigns in it,
 * so each new term any node reports counts, whether or not the page saw the candidate.
 */
export interface ElectionsView {
  /** Distinct terms seen (above 0), each begun by a campaign. */
  readonly elections: number;
  /** Terms that ended (a higher one was seen) with no leader reported for them: failed elections. */
  readonly failed: number;
  /** Terms whose leader a node reported. */
  readonly led: number;
  /** Nodes known to have campaigned, once per term: each term's leader, and every node seen as a candidate. */
  readonly candidacies: number;
}

/** One second of the time series. */
export interface SeriesPoint {
  /** Seconds since the epoch. */
  readonly time: number;
  /** Mean and max commit latency at the leader (append to quorum), ms; null with no commit. */
  readonly commitLatencyMs: number | null;
  readonly commitLatencyMaxMs: number | null;
  /** Entries committed per second. */
  readonly throughput: number;
  /** Mean event-loop lag, ms, per node (or `page`). */
  readonly lagMs: Readonly<Record<string, number>>;
}

/** A line of the activity log. */
export interface LogLine {
  /** Increases by one per line, so a view can tell which lines are new. */
  readonly seq: number;
  readonly at: number;
  readonly level: 'info' | 'warn';
  readonly text: string;
}

/** How much history the model keeps. */
export interface DashboardModelInit {
  /**
   * Commit quorums kept.
   * @default 8
   */
  quorums?: number;
  /**
   * Seconds of time series kept.
   * @default 120
   */
  seconds?: number;
  /**
   * Ledger blocks kept.
   * @default 30
   */
  blocks?: number;
  /**
   * Log lines kept.
   * @default 100
   */
  logLines?: number;
}

/** The events the model emits. */
export interface DashboardModelEvents {
  /** Something changed: the views should redraw (they throttle). */
  change: () => void;
}

/** The key the page's own event loop is reported under. */
export const PAGE = 'page';

interface MutableNode {
  id: NodeId;
  kind: Participant['kind'] | undefined;
  renewable: boolean;
  up: boolean;
  role: NodeRole | 'down' | 'unknown';
  term: number;
  leader: NodeId | null;
  commitIndex: number;
  appliedIndex: number;
  config: ConfigView | undefined;
  seenAt: number;
}

/** Terms whose leader and candidates are kept; older ones stay in the counts only. */
const TERMS_KEPT = 1000;

const sum = (weights: Readonly<Record<NodeId, number>>) => Object.values(weights).reduce((total, weight) => total + weight, 0);

/** The dashboard's state, fed by events. */
export class DashboardModel extends EventEmitter<DashboardModelEvents> {
  readonly #limits: Required<DashboardModelInit>;
  readonly #nodes = new Map<NodeId, MutableNode>();
  /** Roster positions: nodes show in roster order, the others after them by id. */
  #order = new Map<NodeId, number>();
  #scores: Readonly<Record<NodeId, ScoreBreakdown>> = {};
  #strategy: string | undefined;
  readonly #quorums: QuorumView[] = [];
  readonly #leaders: LeaderTerm[] = [];
  /** The terms seen, recent ones only, in increasing order (the first is the oldest kept): each one's leader, if reported, and the nodes known to have campaigned in it. */
  readonly #terms = new Map<number, { leader: NodeId | undefined; candidates: Set<NodeId> }>();
  #highestTerm = 0;
  /** What the terms dropped from #terms counted. */
  #forgotten = { elections: 0, failed: 0, led: 0, candidacies: 0 };
  readonly #rtt = new Map<string, { from: NodeId; to: NodeId; rttMs: number; at: number }>();
  readonly #lag = new Map<string, { meanMs: number; maxMs: number; at: number }>();
  readonly #series: SeriesPoint[] = [];
  #round: RoundView | undefined;
  #holdings: Readonly<Record<NodeId, HoldingsView>> = {};
  #gridBalance: number | null = null;
  #head: LedgerHeadView | undefined;
  #blocks: BlockView[] = [];
  readonly #log: LogLine[] = [];
  #logSeq = 0;
  // Accumulated since the last sample.
  #latencies: number[] = [];
  #highestCommit = 0;
  #sampledCommit: number | undefined;
  #sampledAt: number | undefined;

  constructor(init: DashboardModelInit = {}) {
    super();
    this.#limits = { quorums: init.quorums ?? 8, seconds: init.seconds ?? 120, blocks: init.blocks ?? 30, logLines: init.logLines ?? 100 };
  }

  /** Takes one event. */
  apply(event: DashboardEvent): void {
    switch (event.type) {
      case 'roster':
        this.#order = new Map(event.participants.map((participant, position) => [participant.id, position]));
        for (const participant of event.participants) {
          const node = this.#node(participant.id, event.at);
          node.kind = participant.kind;
          node.renewable = participant.renewable;
        }
        break;
      case 'status': {
        const node = this.#node(event.node, event.at);
        Object.assign(node, {
          up: true,
          role: event.role,
          term: event.term,
          leader: event.leader,
          commitIndex: event.commitIndex,
          appliedIndex: event.appliedIndex,
          config: event.config,
          seenAt: event.at,
        });
        if (event.role === 'leader') this.#noteLeader(event.leader ?? event.node, event.term, event.at);
        // A follower names the leader of its own term.
        else if (event.leader !== null) this.#noteLeader(event.leader, event.term, event.at);
        else this.#noteTerm(event.term);
        if (event.role === 'candidate') this.#noteTerm(event.term)?.candidates.add(event.node);
        this.#highestCommit = Math.max(this.#highestCommit, event.commitIndex);
        break;
      }
      case 'down': {
        const node = this.#node(event.node, event.at);
        node.up = false;
        node.role = 'down';
        node.seenAt = event.at;
        break;
      }
      case 'scores':
        this.#scores = event.scores;
        this.#strategy = event.strategy;
        break;
      case 'commitQuorum': {
        const config = this.#nodes.get(event.leader)?.config;
        const quorum: QuorumView = {
          at: event.at,
          leader: event.leader,
          index: event.index,
          term: event.term,
          acks: event.acks,
          weight: event.acks.reduce((total, ack) => total + ack.weight, 0),
          total: config === undefined ? undefined : sum(config.voters),
        };
        this.#quorums.unshift(quorum);
        this.#quorums.length = Math.min(this.#quorums.length, this.#limits.quorums);
        const last = event.acks.at(-1);
        if (last !== undefined) this.#latencies.push(last.latencyMs);
        this.#highestCommit = Math.max(this.#highestCommit, event.index);
        this.#noteLeader(event.leader, event.term, event.at);
        break;
      }
      case 'leader':
        if (event.leader !== null) this.#noteLeader(event.leader, event.term, event.at);
        else this.#noteTerm(event.term);
        break;
      case 'election':
        this.#noteTerm(event.term)?.candidates.add(event.node);
        break;
      case 'rtt':
        this.#rtt.set(`${event.from}>${event.to}`, { from: event.from, to: event.to, rttMs: event.rttMs, at: event.at });
        break;
      case 'lag':
        this.#lag.set(event.node ?? PAGE, { meanMs: event.meanMs, maxMs: event.maxMs, at: event.at });
        break;
      case 'round':
        this.#round = event.round;
        break;
      case 'holdings':
        this.#holdings = event.holdings;
        this.#gridBalance = event.gridBalance;
        break;
      case 'ledgerHead':
        this.#head = event.head;
        break;
      case 'blocks': {
        const byHeight = new Map(this.#blocks.map((block) => [block.height, block]));
        for (const block of event.blocks) byHeight.set(block.height, block);
        this.#blocks = [...byHeight.values()].sort((a, b) => b.height - a.height).slice(0, this.#limits.blocks);
        break;
      }
      case 'log':
        this.#log.unshift({ seq: ++this.#logSeq, at: event.at, level: event.level, text: event.text });
        this.#log.length = Math.min(this.#log.length, this.#limits.logLines);
        break;
      default:
        return;
    }
    this.emit('change');
  }

  /** Closes one second of the time series at `now` (ms since the epoch): call it once a second. */
  sample(now: number): void {
    const seconds = this.#sampledAt === undefined ? 1 : Math.max(0.001, (now - this.#sampledAt) / 1000);
    const committed = this.#sampledCommit === undefined ? 0 : Math.max(0, this.#highestCommit - this.#sampledCommit);
    const latencies = this.#latencies;
    const lagMs: Record<string, number> = {};
    for (const [key, lag] of this.#lag) if (now - lag.at < 5000) lagMs[key] = lag.meanMs;
    this.#series.push({
      time: now / 1000,
      commitLatencyMs: latencies.length === 0 ? null : latencies.reduce((a, b) => a + b, 0) / latencies.length,
      commitLatencyMaxMs: latencies.length === 0 ? null : Math.max(...latencies),
      throughput: committed / seconds,
      lagMs,
    });
    if (this.#series.length > this.#limits.seconds) this.#series.splice(0, this.#series.length - this.#limits.seconds);
    this.#latencies = [];
    this.#sampledCommit = this.#highestCommit;
    this.#sampledAt = now;
    this.emit('change');
  }

  #node(id: NodeId, at: number): MutableNode {
    let node = this.#nodes.get(id);
    if (node === undefined) {
      node = { id, kind: undefined, renewable: false, up: false, role: 'unknown', term: 0, leader: null, commitIndex: 0, appliedIndex: 0, config: undefined, seenAt: at };
      this.#nodes.set(id, node);
    }
    return node;
  }

  /** Records a term seen (term 0 precedes any election); returns its record unless it is too old to keep. */
  #noteTerm(term: number): { leader: NodeId | undefined; candidates: Set<NodeId> } | undefined {
    if (!(Number.isSafeInteger(term) && term > 0)) return undefined;
    let entry = this.#terms.get(term);
    if (entry !== undefined) return entry;
    // Older than every kept term once some were forgotten: already counted, or never to be known.
    if (this.#terms.size >= TERMS_KEPT && term < this.#terms.keys().next().value!) return undefined;
    entry = { leader: undefined, candidates: new Set() };
    if (term > this.#highestTerm) this.#terms.set(term, entry);
    else {
      // Below the highest term seen (a lagging node's report): put it in its place, to keep the order.
      const terms = [...this.#terms];
      terms.splice(terms.findIndex(([kept]) => kept > term), 0, [term, entry]);
      this.#terms.clear();
      for (const [kept, record] of terms) this.#terms.set(kept, record);
    }
    this.#highestTerm = Math.max(this.#highestTerm, term);
    if (this.#terms.size > TERMS_KEPT) {
      const [oldest, dropped] = this.#terms.entries().next().value!;
      this.#terms.delete(oldest);
      this.#forgotten.elections++;
      if (dropped.leader === undefined) this.#forgotten.failed++;
      else this.#forgotten.led++;
      this.#forgotten.candidacies += dropped.candidates.size;
    }
    return entry;
  }

  #noteLeader(leader: NodeId, term: number, at: number): void {
    const entry = this.#noteTerm(term);
    if (entry !== undefined) {
      entry.leader ??= leader;
      // A leader campaigned in its term, seen or not.
      entry.candidates.add(leader);
    }
    if (this.#leaders.some((entry) => entry.term === term)) return;
    this.#leaders.push({ term, leader, since: at });
    this.#leaders.sort((a, b) => a.term - b.term);
    if (this.#leaders.length > 50) this.#leaders.splice(0, this.#leaders.length - 50);
  }

  /** Every node known: in roster order, then by id. */
  nodes(): NodeView[] {
    const config = this.configInForce();
    const position = (id: NodeId) => this.#order.get(id) ?? Number.MAX_SAFE_INTEGER;
    return [...this.#nodes.values()].sort((a, b) => position(a.id) - position(b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((node) => ({
      ...node,
      weight: config?.voters[node.id],
      scores: this.#scores[node.id],
    }));
  }

  /** One node, or `undefined`. */
  node(id: NodeId): NodeView | undefined {
    return this.nodes().find((node) => node.id === id);
  }

  /** The node that leads now: the running leader of the highest term. */
  leader(): NodeView | undefined {
    let best: MutableNode | undefined;
    for (const node of this.#nodes.values()) if (node.up && node.role === 'leader' && (best === undefined || node.term > best.term)) best = node;
    return best === undefined ? undefined : this.node(best.id);
  }

  /** The highest term any running node reports. */
  term(): number {
    let term = 0;
    for (const node of this.#nodes.values()) if (node.up) term = Math.max(term, node.term);
    return term;
  }

  /** The configuration in force: the leader's, else that of the running node with the highest term. */
  configInForce(): ConfigView | undefined {
    const leader = [...this.#nodes.values()].filter((node) => node.up && node.role === 'leader').sort((a, b) => b.term - a.term)[0];
    if (leader?.config !== undefined) return leader.config;
    return [...this.#nodes.values()].filter((node) => node.up && node.config !== undefined).sort((a, b) => b.term - a.term || b.commitIndex - a.commitIndex)[0]?.config;
  }

  /** The recent commit quorums, newest first. */
  quorums(): readonly QuorumView[] {
    return this.#quorums;
  }

  /** Leaders by term, oldest first. */
  leaderHistory(): readonly LeaderTerm[] {
    return this.#leaders;
  }

  /** The elections seen: every term, those that failed, those that had a leader, and the candidacies known. */
  elections(): ElectionsView {
    const counts = { ...this.#forgotten };
    for (const [term, entry] of this.#terms) {
      counts.elections++;
      if (entry.leader !== undefined) counts.led++;
      // The highest term may still elect a leader: it has not failed yet.
      else if (term < this.#highestTerm) counts.failed++;
      counts.candidacies += entry.candidates.size;
    }
    return counts;
  }

  /** The scoring strategy in force, as the source names it. */
  strategy(): string | undefined {
    return this.#strategy;
  }

  /**
   * The latest round-trip time of every link measured within `maxAgeMs` of the newest
   * measurement (links from a former leader age out).
   */
  roundTrips(maxAgeMs = 5000): { readonly from: NodeId; readonly to: NodeId; readonly rttMs: number; readonly at: number }[] {
    const newest = Math.max(0, ...[...this.#rtt.values()].map((trip) => trip.at));
    return [...this.#rtt.values()].filter((trip) => trip.at >= newest - maxAgeMs).sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : 1) : a.from < b.from ? -1 : 1));
  }

  /** The latest event-loop lag per node (or {@link PAGE}). */
  eventLoopLag(): ReadonlyMap<string, { readonly meanMs: number; readonly maxMs: number; readonly at: number }> {
    return this.#lag;
  }

  /** The time series, oldest first. */
  series(): readonly SeriesPoint[] {
    return this.#series;
  }

  /** The market: latest round, holdings, the grid's balance, the ledger's head and recent blocks (newest first). */
  market(): {
    readonly round: RoundView | undefined;
    readonly holdings: Readonly<Record<NodeId, HoldingsView>>;
    readonly gridBalance: number | null;
    readonly head: LedgerHeadView | undefined;
    readonly blocks: readonly BlockView[];
  } {
    return { round: this.#round, holdings: this.#holdings, gridBalance: this.#gridBalance, head: this.#head, blocks: this.#blocks };
  }

  /** The activity log, newest first. */
  log(): readonly LogLine[] {
    return this.#log;
  }
}
