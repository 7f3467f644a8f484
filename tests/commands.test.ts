/**
 * Every `greenraft` command line a user meets is run, as written, from the repository root:
 * the lines of the READMEs and docs/*.md (shell blocks and whole-command inline code), the
 * examples every `--help` prints, and the replay commands `sim` prints for a failing seed. The
 * curl examples of the guides run too, and print what their comments say (those of the control
 * API against the supervisor of the market cluster, with the token it printed).
 *
 * Nothing is skipped silently. Each line is one of five kinds, and the lists below name the lines
 * of the last four: the test fails when the docs or the help hold a line a list lacks, or a list
 * a line they no longer hold.
 * - A line that finishes by itself runs as written (`--out DIR`, `--dir DIR` and `--chart FILE`
 *   go to a fresh folder outside the repository). Identical lines run once.
 * - A long run (`LONG_RUNS`) runs shortened: fewer seeds and steps, elections or rounds, or a
 *   3-second chaos run.
 * - A line checked by parsing only (`PARSE_ONLY`: a benchmark that measures, an injected-bug
 *   chaos run, a restore) is parsed by the command's own argument table, as the command would
 *   parse it; one benchmark suite runs for real, once, with short windows.
 * - A line that talks to a cluster (`NEEDS_CLUSTER`: a command with `--endpoints`) runs against
 *   one of two real local clusters the test starts as the docs say (`greenraft cluster init`,
 *   then `greenraft cluster start`): a weighted KV cluster, and a weighted power-market cluster
 *   for `market` commands. `--endpoints` (or `GREENRAFT_ENDPOINTS`) points at it, files a line
 *   reads are written first, and the cluster is put in the state the line expects (the key it
 *   reads exists; the node it adds is running with `join: true`, and its addresses are used).
 * - A line that runs until stopped (`UNTIL_STOPPED`: `greenraft node`, `cluster`,
 *   `cluster start`, `dashboard`) runs until it prints its endpoints and they answer, then gets
 *   SIGTERM, as a terminal's job does (with `--stop-after S` it must stop by itself instead); it
 *   must exit and leave no process behind (checked by pid).
 * Commands still being written (`PENDING_COMMANDS`) are reported as todo, by line. The `Example`
 * sections of package READMEs are the README doc test's (tests/pack.test.ts): they run in a fresh
 * project.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { generateParticipantKeys, marketClient } from '@greenraft/power-market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OptionTable, type ParsedCommandLine, parseCommandLine } from '../apps/cli/src/args.js';
import { COMMANDS } from '../apps/cli/src/cli.js';
import { freePorts } from '../apps/cli/src/commands/cluster.js';
import { type DocumentedCommand, commandsOf, splitComment } from './support/commands.js';
import { dashboardLine, endpointsLine, greenraft, LocalCluster, listeningLine } from './support/local-cluster.js';
import { readMarkdown } from './support/markdown.js';
import { awaitGone, awaitGroupGone, Job } from './support/processes.js';
import { documentationFiles, repo } from './support/repo.js';

/** Lines whose full run is too long for a test; run with fewer seeds, steps or elections. */
const LONG_RUNS: readonly string[] = [
  'npx greenraft sim --nodes 5 --seeds 100 --steps 2000 --nemesis all --json',
  'npx greenraft sim --seeds 200 --inject-bug vote-twice',
  'npx greenraft sim --policy weighted --scoring paper --nodes 5 --seeds 2000 --steps 2000 --nemesis all --json',
  'npx greenraft sim --nodes 5 --seeds 100 --seed-start 1 --steps 2000 --nemesis all --json',
  'npx greenraft sim --scenario paper-elections --elections 500 --seed-start 7',
  "/usr/bin/time -f '%es %MKB' node apps/cli/dist/bin.js sim --nodes 5 --seeds 2000 --steps 5000 --nemesis all --json",
  "/usr/bin/time -f '%es %MKB' node apps/cli/dist/bin.js sim --policy weighted --scoring paper --nodes 5 --seeds 2000 --steps 2000 --nemesis all --json",
  'npx greenraft paper --out docs/paper',
  'npx greenraft chaos --nodes 3 --duration 10 --json',
  'npx greenraft chaos --nodes 5 --duration 10 --weighted --seed 7',
];

/**
 * Lines checked by parsing only. A benchmark that measures takes from 10 s (one suite) to many
 * minutes (all of them) and its figures mean nothing on a shared test machine: its options are
 * parsed here, and `bench --suite limits` runs once for real below. An injected-bug chaos run
 * must run long enough for its power loss to lose acknowledged writes (16 s and more, then a
 * minute of checks): tests/chaos/chaos.test.ts runs it in full. A restore needs the snapshot file of
 * a cluster that lost its data: apps/cli/src/restore.test.ts restores one and runs it.
 */
const PARSE_ONLY: readonly string[] = [
  'npx greenraft bench --suite memory',
  'npx greenraft bench --suite memory --compare docs/bench/results.json',
  'npx greenraft bench --json --out docs/bench/results.json --chart docs/bench/chart.svg',
  'node apps/cli/dist/bin.js bench --markdown --out docs/bench/results.json --chart docs/bench/chart.svg',
  'npx greenraft bench --out docs/bench/results.json --chart docs/bench/chart.svg',
  'npx greenraft bench --suite heterogeneous --seconds 1 --compare docs/bench/results.json',
  'npx greenraft chaos --nodes 3 --duration 16 --inject-bug skip-fsync --json',
  'npx greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --config ./grid/n1.json',
  'npx greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --config ./grid/n2.json',
  'npx greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --config ./grid/n3.json',
  'npx greenraft restore --snapshot ./backup/snapshot-0000000000000412-0000000000000003.snap --data-dir ./grid/data/n1 --json',
];

/** Seconds of faults a documented chaos run is shortened to: every option still parsed and used. */
const CHAOS_SECONDS = 3;

