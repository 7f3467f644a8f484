/**
 * Live mode: the nodes of a running cluster, through `@greenraft/client`. One connection per
 * node (not following the leader) subscribes to `status`, `commitQuorum`, `leader` and `market`
 * (docs/client-protocol.md), so every node reports its own role, indexes, configuration, peers'
 * round trips and event-loop lag. The market views are re-read only when a `market` event says
 * the market changed (debounced), never on a timer; a settled round's settlement comes in its
 * receipt. The controls the client API offers run here: leadership transfer, the scoring strategy
 * (`cluster.setScoring`), and trades and trading rounds signed by each participant's node with
 * its own key (`market.submitOwn`). The controls that act on processes and links go to a
 * {@link ControlBackend} (a supervisor of the node processes), when one is given, which may take
 * over trades, rounds and scoring as well.
 */
import { type GreenraftClient, type Subscription, type WebSocketConstructor, createClient } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { type NodeScoreInput, paperScoreBreakdown } from '@greenraft/weight-scoring';
import type { BlockView, ConfigView, DashboardEvent, HoldingsView, NodeId, NodeRole, Participant, RoundView, ScoreBreakdown } from '../../model/events.js';
import { type TransactionFields, transactionView } from '../../model/transactions.js';
import { type ClusterControls, type ControlBackend, type ControlName, ControlFailedError, type DataSource, SCORING_CHOICES, UnsupportedControlError } from '../source.js';
import { type MarketRounds, marketRounds, roundViewOfReceipt } from './market-rounds.js';

export type { ControlBackend } from '../source.js';

/** Options of {@link liveSource}. */
export interface LiveSourceInit {
  /** Every node's client URL (`http://host:port`) or WebSocket URL (`ws://host:port/v1/ws`). */
  endpoints: readonly string[];
  /**
   * The controls beyond the nodes' own API (processes, links), and any of the client API's
   * (trades, rounds, scoring) the supervisor runs instead of the page.
   * @default none: crash, restart, partition and heal reject with UnsupportedControlError
   */
  backend?: ControlBackend;
  /** The bearer token, when the nodes require one. */
  token?: string;
  /**
   * Wait before reconnecting to a node whose connection failed, ms (doubling up to 8×).
   * @default 500
   */
  reconnectMs?: number;
  /**
   * Wait after a `market` event before re-reading the market, ms: events in between share one read.
   * @default 300
   */
  marketDebounceMs?: number;
  /** The WebSocket constructor. @default the global one in a browser, `ws` in Node */
  WebSocket?: WebSocketConstructor;
}

const BACKEND_CONTROLS = ['crash', 'restart', 'partition', 'heal', 'proposeTrade', 'runRound', 'setScoring'] as const;
/** The controls the nodes' client API offers by itself. */
const CLIENT_CONTROLS: readonly ControlName[] = ['transferLeadership', 'setScoring', 'proposeTrade', 'runRound'];
const ROLES: readonly NodeRole[] = ['follower', 'preCandidate', 'candidate', 'leader'];

