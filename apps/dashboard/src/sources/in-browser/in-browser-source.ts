/**
 * A weighted power-market cluster inside the page: five weighted Raft nodes (the engine of
 * `@greenraft/raft` with the policy of `@greenraft/weighted-raft`) on the memory transport, with
 * memory storage and the power market as their replicated state machine. The page drives the
 * trading rounds; after each settled round the leader scores the participants from its replica
 * with the replicated strategy in force and moves the cluster to the new weights by joint
 * consensus. Crashing a node stops it and keeps its durable storage; a partition is the memory
 * network's.
 */
import {
  type ClusterConfig,
  type CommitQuorum,
  InvalidArgumentError,
  isGreenraftError,
  type NodeId,
  seededRandom,
} from '@greenraft/consensus';
import {
  type Block,
  type MarketClient,
  type PowerMarket,
  type RoundSummary,
  type SignedTransaction,
  decodeSignedTransaction,
  encodeTransactions,
  generateParticipantKeys,
  marketClient,
} from '@greenraft/power-market';
import { type MemoryStorage, memoryStorage } from '@greenraft/raft';
import { type MemoryNetwork, memoryNetwork } from '@greenraft/transport-memory';
import { type NodeScoreInput, paperScoreBreakdown } from '@greenraft/weight-scoring';
import { type WeightedRaftNode, createWeightedRaftNode } from '@greenraft/weighted-raft';
import type { BlockView, ConfigView, DashboardEvent, HoldingsView, Participant, RoundView, ScoreBreakdown } from '../../model/events.js';
import { transactionView } from '../../model/transactions.js';
import {
  type ClusterControls,
  type ControlName,
  ControlFailedError,
  CONTROL_NAMES,
  type DataSource,
  type RoundResult,
  SCORING_CHOICES,
  type TradeInit,
  type TradeResult,
} from '../source.js';
import { MarketReplica, type ReplicaResult, encodeScoringEntry, strategyOf } from './replica.js';
import { DEFAULT_PARTICIPANTS, carbonOf, planContracts, signContract } from './trading.js';

/** Options of {@link inBrowserSource}. */
export interface InBrowserSourceInit {
  /**
   * Seeds the trading plan, the network's latency draws and the nodes' election jitter: the same
   * seed gives the same contracts and meter readings.
   * @default 1
   */
  seed?: number;
  /**
   * The participants, one node each (ids, kinds): at least three, with a generator and a consumer.
   * @default solar, wind and gas generators, mill and city consumers
   */
  participants?: readonly Participant[];
  /**
   * Run a trading round every this many milliseconds; 0 runs rounds only when asked.
   * @default 4000
   */
  autoRoundMs?: number;
  /**
   * One-way latency of every link, drawn uniformly in [min, max] ms.
   * @default { min: 1, max: 6 }
   */
  linkLatencyMs?: { readonly min: number; readonly max: number };
  /**
   * Milliseconds per Raft tick.
   * @default 10
   */
  tickMs?: number;
  /**
   * The rank-based election timeout of eq. 7, in ms: generous, since five nodes, the market's
   * signature checks and the page's drawing share one thread.
   * @default { baseMs: 300, stepMs: 40, jitterMs: 10 }
   */
  electionTimeout?: { readonly baseMs: number; readonly stepMs: number; readonly jitterMs: number };
}

/** One participant's node: what survives a crash (storage) and what does not (the node, its replica). */
interface Slot {
  readonly participant: Participant;
  readonly index: number;
  storage: MemoryStorage;
  replica: MarketReplica;
  node: WeightedRaftNode<ReplicaResult> | undefined;
  epochRunning: boolean;
  epochAgain: boolean;
}

/** A client transaction entry's outcome, or `undefined` when a retry found it already applied. */
type Submitted = { readonly index: number; readonly term: number; readonly result: ReplicaResult; readonly leader: NodeId } | undefined;

const MARKET_INIT = { initialCreditWeight: 80, carbonCycleRounds: 4 } as const;
const SUBMIT_DEADLINE_MS = 10_000;
const RETRYABLE = ['NOT_LEADER', 'PROPOSAL_DROPPED', 'TIMEOUT', 'STOPPED', 'CONFIGURATION'] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function configView(config: ClusterConfig): ConfigView {
  return {
    voters: Object.fromEntries(config.incoming.voters),
    learners: [...config.incoming.learners],
    outgoing: config.outgoing === undefined ? null : Object.fromEntries(config.outgoing.voters),
  };
}

