/**
 * Packs every published package with `npm pack`, installs the tarballs into a fresh project
 * outside the workspace, and runs an ESM and a CommonJS consumer against them: what a user
 * gets from `npm install @greenraft/...`, not what the workspace links.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const published = readdirSync(join(repo, 'packages')).filter((dir) => {
  const manifest = JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) as { private?: boolean };
  return manifest.private !== true;
});

// The compliance suites import vitest, which is ESM-only, so that package ships ESM only.
const esmOnly = new Set(['consensus-compliance']);

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });

describe('packed packages install and load outside the workspace', () => {
  let project = '';

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'greenraft-consumer-'));
    const tarballs = published.map((dir) => {
      const out = npm(['pack', '--silent', '--pack-destination', project], join(repo, 'packages', dir)).trim().split('\n');
      return join(project, out[out.length - 1]!);
    });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    npm(['install', '--prefer-offline', '--no-save', '--ignore-scripts', ...tarballs], project);
  }, 240_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('ships dist and README but no tests or sources', () => {
    // An empty list would make every check below pass vacuously.
    expect(published).toEqual(expect.arrayContaining(['consensus', 'consensus-compliance', 'raft', 'transport-memory', 'weight-scoring']));
    for (const dir of published) {
      const files = readdirSync(join(project, 'node_modules', '@greenraft', dir), { recursive: true }).map(String);
      expect(files, dir).toContain('README.md');
      expect(files, dir).toContain('LICENSE');
      expect(files, dir).toContain(join('dist', 'index.js'));
      expect(files, dir).toContain(join('dist', 'index.d.ts'));
      if (!esmOnly.has(dir)) {
        expect(files, dir).toContain(join('dist', 'index.cjs'));
        expect(files, dir).toContain(join('dist', 'index.d.cts'));
      }
      expect(files.filter((f) => f.includes('.test.')), dir).toEqual([]);
      expect(files.filter((f) => f.startsWith('src')), dir).toEqual([]);
    }
  });

  const consumer = (kind: 'esm' | 'cjs'): string => {
    const load = kind === 'esm'
      ? (name: string) => `await import('@greenraft/${name}')`
      : (name: string) => `require('@greenraft/${name}')`;
    const body = `
      const names = ${JSON.stringify(kind === 'esm' ? published : published.filter((dir) => !esmOnly.has(dir)))};
      const report = {};
      for (const name of names) {
        const mod = ${kind === 'esm' ? "await import('@greenraft/' + name)" : "require('@greenraft/' + name)"};
        report[name] = Object.keys(mod).length;
      }
      const { configuration, totalWeight, NotLeaderError, GreenraftError } = ${load('consensus')};
      const config = configuration({ a: 3, b: 2, c: 2 });
      report.totalWeight = totalWeight(config);
      const err = new NotLeaderError('b');
      report.errorIsTyped = err instanceof GreenraftError && err.code === 'NOT_LEADER' && err.leader === 'b';
      const { RaftCore } = ${load('raft')};
      const core = new RaftCore({ id: 'a', bootstrap: configuration(['a']) });
      core.campaign();
      core.advance(core.ready());
      const { index } = core.propose(new TextEncoder().encode('meter-1: 4 kWh'));
      const ready = core.ready();
      core.advance(ready);
      report.committed = ready.committedEntries.some((entry) => entry.index === index);
      const { toVoteWeights } = ${load('weight-scoring')};
      report.voteWeights = [...toVoteWeights(new Map([['a', 90], ['b', 60], ['c', 30]])).values()].length;
      console.log(JSON.stringify(report));`;
    return kind === 'esm' ? body : `(async () => {${body}})();`;
  };

  for (const kind of ['esm', 'cjs'] as const) {
    it(`loads every package from a ${kind === 'esm' ? 'ES module' : 'CommonJS'} consumer`, () => {
      const file = join(project, kind === 'esm' ? 'consumer.mjs' : 'consumer.cjs');
      writeFileSync(file, consumer(kind));
      const report = JSON.parse(execFileSync(process.execPath, [file], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>;
      expect(report.totalWeight).toBe(7);
      expect(report.errorIsTyped).toBe(true);
      expect(report.committed).toBe(true);
      expect(report.voteWeights).toBe(3);
      for (const name of published) {
        if (kind === 'cjs' && esmOnly.has(name)) continue;
        expect(report[name], name).toBeGreaterThan(0);
      }
    });
  }
});
