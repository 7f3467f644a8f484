/** Builds the page into a temporary folder (from the sources, as `vite build` does) and serves it, for the browser tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { type DashboardPageConfig, type DashboardServer, serveDashboard } from '../src/serve.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));

/** Builds the page once into `dir` (a new temporary folder by default). */
export async function buildPage(dir = mkdtempSync(join(tmpdir(), 'greenraft-dashboard-page-'))): Promise<string> {
  await build({ configFile: join(appDir, 'vite.config.ts'), logLevel: 'warn', build: { outDir: dir, emptyOutDir: true, sourcemap: false } });
  return dir;
}

let built: Promise<string> | undefined;

/** Serves the page, built once per test file, on a free loopback port. */
export async function servePage(config?: DashboardPageConfig): Promise<DashboardServer> {
  built ??= buildPage();
  return serveDashboard({ root: await built, host: '127.0.0.1', port: 0, ...(config === undefined ? {} : { config }) });
}

/** Removes the build `servePage` made. */
export async function removeBuild(): Promise<void> {
  const dir = await built?.catch(() => undefined);
  built = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
