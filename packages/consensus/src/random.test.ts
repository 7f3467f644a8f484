import { InvalidArgumentError } from './errors.js';
import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';

describe('seededRandom', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('pins the sequence of seed 1, so fault schedules stay reproducible across releases', () => {
    const random = seededRandom(1);
    const firstThree = [random(), random(), random()].map((x) => Math.floor(x * 1e6));
    expect(firstThree).toEqual(PINNED_SEED_1);
  });

  it('draws in [0, 1) with a roughly uniform spread', () => {
    const random = seededRandom(2023);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random();
      if (!(x >= 0 && x < 1)) outOfRange++;
      else buckets[Math.floor(x * 10)]!++;
    }
    expect(outOfRange).toBe(0);
    // Each decile should hold about 10 000 draws; 5% slack is far beyond sampling noise (~1%).
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('rejects a non-finite seed', () => {
    expect(() => seededRandom(Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => seededRandom(Number.POSITIVE_INFINITY)).toThrow(InvalidArgumentError);
  });
});

// mulberry32 reference values for seed 1 (0.627073…, 0.002735…, 0.527447…), truncated to 6 digits.
const PINNED_SEED_1 = [627073, 2735, 527447];
