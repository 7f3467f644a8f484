import { creditPenaltyDelta, creditWeightAfterRound, DEFAULT_MAX_CREDIT_WEIGHT } from '@greenraft/weight-scoring';
import {
  describeValue,
  InvalidCounterpartyError,
  InvalidQuantityError,
  InvalidRoundError,
  PriceOutOfRangeError,
  UnknownNodeError,
} from './errors.js';
import { MARKET_LIMITS } from './limits.js';
import { splitByLargestRemainder, toMilliYuan } from './money.js';

/** An amount of money in integer milli-yuan (1 yuan = 1000). */
export type MilliYuan = number;

/** Whether a node generates or consumes power. */
export type NodeKind = 'generation' | 'consumption';

/** The grid's prices, in yuan/kWh (paper §4.3.1). */
export interface MarketPrices {
  /** S: the feed-in tariff, at which the grid buys a generator's unsold power. */
  readonly feedInTariff: number;
  /** B: the price at which a consumer buys power from the grid. */
  readonly gridPurchasePrice: number;
  /** G: the over-the-grid fee the consumer pays per kWh delivered under a contract. */
  readonly overGridFee: number;
}

/** The prices of the paper's §5.1 simulation: S = 0.4, B = 0.75, G = 0.04 yuan/kWh. */
export const PAPER_PRICES: MarketPrices = Object.freeze({ feedInTariff: 0.4, gridPurchasePrice: 0.75, overGridFee: 0.04 });

/** A node taking part in a round, with its credit weight before the round. */
export interface RoundNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** W_a^{k-1}, in [0, `maxCreditWeight`]. */
  readonly creditWeight: number;
}

/** One day-ahead contract of the round with its metered delivery. */
export interface RoundContract {
  /** A label for the contract in the result. @default its position in `contracts`, as `"#0"`, `"#1"`, ... */
  readonly id?: string;
  /** The generation node's id. */
  readonly generator: string;
  /** The consumption node's id. */
  readonly consumer: string;
  /** U: the negotiated unit price, yuan/kWh, in [S, B − G]. */
  readonly unitPrice: number;
  /** C_e: the contracted volume, kWh (> 0). */
  readonly contractedKWh: number;
  /** E_a,f: the generator's metered generation under the contract, kWh. */
  readonly generatedKWh: number;
  /** E_a,y: the consumer's metered consumption under the contract, kWh. */
  readonly consumedKWh: number;
}

/** A trading round to settle. */
export interface RoundInput {
  readonly prices: MarketPrices;
  /** W_a^max (eq. 15). @default 100 */
  readonly maxCreditWeight?: number;
  /**
   * Every node of the market: the parties of the contracts, and the other nodes that share the
   * penalties (eq. 34). Nodes without a contract keep their credit weight.
   */
  readonly nodes: readonly RoundNode[];
  readonly contracts: readonly RoundContract[];
}

/** What one contract settled to. All money in milli-yuan. */
export interface ContractSettlement {
  readonly id: string;
  readonly generator: string;
  readonly consumer: string;
  /** V_f (eq. 26 corrected, or eq. 29). */
  readonly generatorRevenue: MilliYuan;
  /** V_y (eq. 27 or eq. 30). */
  readonly consumerExpense: MilliYuan;
  /** V_g = V_y − V_f (eq. 28 or eq. 31); negative when the grid pays more at S than it earns in fees. */
  readonly gridRevenue: MilliYuan;
  readonly generatorDefaulted: boolean;
  readonly consumerDefaulted: boolean;
  /** M_f (eq. 32), 0 unless the generator defaulted. */
  readonly generatorPenalty: MilliYuan;
  /** M_y (eq. 33), 0 unless the consumer defaulted. */
  readonly consumerPenalty: MilliYuan;
  /** Paid by a defaulting consumer to a performing generator: (U − S)·(C_e − E_a,y). */
  readonly compensationToGenerator: MilliYuan;
  /** Paid by a defaulting generator to a performing consumer: (B − U − G)·(C_e − E_a,f). */
  readonly compensationToConsumer: MilliYuan;
  /** F_w: the part of the penalties shared among the other nodes (eq. 34). */
  readonly allocatedToOthers: MilliYuan;
}

