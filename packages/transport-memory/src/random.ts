import { InvalidArgumentError } from '@greenraft/consensus';

/**
 * A seeded pseudo-random generator of floats in [0, 1) (mulberry32: 32-bit state, fast,
 * good enough for fault injection; not for cryptography). The same seed always gives the
 * same sequence, on every platform.
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
