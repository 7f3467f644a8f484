import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidScoreInputError, MissingScoreInputError } from './errors.js';
import { PAPER_CONSENSUS_TIME_PARAMETERS } from './parameters.js';
import {
  type NodeScoreInput,
  composeScoring,
  customScoring,
  latencyScoring,
  paperScoreBreakdown,
  paperScoring,
  uniformScoring,
} from './strategies.js';
import { toVoteWeights } from './vote-weights.js';

function node(id: string, overrides: Partial<NodeScoreInput> = {}): NodeScoreInput {
  return {
    id,
    kind: 'generation',
    creditWeight: 50,
    contracted: 100,
    actual: 100,
    participation: 0,
    greenCertificates: 0,
    carbonSettlement: 0,
    ...overrides,
  };
}

const market: NodeScoreInput[] = [
  node('g1', { creditWeight: 90, contracted: 300, actual: 300, participation: 40, greenCertificates: 30, carbonSettlement: 20, transmissions: 100, transmissionFaults: 10 }),
  node('g2', { creditWeight: 60, contracted: 100, actual: 80, participation: 10, greenCertificates: 10, carbonSettlement: -20, transmissions: 0, transmissionFaults: 0 }),
  node('c1', { kind: 'consumption', creditWeight: 80, contracted: 300, actual: 300, participation: 20, greenCertificates: 0, carbonSettlement: 0 }),
  node('c2', { kind: 'consumption', creditWeight: 70, contracted: 100, actual: 120, participation: 0, greenCertificates: 0, carbonSettlement: 20 }),
];