/** What one node's round came to. All money in milli-yuan; credit weights on the 0–100 scale. */
export interface NodeSettlement {
  readonly id: string;
  readonly kind: NodeKind;
  /** Σ C_e over the node's contracts in the round. */
  readonly contractedKWh: number;
  /** Σ of the node's metered generation (generator) or consumption (consumer) over its contracts. */
  readonly actualKWh: number;
  /** A generator's revenue Σ V_f, or a consumer's expense Σ V_y. */
  readonly revenueOrExpense: MilliYuan;
  /** Σ V_g over the node's contracts: what the grid earned on them. */
  readonly gridRevenue: MilliYuan;
  readonly creditWeightBefore: number;
  /** W_a^k (eq. 14–17). */
  readonly creditWeightAfter: number;
  /** ΔW_a (eq. 17), 0 when the node performed. */
  readonly creditPenaltyDelta: number;
  /** Penalties the node paid (eq. 32–33). */
  readonly penalty: MilliYuan;
  /** Compensation the node received from a defaulting counterparty. */
  readonly compensation: MilliYuan;
  /** A_i (eq. 34): the node's share of other contracts' penalties. */
  readonly allocation: MilliYuan;
  /** The net change of the node's balance: revenue − expense − penalty + compensation + allocation. */
  readonly balanceChange: MilliYuan;
}

/** The outcome of {@link settleRound}. */
export interface RoundSettlement {
  /** One entry per input node, in input order. */
  readonly nodes: readonly NodeSettlement[];
  /** One entry per input contract, in input order. */
  readonly contracts: readonly ContractSettlement[];
  /** Σ E_c: the round's total contracted volume (eq. 15). */
  readonly totalContractedKWh: number;
  /**
   * The grid's net change: Σ V_g, plus any allocated penalty with nobody to receive it (all other
   * nodes at credit weight 0). With the nodes' changes it sums to exactly zero.
   */
  readonly gridBalanceChange: MilliYuan;
}

/** The unit-price range the paper's penalties assume: S ≤ U ≤ B − G keeps both losses (eq. 32–33) ≥ 0. */
export function fairPriceRange(prices: MarketPrices): { readonly min: number; readonly max: number } {
  return { min: prices.feedInTariff, max: prices.gridPurchasePrice - prices.overGridFee };
}

/**
 * A copy of `prices`, checked: each a finite number in [0, {@link MARKET_LIMITS}.maxPrice], with a
 * non-empty fair range. @throws {@link InvalidRoundError} otherwise.
 */
export function validatePrices(prices: MarketPrices): MarketPrices {
  if (typeof prices !== 'object' || prices === null) throw new InvalidRoundError('prices must be an object');
  const checked = { feedInTariff: 0, gridPurchasePrice: 0, overGridFee: 0 };
  for (const key of ['feedInTariff', 'gridPurchasePrice', 'overGridFee'] as const) {
    const value: unknown = prices[key];
    if (typeof value !== 'number' || !(value >= 0 && value <= MARKET_LIMITS.maxPrice)) {
      throw new InvalidRoundError(`prices.${key} must be a finite number in [0, ${MARKET_LIMITS.maxPrice}], got ${describeValue(value)}`);
    }
    checked[key] = value;
  }
  const { min, max } = fairPriceRange(checked);
  if (min > max) {
    throw new InvalidRoundError(
      `feedInTariff ${min} is above gridPurchasePrice − overGridFee ${max}: no unit price leaves both parties' losses non-negative`,
    );
  }
  return checked;
}

