import { PAPER_CONSENSUS_TIME_PARAMETERS } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import type { ScenarioResult, ScenarioRound } from './consensus-time.js';
import { linkLatencies, resolveLatencyModel } from './latency.js';
import { availabilityFigure, availabilityStudy, epochStudyFigure, epochStudyRows, sweepFigures, sweepStudy } from './studies.js';

const round = (consensusMs: number, epochMs = 0, messages = 10, epochMessages = 0): ScenarioRound => ({
  round: 1,
  consensusMs,
  intermediate: '2',
  quorumSize: 2,
  messages,
  epochMs,
  epochMessages,
});
const result = (rounds: ScenarioRound[]): ScenarioResult => ({ rounds, weights: new Map(), refused: [] });

describe('the studies beyond the paper', () => {
  it('epochs: counts the weight changes’ time and messages against classic Raft', () => {
    const classic = result([round(2.5), round(2.5), round(2.5), round(2.5)]);
    const everyRound = result([round(2.5, 5, 10, 20), round(2, 5, 10, 20), round(2, 5, 10, 20), round(2, 5, 10, 20)]);
    const everyOther = result([round(2.5), round(2, 5, 10, 20), round(2), round(2, 5, 10, 20)]);
    const rows = epochStudyRows(classic, new Map([[1, everyRound], [2, everyOther]]));
    expect(rows.map((row) => row.epoch)).toEqual([null, 1, 2]);
    expect(rows[1]).toMatchObject({ weightChanges: 4, tradeMs: 8.5, weightChangeMs: 20, totalMs: 28.5, tradeGainPct: 15, netGainPct: -185, netMessageGainPct: -200 });
    expect(rows[2]).toMatchObject({ weightChanges: 2, tradeGainPct: 15, netGainPct: -85 });
    expect(epochStudyFigure(rows).points.filter((p) => p.series === 'weight changes').map((p) => p.y)).toEqual([0, 20, 10]);
  });

  it('availability: the survivors commit exactly while they hold more than half the weight, and the guard decides when that ends', async () => {
    const ids = Array.from({ length: 9 }, (_, i) => String(i + 1));
    // Two dominant nodes: without a guard the two of them are most of the weight.
    const scores = new Map(ids.map((id) => [id, id === '1' || id === '2' ? 100 : 10]));
    const study = await availabilityStudy(1, scores, linkLatencies(ids, 1, resolveLatencyModel()));
    // The engine agrees with the weights: a commit iff more than half the weight still runs.
    for (const row of study.rows) expect(row.committed, `${row.guard}, ${row.crashed} crashed`).toBe(row.survivingWeightPct > 50);
    expect(study.stallsAt).toEqual({ classic: 5, off: 2, paper: 2, default: 5 });
    expect(availabilityFigure(study).points).toHaveLength(study.rows.length);
  });

  it('sweep: uniform links leave nothing to gain and weight changes to pay; spread links reward weighting', async () => {
    const context = { seed: 1, latency: resolveLatencyModel(), parameters: PAPER_CONSENSUS_TIME_PARAMETERS, carbonCycle: 10, onRound: () => {} };
    const rows = await sweepStudy(context, 40, [9], [0, 1]);
    expect(rows.map((row) => `${row.nodes}/${row.spread}/${row.scoring}`)).toEqual(['9/0/classic', '9/0/paper', '9/0/latency', '9/1/classic', '9/1/paper', '9/1/latency']);
    const cell = (spread: number, scoring: string) => rows.find((row) => row.spread === spread && row.scoring === scoring)!;
    for (const scoring of ['classic', 'paper', 'latency']) expect(cell(0, scoring).gainPct).toBe(0);
    expect(cell(0, 'classic').meanConsensusMs).toBeCloseTo(2.5, 9); // two 1.25 ms hops
    expect(cell(0, 'paper').netGainPct).toBeLessThan(-100); // two joint-consensus entries a round, for nothing
    expect(cell(1, 'paper').steadyGainPct).toBeGreaterThan(0);
    const [gain, net] = sweepFigures(rows);
    expect(gain!.points.map((p) => p.panel)).toEqual(['9 nodes', '9 nodes', '9 nodes', '9 nodes']);
    expect(net!.points.find((p) => p.series === 'paper scoring' && p.x === 0)!.y).toBe(cell(0, 'paper').netGainPct);
  });
});
