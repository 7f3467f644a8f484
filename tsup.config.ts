import type { Options } from 'tsup';

/** Shared build defaults, spread into every package's tsup.config.ts. */
export const sharedTsupConfig: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
  treeshake: true,
};
