import { ConfigurationError, InvalidArgumentError, configuration, configurationToJSON } from '@greenraft/consensus';
import type { ClusterConfig } from '@greenraft/consensus';
import { coreNetwork } from '@greenraft/raft/testing';
import { paperScoring, toVoteWeights, uniformScoring } from '@greenraft/weight-scoring';
import type { NodeScoreInput } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import { measuredScoreInputs } from './score-inputs.js';
import { satisfiesFaultToleranceGuard } from '@greenraft/weight-scoring';
import { planWeightEpoch } from './weight-plan.js';

const five: ClusterConfig = { incoming: configuration(['a', 'b', 'c', 'd', 'e'], ['l']) };
const scores = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('planWeightEpoch', () => {
  it('turns scores into integer weights with the guard, keeping voters and learners', () => {
    const target = planWeightEpoch(five, scores({ a: 90, b: 60, c: 30, d: 30, e: 30 }), { tolerateFailures: 1 });
    expect(target).toBeDefined();
    expect(configurationToJSON(target!)).toEqual({ voters: { a: 3, b: 2, c: 1, d: 1, e: 1 }, learners: ['l'] });
  });

  it('tolerates by default as many crashed voters as classic Raft: 2 of 5, so the 2 heaviest weigh less than half', () => {
    const target = planWeightEpoch(five, scores({ a: 90, b: 60, c: 30, d: 30, e: 30 }))!;
    // a and b are capped at 44 (then divided by 2): 2·(22 + 22) < 22 + 22 + 15 + 15 + 15
    expect(configurationToJSON(target)).toEqual({ voters: { a: 22, b: 22, c: 15, d: 15, e: 15 }, learners: ['l'] });
    expect(satisfiesFaultToleranceGuard(target.voters, 2)).toBe(true);
    expect([...target.voters]).toEqual([...toVoteWeights(scores({ a: 90, b: 60, c: 30, d: 30, e: 30 }), { tolerateFailures: 2 })]);
    // Three voters tolerate one crash.
    const three: ClusterConfig = { incoming: configuration(['a', 'b', 'c']) };
    expect(configurationToJSON(planWeightEpoch(three, scores({ a: 100, b: 10, c: 10 }))!).voters).toEqual({ a: 19, b: 10, c: 10 });
  });

  it('uses toVoteWeights for the mapping: a dominant score is capped below half', () => {
    const input = scores({ a: 100, b: 10, c: 10, d: 10, e: 10 });
    const target = planWeightEpoch(five, input, { tolerateFailures: 1 })!;
    expect([...target.voters]).toEqual([...toVoteWeights(input, { tolerateFailures: 1 })]);
    expect(satisfiesFaultToleranceGuard(target.voters, 1)).toBe(true);
    // a alone is not a quorum: 2·a < total
    const total = [...target.voters.values()].reduce((sum, weight) => sum + weight, 0);
    expect(2 * target.voters.get('a')!).toBeLessThan(total);
  });

  it('keeps the two heaviest below half with tolerateFailures: 2', () => {
    const target = planWeightEpoch(five, scores({ a: 100, b: 90, c: 10, d: 10, e: 10 }), { tolerateFailures: 2 })!;
    expect(satisfiesFaultToleranceGuard(target.voters, 2)).toBe(true);
    expect(target.voters.get('a')).toBeGreaterThanOrEqual(target.voters.get('b')!);
  });

  it('returns undefined while a joint change is in flight', () => {
    const joint: ClusterConfig = { incoming: configuration({ a: 2, b: 1, c: 1 }), outgoing: configuration(['a', 'b', 'c']) };
    expect(planWeightEpoch(joint, scores({ a: 10, b: 90, c: 50 }))).toBeUndefined();
  });

  it('returns undefined when the weights do not change, or change only in scale', () => {
    const weighted: ClusterConfig = { incoming: configuration({ a: 3, b: 2, c: 1, d: 1, e: 1 }) };
    expect(planWeightEpoch(weighted, scores({ a: 90, b: 60, c: 30, d: 30, e: 30 }), { tolerateFailures: 1 })).toBeUndefined();
    const scaled: ClusterConfig = { incoming: configuration({ a: 6, b: 4, c: 2, d: 2, e: 2 }) };
    expect(planWeightEpoch(scaled, scores({ a: 90, b: 60, c: 30, d: 30, e: 30 }), { tolerateFailures: 1 })).toBeUndefined();
    // uniform scores on a classic (all-1) configuration: classic Raft stays classic
    const classic = ['a', 'b', 'c', 'd', 'e'].map((id): NodeScoreInput => ({
      id, kind: 'consumption', creditWeight: 80, contracted: 10, actual: 10, participation: 0, greenCertificates: 0, carbonSettlement: 0,
    }));
    expect(planWeightEpoch(five, uniformScoring().score(classic))).toBeUndefined();
  });

  it('ignores scores of nodes that are not voters', () => {
    const target = planWeightEpoch(five, scores({ a: 90, b: 60, c: 30, d: 30, e: 30, l: 100, stranger: 100 }))!;
    expect([...target.voters.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(target.learners).toEqual(new Set(['l']));
  });

  it('rejects a voter without a score, or a score out of range, with InvalidArgumentError', () => {
    expect(() => planWeightEpoch(five, scores({ a: 90, b: 60, c: 30, d: 30 }))).toThrow(InvalidArgumentError);
    expect(() => planWeightEpoch(five, scores({ a: 190, b: 60, c: 30, d: 30, e: 1 }))).toThrow(InvalidArgumentError);
    expect(() => planWeightEpoch(five, scores({ a: 90, b: 60, c: 30, d: 30, e: 1 }), { resolution: 0 })).toThrow(InvalidArgumentError);
  });

  it('throws ConfigurationError when no weights can satisfy the guard', () => {
    const three: ClusterConfig = { incoming: configuration(['a', 'b', 'c']) };
    // minWeight 0 with two zero scores leaves one positive voter: no f = 1 guard is possible.
    const error = (() => {
      try {
        planWeightEpoch(three, scores({ a: 100, b: 0, c: 0 }), { minWeight: 0, tolerateFailures: 1 });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('CONFIGURATION');
    // By default f follows the voters that keep a positive weight: one voter, no failure to tolerate.
    expect(configurationToJSON(planWeightEpoch(three, scores({ a: 100, b: 0, c: 0 }), { minWeight: 0 })!).voters).toEqual({ a: 1, b: 0, c: 0 });
  });

  it('feeds RaftCore.proposeConfigChange: the weights commit through the log on every core', () => {
    const net = coreNetwork({ bootstrap: configuration(['a', 'b', 'c', 'd', 'e']) });
    net.core('a').campaign();
    net.stabilize();
    const inputs = measuredScoreInputs({ voters: net.core('a').config.incoming.voters, participation: new Map(), round: 0, epoch: 1 });
    const market = inputs.map((input, position) => ({ ...input, creditWeight: 100 - 15 * position }));
    const target = planWeightEpoch(net.core('a').config, paperScoring().score(market));
    expect(target).toBeDefined();
    net.core('a').proposeConfigChange(target!);
    net.stabilize();
    for (const id of net.ids) {
      expect(net.core(id).config.outgoing).toBeUndefined();
      expect([...net.core(id).config.incoming.voters]).toEqual([...target!.voters]);
    }
    // The configuration in effect is settled: planning again with the same scores changes nothing.
    expect(planWeightEpoch(net.core('a').config, paperScoring().score(market))).toBeUndefined();
  });
});

describe('satisfiesFaultToleranceGuard', () => {
  it('holds when the f heaviest weigh strictly less than half', () => {
    expect(satisfiesFaultToleranceGuard(scores({ a: 3, b: 3, c: 1, d: 1, e: 1 }), 1)).toBe(true);
    expect(satisfiesFaultToleranceGuard(scores({ a: 4, b: 1, c: 1, d: 1, e: 1 }), 1)).toBe(false);
    expect(satisfiesFaultToleranceGuard(scores({ a: 3, b: 3, c: 1, d: 1, e: 1 }), 2)).toBe(false);
    expect(satisfiesFaultToleranceGuard(scores({ a: 1 }), 0)).toBe(true);
  });
});
