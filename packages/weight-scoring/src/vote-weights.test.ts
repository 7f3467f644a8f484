import { GreenraftError } from '@greenraft/consensus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultToleranceError, InvalidScoreInputError, ScoringError } from './errors.js';
import {
  capForFaultTolerance,
  defaultTolerateFailures,
  electionTimeoutMs,
  satisfiesFaultToleranceGuard,
  toVoteWeights,
  voteTimeoutRank,
} from './vote-weights.js';

function scoreMap(values: readonly number[]): Map<string, number> {
  return new Map(values.map((value, index) => [`n${String(index).padStart(3, '0')}`, value]));
}

/** 2·Σ(f heaviest) < Σ all, in integers. */
function guardHolds(weights: ReadonlyMap<string, number>, failures: number): boolean {
  const sorted = [...weights.values()].sort((a, b) => b - a);
  const total = sorted.reduce((sum, weight) => sum + weight, 0);
  const heaviest = sorted.slice(0, failures).reduce((sum, weight) => sum + weight, 0);
  return 2 * heaviest < total;
}

const score = fc.oneof(
  fc.double({ min: 0, max: 100, noNaN: true }),
  fc.constantFrom(0, 100),
  fc.integer({ min: 0, max: 100 }),
);

/** f and a score vector with at least 2f + 1 entries, sometimes all zero, sometimes one dominant. */
const scenario = fc
  .integer({ min: 0, max: 4 })
  .chain((failures) =>
    fc.record({
      failures: fc.constant(failures),
      values: fc.oneof(
        fc.array(score, { minLength: 2 * failures + 1, maxLength: 40 }),
        fc.integer({ min: 2 * failures + 1, max: 40 }).map((length) => Array.from({ length }, () => 0)),
        fc
          .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 2 * failures, maxLength: 40 })
          .map((rest) => [100, ...rest]),
      ),
      resolution: fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 100_000 })),
    }),
  );

