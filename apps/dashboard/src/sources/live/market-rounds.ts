/**
 * Trading rounds on a live market cluster, through the client API only: every transaction is
 * signed by the node of its participant, with that node's own participant key
 * (`market.submitOwn`), so no key leaves its node. A round is the in-page cluster's: day-ahead
 * contracts between the generators and consumers that are up (each offered by its seller and
 * accepted by its buyer), now and then a green certificate sold and a line fault reported on the
 * last round's deliveries, metered delivery by both parties, carbon accounts, then a settlement
 * by a consumer (eq. 26–34). The page's live mode runs it when no supervisor does; `greenraft
 * cluster` runs it for its automatic rounds and for the page's controls.
 */
import type { GreenraftClient, SubmitResult } from '@greenraft/client';
import { InvalidArgumentError, isGreenraftError, seededRandom } from '@greenraft/consensus';
import type { NodeId, Participant, RoundView } from '../../model/events.js';
import { ControlFailedError, type ControlName, type RoundResult, type TradeInit, type TradeResult } from '../source.js';
import { carbonOf, deliveryWindow, planContracts } from '../in-browser/trading.js';

/** Options of {@link marketRounds}. */
export interface MarketRoundsInit {
  /**
   * The client of node `id` alone (`followLeader: false`, that node's endpoint only): the node
   * that answers a `submitOwn` is the one that signs. `undefined` while the node is down: its
   * participant sits the round out.
   */
  nodeClient(id: NodeId): GreenraftClient | undefined;
  /** A client to read the market with (linearizable reads), or `undefined` when no node is up. */
  reader(): GreenraftClient | undefined;
  /**
   * Seeds the trading plan of each round (contracts, meter readings, carbon).
   * @default a random seed
   */
  seed?: number;
  /**
   * The unit prices contracts are planned within, ¥/kWh: the market's fair range S ≤ U ≤ B − G.
   * @default the paper's prices: [0.4, 0.71]
   */
  priceRange?: { readonly min: number; readonly max: number };
  /**
   * The deadline of each transaction's submission, ms.
   * @default 10000
   */
  timeoutMs?: number;
}

/** What a round did, with its settlement as the views show it. */
export interface RoundOutcome extends RoundResult {
  /** The settlement, from the receipt. */
  readonly view: RoundView | undefined;
  /** Contracts planned that could not be made (a party down or a transaction refused). */
  readonly dropped: number;
}

/** Trading rounds and trades on a live market cluster. */
export interface MarketRounds {
  /** The registered participants, from the market. */
  participants(): Promise<Participant[]>;
  /** Registers each participant of `roster` not registered yet, each signing its own registration; resolves with how many it registered. */
  register(roster: readonly Participant[]): Promise<number>;
  /** A day-ahead contract, offered by the seller and accepted by the buyer; the next round delivers and settles it. */
  proposeTrade(trade: TradeInit): Promise<TradeResult>;
  /** One trading round (rounds run one at a time). */
  runRound(): Promise<RoundOutcome>;
}

/**
 * The participants of a cluster of nodes `ids` trading among themselves: about three in five
 * generate (all renewable but the last, a fossil plant), the rest consume.
 */
export function marketRoster(ids: readonly NodeId[]): Participant[] {
  const consumers = ids.length < 2 ? 0 : Math.max(1, Math.floor((2 * ids.length) / 5));
  const generators = ids.length - consumers;
  return ids.map((id, position) =>
    position < generators ? { id, kind: 'generation', renewable: generators === 1 || position < generators - 1 } : { id, kind: 'consumption', renewable: false },
  );
}

