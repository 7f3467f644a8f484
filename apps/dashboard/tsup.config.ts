import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

// The Node module that serves the page and runs live trading rounds (the page itself is built by vite, into dist/page).
export default defineConfig({ ...sharedTsupConfig, entry: ['src/index.ts'], format: ['esm'] });
