import { type ClusterConfig, type Configuration, configuration } from '@greenraft/consensus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { committedIndex, isQuorum, quorumPrefixLength, quorumWeight, voteResult } from './quorum.js';

const weighted = configuration({ a: 3, b: 1, c: 1 });

/** Small weighted configurations: 1–5 voters with weights 0–5 and a positive total. */
const arbitraryConfig: fc.Arbitrary<Configuration> = fc
  .array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 5 })
  .filter((weights) => weights.some((w) => w > 0))
  .map((weights) => configuration(new Map(weights.map((w, i) => [`n${i}`, w] as const))));

function subsets<T>(items: readonly T[]): T[][] {
  const all: T[][] = [];
  for (let mask = 0; mask < 1 << items.length; mask++) all.push(items.filter((_, i) => (mask >> i) & 1));
  return all;
}

function bruteForceCommitted(config: ClusterConfig, match: ReadonlyMap<string, number>): number {
  const ids = [...new Set([...config.incoming.voters.keys(), ...(config.outgoing?.voters.keys() ?? [])])];
  let best = 0;
  for (const subset of subsets(ids)) {
    if (!isQuorum(config, subset)) continue;
    const index = Math.min(...subset.map((id) => match.get(id) ?? 0));
    best = Math.max(best, index);
  }
  return best;
}

describe('isQuorum', () => {
  it('weighs voters: with weights {a:3,b:1,c:1}, a alone is a quorum and b+c is not', () => {
    expect(isQuorum(weighted, ['a'])).toBe(true);
    expect(isQuorum(weighted, ['b', 'c'])).toBe(false);
    expect(isQuorum(weighted, ['a', 'b'])).toBe(true);
    expect(quorumWeight(weighted)).toBe(3);
  });

  it('compares exactly: half the weight is not a quorum', () => {
    const even = configuration({ a: 2, b: 1, c: 1 });
    expect(isQuorum(even, ['a'])).toBe(false);
    expect(isQuorum(even, ['b', 'c'])).toBe(false);
    expect(isQuorum(even, ['a', 'c'])).toBe(true);
  });

  it('counts zero-weight voters and non-voters for nothing', () => {
    const config = configuration({ a: 1, b: 1, z: 0 }, ['l']);
    expect(isQuorum(config, ['a', 'z', 'l', 'stranger'])).toBe(false);
    expect(isQuorum(config, ['a', 'b'])).toBe(true);
  });

  it('needs a quorum in both halves while joint', () => {
    const joint: ClusterConfig = { incoming: configuration({ a: 1, b: 3, c: 1 }), outgoing: weighted };
    expect(isQuorum(joint, ['a'])).toBe(false); // quorum of the old only
    expect(isQuorum(joint, ['b'])).toBe(false); // quorum of the new only
    expect(isQuorum(joint, ['a', 'b'])).toBe(true);
  });

  it('any two quorums of one configuration intersect (property)', () => {
    fc.assert(
      fc.property(arbitraryConfig, fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 31 }), (config, m1, m2) => {
        const ids = [...config.voters.keys()];
        const q1 = ids.filter((_, i) => (m1 >> i) & 1);
        const q2 = ids.filter((_, i) => (m2 >> i) & 1);
        if (!isQuorum(config, q1) || !isQuorum(config, q2)) return;
        // Two weighted majorities share a voter of positive weight.
        expect(q1.some((id) => q2.includes(id) && (config.voters.get(id) ?? 0) > 0)).toBe(true);
      }),
    );
  });
});