function quantity(name: string, value: unknown, max: number, positive = false): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= max) || (positive && value === 0)) {
    throw new InvalidQuantityError(`${name} must be a finite number in ${positive ? '(0' : '[0'}, ${max}], got ${describeValue(value)}`);
  }
  return value;
}

/** The longest contract label a round accepts (the market's are "<node id>/<nonce>"). */
const MAX_CONTRACT_LABEL = 2 * MARKET_LIMITS.maxIdLength;

interface CheckedNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly creditWeight: number;
}

interface CheckedContract {
  readonly id: string;
  readonly generator: string;
  readonly consumer: string;
  readonly unitPrice: number;
  readonly contractedKWh: number;
  readonly generatedKWh: number;
  readonly consumedKWh: number;
}

interface CheckedRound {
  readonly prices: MarketPrices;
  readonly max: number;
  readonly nodes: ReadonlyMap<string, CheckedNode>;
  readonly contracts: readonly CheckedContract[];
}

/** Reads every field of the round once into a checked copy, so nothing the caller changes later counts. */
function validateRound(round: RoundInput): CheckedRound {
  if (typeof round !== 'object' || round === null) throw new InvalidRoundError('the round must be an object');
  const prices = validatePrices(round.prices);
  const max: unknown = round.maxCreditWeight ?? DEFAULT_MAX_CREDIT_WEIGHT;
  if (typeof max !== 'number' || !(max > 0 && max <= MARKET_LIMITS.maxCreditWeight)) {
    throw new InvalidRoundError(`maxCreditWeight must be a finite number in (0, ${MARKET_LIMITS.maxCreditWeight}], got ${describeValue(max)}`);
  }
  const nodeList: unknown = round.nodes;
  const contractList: unknown = round.contracts;
  if (!Array.isArray(nodeList)) throw new InvalidRoundError('nodes must be an array');
  if (!Array.isArray(contractList)) throw new InvalidRoundError('contracts must be an array');
  if (nodeList.length > MARKET_LIMITS.maxNodes) throw new InvalidRoundError(`a round has at most ${MARKET_LIMITS.maxNodes} nodes, got ${nodeList.length}`);
  if (contractList.length > MARKET_LIMITS.maxRoundContracts) {
    throw new InvalidRoundError(`a round settles at most ${MARKET_LIMITS.maxRoundContracts} contracts, got ${contractList.length}`);
  }
  const nodes = new Map<string, CheckedNode>();
  for (let position = 0; position < nodeList.length; position++) {
    const node: unknown = nodeList[position];
    if (typeof node !== 'object' || node === null) throw new InvalidRoundError(`nodes[${position}] must be an object`);
    const { id, kind, creditWeight } = node as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0 || id.length > MARKET_LIMITS.maxIdLength) {
      throw new InvalidRoundError(`nodes[${position}].id must be a string of 1 to ${MARKET_LIMITS.maxIdLength} characters, got ${describeValue(id)}`);
    }
    if (nodes.has(id)) throw new InvalidRoundError(`node ${id} appears twice`);
    if (kind !== 'generation' && kind !== 'consumption') {
      throw new InvalidRoundError(`node ${id}: kind must be 'generation' or 'consumption', got ${describeValue(kind)}`);
    }
    if (typeof creditWeight !== 'number' || !(creditWeight >= 0 && creditWeight <= max)) {
      throw new InvalidQuantityError(`node ${id}: creditWeight must be a finite number in [0, ${max}], got ${describeValue(creditWeight)}`);
    }
    nodes.set(id, { id, kind, creditWeight });
  }
  const { min: minPrice, max: maxPrice } = fairPriceRange(prices);
  const contracts: CheckedContract[] = [];
  const seen = new Set<string>();
  const sums = { contracted: 0, generated: 0, consumed: 0 };
  for (let position = 0; position < contractList.length; position++) {
    const contract: unknown = contractList[position];
    if (typeof contract !== 'object' || contract === null) throw new InvalidRoundError(`contracts[${position}] must be an object`);
    const fields = contract as Record<string, unknown>;
    const id = fields['id'] ?? `#${position}`;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CONTRACT_LABEL || seen.has(id)) {
      throw new InvalidRoundError(`contracts[${position}]: id ${describeValue(id)} is not a unique string of 1 to ${MAX_CONTRACT_LABEL} characters`);
    }
    seen.add(id);
    const generatorId = fields['generator'];
    const consumerId = fields['consumer'];
    const generator = typeof generatorId === 'string' ? nodes.get(generatorId) : undefined;
    if (!generator) throw new UnknownNodeError(typeof generatorId === 'string' ? generatorId : describeValue(generatorId));
    const consumer = typeof consumerId === 'string' ? nodes.get(consumerId) : undefined;
    if (!consumer) throw new UnknownNodeError(typeof consumerId === 'string' ? consumerId : describeValue(consumerId));
    if (generator.kind !== 'generation') throw new InvalidCounterpartyError(`contract ${id}: generator ${generator.id} is a consumption node`);
    if (consumer.kind !== 'consumption') throw new InvalidCounterpartyError(`contract ${id}: consumer ${consumer.id} is a generation node`);
    const unitPrice = quantity(`contract ${id}: unitPrice`, fields['unitPrice'], MARKET_LIMITS.maxPrice);
    if (unitPrice < minPrice || unitPrice > maxPrice) throw new PriceOutOfRangeError(unitPrice, minPrice, maxPrice);
    const checked: CheckedContract = {
      id,
      generator: generator.id,
      consumer: consumer.id,
      unitPrice,
      contractedKWh: quantity(`contract ${id}: contractedKWh`, fields['contractedKWh'], MARKET_LIMITS.maxContractKWh, true),
      generatedKWh: quantity(`contract ${id}: generatedKWh`, fields['generatedKWh'], MARKET_LIMITS.maxMeteredKWh),
      consumedKWh: quantity(`contract ${id}: consumedKWh`, fields['consumedKWh'], MARKET_LIMITS.maxMeteredKWh),
    };
    sums.contracted += checked.contractedKWh;
    sums.generated += checked.generatedKWh;
    sums.consumed += checked.consumedKWh;
    contracts.push(checked);
  }
  // The per-round bound keeps every amount of the round an exact integer of milli-yuan.
  for (const [name, sum] of Object.entries(sums)) {
    if (sum > MARKET_LIMITS.maxRoundKWh) {
      throw new InvalidQuantityError(`the round's total ${name} volume ${sum} kWh is above the limit of ${MARKET_LIMITS.maxRoundKWh} kWh per round`);
    }
  }
  return { prices, max, nodes, contracts };
}

