/**
 * Every program in examples/ compiles as a user's would (examples/tsconfig.json: NodeNext,
 * strict, importing greenraft by its package names, resolved to the built packages) and prints
 * what examples/README.md says it prints, section by section (`## name.ts`; `…` matches any text).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMarkdown } from './support/markdown.js';
import { importedPackages, printsAsSaid } from './support/readme-example.js';
import { publishedWorkspaces, repo } from './support/repo.js';

const exec = promisify(execFile);
const dir = join(repo, 'examples');
const programs = readdirSync(dir)
  .filter((name) => name.endsWith('.ts'))
  .sort();
const readme = readMarkdown('examples/README.md', readFileSync(join(dir, 'README.md'), 'utf8'));
const expected = new Map(readme.blocks.filter((block) => block.lang === 'text').map((block) => [block.headings.at(-1)!, block.content]));

describe('examples/', () => {
  beforeAll(async () => {
    await exec(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: repo, encoding: 'utf8', timeout: 180_000 }).catch((error: { stdout?: string }) => {
      throw new Error(`examples/ does not compile (build the packages first: npm run build):\n${error.stdout ?? String(error)}`);
    });
  }, 240_000);

  it('holds the five examples, each documented with its output, importing only published packages', () => {
    expect(programs).toEqual(
      expect.arrayContaining(['weighted-cluster.ts', 'scoring-strategies.ts', 'power-market-cluster.ts', 'durable-cluster.ts', 'client-and-server.ts']),
    );
    expect([...expected.keys()].sort()).toEqual(programs);
    const names = new Set(publishedWorkspaces().map((workspace) => workspace.manifest.name));
    for (const program of programs) {
      const source = readFileSync(join(dir, program), 'utf8');
      // A program must end because nothing is left open, never by forcing its way out.
      expect(source, program).not.toMatch(/process\.exit\b/);
      const imports = importedPackages(source);
      expect(imports.length, program).toBeGreaterThan(0);
      for (const name of imports) expect(names, `${program} imports ${name}`).toContain(name);
    }
  });

  for (const program of programs) {
    it(`${program} prints what examples/README.md says`, async () => {
      const file = join(dir, 'dist', program.replace(/\.ts$/, '.js'));
      expect(existsSync(file)).toBe(true);
      const { stdout } = await exec(process.execPath, [file], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
      const want = expected.get(program)!;
      expect(printsAsSaid(stdout, want), `examples/README.md says ${program} prints:\n${want}\nit printed:\n${stdout}`).toBe(true);
    });
  }
});
