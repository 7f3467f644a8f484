/**
 * The control API beside the page: the page's `connectControl` against `serveDashboard`'s handler
 * on a real loopback server, with a backend that records what it is asked (the supervisor's own
 * backend, on real processes, is tested by the CLI and the browser tests). Requests without the
 * token, from another origin or host, with a bad body or for a control not offered are refused
 * with their code, and reach no backend.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardServer, serveDashboard } from '../serve.js';
import { type ControlBackend, ControlFailedError } from '../sources/source.js';
import { connectControl, tokenFromFragment } from './connect.js';
import { MAX_CONTROL_BODY_BYTES } from './protocol.js';

const TOKEN = 'a-control-token-of-enough-length';
let root: string;
let server: DashboardServer | undefined;
let calls: string[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'greenraft-control-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A backend that records each call, and fails as its arguments ask. */
function recorder(): ControlBackend {
  calls = [];
  return {
    crash: async (node) => {
      if (node === 'n9') throw new InvalidArgumentError('crash: no node "n9"');
      if (node === 'n8') throw new ControlFailedError('crash', 'n8 is not running (down)');
      if (node === 'n7') throw new Error('boom');
      calls.push(`crash ${node}`);
    },
    heal: async (a, b) => void calls.push(a === undefined ? 'heal all' : `heal ${a} ${b}`),
    proposeTrade: async (trade) => {
      calls.push(`trade ${trade.seller}→${trade.buyer} ${trade.kWh} kWh at ${trade.unitPrice}`);
      return { contractId: `${trade.seller}/17`, index: 40, blockHeight: 12 };
    },
  };
}

let connects = 0;
async function serve(extra: { autoRounds?: { everyMs: number; set(ms: number): void } } = {}): Promise<string> {
  connects = 0;
  server = await serveDashboard({ root, config: { mode: 'live', endpoints: ['http://127.0.0.1:7101'] }, control: { backend: recorder(), token: TOKEN, onConnect: () => connects++, ...extra } });
  return new URL(server.url).origin;
}

