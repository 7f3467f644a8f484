/**
 * What `greenraft bench` prints: one report per suite, `{"suite":…,"machine":{"cpus":…,"node":…},
 * "results":[…]}`, as a text table or one JSON object per line (the machine also carries its load
 * average when the suite ended). Every result carries the fields every suite shares (name, nodes,
 * policy, concurrency, ops/s, p50, p99, ratios to the limits); the figures only some suites
 * measure (p999, messages per commit, fsyncs/s, bytes per op, peak RSS, in all and by node) are
 * optional fields beside them.
 */
import { availableParallelism, loadavg } from 'node:os';

/** The suites, in the order `--suite all` runs them (the limits first: every ratio needs them). */
export const SUITES = ['limits', 'memory', 'cluster', 'scale', 'heterogeneous'] as const;
/** One of {@link SUITES}. */
export type SuiteName = (typeof SUITES)[number];

/** One measured row. `null` where a field does not apply (a disk limit has no Raft policy). */
export interface BenchResult {
  readonly name: string;
  /** Raft nodes (voters and learners) in the measurement; for a limit, the endpoints involved. */
  readonly nodes: number | null;
  /** The Raft policy; `null` for a limit (no Raft involved). */
  readonly policy: 'classic' | 'weighted' | null;
  /** Closed-loop clients (or, for a limit, callers or messages in flight). */
  readonly concurrency: number | null;
  readonly opsPerSec: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /**
   * Ratios to the limits measured in the same run, and the limits themselves: `latency` is
   * p50 / `latencyLimitMs` (client RTT + peer RTT + fsync), `throughput` is ops/s /
   * `throughputLimit` (the raw rate that bounds it); suites add their own comparisons
   * (`weightedToClassic`, `p50ToClassic`, `readsToWrites`).
   */
  readonly ratio: Readonly<Record<string, number>>;
  readonly p999Ms?: number;
  /** Raft messages sent per committed write (scale). */
  readonly messagesPerCommit?: number;
  /** Data-disk syncs per second, summed over the nodes (cluster). */
  readonly fsyncsPerSec?: number;
  /** Bytes sent between peers per write, summed over the nodes (cluster). */
  readonly bytesPerOp?: number;
  /** The largest peak resident set size (VmHWM) of any node process so far, in MB (cluster). */
  readonly peakRssMb?: number;
  /** Each node process's peak resident set size (VmHWM) so far, in MB, by node id: the high-water mark after this row's load (cluster). */
  readonly peakRssMbByNode?: Readonly<Record<string, number>>;
  /** A note the table prints beside the row: what bounds it, what is left out. */
  readonly note?: string;
}

/** One suite's output: exactly the shape `--json` prints and `--out` keeps. */
export interface SuiteReport {
  readonly suite: SuiteName;
  /** The machine, and its load average (1 and 5 minutes) when the suite ended: the figures depend on it. */
  readonly machine: { readonly cpus: number; readonly node: string; readonly loadAverage?: readonly [number, number] };
  readonly results: readonly BenchResult[];
}

/** The machine the figures were measured on. */
export function machine(): SuiteReport['machine'] {
  const [one, five] = loadavg();
  return { cpus: availableParallelism(), node: process.version, loadAverage: [round(one!, 2), round(five!, 2)] };
}

/** A result with every shared field, the optional ones only when measured. */
export function result(fields: Omit<BenchResult, 'ratio'> & { ratio?: Record<string, number | undefined> }): BenchResult {
  const ratio: Record<string, number> = {};
  for (const [key, value] of Object.entries(fields.ratio ?? {})) {
    if (value === undefined || !Number.isFinite(value)) continue;
    // Rates whole; ratios and the latency limits to 4 significant digits (a 0.075 µs limit keeps its figures).
    ratio[key] = key.endsWith('Limit') ? Math.round(value) : significant(value, 4);
  }
  const out: Record<string, unknown> = {
    name: fields.name,
    nodes: fields.nodes,
    policy: fields.policy,
    concurrency: fields.concurrency,
    opsPerSec: fields.opsPerSec === null ? null : Math.round(fields.opsPerSec),
    p50Ms: roundMs(fields.p50Ms),
    p99Ms: roundMs(fields.p99Ms),
    ratio,
  };
  for (const key of ['p999Ms', 'messagesPerCommit', 'fsyncsPerSec', 'bytesPerOp', 'peakRssMb', 'peakRssMbByNode', 'note'] as const) {
    const value = fields[key];
    if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) continue;
    if (typeof value === 'object') {
      // peakRssMbByNode: kept when some node was read, each figure rounded.
      const byNode = Object.entries(value);
      if (byNode.length > 0) out[key] = Object.fromEntries(byNode.filter(([, mb]) => Number.isFinite(mb)).map(([id, mb]) => [id, round(mb, 1)]));
      continue;
    }
    out[key] = key === 'p999Ms' ? roundMs(value as number) : typeof value === 'number' ? round(value, 1) : value;
  }
  return out as unknown as BenchResult;
}

/** `value / limit`, or undefined when the limit is unknown (not measured in this run): a ratio {@link result} leaves out. */
export function ratioTo(value: number, limit: number | undefined): number | undefined {
  return limit === undefined ? undefined : value / limit;
}

/** `value` to `digits` significant digits: a ratio of 0.00042 keeps its figures, as one of 1258.3 does. */
function significant(value: number, digits: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(digits));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Milliseconds to the microsecond. */
function roundMs(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : round(value, 4);
}