/** Lines that talk to a running cluster (every command that takes `--endpoints`). */
const NEEDS_CLUSTER: readonly string[] = [
  'npx greenraft kv get meter-7',
  'npx greenraft kv get meter-7 --consistency stale --json',
  'npx greenraft kv get meter-7 --endpoints http://127.0.0.1:7001',
  'npx greenraft kv put meter-7 12.5',
  'npx greenraft kv put meter-7 12.5 --endpoints http://127.0.0.1:7001',
  'npx greenraft kv put meter-7 12.5 --endpoints http://127.0.0.1:7001,http://127.0.0.1:7002',
  'npx greenraft kv cas meter-7 --from 12.5 --to 13.0',
  'npx greenraft kv cas lock-settlement --absent --to n1',
  'npx greenraft kv cas lock-settlement --absent --to n1 --json',
  'npx greenraft kv del meter-7',
  'npx greenraft market submit register-g1.json --endpoints http://127.0.0.1:7001',
  'npx greenraft market balances',
  'npx greenraft market balances --endpoints http://127.0.0.1:7001',
  'npx greenraft market ledger --from 1 --limit 10',
  'npx greenraft market ledger --from 1 --limit 10 --endpoints http://127.0.0.1:7001',
  'npx greenraft market ledger --from 1 --limit 10 --json',
  'npx greenraft market query head',
  'npx greenraft market query weights --json',
  'npx greenraft admin status',
  'npx greenraft admin status --endpoints http://127.0.0.1:7001',
  'npx greenraft admin status --json',
  'npx greenraft admin add-node n3 --peer-url ws://127.0.0.1:7004 --client-url http://127.0.0.1:7005 --weight 1',
  'npx greenraft admin add-node n4 --peer-url ws://127.0.0.1:7006 --client-url http://127.0.0.1:7007 --weight 1',
  'npx greenraft admin add-node n4 --peer-url ws://127.0.0.1:7402 --client-url http://127.0.0.1:7401 --weight 1',
  'npx greenraft admin remove-node n3',
  'npx greenraft admin remove-node n4',
  'npx greenraft admin remove-node n4 --endpoints http://127.0.0.1:7001',
  'npx greenraft admin set-weights n1=2,n2=2,n3=1',
  'npx greenraft admin set-weights n1=2,n2=2,n3=1 --endpoints http://127.0.0.1:7001',
  'npx greenraft admin set-weights n1=3,n2=2,n3=2',
  'npx greenraft admin transfer-leader n2',
];

/** Lines that run until stopped. */
const UNTIL_STOPPED: readonly string[] = [
  'npx greenraft cluster --nodes 3',
  'npx greenraft cluster --nodes 3 --no-dashboard --stop-after 30',
  'npx greenraft cluster --nodes 5',
  'npx greenraft cluster --nodes 5 --weighted --state-machine market --round-every 3000',
  'npx greenraft cluster start --dir ./cluster',
  'npx greenraft cluster start --dir ./grid',
  'npx greenraft cluster start --dir ./market --round-every 3000',
  'npx greenraft node --config ./cluster/n1.json',
  'npx greenraft node --config ./grid/n1.json',
  'npx greenraft node --config ./grid/n4.json',
  'npx greenraft dashboard --endpoints http://127.0.0.1:7001,http://127.0.0.1:7003 --stop-after 60',
  'npx greenraft dashboard --endpoints http://127.0.0.1:7001,http://127.0.0.1:7003,http://127.0.0.1:7005',
  'npx greenraft dashboard --endpoints http://127.0.0.1:7101,http://127.0.0.1:7103,http://127.0.0.1:7105',
];

/** The commands whose lines run until stopped. */
const RUNS_UNTIL_STOPPED: ReadonlySet<string> = new Set(['node', 'cluster', 'cluster start', 'dashboard']);

/**
 * The extension point for commands still being written: their lines in the docs and in
 * `--help` are reported as todo, by line, and not run. To take one on, remove it here: the list
 * test then fails until each of its lines is in the list it belongs to (LONG_RUNS, with a way to
 * shorten it in `shortened`; NEEDS_CLUSTER; UNTIL_STOPPED, with the command in RUNS_UNTIL_STOPPED)
 * or runs as written.
 */
const PENDING_COMMANDS: ReadonlySet<string> = new Set<string>([]);

const SIM_DEFAULTS = { seeds: 100, steps: 2000, nodes: 5, elections: 200 };

function flagValue(command: string, flag: string): number | undefined {
  const match = new RegExp(`--${flag}[ =](\\d+)`).exec(command);
  return match ? Number(match[1]) : undefined;
}

