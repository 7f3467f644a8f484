/**
 * `greenraft bench --chart FILE`: the run's figures as one SVG, rendered in Node by the same
 * vega-lite → vega → SVG path as `greenraft paper`'s figures. Panels for what the run measured:
 * write throughput against concurrency (memory, cluster), commit latency by policy
 * (heterogeneous), and messages per commit against cluster size (scale).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_FONT, renderSvg } from '../paper/charts.js';
import type { SuiteReport } from './report.js';

const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

/** One panel of the chart: a unit spec with its own data, as vega-lite's horizontal concatenation takes it. */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

function throughputPanel(reports: readonly SuiteReport[]): Panel | undefined {
  const points = reports
    .filter((report) => report.suite === 'memory' || report.suite === 'cluster')
    .flatMap((report) =>
      report.results
        .filter((row) => row.opsPerSec !== null && row.concurrency !== null && row.policy !== null && !/read/.test(row.name))
        .map((row) => ({ series: `${report.suite}, ${row.nodes} nodes, ${row.policy}`, concurrency: row.concurrency, opsPerSec: row.opsPerSec })),
    );
  if (points.length === 0) return undefined;
  return {
    title: { text: 'Writes per second', subtitle: 'closed-loop clients, 128-byte writes' },
    width: 300,
    height: 220,
    data: { values: points },
    mark: { type: 'line', point: true, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'concurrency', type: 'quantitative', scale: { type: 'log', domain: [1, 1024] }, title: 'clients (log scale)' },
      y: { field: 'opsPerSec', type: 'quantitative', title: 'writes/s' },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: PALETTE } },
    },
  };
}

/** The heterogeneous suite's rows under one short label per policy, the same on every cluster size. */
export function heterogeneousSeries(name: string): string {
  if (/latency scoring, defaults/.test(name)) return 'weighted, latency scores (defaults)';
  if (/latency scoring, rankRatio/.test(name)) return 'weighted, latency scores (tuned)';
  if (/paper scoring/.test(name)) return 'weighted, paper scores';
  return 'classic';
}

const HETEROGENEOUS_SERIES = ['classic', 'weighted, paper scores', 'weighted, latency scores (defaults)', 'weighted, latency scores (tuned)'];

function latencyPanel(reports: readonly SuiteReport[]): Panel | undefined {
  const points = reports
    .filter((report) => report.suite === 'heterogeneous')
    .flatMap((report) =>
      report.results.filter((row) => row.p50Ms !== null).map((row) => ({ cluster: `${row.nodes} nodes`, policy: heterogeneousSeries(row.name), p50Ms: row.p50Ms })),
    );
  if (points.length === 0) return undefined;
  return {
    title: { text: 'Commit latency, heterogeneous links', subtitle: 'p50, ms; 16 clients' },
    width: 300,
    height: 220,
    data: { values: points },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'cluster', type: 'nominal', title: null, axis: { labelAngle: 0 }, sort: ['5 nodes', '30 nodes'] },
      xOffset: { field: 'policy', type: 'nominal', sort: HETEROGENEOUS_SERIES },
      y: { field: 'p50Ms', type: 'quantitative', title: 'p50 commit latency (ms)' },
      color: { field: 'policy', type: 'nominal', title: null, sort: HETEROGENEOUS_SERIES, scale: { domain: HETEROGENEOUS_SERIES, range: PALETTE } },
    },
  };
}

function scalePanel(reports: readonly SuiteReport[]): Panel | undefined {
  const points = reports
    .filter((report) => report.suite === 'scale')
    .flatMap((report) =>
      report.results
        .filter((row) => row.messagesPerCommit !== undefined && row.concurrency === 64)
        .map((row) => ({
          series: `${row.name.startsWith('core network') ? 'core network' : 'memory transport'}${/learners/.test(row.name) ? ', 5 voters + learners' : ', all voters'}`,
          nodes: row.nodes,
          messages: row.messagesPerCommit,
        })),
    );
  if (points.length === 0) return undefined;
  return {
    title: { text: 'Messages per commit', subtitle: '64 clients; learners replicate without voting' },
    width: 300,
    height: 220,
    data: { values: points },
    mark: { type: 'line', point: true, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'nodes', type: 'quantitative', scale: { type: 'log' }, title: 'nodes (log scale)' },
      y: { field: 'messages', type: 'quantitative', scale: { type: 'log' }, title: 'messages per write (log scale)' },
      color: { field: 'series', type: 'nominal', title: null, scale: { range: PALETTE } },
    },
  };
}

/** The chart's vega-lite spec, or `undefined` when the run measured nothing it draws. */
export function benchChartSpec(reports: readonly SuiteReport[]): TopLevelSpec | undefined {
  const panels = [throughputPanel(reports), latencyPanel(reports), scalePanel(reports)].filter((panel): panel is Panel => panel !== undefined);
  if (panels.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    hconcat: panels,
    resolve: { scale: { color: 'independent' } },
    config: {
      font: CHART_FONT,
      background: 'white',
      legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 },
      title: { anchor: 'start', fontSize: 13, subtitleFontSize: 11 },
    },
  };
}

/** The chart as an SVG document, or `undefined` when there is nothing to draw. */
export async function benchChartSvg(reports: readonly SuiteReport[]): Promise<string | undefined> {
  const spec = benchChartSpec(reports);
  return spec === undefined ? undefined : renderSvg(spec);
}
