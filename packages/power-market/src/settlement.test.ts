import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidCounterpartyError,
  InvalidQuantityError,
  InvalidRoundError,
  PriceOutOfRangeError,
  UnknownNodeError,
} from './errors.js';
import { toYuan } from './money.js';
import { parseRoundDocument } from './round-document.js';
import { type NodeSettlement, PAPER_PRICES, type RoundInput, settleRound } from './settlement.js';

// The paper's Tables 1 and 2, copied into fixtures/paper with their source and licence.
const FIXTURE = fileURLToPath(new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url));
if (!existsSync(FIXTURE)) throw new Error(`paper fixture not found at ${FIXTURE}`);

interface ExpectedRow {
  id: number;
  revenueOrExpense: number;
  gridRevenue: number;
  creditWeightAfter: number;
  penalty: number;
  allocation: number;
}

function byId(nodes: readonly NodeSettlement[]): Map<string, NodeSettlement> {
  return new Map(nodes.map((node) => [node.id, node]));
}

describe('settleRound on the paper’s Tables 1 and 2', () => {
  const document = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { expected: ExpectedRow[]; tolerance: number };
  const { round } = parseRoundDocument(document);
  const result = byId(settleRound(round).nodes);

  it('has all 30 rows', () => {
    expect(document.expected).toHaveLength(30);
    expect(result.size).toBe(30);
  });

  it.each(document.expected.map((row) => [row.id, row] as const))('node %i matches within 0.01', (_id, row) => {
    const node = result.get(String(row.id))!;
    expect(Math.abs(toYuan(node.revenueOrExpense) - row.revenueOrExpense)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(toYuan(node.gridRevenue) - row.gridRevenue)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(node.creditWeightAfter - row.creditWeightAfter)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(toYuan(node.penalty) - row.penalty)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(toYuan(node.allocation) - row.allocation)).toBeLessThanOrEqual(0.01);
  });

  it('compensates the performing generators of the defaulting consumers 17 and 29', () => {
    // Node 2 sold 20 kWh at S instead of U: (0.63 − 0.40) · 20 = 4.60; node 14: (0.66 − 0.40) · 10 = 2.60.
    expect(result.get('2')!.compensation).toBe(4600);
    expect(result.get('14')!.compensation).toBe(2600);
  });
});

