/**
 * `npm ci` refuses a lock file that lacks an entry for any optional dependency of a locked
 * package, even one for another platform. A registry that does not serve every platform's binary
 * for a version makes `npm install` leave such entries out, and the repository then fails to
 * install on a fresh clone. This test keeps that from landing again.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockedPackage {
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};

/** Where Node would find `name` from the package at `path`: the nearest node_modules up the tree. */
function resolves(path: string, name: string): boolean {
  let base = path;
  for (;;) {
    if (`${base ? `${base}/` : ''}node_modules/${name}` in lock.packages) return true;
    if (base === '') return false;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('is a version 3 lock file', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it('locks every optional dependency of every locked package (npm ci needs them all)', () => {
    const missing: string[] = [];
    let checked = 0;
    for (const [path, meta] of Object.entries(lock.packages)) {
      for (const name of Object.keys(meta.optionalDependencies ?? {})) {
        checked++;
        if (!resolves(path, name)) missing.push(`${path || '(root)'} → ${name}`);
      }
    }
    // The toolchain (esbuild, rollup, biome, turbo) has platform binaries as optional dependencies: none checked means the test saw nothing.
    expect(checked).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('finds a missing optional dependency (the check itself works)', () => {
    expect(resolves('node_modules/tsup', 'esbuild')).toBe(true);
    expect(resolves('node_modules/tsup', '@greenraft/no-such-platform-binary')).toBe(false);
  });
});