interface MutableNodeTotals {
  contractedKWh: number;
  actualKWh: number;
  revenueOrExpense: number;
  gridRevenue: number;
  penalty: number;
  compensation: number;
  balanceChange: number;
}

/**
 * Settles one trading round: revenues and expenses (eq. 26–31, with eq. 26's sign corrected),
 * credit weights (eq. 14–17), penalties of defaulting nodes (eq. 32–33), compensation of their
 * counterparties, and the allocation of the rest to the other nodes by credit weight (eq. 34).
 *
 * A node's credit weight moves once per round, from its total contracted and actual volumes
 * over all its contracts; each contract it defaulted on is penalised with that round's ΔW_a.
 * Money is in integer milli-yuan and conserved exactly for every accepted round (see the rounding
 * rule in the docs): prices, volumes and the round's totals are bounded by {@link MARKET_LIMITS}
 * so that every amount stays an exact integer. The input is read once, into a checked copy.
 * Pure and deterministic: the power-market state machine and the CLI both call it.
 *
 * @throws {@link InvalidRoundError}, {@link UnknownNodeError}, {@link InvalidCounterpartyError},
 *   {@link InvalidQuantityError} or {@link PriceOutOfRangeError} on bad input (a value out of its
 *   limits included); the error's message never calls the input's own methods.
 *
 * @example
 * ```ts
 * import { settleRound, PAPER_PRICES, toYuan } from '@greenraft/power-market';
 *
 * const result = settleRound({
 *   prices: PAPER_PRICES,
 *   nodes: [
 *     { id: '2', kind: 'generation', creditWeight: 86.47 },
 *     { id: '17', kind: 'consumption', creditWeight: 95.6 },
 *     { id: '1', kind: 'generation', creditWeight: 97.67 },
 *   ],
 *   contracts: [{ generator: '2', consumer: '17', unitPrice: 0.63, contractedKWh: 200, generatedKWh: 200, consumedKWh: 180 }],
 * });
 * console.log(toYuan(result.nodes[1]!.penalty)); // 48.576: (0.63 − 0.4) · 20 · (1 + 9.56)
 * ```
 */
