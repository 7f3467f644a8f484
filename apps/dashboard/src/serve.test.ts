/** The page's server: its files only, GET and HEAD only, a policy that keeps the page on its own origin (and the nodes it is given). */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardServer, serveDashboard } from './serve.js';

let root: string;
let outside: string;
let server: DashboardServer | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'greenraft-serve-'));
  outside = mkdtempSync(join(tmpdir(), 'greenraft-serve-outside-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(outside, 'secret.txt'), 'not for the page');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** A raw request, so paths reach the server exactly as written. */
function fetchRaw(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serveDashboard', () => {
  it('serves the page and its assets on a free loopback port, with a policy of its own origin only', async () => {
    server = await serveDashboard({ root });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetchRaw(server.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'; connect-src 'self'; ");
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).not.toContain('greenraft-dashboard');
    const asset = await fetchRaw(server.url, '/assets/index-abc.js');
    expect([asset.status, asset.headers['content-type'], asset.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
    expect(asset.headers['cache-control']).toContain('immutable');
    const head = await fetchRaw(server.url, '/assets/index-abc.js', 'HEAD');
    expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', '14']);
  });

  it('serves nothing outside its folder and answers only GET and HEAD', async () => {
    server = await serveDashboard({ root });
    for (const path of ['/../' + 'package.json', '/%2e%2e/%2e%2e/etc/passwd', '/assets/../../secret.txt', '/link.txt', '/nothing.js', '/assets/']) {
      expect((await fetchRaw(server.url, path)).status, path).toBe(404);
    }
    expect((await fetchRaw(server.url, '/%00')).status).toBe(400);
    expect((await fetchRaw(server.url, '/%E0%A4%A')).status).toBe(400);
    const post = await fetchRaw(server.url, '/', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('writes a live configuration into the page, and lets it reach exactly those nodes', async () => {
    server = await serveDashboard({ root, config: { mode: 'live', endpoints: ['http://127.0.0.1:7101', 'https://node-2.example:7102'] } });
    const page = await fetchRaw(server.url, '/index.html');
    expect(page.body).toContain('<meta name="greenraft-dashboard" content="{&quot;mode&quot;:&quot;live&quot;,&quot;endpoints&quot;:[&quot;http://127.0.0.1:7101&quot;,&quot;https://node-2.example:7102&quot;]}" />');
    expect(page.headers['content-security-policy']).toContain("connect-src 'self' http://127.0.0.1:7101 ws://127.0.0.1:7101 https://node-2.example:7102 wss://node-2.example:7102;");
  });

  it('refuses bad options with InvalidArgumentError', async () => {
    await expect(serveDashboard({ root: join(root, 'assets') })).rejects.toThrow(/no built page/);
    await expect(serveDashboard({ root, port: 70_000 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(serveDashboard({ root, config: { mode: 'live', endpoints: [] } })).rejects.toThrow(/at least one endpoint/);
    await expect(serveDashboard({ root, config: { mode: 'live', endpoints: ['javascript:alert(1)'] } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(serveDashboard({ root, config: { mode: 'remote' as 'live' } })).rejects.toThrow(/config.mode/);
  });
});
