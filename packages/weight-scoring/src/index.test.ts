import { describe, expect, it } from 'vitest';
import {
  type NodeScoreInput,
  composeScoring,
  creditPenaltyDelta,
  creditWeightAfterRound,
  latencyScoring,
  paperScoring,
  toVoteWeights,
  uniformScoring,
} from './index.js';

// The @packageDocumentation / README example, with its results asserted.
const nodes: NodeScoreInput[] = [
  { id: 'g1', kind: 'generation', creditWeight: 97.98, contracted: 310, actual: 310, participation: 12,
    greenCertificates: 40, carbonSettlement: 15, transmissions: 200, transmissionFaults: 2, ackLatencyMs: 4 },
  { id: 'g2', kind: 'generation', creditWeight: 87.64, contracted: 200, actual: 200, participation: 9,
    greenCertificates: 25, carbonSettlement: -5, transmissions: 150, transmissionFaults: 6, ackLatencyMs: 9 },
  { id: 'c1', kind: 'consumption', creditWeight: 96.16, contracted: 310, actual: 310, participation: 11,
    greenCertificates: 10, carbonSettlement: 30, ackLatencyMs: 6 },
  { id: 'c2', kind: 'consumption', creditWeight: 86.04, contracted: 200, actual: 180, participation: 3,
    greenCertificates: 0, carbonSettlement: -20, ackLatencyMs: 15 },
];

describe('the package example', () => {
  it('swaps strategies and maps each to guarded vote weights', () => {
    const results = Object.fromEntries(
      [
        paperScoring(),
        uniformScoring(),
        latencyScoring(),
        composeScoring([{ strategy: paperScoring(), weight: 2 }, { strategy: latencyScoring(), weight: 1 }]),
      ].map((strategy) => [strategy.name, Object.fromEntries(toVoteWeights(strategy.score(nodes), { tolerateFailures: 1 }))]),
    );
    expect(results).toEqual({
      paper: { g1: 62, g2: 43, c1: 61, c2: 25 },
      uniform: { g1: 1, g2: 1, c1: 1, c2: 1 },
      latency: { g1: 100, g2: 81, c1: 90, c2: 73 },
      'compose(paper×2, latency×1)': { g1: 75, g2: 56, c1: 70, c2: 41 },
    });
    // f = 1 is the default for four voters.
    expect(Object.fromEntries(toVoteWeights(paperScoring().score(nodes)))).toEqual(results.paper);
    expect(creditWeightAfterRound({ creditWeight: 64.93, contracted: 60, actual: 50, totalContracted: 2310 })).toBeCloseTo(54.11, 2);
    expect(creditPenaltyDelta({ creditWeight: 64.93, contracted: 60, actual: 50 })).toBeCloseTo(10.82, 2);
  });
});
