#!/usr/bin/env node
// A release, rehearsed in a temporary copy of the repository: `changeset version` applies the
// pending changesets, then `npm publish --dry-run` runs for every public package, and the
// package.json of every packed tarball must carry a real version and, for each greenraft package
// it depends on, a range that the version just made satisfies (not a 0.0.0 pin that would break
// once published). Run after `npm run build`; it changes nothing in the repository.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const copy = mkdtempSync(join(tmpdir(), 'greenraft-release-'));
const run = (command, args, cwd = copy) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' } });

const semver = (version) => /^(\d+)\.(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
const compare = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/**
 * `range` is satisfied by `version`: caret and tilde ranges, as changesets writes them, and the
 * `>=a.b.c <x.y.z` form an optional peer dependency takes so that a minor release of its target
 * does not force a major release of the package that names it.
 */
function satisfies(range, version) {
  const bounds = /^>=(\d+\.\d+\.\d+) <(\d+\.\d+\.\d+)$/.exec(range);
  if (bounds) {
    const have = semver(version);
    return have !== undefined && compare(have, semver(bounds[1])) >= 0 && compare(have, semver(bounds[2])) < 0;
  }
  const match = /^([~^])(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match || !have) return false;
  const [, kind, ...want] = match;
  const [a, b, c] = want.map(Number);
  const [x, y, z] = have.slice(1).map(Number);
  if (x !== a) return false;
  if (kind === '~' || a === 0) return y === b && z >= c; // ~a.b.c and ^0.b.c: same minor
  return y > b || (y === b && z >= c);
}

const problems = [];
try {
  // The repository as a clone has it, plus the built output that publishing packs.
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo).split('\0').filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(repo, file), join(copy, file));
  }
  const manifests = ['packages', 'apps'].flatMap((parent) =>
    readdirSync(join(repo, parent))
      .filter((name) => existsSync(join(repo, parent, name, 'package.json')))
      .map((name) => `${parent}/${name}`),
  );
  for (const dir of manifests) {
    if (!existsSync(join(repo, dir, 'dist'))) throw new Error(`${dir} is not built: run npm run build first`);
    cpSync(join(repo, dir, 'dist'), join(copy, dir, 'dist'), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'), 'dir');

  // The bump each package's changesets ask for, read before `changeset version` consumes them.
  const asked = new Map();
  const rank = { patch: 1, minor: 2, major: 3 };
  for (const name of readdirSync(join(copy, '.changeset')).filter((file) => file.endsWith('.md') && file !== 'README.md')) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(copy, '.changeset', name), 'utf8'))?.[1] ?? '';
    for (const [, pkg, bump] of front.matchAll(/^['"]?([^'":]+)['"]?:\s*(patch|minor|major)\s*$/gm)) {
      if (rank[bump] > (rank[asked.get(pkg)] ?? 0)) asked.set(pkg, bump);
    }
  }
  const before = new Map(manifests.map((dir) => { const manifest = JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')); return [manifest.name, manifest.version]; }));

  process.stdout.write(run(process.execPath, [join(repo, 'node_modules/@changesets/cli/bin.js'), 'version']));

  // No release may break compatibility (a major, or 0.x → 1.0.0) unless a changeset says major.
  for (const dir of manifests) {
    const manifest = JSON.parse(readFileSync(join(copy, dir, 'package.json'), 'utf8'));
    const from = semver(before.get(manifest.name) ?? '');
    const to = semver(manifest.version);
    if (from === undefined || to === undefined || manifest.private === true) continue;
    const breaking = from[0] === 0 ? to[0] > 0 : to[0] > from[0];
    if (breaking && asked.get(manifest.name) !== 'major') {
      problems.push(`${manifest.name}: ${before.get(manifest.name)} → ${manifest.version}, a major release no changeset asked for (${asked.get(manifest.name) ?? 'none'} was asked): a dependency range forced it`);
    }
  }

  const published = manifests
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(copy, dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true);
  for (const { dir, manifest } of published) {
    run('npm', ['publish', '--dry-run', '--access', 'public'], join(copy, dir));
    process.stdout.write(`npm publish --dry-run: ${manifest.name}@${manifest.version}\n`);
  }

  // What the tarballs carry, read back from the tarballs themselves.
  const packs = join(copy, '.packs');
  mkdirSync(packs);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packs, ...published.flatMap(({ dir }) => ['-w', dir])]));
  const versions = new Map();
  const tarballManifests = packed.map(({ filename }) => JSON.parse(run('tar', ['-xzOf', join(packs, filename), 'package/package.json'])));
  for (const manifest of tarballManifests) versions.set(manifest.name, manifest.version);
  for (const manifest of tarballManifests) {
    if (!/^\d+\.\d+\.\d+$/.test(manifest.version) || manifest.version === '0.0.0') problems.push(`${manifest.name}: version ${manifest.version} is not a release`);
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        if (!name.startsWith('@greenraft/')) continue;
        const version = versions.get(name);
        if (version === undefined) problems.push(`${manifest.name}: ${field} ${name} is not a published package`);
        else if (!/^([~^]|>=\d+\.\d+\.\d+ <)/.test(range)) problems.push(`${manifest.name}: ${field} ${name} is pinned to ${range}: a range (^${version}) lets a user's install share one copy`);
        else if (!satisfies(range, version)) problems.push(`${manifest.name}: ${field} ${name}@${range} does not take the version released with it, ${version}`);
      }
    }
    process.stdout.write(`packed ${manifest.name}@${manifest.version}: ${Object.entries(manifest.dependencies ?? {}).filter(([name]) => name.startsWith('@greenraft/')).map(([name, range]) => `${name}@${range}`).join(', ') || 'no greenraft dependencies'}\n`);
  }
  if (tarballManifests.length !== published.length || published.length === 0) problems.push(`packed ${tarballManifests.length} of ${published.length} public packages`);
} finally {
  rmSync(copy, { recursive: true, force: true });
}

if (problems.length > 0) {
  process.stderr.write(`release dry run: ${problems.length} problem(s):\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('release dry run: every public package versioned, packed and publishable\n');