/** A raw request, headers exactly as given. */
function raw(origin: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: init.method ?? 'GET', headers: init.headers ?? {} }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const authorized = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('the control API', () => {
  it('offers the backend\u2019s controls to the page, and carries each call and its result', async () => {
    const origin = await serve();
    const { backend, autoRoundMs, setAutoRounds } = await connectControl({ token: TOKEN, origin });
    expect(Object.keys(backend).sort()).toEqual(['crash', 'heal', 'proposeTrade']);
    expect(connects).toBe(1);
    expect(autoRoundMs).toBeUndefined();
    expect(setAutoRounds).toBeUndefined();
    await backend.crash!('n2');
    await backend.heal!();
    await backend.heal!('n1', 'n3');
    expect(await backend.proposeTrade!({ seller: 'n1', buyer: 'n3', kWh: 250, unitPrice: 0.55 })).toEqual({ contractId: 'n1/17', index: 40, blockHeight: 12 });
    expect(calls).toEqual(['crash n2', 'heal all', 'heal n1 n3', 'trade n1→n3 250 kWh at 0.55']);
    // The page is served as before, marked as supervised; the token is nowhere in it.
    const page = await raw(origin, '/');
    expect(page.status).toBe(200);
    expect(String(page.body.text)).toContain('&quot;control&quot;:true');
    expect(String(page.body.text)).not.toContain(TOKEN);
  });

  it('turns the backend\u2019s failures into the same typed errors on the page', async () => {
    const origin = await serve();
    const { backend } = await connectControl({ token: TOKEN, origin });
    await expect(backend.crash!('n9')).rejects.toBeInstanceOf(InvalidArgumentError);
    const failed = await backend.crash!('n8').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ControlFailedError);
    expect((failed as ControlFailedError).message).toBe('n8 is not running (down)');
    await expect(backend.crash!('n7')).rejects.toThrow(/the control failed unexpectedly: boom/);
    expect(calls).toEqual([]);
  });

  it('refuses requests without the token, from another site or host, and malformed ones, before any backend runs', async () => {
    const origin = await serve();
    const host = new URL(origin).host;
    const body = JSON.stringify({ node: 'n1' });
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { ...authorized, authorization: `Bearer ${TOKEN}x` }, body })).status).toBe(401);
    expect((await raw(origin, '/v1/control', {})).status).toBe(401);
    expect(connects).toBe(0);
    // DNS rebinding (another name for this address) and cross-site requests.
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { ...authorized, host: `evil.example:${new URL(origin).port}` }, body })).body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { ...authorized, origin: 'http://evil.example' }, body })).status).toBe(403);
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { ...authorized, origin: `http://${host}` }, body })).status).toBe(200);
    expect(calls).toEqual(['crash n1']);
    // Malformed: a wrong type, an unknown field, a bad id, not JSON, another media type, too large, a GET.
    for (const [path, text, field] of [
      ['/v1/control/crash', '{"node":7}', /node must be a node id/],
      ['/v1/control/crash', '{"node":"n1","force":true}', /unknown field "force"/],
      ['/v1/control/partition', '{"a":"n1","b":"n1"}', /two different nodes/],
      ['/v1/control/proposeTrade', '{"seller":"n1","buyer":"n3","kWh":"lots","unitPrice":0.5}', /kWh must be a number/],
      ['/v1/control/heal', '[1]', /must be a JSON object/],
      ['/v1/control/crash', '{"node":', /not JSON/],
    ] as const) {
      const answer = await raw(origin, path, { method: 'POST', headers: authorized, body: text });
      expect(answer.status, text).toBe(400);
      expect(String((answer.body.error as { message: string }).message), text).toMatch(field);
    }
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: { ...authorized, 'content-type': 'text/plain' }, body })).status).toBe(415);
    expect((await raw(origin, '/v1/control/crash', { method: 'POST', headers: authorized, body: JSON.stringify({ node: 'x'.repeat(MAX_CONTROL_BODY_BYTES) }) })).status).toBe(413);
    expect((await raw(origin, '/v1/control/crash', { headers: authorized })).status).toBe(405);
    expect((await raw(origin, '/v1/control/shutdown', { method: 'POST', headers: authorized, body: '{}' })).status).toBe(404);
    // Known, but not offered by this backend.
    expect((await raw(origin, '/v1/control/restart', { method: 'POST', headers: authorized, body })).body).toMatchObject({ error: { code: 'UNSUPPORTED_CONTROL' } });
    expect((await raw(origin, '/v1/control/autoRounds', { method: 'POST', headers: authorized, body: '{"everyMs":0}' })).status).toBe(501);
    expect(calls).toEqual(['crash n1']);
    // A wrong token is refused on connect, with the reason.
    await expect(connectControl({ token: 'not-the-token', origin })).rejects.toThrow(/valid bearer token/);
  });

  it('pauses and resumes the supervisor\u2019s automatic rounds', async () => {
    let everyMs = 3000;
    const origin = await serve({
      autoRounds: {
        get everyMs() {
          return everyMs;
        },
        set: (ms) => {
          everyMs = ms;
        },
      },
    });
    const connection = await connectControl({ token: TOKEN, origin });
    expect(connection.autoRoundMs).toBe(3000);
    await connection.setAutoRounds!(0);
    expect(everyMs).toBe(0);
    const answer = await raw(origin, '/v1/control/autoRounds', { method: 'POST', headers: authorized, body: '{"everyMs":1.5}' });
    expect(answer.status).toBe(400);
    expect(everyMs).toBe(0);
  });

  it('refuses bad options, and reads the token from an address fragment', async () => {
    await expect(serveDashboard({ root, config: { mode: 'live', endpoints: ['http://127.0.0.1:7101'] }, control: { backend: {}, token: 'short' } })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(serveDashboard({ root, control: { backend: {}, token: TOKEN } })).rejects.toThrow(/control needs config.mode live/);
    await expect(connectControl({ token: '', origin: 'http://127.0.0.1:1' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(connectControl({ token: TOKEN, origin: 'http://127.0.0.1:1' })).rejects.toBeInstanceOf(ControlFailedError);
    expect(tokenFromFragment('#token=abc123')).toBe('abc123');
    expect(tokenFromFragment('#other=1&token=x-y_z')).toBe('x-y_z');
    expect(tokenFromFragment('')).toBeUndefined();
    expect(tokenFromFragment('#token=')).toBeUndefined();
  });
});
