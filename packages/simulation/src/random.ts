import { seededRandom } from '@greenraft/consensus';

/** A seeded PRNG with the draws the simulator needs. Every draw is deterministic under its seed. */
export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy of `items` (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

/** A seeded {@link Rng} on the network's PRNG, so one generator serves the whole project. */
export function rng(seed: number): Rng {
  const next = seededRandom(seed);
  const draw = (() => next()) as Rng;
  draw.int = (min, max) => min + Math.floor(next() * (max - min + 1));
  draw.chance = (p) => next() < p;
  draw.pick = (items) => {
    if (items.length === 0) throw new RangeError('pick: empty list');
    return items[Math.floor(next() * items.length)]!;
  };
  draw.shuffle = (items) => {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  };
  return draw;
}

/**
 * An independent seed for one stream of a run (schedule, network, each core, clients), so that
 * adding draws to one stream never shifts another's: a 32-bit avalanche of (seed, stream).
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (Math.trunc(seed) ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
