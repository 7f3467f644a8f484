/**
 * Money is kept in integer milli-yuan (1 yuan = 1000 milli-yuan), so sums are exact and every
 * round conserves money to the last unit.
 *
 * Rounding rule: each amount the paper defines (a revenue, an expense, a penalty, a compensation)
 * is computed in floating point from its formula, in yuan, and rounded once to the nearest
 * milli-yuan, halves away from zero. Amounts that are differences of others are taken as
 * differences of the rounded integers (grid revenue = consumer expense − generator revenue;
 * the allocated part F_w = penalty − compensation), and a sum shared among several nodes is split
 * by the largest-remainder method, so the parts add up to the whole exactly.
 */

import { describeValue, InvalidQuantityError } from './errors.js';

/** Milli-yuan in one yuan. */
export const MILLI_YUAN_PER_YUAN = 1000;

/** The largest amount in yuan {@link toMilliYuan} converts: its milli-yuan stay below 2^53. */
const MAX_YUAN = Math.floor(Number.MAX_SAFE_INTEGER / MILLI_YUAN_PER_YUAN);

/**
 * Rounds an amount in yuan to integer milli-yuan, halves away from zero.
 *
 * @throws {@link InvalidQuantityError} when `yuan` is not a finite number of at most
 *   (2^53 − 1) / 1000 yuan in magnitude (its milli-yuan would not be exact).
 *
 * @example
 * ```ts
 * import { toMilliYuan } from '@greenraft/power-market';
 *
 * toMilliYuan(310 * 0.61); // 189100, not 189099: 189.09999… is snapped first
 * toMilliYuan(-0.0125); // -13: halves away from zero
 * ```
 */
export function toMilliYuan(yuan: number): number {
  if (typeof yuan !== 'number' || !(Math.abs(yuan) <= MAX_YUAN)) {
    throw new InvalidQuantityError(`an amount must be a finite number of at most ${MAX_YUAN} yuan in magnitude, got ${describeValue(yuan)}`);
  }
  const scaled = Math.abs(yuan) * MILLI_YUAN_PER_YUAN;
  // Products such as 310 × 0.61 land a hair below the exact value (189.09999…): snap to 1e-6 first.
  const rounded = Math.round(Math.round(scaled * 1e3) / 1e3);
  return yuan < 0 ? -rounded : rounded;
}

/**
 * Converts integer milli-yuan to yuan.
 *
 * @example
 * ```ts
 * import { toYuan } from '@greenraft/power-market';
 *
 * toYuan(121_400); // 121.4: node 2's revenue in Table 1
 * toYuan(-857_333); // -857.333
 * ```
 */
export function toYuan(milliYuan: number): number {
  return milliYuan / MILLI_YUAN_PER_YUAN;
}

/**
 * The largest-remainder split of `amount` (a non-negative safe integer) by `weights` (finite,
 * ≥ 0), skipping the positions `skipA` and `skipB`: adds each position's units to `into` and
 * returns true, or returns false when the weights that count sum to zero (nobody to receive it).
 * Each share is computed in binary64; the units left after rounding every share down go to the
 * largest fractional parts, ties to the earlier position. Whatever the rounding, the units are
 * non-negative integers that sum to exactly `amount`. O(n log n) in the number of recipients
 * only for the leftover units (a native sort of their remainders), O(n) otherwise.
 */
