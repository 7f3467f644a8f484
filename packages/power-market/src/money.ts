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

/** Milli-yuan in one yuan. */
export const MILLI_YUAN_PER_YUAN = 1000;

/**
 * Rounds an amount in yuan to integer milli-yuan, halves away from zero.
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
 * Splits a non-negative integer `amount` among recipients in proportion to their non-negative
 * `shares` (largest-remainder method). Leftover units go to the largest fractional parts, ties to
 * the earlier recipient in the given order, so the result is deterministic and sums to `amount`.
 * Returns `undefined` when the shares add up to zero (nobody to receive it).
 *
 * @example
 * ```ts
 * import { allocateProportionally } from '@greenraft/power-market';
 *
 * // 100 milli-yuan of penalties shared by credit weight (eq. 34): the parts sum to exactly 100.
 * allocateProportionally(100, [['n1', 1], ['n2', 1], ['n3', 1]]); // Map { n1 → 34, n2 → 33, n3 → 33 }
 * allocateProportionally(100, [['n1', 0]]); // undefined: nobody to receive it
 * ```
 */
export function allocateProportionally(
  amount: number,
  shares: readonly (readonly [id: string, share: number])[],
): Map<string, number> | undefined {
  const total = shares.reduce((sum, [, share]) => sum + share, 0);
  if (!(total > 0)) return undefined;
  // Recipients with a zero share take no part, not even a leftover unit.
  const parts = shares.filter(([, share]) => share > 0).map(([id, share], order) => {
    const exact = (amount * share) / total;
    const floor = Math.floor(exact);
    return { id, floor, remainder: exact - floor, order };
  });
  let leftover = amount - parts.reduce((sum, part) => sum + part.floor, 0);
  const byRemainder = [...parts].sort((a, b) => b.remainder - a.remainder || a.order - b.order);
  for (const part of byRemainder) {
    if (leftover <= 0) break;
    part.floor += 1;
    leftover -= 1;
  }
  const result = new Map<string, number>();
  for (const part of parts) result.set(part.id, (result.get(part.id) ?? 0) + part.floor);
  return result;
}
