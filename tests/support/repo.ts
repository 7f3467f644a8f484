/** Where things are in the repository, for the repository-wide tests. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing slash. */
export const repo = fileURLToPath(new URL('../../', import.meta.url));

/** A workspace package: its folder and manifest. */
export interface Workspace {
  /** `packages/raft`, `apps/cli`. */
  readonly dir: string;
  readonly manifest: {
    name: string;
    version: string;
    private?: boolean;
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
}

/** Every workspace package under packages/ and apps/. */
export function workspaces(): Workspace[] {
  return ['packages', 'apps'].flatMap((parent) =>
    readdirSync(join(repo, parent))
      .filter((name) => existsSync(join(repo, parent, name, 'package.json')))
      .sort()
      .map((name) => ({ dir: `${parent}/${name}`, manifest: JSON.parse(readFileSync(join(repo, parent, name, 'package.json'), 'utf8')) as Workspace['manifest'] })),
  );
}

/** The packages that are published: every workspace package not marked private. */
export function publishedWorkspaces(): Workspace[] {
  return workspaces().filter((workspace) => workspace.manifest.private !== true);
}

/** Every file of the repository as a clone has it: tracked, or new and not ignored (relative paths). */
export function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\0').filter((path) => path !== '' && existsSync(join(repo, path)));
}

/** The markdown files the docs tests cover: the root README, every package's README, the guides, examples/ and fixtures/. */
export function documentationFiles(): string[] {
  return repositoryFiles()
    .filter((path) => path.endsWith('.md'))
    .filter((path) => !path.startsWith('.changeset/') && !/(^|\/)CHANGELOG\.md$/.test(path) && !/(^|\/)LICENSE/.test(path))
    .sort();
}

/** The page typedoc writes for a package: `@greenraft/weight-scoring` → `modules/_greenraft_weight-scoring.html`. */
export function apiModulePage(packageName: string): string {
  return `modules/${packageName.replace(/[@/]/g, '_')}.html`;
}