describe('settleRound computed by hand', () => {
  const prices = PAPER_PRICES; // S = 0.40, B = 0.75, G = 0.04

  it('a generator default: the consumer is compensated, the rest goes to the other nodes by weight', () => {
    const round: RoundInput = {
      prices,
      nodes: [
        { id: 'g1', kind: 'generation', creditWeight: 80 },
        { id: 'c1', kind: 'consumption', creditWeight: 60 },
        { id: 'g2', kind: 'generation', creditWeight: 50 },
        { id: 'c2', kind: 'consumption', creditWeight: 40 },
      ],
      contracts: [
        { id: 'A', generator: 'g1', consumer: 'c1', unitPrice: 0.6, contractedKWh: 100, generatedKWh: 80, consumedKWh: 100 },
        { id: 'B', generator: 'g2', consumer: 'c2', unitPrice: 0.5, contractedKWh: 50, generatedKWh: 50, consumedKWh: 50 },
      ],
    };
    const settlement = settleRound(round);
    const nodes = byId(settlement.nodes);
    expect(settlement.totalContractedKWh).toBe(150);
    // Contract A, E_af = 80 < E_ay = 100: eq. 29 V_f = 80 · 0.60 = 48.00;
    // eq. 30 V_y = 80 · (0.60 + 0.04) + 20 · 0.75 = 51.20 + 15.00 = 66.20; eq. 31 V_g = 3.20 + 15.00 = 18.20.
    const a = settlement.contracts[0]!;
    expect([a.generatorRevenue, a.consumerExpense, a.gridRevenue]).toEqual([48_000, 66_200, 18_200]);
    // eq. 17: g1 delivered 80 of 100, ΔW = 80 · 20 / 100 = 16, so W = 64.
    expect(nodes.get('g1')!.creditPenaltyDelta).toBeCloseTo(16, 10);
    expect(nodes.get('g1')!.creditWeightAfter).toBeCloseTo(64, 10);
    // eq. 15: c1 performed, W = 60 + (100 − 60) · 100 / 150 = 86.667.
    expect(nodes.get('c1')!.creditWeightAfter).toBeCloseTo(60 + 40 * (100 / 150), 10);
    // eq. 32: M_f = (0.75 − 0.60 − 0.04) · 20 · (1 + 16) = 0.11 · 20 · 17 = 37.40; c1's loss 0.11 · 20 = 2.20.
    expect(a.generatorPenalty).toBe(37_400);
    expect(a.compensationToConsumer).toBe(2_200);
    expect(a.allocatedToOthers).toBe(35_200);
    // Contract B performs: V_f = 25.00, V_y = 50 · 0.54 = 27.00, V_g = 2.00.
    // g2: 50 + 50 · 50 / 150 = 66.667; c2: 40 + 60 · 50 / 150 = 60.
    // eq. 34: F_w = 35.20 split 66.667 : 60 → 18.526316 and 16.673684 yuan; largest remainder gives c2 the odd milli-yuan.
    expect(nodes.get('g2')!.allocation).toBe(18_526);
    expect(nodes.get('c2')!.allocation).toBe(16_674);
    expect(nodes.get('g1')!.balanceChange).toBe(48_000 - 37_400);
    expect(nodes.get('c1')!.balanceChange).toBe(-66_200 + 2_200);
    expect(nodes.get('g2')!.balanceChange).toBe(25_000 + 18_526);
    expect(nodes.get('c2')!.balanceChange).toBe(-27_000 + 16_674);
    expect(settlement.gridBalanceChange).toBe(18_200 + 2_000);
  });

  it('a double default: ε = 0 and both penalties go to the other n − 2 nodes', () => {
    const settlement = settleRound({
      prices,
      nodes: [
        { id: 'g1', kind: 'generation', creditWeight: 80 },
        { id: 'c1', kind: 'consumption', creditWeight: 60 },
        { id: 'g2', kind: 'generation', creditWeight: 50 },
        { id: 'c2', kind: 'consumption', creditWeight: 30 },
      ],
      contracts: [{ generator: 'g1', consumer: 'c1', unitPrice: 0.6, contractedKWh: 100, generatedKWh: 90, consumedKWh: 70 }],
    });
    const nodes = byId(settlement.nodes);
    const contract = settlement.contracts[0]!;
    expect(contract.id).toBe('#0');
    // E_af = 90 ≥ E_ay = 70: eq. 26 (corrected) V_f = 70 · 0.60 + 20 · 0.40 = 50.00; eq. 27 V_y = 70 · 0.64 = 44.80;
    // V_g = 44.80 − 50.00 = −5.20.
    expect([contract.generatorRevenue, contract.consumerExpense, contract.gridRevenue]).toEqual([50_000, 44_800, -5_200]);
    // eq. 17: ΔW_f = 80 · 10 / 100 = 8; ΔW_y = 60 · 30 / 100 = 18.
    expect(nodes.get('g1')!.creditWeightAfter).toBeCloseTo(72, 10);
    expect(nodes.get('c1')!.creditWeightAfter).toBeCloseTo(42, 10);
    // eq. 32 with ε = 0: M_f = 0.11 · 10 · 8 = 8.80; eq. 33: M_y = 0.20 · 30 · 18 = 108.00. No compensation.
    expect(contract.generatorPenalty).toBe(8_800);
    expect(contract.consumerPenalty).toBe(108_000);
    expect(contract.compensationToConsumer + contract.compensationToGenerator).toBe(0);
    // eq. 34: 116.80 split 50 : 30 (the bystanders keep their weights) → 73.00 and 43.80.
    expect(nodes.get('g2')!.allocation).toBe(73_000);
    expect(nodes.get('c2')!.allocation).toBe(43_800);
    expect(nodes.get('g2')!.creditWeightAfter).toBe(50);
    expect(nodes.get('g1')!.balanceChange).toBe(50_000 - 8_800);
    expect(nodes.get('c1')!.balanceChange).toBe(-44_800 - 108_000);
    expect(settlement.gridBalanceChange).toBe(-5_200);
  });

  it('a node with several contracts: credit moves once on its totals, each defaulted contract is penalised', () => {
    const settlement = settleRound({
      prices,
      nodes: [
        { id: 'g1', kind: 'generation', creditWeight: 80 },
        { id: 'c1', kind: 'consumption', creditWeight: 60 },
        { id: 'c2', kind: 'consumption', creditWeight: 40 },
        { id: 'g2', kind: 'generation', creditWeight: 50 },
      ],
      contracts: [
        { generator: 'g1', consumer: 'c1', unitPrice: 0.6, contractedKWh: 100, generatedKWh: 100, consumedKWh: 100 },
        { generator: 'g1', consumer: 'c2', unitPrice: 0.5, contractedKWh: 50, generatedKWh: 30, consumedKWh: 50 },
      ],
    });
    const nodes = byId(settlement.nodes);
    const g1 = nodes.get('g1')!;
    // g1 contracted 150 and delivered 130: eq. 17 ΔW = 80 · 20 / 150 = 10.667, W = 69.333.
    expect(g1.contractedKWh).toBe(150);
    expect(g1.actualKWh).toBe(130);
    expect(g1.creditWeightAfter).toBeCloseTo(80 - 80 * (20 / 150), 10);
    // Revenue: contract 1 100 · 0.60 = 60.00; contract 2 (E_af < E_ay) 30 · 0.50 = 15.00; total 75.00.
    expect(g1.revenueOrExpense).toBe(75_000);
    // Contract 2: eq. 32 M_f = (0.75 − 0.50 − 0.04) · 20 · (1 + 10.667) = 4.20 · 11.667 = 49.00; c2 is owed 4.20.
    const second = settlement.contracts[1]!;
    expect(second.generatorPenalty).toBe(49_000);
    expect(second.compensationToConsumer).toBe(4_200);
    // F_w = 44.80 to c1 (60 + 40 · 100/150 = 86.667) and g2 (50, no contract): 28.40976 and 16.39024.
    expect(nodes.get('c1')!.allocation).toBe(28_410);
    expect(nodes.get('g2')!.allocation).toBe(16_390);
    expect(nodes.get('c2')!.allocation).toBe(0);
    // c2: V_y = 30 · 0.54 + 20 · 0.75 = 31.20, less compensation 4.20.
    expect(nodes.get('c2')!.balanceChange).toBe(-31_200 + 4_200);
    expect(g1.balanceChange).toBe(75_000 - 49_000);
    // Grid: 4.00 on contract 1, 1.20 + 15.00 on contract 2.
    expect(settlement.gridBalanceChange).toBe(20_200);
  });

  it('gives an allocation nobody can receive to the grid', () => {
    const settlement = settleRound({
      prices,
      nodes: [
        { id: 'g', kind: 'generation', creditWeight: 50 },
        { id: 'c', kind: 'consumption', creditWeight: 50 },
      ],
      contracts: [{ generator: 'g', consumer: 'c', unitPrice: 0.5, contractedKWh: 10, generatedKWh: 10, consumedKWh: 5 }],
    });
    const contract = settlement.contracts[0]!;
    // M_y = 0.10 · 5 · (1 + 25) = 13.00; compensation 0.50; F_w = 12.50 has no recipient.
    expect(contract.consumerPenalty).toBe(13_000);
    expect(contract.allocatedToOthers).toBe(12_500);
    expect(settlement.gridBalanceChange).toBe(contract.gridRevenue + 12_500);
  });
});

