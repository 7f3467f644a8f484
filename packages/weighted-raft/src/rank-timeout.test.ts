import { InvalidArgumentError, configuration } from '@greenraft/consensus';
import type { ClusterConfig, NodeId } from '@greenraft/consensus';
import { coreNetwork } from '@greenraft/raft/testing';
import type { ElectionTimeoutContext } from '@greenraft/raft';
import { describe, expect, it } from 'vitest';
import { rankElectionTimeout, weightRank } from './rank-timeout.js';

const context = (id: NodeId, config: ClusterConfig, random: () => number = () => 0): ElectionTimeoutContext => ({
  id,
  config,
  electionTicks: 10,
  random,
});

describe('rankElectionTimeout (paper eq. 7: T = 100 + 5·n_i ms)', () => {
  const config: ClusterConfig = { incoming: configuration({ a: 2, b: 7, c: 4, d: 1 }) };

  it('gives the heaviest voter the shortest timeout, in exact ticks', () => {
    const policy = rankElectionTimeout({ tickMs: 5 });
    // ranks: b 1, c 2, a 3, d 4 → 105, 110, 115, 120 ms → 21, 22, 23, 24 ticks of 5 ms
    expect(['b', 'c', 'a', 'd'].map((id) => policy.electionTimeoutTicks!(context(id, config)))).toEqual([21, 22, 23, 24]);
  });

  it('rounds the timeout up to whole ticks', () => {
    const policy = rankElectionTimeout({ tickMs: 10 });
    // 105 → 11, 110 → 11, 115 → 12, 120 → 12
    expect(['b', 'c', 'a', 'd'].map((id) => policy.electionTimeoutTicks!(context(id, config)))).toEqual([11, 11, 12, 12]);
  });

  it('breaks weight ties by node id, the same way on every node', () => {
    const tied: ClusterConfig = { incoming: configuration({ e: 3, b: 3, d: 1, a: 1, c: 3 }) };
    expect(['b', 'c', 'e', 'a', 'd'].map((id) => weightRank(tied, id))).toEqual([1, 2, 3, 4, 5]);
    const policy = rankElectionTimeout({ baseMs: 100, stepMs: 10, tickMs: 10 });
    expect(['b', 'c', 'e', 'a', 'd'].map((id) => policy.electionTimeoutTicks!(context(id, tied)))).toEqual([11, 12, 13, 14, 15]);
  });

  it('ranks by the incoming half of a joint configuration', () => {
    const joint: ClusterConfig = { incoming: configuration({ a: 1, b: 5, c: 1 }), outgoing: configuration({ a: 5, b: 1, c: 1 }) };
    expect(weightRank(joint, 'b')).toBe(1);
    expect(weightRank(joint, 'a')).toBe(2);
    expect(rankElectionTimeout({ tickMs: 5 }).electionTimeoutTicks!(context('b', joint))).toBe(21);
  });

  it('ranks a node outside the incoming voters after every voter', () => {
    const withLearner: ClusterConfig = { incoming: configuration({ a: 2, b: 1 }, ['l']) };
    expect(weightRank(withLearner, 'l')).toBe(3);
    expect(rankElectionTimeout({ tickMs: 5 }).electionTimeoutTicks!(context('l', withLearner))).toBe(23);
  });

  it('adds jitter from the core\u2019s PRNG, scaled by jitterMs', () => {
    const policy = rankElectionTimeout({ jitterMs: 4, tickMs: 1 });
    expect(policy.electionTimeoutTicks!(context('b', config, () => 0))).toBe(105);
    expect(policy.electionTimeoutTicks!(context('b', config, () => 0.5))).toBe(107);
    expect(policy.electionTimeoutTicks!(context('b', config, () => 0.99))).toBe(109);
  });

  it('follows a configuration change: new weights, new ranks', () => {
    const policy = rankElectionTimeout({ tickMs: 5 });
    expect(policy.electionTimeoutTicks!(context('a', config))).toBe(23);
    const changed: ClusterConfig = { incoming: configuration({ a: 9, b: 7, c: 4, d: 1 }) };
    expect(policy.electionTimeoutTicks!(context('a', changed))).toBe(21);
    expect(policy.electionTimeoutTicks!(context('b', changed))).toBe(22);
  });

  it('rejects invalid durations with InvalidArgumentError', () => {
    expect(() => rankElectionTimeout({ tickMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => rankElectionTimeout({ baseMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => rankElectionTimeout({ stepMs: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => rankElectionTimeout({ jitterMs: Number.POSITIVE_INFINITY })).toThrow(InvalidArgumentError);
    expect(() => rankElectionTimeout({ base: 50 } as never)).toThrow('rankElectionTimeout: unknown option "base"; known options: baseMs, stepMs, jitterMs, tickMs');
  });
});

describe('rankElectionTimeout on RaftCore directly (as the simulator uses it)', () => {
  const weights = { a: 1, b: 2, c: 5, d: 3, e: 4 };

  /** Ticks every core in lockstep, delivering all messages between ticks, until one leads. */
  function firstLeader(seed: number): { leader: NodeId; term: number; ticks: number } {
    const net = coreNetwork({
      bootstrap: configuration(weights),
      options: (id) => ({ seed: seed * 31 + id.charCodeAt(0), electionTicks: 20, policy: rankElectionTimeout({ stepMs: 10, jitterMs: 5, tickMs: 5 }) }),
    });
    for (let ticks = 1; ticks <= 200; ticks++) {
      for (const id of net.ids) net.tick(id);
      net.stabilize();
      const leaders = net.ids.filter((id) => net.core(id).role === 'leader');
      if (leaders.length > 0) {
        expect(leaders).toHaveLength(1);
        return { leader: leaders[0]!, term: net.core(leaders[0]!).term, ticks };
      }
    }
    throw new Error('no leader after 200 ticks');
  }

  it('elects the heaviest voter first, in term 1, for every seed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { leader, term, ticks } = firstLeader(seed);
      expect({ seed, leader, term }).toEqual({ seed, leader: 'c', term: 1 });
      // rank 1 with step 10 and jitter < 5: (110 + [0, 5)) / 5 → 22 or 23 ticks
      expect(ticks).toBeGreaterThanOrEqual(22);
      expect(ticks).toBeLessThanOrEqual(23);
    }
  });
});
