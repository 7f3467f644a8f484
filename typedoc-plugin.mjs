// @ts-check
/**
 * What makes `npm run docs` render the READMEs as they read in the repository:
 *
 * 1. The output folder is removed before anything is read. READMEs link into it
 *    (`docs/api/modules/…html`); left from an earlier run, those pages would be taken for files
 *    to copy into media/, and a second run would differ from the first.
 * 2. A link to a package's README (or to the root README) goes to that package's page (or the
 *    index), not to a copy of the markdown in media/: typedoc converts each package alone, so it
 *    cannot know another package's README is a page.
 * 3. A README link into the API reference (`../../docs/api/modules/_greenraft_raft.html` from a
 *    package README, `docs/api/index.html` from the root README) is rewritten, on each rendered
 *    page, to that page's path relative to the page it is on.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { Application, PageEvent, RendererEvent } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.on(Application.EVENT_BOOTSTRAP_END, () => {
    const out = app.options.getValue('out');
    // Refuse anything but a folder inside the repository, so a typo cannot remove elsewhere.
    const inside = relative(process.cwd(), resolve(out));
    if (inside === '' || inside.startsWith('..')) throw new Error(`typedoc-plugin: refusing to clean ${out}, which is not inside ${process.cwd()}`);
    rmSync(out, { recursive: true, force: true });
  });

  app.renderer.on(RendererEvent.BEGIN, (event) => {
    const project = event.project;
    const root = process.cwd();
    for (const path of project.files.getMediaPaths()) {
      if (basename(path) !== 'README.md') continue;
      const folder = dirname(path);
      if (resolve(folder) === resolve(root)) {
        project.files.registerReflectionPath(path, project);
        continue;
      }
      const manifest = join(folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, 'utf8'));
      const module = project.children?.find((child) => child.name === name);
      if (module !== undefined) project.files.registerReflectionPath(path, module);
    }
  });

  app.renderer.on(PageEvent.END, (page) => {
    if (page.contents === undefined) return;
    const from = posix.dirname(page.url);
    page.contents = page.contents.replace(/href="(?:\.\.\/)*docs\/api\/([^"#]*)(#[^"]*)?"/g, (_match, target, anchor = '') => {
      const url = posix.relative(from, target) || posix.basename(target);
      return `href="${url}${anchor}"`;
    });
  });
}
