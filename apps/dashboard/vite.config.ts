import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { greenraftBrowser, greenraftSourceAliases } from './browser-build.ts';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative URLs: the page works wherever it is served from (a node's path, a file server).
  base: './',
  plugins: [greenraftBrowser()],
  resolve: { alias: greenraftSourceAliases() },
  build: {
    outDir: 'dist/page',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
});
