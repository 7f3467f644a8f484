import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

export default defineConfig({
  ...sharedTsupConfig,
  entry: ['src/bin.ts'],
  format: ['esm'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});