/** How a line calls the command, and the words after it. */
const CALL = /(?:^|[\s;&|(]|\bdo\s)(?:npx (?:--no )?greenraft|npx @greenraft\/cli|node apps\/cli\/(?:dist\/bin|bin\/greenraft)\.js)\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?/;
const NAMES = new Set(COMMANDS.map((command) => command.spec.name));

/** The command a line runs (`kv get`, `sim`), a pending command's first word, or undefined (`greenraft --help`). */
function commandOf(line: string): string | undefined {
  const match = CALL.exec(line);
  if (match === null) return undefined;
  const [, first, second] = match as unknown as [string, string, string | undefined];
  if (second !== undefined && NAMES.has(`${first} ${second}`)) return `${first} ${second}`;
  if (NAMES.has(first) || PENDING_COMMANDS.has(first)) return first;
  return undefined;
}

function specOf(name: string) {
  return COMMANDS.find((command) => command.spec.name === name)?.spec;
}

function isPending(line: string): boolean {
  const name = commandOf(line);
  return name !== undefined && PENDING_COMMANDS.has(name.split(' ')[0]!);
}

/** Whether a line talks to a running cluster: its command takes `--endpoints` (and ends by itself: `dashboard` runs until stopped). */
function needsCluster(line: string): boolean {
  const name = commandOf(line);
  return name !== undefined && !isPending(line) && !/--help/.test(line) && !RUNS_UNTIL_STOPPED.has(name) && specOf(name)?.options.endpoints !== undefined;
}

function runsUntilStopped(line: string): boolean {
  const name = commandOf(line);
  return name !== undefined && !isPending(line) && !/--help/.test(line) && RUNS_UNTIL_STOPPED.has(name);
}

/** Whether a line is checked by parsing only: a benchmark that measures (not `--from` kept results), an injected-bug chaos run, or a restore. */
function isParseOnly(line: string): boolean {
  const name = commandOf(line);
  if (name === undefined || isPending(line) || /--help/.test(line)) return false;
  return (name === 'bench' && !/--from[ =]/.test(line)) || (name === 'chaos' && /--inject-bug[ =]/.test(line)) || name === 'restore';
}

/**
 * Whether a line is a long run: a simulation of more than 50k node-steps or more than 200
 * elections, or a paper reproduction beyond a quick one (at most 40 rounds and 200 elections,
 * `--study none`).
 */
const PAPER = /((?:greenraft|\.js|cli) paper)(?=\s|$)/;
const SIM = /((?:greenraft|\.js|cli) sim)(?=\s|$)/;
const CHAOS = /((?:greenraft|\.js|cli) chaos)(?=\s|$)/;

function isLongRun(command: string): boolean {
  if (/--help/.test(command)) return false;
  if (CHAOS.test(command)) return (flagValue(command, 'duration') ?? 60) > CHAOS_SECONDS;
  if (PAPER.test(command)) {
    return (flagValue(command, 'rounds') ?? 200) > 40 || (flagValue(command, 'elections') ?? 200) > 200 || !/--study[ =]none\b/.test(command);
  }
  if (!SIM.test(command)) return false;
  if (/--scenario/.test(command)) return (flagValue(command, 'elections') ?? SIM_DEFAULTS.elections) > SIM_DEFAULTS.elections;
  const seeds = flagValue(command, 'seeds') ?? SIM_DEFAULTS.seeds;
  const steps = flagValue(command, 'steps') ?? SIM_DEFAULTS.steps;
  const nodes = flagValue(command, 'nodes') ?? SIM_DEFAULTS.nodes;
  return (seeds * steps * nodes) / 5 > 50_000;
}

/** The same line with 3 seeds of at most 300 steps, or 20 elections, or a quick paper run: every option still parsed and used. */
function shortened(command: string): string {
  const set = (text: string, word: RegExp, flag: string, value: string | number) =>
    new RegExp(`--${flag}[ =]\\S+`).test(text) ? text.replace(new RegExp(`--${flag}[ =]\\S+`), `--${flag} ${value}`) : text.replace(word, `$1 --${flag} ${value}`);
  if (PAPER.test(command)) return set(set(set(command, PAPER, 'rounds', 10), PAPER, 'elections', 20), PAPER, 'study', 'none');
  if (CHAOS.test(command)) return set(command, CHAOS, 'duration', CHAOS_SECONDS);
  if (/--scenario/.test(command)) return set(command, SIM, 'elections', 20);
  return set(set(command, SIM, 'seeds', 3), SIM, 'steps', 300);
}

/** Everything the test writes (command output, clusters, files a line reads) goes under one folder outside the repository, removed after the tests. */
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-commands-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
/** A fresh folder (`create: false`: a fresh path, not created). */
function freshFolder(name: string, create = true): string {
  const folder = join(scratch, `${name}-${++folders}`);
  if (create) mkdirSync(folder);
  return folder;
}

/**
 * `--out DIR` writes into a fresh folder outside the repository, and `--dir DIR` names a fresh
 * one; a file (`bench --out FILE`, `--chart FILE`) goes into a fresh folder under its own name.
 */
function scratchOut(command: string): string {
  const file = (flag: string) => (_: string, given: string) => `--${flag} ${join(freshFolder(flag), basename(given))}`;
  const out = /(?:greenraft|\.js|cli) bench(?=\s|$)/.test(command) ? file('out') : () => `--out ${freshFolder('out')}`;
  return command
    .replace(/--out[ =](\S+)/, out)
    .replace(/--chart[ =](\S+)/, file('chart'))
    .replace(/--dir[ =](\S+)/, () => `--dir ${freshFolder('dir', false)}`);
}

const verdicts = JSON.parse(readFileSync(join(repo, 'fixtures/linearizability/jepsen-etcd/verdicts.json'), 'utf8')) as Record<string, boolean>;

/** The exit code the documentation promises: `(exit N)` in the line's comment; 1 for an injected bug or a history that is not linearizable; else 0. */
function expectedExit(command: string, comment = ''): number | 'verdicts' {
  const said = /\(exit (\d)\)/.exec(comment);
  if (said) return Number(said[1]);
  if (/--inject-bug/.test(command)) return 1;
  if (/\bfor\b.*\bdo\b/.test(command)) return 'verdicts'; // a loop over histories ends with the last one's verdict
  const history = /lincheck .*?(fixtures\/linearizability\/(jepsen-etcd|kv)\/([\w.-]+))/.exec(command);
  if (history) {
    const [, , format, name] = history;
    const linearizable = format === 'kv' ? !name!.includes('-bad') : verdicts[name!];
    if (linearizable === undefined) throw new Error(`no known verdict for ${name}`);
    return linearizable ? 0 : 1;
  }
  return 0;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a line runs in: npx never asks the registry. */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, npm_config_yes: 'false', npm_config_offline: 'true', npm_config_update_notifier: 'false', FORCE_COLOR: '0', ...extra };
}

/** How long one line may run (queueing for a turn not counted). */
const LINE_TIMEOUT_MS = 180_000;

/**
 * Runs a command line as a user would in a shell at the repository root, in a process group of
 * its own: when the line ends, or overruns its time, whatever it left running in that group is
 * killed, so no process outlives its test (a timeout alone would end the shell, not its children).
 */