type Json = unknown;
const record = (value: Json): Record<string, Json> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, Json>) : {});
const numberOr = (value: Json, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
const weights = (value: Json): Record<NodeId, number> => Object.fromEntries(Object.entries(record(value)).filter(([, weight]) => typeof weight === 'number')) as Record<NodeId, number>;

function configView(value: Json): ConfigView {
  const config = record(value);
  return {
    voters: weights(config.voters),
    learners: Array.isArray(config.learners) ? config.learners.filter((id): id is string => typeof id === 'string') : [],
    outgoing: config.outgoing === null || config.outgoing === undefined ? null : weights(config.outgoing),
  };
}

/** A market node record (`market.query nodes`) as score inputs, the way the market derives them. */
function scoreInput(node: Record<string, Json>): NodeScoreInput {
  const kind = node.kind === 'generation' ? 'generation' : 'consumption';
  return {
    id: String(node.id),
    kind,
    creditWeight: numberOr(node.creditWeight, 0),
    contracted: numberOr(node.lastRoundContractedKWh, 0),
    actual: numberOr(node.lastRoundActualKWh, 0),
    participation: numberOr(node.participation, 0),
    greenCertificates: numberOr(node.certificatesIssued, 0) - numberOr(node.certificatesSold, 0) + numberOr(node.certificatesBought, 0),
    carbonSettlement: numberOr(node.carbonSettlement, 0),
    ...(kind === 'generation' ? { transmissions: numberOr(node.transmissions, 0), transmissionFaults: numberOr(node.transmissionFaults, 0) } : {}),
  };
}

function strategyLabel(value: Json): string | undefined {
  const selection = record(value);
  if (typeof selection.name !== 'string') return undefined;
  const params = selection.params === undefined ? undefined : JSON.stringify(selection.params);
  const known = SCORING_CHOICES.find((choice) => choice.selection.name === selection.name && choice.selection.version === selection.version && (choice.selection.params === undefined ? undefined : JSON.stringify(choice.selection.params)) === params);
  return known?.label ?? `${selection.name}@${String(selection.version)}`;
}

/** One node's connection and subscription. */
interface Feed {
  readonly endpoint: string;
  client: GreenraftClient | undefined;
  subscription: Subscription | undefined;
  /** The node's id, once it reported. */
  node: NodeId | undefined;
  up: boolean;
  role: NodeRole | undefined;
  term: number;
  scores: Record<NodeId, number> | undefined;
  /** The scoring strategy in force, as the node's status names it (market nodes). */
  strategy: string | undefined;
}

class LiveCluster implements DataSource, ClusterControls {
  readonly mode = 'live' as const;
  readonly description: string;
  readonly supported: ReadonlySet<ControlName>;
  readonly controls: ClusterControls = this;
  readonly #init: LiveSourceInit;
  readonly #feeds: Feed[];
  #emit: (event: DashboardEvent) => void = () => undefined;
  #running = false;
  #roster = '';
  readonly #participants = new Map<NodeId, Participant>();
  #control: GreenraftClient | undefined;
  #marketTimer: ReturnType<typeof setTimeout> | undefined;
  #marketReading = false;
  #marketAgain = false;
  #height = 0;
  /** The latest round reported, so the same round from every node is shown once. */
  #round = 0;
  readonly #retries = new Set<ReturnType<typeof setTimeout>>();
  readonly #rounds: MarketRounds;

  constructor(init: LiveSourceInit) {
    const endpoints = typeof init?.endpoints === 'string' ? [init.endpoints] : init?.endpoints;
    if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((url) => typeof url === 'string' && /^(https?|wss?):\/\//.test(url))) {
      throw new InvalidArgumentError('liveSource: endpoints must be a non-empty list of http(s):// or ws(s):// URLs');
    }
    this.#init = { ...init, endpoints };
    this.#feeds = endpoints.map((endpoint) => ({ endpoint, client: undefined, subscription: undefined, node: undefined, up: false, role: undefined, term: 0, scores: undefined, strategy: undefined }));
    const backend = init.backend ?? {};
    this.supported = new Set<ControlName>([...CLIENT_CONTROLS, ...BACKEND_CONTROLS.filter((control) => typeof backend[control] === 'function')]);
    this.#rounds = marketRounds({
      nodeClient: (id) => this.#feeds.find((feed) => feed.node === id && feed.up)?.client,
      reader: () => this.#reader()?.client,
    });
    this.description = `${endpoints.length} node${endpoints.length === 1 ? '' : 's'} at ${endpoints.join(', ')}`;
  }

  async start(emit: (event: DashboardEvent) => void): Promise<void> {
    if (this.#running) throw new ControlFailedError('restart', 'the live source is already running');
    this.#running = true;
    this.#emit = (event) => {
      try {
        emit(event);
      } catch (error) {
        console.error('a dashboard view failed on an event', event.type, error);
      }
    };
    for (const feed of this.#feeds) void this.#follow(feed, this.#init.reconnectMs ?? 500);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#emit = () => undefined;
    clearTimeout(this.#marketTimer);
    for (const timer of this.#retries) clearTimeout(timer);
    this.#retries.clear();
    await Promise.all([...this.#feeds.map((feed) => this.#close(feed)), this.#control?.close()]);
  }

  #client(endpoints: readonly string[], followLeader: boolean): GreenraftClient {
    return createClient({
      endpoints,
      followLeader,
      clientId: `dashboard-${Math.random().toString(16).slice(2, 10)}`,
      timeoutMs: 5000,
      ...(this.#init.token === undefined ? {} : { token: this.#init.token }),
      ...(this.#init.WebSocket === undefined ? {} : { WebSocket: this.#init.WebSocket }),
    });
  }

  async #close(feed: Feed): Promise<void> {
    const { client, subscription } = feed;
    feed.client = undefined;
    feed.subscription = undefined;
    subscription?.close();
    await client?.close().catch(() => undefined);
  }

  /** Subscribes to one node and reads its events until the connection fails; then again, after a backoff. */
  async #follow(feed: Feed, backoffMs: number): Promise<void> {
    const base = this.#init.reconnectMs ?? 500;
    try {
      feed.client = this.#client([feed.endpoint], false);
      feed.subscription = await feed.client.subscribe(['status', 'commitQuorum', 'leader', 'market']);
      backoffMs = base;
      for await (const event of feed.subscription) {
        if (!this.#running) return;
        if (event.topic === 'status') this.#onStatus(feed, event.data);
        else if (event.topic === 'commitQuorum' && feed.node !== undefined) {
          this.#emit({ type: 'commitQuorum', at: Date.now(), leader: feed.node, index: event.data.index, term: event.data.term, acks: event.data.acks });
        } else if (event.topic === 'leader' && feed.node !== undefined) {
          const data = record(event.data);
          this.#emit({ type: 'leader', at: Date.now(), reporter: feed.node, leader: typeof data.leader === 'string' ? data.leader : null, term: numberOr(data.term, feed.term) });
        } else if (event.topic === 'market') this.#onMarket(event.data);
      }
    } catch {
      // The node is down or unreachable: shown as such, and tried again.
    }
    await this.#close(feed);
    if (!this.#running) return;
    if (feed.up && feed.node !== undefined) this.#emit({ type: 'down', at: Date.now(), node: feed.node, reason: 'unreachable' });
    feed.up = false;
    const timer = setTimeout(() => {
      this.#retries.delete(timer);
      if (this.#running) void this.#follow(feed, Math.min(backoffMs * 2, base * 8));
    }, backoffMs);
    this.#retries.add(timer);
  }

  #onStatus(feed: Feed, value: Json): void {
    const status = record(value);
    const node = typeof status.node === 'string' ? status.node : undefined;
    if (node === undefined) return;
    const at = Date.now();
    const role: NodeRole = ROLES.includes(status.role as NodeRole) ? (status.role as NodeRole) : 'follower';
    const term = numberOr(status.term, 0);
    // A sampled status catches few candidates; the model counts elections by the terms reported instead.
    if (role === 'candidate' && (feed.role !== 'candidate' || feed.term !== term)) this.#emit({ type: 'election', at, node, term });
    const first = !feed.up;
    feed.node = node;
    feed.up = true;
    feed.role = role;
    feed.term = term;
    const config = configView(status.config);
    this.#emit({ type: 'status', at, node, role, term, leader: typeof status.leader === 'string' ? status.leader : null, commitIndex: numberOr(status.commitIndex, 0), appliedIndex: numberOr(status.appliedIndex, 0), config });
    for (const [peer, stats] of Object.entries(record(status.peers))) {
      const rttMs = record(stats).rttMs;
      if (typeof rttMs === 'number') this.#emit({ type: 'rtt', at, from: node, to: peer, rttMs });
    }
    const lag = record(status.eventLoopLagMs);
    if (typeof lag.meanMs === 'number') this.#emit({ type: 'lag', at, node, meanMs: lag.meanMs, maxMs: numberOr(lag.maxMs, lag.meanMs) });
    if (status.scores !== null && typeof status.scores === 'object') feed.scores = weights(status.scores);
    const strategy = strategyLabel(status.scoring) ?? feed.strategy;
    // A new strategy in force is a replicated entry, not a market one: the scores under it are read again.
    const rescore = !first && strategy !== feed.strategy;
    feed.strategy = strategy;
    if (first || rescore) this.#scheduleMarket(first ? 0 : (this.#init.marketDebounceMs ?? 300));
  }

  /** Reports the participants (their kinds come from the market's node records) when they changed. */
  #noteRoster(): void {
    const key = [...this.#participants.values()].map((p) => `${p.id}:${p.kind}:${p.renewable}`).join();
    if (key === this.#roster) return;
    this.#roster = key;
    this.#emit({ type: 'roster', at: Date.now(), participants: [...this.#participants.values()] });
  }

  #onMarket(value: Json): void {
    const outcome = record(record(value).outcome);
    const results = Array.isArray(record(outcome.value).outcomes) ? (record(outcome.value).outcomes as Json[]) : [outcome.value];
    for (const result of results) {
      const view: RoundView | undefined = roundViewOfReceipt(record(result).receipt);
      // Every node reports the same settled round: show it once.
      if (view !== undefined && view.round > this.#round) {
        this.#round = view.round;
        this.#emit({ type: 'round', at: Date.now(), round: view });
      }
    }
    this.#scheduleMarket(this.#init.marketDebounceMs ?? 300);
  }

  #scheduleMarket(delayMs: number): void {
    if (this.#marketTimer !== undefined) return;
    this.#marketTimer = setTimeout(() => {
      this.#marketTimer = undefined;
      void this.#readMarket();
    }, delayMs);
  }

  /** The feed to read the market from: the leader's if it is up, else any node that is. */
  #reader(): Feed | undefined {
    return this.#feeds.find((feed) => feed.up && feed.role === 'leader' && feed.client !== undefined) ?? this.#feeds.find((feed) => feed.up && feed.client !== undefined);
  }

  async #readMarket(): Promise<void> {
    if (this.#marketReading) {
      this.#marketAgain = true;
      return;
    }
    this.#marketReading = true;
    try {
      do {
        this.#marketAgain = false;
        const feed = this.#reader();
        if (feed?.client === undefined || !this.#running) return;
        await this.#readMarketFrom(feed, feed.client).catch(() => undefined);
      } while (this.#marketAgain && this.#running);
    } finally {
      this.#marketReading = false;
    }
  }

  async #readMarketFrom(feed: Feed, client: GreenraftClient): Promise<void> {
    const options = { consistency: 'stale' as const, timeoutMs: 3000 };
    const [head, nodes, weightsResult] = await Promise.all([client.market.query('head', options), client.market.query('nodes', options), client.market.query('weights', options)]);
    if (!this.#running) return;
    const at = Date.now();
    const headRecord = record(head);
    this.#emit({
      type: 'ledgerHead',
      at,
      head: { height: numberOr(headRecord.height, 0), hash: String(headRecord.hash ?? ''), index: numberOr(headRecord.index, 0), term: numberOr(headRecord.term, 0), appliedIndex: numberOr(headRecord.appliedIndex, 0) },
    });
    const list = (Array.isArray(record(nodes).nodes) ? record(nodes).nodes : []) as Json[];
    const holdings: Record<NodeId, HoldingsView> = {};
    for (const item of list) {
      const node = record(item);
      const id = String(node.id);
      this.#participants.set(id, { id, kind: node.kind === 'generation' ? 'generation' : 'consumption', renewable: node.renewable === true });
      const cycle = record(node.carbonCycle);
      holdings[id] = {
        balance: numberOr(node.balance, 0),
        certificatesHeld: scoreInput(node).greenCertificates,
        certificatesIssued: numberOr(node.certificatesIssued, 0),
        carbonQuota: numberOr(cycle.quota, 0),
        carbonPurchased: numberOr(cycle.purchased, 0),
        carbonEmitted: numberOr(cycle.emitted, 0),
        carbonSettlement: numberOr(node.carbonSettlement, 0),
      };
    }
    this.#noteRoster();
    this.#emit({ type: 'holdings', at, holdings, gridBalance: null });
    if (list.length > 0) {
      const inputs = list.map((item) => scoreInput(record(item)));
      const totals = record(record(weightsResult).scores);
      const scores: Record<NodeId, ScoreBreakdown> = {};
      try {
        for (const [id, parts] of paperScoreBreakdown(inputs)) {
          const total = totals[id] ?? feed.scores?.[id];
          scores[id] = { credit: parts.credit, volume: parts.volume, participation: parts.participation, greenCertificates: parts.greenCertificates, carbon: parts.carbon, lineFaults: parts.lineFaults, total: typeof total === 'number' ? total : null };
        }
        this.#emit({ type: 'scores', at, strategy: strategyLabel(record(weightsResult).strategy) ?? feed.strategy ?? 'unknown', scores });
      } catch {
        // Inputs the paper's formulas refuse: leave the previous scores up.
      }
    }
    const height = numberOr(headRecord.height, 0);
    if (height > this.#height) {
      const from = Math.max(this.#height + 1, height - 19);
      const ledger = record(await client.market.query('ledger', { ...options, from, limit: height - from + 1 }));
      const blocks: BlockView[] = [];
      for (const item of Array.isArray(ledger.blocks) ? ledger.blocks : []) {
        const block = record(item);
        const header = record(block.header);
        const transactions = (Array.isArray(block.transactions) ? block.transactions : []).map((signed) => transactionView(record(record(signed).transaction) as unknown as TransactionFields));
        blocks.push({ height: numberOr(header.height, 0), hash: String(block.hash ?? ''), index: numberOr(header.index, 0), term: numberOr(header.term, 0), transactions });
      }
      if (this.#running && blocks.length > 0) {
        this.#height = Math.max(this.#height, ...blocks.map((block) => block.height));
        this.#emit({ type: 'blocks', at, blocks });
      }
    }
  }

  // ─────────────── controls

  #backend<K extends (typeof BACKEND_CONTROLS)[number]>(control: K): NonNullable<ControlBackend[K]> | undefined {
    const handler = this.#init.backend?.[control];
    return typeof handler === 'function' ? (handler.bind(this.#init.backend) as NonNullable<ControlBackend[K]>) : undefined;
  }

  #supervised<K extends 'crash' | 'restart' | 'partition' | 'heal'>(control: K): NonNullable<ControlBackend[K]> {
    const handler = this.#backend(control);
    if (handler === undefined) throw new UnsupportedControlError(control, `${control} needs a supervisor of the node processes; this page talks to the nodes' client API only`);
    return handler;
  }

  async crash(node: NodeId): Promise<void> {
    return this.#supervised('crash')(node);
  }

  async restart(node: NodeId): Promise<void> {
    return this.#supervised('restart')(node);
  }

  async partition(a: NodeId, b: NodeId): Promise<void> {
    return this.#supervised('partition')(a, b);
  }

  async heal(a?: NodeId, b?: NodeId): Promise<void> {
    return this.#supervised('heal')(a, b);
  }

  // The controls resolve with what they did and log nothing: the page reports each outcome once.

  async proposeTrade(...args: Parameters<ClusterControls['proposeTrade']>) {
    return (this.#backend('proposeTrade') ?? ((trade) => this.#rounds.proposeTrade(trade)))(...args);
  }

  async runRound() {
    const backend = this.#backend('runRound');
    if (backend !== undefined) return backend();
    const { round, contracts, index, dropped } = await this.#rounds.runRound();
    return { round, contracts, index, ...(dropped > 0 ? { dropped } : {}) };
  }

  async setScoring(choiceId: string): Promise<void> {
    const backend = this.#backend('setScoring');
    if (backend !== undefined) return backend(choiceId);
    const choice = SCORING_CHOICES.find((candidate) => candidate.id === choiceId);
    if (choice === undefined) throw new InvalidArgumentError(`setScoring: no strategy ${JSON.stringify(choiceId)} (strategies: ${SCORING_CHOICES.map((c) => c.id).join(', ')})`);
    this.#control ??= this.#client(this.#init.endpoints, true);
    try {
      const { name, version, params } = choice.selection;
      await this.#control.admin.setScoring(name, version, params, { timeoutMs: 10_000 });
    } catch (error) {
      throw new ControlFailedError('setScoring', `the cluster could not put ${choice.label} in force: ${(error as Error).message}`, { cause: error });
    }
  }

  async transferLeadership(to: NodeId): Promise<void> {
    if (typeof to !== 'string' || to.length === 0) throw new InvalidArgumentError('transferLeadership: name a node');
    this.#control ??= this.#client(this.#init.endpoints, true);
    try {
      await this.#control.admin.transferLeader(to, { timeoutMs: 5000 });
    } catch (error) {
      throw new ControlFailedError('transferLeadership', `the cluster could not hand leadership to ${to}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * The nodes of a running cluster, over the client WebSocket protocol.
 *
 * @example
 * ```ts
 * const source = liveSource({ endpoints: ['http://127.0.0.1:7101', 'http://127.0.0.1:7102', 'http://127.0.0.1:7103'] });
 * await source.start((event) => model.apply(event));
 * await source.controls.transferLeadership('n2');
 * ```
 */
export function liveSource(init: LiveSourceInit): DataSource {
  return new LiveCluster(init);
}
