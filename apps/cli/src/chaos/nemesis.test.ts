/** The nemesis's weight changes: always within the fault-tolerance guard, and the same under the same seed. */
import { seededRandom } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { Nemesis, type NemesisInit } from './nemesis.js';

function nemesis(seed: number, tolerateFailures: number): Nemesis {
  // weightsFor reads only its random stream and the guard.
  const init = { weightRandom: seededRandom(seed), random: seededRandom(seed), tolerateFailures } as unknown as NemesisInit;
  return new Nemesis(init);
}

describe('nemesis weights', () => {
  it.each([3, 5, 7, 9])('keeps the f heaviest of %i voters below half the total, and varies', (n) => {
    const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const f = Math.floor((n - 1) / 2);
    const chosen = nemesis(n, f);
    const seen = new Set<string>();
    for (let draw = 0; draw < 200; draw++) {
      const weights = Object.values(chosen.weightsFor(ids));
      expect(weights).toHaveLength(n);
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      const heaviest = [...weights].sort((a, b) => b - a).slice(0, f).reduce((sum, weight) => sum + weight, 0);
      expect(2 * heaviest).toBeLessThan(total);
      for (const weight of weights) expect(weight).toBeGreaterThanOrEqual(1);
      seen.add(weights.join(','));
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it('draws the same weights under the same seed', () => {
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const a = nemesis(42, 2);
    const b = nemesis(42, 2);
    for (let draw = 0; draw < 20; draw++) expect(a.weightsFor(ids)).toEqual(b.weightsFor(ids));
  });
});