async function shell(command: string, env: Record<string, string> = {}): Promise<Outcome> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: repo, env: environment(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const group = child.pid!;
  const killGroup = () => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // The group is empty.
    }
  };
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let overran = false;
  const timer = setTimeout(() => {
    overran = true;
    killGroup();
  }, LINE_TIMEOUT_MS);
  try {
    // The shell's exit ends the line: what it left in its group goes then (it may hold the pipes open), and the output is read to its end.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exit) => resolve(exit));
    });
    killGroup();
    await closed;
    return { code: code ?? -1, stdout, stderr: overran ? `${stderr}\n(killed: still running after ${LINE_TIMEOUT_MS} ms)` : stderr };
  } catch (error) {
    return { code: -1, stdout, stderr: `${stderr}${String(error)}` };
  } finally {
    clearTimeout(timer);
    killGroup();
  }
}

// Two at a time: the machine is shared, and several of these spread over worker threads.
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(body: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await body();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * A test's bound: lines wait their turn (two run at a time, the shell's own limit is 180 s), so
 * the bound is the queue's, not one line's.
 */
const TIMEOUT = 900_000;

const FAILURE = /\n\s+at |unexpected error|npm error|not built yet/;

function expectRan(outcome: Outcome, expected: number | 'verdicts', label: string): void {
  const detail = `${label}\nexit ${outcome.code}\nstdout: ${outcome.stdout.slice(0, 2000)}\nstderr: ${outcome.stderr.slice(0, 2000)}`;
  if (expected === 'verdicts') expect([0, 1], detail).toContain(outcome.code);
  else expect(outcome.code, detail).toBe(expected);
  expect(outcome.stdout.trim(), detail).not.toBe('');
  expect(outcome.stderr, detail).not.toMatch(FAILURE);
}

const built = existsSync(join(repo, 'apps/cli/dist/bin.js'));
const documented: DocumentedCommand[] = documentationFiles().flatMap((path) => commandsOf(path, readFileSync(join(repo, path), 'utf8')));
/** A printed `--help` example, as a line of the docs would hold it. */
interface PrintedExample {
  readonly name: string;
  readonly command: string;
}
const printed: PrintedExample[] = COMMANDS.flatMap((command) => (command.spec.examples ?? []).map((example) => ({ name: command.spec.name, command: `npx ${example}` })));

const todo = (line: { command: string }) => isPending(line.command);
const candidates = documented.filter((line) => !line.inExample);
const runsAsWritten = (command: string) => !needsCluster(command) && !runsUntilStopped(command) && !isParseOnly(command);
const toRun = candidates.filter((line) => !todo(line) && runsAsWritten(line.command));

/** Identical lines (a chaos run in the guide, the CLI README and `--help`) run once; each place checks the outcome. */
const outcomes = new Map<string, Promise<Outcome>>();
function runOnce(command: string): Promise<Outcome> {
  let outcome = outcomes.get(command);
  if (outcome === undefined) {
    outcome = limited(() => shell(scratchOut(command)));
    outcomes.set(command, outcome);
  }
  return outcome;
}

/** Parses a line with its command's own argument table (what the command does before it runs), or throws what the command would print. */
function parseLine(command: string): ParsedCommandLine<OptionTable> {
  const name = commandOf(command)!;
  const words = command.split(/\s+/);
  const at = words.findIndex((_, i) => words.slice(i, i + name.split(' ').length).join(' ') === name);
  const parsed = parseCommandLine(specOf(name)!, words.slice(at + name.split(' ').length));
  if (parsed === 'help') throw new Error(`${command}: parsed as a request for help`);
  return parsed;
}