describe('settleRound refuses bad rounds', () => {
  const nodes = [
    { id: 'g', kind: 'generation', creditWeight: 50 },
    { id: 'g2', kind: 'generation', creditWeight: 50 },
    { id: 'c', kind: 'consumption', creditWeight: 50 },
  ] as const;
  const contract = { generator: 'g', consumer: 'c', unitPrice: 0.5, contractedKWh: 10, generatedKWh: 10, consumedKWh: 10 };
  const cases: [string, RoundInput, new (...args: never[]) => Error][] = [
    ['an unknown node', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, consumer: 'x' }] }, UnknownNodeError],
    ['two generators', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, consumer: 'g2' }] }, InvalidCounterpartyError],
    ['a negative volume', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, consumedKWh: -1 }] }, InvalidQuantityError],
    ['a NaN volume', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, generatedKWh: Number.NaN }] }, InvalidQuantityError],
    ['a zero contract', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, contractedKWh: 0 }] }, InvalidQuantityError],
    ['a price above B − G', { prices: PAPER_PRICES, nodes, contracts: [{ ...contract, unitPrice: 0.72 }] }, PriceOutOfRangeError],
    ['duplicate node ids', { prices: PAPER_PRICES, nodes: [...nodes, nodes[0]], contracts: [] }, InvalidRoundError],
    ['a credit weight above 100', { prices: PAPER_PRICES, nodes: [{ id: 'g', kind: 'generation', creditWeight: 101 }], contracts: [] }, InvalidQuantityError],
  ];
  it.each(cases)('%s', (_name, round, errorClass) => {
    expect(() => settleRound(round)).toThrow(errorClass);
  });
});

