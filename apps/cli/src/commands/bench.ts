/**
 * `greenraft bench`: benchmarks against the physical limits. Each suite prints a table (or, with
 * `--json`, one object per suite); `--out` keeps the run's results, `--compare` prints the change
 * against kept results, `--chart` draws the run as an SVG.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { booleanOption, commandSpec, defineCommand, type OptionSpec, type ParsedCommandLine, textOption } from '../args.js';
import { benchChartSvg } from '../bench/chart.js';
import { isBenchClientProcess, serveBenchClient } from '../bench/cluster-client.js';
import { compareReports, formatComparison, readResultsFile } from '../bench/compare.js';
import { wanted } from '../bench/memory.js';
import { formatReport, formatReportMarkdown, formatResultsFile, SUITES, type SuiteName, type SuiteReport } from '../bench/report.js';
import { runSuites } from '../bench/run.js';
import { print, printError } from '../io.js';

const suiteOption: OptionSpec<readonly SuiteName[]> = {
  value: 'NAME',
  help: `the suite to run: ${SUITES.join(', ')} or all`,
  defaultText: 'all',
  parse: (text, flag) => {
    if (text === undefined || text === 'all') return SUITES;
    if (!(SUITES as readonly string[]).includes(text)) throw new InvalidArgumentError(`${flag} takes one of ${SUITES.join(', ')}, all, not '${text}'`);
    return [text as SuiteName];
  },
};

const secondsOption: OptionSpec<number> = {
  value: 'S',
  help: 'seconds of each measured window (fractions allowed, 0.05 to 600)',
  defaultText: '2',
  parse: (text, flag) => {
    if (text === undefined) return 2;
    const value = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || !(value >= 0.05 && value <= 600)) throw new InvalidArgumentError(`${flag} takes a number of seconds from 0.05 to 600, not '${text}'`);
    return value;
  },
};

const fileOption = (help: string, value = 'FILE'): OptionSpec<string | undefined> => textOption({ value, help });

/** The table of `greenraft bench`. */
export const benchSpec = commandSpec({
  name: 'bench',
  summary: 'benchmarks against the physical limits: ws, disk, apply rate; memory, cluster, scale, heterogeneous',
  description: [
    'Measures the limits of this machine first (loopback ws round trip and message rate, fdatasync and',
    'grouped-write rates of the data disk, classic-level synced batches, the state machine apply rate,',
    'the memory transport round trip), then the Raft suites, each as ops/s, p50 and p99 latency and its',
    'ratio to the limit: latency / (client RTT + peer RTT + fsync), throughput / the raw rate that bounds it.',
    '  memory         3 and 5 nodes in process (memory transport and storage), classic and weighted,',
    '                 closed-loop clients at concurrency 1, 64 and 1024, 128-byte writes',
    '  cluster        3 node processes over WebSocket with WAL storage; clients through @greenraft/client',
    '                 in another process at concurrency 1, 64 and 1024; writes, then ReadIndex and lease reads',
    '  scale          3 to 30 nodes on the memory transport, 3 to 100 on the engine\u2019s core network:',
    '                 throughput, latency, messages per commit; 5 voters with learners for the rest',
    '  heterogeneous  5 and 30 nodes with injected link latencies: classic vs weighted (paper and latency scores)',
    'The disk and ws limits run the packages\u2019 own benches and need a greenraft repository with the',
    'packages built (npm run build).',
  ].join('\n'),
  options: {
    suite: suiteOption,
    seconds: secondsOption,
    json: booleanOption({ help: 'print one JSON object per suite (one per line) instead of tables' }),
    markdown: booleanOption({ help: 'print the tables as Markdown (as docs/benchmarks.md holds them)' }),
    out: fileOption('write every report of the run to FILE, a JSON array of the suite objects'),
    compare: fileOption('print the change of every figure against FILE (kept results from --out, or --json lines)'),
    chart: fileOption('draw the run as an SVG chart into FILE'),
    from: fileOption('measure nothing: print (and chart, compare) the reports kept in FILE instead of a new run'),
    dir: fileOption('where the disk limits and the cluster\u2019s data directories write (the data disk)', 'DIR'),
    only: {
      value: 'TEXT',
      help: 'measure only the rows whose name contains TEXT (the limits still run): one configuration, to profile it; with --from, print only those rows',
      parse: (text, flag) => {
        if (text !== undefined && text.trim() === '') throw new InvalidArgumentError(`${flag} takes the text of a row name, e.g. 'memory 3 nodes classic c1024'`);
        return text;
      },
    } satisfies OptionSpec<string | undefined>,
  },
  examples: [
    'greenraft bench --suite memory',
    'greenraft bench --out docs/bench/results.json --chart docs/bench/chart.svg',
    'greenraft bench --suite heterogeneous --seconds 1 --compare docs/bench/results.json',
    'greenraft bench --from docs/bench/results.json --markdown --chart docs/bench/chart.svg',
  ],
  notes: [
    [
      'With --json each suite prints {"suite":…,"machine":{"cpus":…,"node":…},"results":[{"name":…,"nodes":…,',
      '"policy":"classic|weighted","concurrency":…,"opsPerSec":…,"p50Ms":…,"p99Ms":…,"ratio":{…}}]} on one line',
      '(limits have "policy": null; "machine" also holds the "loadAverage" when the suite ended); some',
      'results also carry p999Ms, messagesPerCommit, fsyncsPerSec, bytesPerOp, peakRssMb (the largest',
      'node), peakRssMbByNode ({"n1":MB,…}, each node\u2019s VmHWM after the row\u2019s load) and a note. With',
      '--compare and --json, a last line {"compare":FILE,"rows":[…],"missing":[…]} holds the changes.',
      'The figures depend on the machine and on what else runs on it: a busy machine gives lower ones.',
    ].join('\n'),
    [
      'To profile one configuration: node --cpu-prof --cpu-prof-dir=DIR dist/bin.js bench --suite memory',
      "--only 'memory 3 nodes classic c1024' --seconds 5 (the cluster suite's node and client processes get",
      'the same profiler flags); apps/cli/bench/cpu-profile.mjs in the repository reads the profiles.',
    ].join('\n'),
  ],
  exitStatus: '0 measured, 2 bad arguments or a file that cannot be read or written.',
});