describe('every documented greenraft command line runs', () => {
  it('the CLI is built (npm test builds first; or npx turbo run build --filter=@greenraft/cli...)', () => {
    expect(built).toBe(true);
  });

  it('finds the command lines of the READMEs and guides', () => {
    const files = new Set(documented.map((line) => line.where.split(':')[0]));
    for (const file of ['README.md', 'apps/cli/README.md', 'docs/paper-reproduction.md', 'docs/benchmarks.md', 'docs/operations.md', 'packages/simulation/README.md']) expect(files).toContain(file);
    expect(toRun.length).toBeGreaterThan(15);
  });

  it('lists exactly the long runs, the lines that need a cluster and those that run until stopped, of the docs and the help', () => {
    const lines = [...new Set([...candidates.filter((line) => !todo(line)).map((line) => line.command), ...printed.filter((line) => !todo(line)).map((line) => line.command)])];
    expect(lines.filter((line) => runsAsWritten(line) && isLongRun(line)).sort()).toEqual([...LONG_RUNS].sort());
    expect(lines.filter(isParseOnly).sort()).toEqual([...PARSE_ONLY].sort());
    expect(lines.filter(needsCluster).sort()).toEqual([...NEEDS_CLUSTER].sort());
    expect(lines.filter(runsUntilStopped).sort()).toEqual([...UNTIL_STOPPED].sort());
  });

  it('a line leaves no process behind: what it started in the background goes when it ends', async () => {
    const ran = await shell('sleep 300 & echo $!');
    expect(ran.code).toBe(0);
    const pid = Number(ran.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await awaitGone([pid], 5_000)).toEqual([]);
  });

  it('tells the kinds of line apart', () => {
    expect(commandOf('npx greenraft kv get meter-7 --endpoints http://127.0.0.1:7001')).toBe('kv get');
    expect(commandOf('for f in a b; do npx greenraft lincheck --format kv $f; done')).toBe('lincheck');
    expect(commandOf('npx greenraft --help')).toBeUndefined();
    expect(needsCluster('npx greenraft market balances')).toBe(true);
    expect(needsCluster('npx greenraft market settle fixtures/paper/paper-tables-1-2.json')).toBe(false);
    expect(needsCluster('npx greenraft kv get --help')).toBe(false);
    expect(runsUntilStopped('npx greenraft cluster --nodes 5')).toBe(true);
    expect(runsUntilStopped('npx greenraft cluster init --nodes 3 --dir ./grid')).toBe(false);
    expect(needsCluster('npx greenraft dashboard --endpoints http://127.0.0.1:7001')).toBe(false);
    expect(runsUntilStopped('npx greenraft dashboard --endpoints http://127.0.0.1:7001')).toBe(true);
    expect(isParseOnly('npx greenraft bench --suite memory')).toBe(true);
    expect(isParseOnly('npx greenraft bench --from docs/bench/results.json --markdown')).toBe(false);
    expect(isParseOnly('npx greenraft chaos --nodes 3 --duration 16 --inject-bug skip-fsync')).toBe(true);
    expect(isParseOnly('npx greenraft chaos --nodes 3 --duration 10')).toBe(false);
    expect(isPending('npx greenraft chaos --duration 30')).toBe(false);
  });

  it('shortens a long line and keeps what it asks for', () => {
    expect(shortened('npx greenraft sim --seeds 200 --inject-bug vote-twice')).toBe('npx greenraft sim --steps 300 --seeds 3 --inject-bug vote-twice');
    expect(shortened('npx greenraft sim --nodes 5 --seeds=2000 --steps 5000 --json')).toBe('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --json');
    expect(shortened('npx greenraft sim --scenario paper-elections --elections 500 --seed-start 7')).toBe('npx greenraft sim --scenario paper-elections --elections 20 --seed-start 7');
    expect(isLongRun('npx greenraft sim --nodes 3 --seeds 5 --steps 500 --json')).toBe(false);
    expect(isLongRun('npx greenraft sim --json')).toBe(true);
    expect(shortened('npx greenraft paper --out docs/paper')).toBe('npx greenraft paper --study none --elections 20 --rounds 10 --out docs/paper');
    expect(isLongRun('npx greenraft paper --out x --rounds 40 --elections 20 --study none --json')).toBe(false);
    expect(scratchOut('npx greenraft paper --out docs/paper --json')).toMatch(/^npx greenraft paper --out \S+greenraft-commands-\S+ --json$/);
    expect(scratchOut('npx greenraft cluster init --dir ./grid')).toMatch(/^npx greenraft cluster init --dir \S+greenraft-commands-\S+$/);
    expect(shortened('npx greenraft chaos --nodes 5 --duration 10 --weighted --seed 7')).toBe('npx greenraft chaos --nodes 5 --duration 3 --weighted --seed 7');
    expect(shortened('npx greenraft chaos --nodes 3')).toBe('npx greenraft chaos --duration 3 --nodes 3');
    expect(isLongRun('npx greenraft chaos --nodes 3 --duration 3')).toBe(false);
    expect(scratchOut('npx greenraft bench --out docs/bench/results.json --chart docs/bench/chart.svg')).toMatch(/^npx greenraft bench --out \S+greenraft-commands-\S+\/results\.json --chart \S+greenraft-commands-\S+\/chart\.svg$/);
  });

  for (const line of toRun) {
    const command = isLongRun(line.command) ? shortened(line.command) : line.command;
    it.concurrent(`${line.where}: ${command}`, async () => {
      expect(built).toBe(true);
      expectRan(await runOnce(command), expectedExit(line.command, line.comment), `${line.where}: ${command}`);
    }, TIMEOUT);
  }
  for (const line of candidates.filter(todo)) it.todo(`${line.where}: ${line.command} (a command still being written)`);
});

describe('the lines checked by parsing only parse as their command parses them', () => {
  const parseOnly = [...candidates.filter((line) => isParseOnly(line.command)), ...printed.filter((line) => isParseOnly(line.command)).map((line) => ({ command: line.command, where: `greenraft ${line.name} --help` }))];
  for (const line of parseOnly) {
    it(`${line.where}: ${line.command}`, () => {
      const { options } = parseLine(line.command);
      // Every flag of the line took the value it gives.
      for (const [, flag, value] of line.command.matchAll(/--([a-z][\w-]*)(?:[ =]([^-\s]\S*))?/g)) {
        const key = flag!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        expect(Object.keys(options), `${line.command}: --${flag}`).toContain(key);
        const got = (options as Record<string, unknown>)[key];
        if (value === undefined) expect(got, `${line.command}: --${flag}`).toBe(true);
        else expect(String(got), `${line.command}: --${flag}`).toBe(value);
      }
    });
  }

  it('a parse-only check fails on a line its command refuses', () => {
    expect(() => parseLine('npx greenraft bench --suite fastest')).toThrow();
    expect(() => parseLine('npx greenraft chaos --duration 0')).toThrow();
    expect(() => parseLine('npx greenraft chaos --inject-bug skip-fsync --help')).toThrow(/help/);
  });

  it('the quickest benchmark suite runs once for real, with short windows, and writes its results', async () => {
    expect(built).toBe(true);
    const folder = freshFolder('bench');
    const out = join(folder, 'results.json');
    const ran = await limited(() => shell(`npx greenraft bench --suite limits --seconds 0.05 --json --out ${out}`));
    expectRan(ran, 0, 'bench --suite limits');
    const reports = ran.stdout.trim().split('\n').map((text) => JSON.parse(text) as { suite: string; results: { name: string; opsPerSec: number }[] });
    expect(reports.map((report) => report.suite)).toEqual(['limits']);
    expect(reports[0]!.results.length).toBeGreaterThan(3);
    for (const result of reports[0]!.results) expect(result.opsPerSec, result.name).toBeGreaterThan(0);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { suite: string }[]).map((report) => report.suite)).toEqual(['limits']);
  }, TIMEOUT);
});

