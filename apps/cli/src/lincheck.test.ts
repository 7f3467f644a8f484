import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// These tests run the built command, as users do: build it first with
// `npx turbo run build --filter=@greenraft/cli...`.
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const vectors = fileURLToPath(new URL('../../../fixtures/linearizability/', import.meta.url));
if (!existsSync(bin)) throw new Error(`${bin} is missing: run 'npx turbo run build --filter=@greenraft/cli...' first`);
if (!existsSync(vectors)) throw new Error(`linearizability vectors not found at ${vectors}`);

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-lincheck-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function lincheck(...args: string[]) {
  const run = spawnSync(process.execPath, [bin, 'lincheck', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('greenraft lincheck', () => {
  it('says a linearizable Jepsen etcd log is linearizable and exits 0', () => {
    const run = lincheck('--format', 'jepsen-etcd', join(vectors, 'jepsen-etcd/etcd_002.log'));
    expect(run.stdout).toBe('linearizable\n');
    expect(run.code).toBe(0);
  });

  it('says a non-linearizable one is not, with its smallest failing prefix, and exits 1', () => {
    const run = lincheck('--format=jepsen-etcd', join(vectors, 'jepsen-etcd/etcd_000.log'));
    expect(run.stdout).toMatch(/^not linearizable: smallest failing prefix: \d+ events; ending with read\(\) -> \S+ by process \d+ \(line \d+\)\n$/);
    expect(run.code).toBe(1);
  });

  it('names the failing key of a key-value history', () => {
    const bad = lincheck('--format', 'kv', join(vectors, 'kv/c10-bad.txt'));
    expect(bad.stdout).toMatch(/^not linearizable: key "\d+"; smallest failing prefix: \d+ events; ending with get\("\d+"\)/);
    expect(bad.code).toBe(1);
    const ok = lincheck('--format', 'kv', join(vectors, 'kv/c10-ok.txt'));
    expect(ok.stdout).toBe('linearizable\n');
    expect(ok.code).toBe(0);
  });

  it('prints exactly one JSON object with --json', () => {
    const run = lincheck('--json', '--format', 'kv', join(vectors, 'kv/c01-bad.txt'));
    expect(run.code).toBe(1);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(report).slice(0, 3)).toEqual(['linearizable', 'ops', 'ms']);
    expect(report.linearizable).toBe(false);
    expect(report.ops).toBe(38); // 76 lines: 38 invocations, each completed
    expect(typeof report.ms).toBe('number');
    expect(typeof report.failingKey).toBe('string');

    const ok = lincheck('--format', 'jepsen-etcd', '--json', join(vectors, 'jepsen-etcd/etcd_018.log'));
    expect(JSON.parse(ok.stdout)).toMatchObject({ linearizable: true, result: 'ok', partitions: 1 });
    expect(ok.code).toBe(0);
  });

  it('exits 2 with the line number on a malformed file', () => {
    const file = join(scratch, 'broken.txt');
    writeFileSync(file, '{:process 0, :type :invoke, :f :get, :key "k", :value nil}\n{:process 0, :type :ok, :f :get\n');
    const run = lincheck('--format', 'kv', file);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${file}:2: not an EDN map`);
  });

  it('exits 2 on a history of the other format', () => {
    const run = lincheck('--format', 'kv', join(vectors, 'jepsen-etcd/etcd_000.log'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/etcd_000\.log:1: .*is it a kv history\?/);
  });

  it('exits 2 on an unreadable file or bad arguments', () => {
    const missing = lincheck('--format', 'kv', join(scratch, 'no-such-file.txt'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*no-such-file\.txt/);
    for (const [args, message] of [
      [[join(vectors, 'kv/c01-ok.txt')], /--format is required: jepsen-etcd or kv/],
      [['--format', 'csv', 'x'], /--format takes one of jepsen-etcd, kv, not 'csv'/],
      [['--format', 'kv'], /missing FILE/],
      [['--format', 'kv', 'a', 'b'], /unexpected argument 'b': only FILE is taken/],
      [['--format', 'kv', '--verbose', 'a'], /unknown option '--verbose'/],
      [['--format', 'kv', '--timeout', 'soon', 'a'], /--timeout takes a whole number/],
      [['--format', '--json', 'a'], /--format needs a value/],
    ] as const) {
      const run = lincheck(...args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      // One line that names the problem and where the help is; no usage dump.
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/^greenraft lincheck: [^\n]*\(run 'greenraft lincheck --help' for the options\)\n$/);
    }
  });

  it('prints its usage with --help', () => {
    const run = lincheck('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: greenraft lincheck --format jepsen-etcd\|kv \[--json\] \[--timeout MS\] FILE\n/);
    expect(run.stdout).toContain('exit status: 0 linearizable, 1 not linearizable, 2 bad arguments or input, 3 timed out.');
  });
});