describe('voteResult', () => {
  it('is pending while the missing weight could still decide, lost once it cannot', () => {
    expect(voteResult(weighted, new Map([['b', true], ['c', true]]))).toBe('pending');
    expect(voteResult(weighted, new Map([['a', false]]))).toBe('lost');
    expect(voteResult(weighted, new Map([['a', true]]))).toBe('won');
    expect(voteResult(weighted, new Map([['b', false], ['c', false]]))).toBe('pending');
  });

  it('ignores votes from non-voters', () => {
    expect(voteResult(configuration(['a', 'b', 'c']), new Map([['a', true], ['x', true], ['y', true]]))).toBe('pending');
  });

  it('while joint, wins only with both halves and loses when either half is lost', () => {
    const joint: ClusterConfig = { incoming: configuration(['c', 'd', 'e']), outgoing: configuration(['a', 'b', 'c']) };
    expect(voteResult(joint, new Map([['a', true], ['b', true]]))).toBe('pending');
    expect(voteResult(joint, new Map([['a', true], ['b', true], ['c', true], ['d', true]]))).toBe('won');
    expect(voteResult(joint, new Map([['d', false], ['e', false], ['a', true], ['b', true]]))).toBe('lost');
  });

  it('agrees with isQuorum once every voter has voted (property)', () => {
    fc.assert(
      fc.property(arbitraryConfig, fc.integer({ min: 0, max: 31 }), (config, mask) => {
        const ids = [...config.voters.keys()];
        const votes = new Map(ids.map((id, i) => [id, ((mask >> i) & 1) === 1] as const));
        const yes = ids.filter((id) => votes.get(id));
        expect(voteResult(config, votes)).toBe(isQuorum(config, yes) ? 'won' : 'lost');
      }),
    );
  });
});

describe('committedIndex', () => {
  it('with weights {a:3,b:1,c:1}: a+b commit, b+c cannot', () => {
    const match = new Map([['a', 5], ['b', 5], ['c', 2]]);
    expect(committedIndex(weighted, (id) => match.get(id))).toBe(5);
    const withoutA = new Map([['a', 2], ['b', 9], ['c', 9]]);
    expect(committedIndex(weighted, (id) => withoutA.get(id))).toBe(2);
  });

  it('counts unknown voters as 0 and a joint config as the smaller half', () => {
    const joint: ClusterConfig = { incoming: configuration(['c', 'd', 'e']), outgoing: configuration(['a', 'b', 'c']) };
    const match = new Map([['a', 9], ['b', 9], ['c', 4], ['d', 6]]);
    expect(committedIndex(joint, (id) => match.get(id))).toBe(4);
  });

  it('equals the brute-force maximum over all quorums (property, joint included)', () => {
    fc.assert(
      fc.property(
        arbitraryConfig,
        fc.option(arbitraryConfig, { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 5, maxLength: 5 }),
        (incoming, outgoing, indexes) => {
          const config: ClusterConfig = outgoing ? { incoming, outgoing } : { incoming };
          const match = new Map<string, number>(indexes.map((index, i) => [`n${i}`, index]));
          expect(committedIndex(config, (id) => match.get(id))).toBe(bruteForceCommitted(config, match));
        },
      ),
    );
  });
});

describe('quorumPrefixLength', () => {
  it('finds which ack, in arrival order, completed the quorum', () => {
    const config = configuration({ a: 1, b: 3, c: 1 });
    expect(quorumPrefixLength(config, ['a', 'c', 'b'])).toBe(3);
    expect(quorumPrefixLength(config, ['b', 'a', 'c'])).toBe(1);
    expect(quorumPrefixLength(config, ['a', 'c'])).toBeUndefined();
  });

  it('skips repeated and unknown ids but keeps their places', () => {
    const config = configuration(['a', 'b', 'c']);
    expect(quorumPrefixLength(config, ['a', 'a', 'x', 'b'])).toBe(4);
  });

  it('the prefix it names is a quorum and one ack shorter is not (property)', () => {
    fc.assert(
      fc.property(arbitraryConfig, fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 8 }), (config, order) => {
        const acks: string[] = order.map((i) => `n${i}`);
        const length = quorumPrefixLength(config, acks);
        if (length === undefined) {
          expect(isQuorum(config, acks)).toBe(false);
          return;
        }
        expect(isQuorum(config, acks.slice(0, length))).toBe(true);
        expect(isQuorum(config, acks.slice(0, length - 1))).toBe(false);
      }),
    );
  });
});
