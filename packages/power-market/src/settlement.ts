import { creditPenaltyDelta, creditWeightAfterRound, DEFAULT_MAX_CREDIT_WEIGHT } from '@greenraft/weight-scoring';
import {
  InvalidCounterpartyError,
  InvalidQuantityError,
  InvalidRoundError,
  PriceOutOfRangeError,
  UnknownNodeError,
} from './errors.js';
import { allocateProportionally, toMilliYuan } from './money.js';

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

function requireQuantity(name: string, value: unknown, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new InvalidQuantityError(`${name} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${String(value)}`);
  }
  return value;
}

/** The unit-price range the paper's penalties assume: S ≤ U ≤ B − G keeps both losses (eq. 32–33) ≥ 0. */
export function fairPriceRange(prices: MarketPrices): { readonly min: number; readonly max: number } {
  return { min: prices.feedInTariff, max: prices.gridPurchasePrice - prices.overGridFee };
}

/** Throws {@link InvalidRoundError} unless the prices are finite, ≥ 0 and leave a non-empty fair range. */
export function validatePrices(prices: MarketPrices): void {
  if (typeof prices !== 'object' || prices === null) throw new InvalidRoundError('prices must be an object');
  for (const key of ['feedInTariff', 'gridPurchasePrice', 'overGridFee'] as const) {
    const value = prices[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidRoundError(`prices.${key} must be a finite number ≥ 0, got ${String(value)}`);
    }
  }
  const { min, max } = fairPriceRange(prices);
  if (min > max) {
    throw new InvalidRoundError(
      `feedInTariff ${min} is above gridPurchasePrice − overGridFee ${max}: no unit price leaves both parties' losses non-negative`,
    );
  }
}

function validateRound(round: RoundInput): { max: number; nodes: Map<string, RoundNode>; contractIds: string[] } {
  if (typeof round !== 'object' || round === null) throw new InvalidRoundError('the round must be an object');
  validatePrices(round.prices);
  const max = round.maxCreditWeight ?? DEFAULT_MAX_CREDIT_WEIGHT;
  if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0) {
    throw new InvalidRoundError(`maxCreditWeight must be a finite number > 0, got ${String(max)}`);
  }
  if (!Array.isArray(round.nodes)) throw new InvalidRoundError('nodes must be an array');
  if (!Array.isArray(round.contracts)) throw new InvalidRoundError('contracts must be an array');
  const nodes = new Map<string, RoundNode>();
  for (const [position, node] of round.nodes.entries()) {
    if (typeof node !== 'object' || node === null) throw new InvalidRoundError(`nodes[${position}] must be an object`);
    if (typeof node.id !== 'string' || node.id.length === 0) throw new InvalidRoundError(`nodes[${position}].id must be a non-empty string`);
    if (nodes.has(node.id)) throw new InvalidRoundError(`node ${node.id} appears twice`);
    if (node.kind !== 'generation' && node.kind !== 'consumption') {
      throw new InvalidRoundError(`node ${node.id}: kind must be 'generation' or 'consumption', got ${String(node.kind)}`);
    }
    const weight = node.creditWeight;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > max) {
      throw new InvalidQuantityError(`node ${node.id}: creditWeight must be a finite number in [0, ${max}], got ${String(weight)}`);
    }
    nodes.set(node.id, node);
  }
  const { min: minPrice, max: maxPrice } = fairPriceRange(round.prices);
  const contractIds: string[] = [];
  const seen = new Set<string>();
  for (const [position, contract] of round.contracts.entries()) {
    if (typeof contract !== 'object' || contract === null) throw new InvalidRoundError(`contracts[${position}] must be an object`);
    const id = contract.id ?? `#${position}`;
    if (typeof id !== 'string' || seen.has(id)) throw new InvalidRoundError(`contracts[${position}]: id ${String(id)} is not a unique string`);
    seen.add(id);
    contractIds.push(id);
    const generator = nodes.get(contract.generator);
    if (!generator) throw new UnknownNodeError(String(contract.generator));
    const consumer = nodes.get(contract.consumer);
    if (!consumer) throw new UnknownNodeError(String(contract.consumer));
    if (generator.kind !== 'generation') throw new InvalidCounterpartyError(`contract ${id}: generator ${generator.id} is a consumption node`);
    if (consumer.kind !== 'consumption') throw new InvalidCounterpartyError(`contract ${id}: consumer ${consumer.id} is a generation node`);
    const price = contract.unitPrice;
    if (typeof price !== 'number' || !Number.isFinite(price)) throw new InvalidQuantityError(`contract ${id}: unitPrice must be a finite number, got ${String(price)}`);
    if (price < minPrice || price > maxPrice) throw new PriceOutOfRangeError(price, minPrice, maxPrice);
    requireQuantity(`contract ${id}: contractedKWh`, contract.contractedKWh, true);
    requireQuantity(`contract ${id}: generatedKWh`, contract.generatedKWh);
    requireQuantity(`contract ${id}: consumedKWh`, contract.consumedKWh);
  }
  return { max, nodes, contractIds };
}