/** Runs `greenraft bench`; resolves with the exit code. */
export async function runBench({ options }: ParsedCommandLine<typeof benchSpec.options>): Promise<number> {
  if (isBenchClientProcess()) return serveBenchClient();
  if (options.json && options.markdown) throw new InvalidArgumentError('--json and --markdown are two outputs: give one');
  // Read the kept results first: a bad file fails now, not after minutes of measuring.
  let kept: SuiteReport[] | undefined;
  let replayed: SuiteReport[] | undefined;
  try {
    kept = options.compare === undefined ? undefined : await readResultsFile(options.compare, '--compare');
    replayed = options.from === undefined ? undefined : await readResultsFile(options.from, '--from');
  } catch (error) {
    return fileFailure(error);
  }
  const show = (report: SuiteReport) => {
    const kept = { kept: replayed !== undefined };
    if (options.json) print(JSON.stringify(report));
    else print(`\n${options.markdown ? formatReportMarkdown(report, kept) : formatReport(report, kept)}`);
  };
  let reports: SuiteReport[];
  if (replayed !== undefined) {
    // --only picks the kept rows a run with it would have measured: the limits whole, the Raft suites' rows by name.
    reports = replayed
      .filter((report) => options.suite.includes(report.suite))
      .map((report) => (report.suite === 'limits' ? report : { ...report, results: report.results.filter((row) => wanted(options, row.name)) }));
    for (const report of reports) show(report);
  } else {
    reports = await runSuites({
      suites: options.suite,
      seconds: options.seconds,
      dataDir: options.dir ?? tmpdir(),
      ...(options.only === undefined ? {} : { only: options.only }),
      log: (line) => {
        if (!options.json) printError(line);
      },
      onReport: show,
    });
  }
  const raft = options.suite.filter((suite) => suite !== 'limits');
  if (options.only !== undefined && raft.length > 0 && reports.every((report) => report.suite === 'limits' || report.results.length === 0)) {
    const outcome = replayed === undefined ? '; only the limits were measured' : ` in ${options.from}`;
    printError(`greenraft bench: --only '${options.only}' is in the name of no row of the ${raft.join(', ')} suite${raft.length > 1 ? 's' : ''}${outcome}`);
  }
  try {
    if (options.out !== undefined) await writeOutput(options.out, formatResultsFile(reports), '--out');
    if (options.chart !== undefined) {
      const svg = await benchChartSvg(reports);
      if (svg === undefined) printError(`greenraft bench: --chart: the ${options.suite.join(', ')} suite measured nothing the chart draws; ${options.chart} not written`);
      else await writeOutput(options.chart, svg, '--chart');
    }
  } catch (error) {
    return fileFailure(error);
  }
  if (kept !== undefined && options.compare !== undefined) {
    if (options.json) print(JSON.stringify({ compare: options.compare, ...compareReports(reports, kept) }));
    else print(`\n${formatComparison(options.compare, reports, kept)}`);
  }
  return 0;
}

/** A results or chart file that cannot be read or written: one line, exit 2 (the arguments were fine). */
function fileFailure(error: unknown): number {
  if (!(error instanceof InvalidArgumentError)) throw error;
  printError(`greenraft bench: ${error.message}`);
  return 2;
}

async function writeOutput(file: string, text: string, flag: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  } catch (error) {
    throw new InvalidArgumentError(`${flag}: cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** `greenraft bench`. */
export const benchCommand = defineCommand(benchSpec, runBench);
