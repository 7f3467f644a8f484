import { InvalidArgumentError } from '@greenraft/consensus';

/**
 * A seeded PRNG of floats in [0, 1) (mulberry32): the core's only source of randomness, so the
 * same seed always gives the same election timeouts on every platform. Not for cryptography.
 *
 * @param seed - any finite number, reduced to 32 bits
 *
 * @example
 * ```ts
 * const random = seededRandom(7);
 * const core = new RaftCore({ id: 'a', bootstrap: configuration(['a']), random });
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
