import { cpSync, existsSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

// The dashboard's built page ships inside the CLI (dist/dashboard), which serves it: turbo builds
// @greenraft/dashboard first (a devDependency), and its server module is bundled into dist/bin.js.
const page = new URL('../dashboard/dist/page/', import.meta.url);

export default defineConfig({
  ...sharedTsupConfig,
  entry: ['src/bin.ts'],
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
  async onSuccess() {
    if (!existsSync(new URL('index.html', page))) throw new Error('the dashboard page is not built: npx turbo run build --filter=@greenraft/cli... builds it first');
    // The page without its source maps: the published command needs none.
    cpSync(page, new URL('./dist/dashboard/', import.meta.url), { recursive: true, filter: (source) => !source.endsWith('.map') });
  },
});
