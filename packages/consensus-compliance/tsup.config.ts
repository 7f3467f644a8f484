import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

// ESM only: the suites import vitest, which cannot be loaded with require().
export default defineConfig({ ...sharedTsupConfig, format: ['esm'] });
