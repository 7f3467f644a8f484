import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@greenraft/consensus';
import { runSimulation, summarizeRuns } from '@greenraft/simulation';
import { describe, expect, it } from 'vitest';
import { parseSimArguments } from './commands/sim-args.js';
import { createProgress, formatJsonSummary } from './commands/sim-report.js';

// The spawning tests run the built command, as users do: build it first with
// `npx turbo run build --filter=@greenraft/cli...`.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'npx turbo run build --filter=@greenraft/cli...' first`);

function sim(...args: string[]) {
  const run = spawnSync(process.execPath, [bin, 'sim', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('parseSimArguments', () => {
  it('fills the documented defaults', () => {
    const parsed = parseSimArguments([]);
    expect(parsed).toMatchObject({ nodes: 5, seeds: 100, seedStart: 1, steps: 2000, nemesis: 'all', injectBug: undefined, json: false });
    expect(parsed !== 'help' && parsed.workers).toBeGreaterThanOrEqual(1);
  });

  it('reads every option, in both --flag value and --flag=value forms', () => {
    expect(
      parseSimArguments(['--nodes', '3', '--seeds=7', '--seed-start', '40', '--steps', '250', '--nemesis', 'pause,crash', '--inject-bug', 'vote-twice', '--workers', '1', '--json']),
    ).toEqual({
      nodes: 3,
      seeds: 7,
      seedStart: 40,
      steps: 250,
      nemesis: 'crash,pause',
      injectBug: 'vote-twice',
      workers: 1,
      json: true,
      policy: 'classic',
      scoring: 'paper',
      epoch: 20,
      scenario: undefined,
      elections: 200,
    });
    expect(parseSimArguments(['--help'])).toBe('help');
  });

  it('rejects unknown options, bad numbers, unknown faults and unknown bugs with a typed error', () => {
    for (const argv of [['--colour'], ['--nodes', '2'], ['--seeds', '1.5'], ['--steps', 'many'], ['--nemesis', 'flood'], ['--inject-bug', 'typo'], ['stray'], ['--nodes']]) {
      expect(() => parseSimArguments(argv), argv.join(' ')).toThrow(InvalidArgumentError);
    }
    expect(() => parseSimArguments(['--seed-start', '4294967295', '--seeds', '2'])).toThrow(/must not exceed/);
  });
});

describe('report', () => {
  it('prints exactly the JSON contract, violations without their detail', async () => {
    const result = await runSimulation({ seed: 1, nodes: 5, steps: 300, bug: 'vote-twice' });
    const json = JSON.parse(formatJsonSummary(summarizeRuns([result])));
    expect(Object.keys(json)).toEqual(['runs', 'violations', 'elections', 'commits', 'maxTerm', 'linearizable', 'historyOps', 'linearizabilityUnknown']);
    expect(json.historyOps).toBe(result.historyOps);
    expect(json.linearizable).toBe(result.linearizability !== 'illegal');
    expect(json.violations).toHaveLength(1);
    expect(Object.keys(json.violations[0])).toEqual(['seed', 'property', 'step', 'replay']);
    expect(json.violations[0].property).toBe('election-safety');
  });

  it('writes plain progress lines at most every 5 s when stderr is not a terminal', () => {
    const written: string[] = [];
    let clock = 0;
    const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const progress = createProgress(stream, 3, () => clock);
    const ok = { violation: undefined } as Parameters<typeof progress.update>[0];
    progress.update(ok);
    clock = 6000;
    progress.update(ok);
    clock = 7000;
    progress.update(ok);
    progress.done();
    expect(written).toEqual(['greenraft sim: 2/3 seeds, 0 violations\n']);
  });
});

describe('greenraft sim (built command)', () => {
  it('prints one JSON object and exits 0 when every check holds', () => {
    const run = sim('--nodes', '3', '--seeds', '4', '--steps', '400', '--json');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ runs: 4, violations: [], linearizable: true, linearizabilityUnknown: 0 });
    expect(json.historyOps).toBeGreaterThan(4 * 100);
    expect(json.elections).toBeGreaterThanOrEqual(4);
    expect(json.commits).toBeGreaterThan(100);
    expect(json.maxTerm).toBeGreaterThanOrEqual(1);
  });

  it('gives the same output on one worker and on two', () => {
    const args = ['--nodes', '3', '--seeds', '6', '--steps', '300', '--inject-bug', 'forget-term-on-restart', '--json'];
    const one = sim(...args, '--workers', '1');
    const two = sim(...args, '--workers', '2');
    expect(two.stdout).toBe(one.stdout);
    expect(two.code).toBe(one.code);
  });

  it('exits 1 with an injected bug, each violation carrying the command that replays it', () => {
    const run = sim('--nodes', '5', '--seeds', '3', '--steps', '300', '--inject-bug', 'vote-twice', '--json');
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.violations.length).toBeGreaterThan(0);
    const [first] = json.violations;
    expect(first.property).toBe('election-safety');
    expect(first.replay).toBe(`npx greenraft sim --nodes 5 --seeds 1 --seed-start ${first.seed} --steps 300 --nemesis all --inject-bug vote-twice`);
    // The replay, run as printed, finds the same violation.
    const replay = sim(...first.replay.split(' ').slice(3), '--json');
    expect(JSON.parse(replay.stdout).violations).toEqual([first]);
  });

  it('reports a stale read as a linearizability violation and "linearizable": false', () => {
    // Seeds 41-52 hold three runs (44, 45, 52) in which the injected bug serves a stale read:
    // several, so that an engine change moving one of them does not hide the bug.
    const run = sim('--nodes', '5', '--seeds', '12', '--seed-start', '41', '--steps', '1000', '--nemesis', 'majority,pause,reconfigure', '--inject-bug', 'read-without-quorum', '--json');
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.linearizable).toBe(false);
    expect(json.violations.map((v: { property: string }) => v.property)).toContain('linearizability');
    expect(json.historyOps).toBeGreaterThan(12 * 200);
  });

  it('exits 2 with a clear message for bad arguments', () => {
    for (const [args, message] of [
      [['--unknown'], /unknown option '--unknown'/],
      [['--nodes', '--json'], /--nodes needs a value \(N\)/],
      [['--json=yes'], /--json takes no value/],
      [['--seeds', '2', '--seeds', '3'], /--seeds is given more than once/],
      [['extra'], /unexpected argument 'extra'/],
      [['--nodes', '1'], /--nodes takes a whole number from 3 to 15/],
      [['--nemesis', 'flood'], /unknown nemesis fault 'flood'/],
      [['--inject-bug', 'typo'], /unknown --inject-bug 'typo'/],
    ] as const) {
      const run = sim(...args, '--json');
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('prints a readable summary without --json', () => {
    const run = sim('--nodes', '3', '--seeds', '2', '--steps', '200', '--workers', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^greenraft sim: 2 runs × 200 steps, 3 nodes, nemesis all\n/);
    expect(run.stdout).toMatch(/no violations/);
  });
});