export function splitByLargestRemainder(amount: number, weights: Float64Array, into: Float64Array, skipA = -1, skipB = -1): boolean {
  const n = weights.length;
  let total = 0;
  let largest = 0;
  for (let i = 0; i < n; i++) {
    if (i === skipA || i === skipB) continue;
    total += weights[i]!;
    largest = Math.max(largest, weights[i]!);
  }
  if (!(total > 0)) return false;
  // Weights whose sum overflows are scaled into [0, 1] first.
  const scale = Number.isFinite(total) ? 1 : largest;
  if (scale !== 1) {
    total = 0;
    for (let i = 0; i < n; i++) if (i !== skipA && i !== skipB) total += weights[i]! / scale;
  }
  const units = new Float64Array(n);
  const remainders = new Float64Array(n).fill(-1); // -1: takes no part, not even a leftover unit
  let parts = 0;
  let given = 0;
  for (let i = 0; i < n; i++) {
    const weight = weights[i]!;
    if (i === skipA || i === skipB || weight === 0) continue;
    const exact = amount * (weight / scale / total);
    // Clamped: rounding of weight / total may put `exact` a hair above the amount.
    const floor = Math.min(amount, Math.floor(exact));
    units[i] = floor;
    remainders[i] = exact - floor;
    given += floor;
    parts += 1;
  }
  // Exact: every part and their sum stay below 2^53 (at most the amount plus one unit per part).
  let leftover = amount - given;
  if (leftover > 0) {
    // Normally fewer units than parts; more only if binary64 lost whole units of a huge amount.
    const each = Math.floor(leftover / parts);
    let extra = leftover - each * parts;
    let threshold = Number.POSITIVE_INFINITY;
    if (extra > 0) {
      const sorted = new Float64Array(parts);
      let k = 0;
      for (let i = 0; i < n; i++) if (remainders[i]! >= 0) sorted[k++] = remainders[i]!;
      sorted.sort();
      threshold = sorted[parts - extra]!; // the extra-th largest remainder
    }
    // Above the threshold: one more unit each (fewer than `extra` of them); at it: in order, until none is left.
    for (let i = 0; i < n; i++) {
      if (remainders[i]! < 0) continue;
      units[i] = units[i]! + each;
      if (remainders[i]! > threshold) {
        units[i] = units[i]! + 1;
        extra -= 1;
      }
    }
    for (let i = 0; i < n && extra > 0; i++) {
      if (remainders[i] === threshold) {
        units[i] = units[i]! + 1;
        extra -= 1;
      }
    }
  } else if (leftover < 0) {
    // Rounding gave out too much: take the units back from the smallest remainders, later positions first.
    const order = [...Array(n).keys()].filter((i) => remainders[i]! >= 0).sort((a, b) => remainders[a]! - remainders[b]! || b - a);
    for (const i of order) {
      if (leftover >= 0) break;
      const taken = Math.min(units[i]!, -leftover);
      units[i] = units[i]! - taken;
      leftover += taken;
    }
  }
  for (let i = 0; i < n; i++) into[i] = into[i]! + units[i]!;
  return true;
}

/**
 * Splits a non-negative integer `amount` among recipients in proportion to their non-negative
 * `shares` ({@link splitByLargestRemainder}): the parts are non-negative integers that sum to
 * exactly `amount`, and recipients with a zero share get nothing. Returns `undefined` when the
 * shares add up to zero (nobody to receive it).
 *
 * @throws {@link InvalidQuantityError} when `amount` is not a non-negative safe integer or a share
 *   is not a finite number ≥ 0.
 */
export function allocateProportionally(
  amount: number,
  shares: readonly (readonly [id: string, share: number])[],
): Map<string, number> | undefined {
  if (!(Number.isSafeInteger(amount) && amount >= 0)) {
    throw new InvalidQuantityError(`the amount to allocate must be a non-negative safe integer, got ${describeValue(amount)}`);
  }
  const weights = new Float64Array(shares.length);
  for (const [i, [, share]] of shares.entries()) {
    if (typeof share !== 'number' || !(share >= 0 && share < Number.POSITIVE_INFINITY)) {
      throw new InvalidQuantityError(`an allocation share must be a finite number ≥ 0, got ${describeValue(share)}`);
    }
    weights[i] = share;
  }
  const units = new Float64Array(shares.length);
  if (!splitByLargestRemainder(amount, weights, units)) return undefined;
  const result = new Map<string, number>();
  for (const [i, [id, share]] of shares.entries()) if (share > 0) result.set(id, (result.get(id) ?? 0) + units[i]!);
  return result;
}
