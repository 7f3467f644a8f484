/** `greenraft chaos` refuses bad arguments before it starts anything, and documents itself. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { capture } from '../test-support.js';
import { chaosReplayCommand } from './run.js';

describe('greenraft chaos arguments', () => {
  it.each([
    [['--nodes', '2'], /--nodes takes a whole number from 3 to 9, not '2'/],
    [['--duration', '0'], /--duration takes a number of seconds from 1 to 86400, not '0'/],
    [['--inject-bug', 'nope'], /--inject-bug takes one of skip-fsync, stale-reads, not 'nope'/],
    [['--clients', '0'], /--clients takes a whole number from 1 to 64/],
    [['--seed', '-1'], /--seed needs a value/],
    [['extra'], /unexpected argument 'extra'/],
  ])('%j is a usage error (exit 2) that names the flag', async (args, message) => {
    const run = await capture(() => runCli(['chaos', ...args]));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('refuses a --dir that already holds something: an earlier run\u2019s data is not this cluster\u2019s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenraft-chaos-dir-'));
    try {
      writeFileSync(join(dir, 'n1.json'), '{}');
      const run = await capture(() => runCli(['chaos', '--nodes', '3', '--duration', '1', '--dir', dir]));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`dir ${dir} is not empty`);
      expect(readdirSync(dir)).toEqual(['n1.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--help lists the options, the examples and the exit codes', async () => {
    const run = await capture(() => runCli(['chaos', '--help']));
    expect(run.code).toBe(0);
    for (const flag of ['--nodes N', '--duration S', '--weighted', '--seed N', '--inject-bug BUG', '--dir DIR', '--json']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toContain('greenraft chaos --nodes 3 --duration 10 --json');
    expect(run.stdout).toMatch(/exit status: 0 every check passed, 1 a check failed/);
  });

  it('prints a replay command that parses back to the same run', () => {
    expect(chaosReplayCommand({ nodes: 5, durationS: 60, weighted: true, seed: 9, clients: 8, injectBug: 'skip-fsync', powerLoss: false })).toBe(
      'greenraft chaos --nodes 5 --duration 60 --weighted --seed 9 --clients 8 --no-power-loss --inject-bug skip-fsync',
    );
    expect(chaosReplayCommand({ nodes: 3, durationS: 10 })).toBe('greenraft chaos --nodes 3 --duration 10 --seed 1');
  });
});
