import { describe, expect, it } from 'vitest';
import { PAPER_CONSENSUS_CHECKPOINTS, consensusCheckpoints, consensusTotals, creditTrajectories, electionTables, settlementTables } from './tables.js';

describe('the tables of the reproduction', () => {
  it('Tables 1–2 split the 30 nodes into generators and consumers, with Table 1’s columns', () => {
    const { generation, consumption } = settlementTables();
    expect(generation.map((row) => row.node)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(consumption.map((row) => row.node)).toEqual(Array.from({ length: 15 }, (_, i) => i + 16));
    // Node 2 of Table 1: 200 kWh at 0.63 for node 17, 121.40 yuan (eq. 26 corrected), grid −0.80.
    expect(generation[1]).toMatchObject({ counterparty: 17, unitPrice: 0.63, contractedKWh: 200, actualKWh: 200, revenueOrExpense: 121.4, gridRevenue: -0.8 });
  });

  it('Tables 3–4 list nodes 1–15 and 16–30 with both policies’ counts', () => {
    const counts = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [String(i + 1), i]));
    const { generation, consumption } = electionTables(counts, { ...counts, '1': 99 });
    expect(generation[0]).toEqual({ node: 1, classic: 0, weighted: 99 });
    expect(consumption[14]).toEqual({ node: 30, classic: 29, weighted: 29 });
  });

  it('Tables 5–7 are cumulative sums at the paper’s checkpoints, and at the run’s last round', () => {
    expect(consensusCheckpoints(200)).toEqual([...PAPER_CONSENSUS_CHECKPOINTS]);
    expect(consensusCheckpoints(60)).toEqual([10, 20, 50, 60]);
    expect(consensusCheckpoints(5)).toEqual([5]);
    const rows = consensusTotals(Array(20).fill(2.5), Array.from({ length: 20 }, (_, i) => (i < 10 ? 2.5 : 2)));
    expect(rows).toEqual([
      { consensus: 10, beforeMs: 25, afterMs: 25, gainPct: 0 },
      { consensus: 20, beforeMs: 50, afterMs: 45, gainPct: 10 },
    ]);
  });

  it('Figure 8: node A climbs from 0 and node B falls from 100, settled round by round', () => {
    const { compliant, defaulter } = creditTrajectories(90);
    // Round 1, eq. 15: A earns (100 − 0) · 60 / 2310; eq. 17: B loses 10 % of 100.
    expect(compliant[0]).toBeCloseTo((100 * 60) / 2310, 3);
    expect(defaulter[0]).toBeCloseTo(90, 3);
    // eq. 24 at round 30: every weight is multiplied by e^−0.05 after the round.
    expect(defaulter[29]).toBeCloseTo(100 * 0.9 ** 30 * Math.exp(-0.05), 3);
    expect(defaulter[89]).toBeLessThan(0.01);
    expect(compliant[89]).toBeGreaterThan(80);
  });
});
