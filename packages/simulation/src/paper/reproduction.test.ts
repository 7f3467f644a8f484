import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type NodeId } from '@greenraft/consensus';
import { PAPER_CONSENSUS_TIME_PARAMETERS } from '@greenraft/weight-scoring';
import { beforeAll, describe, expect, it } from 'vitest';
import { PAPER_CARBON_CYCLE, paperMarketScript } from '../scenario-paper-elections.js';
import { runConsensusScenario } from './consensus-time.js';
import { linkLatencies, resolveLatencyModel } from './latency.js';
import { deriveSeed } from '../random.js';
import { type PaperReproduction, paperReproduction } from './reproduction.js';
import { boundedTotal, classicConstant, fallingTowardsZero, fluctuatingAndFalling, gainsGrow, risingSlowingWithRipples } from './shapes.test-support.js';
import { consensusTotals } from './tables.js';

// A short run: 80 trading rounds per scenario (the paper runs 200), 60 elections per policy.
const ROUNDS = 80;
const ELECTIONS = 60;
let paper: PaperReproduction;

beforeAll(async () => {
  paper = await paperReproduction({ rounds: ROUNDS, elections: ELECTIONS });
});

interface FixtureRow {
  id: number;
  revenueOrExpense: number;
  gridRevenue: number;
  creditWeightAfter: number;
  penalty: number;
  allocation: number;
}

