/**
 * Every `greenraft` command line a user meets is run, as written, from the repository root:
 * the lines of the READMEs and docs/*.md (shell blocks and whole-command inline code), the
 * examples every `--help` prints, and the replay commands `sim` prints for a failing seed.
 *
 * Nothing is skipped silently. A line that needs a long run is run shortened (fewer seeds and
 * steps, fewer elections or rounds), and such lines are listed below: the test fails when the docs hold a
 * long line the list lacks, or the list a line the docs no longer hold. Lines that need a running
 * cluster would be listed the same way (there are none yet). The `Example` sections of package
 * READMEs are the README doc test's (tests/pack.test.ts): they run in a fresh project. A command
 * that writes files (`--out DIR`) writes them into a fresh folder outside the repository.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../apps/cli/src/cli.js';
import { type DocumentedCommand, commandsOf } from './support/commands.js';
import { documentationFiles, repo } from './support/repo.js';

const run = promisify(execFile);

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
];

/** Lines that need a running cluster (none yet). */
const NEEDS_CLUSTER: readonly string[] = [];

const SIM_DEFAULTS = { seeds: 100, steps: 2000, nodes: 5, elections: 200 };

function flagValue(command: string, flag: string): number | undefined {
  const match = new RegExp(`--${flag}[ =](\\d+)`).exec(command);
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether a line is a long run: a simulation of more than 50k node-steps or more than 200
 * elections, or a paper reproduction beyond a quick one (at most 40 rounds and 200 elections,
 * `--study none`).
 */
const PAPER = /((?:greenraft|\.js|cli) paper)(?=\s|$)/;
const SIM = /((?:greenraft|\.js|cli) sim)(?=\s|$)/;

function isLongRun(command: string): boolean {
  if (/--help/.test(command)) return false;
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
  if (/--scenario/.test(command)) return set(command, SIM, 'elections', 20);
  return set(set(command, SIM, 'seeds', 3), SIM, 'steps', 300);
}

/** Output a command writes (`--out DIR`) goes to a fresh folder outside the repository, removed after the tests. */
const scratchFolders: string[] = [];
afterAll(() => {
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true });
});
function scratchOut(command: string): string {
  return command.replace(/--out[ =](\S+)/, () => {
    const folder = mkdtempSync(join(tmpdir(), 'greenraft-out-'));
    scratchFolders.push(folder);
    return `--out ${folder}`;
  });
}

const verdicts = JSON.parse(readFileSync(join(repo, 'fixtures/linearizability/jepsen-etcd/verdicts.json'), 'utf8')) as Record<string, boolean>;