describe('every command line the CLI prints runs', () => {
  it('every command shows examples in its --help', () => {
    for (const command of COMMANDS) expect(command.spec.examples?.length ?? 0, command.spec.name).toBeGreaterThan(0);
  });

  for (const { name, command: line } of printed) {
    if (todo({ command: line })) {
      it.todo(`greenraft ${name} --help: ${line} (a command still being written)`);
      continue;
    }
    if (!runsAsWritten(line)) continue; // elsewhere: with a cluster, until stopped, or parsed only
    it.concurrent(`greenraft ${name} --help: ${line}`, async () => {
      expect(line.startsWith(`npx greenraft ${name} `) || line === `npx greenraft ${name}`).toBe(true);
      const command = isLongRun(line) ? shortened(line) : line;
      expectRan(await runOnce(command), expectedExit(command), command);
    }, TIMEOUT);
  }

  it('the replay commands a failing sim prints, run as printed, find the same violation', async () => {
    const found = await limited(() => shell('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --inject-bug vote-twice --json'));
    expect(found.code).toBe(1);
    const { violations } = JSON.parse(found.stdout) as { violations: { seed: number; property: string; step: number; replay: string }[] };
    expect(violations.length).toBeGreaterThan(0);
    const text = await limited(() => shell('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --inject-bug vote-twice --workers 1'));
    const replays = [...text.stdout.matchAll(/^\s+replay: (.+)$/gm)].map((match) => match[1]!);
    expect(replays).toEqual(violations.map((violation) => violation.replay));
    for (const violation of violations) {
      const replay = await limited(() => shell(violation.replay));
      expectRan(replay, 1, violation.replay);
      expect(replay.stdout).toContain(`- seed ${violation.seed}, step ${violation.step}: ${violation.property}:`);
    }
  }, TIMEOUT);
});

// ---- Lines that run until stopped.

/** Where a line of the docs or the help was found, and its comment. */
interface Line {
  readonly command: string;
  readonly where: string;
  readonly comment: string;
}
const lines = (filter: (command: string) => boolean): Line[] => [
  ...candidates.filter((line) => !todo(line) && filter(line.command)),
  ...printed.filter((line) => !todo(line) && filter(line.command)).map((line) => ({ command: line.command, where: `greenraft ${line.name} --help`, comment: '' })),
];

/** How the docs' cluster directories are written: `./market` is a weighted market cluster (as `cluster init --dir ./market` makes it), any other a KV cluster of 3. */
function initArguments(dir: string): string[] {
  return basename(dir) === 'market' ? ['--nodes', '3', '--weighted', '--state-machine', 'market'] : ['--nodes', '3'];
}

/**
 * What a line that runs until stopped needs first: `cluster start --dir D` a cluster written into
 * D, `node --config D/nI.json` a configuration there (a node of a cluster `cluster init` wrote;
 * its peers need not run; `n4.json`, a node to add, is written as the guide says, with
 * `join: true`).
 */
async function untilStoppedLine(command: string): Promise<string> {
  const name = commandOf(command)!;
  if (name === 'cluster start') {
    const given = option(command, 'dir')!;
    const dir = join(freshFolder('cluster'), basename(given));
    await greenraft(['cluster', 'init', '--dir', dir, ...initArguments(given)]);
    return command.replace(/--dir[ =]\S+/, `--dir ${dir}`);
  }
  if (name === 'node') {
    const given = option(command, 'config')!;
    const dir = join(freshFolder('cluster'), basename(dirname(given)));
    await greenraft(['cluster', 'init', '--dir', dir, ...initArguments(dirname(given))]);
    const file = join(dir, basename(given));
    if (!existsSync(file)) {
      const founder = JSON.parse(readFileSync(join(dir, 'n1.json'), 'utf8')) as Record<string, unknown> & { peers: Record<string, unknown> };
      const id = basename(given, '.json');
      const [peerPort, clientPort] = await freePorts(2);
      const peers = { ...founder.peers, [id]: { peerUrl: `ws://127.0.0.1:${peerPort}`, clientUrl: `http://127.0.0.1:${clientPort}` } };
      writeFileSync(file, JSON.stringify({ ...founder, id, dataDir: `data/${id}`, join: true, peers }));
    }
    return command.replace(/--config[ =]\S+/, `--config ${file}`);
  }
  return command;
}

/** What `--stop-after S` becomes in the test: the line must stop by itself this long after it is up. */
const STOP_AFTER_S = 3;

/** Waits for a job to end by itself; one that has not within `timeoutMs` is stopped and reported as killed. */
async function endsBySelf(job: Job, timeoutMs: number): Promise<{ code: number | null; killed: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const first = await Promise.race([job.ended, late]);
  clearTimeout(timer);
  if (first === 'late') return { code: (await job.stop('SIGTERM', 20_000)).code, killed: true };
  return { code: first.code, killed: false };
}

describe('every command line that runs until stopped prints its endpoints and stops cleanly on SIGTERM (or by itself with --stop-after)', () => {
  // Identical lines (a docs line that `--help` prints too) start once; each place awaits that run's checks.
  const checked = new Map<string, Promise<void>>();
  for (const line of lines(runsUntilStopped)) {
    it.concurrent(`${line.where}: ${line.command}`, async () => {
      expect(built).toBe(true);
      if (!checked.has(line.command)) checked.set(line.command, runUntilStopped(line.command));
      await checked.get(line.command);
    }, TIMEOUT);
  }
});

