/**
 * What a user gets from `npm install @greenraft/...`, not what the workspace links. Every
 * published package is packed once; then
 * - one project installs every tarball and loads every package from an ES module and from
 *   CommonJS;
 * - each package's README is a doc test: a fresh project installs exactly what the README's install
 *   line names (plus `@types/node` when the README says TypeScript needs it), compiles the README's
 *   example with tsc (module NodeNext, strict), runs it with node and checks it prints what the
 *   README says (tests/support/readme-example.ts has the conventions). A published package whose
 *   README has no install line or no example fails.
 *
 * Tarballs only: every `@greenraft/*` package, named or depended on, resolves to its tarball
 * (npm `overrides`), and the rest comes from npm's cache (`--prefer-offline`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMarkdown } from './support/markdown.js';
import { importedPackages, printsAsSaid, readmeExample } from './support/readme-example.js';
import { publishedWorkspaces, repo } from './support/repo.js';

const exec = promisify(execFile);
const published = publishedWorkspaces();
const packages = published.filter((workspace) => workspace.dir.startsWith('packages/'));
// The compliance suites import vitest, which is ESM-only, so that package ships ESM only.
const esmOnly = new Set(['@greenraft/consensus-compliance']);
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

const npmEnv = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', npm_config_yes: 'false' };

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', args, { cwd, encoding: 'utf8', env: npmEnv, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  return stdout;
}

/** The version of a package the repository has installed: the doc tests install the same one, from npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

// A few projects at a time: each install and compile is busy, and the machine is shared.
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(body: () => Promise<T>): Promise<T> {
  while (running >= 3) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await body();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-pack-'));
const tarballs = new Map<string, string>();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(async () => {
  const unbuilt = published.filter((workspace) => !existsSync(join(repo, workspace.dir, 'dist')));
  if (unbuilt.length > 0) throw new Error(`not built: ${unbuilt.map((w) => w.dir).join(', ')}; run npm run build first`);
  const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', join(scratch, 'tarballs'), ...published.flatMap((w) => ['-w', w.dir])], repo)) as {
    name: string;
    filename: string;
  }[];
  for (const { name, filename } of packed) tarballs.set(name, join(scratch, 'tarballs', filename.replace(/^@/, '').replace('/', '-')));
}, 240_000);
mkdirSync(join(scratch, 'tarballs'), { recursive: true });

/** A fresh project that installs `names` (greenraft packages from their tarballs, the rest as the repository has them). */
async function project(dir: string, names: readonly string[], devNames: readonly string[] = []): Promise<string> {
  const root = join(scratch, dir);
  mkdirSync(root, { recursive: true });
  const spec = (name: string) => {
    if (name.startsWith('@greenraft/')) {
      const tarball = tarballs.get(name);
      if (tarball === undefined) throw new Error(`${name} is not a published package`);
      return `file:${tarball}`;
    }
    return installedVersion(name);
  };
  const overrides = Object.fromEntries([...tarballs].map(([name, tarball]) => [name, `file:${tarball}`]));
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify(
      {
        name: `readme-${dir}`,
        version: '1.0.0',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(names.map((name) => [name, spec(name)])),
        devDependencies: Object.fromEntries(devNames.map((name) => [name, spec(name)])),
        overrides,
      },
      null,
      2,
    ),
  );
  await npm(['install', '--prefer-offline', '--ignore-scripts', '--no-package-lock'], root);
  return root;
}