function checkInit(init: InBrowserSourceInit): Required<InBrowserSourceInit> {
  const participants = init.participants ?? DEFAULT_PARTICIPANTS;
  const ids = new Set(participants.map((p) => p.id));
  if (participants.length < 3 || ids.size !== participants.length) throw new InvalidArgumentError('participants: at least three, with distinct ids');
  if (!participants.some((p) => p.kind === 'generation') || !participants.some((p) => p.kind === 'consumption')) {
    throw new InvalidArgumentError('participants: at least one generation and one consumption node');
  }
  const autoRoundMs = init.autoRoundMs ?? 4000;
  if (!(Number.isFinite(autoRoundMs) && autoRoundMs >= 0)) throw new InvalidArgumentError('autoRoundMs must be a number ≥ 0');
  const latency = init.linkLatencyMs ?? { min: 1, max: 6 };
  if (!(latency.min >= 0 && latency.max >= latency.min && Number.isFinite(latency.max))) throw new InvalidArgumentError('linkLatencyMs must be { min, max } with 0 ≤ min ≤ max');
  return {
    seed: init.seed ?? 1,
    participants,
    autoRoundMs,
    linkLatencyMs: latency,
    tickMs: init.tickMs ?? 10,
    electionTimeout: init.electionTimeout ?? { baseMs: 300, stepMs: 40, jitterMs: 10 },
  };
}

/** A voter the market does not know yet scores as a newcomer: nothing traded, nothing held. */
function newcomer(id: NodeId): NodeScoreInput {
  return { id, kind: 'consumption', creditWeight: 0, contracted: 0, actual: 0, participation: 0, greenCertificates: 0, carbonSettlement: 0 };
}

class InBrowserCluster implements InBrowserSource, InBrowserControls {
  readonly mode = 'in-browser' as const;
  readonly description: string;
  readonly supported: ReadonlySet<ControlName> = new Set(CONTROL_NAMES);
  readonly controls: InBrowserControls = this;
  readonly #init: Required<InBrowserSourceInit>;
  readonly #slots = new Map<NodeId, Slot>();
  readonly #clients = new Map<NodeId, MarketClient>();
  readonly #network: MemoryNetwork;
  #emit: (event: DashboardEvent) => void = () => undefined;
  #running = false;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #autoRound: ReturnType<typeof setTimeout> | undefined;
  /** Submissions run one at a time, so each participant's nonces reach the log in order. */
  #submissions: Promise<unknown> = Promise.resolve();
  #rounds: Promise<unknown> = Promise.resolve();
  readonly #cutLinks = new Set<string>();
  /** Contracts proposed from the page since the last round: delivered in full and settled by the next. */
  #openTrades: { contractId: string; generator: NodeId; consumer: NodeId; kWh: number }[] = [];
  /** Contracts the last round settled: a line fault may be reported on them (eq. 23). */
  #lastSettled: { contractId: string; generator: NodeId }[] = [];
  /** Recent commit quorums reported by leaders, for participation records (eq. 19). */
  readonly #quorums: (CommitQuorum & { leader: NodeId })[] = [];
  #pendingParticipation: NodeId[][] = [];
  readonly #dirty = new Set<NodeId>();
  #publishedHeight = 0;
  readonly #heartbeatSent = new Map<string, number>();
  readonly #rtt = new Map<string, number>();