/** Runs a line that runs until stopped, checks its endpoints answer, stops it (or waits for `--stop-after`) and checks nothing is left. */
async function runUntilStopped(line: string): Promise<void> {
      await limited(async () => {
        const command = await untilStoppedLine(line);
        // `--stop-after S`: a few seconds, and the line must then stop by itself.
        const stopsBySelf = /--stop-after[ =]\d+/.test(command);
        const job = new Job(command.replace(/--stop-after[ =]\d+/, `--stop-after ${STOP_AFTER_S}`), { cwd: repo, env: environment() });
        try {
          // A cluster prints {"dir","nodes":[{"id","pid","http",…}],"dashboard"}; a node logs `listening` with its addresses; the dashboard prints {"url","endpoints"}.
          const name = commandOf(command);
          const started = await job.until((stdout) => {
            if (name === 'node') {
              const node = listeningLine(stdout);
              return node === undefined ? undefined : { dir: undefined, pids: [] as number[], urls: [`${node.clientUrl}/livez`] };
            }
            if (name === 'dashboard') {
              const page = dashboardLine(stdout);
              return page === undefined ? undefined : { dir: undefined, pids: [] as number[], urls: [page.url] };
            }
            const cluster = endpointsLine(stdout);
            if (cluster === undefined) return undefined;
            const urls = [...cluster.nodes.map((node) => `${node.http}/livez`), ...(typeof cluster.dashboard === 'string' ? [cluster.dashboard] : [])];
            return { dir: cluster.dir, pids: cluster.nodes.map((node) => node.pid), urls };
          }, 120_000);
          if (/--no-dashboard\b/.test(command)) expect(endpointsLine(job.stdout)?.dashboard ?? null, job.describe()).toBeNull();
          for (const url of started.urls) expect((await fetch(url, { signal: AbortSignal.timeout(10_000) })).status, url).toBe(200);
          const ended = stopsBySelf ? await endsBySelf(job, 60_000) : await job.stop('SIGTERM', 40_000);
          expect(ended.killed, job.describe()).toBe(false);
          if (stopsBySelf) expect(ended.code, job.describe()).toBe(0);
          // npx may end on the signal itself; what it ran must stop every node (each its own pid, in
          // whatever group) within the nodes' 15 s of grace, and leave nothing of the job's group.
          expect(await awaitGone(started.pids, 45_000), job.describe()).toEqual([]);
          expect(await awaitGroupGone(job.pgid, 45_000), job.describe()).toEqual([]);
          expect(job.stderr, job.describe()).not.toMatch(FAILURE);
          expect(job.stderr, job.describe()).not.toMatch(/exited on SIG|did not stop within/);
          // `greenraft cluster` works in a temporary directory it removes on exit.
          if (commandOf(command) === 'cluster') expect(existsSync(started.dir!), started.dir).toBe(false);
        } finally {
          job.kill();
        }
      });
}

// ---- Lines that need a cluster, and the curl examples.