describe('packed packages install and load outside the workspace', () => {
  let all = '';
  beforeAll(async () => {
    all = await project(
      'all',
      packages.map((workspace) => workspace.manifest.name),
    );
  }, 240_000);

  it('ship dist and README but no tests or sources', () => {
    // An empty list would make every check below pass vacuously.
    expect(published.map((w) => w.manifest.name)).toEqual(expect.arrayContaining(['@greenraft/consensus', '@greenraft/raft', '@greenraft/weighted-raft', '@greenraft/cli']));
    for (const { manifest } of packages) {
      const files = readdirSync(join(all, 'node_modules', manifest.name), { recursive: true }).map(String);
      expect(files, manifest.name).toContain('README.md');
      expect(files, manifest.name).toContain('LICENSE');
      expect(files, manifest.name).toContain(join('dist', 'index.js'));
      expect(files, manifest.name).toContain(join('dist', 'index.d.ts'));
      if (!esmOnly.has(manifest.name)) {
        expect(files, manifest.name).toContain(join('dist', 'index.cjs'));
        expect(files, manifest.name).toContain(join('dist', 'index.d.cts'));
      }
      expect(files.filter((f) => f.includes('.test.')), manifest.name).toEqual([]);
      expect(files.filter((f) => f.startsWith('src')), manifest.name).toEqual([]);
    }
  });

  const consumer = (kind: 'esm' | 'cjs'): string => {
    const load = kind === 'esm' ? (name: string) => `await import('@greenraft/${name}')` : (name: string) => `require('@greenraft/${name}')`;
    const names = packages.map((w) => w.manifest.name).filter((name) => kind === 'esm' || !esmOnly.has(name));
    const body = `
      const names = ${JSON.stringify(names)};
      const report = {};
      for (const name of names) {
        const mod = ${kind === 'esm' ? 'await import(name)' : 'require(name)'};
        report[name] = Object.keys(mod).length;
      }
      const { configuration, totalWeight, NotLeaderError, GreenraftError, isGreenraftError } = ${load('consensus')};
      const config = configuration({ a: 3, b: 2, c: 2 });
      report.totalWeight = totalWeight(config);
      const err = new NotLeaderError('b');
      report.errorIsTyped = err instanceof GreenraftError && isGreenraftError(err, 'NOT_LEADER') && err.leader === 'b';
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
    it(`load from a ${kind === 'esm' ? 'ES module' : 'CommonJS'} consumer`, async () => {
      const file = join(all, kind === 'esm' ? 'consumer.mjs' : 'consumer.cjs');
      writeFileSync(file, consumer(kind));
      const { stdout } = await exec(process.execPath, [file], { cwd: all, encoding: 'utf8', timeout: 60_000 });
      const report = JSON.parse(stdout) as Record<string, unknown>;
      expect(report.totalWeight).toBe(7);
      expect(report.errorIsTyped).toBe(true);
      expect(report.committed).toBe(true);
      expect(report.voteWeights).toBe(3);
      for (const { manifest } of packages) {
        if (kind === 'cjs' && esmOnly.has(manifest.name)) continue;
        expect(report[manifest.name], manifest.name).toBeGreaterThan(0);
      }
    });
  }
});

describe('every published README is a doc test: install as it says, compile and run its example', () => {
  for (const workspace of published) {
    it.concurrent(
      `${workspace.manifest.name} (${workspace.dir}/README.md)`,
      async () => {
        const path = `${workspace.dir}/README.md`;
        const source = readFileSync(join(repo, path), 'utf8');
        const doc = readmeExample(readMarkdown(path, source), source, workspace.manifest.bin !== undefined);
        expect(doc.install, 'the install line names the package itself').toContain(workspace.manifest.name);
        await limited(async () => {
          const dir = await project(workspace.dir.replace('/', '-'), doc.install, doc.typesNode ? ['@types/node'] : []);
          const code = doc.example.content;
          writeFileSync(join(dir, doc.fileName), code);
          let stdout: string;
          if (doc.example.lang === 'sh') {
            ({ stdout } = await exec('bash', ['-euo', 'pipefail', doc.fileName], {
              cwd: dir,
              encoding: 'utf8',
              timeout: 180_000,
              env: { ...npmEnv, npm_config_offline: 'true', PATH: `${join(dir, 'node_modules/.bin')}:${process.env.PATH}` },
            }));
          } else {
            const missing = importedPackages(code).filter((name) => !doc.install.includes(name));
            expect(missing, `the example imports packages its install line does not name: ${missing.join(', ')}`).toEqual([]);
            const isTest = doc.fileName.endsWith('.test.ts');
            writeFileSync(
              join(dir, 'tsconfig.json'),
              JSON.stringify({
                compilerOptions: {
                  target: 'ES2022',
                  lib: ['ES2022'],
                  module: 'NodeNext',
                  moduleResolution: 'NodeNext',
                  strict: true,
                  noEmit: isTest,
                  outDir: 'out',
                  types: doc.typesNode ? ['node'] : [],
                },
                files: [doc.fileName],
              }),
            );
            await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', timeout: 180_000 }).catch((error: { stdout?: string }) => {
              throw new Error(`${path}: the example does not compile (tsc, module NodeNext, strict):\n${error.stdout ?? String(error)}`);
            });
            const runner = isTest
              ? [join(dir, 'node_modules/vitest/vitest.mjs'), 'run', doc.fileName]
              : [join(dir, 'out', doc.fileName.replace(/\.ts$/, '.js'))];
            ({ stdout } = await exec(process.execPath, runner, { cwd: dir, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1' } }).catch(
              (error: { code?: unknown; stdout?: string; stderr?: string }) => {
                throw new Error(`${path}: the example exited ${String(error.code)}:\n${error.stdout ?? ''}\n${error.stderr ?? String(error)}`);
              },
            ));
          }
          // A spec file must have run tests, not merely loaded.
          if (doc.fileName.endsWith('.test.ts')) expect(stripVTControlCharacters(stdout)).toMatch(/Tests\s+\d+ passed/);
          if (doc.prints !== undefined) expect(printsAsSaid(stdout, doc.prints), `${path} says it prints:\n${doc.prints}\nit printed:\n${stdout}`).toBe(true);
        });
      },
      600_000,
    );
  }
});

describe('the doc-test conventions', () => {
  it('read the install line, the example and what it prints', () => {
    const source = [
      '# @greenraft/x',
      '## Install',
      '```sh',
      'npm install @greenraft/x @greenraft/transport-memory   # the transport you pick',
      'npm install --save-dev typescript @types/node',
      '```',
      '## Example',
      '```ts',
      "import { x } from '@greenraft/x';",
      "import { memoryNetwork } from '@greenraft/transport-memory';",
      "import { readFile } from 'node:fs/promises';",
      "const { raft } = await import('@greenraft/raft');",
      '```',
      'It prints:',
      '```text',
      'ok … ms',
      '```',
    ].join('\n');
    const doc = readmeExample(readMarkdown('README.md', source), source, false);
    expect(doc.install).toEqual(['@greenraft/x', '@greenraft/transport-memory']);
    expect(doc.typesNode).toBe(true);
    expect(doc.fileName).toBe('example.ts');
    expect(importedPackages(doc.example.content)).toEqual(['@greenraft/x', '@greenraft/transport-memory', '@greenraft/raft']);
    expect(printsAsSaid('ok 12 ms\n', doc.prints!)).toBe(true);
    expect(printsAsSaid('ok 12 s\n', doc.prints!)).toBe(false);
    expect(printsAsSaid('ok 1 ms\nmore\n', doc.prints!)).toBe(false);
  });

  it('fail a README without an install line or an example', () => {
    const noExample = '# x\n## Install\n```sh\nnpm install @greenraft/x\n```\n';
    expect(() => readmeExample(readMarkdown('x/README.md', noExample), noExample, false)).toThrow(/has no example/);
    const noInstall = '# x\n## Example\n```ts\nconsole.log(1);\n```\n';
    expect(() => readmeExample(readMarkdown('x/README.md', noInstall), noInstall, false)).toThrow(/has no install line/);
  });
});
