import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(new URL('./packages', import.meta.url));
const apps = readdirSync(new URL('./apps', import.meta.url));

// Tests import sibling packages from source, so `vitest` needs no prior build;
// the pack test and the CLI tests exercise the built dist/ output instead.
// A subpath export (`@greenraft/raft/testing`, `@greenraft/client/market`) maps to the package's
// `src/<subpath>.ts`; it comes first, since a package's own alias would also match its subpaths.
const alias = [
  { find: /^@greenraft\/([^/]+)\/([\w-]+)$/, replacement: `${root}packages/$1/src/$2.ts` },
  ...packages.map((name) => ({ find: new RegExp(`^@greenraft/${name}$`), replacement: `${root}packages/${name}/src/index.ts` })),
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `${root}packages/${name}`, include: ['src/**/*.test.ts'] },
      })),
      {
        extends: true as const,
        test: { name: 'integration', root: `${root}tests`, include: ['**/*.test.ts'] },
      },
      ...apps.map((name) => ({
        extends: true as const,
        test: { name, root: `${root}apps/${name}`, include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
      })),
    ],
    // Two test files at a time on a 2-core machine (the default is one fewer than the cores): most
    // of the long files wait on child processes, sockets and disks, not on a core.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
