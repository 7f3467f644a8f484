// The engine's behaviour, held to recorded traces: packages/raft/bench/trace-digests.txt keeps one
// digest per seed of the whole trace of a deterministic simulation run (every Ready of every core,
// packages/raft/bench/trace-digest.mjs). A refactoring must leave them identical; a change of
// behaviour re-records them on purpose, in the commit that makes it:
//   node packages/raft/bench/trace-digest.mjs --seeds 100 --steps 1000 --out packages/raft/bench/trace-digests.txt
// CI checks the first seeds; the same command with --compare checks all 200 runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const script = join(repo, 'packages/raft/bench/trace-digest.mjs');
const recorded = join(repo, 'packages/raft/bench/trace-digests.txt');
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-trace-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function digest(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [script, ...args], { cwd: repo, encoding: 'utf8', timeout: 240_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('recorded simulation traces', () => {
  it('the engine reproduces the recorded trace of every seed checked, and a changed trace is reported', () => {
    const header = readFileSync(recorded, 'utf8').split('\n')[0]!;
    expect(header).toMatch(/nodes=3,5 seeds=1\.\.\+100 steps=1000 nemesis=all policy=classic$/);
    expect(header).toBe('# trace digests: root=. nodes=3,5 seeds=1..+100 steps=1000 nemesis=all policy=classic');
    const out = join(scratch, 'now.txt');
    const run = digest(['--seeds', '25', '--steps', '1000', '--nemesis', 'all', '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    // The tree is named relative to the repository, as in the recorded file, not by this machine's path.
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('# trace digests: root=. nodes=3,5 seeds=1..+25 steps=1000 nemesis=all policy=classic');
    const same = digest(['--compare', recorded, out]);
    expect(same.stdout).toContain('compared 50 runs: 50 identical, 0 different');
    expect(same.status).toBe(0);

    // The comparison can fail: one changed digest is named, with exit status 1.
    const lines = readFileSync(out, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.startsWith('nodes=5 seed=7 '));
    lines[at] = lines[at]!.replace(/digest=([0-9a-f])/, (_, first: string) => `digest=${first === '0' ? '1' : '0'}`);
    const changed = join(scratch, 'changed.txt');
    writeFileSync(changed, lines.join('\n'));
    const differ = digest(['--compare', recorded, changed]);
    expect(differ.stdout).toContain('compared 50 runs: 49 identical, 1 different');
    expect(differ.stdout).toContain('differs: nodes=5 seed=7');
    expect(differ.status).toBe(1);
  }, 300_000);
});