/** The options of a command that take a value (`--from VALUE`), by flag. */
function valueFlags(name: string): Set<string> {
  const options = specOf(name)?.options ?? {};
  return new Set(Object.entries(options).filter(([, option]) => option.value !== undefined).map(([key]) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`));
}

/** The positional arguments of a command line (after the command's name). */
function positionals(command: string, name: string): string[] {
  const words = command.slice(command.search(new RegExp(`\\b${name}\\b`)) + name.length).trim().split(/\s+/).filter(Boolean);
  const takesValue = valueFlags(name);
  const found: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('--')) {
      if (!word.includes('=') && takesValue.has(word)) i++;
      continue;
    }
    found.push(word);
  }
  return found;
}

const option = (command: string, flag: string) => new RegExp(`--${flag}[ =](\\S+)`).exec(command)?.[1];

/** A file that a documented `market submit FILE` reads: a participant's signed registration. */
let participants = 0;
function signedRegistration(file: string): string {
  const path = join(freshFolder('market'), basename(file));
  // register-g1.json registers g1; run again, a participant of its own (a registration applies once).
  const id = `${/register-([\w-]+)\.json$/.exec(file)?.[1] ?? 'g1'}${participants++ === 0 ? '' : `-${participants}`}`;
  writeFileSync(path, JSON.stringify(marketClient({ id, keys: generateParticipantKeys() }).register({ kind: 'generation', renewable: true })));
  return path;
}

describe('every command line that talks to a cluster runs against a real local cluster', () => {
  let kv: LocalCluster | undefined;
  let market: LocalCluster | undefined;
  beforeAll(async () => {
    if (!built) return;
    [kv, market] = await Promise.all([
      LocalCluster.start(freshFolder('kv', false), ['--nodes', '3', '--weighted']),
      LocalCluster.start(freshFolder('market', false), ['--nodes', '3', '--weighted', '--state-machine', 'market']),
    ]);
  }, 240_000);
  afterAll(async () => {
    const stopped = await Promise.allSettled([kv?.stop(), market?.stop()]);
    kv?.kill();
    market?.kill();
    for (const result of stopped) {
      expect(result.status).toBe('fulfilled');
      if (result.status === 'fulfilled' && result.value !== undefined) expect(result.value).toEqual({ exit: 0, leftOver: [] });
    }
  }, 120_000);

  /** Puts the cluster in the state a line expects, and points the line at it. */
  async function againstCluster(command: string): Promise<{ command: string; env: Record<string, string> }> {
    const name = commandOf(command)!;
    const cluster = name.startsWith('market ') ? market! : kv!;
    let line = command.replace(/--endpoints[ =]\S+/, `--endpoints ${cluster.endpoints}`);
    await cluster.steady();
    const [first] = positionals(line, name);
    const key = (text: string) => `/v1/kv/${encodeURIComponent(text)}`;
    switch (name) {
      case 'kv get':
      case 'kv del':
      case 'kv cas':
        if (/--absent\b/.test(line)) await cluster.call('DELETE', key(first!));
        else await cluster.call('PUT', key(first!), option(line, 'from') ?? '12.5');
        // A linearizable read on every node: each has applied the write before the line reads (stale reads included).
        // (A removed node answers 503 at once, and is not asked again.)
        for (const node of cluster.nodes) await fetch(`${node.http}${key(first!)}`, { signal: AbortSignal.timeout(10_000) }).then((response) => response.arrayBuffer(), () => undefined);
        break;
      case 'admin add-node': {
        const node = await cluster.joiner(first!);
        line = line.replace(/--peer-url[ =]\S+/, `--peer-url ${node.peerUrl}`).replace(/--client-url[ =]\S+/, `--client-url ${node.clientUrl}`);
        break;
      }
      case 'admin remove-node':
      case 'admin transfer-leader':
        await cluster.ensureMember(first!);
        break;
      case 'admin set-weights': {
        // Every voter is named: the members are exactly the nodes the weights name, and their
        // weights differ from these (a change to the weights in force is refused as no change).
        const weights = Object.fromEntries(first!.split(',').map((pair) => [pair.split('=')[0]!, Number(pair.split('=')[1])]));
        const named = Object.keys(weights);
        for (const member of await cluster.members()) if (!named.includes(member)) await cluster.ensureAbsent(member);
        for (const member of named) await cluster.ensureMember(member);
        const voters = (await cluster.configuration()).voters;
        if (named.every((id) => voters[id] === weights[id])) {
          const other = Object.values(weights).every((weight) => weight === 1) ? 2 : 1;
          await cluster.call('POST', '/v1/cluster/weights', { weights: Object.fromEntries(named.map((id) => [id, other])) });
        }
        break;
      }
      case 'market submit':
        if (first !== '-') line = line.replace(first!, signedRegistration(first!));
        break;
    }
    return { command: line, env: { GREENRAFT_ENDPOINTS: cluster.endpoints } };
  }

  for (const line of lines(needsCluster)) {
    it(`${line.where}: ${line.command}`, async () => {
      expect(built).toBe(true);
      const { command, env } = await againstCluster(line.command);
      expectRan(await limited(() => shell(command, env)), expectedExit(line.command, line.comment), `${line.where}: ${command}`);
    }, TIMEOUT);
  }

  for (const block of curlBlocks()) {
    it(`${block.where}: the curl examples print what their comments say`, async () => {
      expect(built).toBe(true);
      const cluster = block.market ? market! : kv!;
      // The guide's weights name the three founding nodes.
      if (!block.market) await kv!.ensureAbsent('n4');
      await cluster.steady();
      const out = freshFolder('curl');
      const commands = block.control ? controlBlock(block.lines.map((line) => line.command), cluster) : localBlock(block.lines.map((line) => line.command), cluster);
      const script = ['set -e -o pipefail', ...block.lines.map((line, i) => (line.expected === undefined ? commands[i]! : `{ ${commands[i]}; } > '${join(out, String(i))}'`))];
      const ran = await limited(() => shell(script.join('\n')));
      expect(ran.code, `${block.where}\n${ran.stderr}`).toBe(0);
      for (const [i, line] of block.lines.entries()) {
        if (line.expected === undefined) continue;
        const answer = readFileSync(join(out, String(i)), 'utf8').trim();
        expect(answer, `${block.where}: ${line.command}`).toMatch(answerPattern(line.expected));
      }
    }, TIMEOUT);
  }
});

/**
 * A block of curl examples run against a test cluster: the block's loopback client URLs, in the
 * order they first appear, stand for the cluster's nodes 1, 2, 3.
 */
function localBlock(lines: readonly string[], cluster: LocalCluster): string[] {
  const seen: string[] = [];
  return lines.map((line) =>
    line.replace(/http:\/\/127\.0\.0\.1:\d+/g, (url) => {
      if (!seen.includes(url)) seen.push(url);
      return cluster.url(seen.indexOf(url) + 1);
    }),
  );
}

/** A block of control API examples run against a test cluster's supervisor: its loopback URL is the dashboard's, and `TOKEN=` gets the printed token. */
function controlBlock(lines: readonly string[], cluster: LocalCluster): string[] {
  const { url, token } = cluster.dashboard!;
  return lines.map((line) => line.replace(/http:\/\/127\.0\.0\.1:\d+/g, url).replace(/\bTOKEN=\S+/, `TOKEN=${token}`));
}

/** An answer a curl line's comment promises: numbers stand for any number, `…` for anything. */
function answerPattern(expected: string): RegExp {
  const parts = expected.split(/(…|-?\d+(?:\.\d+)?)/);
  const source = parts.map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : part === '…' ? '[\\s\\S]*' : '-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?')).join('');
  return new RegExp(`^${source}$`);
}

/** A shell block of the guides that runs curl against a cluster: its lines, each with the answer its comment promises (a comment that starts with `{`). */
interface CurlBlock {
  readonly where: string;
  readonly market: boolean;
  /** The block talks to the control API of `greenraft cluster`: its loopback URL is the dashboard's, `TOKEN=` its token. */
  readonly control: boolean;
  readonly lines: readonly { command: string; expected: string | undefined }[];
}

function curlBlocks(): CurlBlock[] {
  const blocks: CurlBlock[] = [];
  for (const path of documentationFiles()) {
    for (const block of readMarkdown(path, readFileSync(join(repo, path), 'utf8')).blocks) {
      if (!['sh', 'bash', 'shell'].includes(block.lang) || !/^curl /m.test(block.content)) continue;
      const lines = block.content
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .filter((text) => text.trim() !== '' && !text.trim().startsWith('#'))
        .map((text) => {
          const { command, comment } = splitComment(text);
          return { command, expected: comment.startsWith('{') ? comment : undefined };
        });
      // The control API's examples run against the market cluster's supervisor (a market cluster offers every control).
      const control = /\/v1\/control\b/.test(block.content);
      blocks.push({ where: `${path}:${block.line}`, market: control || /\/v1\/market\//.test(block.content), control, lines });
    }
  }
  return blocks;
}

describe('the curl examples are found and checked', () => {
  it('every guide block of curl examples is checked, with answers', () => {
    const blocks = curlBlocks();
    expect(blocks.map((block) => block.where.split(':')[0])).toContain('docs/operations.md');
    expect(blocks.some((block) => block.market)).toBe(true);
    expect(blocks.filter((block) => block.control).map((block) => block.where.split(':')[0])).toEqual(['docs/operations.md']);
    expect(blocks.flatMap((block) => block.lines).filter((line) => line.expected !== undefined).length).toBeGreaterThan(10);
  });

  it('an answer pattern takes any number and … for anything, and nothing else', () => {
    expect('{"index":2}').toMatch(answerPattern('{"index":981}'));
    expect('{"value":"12.5","index":2,"readIndex":2}').toMatch(answerPattern('{"value":"12.5","index":981,"readIndex":981}'));
    expect('{"block":{"height":1,"hash":"ab"},"index":2}').toMatch(answerPattern('{"block":…,"index":3}'));
    expect('{"index":2,"extra":true}').not.toMatch(answerPattern('{"index":981}'));
    expect('{"swapped":false,"index":3}').not.toMatch(answerPattern('{"swapped":true,"index":3}'));
  });
});
