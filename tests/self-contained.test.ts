/**
 * A clone has nothing beside it: no source, test, script or document may refer to a path
 * outside the repository, and the data the tests read must be in the clone, not left out by
 * .gitignore.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo, repositoryFiles } from './support/repo.js';

/** Text files whose contents are code, scripts, configuration or documentation. */
const SCANNED = /\.(ts|tsx|mts|cts|js|mjs|cjs|json|md|sh|ya?ml|toml)$|^\.ci\/|^\.gitignore$|(^|\/)tsconfig[^/]*$/;
/** Data copied in from elsewhere: scanned for nothing but their presence. */
const DATA = /^fixtures\/.*\.(log|txt|json)$/;

// Built from pieces so this file does not match itself.
const SIBLING = ['shar', 'ed'].join('');
const FORBIDDEN: readonly { what: string; pattern: RegExp }[] = [
  { what: 'the folder beside the clone', pattern: new RegExp(`(^|[^\\w.-])\\.\\./(\\.\\./)*${SIBLING}\\b`) },
  { what: 'a path under the folder beside the clone', pattern: new RegExp(`\\b${SIBLING}/(fixtures|vectors|paper|hooks)\\b`) },
  { what: 'an absolute path on this machine', pattern: /(^|[\s'"`(=:])\/(work|home|Users|root|mnt|srv)\/[\w.-]/ },
];

/** Where `text` (the contents of `path`, relative to the repository) refers to something outside the repository. */
function outsideReferences(path: string, text: string): string[] {
  const found: string[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    for (const { what, pattern } of FORBIDDEN) if (pattern.test(line)) found.push(`${path}:${index + 1}: ${what}: ${line.trim()}`);
    // A relative path that climbs out of the repository from where it is written: a module
    // specifier or `new URL(…, import.meta.url)` in code, a link in markdown, a path in a script.
    // (JSON configs hold paths relative to other places: each package for turbo, the output for typedoc.)
    const climbing = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(path)
      ? /(?:new URL\(\s*|from\s+|import\(\s*|require\(\s*)['"`]((?:\.\.\/)+)/g
      : path.endsWith('.md')
        ? /\]\(((?:\.\.\/)+)/g
        : path.endsWith('.json')
          ? undefined
          : /(?:^|[\s'"=])((?:\.\.\/)+)[\w@.-]/g;
    for (const match of climbing === undefined ? [] : line.matchAll(climbing)) {
      const rel = relative(repo, resolve(join(repo, dirname(path)), match[1]!));
      if (rel.startsWith('..')) found.push(`${path}:${index + 1}: a relative path out of the repository (${match[1]}): ${line.trim()}`);
    }
  }
  return found;
}

describe('the repository is self-contained', () => {
  it('the scanner finds what it guards against', () => {
    // Each of these is a way the tests once reached outside the clone.
    expect(outsideReferences('apps/cli/src/x.test.ts', `const f = new URL('../../../../${SIBLING}/fixtures/paper.json', import.meta.url);`)).toHaveLength(3);
    expect(outsideReferences('.ci/run', `test -d ../${SIBLING} || exit 1`)).toHaveLength(1);
    expect(outsideReferences('docs/x.md', `see /work/${SIBLING}/DESIGN.md`)).toHaveLength(1);
    expect(outsideReferences('tests/x.test.ts', `readFileSync('/home/alice/vectors/etcd_000.log')`)).toHaveLength(1);
    expect(outsideReferences('packages/raft/README.md', '[top](../../../README.md)')).toHaveLength(1);
    // ... and leaves alone what stays inside.
    expect(outsideReferences('packages/raft/README.md', '[top](../../README.md) and [docs](../../docs/architecture.md)')).toEqual([]);
    expect(outsideReferences('apps/cli/src/x.test.ts', "new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url)")).toEqual([]);
    expect(outsideReferences('docs/x.md', 'node_modules/.bin/greenraft, /usr/bin/time, https://example.org/work/x')).toEqual([]);
  });

  it('no source, test, script or document refers to a path outside the repository', () => {
    // This file holds the cases the scanner is proven on.
    const files = repositoryFiles().filter((path) => SCANNED.test(path) && !DATA.test(path) && path !== 'package-lock.json' && path !== 'tests/self-contained.test.ts');
    // Sources, tests, READMEs, guides and CI are all among them: an empty list would pass vacuously.
    for (const expected of ['README.md', '.ci/run', 'packages/raft/src/index.ts', 'apps/cli/src/cli.ts', 'docs/architecture.md', 'tests/pack.test.ts']) {
      expect(files).toContain(expected);
    }
    const found = files.flatMap((path) => outsideReferences(path, readFileSync(join(repo, path), 'utf8')));
    expect(found).toEqual([]);
  });

  it('every file under fixtures/ is part of a clone (none is git-ignored)', () => {
    const ignored = execFileSync('git', ['ls-files', '--others', '--ignored', '--exclude-standard', '--', 'fixtures'], { cwd: repo, encoding: 'utf8' });
    expect(ignored.split('\n').filter(Boolean)).toEqual([]);
    const present = repositoryFiles().filter((path) => path.startsWith('fixtures/'));
    expect(present.filter((path) => path.endsWith('.log')).length).toBeGreaterThan(0);
  });
});
