/**
 * Chaos across real processes: 5 `greenraft node` processes (the built CLI) on loopback, every
 * peer link through the chaos proxy, 5 concurrent clients doing put, get and cas, and the seeded
 * nemesis: kill -9 (the leader too; half of them lost-write kills, whose log is cut back to what
 * was fsynced), one whole-cluster power loss, SIGSTOP/SIGCONT, cut, blackholed and delayed links,
 * and in the weighted run weight changes by joint consensus. Each run must end linearizable, with
 * nothing acknowledged lost, every node in the same state, one leader per term, no node dead by
 * itself, and no process left.
 *
 * The checks are proven by runs with injected bugs: `--inject-bug skip-fsync` (the nodes
 * acknowledge writes before they are durable), through the command itself, must exit 1 reporting
 * lost writes and a history that is not linearizable, and keep what a user needs to look into it;
 * `stale-reads` (clients read a follower's own state and call it linearizable) must make the
 * history not linearizable (within three seeded runs that isolate a leader) while nothing is lost.
 *
 * GREENRAFT_CHAOS_SECONDS sets the length of each of the two passing runs (CI: 40); a soak runs
 * `greenraft chaos --duration 600` instead.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOperations, kvModel, parseKvHistory } from '@greenraft/linearizability';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { type ChaosReport, runChaos } from '../../apps/cli/src/chaos/index.js';

const BIN = fileURLToPath(new URL('../../apps/cli/dist/bin.js', import.meta.url));
const { GREENRAFT_CHAOS_SECONDS } = process.env;
const SECONDS = Number(GREENRAFT_CHAOS_SECONDS ?? 40);
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-chaos-test-'));
/** A failed run's directory (data, logs, history) is kept to look into; the rest goes. */
let keep = false;

/** Processes whose command line names `dir`: node processes of a run there. */
function processesUnder(dir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(dir) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid);
}

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error('the chaos test runs the built CLI: npm run build (or npx turbo run build --filter=@greenraft/cli...) first');
});

