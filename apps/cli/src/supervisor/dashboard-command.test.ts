/**
 * `greenraft dashboard --endpoints …` (the built CLI): it serves the page it carries on loopback,
 * in live mode against the given nodes (written into the page, and allowed by its
 * Content-Security-Policy), with no control API; it stops by itself with `--stop-after`, and bad
 * arguments are one line and exit 2.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { BIN, requireBuilt, until } from '../local-cluster.test-utils.js';
import { capture } from '../test-support.js';

describe('greenraft dashboard', () => {
  it('serves the page in live mode against the nodes it is given, and stops by itself with --stop-after', async () => {
    requireBuilt();
    const child = spawn(process.execPath, [BIN, 'dashboard', '--endpoints', 'http://127.0.0.1:7101, http://127.0.0.1:7103/', '--stop-after', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const printed = await until(() => (stdout.includes('\n') ? (JSON.parse(stdout.split('\n')[0]!) as { url: string; endpoints: string[] }) : undefined), `the address line (stderr: ${stderr})`, 30_000);
      expect(printed.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(printed.endpoints).toEqual(['http://127.0.0.1:7101', 'http://127.0.0.1:7103']);
      expect(stderr).toContain(`greenraft dashboard: ${printed.url} shows 2 nodes; Ctrl-C stops it`);
      const page = await fetch(printed.url);
      const html = await page.text();
      expect(page.status).toBe(200);
      expect(html).toContain('<meta name="greenraft-dashboard" content="{&quot;mode&quot;:&quot;live&quot;,&quot;endpoints&quot;:[&quot;http://127.0.0.1:7101&quot;,&quot;http://127.0.0.1:7103&quot;]}" />');
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' http://127.0.0.1:7101 ws://127.0.0.1:7101 http://127.0.0.1:7103 ws://127.0.0.1:7103;");
      const script = /src="\.\/(assets\/index-[\w-]+\.js)"/.exec(html)?.[1];
      expect((await fetch(`${printed.url}${script}`)).status).toBe(200);
      // No supervisor, no control API.
      expect((await fetch(`${printed.url}v1/control`)).status).toBe(404);
      expect(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))])).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a missing or bad --endpoints in one line, exit 2', async () => {
    const missing = await capture(() => runCli(['dashboard']));
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain('--endpoints is required');
    const bad = await capture(() => runCli(['dashboard', '--endpoints', 'ws://127.0.0.1:7101']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--endpoints: 'ws://127.0.0.1:7101' is not an http:// or https:// URL");
  });
});
