/**
 * How the greenraft packages bundle for the browser, shared by vite.config.ts and the tests that
 * build the page: `@greenraft/*` from their sources (as the workspace's tests import them),
 * `node:crypto` as the ed25519/sha256 subset in src/browser/node-crypto.ts, `Buffer` as the subset
 * in src/browser/buffer.ts, and any other Node built-in a build error that names its importer.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Alias, Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../packages/', import.meta.url));
const cryptoShim = `${here}src/browser/node-crypto.ts`;
const bufferShim = `${here}src/browser/buffer.ts`;

/** `@greenraft/<name>` → `packages/<name>/src/index.ts`, for every package of the workspace. */
export function greenraftSourceAliases(): Alias[] {
  return readdirSync(packagesDir).map((name) => ({ find: new RegExp(`^@greenraft/${name}$`), replacement: `${packagesDir}${name}/src/index.ts` }));
}

/** `Buffer` used as a free identifier (not `.Buffer`, not part of a longer name). */
const USES_BUFFER = /(?<![\w$.])Buffer(?![\w$])/;

/** The plugin that maps Node's built-ins for the browser build (and refuses those it cannot). */
export function greenraftBrowser(): Plugin {
  return {
    name: 'greenraft-browser',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === 'node:crypto' || source === 'crypto') return cryptoShim;
      if (source.startsWith('node:')) {
        this.error(`${importer ?? 'an entry'} imports ${source}, which the dashboard's browser build does not provide`);
      }
      return null;
    },
    transform(code, id) {
      // Only the workspace's own sources call Buffer as a global; a module-scope import shadows it.
      if (!id.startsWith(packagesDir) || id.includes('/node_modules/') || !USES_BUFFER.test(code)) return null;
      // On the first line, so the source map of every other line stays exact.
      return { code: `import { BrowserBuffer as Buffer } from ${JSON.stringify(bufferShim)}; ${code}`, map: null };
    },
  };
}
