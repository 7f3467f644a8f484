import { InvalidArgumentError } from './errors.js';

/**
 * A seeded pseudo-random generator of floats in [0, 1) (mulberry32: 32-bit state, fast). It is
 * greenraft's only source of randomness (election jitter, fault injection, simulation), so the same
 * seed always gives the same sequence on every platform. Not for cryptography.
 *
 * @param seed - any finite number; it is reduced to 32 bits
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const coinFlips = Array.from({ length: 3 }, () => random() < 0.5);
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new InvalidArgumentError(`seed must be a finite number, got ${String(seed)}`);
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
