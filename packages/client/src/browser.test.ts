/**
 * The client bundles for a browser: esbuild (what vite uses) with `platform: 'browser'` takes the
 * main entry and everything it imports, and nothing in the bundle is a Node built-in; `ws`
 * resolves to its browser stub. The bundle then runs with a WHATWG `WebSocket` as its global (the
 * one a browser has), against the protocol fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { fakeNode } from './fake-node.test-utils.js';

const packages = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-client-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function bundle(entry: string) {
  return build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // The workspace's other packages from source, as a bundler would take their built `import` entry.
    alias: { '@greenraft/consensus': join(packages, 'consensus/src/index.ts') },
  });
}

const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);

describe('the browser bundle', () => {
  it('has no Node built-in and takes the browser stub of ws', async () => {
    const result = await bundle('./index.ts');
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((input) => input.endsWith('packages/client/src/client.ts'))).toBe(true);
    expect(inputs.filter((input) => input.includes('node_modules/ws/'))).toEqual(['node_modules/ws/browser.js']);
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((imported) => imported.path));
    expect(imports.filter((path) => builtins.has(path))).toEqual([]);
    const output = result.outputFiles[0]!.text;
    expect(output).not.toMatch(/\brequire\(["'](node:)?(net|tls|http|https|crypto|events|stream|zlib|url|buffer)["']\)/);
    expect(output).not.toMatch(/from ["']node:/);
  });

  it('the market subpath is the one that needs Node (it signs with node:crypto)', async () => {
    const failure = await bundle('./market.ts').catch((error: { errors?: { text: string }[] }) => error);
    const texts = (failure as { errors?: { text: string }[] }).errors?.map((error) => error.text).join('\n') ?? '';
    expect(texts).toMatch(/Could not resolve "(node:)?crypto"/);
  });

  it('runs with a global WebSocket, as in a browser', async () => {
    const result = await bundle('./index.ts');
    const file = join(scratch, 'client.browser.mjs');
    writeFileSync(file, result.outputFiles[0]!.text);
    const fake = await fakeNode({ id: 'a' });
    const globals = globalThis as { WebSocket?: unknown };
    const before = globals.WebSocket;
    let constructed = 0;
    // A WHATWG-shaped WebSocket: `ws` has the same event-handler API a browser's has.
    globals.WebSocket = class extends NodeWebSocket {
      constructor(url: string) {
        super(url);
        constructed++;
      }
    };
    try {
      const { createClient } = (await import(pathToFileURL(file).href)) as typeof import('./index.js');
      const client = createClient({ endpoints: fake.url });
      expect(await client.put('meter-7', '12.5')).toEqual({ index: 1 });
      expect(await client.get('meter-7')).toEqual({ value: '12.5', index: 1 });
      await client.close();
      expect(constructed).toBe(1);
    } finally {
      globals.WebSocket = before;
      await fake.close();
    }
  });
});