/** The exit code the documentation promises: 1 for an injected bug or a history that is not linearizable, else 0. */
function expectedExit(command: string): number | 'verdicts' {
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

/** Runs a command line as a user would in a shell at the repository root. npx never asks the registry. */
async function shell(command: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run('bash', ['-o', 'pipefail', '-c', scratchOut(command)], {
      cwd: repo,
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, npm_config_yes: 'false', npm_config_offline: 'true', npm_config_update_notifier: 'false', FORCE_COLOR: '0' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
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

function expectRan(outcome: Outcome, expected: number | 'verdicts', label: string): void {
  const detail = `${label}\nexit ${outcome.code}\nstdout: ${outcome.stdout.slice(0, 2000)}\nstderr: ${outcome.stderr.slice(0, 2000)}`;
  if (expected === 'verdicts') expect([0, 1], detail).toContain(outcome.code);
  else expect(outcome.code, detail).toBe(expected);
  expect(outcome.stdout.trim(), detail).not.toBe('');
  expect(outcome.stderr, detail).not.toMatch(/\n\s+at |unexpected error|npm error|not built yet/);
}

const built = existsSync(join(repo, 'apps/cli/dist/bin.js'));
const documented: DocumentedCommand[] = documentationFiles().flatMap((path) => commandsOf(path, readFileSync(join(repo, path), 'utf8')));
const toRun = documented.filter((line) => !line.inExample && !NEEDS_CLUSTER.includes(line.command));

describe('every documented greenraft command line runs', () => {
  it('the CLI is built (npm test builds first; or npx turbo run build --filter=@greenraft/cli...)', () => {
    expect(built).toBe(true);
  });

  it('finds the command lines of the READMEs and guides', () => {
    const files = new Set(documented.map((line) => line.where.split(':')[0]));
    for (const file of ['README.md', 'apps/cli/README.md', 'docs/paper-reproduction.md', 'docs/benchmarks.md', 'packages/simulation/README.md']) expect(files).toContain(file);
    expect(toRun.length).toBeGreaterThan(15);
  });

  it('lists exactly the long runs the docs and the help hold, and the lines that need a cluster', () => {
    const printed = COMMANDS.flatMap((command) => (command.spec.examples ?? []).map((example) => `npx ${example}`));
    const long = [...new Set([...toRun.map((line) => line.command), ...printed].filter(isLongRun))].sort();
    expect(long).toEqual([...LONG_RUNS].sort());
    for (const line of NEEDS_CLUSTER) expect(documented.map((d) => d.command)).toContain(line);
  });

  it('shortens a long line and keeps what it asks for', () => {
    expect(shortened('npx greenraft sim --seeds 200 --inject-bug vote-twice')).toBe('npx greenraft sim --steps 300 --seeds 3 --inject-bug vote-twice');
    expect(shortened('npx greenraft sim --nodes 5 --seeds=2000 --steps 5000 --json')).toBe('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --json');
    expect(shortened('npx greenraft sim --scenario paper-elections --elections 500 --seed-start 7')).toBe('npx greenraft sim --scenario paper-elections --elections 20 --seed-start 7');
    expect(isLongRun('npx greenraft sim --nodes 3 --seeds 5 --steps 500 --json')).toBe(false);
    expect(isLongRun('npx greenraft sim --json')).toBe(true);
    expect(shortened('npx greenraft paper --out docs/paper')).toBe('npx greenraft paper --study none --elections 20 --rounds 10 --out docs/paper');
    expect(isLongRun('npx greenraft paper --out x --rounds 40 --elections 20 --study none --json')).toBe(false);
    expect(scratchOut('npx greenraft paper --out docs/paper --json')).toMatch(/^npx greenraft paper --out \S+greenraft-out-\S+ --json$/);
  });

  for (const line of toRun) {
    const command = isLongRun(line.command) ? shortened(line.command) : line.command;
    it.concurrent(`${line.where}: ${command}`, async () => {
      expect(built).toBe(true);
      expectRan(await limited(() => shell(command)), expectedExit(line.command), `${line.where}: ${command}`);
    });
  }
});

describe('every command line the CLI prints runs', () => {
  const examples = COMMANDS.flatMap((command) => (command.spec.examples ?? []).map((example) => ({ name: command.spec.name, example })));

  it('every command shows examples in its --help', () => {
    for (const command of COMMANDS) expect(command.spec.examples?.length ?? 0, command.spec.name).toBeGreaterThan(0);
  });

  for (const { name, example } of examples) {
    it.concurrent(`greenraft ${name} --help: ${example}`, async () => {
      expect(example.startsWith(`greenraft ${name} `) || example === `greenraft ${name}`).toBe(true);
      const command = isLongRun(`npx ${example}`) ? shortened(`npx ${example}`) : `npx ${example}`;
      expectRan(await limited(() => shell(command)), expectedExit(command), command);
    });
  }

  it('the replay commands a failing sim prints, run as printed, find the same violation', async () => {
    const found = await limited(() => shell('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --inject-bug vote-twice --json'));
    expect(found.code).toBe(1);
    const { violations } = JSON.parse(found.stdout) as { violations: { seed: number; property: string; step: number; replay: string }[] };
    expect(violations.length).toBeGreaterThan(0);
    const text = await limited(() => shell('npx greenraft sim --nodes 5 --seeds 3 --steps 300 --inject-bug vote-twice --workers 1'));
    const printed = [...text.stdout.matchAll(/^\s+replay: (.+)$/gm)].map((match) => match[1]!);
    expect(printed).toEqual(violations.map((violation) => violation.replay));
    for (const violation of violations) {
      const replay = await limited(() => shell(violation.replay));
      expectRan(replay, 1, violation.replay);
      expect(replay.stdout).toContain(`- seed ${violation.seed}, step ${violation.step}: ${violation.property}:`);
    }
  });
});
