/**
 * The shapes the paper's §5 reports, as checks that say what is wrong (or `undefined` when the
 * shape holds). The reproduction tests run them on a short run, and prove each can fail on a
 * series that lacks the shape.
 */
import type { ConsensusTotalRow } from './tables.js';

const EPSILON = 1e-9;

/** §5.2.2: classic Raft's time of each consensus does not change while the leader holds. */
export function classicConstant(ms: readonly number[]): string | undefined {
  const first = ms[0];
  if (first === undefined) return 'no rounds';
  const other = ms.findIndex((value) => Math.abs(value - first) > EPSILON);
  return other === -1 ? undefined : `round ${other + 1} took ${ms[other]} ms, round 1 ${first} ms`;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * §5.2.2: weighted Raft's time fluctuates (several distinct values, going up at least once) and
 * falls (the last quarter of the rounds is faster than the first by at least `minFallPct`).
 */
export function fluctuatingAndFalling(ms: readonly number[], minFallPct = 2): string | undefined {
  const quarter = Math.max(1, Math.floor(ms.length / 4));
  const early = mean(ms.slice(0, quarter));
  const late = mean(ms.slice(-quarter));
  if (!(late < early * (1 - minFallPct / 100))) return `the last quarter averages ${late.toFixed(4)} ms, the first ${early.toFixed(4)} ms: no fall of ${minFallPct} %`;
  const distinct = new Set(ms).size;
  if (distinct < 3) return `only ${distinct} distinct times: no fluctuation`;
  if (!ms.some((value, i) => i > 0 && value > ms[i - 1]! + EPSILON)) return 'the time never goes up: a steady fall, no fluctuation';
  return undefined;
}

/** §5.2.3: the gain grows with the number of rounds: the last checkpoint's exceeds the first's. */
export function gainsGrow(rows: readonly ConsensusTotalRow[]): string | undefined {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined || rows.length < 2) return 'fewer than two checkpoints';
  return last.gainPct > first.gainPct ? undefined : `the gain went from ${first.gainPct} % after ${first.consensus} rounds to ${last.gainPct} % after ${last.consensus}`;
}

/**
 * §5.3.1: a reliable node's credit weight rises at a slowing rate (more in the first third of the
 * rounds than in the last), with a ripple down at every decay round (eq. 24, every `interval` rounds).
 */
export function risingSlowingWithRipples(series: readonly number[], interval = 30): string | undefined {
  const third = Math.floor(series.length / 3);
  if (third < 2) return 'too few rounds';
  const rise = (from: number, to: number) => series[to]! - series[from]!;
  const early = rise(0, third - 1);
  const late = rise(series.length - third, series.length - 1);
  if (!(early > 0)) return `no rise over the first third (${early.toFixed(3)})`;
  if (!(late < early)) return `the rise does not slow: ${early.toFixed(3)} over the first third, ${late.toFixed(3)} over the last`;
  for (let round = interval; round <= series.length; round += interval) {
    if (!(series[round - 1]! < series[round - 2]!)) return `no ripple at decay round ${round}: ${series[round - 2]} then ${series[round - 1]}`;
  }
  return undefined;
}

/** §5.3.1, Figure 8: a node that always defaults falls, round after round, towards 0 (below `floor`). */
export function fallingTowardsZero(series: readonly number[], floor = 1): string | undefined {
  const rise = series.findIndex((value, i) => i > 0 && value > series[i - 1]! + EPSILON);
  if (rise !== -1) return `it rose at round ${rise + 1}`;
  const last = series.at(-1);
  return last !== undefined && last < floor ? undefined : `it ends at ${last}, not below ${floor}`;
}

/** §5.3.3: the total weight stays within [0, 100] and its growth slows (the second half rises less than the first). */
export function boundedTotal(series: readonly number[]): string | undefined {
  const out = series.findIndex((value) => !(value >= 0 && value <= 100));
  if (out !== -1) return `round ${out + 1}: ${series[out]} is outside [0, 100]`;
  const half = Math.floor(series.length / 2);
  const first = series[half - 1]! - series[0]!;
  const second = series.at(-1)! - series[half - 1]!;
  return second < first ? undefined : `it rose ${second.toFixed(3)} over the second half, ${first.toFixed(3)} over the first: no threshold`;
}
