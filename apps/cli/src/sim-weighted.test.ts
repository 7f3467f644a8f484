import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@greenraft/consensus';
import { paperElections } from '@greenraft/simulation';
import { describe, expect, it } from 'vitest';
import { SIM_USAGE, parseSimArguments } from './commands/sim-args.js';
import { formatElectionsJson, formatElectionsTable } from './commands/sim-scenario.js';

// Spawning tests run the built command: `npx turbo run build --filter=@greenraft/cli...` first.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'npx turbo run build --filter=@greenraft/cli...' first`);

function sim(...args: string[]) {
  const run = spawnSync(process.execPath, [bin, 'sim', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('greenraft sim --policy / --scoring / --epoch / --scenario', () => {
  it('parses the weighted options, with classic, paper, 20 and 200 as defaults', () => {
    expect(parseSimArguments([])).toMatchObject({ policy: 'classic', scoring: 'paper', epoch: 20, scenario: undefined, elections: 200 });
    expect(parseSimArguments(['--policy', 'weighted', '--scoring=latency', '--epoch', '5'])).toMatchObject({ policy: 'weighted', scoring: 'latency', epoch: 5 });
    expect(parseSimArguments(['--scenario', 'paper-elections', '--elections', '30'])).toMatchObject({ scenario: 'paper-elections', elections: 30 });
    for (const argv of [['--policy', 'fair'], ['--scoring', 'vibes'], ['--epoch', '0'], ['--scenario', 'moon-landing'], ['--elections', '0']]) {
      expect(() => parseSimArguments(argv), argv.join(' ')).toThrow(InvalidArgumentError);
    }
    expect(SIM_USAGE).toMatch(/--policy classic\|weighted/);
    expect(SIM_USAGE).toMatch(/--scenario paper-elections/);
  });

  it('runs weighted seeds under the full nemesis with the JSON contract unchanged', () => {
    const run = sim('--policy', 'weighted', '--scoring', 'paper', '--nodes', '5', '--seeds', '3', '--steps', '800', '--workers', '1', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(Object.keys(json)).toEqual(['runs', 'violations', 'elections', 'commits', 'maxTerm', 'linearizable', 'historyOps', 'linearizabilityUnknown']);
    expect(json).toMatchObject({ runs: 3, violations: [], linearizable: true });
    expect(json.commits).toBeGreaterThan(0);
  });

  it('names the weighted policy in the readable summary', () => {
    const run = sim('--policy', 'weighted', '--scoring', 'latency', '--seeds', '1', '--steps', '300', '--workers', '1');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/weighted \(latency scoring, epoch 20\)/);
  });

  it('prints exactly {"classic":{…},"weighted":{…}} for --scenario paper-elections --json', () => {
    const run = sim('--scenario', 'paper-elections', '--elections', '40', '--json');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as Record<string, Record<string, number>>;
    expect(Object.keys(json)).toEqual(['classic', 'weighted']);
    expect(Object.keys(json.classic!)).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    expect(Object.values(json.weighted!).reduce((sum, n) => sum + n, 0)).toBe(40);
    // The same figures as the library's, for the same seed.
    expect(json).toEqual(JSON.parse(formatElectionsJson(paperElections({ elections: 40, seed: 1 }))));
  });

  it('prints the paper’s two tables without --json', () => {
    const result = paperElections({ elections: 10 });
    const table = formatElectionsTable(result, 10);
    expect(table).toMatch(/^Table 3$/m);
    expect(table).toMatch(/^Table 4$/m);
    expect(table.split('\n').filter((line) => line.startsWith('Weighted Raft'))).toHaveLength(2);
    expect(table).toContain(`Classic Raft${' '.repeat(4)}${String(result.classic['1']).padStart(5)}`);
  });
});