afterAll(() => {
  // Whatever failed, nothing started here outlives the test.
  for (const pid of processesUnder(scratch)) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  if (keep) console.log(`chaos test: a run failed; its files are kept under ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
});

function expectPassed(report: ChaosReport, dir: string): void {
  expect(report.problems, JSON.stringify(report)).toEqual([]);
  expect(report).toMatchObject({ passed: true, lost: 0, linearizable: true, verdict: 'ok', converged: true, electionSafety: true, unexpectedExits: 0, powerLosses: 1 });
  expect(report.acknowledged).toBeGreaterThan(100);
  // The power loss kills all five, with lost writes; the deck adds kills of its own.
  expect(report.kills).toBeGreaterThanOrEqual(6);
  expect(report.lostWriteKills).toBeGreaterThanOrEqual(5);
  // Each kind of fault happened, as the report counts it and as the kept nemesis log shows it.
  expect(report.pauses).toBeGreaterThan(0);
  expect(report.partitions).toBeGreaterThan(0);
  const kinds = new Set(
    readFileSync(join(dir, 'nemesis.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { kind: string }).kind),
  );
  for (const kind of ['kill', 'power-loss', 'pause', 'resume', 'partition', 'heal', 'healed']) expect(kinds, kind).toContain(kind);
  expect(report.elections).toBeGreaterThanOrEqual(2);
  expect(report.appliedIndex).toBeGreaterThan(report.acknowledged);
  // The kept history checks the same from its file.
  const history = parseKvHistory(readFileSync(join(dir, 'history.edn'), 'utf8'));
  expect(history.length).toBeGreaterThan(report.ops / 2);
  expect(checkOperations(kvModel(), history).result).toBe('ok');
  expect(processesUnder(dir)).toEqual([]);
}

describe('chaos across real node processes', () => {
  beforeEach(() => {
    onTestFailed(() => {
      keep = true;
    });
  });

  it(`classic Raft, 5 nodes, ${SECONDS} s: kill -9 with lost writes, power loss, pauses, cut/blackholed/delayed links`, async () => {
    const dir = join(scratch, 'classic');
    const report = await runChaos({ nodes: 5, durationS: SECONDS, seed: 11, dir });
    console.log(`chaos classic: ${JSON.stringify(report)}`);
    expectPassed(report, dir);
  }, 300_000);

  it(`weighted Raft, 5 nodes, ${SECONDS} s: the same faults and weight changes by joint consensus`, async () => {
    const dir = join(scratch, 'weighted');
    const report = await runChaos({ nodes: 5, durationS: SECONDS, weighted: true, seed: 12, dir });
    console.log(`chaos weighted: ${JSON.stringify(report)}`);
    expectPassed(report, dir);
    expect(report.weightChanges).toBeGreaterThan(0);
  }, 300_000);

  it('catches a real loss: nodes that acknowledge before fsync, with lost-write kills, make greenraft chaos exit 1', async () => {
    const dir = join(scratch, 'injected');
    const child = spawn(process.execPath, [BIN, 'chaos', '--nodes', '3', '--duration', '16', '--seed', '13', '--inject-bug', 'skip-fsync', '--json', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ended = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Bounded: SIGTERM lets the command stop its nodes; SIGKILL if even that hangs.
    const term = setTimeout(() => child.kill('SIGTERM'), 180_000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 200_000);
    let code: number | null;
    try {
      code = await ended;
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
    }
    expect(code, stderr).toBe(1);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(report).slice(0, 8)).toEqual(['ops', 'acknowledged', 'lost', 'linearizable', 'kills', 'pauses', 'partitions', 'elections']);
    expect(report.injectBug).toBe('skip-fsync');
    expect(report.powerLosses).toBe(1);
    expect(report.lost as number).toBeGreaterThan(0);
    expect(report.linearizable).toBe(false);
    expect(report.dir).toBe(dir);
    expect(report.replay).toBe('greenraft chaos --nodes 3 --duration 16 --seed 13 --inject-bug skip-fsync');
    expect(stderr).toContain(`replay the seed: ${report.replay as string}`);
    expect(stderr).toContain(`its files are kept in ${dir}`);
    // The kept history is what greenraft lincheck reads, and it says the same.
    const lincheck = spawn(process.execPath, [BIN, 'lincheck', '--format', 'kv', report.history as string], { stdio: 'ignore' });
    expect(await new Promise((resolve) => lincheck.once('exit', resolve))).toBe(1);
    for (const kept of ['report.json', 'nemesis.jsonl', 'logs/n1.log', 'data/n1']) expect(existsSync(join(dir, kept)), kept).toBe(true);
    expect(processesUnder(dir)).toEqual([]);
  }, 240_000);

  it('catches stale reads: clients that read a follower\u2019s own state as if linearizable make a history that is not', async () => {
    // A stale read shows only when a client reads a node behind a leader that goes on committing
    // (cut off from it, or a few entries behind), and a read after a newer acknowledged write
    // lands in that window. Timing decides that: measured on this 2-core machine, 4 runs in 6
    // were rejected, and in one CI run none of three seeds. So up to eight runs, stopping at the
    // first the checker rejects: at that rate all eight miss (1/3)^8 ≈ 0.02 % of the time. Every
    // run must still lose nothing and converge.
    const reports: ChaosReport[] = [];
    for (const seed of [110, 2, 3, 138, 1, 32, 4, 5]) {
      const dir = join(scratch, `stale-reads-${seed}`);
      const report = await runChaos({ nodes: 3, durationS: 12, seed, injectBug: 'stale-reads', dir });
      reports.push(report);
      // Nothing was lost and the nodes agree: only the reads were wrong.
      expect(report, JSON.stringify(report)).toMatchObject({ lost: 0, converged: true, electionSafety: true, unexpectedExits: 0 });
      expect(processesUnder(dir)).toEqual([]);
      if (report.verdict === 'illegal') break;
    }
    const caught = reports.find((report) => report.verdict === 'illegal');
    expect(caught, JSON.stringify(reports.map(({ seed, verdict, partitions, reads }) => ({ seed, verdict, partitions, reads })))).toBeDefined();
    expect(caught!.passed).toBe(false);
    expect(caught!.problems.join('\n')).toMatch(/the history is not linearizable: key k\d/);
  }, 420_000);
});
