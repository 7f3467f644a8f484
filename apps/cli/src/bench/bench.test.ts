/**
 * `greenraft bench`: the pieces that decide what the figures mean (percentiles, the closed loop,
 * the ratios, the comparison with kept results, the readers of the packages' bench output, the
 * heterogeneous suite's latency model) and the command end to end on its quick suites. The
 * figures themselves are never asserted: a benchmark prints them, a busy machine changes them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../args.js';
import { runCli } from '../cli.js';
import { benchSpec } from '../commands/bench.js';
import { capture } from '../test-support.js';
import { parseWsBench, repositoryRoot } from './bench-modules.js';
import { benchChartSpec, benchChartSvg, heterogeneousSeries } from './chart.js';
import { clusterSuite, metricSum, profilingArgs, residentMb, watchHeap } from './cluster.js';
import { cliEntry } from '../node-process.js';
import { compareReports, formatComparison, parseResults } from './compare.js';
import { accessLatencies, classicQuorumRttMs, paperInputs, smallestQuorum } from './heterogeneous.js';
import { measureMemoryRoundTrip } from './limits.js';
import { type BenchResult, formatNumber, formatReport, formatReportMarkdown, result, type SuiteReport } from './report.js';
import { closedLoop, LatencySamples } from './stats.js';
import { BenchKvStore, writePayload } from './workload.js';

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const report = (suite: SuiteReport['suite'], rows: { name: string; ops: number | null; p50: number | null; p99?: number }[]): SuiteReport => ({
  suite,
  machine: { cpus: 2, node: 'v20.20.0' },
  results: rows.map((row) => result({ name: row.name, nodes: 3, policy: 'classic', concurrency: 1, opsPerSec: row.ops, p50Ms: row.p50, p99Ms: row.p99 ?? null })),
});

describe('LatencySamples', () => {
  it('gives nearest-rank quantiles and the mean, across growth past its first buffer', () => {
    const samples = new LatencySamples();
    for (let i = 10_000; i >= 1; i--) samples.add(i);
    expect(samples.count).toBe(10_000);
    expect(samples.quantile(0.5)).toBe(5000);
    expect(samples.quantile(0.99)).toBe(9900);
    expect(samples.quantile(0.999)).toBe(9990);
    expect(samples.quantile(1)).toBe(10_000);
    expect(samples.quantile(0)).toBe(1);
    expect(samples.mean()).toBe(5000.5);
    samples.add(0);
    expect(samples.quantile(0)).toBe(0);
    expect(new LatencySamples().quantile(0.5)).toBeNaN();
  });
});

describe('closedLoop', () => {
  it('keeps each client to one operation at a time and counts only the measured window', async () => {
    let inFlight = 0;
    let most = 0;
    let started = 0;
    const loop = await closedLoop({
      concurrency: 4,
      seconds: 0.15,
      warmUpSeconds: 0.05,
      operation: async () => {
        started++;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
      },
    });
    expect(most).toBe(4);
    expect(loop.ops).toBeGreaterThan(0);
    // The warm-up's operations are not counted, nor their latencies.
    expect(loop.ops).toBeLessThan(started);
    expect(Math.abs(loop.latencies.count - loop.ops)).toBeLessThanOrEqual(4);
    expect(loop.latencies.quantile(0.5)).toBeGreaterThanOrEqual(1.5);
    expect(loop.opsPerSec).toBeCloseTo(loop.ops / 0.15, 6);
    expect(loop.errors).toBe(0);
  });

  it('counts failures apart from completions, and keeps the first', async () => {
    let n = 0;
    const loop = await closedLoop({
      concurrency: 1,
      seconds: 0.1,
      warmUpSeconds: 0,
      operation: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        if (n++ % 2 === 1) throw new Error(`failure ${n}`);
      },
    });
    expect(loop.errors).toBeGreaterThan(0);
    expect((loop.firstError as Error).message).toMatch(/^failure \d+$/);
    expect(loop.ops).toBeGreaterThan(0);
  });
});

describe('the bench workload', () => {
  it('writes 128 bytes under one of 1024 keys, and the store snapshots and restores them', () => {
    const store = new BenchKvStore();
    for (let n = 0; n < 3000; n++) store.apply({ index: n + 1, term: 1, data: writePayload(n) });
    expect(writePayload(7).byteLength).toBe(128);
    expect(store.values.size).toBe(1024);
    expect(store.applied).toBe(3000);
    const copy = new BenchKvStore();
    copy.restore(store.snapshot());
    expect(copy.values.size).toBe(1024);
    expect([...copy.values.get(5)!]).toEqual([...writePayload(2053).subarray(4)]);
  });
});

describe('result and the report table', () => {
  it('rounds figures, keeps only finite ratios, and prints the columns the rows have', () => {
    const row = result({
      name: 'memory 3 nodes classic c1',
      nodes: 3,
      policy: 'classic',
      concurrency: 1,
      opsPerSec: 12_345.6,
      p50Ms: 0.0312345,
      p99Ms: 0.2,
      p999Ms: 1.23456,
      ratio: { latency: 7.81234, throughput: Number.NaN, weightedToClassic: undefined },
    });
    expect(row).toEqual({
      name: 'memory 3 nodes classic c1',
      nodes: 3,
      policy: 'classic',
      concurrency: 1,
      opsPerSec: 12_346,
      p50Ms: 0.0312,
      p99Ms: 0.2,
      ratio: { latency: 7.812 },
      p999Ms: 1.2346,
    });
    const table = formatReport({ suite: 'memory', machine: { cpus: 2, node: 'v20.20.0' }, results: [row] });
    const [header, columns, line] = table.split('\n');
    expect(header).toMatch(/^suite memory: 2 CPUs, Node\.js v20\.20\.0, load average/);
    expect(columns!.split(/\s{2,}/)).toEqual(['name', 'nodes', 'policy', 'conc', 'ops/s', 'p50 ms', 'p99 ms', 'p999 ms', 'p50/limit']);
    expect(line!.split(/\s{2,}/)).toEqual(['memory 3 nodes classic c1', '3', 'classic', '1', '12,346', '0.031', '0.200', '1.23', '7.81×']);
    const markdown = formatReportMarkdown({ suite: 'memory', machine: { cpus: 2, node: 'v20.20.0' }, results: [{ ...row, note: 'a | b' }] }).split('\n');
    expect(markdown[0]).toMatch(/^\*\*suite memory: 2 CPUs/);
    expect(markdown.slice(2)).toEqual([
      '| name | nodes | policy | conc | ops/s | p50 ms | p99 ms | p999 ms | p50/limit | note |',
      '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      '| memory 3 nodes classic c1 | 3 | classic | 1 | 12,346 | 0.031 | 0.200 | 1.23 | 7.81× | a \\| b |',
    ]);
  });

  it('keeps small ratios to their significant digits, in the JSON and in the table', () => {
    const row = result({
      name: 'core network, 9 voters, c1',
      nodes: 9,
      policy: 'classic',
      concurrency: 1,
      opsPerSec: 5407,
      p50Ms: 0.103,
      p99Ms: 2.77,
      ratio: { throughput: 5407 / 13_416_661, throughputLimit: 13_416_661.4, latency: 1258.345, latencyLimitMs: 0.0000745 },
    });
    expect(row.ratio).toEqual({ throughput: 0.000403, throughputLimit: 13_416_661, latency: 1258, latencyLimitMs: 0.0000745 });
    expect(['ratio', 'ratio', 'ratio', 'ratio', 'ratio', 'ratio'].map((kind, i) => formatNumber([0.000403, 0.0021, 0.42, 1.034, 85.83, 1258][i], kind as 'ratio'))).toEqual([
      '0.00040×',
      '0.0021×',
      '0.42×',
      '1.03×',
      '85.8×',
      '1258×',
    ]);
    expect(formatNumber(0, 'ratio')).toBe('0×');
    expect(formatNumber(4.2e-8, 'ratio')).toBe('0.000000042×');
  });

  it('prints each node\u2019s peak RSS, and the load average a report holds', () => {
    const row = result({
      name: 'cluster 3 nodes writes c1',
      nodes: 3,
      policy: 'classic',
      concurrency: 1,
      opsPerSec: 200,
      p50Ms: 3,
      p99Ms: 9,
      peakRssMb: 207.04,
      peakRssMbByNode: { n1: 157.26, n2: 207.04, n3: 155.5 },
      note: 'leader n2',
    });
    expect(Object.keys(row)).toEqual(['name', 'nodes', 'policy', 'concurrency', 'opsPerSec', 'p50Ms', 'p99Ms', 'ratio', 'peakRssMb', 'peakRssMbByNode', 'note']);
    expect(row.peakRssMbByNode).toEqual({ n1: 157.3, n2: 207, n3: 155.5 });
    const kept: SuiteReport = { suite: 'cluster', machine: { cpus: 2, node: 'v20.20.0', loadAverage: [4.83, 7.01] }, results: [row] };
    const [header, columns, line] = formatReport(kept, { kept: true }).split('\n');
    expect(header).toBe('suite cluster: 2 CPUs, Node.js v20.20.0, load average 4.8 / 7.0 (1 / 5 min) (kept results)');
    expect(columns).toContain('peak RSS MB by node');
    expect(columns).not.toContain('RSS MB  ');
    expect(line).toContain('n1 157, n2 207, n3 156');
    // A report kept before reports held their load says nothing of it.
    expect(formatReport({ ...kept, machine: { cpus: 2, node: 'v20.20.0' } }, { kept: true }).split('\n')[0]).toBe('suite cluster: 2 CPUs, Node.js v20.20.0 (kept results)');
  });
});

describe('--compare', () => {
  const before = [report('memory', [{ name: 'a', ops: 100, p50: 2, p99: 4 }, { name: 'gone', ops: 1, p50: 1 }])];
  const now = [report('memory', [{ name: 'a', ops: 150, p50: 1, p99: 4 }, { name: 'new', ops: 5, p50: 5 }]), report('scale', [{ name: 'a', ops: 1, p50: 1 }])];

  it('pairs rows by suite and name and gives each figure its change', () => {
    const { rows, missing } = compareReports(now, before);
    expect(rows).toEqual([
      {
        suite: 'memory',
        name: 'a',
        opsPerSec: { now: 150, before: 100, change: 0.5 },
        p50Ms: { now: 1, before: 2, change: -0.5 },
        p99Ms: { now: 4, before: 4, change: 0 },
      },
    ]);
    expect(missing).toEqual(['memory: new', 'scale: a']);
    const text = formatComparison('kept.json', now, before);
    expect(text).toMatch(/^change against kept\.json/);
    expect(text).toMatch(/memory\s+a\s+100\s+150\s+\+50\.0 %\s+2\.000\s+1\.000\s+-50\.0 %\s+4\.000\s+4\.000\s+\+0\.0 %/);
    expect(text).toContain('not in kept.json: memory: new; scale: a');
  });

  it('reads what --out writes, one report, or the lines of --json, and refuses anything else by name', () => {
    const reports = [...now];
    expect(parseResults(JSON.stringify(reports), 'f')).toEqual(reports);
    expect(parseResults(JSON.stringify(reports[0]), 'f')).toEqual([reports[0]]);
    expect(parseResults(`${reports.map((r) => JSON.stringify(r)).join('\n')}\n`, 'f')).toEqual(reports);
    expect(() => parseResults('not json', 'kept.json')).toThrow(new InvalidArgumentError('--compare: kept.json is not JSON (a results file from --out, or the lines of --json)'));
    expect(() => parseResults('{"suite":"fast","results":[]}', 'kept.json')).toThrow(/kept\.json: report 1 has no known "suite"/);
    expect(() => parseResults('[{"suite":"memory"}]', 'kept.json')).toThrow(/report 1 has no "results" array/);
    expect(() => parseResults('{"suite":"memory","results":[{"opsPerSec":1}]}', 'kept.json')).toThrow(/a result without a "name"/);
  });
});

describe('the readers of the packages\u2019 benches', () => {
  it('reads the transport-websocket bench\u2019s median block, in µs, as ms', () => {
    const text = [
      'payloads: AppendEntries of 32 × 128 B entries = 4272 B encoded by the transport (4272 B by the floor\u2019s msgpackr); response 11 B',
      '  run 1: raw ws (the limit)           134.5 k msg/s   575 MB/s   rtt mean   135 µs  p50    50 µs  p99   2320 µs',
      'median of 3 runs:',
      'raw ws (the limit)           141.0 k msg/s   602 MB/s   rtt mean   105 µs  p50    37 µs  p99   2288 µs',
      'ws + msgpack codec (floor)    19.1 k msg/s    82 MB/s   rtt mean   223 µs  p50    73 µs  p99   3761 µs',
      'websocket transport           29.8 k msg/s   127 MB/s   rtt mean   193 µs  p50    90 µs  p99   1660 µs',
      'transport / raw: message rate 0.22× (target ≥ 0.80)',
    ].join('\n');
    const parsed = parseWsBench(text);
    expect(parsed.appendBytes).toBe(4272);
    expect(parsed.entriesPerMessage).toBe(32);
    expect(parsed.lines).toEqual([
      { label: 'raw', messagesPerSecond: 141_000, rttMeanMs: 0.105, rttP50Ms: 0.037, rttP99Ms: 2.288 },
      { label: 'floor', messagesPerSecond: 19_100, rttMeanMs: 0.223, rttP50Ms: 0.073, rttP99Ms: 3.761 },
      { label: 'transport', messagesPerSecond: 29_800, rttMeanMs: 0.193, rttP50Ms: 0.09, rttP99Ms: 1.66 },
    ]);
    // Without a median block, the last line of each system counts.
    expect(parseWsBench('raw ws (the limit)  10.0 k msg/s  1 MB/s  rtt mean 5 µs  p50 4 µs  p99 9 µs').lines).toEqual([
      { label: 'raw', messagesPerSecond: 10_000, rttMeanMs: 0.005, rttP50Ms: 0.004, rttP99Ms: 0.009 },
    ]);
    expect(parseWsBench('nothing here').lines).toEqual([]);
  });

  it('finds the repository the command runs from', () => {
    const root = repositoryRoot();
    expect(root).toBeDefined();
    expect(readFileSync(join(root!, 'packages', 'storage-wal', 'bench', 'wal.mjs'), 'utf8')).toContain('--json');
    expect(repositoryRoot('/')).toBeUndefined();
  });

  it('sums a Prometheus metric over its label sets, and only that metric', () => {
    const page = [
      '# HELP greenraft_network_peer_sent_bytes_total Bytes',
      'greenraft_network_peer_sent_bytes_total{To="n2"} 100',
      'greenraft_network_peer_sent_bytes_total{To="n3"} 250.5',
      'greenraft_network_peer_sent_bytes_total_extra 7',
      'greenraft_disk_wal_fsync_duration_seconds_count 42',
    ].join('\n');
    expect(metricSum(page, 'greenraft_network_peer_sent_bytes_total')).toBe(350.5);
    expect(metricSum(page, 'greenraft_disk_wal_fsync_duration_seconds_count')).toBe(42);
    expect(metricSum(page, 'absent')).toBe(0);
  });
});

describe('the heterogeneous suite\u2019s latency model', () => {
  it('places the 5-node access latencies by a seeded shuffle, the same on every run', () => {
    const five = accessLatencies(5);
    expect([...five.values()].sort((a, b) => a - b)).toEqual([0, 3, 6, 9, 12]);
    expect(accessLatencies(5)).toEqual(five);
    expect(accessLatencies(5, 2)).not.toEqual(five);
    const thirty = [...accessLatencies(30).values()];
    expect(thirty).toHaveLength(30);
    for (const value of thirty) expect(value >= 0 && value <= 25 && Number.isInteger(value * 2)).toBe(true);
  });

  it('waits for the ⌊n/2⌋-th fastest follower of a classic leader', () => {
    const access = new Map([
      ['a', 0],
      ['b', 3],
      ['c', 6],
      ['d', 9],
      ['e', 12],
    ]);
    // Leader a: followers at 6, 12, 18, 24 ms; a quorum of 3 needs the second: 12 ms.
    expect(classicQuorumRttMs(access, 'a')).toBe(12);
    expect(classicQuorumRttMs(access, 'e')).toBe(2 * (12 + 3));
  });

  it('counts how few of the heaviest voters form a quorum', () => {
    expect(smallestQuorum(new Map([['a', 1], ['b', 1], ['c', 1], ['d', 1], ['e', 1]]))).toBe(3);
    expect(smallestQuorum(new Map([['a', 100], ['b', 50], ['c', 25], ['d', 13], ['e', 6]]))).toBe(1);
    expect(smallestQuorum(new Map([['a', 94], ['b', 50], ['c', 25], ['d', 13], ['e', 6]]))).toBe(2);
  });

  it('takes the paper\u2019s Table 1 nodes in generator\u2013consumer pairs', () => {
    const inputs = paperInputs(5);
    expect(inputs.map((input) => [input.id, input.kind, input.creditWeight])).toEqual([
      ['n1', 'generation', 97.67],
      ['n2', 'consumption', 95.57],
      ['n3', 'generation', 86.47],
      ['n4', 'consumption', 95.6],
      ['n5', 'generation', 84.71],
    ]);
    // Node 2 of the paper generated 200 kWh from renewables: 0.2 certificates; node 17 consumed 180 of 200.
    expect(inputs[2]).toMatchObject({ contracted: 200, actual: 200, greenCertificates: 0.2 });
    expect(inputs[3]).toMatchObject({ contracted: 200, actual: 180, greenCertificates: 0 });
    expect(paperInputs(30)).toHaveLength(30);
  });
});

describe('the limits measured in process', () => {
  it('times memory-transport round trips', async () => {
    const samples = await measureMemoryRoundTrip(0.05);
    expect(samples.count).toBeGreaterThan(10);
    expect(samples.quantile(0.5)).toBeGreaterThan(0);
  });
});

describe('the chart', () => {
  it('draws a panel for each kind of figure the run has, as SVG', async () => {
    const memory = report('memory', [{ name: 'memory 3 nodes classic c1', ops: 100, p50: 1 }]);
    expect(benchChartSpec([report('limits', [{ name: 'x', ops: 1, p50: 1 }])])).toBeUndefined();
    const spec = benchChartSpec([memory, { ...report('heterogeneous', [{ name: '5 nodes classic', ops: 10, p50: 20 }]) }]) as { hconcat: { title: { text: string } }[] };
    expect(spec.hconcat.map((panel) => panel.title.text)).toEqual(['Writes per second', 'Commit latency, heterogeneous links']);
    expect(
      ['5 nodes classic', '30 nodes weighted, paper scoring', '5 nodes weighted, latency scoring, defaults (any 2 may fail)', '30 nodes weighted, latency scoring, rankRatio 0.5, unmeasured 0, tolerateFailures 6'].map(heterogeneousSeries),
    ).toEqual(['classic', 'weighted, paper scores', 'weighted, latency scores (defaults)', 'weighted, latency scores (tuned)']);
    const svg = await benchChartSvg([memory]);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('Writes per second');
  });
});

describe('greenraft bench', () => {
  it('refuses bad arguments before measuring anything', async () => {
    const suite = await capture(() => runCli(['bench', '--suite', 'fast']));
    expect(suite).toEqual({
      code: 2,
      stdout: '',
      stderr: "greenraft bench: --suite takes one of limits, memory, cluster, scale, heterogeneous, all, not 'fast' (run 'greenraft bench --help' for the options)\n",
    });
    const seconds = await capture(() => runCli(['bench', '--seconds', '0']));
    expect(seconds.code).toBe(2);
    expect(seconds.stderr).toContain("--seconds takes a number of seconds from 0.05 to 600, not '0'");
    const missing = join(scratch, 'missing.json');
    const compare = await capture(() => runCli(['bench', '--suite', 'memory', '--compare', missing]));
    expect(compare).toEqual({ code: 2, stdout: '', stderr: `greenraft bench: --compare: cannot read ${missing}: ENOENT\n` });
  });

  it('runs a suite: the limits first, one JSON object per suite, kept with --out, compared with --compare', async () => {
    const out = join(scratch, 'results.json');
    const run = await capture(() => runCli(['bench', '--suite', 'memory', '--seconds', '0.05', '--json', '--out', out]));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as SuiteReport);
    expect(lines.map((line) => line.suite)).toEqual(['limits', 'memory']);
    const [limits, memory] = lines as [SuiteReport, SuiteReport];
    expect(Object.keys(memory)).toEqual(['suite', 'machine', 'results']);
    expect(Object.keys(memory.machine)).toEqual(['cpus', 'node', 'loadAverage']);
    expect(memory.machine.loadAverage).toHaveLength(2);
    expect(memory.machine.node).toBe(process.version);
    expect(limits.results.map((row) => row.name)).toEqual(['state machine apply, no replication', 'memory transport round trip']);
    expect(memory.results).toHaveLength(12);
    for (const row of memory.results) {
      expect(Object.keys(row).slice(0, 8)).toEqual(['name', 'nodes', 'policy', 'concurrency', 'opsPerSec', 'p50Ms', 'p99Ms', 'ratio']);
      expect(row.opsPerSec).toBeGreaterThan(0);
      expect(row.p50Ms).toBeGreaterThan(0);
      expect(row.ratio.latencyLimitMs).toBeGreaterThan(0);
      expect(row.ratio.throughputLimit).toBeGreaterThan(0);
      expect(row.ratio.weightedToClassic === undefined).toBe(row.policy === 'classic');
    }
    expect(memory.results.map((row) => `${row.nodes} ${row.policy} ${row.concurrency}`)).toEqual(
      [3, 5].flatMap((nodes) => [1, 64, 1024].flatMap((c) => [`${nodes} classic ${c}`, `${nodes} weighted ${c}`])),
    );
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(lines);

    // --from prints kept reports again, measuring nothing; --suite picks among them.
    const replayed = await capture(() => runCli(['bench', '--from', out, '--suite', 'memory', '--json']));
    expect(replayed).toEqual({ code: 0, stdout: `${JSON.stringify(memory)}\n`, stderr: '' });
    const both = await capture(() => runCli(['bench', '--from', out, '--json', '--markdown']));
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--json and --markdown are two outputs: give one');
    const table = await capture(() => runCli(['bench', '--from', out, '--suite', 'limits']));
    expect(table.stdout).toMatch(/^\nsuite limits: \d+ CPUs, Node\.js v[\d.]+, load average [\d.]+ \/ [\d.]+ \(1 \/ 5 min\) \(kept results\)\nname /);

    // --only picks kept rows by name as a run would measure them: the limits whole, the Raft rows it names.
    const only = await capture(() => runCli(['bench', '--from', out, '--only', '3 nodes classic c1', '--json']));
    expect(only.code).toBe(0);
    expect(only.stderr).toBe('');
    expect(only.stdout.trim().split('\n').map((line) => JSON.parse(line) as SuiteReport)).toEqual([
      limits,
      { ...memory, results: memory.results.filter((row) => row.name === 'memory 3 nodes classic c1' || row.name === 'memory 3 nodes classic c1024') },
    ]);
    const onlyNone = await capture(() => runCli(['bench', '--from', out, '--suite', 'memory', '--only', 'no such row', '--json']));
    expect(onlyNone).toEqual({
      code: 0,
      stdout: `${JSON.stringify({ ...memory, results: [] })}\n`,
      stderr: `greenraft bench: --only 'no such row' is in the name of no row of the memory suite in ${out}\n`,
    });

    // The kept file, one row doctored: --compare prints the change against it.
    const kept = lines.map((line) => ({ ...line, results: line.results.map((row) => ({ ...row, opsPerSec: 1 })) }));
    writeFileSync(out, JSON.stringify(kept));
    const compared = await capture(() => runCli(['bench', '--suite', 'scale', '--seconds', '0.05', '--compare', out]));
    expect(compared.code).toBe(0);
    expect(compared.stdout).toContain('suite scale:');
    expect(compared.stdout).toMatch(/change against .*results\.json/);
    expect(compared.stdout).toMatch(/limits\s+state machine apply, no replication\s+1\s+[\d,]+\s+\+[\d.]+ %/);
    expect(compared.stdout).toMatch(/not in .*results\.json: scale: memory transport, 3 voters, c1;/);
  }, 120_000);

  it('measures only the rows --only names, the limits still first', async () => {
    const empty = await capture(() => runCli(['bench', '--only', ' ']));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--only takes the text of a row name, e.g. 'memory 3 nodes classic c1024'");
    // A substring: 'classic c1' is in the names of the c1 and the c1024 rows.
    const memory = await capture(() => runCli(['bench', '--suite', 'memory', '--only', '3 nodes classic c1', '--seconds', '0.05', '--json']));
    expect(memory.code).toBe(0);
    const [limits, measured] = memory.stdout.trim().split('\n').map((line) => JSON.parse(line) as SuiteReport) as [SuiteReport, SuiteReport];
    expect(limits.suite).toBe('limits');
    expect(measured.results.map((row) => row.name)).toEqual(['memory 3 nodes classic c1', 'memory 3 nodes classic c1024']);
    // The weighted cluster did not run, so no row has a ratio to it.
    for (const row of measured.results) expect(row.ratio.weightedToClassic, row.name).toBeUndefined();
    const none = await capture(() => runCli(['bench', '--suite', 'memory', '--only', 'no such row', '--seconds', '0.05', '--json']));
    expect(none.code).toBe(0);
    expect(none.stdout.trim().split('\n').map((line) => (JSON.parse(line) as SuiteReport).results.length)).toEqual([2, 0]);
    expect(none.stderr).toBe("greenraft bench: --only 'no such row' is in the name of no row of the memory suite; only the limits were measured\n");
  }, 60_000);

  it('gives every scale row, core network included, its ratios to the limits', async () => {
    const run = await capture(() => runCli(['bench', '--suite', 'scale', '--only', ', 5 voters', '--seconds', '0.05', '--json']));
    expect(run.code).toBe(0);
    const [limits, scale] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as SuiteReport) as [SuiteReport, SuiteReport];
    const apply = limits.results.find((row) => row.name === 'state machine apply, no replication')!.opsPerSec!;
    const memoryRtt = limits.results.find((row) => row.name === 'memory transport round trip')!.p50Ms!;
    expect(scale.results.map((row) => row.name)).toEqual([
      'memory transport, 5 voters, c1',
      'memory transport, 5 voters, c64',
      'memory transport, 5 voters + 25 learners, c1',
      'memory transport, 5 voters + 25 learners, c64',
      'core network, 5 voters, c1',
      'core network, 5 voters, c64',
      'core network, 5 voters + 25 learners, c1',
      'core network, 5 voters + 25 learners, c64',
      'core network, 5 voters + 95 learners, c1',
      'core network, 5 voters + 95 learners, c64',
    ]);
    for (const row of scale.results) {
      expect(row.ratio.throughputLimit, row.name).toBe(apply);
      expect(row.ratio.throughput, row.name).toBeCloseTo(row.opsPerSec! / apply, 3);
      // The memory transport's floor is its round trip; the core network's, the apply time of a round's writes.
      const limit = row.name.startsWith('memory') ? memoryRtt : (1000 * row.concurrency!) / apply;
      // Within the rounding of the printed figures (ms to the 0.1 µs).
      expect(Math.abs(row.ratio.latencyLimitMs! / limit - 1), row.name).toBeLessThan(0.02);
      expect(Math.abs(row.ratio.latency! / (row.p50Ms! / limit) - 1), row.name).toBeLessThan(0.02);
    }
  }, 60_000);

  it('gives heterogeneous rows a throughput ratio: the closed loop\u2019s ceiling on the injected round trip', async () => {
    const run = await capture(() => runCli(['bench', '--suite', 'heterogeneous', '--only', '5 nodes classic', '--seconds', '0.05', '--json']));
    expect(run.code).toBe(0);
    const heterogeneous = JSON.parse(run.stdout.trim().split('\n')[1]!) as SuiteReport;
    expect(heterogeneous.results.map((row) => row.name)).toEqual(['5 nodes classic']);
    const [row] = heterogeneous.results as [BenchResult];
    // Access latencies 0, 3, 6, 9 and 12 ms: the median leader waits 18 ms for its quorum, so 16 clients commit at most 889 times a second.
    expect(row.ratio.latencyLimitMs).toBe(18);
    expect(row.ratio.throughputLimit).toBe(889);
    expect(row.ratio.throughput).toBeCloseTo(row.opsPerSec! / ((16 * 1000) / 18), 3);
    expect(row.ratio.p50ToClassic).toBeUndefined();
  }, 60_000);
});

describe('the cluster suite\u2019s helpers', () => {
  it('reads a process\u2019s peak resident set from /proc', () => {
    // The resident set now, read first: the peak read after it can only be as high or higher.
    const now = existsSync('/proc/self/status') ? Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024 : undefined;
    const own = residentMb(process.pid);
    if (now !== undefined) {
      expect(own).toBeGreaterThanOrEqual(now);
      expect(now).toBeGreaterThan(10);
    } else expect(own).toBeUndefined();
    expect(residentMb(undefined)).toBeUndefined();
    expect(residentMb(2 ** 30)).toBeUndefined();
  });

  it('watches a node\u2019s heap through the load, scrape after scrape, not only at its ends', async () => {
    // A /metrics page whose heap moves from scrape to scrape: its lowest and highest only mid-window,
    // and one scrape in between that fails (a connection dropped), which must leave a gap only.
    const usedMb = [40, 12, undefined, 55, 90, 30];
    const totalMb = [60, 60, undefined, 80, 120, 70];
    const MB = 1024 * 1024;
    let served = 0;
    const server = createServer((request, response) => {
      const i = Math.min(served, usedMb.length - 1);
      if (request.url === '/metrics') served++;
      if (usedMb[i] === undefined) {
        request.socket.destroy();
        return;
      }
      response.end(`nodejs_heap_size_used_bytes ${usedMb[i]! * MB}\nnodejs_heap_size_total_bytes ${totalMb[i]! * MB}\nnodejs_external_memory_bytes ${3 * MB}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const watch = watchHeap(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 10);
      const deadline = Date.now() + 10_000;
      while (served < usedMb.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const range = await watch.stop();
      expect(served).toBeGreaterThanOrEqual(usedMb.length);
      expect(range).toEqual({ usedMinMb: 12, usedMaxMb: 90, totalMaxMb: 120 });
      // Stopped means stopped: no scrape after it.
      const after = served;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(served).toBe(after);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('hands the profiler flags of the bench, and only those, to its node processes', () => {
    expect(profilingArgs(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--heap-prof', '--heap-prof-interval=1024', '--max-old-space-size=64', '--cpu-profile', '--inspect'])).toEqual([
      '--cpu-prof',
      '--cpu-prof-dir=/tmp/p',
      '--heap-prof',
      '--heap-prof-interval=1024',
    ]);
    expect(profilingArgs([])).toEqual([]);
  });
});

describe('the cluster suite', () => {
  /** Processes whose command line mentions `text` (Linux: /proc), other than this one. */
  function processesMentioning(text: string): number[] {
    const found: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    return found;
  }

  it.runIf(existsSync(cliEntry()) && existsSync('/proc/self/cmdline'))(
    'runs 3 node processes and a client process, reads their metrics, and leaves no process behind',
    async () => {
      const dataDir = mkdtempSync(join(scratch, 'cluster-'));
      const lines: string[] = [];
      const suite = await clusterSuite({ seconds: 0.5, limits: {}, dataDir, log: (line) => lines.push(line) });
      expect(suite.suite).toBe('cluster');
      expect(suite.results.map((row) => row.name)).toEqual([
        ...[1, 64, 1024].map((c) => `cluster 3 nodes writes c${c}`),
        ...[1, 64, 1024].map((c) => `cluster 3 nodes ReadIndex reads c${c}`),
        ...[1, 64, 1024].map((c) => `cluster 3 nodes lease reads c${c}`),
      ]);
      let previous: Readonly<Record<string, number>> = {};
      for (const row of suite.results) {
        expect(row.opsPerSec, row.name).toBeGreaterThan(0);
        expect(row.note, row.name).not.toMatch(/failed/);
        // Each node's own high-water mark, never lower than after the load before; the largest is peakRssMb.
        const byNode = row.peakRssMbByNode!;
        expect(Object.keys(byNode), row.name).toEqual(['n1', 'n2', 'n3']);
        for (const [id, mb] of Object.entries(byNode)) {
          expect(mb, `${row.name} ${id}`).toBeGreaterThan(10);
          expect(mb, `${row.name} ${id}`).toBeGreaterThanOrEqual(previous[id] ?? 0);
        }
        expect(row.peakRssMb, row.name).toBe(Math.max(...Object.values(byNode)));
        const heap = /leader n[123]; peak RSS grew .*; leader's V8 heap during the load (\d+)–(\d+) MB in use, up to (\d+) MB held, external \d+ MB$/.exec(row.note ?? '');
        expect(heap, row.note).not.toBeNull();
        const [usedMin, usedMax, held] = heap!.slice(1).map(Number) as [number, number, number];
        expect(usedMin, row.name).toBeGreaterThan(0);
        expect(usedMin, row.name).toBeLessThanOrEqual(usedMax);
        expect(usedMax, row.name).toBeLessThanOrEqual(held);
        previous = byNode;
      }
      for (const row of suite.results.slice(0, 3)) {
        // Every write is made durable on the nodes and replicated to the followers.
        expect(row.fsyncsPerSec, row.name).toBeGreaterThan(0);
        expect(row.bytesPerOp, row.name).toBeGreaterThan(128);
      }
      for (const row of suite.results.slice(3)) expect(row.ratio.readsToWrites, row.name).toBeGreaterThan(0);
      expect(lines[0]).toMatch(/^cluster: starting 3 node processes/);
      expect(lines[1]).toMatch(/^cluster: pids n1 \d+, n2 \d+, n3 \d+, client \d+$/);
      expect(processesMentioning(dataDir)).toEqual([]);
      expect(readdirSync(dataDir)).toEqual([]);
    },
    120_000,
  );
});