describe('paperScoring (eq. 8–23)', () => {
  it('computes every component over the round and the totals', () => {
    const breakdown = paperScoreBreakdown(market);
    // volume range: min actual 80, min contracted 100, max 300; floor 0.5·80 = 40
    expect(breakdown.get('g1')).toMatchObject({ credit: 90, volume: 100, participation: 40, greenCertificates: 75, carbon: 100, lineFaults: 90 });
    expect(breakdown.get('g2')!.volume).toBeCloseTo(((80 - 40) / 260) * 100, 12);
    expect(breakdown.get('g2')!.lineFaults).toBe(100);
    expect(breakdown.get('c1')!.carbon).toBe(50);
    expect(breakdown.get('c2')!.volume).toBeCloseTo((60 / 260) * 100, 12);
    // g1: 0.2·90 + 0.2·100 + 0·40 + 0.1·75 + 0.1·100 + 0.1·90
    expect(breakdown.get('g1')!.total).toBeCloseTo(64.5, 12);
    // c2: 0.2·70 + 0.2·(6000/260) + 0.1·0 + 0.2·100
    expect(breakdown.get('c2')!.total).toBeCloseTo(14 + 0.2 * (6000 / 260) + 20, 12);
    const scores = paperScoring().score(market);
    expect([...scores.keys()]).toEqual(['g1', 'g2', 'c1', 'c2']);
    for (const [id, value] of scores) expect(value).toBe(breakdown.get(id)!.total);
  });

  it('counts participation with the consensus-time parameters', () => {
    const election = paperScoring().score(market).get('g1')!;
    const consensusTime = paperScoring(PAPER_CONSENSUS_TIME_PARAMETERS).score(market).get('g1')!;
    expect(consensusTime - election).toBeCloseTo(0.3 * 40, 12);
  });

  it('scores within [0, 100] for any valid market', () => {
    const arbitraryNode = fc.record({
      kind: fc.constantFrom<'generation' | 'consumption'>('generation', 'consumption'),
      creditWeight: fc.double({ min: 0, max: 100, noNaN: true }),
      contracted: fc.double({ min: 0, max: 1e5, noNaN: true }),
      actual: fc.double({ min: 0, max: 1e5, noNaN: true }),
      participation: fc.double({ min: 0, max: 100, noNaN: true }),
      greenCertificates: fc.integer({ min: 0, max: 1000 }),
      carbonSettlement: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
      transmissions: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryNode, { minLength: 1, maxLength: 12 }), fc.boolean(), (records, consensusTime) => {
        const nodes = records.map((record, index) =>
          node(`n${index}`, { ...record, transmissionFaults: Math.floor(record.transmissions / 3) }),
        );
        const scores = paperScoring(consensusTime ? PAPER_CONSENSUS_TIME_PARAMETERS : {}).score(nodes);
        expect(scores.size).toBe(nodes.length);
        for (const value of scores.values()) {
          expect(Number.isFinite(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(100);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects duplicate ids, bad kinds, bad inputs and bad parameters', () => {
    expect(() => paperScoring().score([node('a'), node('a')])).toThrow(InvalidScoreInputError);
    expect(() => paperScoring().score([node('a', { kind: 'storage' as never })])).toThrow(InvalidScoreInputError);
    expect(() => paperScoring().score([node('a', { participation: 120 })])).toThrow(InvalidScoreInputError);
    expect(() => paperScoring().score([node('a', { transmissions: 1, transmissionFaults: 2 })])).toThrow(InvalidScoreInputError);
    expect(() => paperScoring().score([node('a', { carbonSettlement: Number.NaN })])).toThrow(InvalidScoreInputError);
    expect(() => paperScoring({ volumeFloorFactor: 2 })).toThrow(InvalidScoreInputError);
  });

  it('scores an empty cluster as an empty map', () => {
    expect(paperScoring().score([])).toEqual(new Map());
  });
});

describe('uniformScoring', () => {
  it('gives everyone 100, hence classic Raft weights', () => {
    const scores = uniformScoring().score(market);
    expect([...scores.values()]).toEqual([100, 100, 100, 100]);
    expect([...toVoteWeights(scores).values()]).toEqual([1, 1, 1, 1]);
  });
});

describe('latencyScoring', () => {
  const timed = [node('a', { ackLatencyMs: 3 }), node('b', { ackLatencyMs: 9 }), node('c', { ackLatencyMs: 5 }), node('d')];

  it('scores 100·r^(rank − 1) by acknowledgement latency', () => {
    expect(latencyScoring({ rankRatio: 0.5 }).score(timed)).toEqual(
      new Map([['a', 100], ['b', 25], ['c', 50], ['d', 175 / 3]]),
    );
    expect(latencyScoring({ rankRatio: 0.5, unmeasuredScore: 10 }).score(timed).get('d')).toBe(10);
    expect(latencyScoring().score(timed).get('c')).toBeCloseTo(90, 12);
  });

  it('gives a node not measured yet the mean of the measured scores, so it is not starved of weight', () => {
    // A zero-latency network: the leader and the two acknowledgements that completed each quorum
    // were measured at 0 ms, the other two voters never helped complete one.
    const fiveVoters = [
      node('g1', { ackLatencyMs: 0 }),
      node('c1', { ackLatencyMs: 0 }),
      node('g2', { ackLatencyMs: 0 }),
      node('c2'),
      node('c3'),
    ];
    const scores = latencyScoring().score(fiveVoters);
    expect([...scores.values()]).toEqual([100, 100, 100, 100, 100]);
    expect([...toVoteWeights(scores).values()]).toEqual([1, 1, 1, 1, 1]);
    // With the old default (an unmeasured node scored 0) the measured three took 300 of 302 votes.
    const starved = toVoteWeights(latencyScoring({ unmeasuredScore: 0 }).score(fiveVoters), { tolerateFailures: 1 });
    expect([...starved.values()]).toEqual([100, 100, 100, 1, 1]);
  });

  it('fails with MissingScoreInputError when no node has a latency, instead of scoring everyone alike', () => {
    const market = [node('g1'), node('c1'), node('c2')];
    for (const strategy of [latencyScoring(), latencyScoring({ unmeasuredScore: 50 }), composeScoring([{ strategy: latencyScoring(), weight: 1 }])]) {
      expect(() => strategy.score(market)).toThrow(MissingScoreInputError);
    }
    try {
      latencyScoring().score(market);
    } catch (error) {
      expect(error).toMatchObject({ code: 'SCORE_INPUT_MISSING', input: 'ackLatencyMs' });
      expect((error as Error).message).toContain('none has one');
    }
    expect(latencyScoring().score([])).toEqual(new Map());
  });

  it('gives equal latencies equal scores', () => {
    const tied = [node('a', { ackLatencyMs: 4 }), node('b', { ackLatencyMs: 4 }), node('c', { ackLatencyMs: 8 })];
    expect(latencyScoring({ rankRatio: 0.5 }).score(tied)).toEqual(new Map([['a', 100], ['b', 100], ['c', 25]]));
  });

  it('rejects a ratio outside (0, 1] and negative latencies', () => {
    expect(() => latencyScoring({ rankRatio: 0 })).toThrow(InvalidScoreInputError);
    expect(() => latencyScoring({ rankRatio: 1.5 })).toThrow(InvalidScoreInputError);
    expect(() => latencyScoring().score([node('a', { ackLatencyMs: -1 })])).toThrow(InvalidScoreInputError);
  });
});

describe('composeScoring and customScoring', () => {
  const half = customScoring('half', () => 50);
  const byCredit = customScoring('by-credit', (n) => n.creditWeight);

  it('blends strategies by weight', () => {
    const blend = composeScoring([
      { strategy: uniformScoring(), weight: 3 },
      { strategy: byCredit, weight: 1 },
    ]);
    expect(blend.name).toBe('compose(uniform×3, by-credit×1)');
    expect(blend.score(market)).toEqual(new Map([['g1', 97.5], ['g2', 90], ['c1', 95], ['c2', 92.5]]));
  });

  it('ignores a zero-weight part', () => {
    expect(composeScoring([{ strategy: half, weight: 1 }, { strategy: uniformScoring(), weight: 0 }]).score(market).get('c1')).toBe(50);
  });

  it('clamps custom scores and rejects non-finite ones', () => {
    expect(customScoring('big', () => 1000).score([node('a')]).get('a')).toBe(100);
    expect(customScoring('negative', () => -5).score([node('a')]).get('a')).toBe(0);
    expect(() => customScoring('nan', () => Number.NaN).score([node('a')])).toThrow(InvalidScoreInputError);
    expect(() => customScoring('', () => 1)).toThrow(InvalidScoreInputError);
  });

  it('lets a custom strategy see the whole cluster', () => {
    const greenFirst = customScoring('green-first', (n, nodes) => {
      const most = Math.max(1, ...nodes.map((other) => other.greenCertificates));
      return (n.greenCertificates / most) * 100;
    });
    expect(greenFirst.score(market)).toEqual(new Map([['g1', 100], ['g2', (10 / 30) * 100], ['c1', 0], ['c2', 0]]));
  });

  it('rejects an empty blend, negative weights and a part that skips a node', () => {
    expect(() => composeScoring([])).toThrow(InvalidScoreInputError);
    expect(() => composeScoring([{ strategy: half, weight: -1 }])).toThrow(InvalidScoreInputError);
    expect(() => composeScoring([{ strategy: half, weight: 0 }])).toThrow(InvalidScoreInputError);
    const skipping = { name: 'skipping', score: () => new Map<string, number>() };
    expect(() => composeScoring([{ strategy: skipping, weight: 1 }]).score([node('a')])).toThrow(InvalidScoreInputError);
  });
});
