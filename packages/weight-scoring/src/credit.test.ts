import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GreenraftError } from '@greenraft/consensus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  contractPerformed,
  creditPenaltyDelta,
  creditRewardDelta,
  creditWeightAfterRound,
} from './credit.js';
import { InvalidScoreInputError, ScoringError } from './errors.js';

interface PaperTables {
  tolerance: number;
  creditWeightMax: number;
  nodes: { id: number; kind: 'generation' | 'consumption'; creditWeightBefore: number }[];
  contracts: { generator: number; consumer: number; contractedKWh: number; actualGeneratedKWh: number; actualConsumedKWh: number }[];
  expected: { id: number; creditWeightAfter: number }[];
}

// The paper's Tables 1 and 2, copied into fixtures/paper with their source and licence.
const FIXTURE = fileURLToPath(new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url));
if (!existsSync(FIXTURE)) throw new Error(`paper fixture not found at ${FIXTURE}`);
const tables = JSON.parse(readFileSync(FIXTURE, 'utf8')) as PaperTables;

describe('creditWeightAfterRound against the paper\'s Tables 1 and 2', () => {
  const totalContracted = tables.contracts.reduce((sum, contract) => sum + contract.contractedKWh, 0);

  it('uses the round\'s total contracted volume, 2310 kWh', () => {
    expect(totalContracted).toBe(2310);
  });

  const rows = tables.contracts.flatMap((contract) => [
    { id: contract.generator, contracted: contract.contractedKWh, actual: contract.actualGeneratedKWh },
    { id: contract.consumer, contracted: contract.contractedKWh, actual: contract.actualConsumedKWh },
  ]);

  it('covers all 30 nodes', () => {
    expect(new Set(rows.map((row) => row.id)).size).toBe(30);
  });

  it.each(rows)('node $id: contracted $contracted, actual $actual', ({ id, contracted, actual }) => {
    const before = tables.nodes.find((node) => node.id === id)!.creditWeightBefore;
    const expected = tables.expected.find((row) => row.id === id)!.creditWeightAfter;
    const after = creditWeightAfterRound(
      { creditWeight: before, contracted, actual, totalContracted },
      { maxCreditWeight: tables.creditWeightMax },
    );
    expect(Math.abs(after - expected)).toBeLessThanOrEqual(tables.tolerance);
  });
});

describe('credit reward and penalty (eq. 14–17)', () => {
  it('rewards over-consumption: node 26 consumed 80 of 60 kWh', () => {
    expect(contractPerformed({ contracted: 60, actual: 80 })).toBe(true);
    const input = { creditWeight: 65.05, contracted: 60, actual: 80, totalContracted: 2310 };
    expect(creditRewardDelta(input)).toBeCloseTo((100 - 65.05) * (60 / 2310), 12);
    expect(creditPenaltyDelta(input)).toBe(0);
  });

  it('gives the penalty ΔW_a used by eq. 33: node 17 loses 9.56', () => {
    const input = { creditWeight: 95.6, contracted: 200, actual: 180, totalContracted: 2310 };
    expect(creditPenaltyDelta(input)).toBeCloseTo(9.56, 10);
    expect(creditRewardDelta(input)).toBe(0);
    expect(creditWeightAfterRound(input)).toBeCloseTo(86.04, 10);
  });

  it('takes everything from a node that delivered nothing', () => {
    expect(creditWeightAfterRound({ creditWeight: 40, contracted: 100, actual: 0, totalContracted: 500 })).toBe(0);
  });

  it('leaves a node without a contract unchanged, even in an empty round', () => {
    expect(creditWeightAfterRound({ creditWeight: 40, contracted: 0, actual: 0, totalContracted: 500 })).toBe(40);
    expect(creditWeightAfterRound({ creditWeight: 40, contracted: 0, actual: 5, totalContracted: 0 })).toBe(40);
  });

  it('reaches the maximum when a node holds the whole round', () => {
    expect(creditWeightAfterRound({ creditWeight: 40, contracted: 100, actual: 100, totalContracted: 100 })).toBe(100);
    expect(creditWeightAfterRound({ creditWeight: 4, contracted: 10, actual: 10, totalContracted: 10 }, { maxCreditWeight: 10 })).toBe(10);
  });

  it('stays within [0, max] and moves in the right direction for any valid round', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (creditWeight, contracted, actual, extra) => {
          const after = creditWeightAfterRound({ creditWeight, contracted, actual, totalContracted: contracted + extra });
          expect(after).toBeGreaterThanOrEqual(0);
          expect(after).toBeLessThanOrEqual(100);
          if (actual >= contracted) expect(after).toBeGreaterThanOrEqual(creditWeight);
          else expect(after).toBeLessThanOrEqual(creditWeight);
        },
      ),
    );
  });

  it.each([
    [{ creditWeight: -1, contracted: 1, actual: 1, totalContracted: 1 }],
    [{ creditWeight: 101, contracted: 1, actual: 1, totalContracted: 1 }],
    [{ creditWeight: Number.NaN, contracted: 1, actual: 1, totalContracted: 1 }],
    [{ creditWeight: 50, contracted: Number.POSITIVE_INFINITY, actual: 1, totalContracted: 1 }],
    [{ creditWeight: 50, contracted: 1, actual: -2, totalContracted: 1 }],
    [{ creditWeight: 50, contracted: 10, actual: 10, totalContracted: 5 }],
  ])('rejects %o with a typed error', (input) => {
    expect(() => creditWeightAfterRound(input)).toThrow(InvalidScoreInputError);
    try {
      creditWeightAfterRound(input);
    } catch (err) {
      expect(err).toBeInstanceOf(ScoringError);
      expect(err).toBeInstanceOf(GreenraftError);
      expect((err as ScoringError).code).toBe('INVALID_SCORE_INPUT');
      expect((err as Error).name).toBe('InvalidScoreInputError');
    }
  });

  it('rejects a non-positive maximum', () => {
    expect(() => creditWeightAfterRound({ creditWeight: 0, contracted: 1, actual: 1, totalContracted: 1 }, { maxCreditWeight: 0 })).toThrow(
      InvalidScoreInputError,
    );
  });
});