interface MutableNodeTotals {
  contractedKWh: number;
  actualKWh: number;
  revenueOrExpense: number;
  gridRevenue: number;
  penalty: number;
  compensation: number;
  allocation: number;
  balanceChange: number;
}

/**
 * Settles one trading round: revenues and expenses (eq. 26–31, with eq. 26's sign corrected),
 * credit weights (eq. 14–17), penalties of defaulting nodes (eq. 32–33), compensation of their
 * counterparties, and the allocation of the rest to the other nodes by credit weight (eq. 34).
 *
 * A node's credit weight moves once per round, from its total contracted and actual volumes
 * over all its contracts; each contract it defaulted on is penalised with that round's ΔW_a.
 * Money is in integer milli-yuan and conserved exactly (see the rounding rule in the docs).
 * Pure and deterministic: the power-market state machine and the CLI both call it.
 *
 * @throws {@link InvalidRoundError}, {@link UnknownNodeError}, {@link InvalidCounterpartyError},
 *   {@link InvalidQuantityError} or {@link PriceOutOfRangeError} on bad input.
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
  const { max, nodes, contractIds } = validateRound(round);
  const { feedInTariff: S, gridPurchasePrice: B, overGridFee: G } = round.prices;
  const params = { maxCreditWeight: max };

  const totals = new Map<string, MutableNodeTotals>();
  for (const id of nodes.keys()) {
    totals.set(id, { contractedKWh: 0, actualKWh: 0, revenueOrExpense: 0, gridRevenue: 0, penalty: 0, compensation: 0, allocation: 0, balanceChange: 0 });
  }
  const totalOf = (id: string): MutableNodeTotals => totals.get(id)!;

  // eq. 15: Σ E_c counts each contract once.
  let totalContractedKWh = 0;
  for (const contract of round.contracts) {
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

  let gridBalanceChange = 0;
  const contracts: ContractSettlement[] = [];
  for (const [position, contract] of round.contracts.entries()) {
    const { generator, consumer, unitPrice: U, contractedKWh: Ce, generatedKWh: Ef, consumedKWh: Ey } = contract;
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
      const shares = [...nodes.keys()]
        .filter((id) => id !== generator && id !== consumer)
        .map((id) => [id, creditAfter.get(id)!] as const);
      const allocation = allocateProportionally(allocatedToOthers, shares);
      if (allocation === undefined) gridBalanceChange += allocatedToOthers;
      else {
        for (const [id, amount] of allocation) {
          totalOf(id).allocation += amount;
          totalOf(id).balanceChange += amount;
        }
      }
    }

    contracts.push({
      id: contractIds[position]!,
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

  const nodeResults: NodeSettlement[] = [...nodes.values()].map((node) => {
    const t = totalOf(node.id);
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
      allocation: t.allocation,
      balanceChange: t.balanceChange,
    };
  });
  return { nodes: nodeResults, contracts, totalContractedKWh, gridBalanceChange };
}