describe('apps/cli/bench/cpu-profile.mjs, the reader of the profiles', () => {
  const script = join(repositoryRoot()!, 'apps', 'cli', 'bench', 'cpu-profile.mjs');
  const run = (args: readonly string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('splits the samples into idle, garbage collection and code, by package and by function', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0, scriptId: '1' });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4, 5, 6] },
        { id: 2, callFrame: frame('(idle)', '') },
        { id: 3, callFrame: frame('(garbage collector)', '') },
        { id: 4, callFrame: frame('propose', 'file:///repo/packages/raft/dist/index.js', 41) },
        { id: 5, callFrame: frame('copy', 'file:///repo/packages/transport-memory/dist/index.js', 9) },
        { id: 6, callFrame: frame('parse', 'file:///repo/packages/server/node_modules/zod/index.js', 3) },
      ],
      startTime: 0,
      endTime: 2_000_000,
      // 10 samples: 4 idle, 2 in the collector, 2 propose, 1 copy, 1 in zod (a dependency of the server, not the server).
      samples: [2, 2, 2, 2, 3, 3, 4, 4, 5, 6],
      timeDeltas: Array(10).fill(200_000),
    };
    const file = join(scratch, 'CPU.20260101.120000.4242.0.001.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    const json = run(['--json', '--top', '2', file]);
    expect(json.status, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ file, samples: 10, omitted: 0, seconds: 2, busy: 0.6, idle: 0.4, gc: 0.2, program: 0, javascript: 0.4 });
    expect(summary.places).toEqual([
      { place: '@greenraft/raft', share: 0.2, ofBusy: 2 / 6 },
      { place: '@greenraft/transport-memory', share: 0.1, ofBusy: 1 / 6 },
      { place: 'zod', share: 0.1, ofBusy: 1 / 6 },
    ]);
    expect(summary.functions).toEqual([
      { name: 'propose', place: '@greenraft/raft', line: 42, samples: 2, share: 0.2, ofBusy: 2 / 6 },
      { name: 'copy', place: '@greenraft/transport-memory', line: 10, samples: 1, share: 0.1, ofBusy: 1 / 6 },
    ]);
    const text = run([scratch]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${file}: process 4242, 10 samples over 2.0 s\n`);
    expect(text.stdout).toMatch(/busy\s+60\.0 %\s+idle\s+40\.0 %\s+garbage collector\s+20\.0 %/);
    expect(text.stdout).toMatch(/20\.0 %\s+33\.3 %\s+propose {2}@greenraft\/raft:42/);
    // Leaving out what ran inside propose: its own samples and those of what it called, nothing else.
    const nested = join(mkdtempSync(join(scratch, 'nested-')), 'nested.cpuprofile');
    const calls = { ...profile, nodes: profile.nodes.map((node) => (node.id === 4 ? { ...node, children: [7] } : node)) };
    calls.nodes.push({ id: 7, callFrame: frame('track', 'file:///repo/packages/raft/dist/index.js', 50) });
    writeFileSync(nested, JSON.stringify({ ...calls, samples: [2, 2, 2, 2, 3, 3, 4, 7, 5, 6] }));
    const without = JSON.parse(run(['--json', '--without', 'propose', nested]).stdout) as Record<string, unknown>;
    expect(without).toMatchObject({ samples: 8, omitted: 2, busy: 0.5, idle: 0.5, gc: 0.25 });
    expect((without.functions as { name: string }[]).map((entry) => entry.name)).toEqual(['copy', 'parse']);
    expect(run(['--without', 'propose', nested]).stdout).toContain('8 samples over 2.0 s (2 more left out)');
    const none = run([join(scratch, 'absent.cpuprofile')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^cpu-profile: /);
  });

  it('reads what node --cpu-prof writes', () => {
    const dir = mkdtempSync(join(scratch, 'prof-'));
    const busy = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', 'function spin(){let x=0;const end=Date.now()+300;while(Date.now()<end)x+=Math.sqrt(x+1);return x}spin()'], { timeout: 30_000 });
    expect(busy.status).toBe(0);
    const out = run(['--json', dir]);
    expect(out.status, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout) as { samples: number; busy: number; functions: { name: string }[] };
    expect(summary.samples).toBeGreaterThan(20);
    expect(summary.busy).toBeGreaterThan(0.5);
    expect(summary.functions.map((entry) => entry.name)).toContain('spin');
  });
});

describe('the profiling lines of docs/benchmarks.md', () => {
  const root = repositoryRoot()!;
  const lines = readFileSync(join(root, 'docs', 'benchmarks.md'), 'utf8')
    .split('\n')
    .filter((line) => /^node (--cpu-prof|apps\/cli\/bench\/cpu-profile\.mjs)/.test(line));
  /** A shell line's words: spaces split, single quotes group. */
  const words = (line: string) => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);

  it('profile a suite with the options the command takes, and read the folders they write', () => {
    const profiles = lines.filter((line) => line.startsWith('node --cpu-prof'));
    const readers = lines.filter((line) => line.includes('cpu-profile.mjs'));
    expect(profiles.length).toBeGreaterThanOrEqual(2);
    expect(readers).toHaveLength(profiles.length);
    for (const [i, line] of profiles.entries()) {
      const argv = words(line);
      const at = argv.indexOf('apps/cli/dist/bin.js');
      expect(argv[at + 1], line).toBe('bench');
      const parsed = parseCommandLine(benchSpec, argv.slice(at + 2));
      if (parsed === 'help') throw new Error(`${line}: parsed as a request for help`);
      expect(parsed.options.only, line).toBeDefined();
      expect(parsed.options.seconds, line).toBe(5);
      const dir = /--cpu-prof-dir=(\S+)/.exec(line)?.[1];
      expect(readers[i], line).toMatch(new RegExp(`${dir}$`));
    }
  });

  it('read profiles as documented, leaving out functions the bench has', () => {
    const limits = readFileSync(join(root, 'apps', 'cli', 'src', 'bench', 'limits.ts'), 'utf8');
    const profile = { nodes: [{ id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: 0, columnNumber: 0, scriptId: '0' } }], startTime: 0, endTime: 1, samples: [1], timeDeltas: [1] };
    const dir = mkdtempSync(join(scratch, 'documented-'));
    writeFileSync(join(dir, 'CPU.1.2.3.0.001.cpuprofile'), JSON.stringify(profile));
    for (const line of lines.filter((text) => text.includes('cpu-profile.mjs'))) {
      const argv = words(line).slice(1);
      const without = argv[argv.indexOf('--without') + 1];
      if (argv.includes('--without')) for (const name of without!.split(',')) expect(limits, `${line}: ${name}`).toContain(`function ${name}(`);
      const ran = spawnSync(process.execPath, [join(root, argv[0]!), ...argv.slice(1, -1), dir], { encoding: 'utf8', timeout: 30_000 });
      expect(ran.status, `${line}: ${ran.stderr}`).toBe(0);
      expect(ran.stdout).toContain('1 samples');
    }
  });
});
