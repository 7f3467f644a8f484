/**
 * Every relative link in README.md, the package READMEs, docs/*.md, examples/ and fixtures/
 * resolves in a clone: the file or folder exists and is not git-ignored, and an anchor names a
 * heading of its target. Links into the generated API reference (docs/api/) must name a page
 * typedoc writes for a real package; the docs-site test checks those pages on the rendered site.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MarkdownFile, readMarkdown } from './support/markdown.js';
import { apiModulePage, documentationFiles, publishedWorkspaces, repo, repositoryFiles } from './support/repo.js';

/** The problems with the links of `file`: each one a line saying which link and why. */
function brokenLinks(file: MarkdownFile, inClone: ReadonlySet<string>, apiPages: ReadonlySet<string>, anchorsOf: (path: string) => ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const { href, line } of file.links) {
    const where = `${file.path}:${line}: ${href}`;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue; // https:, mailto:
    const [rawPath = '', anchor] = href.split('#', 2);
    const path = decodeURIComponent(rawPath);
    if (path === '') {
      if (anchor !== undefined && !file.anchors.has(anchor)) problems.push(`${where}: no heading with this anchor`);
      continue;
    }
    const target = normalize(join(dirname(file.path), path)).replace(/\/$/, '');
    if (target.startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (target === 'docs/api' || target.startsWith('docs/api/')) {
      const page = relative('docs/api', target);
      if (!apiPages.has(page)) problems.push(`${where}: typedoc writes no page ${page}`);
      continue;
    }
    const absolute = join(repo, target);
    if (!existsSync(absolute)) {
      problems.push(`${where}: no such file or folder`);
      continue;
    }
    const isFolder = statSync(absolute).isDirectory();
    if (isFolder ? ![...inClone].some((f) => f.startsWith(`${target}/`)) : !inClone.has(target)) {
      problems.push(`${where}: not in a clone (git-ignored or generated)`);
      continue;
    }
    if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor)) problems.push(`${where}: ${target} has no heading with this anchor`);
  }
  return problems;
}

describe('relative links in the documentation', () => {
  const files = documentationFiles();
  const inClone = new Set(repositoryFiles());
  const apiPages = new Set(['index.html', ...publishedWorkspaces().map((workspace) => apiModulePage(workspace.manifest.name))]);
  const parsed = new Map<string, MarkdownFile>();
  const read = (path: string) => {
    if (!parsed.has(path)) parsed.set(path, readMarkdown(path, readFileSync(join(repo, path), 'utf8')));
    return parsed.get(path)!;
  };

  it('covers the README, every package README and every guide', () => {
    for (const expected of ['README.md', 'apps/cli/README.md', 'packages/raft/README.md', 'docs/architecture.md', 'examples/README.md']) expect(files).toContain(expected);
    const links = files.reduce((total, path) => total + read(path).links.length, 0);
    expect(links).toBeGreaterThan(50);
  });

  it('finds broken links of every kind', () => {
    const page = readMarkdown(
      'docs/example.md',
      '# Title\n\n[ok](architecture.md) [gone](missing.md) [anchor](#nowhere) [api](api/modules/_greenraft_nothing.html) [out](../../x.md) [generated](../packages/raft/dist/index.js) [far anchor](architecture.md#no-such-heading)\n',
    );
    const problems = brokenLinks(page, inClone, apiPages, (path) => read(path).anchors);
    expect(problems.map((problem) => problem.replace(/^.*?: (\S+): /, '$1: '))).toEqual([
      'missing.md: no such file or folder',
      '#nowhere: no heading with this anchor',
      'api/modules/_greenraft_nothing.html: typedoc writes no page modules/_greenraft_nothing.html',
      '../../x.md: points outside the repository',
      '../packages/raft/dist/index.js: not in a clone (git-ignored or generated)',
      'architecture.md#no-such-heading: docs/architecture.md has no heading with this anchor',
    ]);
  });

  it('every one resolves', () => {
    const problems = files.flatMap((path) => brokenLinks(read(path), inClone, apiPages, (target) => read(target).anchors));
    expect(problems).toEqual([]);
  });
});
