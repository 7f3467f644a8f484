import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

// Two entries: the client, and `./market` (signing helpers that need @greenraft/power-market and
// node:crypto, kept apart so the main entry bundles for browsers). Shared code goes into common
// chunks, so both entries use one client class and one set of error classes.
export default defineConfig({ ...sharedTsupConfig, entry: ['src/index.ts', 'src/market.ts'], splitting: true });