describe('paperReproduction: the paper’s §5 on a short run', () => {
  it('Tables 1–2 are the paper’s, within 0.01 (fixtures/paper)', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../../../fixtures/paper/paper-tables-1-2.json', import.meta.url), 'utf8')) as { expected: FixtureRow[] };
    const rows = [...paper.tables['1'], ...paper.tables['2']];
    expect(rows.map((row) => row.node)).toEqual(fixture.expected.map((row) => row.id));
    for (const [i, expected] of fixture.expected.entries()) {
      for (const key of ['revenueOrExpense', 'gridRevenue', 'creditWeightAfter', 'penalty', 'allocation'] as const) {
        expect(Math.abs(rows[i]![key] - expected[key]), `node ${expected.id} ${key}`).toBeLessThanOrEqual(0.01);
      }
    }
    // The columns the paper prints beside them: node 17 took 180 of 200 kWh from node 2 at 0.63.
    expect(paper.tables['2'][1]).toMatchObject({ node: 17, counterparty: 2, unitPrice: 0.63, contractedKWh: 200, actualKWh: 180 });
  });

  it('Tables 3–4: classic Raft spreads leadership, weighted Raft concentrates it on the heaviest', () => {
    const rows = [...paper.tables['3'], ...paper.tables['4']];
    expect(rows.map((row) => row.node)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const total = (key: 'classic' | 'weighted') => rows.reduce((sum, row) => sum + row[key], 0);
    expect([total('classic'), total('weighted')]).toEqual([ELECTIONS, ELECTIONS]);
    expect(Math.max(...rows.map((row) => row.classic))).toBeLessThanOrEqual(ELECTIONS * 0.25);
    expect(rows.filter((row) => row.classic > 0).length).toBeGreaterThanOrEqual(15);
    const top3 = rows.map((row) => row.weighted).sort((a, b) => b - a).slice(0, 3);
    expect(top3.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(ELECTIONS * 0.8);
    // The heaviest are generators with renewables and large, honoured contracts; defaulters never lead.
    const winners = rows.filter((row) => row.weighted > 0).map((row) => row.node);
    expect(winners.every((node) => [1, 2, 5].includes(node))).toBe(true);
    expect(rows[16]!.weighted + rows[28]!.weighted).toBe(0);
  });

  it('Figures 1–3: classic Raft’s time is constant while its leader holds; weighted Raft’s fluctuates and falls', () => {
    expect(paper.scenarios.map((s) => s.leader)).toEqual(['1', '2', '5']);
    for (const scenario of paper.scenarios) {
      expect(scenario.classicMs).toHaveLength(ROUNDS);
      expect(classicConstant(scenario.classicMs), `scenario ${scenario.scenario}`).toBeUndefined();
      expect(fluctuatingAndFalling(scenario.weightedMs), `scenario ${scenario.scenario}`).toBeUndefined();
      // About the paper's 2.5 ms: the quorum-completing follower of 30 is the median one.
      expect(scenario.classicMs[0]).toBeGreaterThan(1.5);
      expect(scenario.classicMs[0]).toBeLessThan(3.5);
      // Classic quorums are a majority (16 of 30); weighted ones shrink as the fast nodes gain weight.
      expect(scenario.classicQuorumSize).toBe(16);
      expect(scenario.weightedQuorumSize.at(-1)).toBeLessThan(16);
    }
  });

  it('Figures 4–6, Tables 5–7: the gains grow with the rounds, to several percent', () => {
    for (const key of ['5', '6', '7'] as const) {
      const rows = paper.tables[key];
      expect(rows.map((row) => row.consensus)).toEqual([10, 20, 50, ROUNDS]);
      expect(Object.keys(rows[0]!)).toEqual(['consensus', 'beforeMs', 'afterMs', 'gainPct']);
      expect(gainsGrow(rows), `Table ${key}`).toBeUndefined();
    }
    const finalGains = (['5', '6', '7'] as const).map((key) => paper.tables[key].at(-1)!.gainPct);
    expect(finalGains.reduce((sum, gain) => sum + gain, 0) / 3).toBeGreaterThanOrEqual(3);
    // The totals are sums of the measured single consensus times, nothing else.
    const s1 = paper.scenarios[0]!;
    expect(paper.tables['5']).toEqual(consensusTotals(s1.classicMs, s1.weightedMs));
    expect(paper.figures.find((f) => f.id === 'figure-4')!.points.filter((p) => p.series === 'weighted Raft').map((p) => p.y)).toEqual(
      paper.tables['5'].map((row) => row.afterMs),
    );
  });

  it('Figures 7–8: credit weights rise at a slowing rate with decay ripples; a defaulter falls towards 0', () => {
    const credit = paper.weights.credit;
    for (const node of ['1', '27']) expect(risingSlowingWithRipples(credit[node]!), `node ${node}`).toBeUndefined();
    // Node 17 defaults in half the rounds: it ends lower than node 1, and falls in more rounds.
    const falls = (series: readonly number[]) => series.filter((value, i) => i > 0 && value < series[i - 1]!).length;
    expect(credit['17']!.at(-1)!).toBeLessThan(credit['1']!.at(-1)!);
    expect(falls(credit['17']!)).toBeGreaterThan(falls(credit['1']!));
    const figure8 = paper.figures.find((f) => f.id === 'figure-8')!;
    const series = (name: string) => figure8.points.filter((p) => p.series === name).map((p) => p.y);
    expect(series('node A')[0]).toBeGreaterThan(0);
    expect(risingSlowingWithRipples(series('node A'))).toBeUndefined();
    expect(series('node B')[0]).toBeLessThan(100);
    expect(fallingTowardsZero(series('node B'))).toBeUndefined();
  });

  it('Figures 9–10: certificates move from sellers 1 and 3 to buyers 16 and 25; total weights stay bounded', () => {
    const certificates = paper.weights.greenCertificates;
    const firstPositive = (id: NodeId) => certificates[id]!.findIndex((value) => value > 0);
    // Node 1 earns a certificate among the first; the buyers hold none until they buy.
    expect(firstPositive('1')).toBeGreaterThanOrEqual(0);
    expect(firstPositive('1')).toBeLessThanOrEqual(firstPositive('3'));
    for (const buyer of ['16', '25']) {
      expect(certificates[buyer]![0]).toBe(0);
      expect(firstPositive(buyer)).toBeGreaterThan(firstPositive('1'));
    }
    for (const [node, series] of Object.entries(paper.weights.total)) expect(boundedTotal(series), `node ${node}`).toBeUndefined();
  });

  it('lists Figures 1–10 in order, each with data for every series it names', () => {
    expect(paper.figures.map((figure) => figure.id)).toEqual(Array.from({ length: 10 }, (_, i) => `figure-${i + 1}`));
    for (const figure of paper.figures) {
      expect(figure.number).toBe(Number(figure.id.slice('figure-'.length)));
      for (const name of figure.series) expect(figure.points.some((point) => point.series === name), `${figure.id} ${name}`).toBe(true);
    }
  });

  it('is deterministic: the same seed gives the same bytes, another seed other figures', async () => {
    const short = { rounds: 12, elections: 6 };
    const first = JSON.stringify(await paperReproduction(short));
    expect(JSON.stringify(await paperReproduction(short))).toBe(first);
    expect(JSON.stringify(await paperReproduction({ ...short, seed: 2 }))).not.toBe(first);
  });

  it('rejects bad options with a typed error', async () => {
    await expect(paperReproduction({ rounds: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(paperReproduction({ seed: -1 })).rejects.toThrow(/seed/);
    await expect(paperReproduction({ studies: ['bogus' as never] })).rejects.toThrow(/unknown study 'bogus'/);
    await expect(paperReproduction({ latency: { spread: -1 } })).rejects.toThrow(/spread/);
  });
});

describe('the shape checks can fail', () => {
  it('on weights that never reach the engine: the weighted time then neither falls nor fluctuates', async () => {
    const script = paperMarketScript(1);
    const ids = script.roster.nodes.map((node) => node.id);
    const latencies = linkLatencies(ids, deriveSeed(1, 21), resolveLatencyModel());
    // The bug: weights computed but never applied (no epoch within the run).
    const stuck = await runConsensusScenario({
      script,
      seed: 1,
      latencies,
      leader: '1',
      scoring: 'paper',
      parameters: PAPER_CONSENSUS_TIME_PARAMETERS,
      carbonCycle: PAPER_CARBON_CYCLE,
      rounds: 40,
      epoch: 1000,
      tolerateFailures: 1,
    });
    expect(fluctuatingAndFalling(stuck.rounds.map((r) => r.consensusMs))).toMatch(/no fall/);
  });

  it('on series without the shape', () => {
    expect(classicConstant([2.5, 2.5, 2.6])).toMatch(/round 3/);
    expect(fluctuatingAndFalling([3, 3, 3, 3, 3, 3, 3, 3])).toMatch(/no fall/);
    expect(fluctuatingAndFalling([3, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4, 2.3])).toMatch(/never goes up/);
    expect(fluctuatingAndFalling([3, 3, 3, 3, 2, 2, 2, 2])).toMatch(/2 distinct/);
    expect(gainsGrow([{ consensus: 10, beforeMs: 25, afterMs: 24, gainPct: 4 }, { consensus: 20, beforeMs: 50, afterMs: 49, gainPct: 2 }])).toMatch(/went from 4/);
    const linear = Array.from({ length: 90 }, (_, i) => i);
    expect(risingSlowingWithRipples(linear)).toMatch(/does not slow/);
    const smooth = Array.from({ length: 90 }, (_, i) => 100 * (1 - 0.95 ** (i + 1)));
    expect(risingSlowingWithRipples(smooth)).toMatch(/no ripple at decay round 30/);
    expect(fallingTowardsZero([100, 90, 95, 1])).toMatch(/rose at round 3/);
    expect(fallingTowardsZero([100, 90, 80])).toMatch(/not below 1/);
    expect(boundedTotal([10, 50, 120, 60])).toMatch(/outside/);
    expect(boundedTotal([10, 11, 12, 30])).toMatch(/no threshold/);
  });
});
