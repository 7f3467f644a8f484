/**
 * `npm run docs` renders every package and every guide as pages, and every relative link on
 * every rendered page resolves: the READMEs' links to each other, to the guides and into the API
 * reference included. It runs what `npm run docs` runs after the build (typedoc with the
 * repository's typedoc.json), so it writes docs/api, cleaned first.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiModulePage, publishedWorkspaces, repo } from './support/repo.js';

const exec = promisify(execFile);
const out = join(repo, 'docs', 'api');

/** Every relative `href`/`src` of the HTML pages under `root` that names no file: `page → target`. */
function unresolvedLinks(root: string, pages: readonly string[], read: (page: string) => string = (page) => readFileSync(join(root, page), 'utf8')): string[] {
  const broken: string[] = [];
  for (const page of pages) {
    for (const match of read(page).matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const href = match[1]!.replace(/&amp;/g, '&');
      if (href === '' || href.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
      const target = posix.normalize(posix.join(posix.dirname(page), decodeURIComponent(href.replace(/[?#].*$/, ''))));
      if (target.startsWith('..') || !existsSync(join(root, target))) broken.push(`${page} → ${href}`);
    }
  }
  return broken;
}

describe('the rendered documentation', () => {
  let pages: string[] = [];
  beforeAll(async () => {
    await exec(process.execPath, [join(repo, 'node_modules/typedoc/bin/typedoc')], { cwd: repo, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`typedoc failed (build the packages first: npm run build):\n${error.stdout ?? ''}${error.stderr ?? String(error)}`);
      },
    );
    pages = readdirSync(out, { recursive: true })
      .map(String)
      .filter((path) => path.endsWith('.html'));
  }, 600_000);

  it('has a page for every published package and every guide', () => {
    for (const { dir, manifest } of publishedWorkspaces()) if (dir.startsWith('packages/')) expect(pages, manifest.name).toContain(apiModulePage(manifest.name));
    for (const guide of readdirSync(join(repo, 'docs')).filter((name) => name.endsWith('.md'))) {
      expect(pages, guide).toContain(`documents/docs_${guide.replace(/\.md$/, '')}.html`);
    }
    for (const page of ['index.html', 'documents/examples_README.html', 'documents/apps_cli_README.html']) expect(pages).toContain(page);
  });

  it('copies no markdown as raw media: READMEs and guides link to their pages', () => {
    const media = existsSync(join(out, 'media')) ? readdirSync(join(out, 'media')) : [];
    expect(media.filter((name) => name.endsWith('.md'))).toEqual([]);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('href="modules/_greenraft_raft.html"');
    expect(index).toContain('href="documents/docs_architecture.html"');
  });

  it('every relative link of every page resolves', () => {
    expect(pages.length).toBeGreaterThan(100);
    expect(unresolvedLinks(out, pages)).toEqual([]);
  });

  it('the link checker finds a broken one', () => {
    const html = '<a href="modules/_greenraft_raft.html">x</a><a href="../../docs/api/index.html">y</a><img src="media/gone.png"><a href="#top">z</a>';
    expect(unresolvedLinks(out, ['index.html'], () => html)).toEqual(['index.html → ../../docs/api/index.html', 'index.html → media/gone.png']);
  });
});