/** A figure for a table: thousands separated, milliseconds with enough digits to tell 0.03 from 0.3. */
export function formatNumber(value: number | null | undefined, kind: 'ops' | 'ms' | 'ratio' | 'plain' = 'plain'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  if (kind === 'ops') return Math.round(value).toLocaleString('en');
  if (kind === 'ms') return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value >= 1 ? value.toFixed(2) : value.toFixed(3);
  // Two significant digits at least: 0.00042× stays 0.00042×, never 0.0×.
  if (kind === 'ratio') return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value >= 1 ? value.toFixed(2) : value === 0 ? '0' : trimExponent(value.toPrecision(2))}×`;
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en') : String(round(value, 1));
}

/** `toPrecision`'s exponent form (below 10⁻⁶) written out as a plain decimal. */
function trimExponent(text: string): string {
  return /e/.test(text) ? Number(text).toFixed(20).replace(/0+$/, '') : text;
}

/** The ratios a table prints, in this order, with their column titles. */
const RATIO_COLUMNS: readonly [string, string][] = [
  ['latency', 'p50/limit'],
  ['throughput', 'ops/limit'],
  ['weightedToClassic', 'w/classic'],
  ['p50ToClassic', 'p50/classic'],
  ['readsToWrites', 'reads/writes'],
];

interface Column {
  readonly title: string;
  readonly cell: (row: BenchResult) => string;
  readonly left?: boolean;
}

/** The columns a report's rows have: the shared ones, the optional figures some rows carry, the ratios, the note. */
function columnsOf(report: SuiteReport): Column[] {
  const optional = (key: keyof BenchResult) => report.results.some((row) => row[key] !== undefined);
  const ratioColumns = RATIO_COLUMNS.filter(([key]) => report.results.some((row) => row.ratio[key] !== undefined));
  const columns: Column[] = [
    { title: 'name', cell: (row) => row.name, left: true },
    { title: 'nodes', cell: (row) => formatNumber(row.nodes) },
    { title: 'policy', cell: (row) => row.policy ?? '-', left: true },
    { title: 'conc', cell: (row) => formatNumber(row.concurrency) },
    { title: 'ops/s', cell: (row) => formatNumber(row.opsPerSec, 'ops') },
    { title: 'p50 ms', cell: (row) => formatNumber(row.p50Ms, 'ms') },
    { title: 'p99 ms', cell: (row) => formatNumber(row.p99Ms, 'ms') },
  ];
  if (optional('p999Ms')) columns.push({ title: 'p999 ms', cell: (row) => formatNumber(row.p999Ms, 'ms') });
  if (optional('messagesPerCommit')) columns.push({ title: 'msgs/commit', cell: (row) => formatNumber(row.messagesPerCommit) });
  if (optional('fsyncsPerSec')) columns.push({ title: 'fsyncs/s', cell: (row) => formatNumber(row.fsyncsPerSec, 'ops') });
  if (optional('bytesPerOp')) columns.push({ title: 'B/op', cell: (row) => formatNumber(row.bytesPerOp, 'ops') });
  if (optional('peakRssMbByNode')) {
    columns.push({ title: 'peak RSS MB by node', cell: (row) => (row.peakRssMbByNode === undefined ? '-' : Object.entries(row.peakRssMbByNode).map(([id, mb]) => `${id} ${mb.toFixed(0)}`).join(', ')), left: true });
  } else if (optional('peakRssMb')) columns.push({ title: 'RSS MB', cell: (row) => formatNumber(row.peakRssMb) });
  for (const [key, title] of ratioColumns) columns.push({ title, cell: (row) => formatNumber(row.ratio[key], 'ratio') });
  if (optional('note')) columns.push({ title: 'note', cell: (row) => row.note ?? '', left: true });
  return columns;
}

/** How a table is headed: a report measured now shows the machine's load; a kept one cannot. */
export interface FormatInit {
  /** The report comes from a results file (`--from`), not from this run. @default false */
  readonly kept?: boolean;
}

/** The line above a report's table: the suite and the machine, with its load when it ran. */
function headerOf(report: SuiteReport, init: FormatInit): string {
  const head = `suite ${report.suite}: ${report.machine.cpus} CPUs, Node.js ${report.machine.node}`;
  // The load the report holds (when its suite ended); a report from before it was kept has none.
  const [one, five] = report.machine.loadAverage ?? (init.kept === true ? [] : loadavg());
  const load = one === undefined || five === undefined ? '' : `, load average ${one.toFixed(1)} / ${five.toFixed(1)} (1 / 5 min)`;
  return `${head}${load}${init.kept === true ? ' (kept results)' : ''}`;
}

/** A suite's report as a text table with a header line. */
export function formatReport(report: SuiteReport, init: FormatInit = {}): string {
  const columns = columnsOf(report);
  const cells = report.results.map((row) => columns.map((column) => column.cell(row)));
  const widths = columns.map((column, i) => Math.max(column.title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => (columns[i]!.left === true ? value.padEnd(widths[i]!) : value.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [headerOf(report, init), line(columns.map((column) => column.title)), ...cells.map(line)].join('\n');
}

/** A suite's report as a Markdown table (GitHub flavour) under its header line, for docs/benchmarks.md. */
export function formatReportMarkdown(report: SuiteReport, init: FormatInit = {}): string {
  const columns = columnsOf(report);
  const line = (values: readonly string[]) => `| ${values.map((value) => value.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [
    `**${headerOf(report, init)}**`,
    '',
    line(columns.map((column) => column.title)),
    `|${columns.map((column) => (column.left === true ? ' --- ' : ' ---: ')).join('|')}|`,
    ...report.results.map((row) => line(columns.map((column) => column.cell(row)))),
  ].join('\n');
}

/** Every report of a run as `--out` writes it: a JSON array of suite reports. */
export function formatResultsFile(reports: readonly SuiteReport[]): string {
  return `${JSON.stringify(reports, null, 2)}\n`;
}