describe('toVoteWeights', () => {
  it('maps scores at the default resolution, one unit per score point', () => {
    expect(toVoteWeights(scoreMap([40, 30, 20, 10]), { reduce: false })).toEqual(scoreMap([40, 30, 20, 10]));
    expect(toVoteWeights(scoreMap([40, 30, 20, 10]))).toEqual(scoreMap([4, 3, 2, 1]));
  });

  it('gives classic Raft weights for equal scores', () => {
    expect(toVoteWeights(scoreMap([70, 70, 70, 70, 70]))).toEqual(scoreMap([1, 1, 1, 1, 1]));
  });

  it('caps a dominant node below half the total (water-filling)', () => {
    const weights = toVoteWeights(new Map([['a', 100], ['b', 20], ['c', 20], ['d', 10]]));
    expect(weights).toEqual(new Map([['a', 49], ['b', 20], ['c', 20], ['d', 10]]));
  });

  it('caps the two heaviest together for f = 2', () => {
    const weights = toVoteWeights(scoreMap([100, 90, 10, 10, 10]), { tolerateFailures: 2, reduce: false });
    // cap c ≥ 10: 2c + 30 − 4c > 0 → c ≤ 14
    expect(weights).toEqual(scoreMap([14, 14, 10, 10, 10]));
    expect(guardHolds(weights, 2)).toBe(true);
    // reduced by the common divisor 2
    expect(toVoteWeights(scoreMap([100, 90, 10, 10, 10]), { tolerateFailures: 2 })).toEqual(scoreMap([7, 7, 5, 5, 5]));
  });

  it('leaves weights alone when the guard already holds', () => {
    expect(toVoteWeights(scoreMap([50, 30, 30]), { reduce: false })).toEqual(scoreMap([50, 30, 30]));
  });

  it('gives a zero score the minimum weight 1, or 0 when asked', () => {
    expect(toVoteWeights(scoreMap([0, 0, 0]))).toEqual(scoreMap([1, 1, 1]));
    expect(toVoteWeights(scoreMap([50, 50, 50, 0]), { minWeight: 0 })).toEqual(scoreMap([1, 1, 1, 0]));
  });

  it('throws a typed error when fewer than 2f + 1 voters can carry weight', () => {
    expect(() => toVoteWeights(scoreMap([100, 100]), { tolerateFailures: 1 })).toThrow(FaultToleranceError);
    expect(() => toVoteWeights(scoreMap([100, 100, 0]), { minWeight: 0, tolerateFailures: 1 })).toThrow(
      'tolerating 1 failure(s) needs at least 3 voters with a positive weight, got 2 (weight 0: n002)',
    );
    expect(() => toVoteWeights(scoreMap([100, 100, 100, 100]), { tolerateFailures: 2 })).toThrow(FaultToleranceError);
    expect(() => toVoteWeights(new Map(), { tolerateFailures: 0 })).toThrow(FaultToleranceError);
    expect(() => toVoteWeights(new Map())).toThrow(FaultToleranceError);
    expect.assertions(8);
    try {
      toVoteWeights(scoreMap([1, 2]), { tolerateFailures: 1 });
    } catch (err) {
      expect(err).toBeInstanceOf(ScoringError);
      expect(err).toBeInstanceOf(GreenraftError);
      expect((err as ScoringError).code).toBe('FAULT_TOLERANCE_UNSATISFIABLE');
    }
  });

  it('tolerates by default as many failures as classic Raft: ⌊(p − 1) / 2⌋ of p voters with a positive weight', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 30].map(defaultTolerateFailures)).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 14]);
    // Five voters: the two heaviest together stay below half, exactly as with tolerateFailures: 2.
    const five = scoreMap([100, 90, 10, 10, 10]);
    expect(toVoteWeights(five)).toEqual(toVoteWeights(five, { tolerateFailures: 2 }));
    expect(guardHolds(toVoteWeights(five), 2)).toBe(true);
    // One or two voters: no failure can be tolerated, and the default never makes the mapping fail.
    expect(toVoteWeights(scoreMap([100, 20]), { reduce: false })).toEqual(scoreMap([100, 20]));
    expect(toVoteWeights(scoreMap([60]))).toEqual(scoreMap([1]));
    // Voters a zero score leaves without weight do not count: three positive of four → f = 1.
    expect(toVoteWeights(scoreMap([100, 10, 10, 0]), { minWeight: 0, reduce: false })).toEqual(scoreMap([19, 10, 10, 0]));
    expect(() => defaultTolerateFailures(-1)).toThrow(InvalidScoreInputError);
  });

  it('allows two voters with f = 0, one voter may then be a quorum', () => {
    expect(toVoteWeights(scoreMap([100, 20]), { tolerateFailures: 0, reduce: false })).toEqual(scoreMap([100, 20]));
  });

  it('rejects scores outside [0, 100] and bad options', () => {
    expect(() => toVoteWeights(scoreMap([101, 1, 1]))).toThrow(InvalidScoreInputError);
    expect(() => toVoteWeights(scoreMap([Number.NaN, 1, 1]))).toThrow(InvalidScoreInputError);
    expect(() => toVoteWeights(scoreMap([1, 1, 1]), { resolution: 0 })).toThrow(InvalidScoreInputError);
    expect(() => toVoteWeights(scoreMap([1, 1, 1]), { resolution: 2.5 })).toThrow(InvalidScoreInputError);
    expect(() => toVoteWeights(scoreMap([1, 1, 1]), { tolerateFailures: -1 })).toThrow(InvalidScoreInputError);
    expect(() => toVoteWeights(scoreMap([1, 1, 1]), { minWeight: -1 })).toThrow(InvalidScoreInputError);
  });

  describe('properties', () => {
    it('keeps the guard exactly, integer weights ≥ 0, order and determinism', () => {
      fc.assert(
        fc.property(scenario, fc.boolean(), fc.constantFrom(0, 1), ({ failures, values, resolution }, reduce, minWeight) => {
          const scores = scoreMap(values);
          const positives = values.filter((value) => Math.max(minWeight, Math.round((value * resolution) / 100)) > 0).length;
          if (positives < 2 * failures + 1) {
            expect(() => toVoteWeights(scores, { tolerateFailures: failures, resolution, reduce, minWeight })).toThrow(
              FaultToleranceError,
            );
            return;
          }
          const weights = toVoteWeights(scores, { tolerateFailures: failures, resolution, reduce, minWeight });
          expect([...weights.keys()]).toEqual([...scores.keys()]);
          for (const weight of weights.values()) {
            expect(Number.isSafeInteger(weight)).toBe(true);
            expect(weight).toBeGreaterThanOrEqual(0);
          }
          expect([...weights.values()].reduce((sum, weight) => sum + weight, 0)).toBeGreaterThan(0);
          expect(guardHolds(weights, failures)).toBe(true);
          for (const [a, scoreA] of scores) {
            for (const [b, scoreB] of scores) {
              if (scoreA > scoreB) expect(weights.get(a)!).toBeGreaterThanOrEqual(weights.get(b)!);
            }
          }
          expect(toVoteWeights(new Map(scores), { tolerateFailures: failures, resolution, reduce, minWeight })).toEqual(weights);
        }),
        { numRuns: 400 },
      );
    });

    it('caps as little as possible: one more unit on the cap would break the guard', () => {
      fc.assert(
        fc.property(scenario, ({ failures, values, resolution }) => {
          const raw = scoreMap(values.map((value) => Math.max(1, Math.round((value * resolution) / 100))));
          const weights = toVoteWeights(scoreMap(values), { tolerateFailures: failures, resolution, reduce: false });
          const cap = Math.max(...weights.values());
          const changed = [...raw].some(([id, weight]) => weights.get(id) !== weight);
          if (!changed) return;
          // every weight above the cap was lowered to it, nothing else moved
          for (const [id, weight] of raw) expect(weights.get(id)).toBe(Math.min(weight, cap));
          const looser = new Map([...raw].map(([id, weight]) => [id, Math.min(weight, cap + 1)]));
          expect(guardHolds(looser, failures)).toBe(false);
        }),
        { numRuns: 300 },
      );
    });

    it('reduction keeps the same quorums (weights only rescale)', () => {
      fc.assert(
        fc.property(scenario, ({ failures, values, resolution }) => {
          const options = { tolerateFailures: failures, resolution };
          const full = toVoteWeights(scoreMap(values), { ...options, reduce: false });
          const reduced = toVoteWeights(scoreMap(values), options);
          const [id] = [...full.keys()];
          const ratio = full.get(id!)! / reduced.get(id!)!;
          expect(Number.isInteger(ratio)).toBe(true);
          for (const [key, weight] of full) expect(reduced.get(key)! * ratio).toBe(weight);
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('capForFaultTolerance', () => {
  it('flattens only the heaviest, to the largest level the guard allows', () => {
    const weights = new Map([['a', 5], ['b', 4], ['c', 3], ['d', 2], ['e', 1]]);
    expect(capForFaultTolerance(weights, 2)).toEqual(new Map([['a', 2], ['b', 2], ['c', 2], ['d', 2], ['e', 1]]));
    expect(capForFaultTolerance(weights, 1)).toEqual(weights);
    expect(satisfiesFaultToleranceGuard(capForFaultTolerance(weights, 2), 2)).toBe(true);
    // One more unit for the heaviest and the guard breaks: the cap is the largest possible.
    expect(satisfiesFaultToleranceGuard(new Map([['a', 3], ['b', 3], ['c', 3], ['d', 2], ['e', 1]]), 2)).toBe(false);
  });

  it('rejects weights that are not integers ≥ 0, and unsatisfiable guards', () => {
    expect(() => capForFaultTolerance(new Map([['a', 1.5], ['b', 1], ['c', 1]]), 1)).toThrow(InvalidScoreInputError);
    expect(() => capForFaultTolerance(new Map([['a', -1], ['b', 1], ['c', 1]]), 1)).toThrow(InvalidScoreInputError);
    expect(() => capForFaultTolerance(new Map([['a', 3], ['b', 0], ['c', 1]]), 1)).toThrow(FaultToleranceError);
  });
});

describe('satisfiesFaultToleranceGuard', () => {
  it('checks f heaviest < half, with f following the number of voters by default', () => {
    const weights = new Map([['a', 3], ['b', 3], ['c', 1], ['d', 1], ['e', 1]]);
    expect(satisfiesFaultToleranceGuard(weights, 1)).toBe(true); // 6 < 9
    expect(satisfiesFaultToleranceGuard(weights, 2)).toBe(false); // 12 ≥ 9
    expect(satisfiesFaultToleranceGuard(weights)).toBe(false); // f = 2 for five voters
    expect(satisfiesFaultToleranceGuard(new Map([['a', 2], ['b', 1]]))).toBe(true); // f = 0 for two voters
  });
});

describe('voteTimeoutRank and electionTimeoutMs (eq. 7)', () => {
  it('ranks the heaviest first and breaks ties by id', () => {
    expect(voteTimeoutRank(new Map([['b', 3], ['a', 3], ['c', 5], ['d', 0]]))).toEqual(
      new Map([['c', 1], ['a', 2], ['b', 3], ['d', 4]]),
    );
  });

  it('is a permutation of 1..n independent of insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 5 })), (record) => {
        const entries = Object.entries(record);
        const forward = voteTimeoutRank(new Map(entries));
        const backward = voteTimeoutRank(new Map([...entries].reverse()));
        expect(forward).toEqual(backward);
        expect([...forward.values()].sort((a, b) => a - b)).toEqual(entries.map((_, index) => index + 1));
        for (const [a, weightA] of entries) {
          for (const [b, weightB] of entries) {
            if (weightA > weightB) expect(forward.get(a)!).toBeLessThan(forward.get(b)!);
          }
        }
      }),
    );
  });

  it('computes T = 100 + 5·n by default', () => {
    expect(electionTimeoutMs(1)).toBe(105);
    expect(electionTimeoutMs(30)).toBe(250);
    expect(electionTimeoutMs(2, { baseMs: 150, stepMs: 10 })).toBe(170);
  });

  it('rejects a rank below 1 or a negative weight', () => {
    expect(() => electionTimeoutMs(0)).toThrow(InvalidScoreInputError);
    expect(() => electionTimeoutMs(1, { stepMs: -1 })).toThrow(InvalidScoreInputError);
    expect(() => voteTimeoutRank(new Map([['a', -1]]))).toThrow(InvalidScoreInputError);
  });
});
