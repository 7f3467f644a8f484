/**
 * `greenraft bench --compare FILE`: the change of every figure against a kept results file, row by
 * row (matched by suite and name), as a table. The kept file is what `--out` writes (a JSON array of
 * suite reports), one report, or `--json`'s output (one report per line).
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '@greenraft/consensus';
import { type BenchResult, SUITES, type SuiteReport } from './report.js';

/** Reads a results file for `flag`; throws InvalidArgumentError naming the flag and the file when it is not one. */
export async function readResultsFile(file: string, flag = '--compare'): Promise<SuiteReport[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseResults(text, file, flag);
}

/** Parses the text of a results file (see {@link readResultsFile}). */
export function parseResults(text: string, file: string, flag = '--compare'): SuiteReport[] {
  let values: unknown[];
  try {
    const whole = JSON.parse(text) as unknown;
    values = Array.isArray(whole) ? whole : [whole];
  } catch {
    try {
      values = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
    } catch {
      throw new InvalidArgumentError(`${flag}: ${file} is not JSON (a results file from --out, or the lines of --json)`);
    }
  }
  for (const [i, value] of values.entries()) {
    const problem = reportProblem(value);
    if (problem !== undefined) throw new InvalidArgumentError(`${flag}: ${file}: report ${i + 1} ${problem}`);
  }
  return values as SuiteReport[];
}

function reportProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const report = value as Partial<SuiteReport>;
  if (typeof report.suite !== 'string' || !(SUITES as readonly string[]).includes(report.suite)) return `has no known "suite" (${SUITES.join(', ')})`;
  if (!Array.isArray(report.results)) return 'has no "results" array';
  for (const row of report.results as unknown[]) {
    if (typeof row !== 'object' || row === null || typeof (row as BenchResult).name !== 'string') return 'has a result without a "name"';
  }
  return undefined;
}

/** The change of one figure: now / before − 1, or undefined when either is missing. */
function change(now: number | null | undefined, before: number | null | undefined): number | undefined {
  if (now === null || now === undefined || before === null || before === undefined || !Number.isFinite(now) || !Number.isFinite(before) || before === 0) return undefined;
  return now / before - 1;
}

const percent = (value: number | undefined): string => (value === undefined ? '-' : `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)} %`);
const figure = (value: number | null | undefined, digits: number): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : digits === 0 ? Math.round(value).toLocaleString('en') : value.toFixed(digits);

/** One compared row. */
export interface ComparedRow {
  readonly suite: string;
  readonly name: string;
  readonly opsPerSec: { readonly now: number | null; readonly before: number | null; readonly change: number | undefined };
  readonly p50Ms: { readonly now: number | null; readonly before: number | null; readonly change: number | undefined };
  readonly p99Ms: { readonly now: number | null; readonly before: number | null; readonly change: number | undefined };
}

/** Pairs the rows of `now` with those of `before` of the same suite and name. */
export function compareReports(now: readonly SuiteReport[], before: readonly SuiteReport[]): { rows: ComparedRow[]; missing: string[] } {
  const kept = new Map<string, BenchResult>();
  for (const report of before) for (const row of report.results) kept.set(`${report.suite}\u0000${row.name}`, row);
  const rows: ComparedRow[] = [];
  const missing: string[] = [];
  for (const report of now) {
    for (const row of report.results) {
      const old = kept.get(`${report.suite}\u0000${row.name}`);
      if (old === undefined) {
        missing.push(`${report.suite}: ${row.name}`);
        continue;
      }
      const pair = (key: 'opsPerSec' | 'p50Ms' | 'p99Ms') => ({ now: row[key], before: old[key] ?? null, change: change(row[key], old[key]) });
      rows.push({ suite: report.suite, name: row.name, opsPerSec: pair('opsPerSec'), p50Ms: pair('p50Ms'), p99Ms: pair('p99Ms') });
    }
  }
  return { rows, missing };
}

/** The comparison as a text table: each figure before → now and its change. */
export function formatComparison(file: string, now: readonly SuiteReport[], before: readonly SuiteReport[]): string {
  const { rows, missing } = compareReports(now, before);
  const header = ['suite', 'name', 'ops/s before', 'ops/s now', 'change', 'p50 ms before', 'p50 ms now', 'change', 'p99 ms before', 'p99 ms now', 'change'];
  const cells = rows.map((row) => [
    row.suite,
    row.name,
    figure(row.opsPerSec.before, 0),
    figure(row.opsPerSec.now, 0),
    percent(row.opsPerSec.change),
    figure(row.p50Ms.before, 3),
    figure(row.p50Ms.now, 3),
    percent(row.p50Ms.change),
    figure(row.p99Ms.before, 3),
    figure(row.p99Ms.now, 3),
    percent(row.p99Ms.change),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: readonly string[]) => values.map((value, i) => (i < 2 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [`change against ${file} (ops/s: higher is better; latency: lower is better)`, line(header), ...cells.map(line)];
  if (missing.length > 0) out.push(`not in ${file}: ${missing.join('; ')}`);
  return out.join('\n');
}