  constructor(init: InBrowserSourceInit) {
    this.#init = checkInit(init);
    const { seed, linkLatencyMs } = this.#init;
    this.description = `${this.#init.participants.length} weighted Raft nodes in this page, trading power (seed ${seed})`;
    this.#network = memoryNetwork({ seed, defaultLink: { latency: { min: linkLatencyMs.min, max: linkLatencyMs.max } } });
    this.#init.participants.forEach((participant, index) => {
      this.#clients.set(participant.id, marketClient({ id: participant.id, keys: generateParticipantKeys() }));
      this.#slots.set(participant.id, { participant, index, storage: memoryStorage(), replica: this.#replica(participant.id), node: undefined, epochRunning: false, epochAgain: false });
    });
    this.#network.on('send', ({ at, message }) => {
      if (message.type === 'heartbeat') this.#heartbeatSent.set(`${message.from}>${message.to}`, at);
    });
    this.#network.on('deliver', ({ at, message }) => {
      if (message.type !== 'heartbeatResponse') return;
      const key = `${message.to}>${message.from}`;
      const sent = this.#heartbeatSent.get(key);
      if (sent === undefined) return;
      this.#heartbeatSent.delete(key);
      const previous = this.#rtt.get(key);
      this.#rtt.set(key, previous === undefined ? at - sent : 0.8 * previous + 0.2 * (at - sent));
    });
  }

  async start(emit: (event: DashboardEvent) => void): Promise<void> {
    if (this.#running) throw new ControlFailedError('restart', 'the in-browser cluster is already running');
    this.#running = true;
    this.#emit = (event) => {
      try {
        emit(event);
      } catch (error) {
        console.error('a dashboard view failed on an event', event.type, error);
      }
    };
    this.#emit({ type: 'roster', at: Date.now(), participants: this.#init.participants });
    for (const slot of this.#slots.values()) await this.#startNode(slot);
    this.#timers.push(setInterval(() => this.#flushStatus(), 250));
    this.#timers.push(setInterval(() => this.#publishMeasurements(), 1000));
    this.#watchEventLoop();
    // Registration is the market's first entry: each participant self-signs its key (eq. 1).
    const registered = await this.#submit(() => [...this.#clients.values()].map((client) => {
      const participant = this.#slots.get(client.id)!.participant;
      return client.register({ kind: participant.kind, renewable: participant.renewable });
    }), 'runRound');
    this.#log('info', `${this.#clients.size} participants registered at index ${registered?.index ?? '?'}`);
    this.#publishMarket();
    this.#scheduleAutoRound();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#autoRound);
    for (const timer of this.#timers) clearInterval(timer);
    this.#emit = () => undefined;
    await Promise.all([...this.#slots.values()].map((slot) => this.#stopNode(slot)));
    this.#network.close();
  }

  // ─────────────── nodes

  #replica(id: NodeId): MarketReplica {
    return new MarketReplica(MARKET_INIT, {
      onRound: () => this.#scheduleEpoch(id),
      onScoring: () => this.#scheduleEpoch(id),
    });
  }

  async #startNode(slot: Slot): Promise<void> {
    const id = slot.participant.id;
    const replica = this.#replica(id);
    slot.replica = replica;
    const voters = Object.fromEntries(this.#init.participants.map((p) => [p.id, 1]));
    const node = createWeightedRaftNode<ReplicaResult>({
      id,
      transport: this.#network.transport(id),
      storage: slot.storage,
      stateMachine: replica,
      // Founding weights are equal (classic Raft) until the first round's scores replace them.
      weights: voters,
      scoring: replica.strategy,
      scoreInputs: ({ voters: current }) => {
        const inputs = new Map(replica.market.scoreInputs().map((input) => [input.id, input]));
        return [...current.keys()].map((voter) => inputs.get(voter) ?? newcomer(voter));
      },
      epoch: 0,
      tickMs: this.#init.tickMs,
      electionTimeout: this.#init.electionTimeout,
      seed: this.#init.seed * 7919 + slot.index,
      preVote: true,
      checkQuorum: true,
      // Heavier nodes lead more often, as the paper intends: a leader hands over to the heaviest caught-up voter.
      preferredLeader: true,
      proposalTimeoutMs: 4000,
    });
    slot.node = node;
    const live = () => slot.node === node;
    node.on('stateChange', ({ to, term }) => {
      if (!live()) return;
      if (to === 'candidate') this.#emit({ type: 'election', at: Date.now(), node: id, term });
      if (to === 'leader' && replica.market.round() > 0) this.#scheduleEpoch(id);
      this.#emitStatus(slot);
    });
    node.on('leaderChange', ({ leader, term }) => {
      if (!live()) return;
      this.#emit({ type: 'leader', at: Date.now(), reporter: id, leader: leader ?? null, term });
      this.#emitStatus(slot);
    });
    node.on('commit', () => this.#dirty.add(id));
    node.on('apply', () => this.#dirty.add(id));
    node.on('configChange', () => {
      if (live()) this.#emitStatus(slot);
    });
    node.on('commitQuorum', (quorum) => {
      if (!live()) return;
      this.#quorums.push({ ...quorum, leader: id });
      if (this.#quorums.length > 256) this.#quorums.splice(0, this.#quorums.length - 256);
      this.#emit({ type: 'commitQuorum', at: Date.now(), leader: id, index: quorum.index, term: quorum.term, acks: quorum.acks });
    });
    node.on('leaderHandover', ({ from, to }) => {
      if (live()) this.#log('info', `${from} hands leadership to ${to}, a heavier caught-up voter`);
    });
    node.on('error', (error) => {
      if (live()) this.#log('warn', `${id}: ${error.message}`);
    });
    await node.start();
    this.#emitStatus(slot);
  }

  async #stopNode(slot: Slot): Promise<void> {
    const node = slot.node;
    if (node === undefined) return;
    slot.node = undefined;
    await node.stop();
  }

  #slot(id: NodeId, control: ControlName): Slot {
    const slot = typeof id === 'string' ? this.#slots.get(id) : undefined;
    if (slot === undefined) throw new InvalidArgumentError(`${control}: no node ${JSON.stringify(id)} (nodes: ${[...this.#slots.keys()].join(', ')})`);
    return slot;
  }

  #leader(): Slot | undefined {
    for (const slot of this.#slots.values()) if (slot.node?.status().role === 'leader') return slot;
    return undefined;
  }

  /** The most advanced running replica: what the market views show. */
  #reference(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.#slots.values()) {
      if (slot.node === undefined) continue;
      if (best === undefined || slot.replica.market.lastAppliedIndex() > best.replica.market.lastAppliedIndex()) best = slot;
    }
    return best;
  }

  #emitStatus(slot: Slot): void {
    const node = slot.node;
    if (node === undefined) return;
    this.#dirty.delete(slot.participant.id);
    const status = node.status();
    this.#emit({
      type: 'status',
      at: Date.now(),
      node: slot.participant.id,
      role: status.role,
      term: status.term,
      leader: status.leader ?? null,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      config: configView(status.config),
    });
  }

  #flushStatus(): void {
    for (const id of [...this.#dirty]) this.#emitStatus(this.#slots.get(id)!);
    this.#dirty.clear();
  }

  #log(level: 'info' | 'warn', text: string): void {
    this.#emit({ type: 'log', at: Date.now(), level, text });
  }

  // ─────────────── measurements and market views

  #watchEventLoop(): void {
    const periodMs = 50;
    let expected = performance.now() + periodMs;
    let sum = 0;
    let count = 0;
    let max = 0;
    this.#timers.push(
      setInterval(() => {
        const now = performance.now();
        const lag = Math.max(0, now - expected);
        expected = now + periodMs;
        sum += lag;
        count++;
        max = Math.max(max, lag);
        if (count >= 1000 / periodMs) {
          this.#emit({ type: 'lag', at: Date.now(), node: null, meanMs: sum / count, maxMs: max });
          sum = 0;
          count = 0;
          max = 0;
        }
      }, periodMs),
    );
  }

  #publishMeasurements(): void {
    const at = Date.now();
    for (const [key, rttMs] of this.#rtt) {
      const [from, to] = key.split('>') as [NodeId, NodeId];
      if (this.#slots.get(from)?.node === undefined || this.#slots.get(to)?.node === undefined) continue;
      this.#emit({ type: 'rtt', at, from, to, rttMs });
    }
    this.#rtt.clear();
  }

  /** Head, holdings, scores and new blocks, from the most advanced running replica. */
  #publishMarket(): void {
    const slot = this.#reference();
    if (slot === undefined) return;
    const at = Date.now();
    const market = slot.replica.market;
    this.#emit({ type: 'ledgerHead', at, head: market.ledgerHead() });
    const holdings: Record<NodeId, HoldingsView> = {};
    for (const node of market.nodes()) {
      holdings[node.id] = {
        balance: node.balance,
        certificatesHeld: market.greenCertificates(node.id),
        certificatesIssued: node.certificatesIssued,
        carbonQuota: node.carbonCycle.quota,
        carbonPurchased: node.carbonCycle.purchased,
        carbonEmitted: node.carbonCycle.emitted,
        carbonSettlement: node.carbonSettlement,
      };
    }
    this.#emit({ type: 'holdings', at, holdings, gridBalance: market.gridBalance() });
    const scores = scoresOf(slot.replica);
    if (scores !== undefined) this.#emit({ type: 'scores', at, strategy: choiceLabel(slot.replica), scores });
    // ledger() copies every block: read it only when the head moved.
    if (market.ledgerHead().height <= this.#publishedHeight) return;
    const fresh = market
      .ledger()
      .filter((block) => block.header.height > this.#publishedHeight)
      .slice(-20);
    if (fresh.length > 0) {
      this.#publishedHeight = fresh.at(-1)!.header.height;
      this.#emit({ type: 'blocks', at, blocks: fresh.map(blockView) });
    }
  }

  // ─────────────── submissions

  /**
   * Signs (once, in turn) and proposes one entry through whichever node leads, following a new
   * leader, until it is applied or the deadline passes. A retry after an unknown outcome finds an
   * entry already applied by its signers' nonces and resolves `undefined`.
   */
  #submit(build: () => SignedTransaction[], control: ControlName): Promise<Submitted> {
    const run = async (): Promise<Submitted> => {
      const transactions = build();
      const data = encodeTransactions(transactions);
      const submitted = await this.#propose(data, control, () => this.#applied(transactions));
      // A retry whose first attempt was committed after all: every copy refused as a replay.
      const outcomes = submitted?.result.kind === 'market' ? submitted.result.result.outcomes : [];
      if (outcomes.length > 0 && outcomes.every((outcome) => !outcome.accepted && outcome.error.code === 'REPLAYED_NONCE')) return undefined;
      return submitted;
    };
    const result = this.#submissions.then(run, run);
    this.#submissions = result.catch(() => undefined);
    return result;
  }

  async #propose(data: Uint8Array, control: ControlName, alreadyApplied: () => boolean = () => false): Promise<Submitted> {
    const deadline = performance.now() + SUBMIT_DEADLINE_MS;
    let attempted = false;
    for (;;) {
      if (!this.#running) throw new ControlFailedError(control, 'the in-browser cluster stopped');
      const leader = this.#leader();
      if (leader !== undefined) {
        if (attempted && alreadyApplied()) return undefined;
        attempted = true;
        try {
          const { index, term, result } = await leader.node!.propose(data, { timeoutMs: 3000 });
          return { index, term, result, leader: leader.participant.id };
        } catch (error) {
          if (!RETRYABLE.some((code) => isGreenraftError(error, code))) throw new ControlFailedError(control, (error as Error).message, { cause: error });
        }
      }
      if (performance.now() > deadline) throw new ControlFailedError(control, `no leader committed the entry within ${SUBMIT_DEADLINE_MS / 1000} s`);
      await sleep(50);
    }
  }

  /** True when the leader's replica has seen every signer's nonce of `transactions`. */
  #applied(transactions: readonly SignedTransaction[]): boolean {
    const market = this.#leader()?.replica.market;
    return market !== undefined && transactions.every((signed) => (market.node(signed.transaction.signer)?.lastNonce ?? 0) >= signed.transaction.nonce);
  }

  /** Records which acknowledgements completed the quorum of an entry of client transactions (eq. 19). */
  #noteParticipation(submitted: Submitted): void {
    if (submitted === undefined) return;
    const quorum = this.#quorums.find((q) => q.leader === submitted.leader && q.term === submitted.term && q.index >= submitted.index);
    if (quorum !== undefined && quorum.acks.length >= 2) this.#pendingParticipation.push(quorum.acks.map((ack) => ack.id));
  }

  // ─────────────── weight epochs

  /** On the leader, after a round (or a change of strategy): new weights from the market, by joint consensus. */
  #scheduleEpoch(id: NodeId): void {
    const slot = this.#slots.get(id);
    if (slot?.node === undefined || slot.node.status().role !== 'leader') return;
    if (slot.epochRunning) {
      slot.epochAgain = true;
      return;
    }
    void this.#runEpochs(slot);
  }

  async #runEpochs(slot: Slot): Promise<void> {
    slot.epochRunning = true;
    try {
      do {
        slot.epochAgain = false;
        const node = slot.node;
        if (node === undefined || node.status().role !== 'leader') return;
        try {
          const outcome = await node.applyWeights({ timeoutMs: 5000 });
          if (outcome.changed) {
            const weights = [...outcome.config.incoming.voters].map(([voter, weight]) => `${voter} ${weight}`).join(', ');
            this.#log('info', `${slot.participant.id} moved the cluster to new weights by joint consensus: ${weights}`);
          }
        } catch (error) {
          if (isGreenraftError(error, 'CONFIGURATION')) {
            slot.epochAgain = true; // a change still in flight: once it lands, score again
            await sleep(100);
          } else if (!isGreenraftError(error, 'NOT_LEADER') && !isGreenraftError(error, 'STOPPED')) {
            this.#log('warn', `weight epoch on ${slot.participant.id} failed: ${(error as Error).message}`);
          }
        }
      } while (slot.epochAgain && this.#running);
    } finally {
      slot.epochRunning = false;
    }
  }

  // ─────────────── controls
  // They resolve with what they did and log nothing: the page reports each outcome once.

  async crash(id: NodeId): Promise<void> {
    const slot = this.#slot(id, 'crash');
    if (slot.node === undefined) throw new ControlFailedError('crash', `${id} is already down`);
    await this.#stopNode(slot);
    // What a restart finds: the durable state only (every save is synced here, so all of it).
    slot.storage = slot.storage.crash();
    this.#emit({ type: 'down', at: Date.now(), node: id, reason: 'crashed' });
  }

  async restart(id: NodeId): Promise<void> {
    const slot = this.#slot(id, 'restart');
    if (slot.node !== undefined) throw new ControlFailedError('restart', `${id} is running`);
    await this.#startNode(slot);
  }

  async partition(a: NodeId, b: NodeId): Promise<void> {
    this.#slot(a, 'partition');
    this.#slot(b, 'partition');
    if (a === b) throw new InvalidArgumentError('partition: name two different nodes');
    this.#network.block(a, b);
    this.#network.block(b, a);
    this.#cutLinks.add([a, b].sort().join('|'));
  }

  async heal(a?: NodeId, b?: NodeId): Promise<void> {
    if (a === undefined || b === undefined) {
      this.#network.heal();
      this.#cutLinks.clear();
      return;
    }
    this.#slot(a, 'heal');
    this.#slot(b, 'heal');
    this.#network.unblock(a, b);
    this.#network.unblock(b, a);
    this.#cutLinks.delete([a, b].sort().join('|'));
  }

  /** The cut links, as `a|b` with the ids in order. */
  cutLinks(): string[] {
    return [...this.#cutLinks].sort();
  }

  async proposeTrade(trade: TradeInit): Promise<TradeResult> {
    const seller = this.#slot(trade?.seller, 'proposeTrade');
    const buyer = this.#slot(trade?.buyer, 'proposeTrade');
    if (seller.participant.kind !== 'generation') throw new InvalidArgumentError(`proposeTrade: the seller ${seller.participant.id} is not a generation node`);
    if (buyer.participant.kind !== 'consumption') throw new InvalidArgumentError(`proposeTrade: the buyer ${buyer.participant.id} is not a consumption node`);
    if (!(Number.isFinite(trade.kWh) && trade.kWh > 0 && trade.kWh <= 100_000)) throw new InvalidArgumentError('proposeTrade: kWh must be a number in (0, 100000]');
    const range = (this.#reference()?.replica.market ?? seller.replica.market).priceRange;
    if (!(Number.isFinite(trade.unitPrice) && trade.unitPrice >= range.min && trade.unitPrice <= range.max)) {
      throw new InvalidArgumentError(`proposeTrade: the unit price must lie in [${range.min}, ${range.max}] ¥/kWh (S ≤ U ≤ B − G)`);
    }
    let contractId = '';
    const round = (this.#reference()?.replica.market.round() ?? 0) + 1;
    const submitted = await this.#submit(() => {
      const signed = signContract(this.#clients, { generator: seller.participant.id, consumer: buyer.participant.id, contractedKWh: trade.kWh, unitPrice: trade.unitPrice }, round);
      contractId = signed.contractId;
      return signed.transactions;
    }, 'proposeTrade');
    this.#noteParticipation(submitted);
    this.#publishMarket();
    const outcome = submitted?.result.kind === 'market' ? submitted.result.result : undefined;
    const refused = outcome?.outcomes.find((o) => !o.accepted);
    if (refused !== undefined && !refused.accepted) throw new ControlFailedError('proposeTrade', `the market refused the trade: ${refused.error.message}`, { cause: refused.error });
    this.#openTrades.push({ contractId, generator: seller.participant.id, consumer: buyer.participant.id, kWh: trade.kWh });
    const blockHeight = outcome?.block?.height ?? this.#blockOf(contractId);
    return { contractId, index: submitted?.index ?? 0, blockHeight };
  }

  #blockOf(contractId: string): number {
    const [signer, nonce] = contractId.split('/');
    for (const block of this.#reference()?.replica.market.ledger() ?? []) {
      for (const bytes of block.transactions) {
        const tx = decodeSignedTransaction(bytes).transaction;
        if (tx.signer === signer && String(tx.nonce) === nonce) return block.header.height;
      }
    }
    return 0;
  }

  runRound(): Promise<RoundResult> {
    const run = () => this.#runRound();
    const result = this.#rounds.then(run, run);
    this.#rounds = result.catch(() => undefined);
    return result;
  }

  async #runRound(): Promise<RoundResult> {
    const reference = this.#reference();
    if (reference === undefined) throw new ControlFailedError('runRound', 'no node is running');
    const market = reference.replica.market;
    const round = market.round() + 1;
    const random = seededRandom(this.#init.seed * 100_003 + round);
    const participants = this.#init.participants;
    const planned = planContracts(participants, round, random, market.priceRange);
    const contractIds: string[] = [];

    // 1. Day-ahead contracts, each offered and accepted; green certificates; line faults on the last round's deliveries.
    const offers = await this.#submit(() => {
      const transactions: SignedTransaction[] = [];
      contractIds.length = 0;
      for (const contract of planned) {
        const signed = signContract(this.#clients, contract, round);
        contractIds.push(signed.contractId);
        transactions.push(...signed.transactions);
      }
      transactions.push(...this.#certificateTrades(market, random));
      for (const settled of this.#lastSettled) if (random() < 0.08) transactions.push(this.#clients.get(settled.generator)!.reportLineFault(settled.contractId));
      return transactions;
    }, 'runRound');
    this.#noteParticipation(offers);
    const trades = this.#openTrades;
    this.#openTrades = [];

    // 2. Metered delivery (both parties of every contract) and carbon accounts.
    const deliveries = await this.#submit(() => {
      const transactions: SignedTransaction[] = [];
      planned.forEach((contract, position) => {
        transactions.push(this.#clients.get(contract.generator)!.reportDelivery(contractIds[position]!, contract.generatedKWh));
        transactions.push(this.#clients.get(contract.consumer)!.reportDelivery(contractIds[position]!, contract.consumedKWh));
      });
      for (const trade of trades) {
        transactions.push(this.#clients.get(trade.generator)!.reportDelivery(trade.contractId, trade.kWh));
        transactions.push(this.#clients.get(trade.consumer)!.reportDelivery(trade.contractId, trade.kWh));
      }
      for (const participant of participants) transactions.push(this.#clients.get(participant.id)!.recordCarbon(carbonOf(participant, random)));
      return transactions;
    }, 'runRound');
    this.#noteParticipation(deliveries);

    // 3. The commit quorums measured so far this round (eq. 19), each signed by the leader that reported it.
    const quorums = this.#pendingParticipation.splice(0);
    if (quorums.length > 0) await this.#submit(() => quorums.map((acks) => this.#clients.get(acks[0]!)!.recordParticipation(acks)), 'runRound');

    // 4. Settlement (eq. 26–34); every replica then scores it, and the leader applies the new weights.
    const settler = participants.find((p) => p.kind === 'consumption')!.id;
    const all = [...contractIds, ...trades.map((trade) => trade.contractId)];
    const settled = await this.#submit(() => [this.#clients.get(settler)!.settleRound(all)], 'runRound');
    const outcome = settled?.result.kind === 'market' ? settled.result.result.outcomes[0] : undefined;
    if (outcome !== undefined && !outcome.accepted) throw new ControlFailedError('runRound', `the market refused the settlement: ${outcome.error.message}`, { cause: outcome.error });
    const summary = outcome?.accepted ? outcome.receipt.round : undefined;
    this.#lastSettled = planned.map((contract, position) => ({ contractId: contractIds[position]!, generator: contract.generator }));
    const latest = this.#reference()?.replica.market;
    if (summary !== undefined && latest !== undefined) this.#emit({ type: 'round', at: Date.now(), round: roundView(summary, latest) });
    this.#publishMarket();
    const number = summary?.round ?? round;
    return { round: number, contracts: all.length, index: settled?.index ?? 0 };
  }

  /** Now and then a renewable generator sells a green certificate to a consumer (eq. 20: it counts for the buyer from then on). */
  #certificateTrades(market: PowerMarket, random: () => number): SignedTransaction[] {
    const transactions: SignedTransaction[] = [];
    const consumers = this.#init.participants.filter((p) => p.kind === 'consumption');
    for (const participant of this.#init.participants) {
      if (!participant.renewable || market.node(participant.id) === undefined || market.greenCertificates(participant.id) < 1 || random() > 0.35) continue;
      const buyer = consumers[Math.floor(random() * consumers.length)]!;
      const offer = this.#clients.get(participant.id)!.offerCertificates({ buyer: buyer.id, count: 1, unitPrice: 30 });
      transactions.push(offer, this.#clients.get(buyer.id)!.acceptCertificates(`${participant.id}/${offer.transaction.nonce}`));
    }
    return transactions;
  }

  #scheduleAutoRound(): void {
    if (this.#init.autoRoundMs === 0 || !this.#running) return;
    this.#autoRound = setTimeout(() => {
      // An automatic round is no control: its outcome is logged here, a control's by the page.
      this.runRound()
        .then(({ round, contracts }) => this.#log('info', `round ${round} settled: ${contracts} contracts`))
        .catch((error: Error) => this.#log('warn', `round failed: ${error.message}`))
        .finally(() => this.#scheduleAutoRound());
    }, this.#init.autoRoundMs);
  }

  /** Pauses or resumes the automatic rounds (`autoRoundMs` 0 pauses). */
  setAutoRounds(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new InvalidArgumentError('autoRoundMs must be a number ≥ 0');
    this.#init.autoRoundMs = ms;
    clearTimeout(this.#autoRound);
    this.#scheduleAutoRound();
  }

  async setScoring(choiceId: string): Promise<void> {
    const choice = SCORING_CHOICES.find((c) => c.id === choiceId);
    if (choice === undefined) throw new InvalidArgumentError(`setScoring: no strategy ${JSON.stringify(choiceId)} (strategies: ${SCORING_CHOICES.map((c) => c.id).join(', ')})`);
    const submitted = await this.#propose(encodeScoringEntry(choice.selection), 'setScoring');
    if (submitted?.result.kind === 'scoring' && !submitted.result.accepted) throw new ControlFailedError('setScoring', `the replicas refused strategy ${choice.id}`);
    this.#publishMarket();
  }

  async transferLeadership(to: NodeId): Promise<void> {
    const target = this.#slot(to, 'transferLeadership');
    if (target.node === undefined) throw new ControlFailedError('transferLeadership', `${to} is down`);
    const leader = this.#leader();
    if (leader === undefined) throw new ControlFailedError('transferLeadership', 'no node leads now');
    if (leader === target) return;
    try {
      await leader.node!.transferLeadership(to, { timeoutMs: 3000 });
    } catch (error) {
      throw new ControlFailedError('transferLeadership', `${leader.participant.id} could not hand leadership to ${to}: ${(error as Error).message}`, { cause: error });
    }
  }
}

function choiceLabel(replica: MarketReplica): string {
  const selection = replica.selection;
  const known = SCORING_CHOICES.find((choice) => JSON.stringify(choice.selection) === JSON.stringify(selection));
  return known?.label ?? `${selection.name}@${selection.version}`;
}

/** The six component scores (§4.2) of every participant, and the total under the strategy in force. */
function scoresOf(replica: MarketReplica): Record<NodeId, ScoreBreakdown> | undefined {
  const inputs = replica.market.scoreInputs();
  if (inputs.length === 0) return undefined;
  const selection = replica.selection;
  let totals: Map<string, number> | undefined;
  try {
    totals = strategyOf(selection).score(inputs);
  } catch {
    totals = undefined;
  }
  const breakdown = paperScoreBreakdown(inputs, selection.name === 'paper' ? (selection.params ?? {}) : {});
  const scores: Record<NodeId, ScoreBreakdown> = {};
  for (const [id, parts] of breakdown) {
    scores[id] = {
      credit: parts.credit,
      volume: parts.volume,
      participation: parts.participation,
      greenCertificates: parts.greenCertificates,
      carbon: parts.carbon,
      lineFaults: parts.lineFaults,
      total: totals?.get(id) ?? null,
    };
  }
  return scores;
}

function blockView(block: Block): BlockView {
  return {
    height: block.header.height,
    hash: block.hash,
    index: block.header.index,
    term: block.header.term,
    transactions: block.transactions.map((bytes) => transactionView(decodeSignedTransaction(bytes).transaction)),
  };
}

/** A settled round's summary as the views show it. */
export function roundView(summary: RoundSummary, market: PowerMarket): RoundView {
  return {
    round: summary.round,
    totalContractedKWh: summary.settlement.totalContractedKWh,
    contracts: summary.settlement.contracts.map((contract) => {
      const held = market.contract(contract.id);
      return {
        id: contract.id,
        generator: contract.generator,
        consumer: contract.consumer,
        contractedKWh: held?.contractedKWh ?? 0,
        generatedKWh: held?.generatedKWh ?? null,
        consumedKWh: held?.consumedKWh ?? null,
        generatorRevenue: contract.generatorRevenue,
        consumerExpense: contract.consumerExpense,
        generatorPenalty: contract.generatorPenalty,
        consumerPenalty: contract.consumerPenalty,
        allocatedToOthers: contract.allocatedToOthers,
      };
    }),
    nodes: summary.settlement.nodes.map((node) => ({
      id: node.id,
      contractedKWh: node.contractedKWh,
      actualKWh: node.actualKWh,
      penalty: node.penalty,
      compensation: node.compensation,
      allocation: node.allocation,
      balanceChange: node.balanceChange,
      creditWeightAfter: node.creditWeightAfter,
    })),
    voteWeights: summary.voteWeights === undefined ? null : Object.fromEntries(summary.voteWeights),
  };
}

/** The in-page cluster's extra controls, beyond {@link ClusterControls}. */
export interface InBrowserControls extends ClusterControls {
  /** The cut links, as `a|b`. */
  cutLinks(): string[];
  /** Pauses (0) or changes the period of the automatic trading rounds. */
  setAutoRounds(ms: number): void;
}

/** A {@link DataSource} whose cluster runs in this page. */
export interface InBrowserSource extends DataSource {
  readonly mode: 'in-browser';
  readonly controls: InBrowserControls;
}

/**
 * A weighted power-market cluster in this page, for a demo that needs nothing installed.
 *
 * @example
 * ```ts
 * const source = inBrowserSource({ seed: 7, autoRoundMs: 0 });
 * await source.start((event) => model.apply(event));
 * await source.controls.runRound();
 * await source.controls.crash('solar');
 * ```
 */
export function inBrowserSource(init: InBrowserSourceInit = {}): InBrowserSource {
  return new InBrowserCluster(init);
}