describe('settleRound conserves money', () => {
  const roundArbitrary = fc
    .record({
      generators: fc.integer({ min: 1, max: 5 }),
      consumers: fc.integer({ min: 1, max: 5 }),
      weights: fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 10, maxLength: 10 }),
      contracts: fc.array(
        fc.record({
          generator: fc.nat(),
          consumer: fc.nat(),
          priceFraction: fc.double({ min: 0, max: 1, noNaN: true }),
          contracted: fc.integer({ min: 1, max: 2000 }),
          generatedFraction: fc.double({ min: 0, max: 1.5, noNaN: true }),
          consumedFraction: fc.double({ min: 0, max: 1.5, noNaN: true }),
        }),
        { minLength: 1, maxLength: 12 },
      ),
    })
    .map(({ generators, consumers, weights, contracts }): RoundInput => {
      const gens = Array.from({ length: generators }, (_, i) => ({ id: `g${i}`, kind: 'generation' as const, creditWeight: weights[i]! }));
      const cons = Array.from({ length: consumers }, (_, i) => ({ id: `c${i}`, kind: 'consumption' as const, creditWeight: weights[5 + i]! }));
      return {
        prices: PAPER_PRICES,
        nodes: [...gens, ...cons],
        contracts: contracts.map((c) => ({
          generator: gens[c.generator % generators]!.id,
          consumer: cons[c.consumer % consumers]!.id,
          unitPrice: 0.4 + 0.31 * c.priceFraction,
          contractedKWh: c.contracted,
          generatedKWh: Math.round(c.contracted * c.generatedFraction * 10) / 10,
          consumedKWh: Math.round(c.contracted * c.consumedFraction * 10) / 10,
        })),
      };
    });

  it('every balance change, grid included, sums to exactly zero', () => {
    fc.assert(
      fc.property(roundArbitrary, (round) => {
        const settlement = settleRound(round);
        const sum = settlement.nodes.reduce((total, node) => total + node.balanceChange, settlement.gridBalanceChange);
        expect(sum).toBe(0);
        for (const node of settlement.nodes) {
          expect(Number.isSafeInteger(node.balanceChange)).toBe(true);
          expect(node.creditWeightAfter).toBeGreaterThanOrEqual(0);
          expect(node.creditWeightAfter).toBeLessThanOrEqual(100);
        }
        const allocated = settlement.nodes.reduce((total, node) => total + node.allocation, 0);
        const owed = settlement.contracts.reduce((total, c) => total + c.allocatedToOthers, 0);
        expect(allocated).toBeLessThanOrEqual(owed);
      }),
      { numRuns: 300 },
    );
  });
});
