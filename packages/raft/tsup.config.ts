import { defineConfig } from 'tsup';
import { sharedTsupConfig } from '../../tsup.config';

// Two entries: the engine, and `./testing` (test tools). Shared code goes into common chunks, so
// both entries use one RaftCore class.
export default defineConfig({ ...sharedTsupConfig, entry: ['src/index.ts', 'src/testing.ts'], splitting: true });