export function settleRound(round: RoundInput): RoundSettlement {
  const checked = validateRound(round);
  const { max, nodes } = checked;
  const { feedInTariff: S, gridPurchasePrice: B, overGridFee: G } = checked.prices;
  const params = { maxCreditWeight: max };

  const totals = new Map<string, MutableNodeTotals>();
  for (const id of nodes.keys()) {
    totals.set(id, { contractedKWh: 0, actualKWh: 0, revenueOrExpense: 0, gridRevenue: 0, penalty: 0, compensation: 0, balanceChange: 0 });
  }
  const totalOf = (id: string): MutableNodeTotals => totals.get(id)!;

  // eq. 15: Σ E_c counts each contract once.
  let totalContractedKWh = 0;
  for (const contract of checked.contracts) {
    totalContractedKWh += contract.contractedKWh;
    totalOf(contract.generator).contractedKWh += contract.contractedKWh;
    totalOf(contract.generator).actualKWh += contract.generatedKWh;
    totalOf(contract.consumer).contractedKWh += contract.contractedKWh;
    totalOf(contract.consumer).actualKWh += contract.consumedKWh;
  }

  // eq. 14–17, once per node over the round.
  const creditAfter = new Map<string, number>();
  const penaltyDelta = new Map<string, number>();
  for (const node of nodes.values()) {
    const t = totalOf(node.id);
    if (t.contractedKWh === 0) {
      creditAfter.set(node.id, node.creditWeight);
      penaltyDelta.set(node.id, 0);
      continue;
    }
    const input = { creditWeight: node.creditWeight, contracted: t.contractedKWh, actual: t.actualKWh, totalContracted: totalContractedKWh };
    creditAfter.set(node.id, creditWeightAfterRound(input, params));
    penaltyDelta.set(node.id, creditPenaltyDelta(input, params));
  }

  // The nodes' weights after the round and their allocations (eq. 34), by input position.
  const position = new Map([...nodes.keys()].map((id, i) => [id, i]));
  const weightsAfter = Float64Array.from(nodes.keys(), (id) => creditAfter.get(id)!);
  const allocations = new Float64Array(nodes.size);
  let gridBalanceChange = 0;
  const contracts: ContractSettlement[] = [];
  for (const contract of checked.contracts) {
    const { id, generator, consumer, unitPrice: U, contractedKWh: Ce, generatedKWh: Ef, consumedKWh: Ey } = contract;
    let generatorRevenue: number;
    let consumerExpense: number;
    if (Ef >= Ey) {
      // eq. 26 (corrected): the excess is sold to the grid at S. eq. 27: the consumer pays U + G.
      generatorRevenue = toMilliYuan(Ey * U + (Ef - Ey) * S);
      consumerExpense = toMilliYuan(Ey * (U + G));
    } else {
      // eq. 29–30: the consumer buys the shortfall from the grid at B.
      generatorRevenue = toMilliYuan(Ef * U);
      consumerExpense = toMilliYuan(Ef * (U + G) + (Ey - Ef) * B);
    }
    // eq. 28 / eq. 31: V_g = V_y − V_f, taken on the rounded amounts so nothing is lost.
    const gridRevenue = consumerExpense - generatorRevenue;

    const generatorDefaulted = Ef < Ce;
    const consumerDefaulted = Ey < Ce;
    // ε = 1 when one party defaults, 0 when both do (eq. 32–33).
    const epsilon = generatorDefaulted && consumerDefaulted ? 0 : 1;
    let generatorPenalty = 0;
    let consumerPenalty = 0;
    let compensationToGenerator = 0;
    let compensationToConsumer = 0;
    if (generatorDefaulted) {
      // eq. 32: M_f = (B − U − G)(C_e − E_a,f)(ε + ΔW_a,f); the consumer's loss is the ε = 1 part.
      generatorPenalty = toMilliYuan((B - U - G) * (Ce - Ef) * (epsilon + penaltyDelta.get(generator)!));
      if (!consumerDefaulted) compensationToConsumer = toMilliYuan((B - U - G) * (Ce - Ef));
    }
    if (consumerDefaulted) {
      // eq. 33: M_y = (U − S)(C_e − E_a,y)(ε + ΔW_a,y); the generator's loss is the ε = 1 part.
      consumerPenalty = toMilliYuan((U - S) * (Ce - Ey) * (epsilon + penaltyDelta.get(consumer)!));
      if (!generatorDefaulted) compensationToGenerator = toMilliYuan((U - S) * (Ce - Ey));
    }
    // F_w = M − compensation (eq. 34's numerator), exact in milli-yuan.
    const allocatedToOthers = generatorPenalty + consumerPenalty - compensationToGenerator - compensationToConsumer;

    const g = totalOf(generator);
    const c = totalOf(consumer);
    g.revenueOrExpense += generatorRevenue;
    g.gridRevenue += gridRevenue;
    g.penalty += generatorPenalty;
    g.compensation += compensationToGenerator;
    g.balanceChange += generatorRevenue - generatorPenalty + compensationToGenerator;
    c.revenueOrExpense += consumerExpense;
    c.gridRevenue += gridRevenue;
    c.penalty += consumerPenalty;
    c.compensation += compensationToConsumer;
    c.balanceChange += -consumerExpense - consumerPenalty + compensationToConsumer;
    gridBalanceChange += gridRevenue;

    if (allocatedToOthers > 0) {
      // eq. 34: A_i = W_a,i^k / Σ_{n−2} W_a^k · F_w, over every node but the two parties, weights after the round.
      const shared = splitByLargestRemainder(allocatedToOthers, weightsAfter, allocations, position.get(generator)!, position.get(consumer)!);
      if (!shared) gridBalanceChange += allocatedToOthers;
    }

    contracts.push({
      id,
      generator,
      consumer,
      generatorRevenue,
      consumerExpense,
      gridRevenue,
      generatorDefaulted,
      consumerDefaulted,
      generatorPenalty,
      consumerPenalty,
      compensationToGenerator,
      compensationToConsumer,
      allocatedToOthers,
    });
  }

  const nodeResults: NodeSettlement[] = [...nodes.values()].map((node, i) => {
    const t = totalOf(node.id);
    const allocation = allocations[i]!;
    return {
      id: node.id,
      kind: node.kind,
      contractedKWh: t.contractedKWh,
      actualKWh: t.actualKWh,
      revenueOrExpense: t.revenueOrExpense,
      gridRevenue: t.gridRevenue,
      creditWeightBefore: node.creditWeight,
      creditWeightAfter: creditAfter.get(node.id)!,
      creditPenaltyDelta: penaltyDelta.get(node.id)!,
      penalty: t.penalty,
      compensation: t.compensation,
      allocation,
      balanceChange: t.balanceChange + allocation,
    };
  });
  return { nodes: nodeResults, contracts, totalContractedKWh, gridBalanceChange };
}