type Json = unknown;
const record = (value: Json): Record<string, Json> => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, Json>) : {});
const numberOr = (value: Json, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
const weights = (value: Json): Record<NodeId, number> | null =>
  value === null || typeof value !== 'object' ? null : (Object.fromEntries(Object.entries(record(value)).filter(([, weight]) => typeof weight === 'number')) as Record<NodeId, number>);

/**
 * A settleRound receipt (`receipt.round`, with its `settlement`) as the market view shows it;
 * `undefined` for a receipt of anything else.
 */
export function roundViewOfReceipt(receipt: Json): RoundView | undefined {
  const round = record(record(receipt).round);
  if (typeof round.round !== 'number') return undefined;
  const settlement = record(round.settlement);
  const list = (value: Json) => (Array.isArray(value) ? value.map(record) : []);
  const orNull = (value: Json) => (typeof value === 'number' ? value : null);
  return {
    round: round.round,
    totalContractedKWh: orNull(settlement.totalContractedKWh),
    contracts: list(settlement.contracts).map((c) => ({
      id: String(c.id),
      generator: String(c.generator),
      consumer: String(c.consumer),
      contractedKWh: numberOr(c.contractedKWh, 0),
      generatedKWh: orNull(c.generatedKWh),
      consumedKWh: orNull(c.consumedKWh),
      generatorRevenue: numberOr(c.generatorRevenue, 0),
      consumerExpense: numberOr(c.consumerExpense, 0),
      generatorPenalty: numberOr(c.generatorPenalty, 0),
      consumerPenalty: numberOr(c.consumerPenalty, 0),
      allocatedToOthers: numberOr(c.allocatedToOthers, 0),
    })),
    nodes: list(settlement.nodes).map((n) => ({
      id: String(n.id),
      contractedKWh: numberOr(n.contractedKWh, 0),
      actualKWh: numberOr(n.actualKWh, 0),
      penalty: numberOr(n.penalty, 0),
      compensation: numberOr(n.compensation, 0),
      allocation: numberOr(n.allocation, 0),
      balanceChange: numberOr(n.balanceChange, 0),
      creditWeightAfter: numberOr(n.creditWeightAfter, 0),
    })),
    voteWeights: weights(round.voteWeights),
  };
}

const PAPER_RANGE = { min: 0.4, max: 0.71 } as const;

interface Holder extends Participant {
  /** Green certificates that count for it (eq. 20): issued − sold + bought. */
  readonly certificates: number;
}

class LiveMarketRounds implements MarketRounds {
  readonly #init: MarketRoundsInit;
  readonly #seed: number;
  /** Each node's submissions, one at a time: its nonces must reach the log in the order it signed them. */
  readonly #queues = new Map<NodeId, Promise<unknown>>();
  #rounds: Promise<unknown> = Promise.resolve();
  #openTrades: { contractId: string; generator: NodeId; consumer: NodeId; kWh: number }[] = [];
  #lastSettled: { contractId: string; generator: NodeId }[] = [];

  constructor(init: MarketRoundsInit) {
    if (typeof init?.nodeClient !== 'function' || typeof init.reader !== 'function') throw new InvalidArgumentError('marketRounds: nodeClient and reader are required');
    this.#init = init;
    this.#seed = init.seed ?? Math.floor(Math.random() * 2 ** 31);
  }

  #reader(control: ControlName): GreenraftClient {
    const reader = this.#init.reader();
    if (reader === undefined) throw new ControlFailedError(control, 'no node is up to read the market from');
    return reader;
  }

  async #holders(control: ControlName): Promise<{ holders: Holder[]; round: number }> {
    const reader = this.#reader(control);
    try {
      const [nodes, head] = await Promise.all([reader.market.query('nodes', { timeoutMs: this.#timeout() }), reader.market.query('head', { timeoutMs: this.#timeout() })]);
      const list = Array.isArray(record(nodes).nodes) ? (record(nodes).nodes as Json[]).map(record) : [];
      const holders = list.map((node) => ({
        id: String(node.id),
        kind: node.kind === 'generation' ? ('generation' as const) : ('consumption' as const),
        renewable: node.renewable === true,
        certificates: numberOr(node.certificatesIssued, 0) - numberOr(node.certificatesSold, 0) + numberOr(node.certificatesBought, 0),
      }));
      return { holders, round: numberOr(record(head).round, 0) };
    } catch (error) {
      throw new ControlFailedError(control, `the market could not be read: ${(error as Error).message}`, { cause: error });
    }
  }

  #timeout(): number {
    return this.#init.timeoutMs ?? 10_000;
  }

  /** Node `id` signs `transaction` as itself and submits it, after its earlier submissions. */
  #own(control: ControlName, id: NodeId, transaction: Record<string, unknown>): Promise<SubmitResult> {
    const run = async (): Promise<SubmitResult> => {
      const client = this.#init.nodeClient(id);
      if (client === undefined) throw new ControlFailedError(control, `${id} is down: it cannot sign its ${String(transaction.type)}`);
      for (let attempt = 0; ; attempt++) {
        try {
          return await client.market.submitOwn(transaction, { timeoutMs: this.#timeout() });
        } catch (error) {
          // The node signed a transaction of its own (a participation record) in between: sign again, with a later nonce.
          if (attempt === 0 && (error as { reason?: string }).reason === 'REPLAYED_NONCE') continue;
          if (isGreenraftError(error) && error.code === 'CONTROL_FAILED') throw error;
          throw new ControlFailedError(control, `${id}'s ${String(transaction.type)} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    };
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const next = previous.then(run, run);
    const tail = next.catch(() => undefined);
    this.#queues.set(id, tail);
    void tail.then(() => {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    });
    return next;
  }

  async participants(): Promise<Participant[]> {
    const { holders } = await this.#holders('runRound');
    return holders.map(({ id, kind, renewable }) => ({ id, kind, renewable }));
  }

  async register(roster: readonly Participant[]): Promise<number> {
    const known = new Set((await this.participants()).map((participant) => participant.id));
    const missing = roster.filter((participant) => !known.has(participant.id));
    await Promise.all(missing.map((participant) => this.#own('runRound', participant.id, { type: 'registerNode', kind: participant.kind, renewable: participant.renewable })));
    return missing.length;
  }

  async proposeTrade(trade: TradeInit): Promise<TradeResult> {
    const { holders, round } = await this.#holders('proposeTrade');
    const seller = holders.find((holder) => holder.id === trade?.seller);
    const buyer = holders.find((holder) => holder.id === trade?.buyer);
    if (seller === undefined || seller.kind !== 'generation') throw new InvalidArgumentError(`proposeTrade: ${String(trade?.seller)} is not a registered generation node`);
    if (buyer === undefined || buyer.kind !== 'consumption') throw new InvalidArgumentError(`proposeTrade: ${String(trade?.buyer)} is not a registered consumption node`);
    if (!(Number.isFinite(trade.kWh) && trade.kWh > 0 && trade.kWh <= 100_000)) throw new InvalidArgumentError('proposeTrade: kWh must be a number in (0, 100000]');
    const range = this.#init.priceRange ?? PAPER_RANGE;
    if (!(Number.isFinite(trade.unitPrice) && trade.unitPrice >= range.min && trade.unitPrice <= range.max)) {
      throw new InvalidArgumentError(`proposeTrade: the unit price must lie in [${range.min}, ${range.max}] ¥/kWh (S ≤ U ≤ B − G)`);
    }
    const offered = await this.#own('proposeTrade', seller.id, { type: 'proposeContract', counterparty: buyer.id, unitPrice: trade.unitPrice, contractedKWh: trade.kWh, ...deliveryWindow(round + 1) });
    const contractId = String(record(offered.receipt).contractId);
    const accepted = await this.#own('proposeTrade', buyer.id, { type: 'acceptContract', contractId });
    this.#openTrades.push({ contractId, generator: seller.id, consumer: buyer.id, kWh: trade.kWh });
    return { contractId, index: accepted.index, blockHeight: numberOr(record(offered.block).height, 0) };
  }

  runRound(): Promise<RoundOutcome> {
    const run = () => this.#runRound();
    const result = this.#rounds.then(run, run);
    this.#rounds = result.catch(() => undefined);
    return result;
  }

  async #runRound(): Promise<RoundOutcome> {
    const { holders, round: settled } = await this.#holders('runRound');
    const up = holders.filter((holder) => this.#init.nodeClient(holder.id) !== undefined);
    const consumers = up.filter((holder) => holder.kind === 'consumption');
    if (!up.some((holder) => holder.kind === 'generation') || consumers.length === 0) {
      throw new ControlFailedError('runRound', holders.length === 0 ? 'no participant is registered yet' : 'a round needs a generator and a consumer whose nodes are up');
    }
    const round = settled + 1;
    const random = seededRandom(this.#seed * 100_003 + round);
    const planned = planContracts(up, round, random, this.#init.priceRange ?? PAPER_RANGE);
    const window = deliveryWindow(round);

    // 1. Day-ahead contracts (offered, then accepted), green certificates, line faults on the last round's deliveries.
    const made = await Promise.all(
      planned.map(async (contract) => {
        try {
          const offered = await this.#own('runRound', contract.generator, { type: 'proposeContract', counterparty: contract.consumer, unitPrice: contract.unitPrice, contractedKWh: contract.contractedKWh, ...window });
          const contractId = String(record(offered.receipt).contractId);
          await this.#own('runRound', contract.consumer, { type: 'acceptContract', contractId });
          return { contract, contractId };
        } catch {
          return undefined;
        }
      }),
    );
    const side: Promise<unknown>[] = [];
    for (const holder of up) {
      if (holder.kind !== 'generation' || !holder.renewable || holder.certificates < 1 || random() > 0.35) continue;
      const buyer = consumers[Math.floor(random() * consumers.length)]!;
      side.push(
        this.#own('runRound', holder.id, { type: 'offerCertificates', buyer: buyer.id, count: 1, unitPrice: 30 }).then((offer) =>
          this.#own('runRound', buyer.id, { type: 'acceptCertificates', offerId: String(record(offer.receipt).offerId) }),
        ),
      );
    }
    for (const last of this.#lastSettled) {
      if (random() < 0.08 && up.some((holder) => holder.id === last.generator)) side.push(this.#own('runRound', last.generator, { type: 'reportLineFault', contractId: last.contractId }));
    }
    await Promise.allSettled(side);
    const contracts = made.filter((entry) => entry !== undefined);
    const trades = this.#openTrades;
    this.#openTrades = [];

    // 2. Metered delivery by both parties of every contract, and every participant's carbon account.
    const reports: Promise<unknown>[] = [];
    for (const { contract, contractId } of contracts) {
      reports.push(this.#own('runRound', contract.generator, { type: 'reportDelivery', contractId, meteredKWh: contract.generatedKWh }));
      reports.push(this.#own('runRound', contract.consumer, { type: 'reportDelivery', contractId, meteredKWh: contract.consumedKWh }));
    }
    for (const trade of trades) {
      reports.push(this.#own('runRound', trade.generator, { type: 'reportDelivery', contractId: trade.contractId, meteredKWh: trade.kWh }));
      reports.push(this.#own('runRound', trade.consumer, { type: 'reportDelivery', contractId: trade.contractId, meteredKWh: trade.kWh }));
    }
    for (const holder of up) reports.push(this.#own('runRound', holder.id, { type: 'recordCarbon', ...carbonOf(holder, random) }));
    // A report that fails leaves its party in default on that contract, as an unmetered delivery would.
    await Promise.allSettled(reports);

    // 3. The settlement, by a consumer that is up (eq. 26–34); the leader then moves the weights by joint consensus.
    const ids = [...contracts.map((entry) => entry.contractId), ...trades.map((trade) => trade.contractId)];
    if (ids.length === 0) throw new ControlFailedError('runRound', `round ${round}: no contract could be made (${planned.length} planned)`);
    const settlement = await this.#own('runRound', consumers[0]!.id, { type: 'settleRound', contractIds: ids });
    const view = roundViewOfReceipt(settlement.receipt);
    this.#lastSettled = contracts.map(({ contract, contractId }) => ({ contractId, generator: contract.generator }));
    return { round: view?.round ?? round, contracts: ids.length, index: settlement.index, view, dropped: planned.length - contracts.length };
  }
}

/**
 * Trading rounds and trades on a live market cluster whose nodes hold their participants' keys.
 *
 * @example
 * ```ts
 * const clients = new Map(urls.map((url, i) => [`n${i + 1}`, createClient({ endpoints: url, followLeader: false })]));
 * const rounds = marketRounds({ nodeClient: (id) => clients.get(id), reader: () => clients.get('n1') });
 * await rounds.register(marketRoster([...clients.keys()]));
 * const { round, contracts } = await rounds.runRound();
 * ```
 */
export function marketRounds(init: MarketRoundsInit): MarketRounds {
  return new LiveMarketRounds(init);
}
