/** Every error code of the client API, with its HTTP status, on real servers. */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotLeaderError, ProposalDroppedError, StoppedError, TimeoutError } from '@greenraft/consensus';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient, baseConfig, http, startCluster, until } from './cluster.test-utils.js';
import { API_ERROR_STATUS, ApiError } from './errors.js';
import { errorFromBody } from './forward.js';
import { apiErrorOf } from './handler.js';
import { createServer, type GreenraftServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'greenraft-handler-'));
const running: GreenraftServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const TOKEN = 'operator-token-0123456789';

/** A one-node cluster (it elects itself) with the given client settings. */
async function single(id: string, client: Record<string, unknown> = {}): Promise<GreenraftServer> {
  const server = createServer({
    ...baseConfig(dir, id, { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } }),
    client: client as never,
  });
  running.push(server);
  await server.start();
  await until(() => server.readiness().ready, `${id} to be ready`);
  return server;
}

describe('error codes and statuses', () => {
  it('maps every code to its status, and engine errors to codes', () => {
    expect(API_ERROR_STATUS).toEqual({
      BAD_REQUEST: 400,
      UNAUTHENTICATED: 401,
      NOT_FOUND: 404,
      CONFLICT: 409,
      REJECTED: 422,
      TOO_LARGE: 413,
      TOO_MANY_REQUESTS: 429,
      UNAVAILABLE: 503,
      TIMEOUT: 504,
      INTERNAL: 500,
    });
    const leader = { id: 'n2', url: 'http://10.0.0.2:7101' };
    expect(apiErrorOf(new NotLeaderError('n2'), leader).toJSON()).toMatchObject({ code: 'UNAVAILABLE', retryAfterMs: 200, leader });
    expect(apiErrorOf(new NotLeaderError('n2'), leader).reason).toBe('NOT_LEADER');
    expect(apiErrorOf(new NotLeaderError(undefined), undefined).toJSON()).toMatchObject({ code: 'UNAVAILABLE', message: 'no leader is known', reason: 'NO_LEADER' });
    expect(apiErrorOf(new ProposalDroppedError(), leader).code).toBe('UNAVAILABLE');
    // A leader change is told apart from back-pressure: only the first is waited out.
    expect(apiErrorOf(new ProposalDroppedError('moving', { reason: 'transferring' }), leader).reason).toBe('LEADER_CHANGING');
    expect(apiErrorOf(new ProposalDroppedError('full', { reason: 'overloaded' }), leader).reason).toBe('OVERLOADED');
    expect(apiErrorOf(new StoppedError(), undefined).code).toBe('UNAVAILABLE');
    expect(apiErrorOf(new TimeoutError(), undefined).status).toBe(504);
    expect(apiErrorOf(new Error('boom'), undefined).toJSON()).toEqual({ code: 'INTERNAL', message: 'unexpected error: boom' });
    // An answer relayed from the leader keeps its code, hint and reason.
    const relayed = errorFromBody(new ApiError('REJECTED', 'bad signature', { reason: 'INVALID_SIGNATURE' }).toJSON());
    expect(relayed).toMatchObject({ code: 'REJECTED', status: 422, reason: 'INVALID_SIGNATURE' });
    expect(errorFromBody({ code: 'NONSENSE' as never, message: 'x' }).code).toBe('INTERNAL');
  });

  it('400 for malformed requests, naming the field; 404 for unknown routes and keys; 409 for a reused key', async () => {
    const url = (await single('bad', { maxValueBytes: 1024, maxRequestBytes: 4096 })).addresses!.clientUrl;
    const cas = (body: string, headers: Record<string, string> = {}) => http(`${url}/v1/kv/k/cas`, { method: 'POST', body, headers });
    expect((await cas('{ nope')).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'the body is not JSON' } });
    expect((await cas('[1]')).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'the body must be a JSON object' } });
    expect((await cas('{"from":null,"to":"a","ttl":1}')).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'cas: ttl: unknown field' } });
    expect((await cas('{"from":null}')).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'cas: to: expected a string, got nothing' } });
    expect((await http(`${url}/v1/kv/${'k'.repeat(513)}`, { method: 'PUT', body: 'v' })).status).toBe(400);
    expect((await http(`${url}/v1/kv/k?consistency=eventual`)).body).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('consistency') } });
    expect((await http(`${url}/v1/kv/k`, { method: 'PUT', body: Buffer.from([0xff, 0xfe]) })).body).toEqual({ error: { code: 'BAD_REQUEST', message: 'the value is not UTF-8' } });
    expect((await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v', headers: { 'idempotency-key': 'x'.repeat(129) } })).status).toBe(400);
    const route = await http(`${url}/v1/sql`);
    expect(route).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route GET /v1/sql' } } });
    expect((await http(`${url}/v1/kv/absent`)).status).toBe(404);
    const headers = { 'idempotency-key': 'write-1' };
    expect((await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'one', headers })).status).toBe(200);
    const conflict = await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'two', headers });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect((await http(`${url}/v1/kv/k`)).body.value).toBe('one');
  });

  it('413 for a body over maxRequestBytes (declared or streamed) and for a value over maxValueBytes', async () => {
    const url = (await single('big', { maxValueBytes: 1024, maxRequestBytes: 4096 })).addresses!.clientUrl;
    const declared = await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'x'.repeat(5000) });
    expect(declared).toMatchObject({ status: 413, body: { error: { code: 'TOO_LARGE' } } });
    // Streamed without a length: refused once it passes the bound, before the body ends.
    const streamed = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${url}/v1/kv/k`, { method: 'PUT' }, (response) => resolve(response.statusCode ?? 0));
      request.on('error', reject);
      const chunk = 'y'.repeat(1024);
      let sent = 0;
      const pump = () => {
        // Keep sending until the answer comes: the server must answer without waiting for an end.
        if (sent++ < 10_000 && !request.destroyed) request.write(chunk, () => setImmediate(pump));
      };
      pump();
    });
    expect(streamed).toBe(413);
    const value = await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'z'.repeat(2000) });
    expect(value.body).toEqual({ error: { code: 'TOO_LARGE', message: 'value is 2000 bytes, above maxValueBytes (1024)' } });
    expect((await http(`${url}/v1/kv/k`)).status).toBe(404); // nothing was written
  });

  it('401 without the bearer token or with a wrong one, over HTTP and WebSocket', async () => {
    const server = await single('auth', { tokens: [{ subject: 'ops', token: TOKEN }] });
    const url = server.addresses!.clientUrl;
    const none = await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v' });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'a bearer token is required' } } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await http(`${url}/v1/kv/k`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
    expect((await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    // Health and metrics stay open to probes.
    expect((await http(`${url}/readyz`)).status).toBe(200);
    const client = await RawClient.connect(url);
    try {
      expect(await client.request({ op: 'get', key: 'k' })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      expect(await client.request({ op: 'hello', token: 'nope' })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'the bearer token is not valid' } });
      expect(await client.request({ op: 'hello', token: TOKEN, clientId: 'gw' })).toMatchObject({ ok: true });
      expect(await client.request({ op: 'get', key: 'k' })).toMatchObject({ ok: true, result: { value: 'v' } });
      // A forged forwarding handshake is refused.
      const forged = await RawClient.connect(url);
      expect(await forged.request({ op: 'hello', forwarder: 'n9', forwardToken: 'x' })).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
      forged.close();
    } finally {
      client.close();
    }
  });

  it('503 with Retry-After when no leader is known', async () => {
    const lonely = createServer({
      ...baseConfig(dir, 'lonely', {
        lonely: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' },
        gone1: { peerUrl: 'ws://127.0.0.1:9', clientUrl: 'http://127.0.0.1:9' },
        gone2: { peerUrl: 'ws://127.0.0.1:9', clientUrl: 'http://127.0.0.1:9' },
      }),
      // Answer at once (leader-wait.test.ts covers the wait for a leader).
      client: { leaderWaitMs: 0 },
    });
    running.push(lonely);
    await lonely.start();
    const url = lonely.addresses!.clientUrl;
    const put = await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v' });
    expect(put).toMatchObject({ status: 503, body: { error: { code: 'UNAVAILABLE', message: 'no leader is known', retryAfterMs: 200, reason: 'NO_LEADER' } } });
    expect(put.headers.get('retry-after')).toBe('1');
    expect((await http(`${url}/v1/kv/k`)).status).toBe(503);
    expect((await http(`${url}/readyz`)).status).toBe(503);
    // Stale reads need no leader.
    expect((await http(`${url}/v1/kv/k?consistency=stale`)).status).toBe(404);
  });

  it('504 when a write does not finish in time, and 429 beyond the in-flight bounds of a connection and of the node', async () => {
    const cluster = await startCluster({
      ids: ['t1', 't2', 't3'],
      // Without check-quorum a leader cut off from its followers stays leader: its writes can only time out.
      overrides: () => ({
        raft: { tickMs: 15, electionTicks: 20, heartbeatTicks: 2, checkQuorum: false },
        client: { requestTimeoutMs: 600, maxInFlightPerConnection: 1, maxInFlightPerNode: 2 },
      }),
    });
    try {
      const leader = await cluster.leader();
      for (const follower of cluster.followers()) await follower.stop();
      const url = cluster.url(leader.id);
      // One connection, two requests: the second is over the connection's bound.
      const client = await RawClient.connect(url);
      await client.request({ op: 'hello' });
      const [first, extra] = await Promise.all([client.request({ op: 'put', key: 'a', value: '1' }), client.request({ op: 'put', key: 'b', value: '2' })]);
      expect(extra).toMatchObject({ ok: false, error: { code: 'TOO_MANY_REQUESTS', message: 'more than 1 requests in flight on this connection', retryAfterMs: 100 } });
      expect(first).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
      client.close();
      // Two connections with one each fill the node's bound of 2: a third is refused.
      const slow = [http(`${url}/v1/kv/k1`, { method: 'PUT', body: 'v' }), http(`${url}/v1/kv/k2`, { method: 'PUT', body: 'v' })];
      await until(() => (leader.status().lastIndex as number) >= 4, 'both slow writes to be proposed');
      const third = await http(`${url}/v1/kv/k3`, { method: 'PUT', body: 'v' });
      expect(third).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_REQUESTS', message: 'more than 2 requests in flight on this node' } } });
      expect(third.headers.get('retry-after')).toBe('1');
      for (const answer of await Promise.all(slow)) expect(answer).toMatchObject({ status: 504, body: { error: { code: 'TIMEOUT' } } });
    } finally {
      await cluster.close();
    }
  });
});
