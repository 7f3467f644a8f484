/** The forwarding link to the leader when the leader goes away under it. */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ApiError } from './errors.js';
import { Forwarder } from './forward.js';

/** A stand-in leader's client API: `behave` decides what it does with each frame. */
async function fakeLeader(behave: (frame: Record<string, unknown>, socket: import('ws').WebSocket) => void): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const http: Server = createHttpServer();
  const wss = new WebSocketServer({ server: http, path: '/v1/ws' });
  let connections = 0;
  wss.on('connection', (socket) => {
    connections++;
    socket.on('message', (data) => behave(JSON.parse(data.toString()) as Record<string, unknown>, socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

const init = { nodeId: 'n2', clusterId: 'test', secret: 'a test cluster secret of enough length', timeoutMs: 300, maxPayload: 1 << 20 };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('Forwarder, the deadline it carries', () => {
  it('gives the leader what is left of a read or write deadline, and a cluster change none (the leader keeps its admin timeout)', async () => {
    const frames: Record<string, unknown>[] = [];
    const leader = await fakeLeader((frame, socket) => {
      frames.push(frame);
      socket.send(JSON.stringify({ id: frame.id, ok: true, result: {} }));
    });
    cleanups.push(() => leader.close());
    const forwarder = new Forwarder(init);
    cleanups.push(() => forwarder.close());
    await forwarder.forward(leader.url, { op: 'put', key: 'k', value: 'v' }, 'c1', 2234, 1234);
    await forwarder.forward(leader.url, { op: 'cluster.transferLeader', to: 'n3' }, 'c1', 61_000);
    expect(frames.slice(1)).toEqual([
      { id: 1, op: 'forward', clientId: 'c1', request: { op: 'put', key: 'k', value: 'v' }, timeoutMs: 1234 },
      { id: 2, op: 'forward', clientId: 'c1', request: { op: 'cluster.transferLeader', to: 'n3' } },
    ]);
  });
});

describe('Forwarder, when the leader drops the connection before it answers', () => {
  it('a write it had sent ends TIMEOUT (its outcome unknown), a read UNAVAILABLE (nothing changed, leadership moving)', async () => {
    const leader = await fakeLeader((frame, socket) => {
      if (frame.op === 'hello') socket.send(JSON.stringify({ id: frame.id, ok: true, result: {} }));
      // The leader got the request, then died.
      else socket.terminate();
    });
    cleanups.push(() => leader.close());
    const forwarder = new Forwarder(init);
    cleanups.push(() => forwarder.close());
    const write = await failure(forwarder.forward(leader.url, { op: 'put', key: 'k', value: 'v' }, 'c1', 2000));
    expect(write).toMatchObject({ code: 'TIMEOUT', status: 504 });
    expect(write.message).toMatch(/the connection to the leader closed before it answered; the outcome is unknown: retry with the same idempotency key/);
    const read = await failure(forwarder.forward(leader.url, { op: 'get', key: 'k', consistency: 'linearizable' }, 'c1', 2000));
    expect(read).toMatchObject({ code: 'UNAVAILABLE', reason: 'LEADER_CHANGING' });
    expect(leader.connections()).toBe(2);
  });

  it('a leader that never answers the handshake: UNAVAILABLE, and the next request opens a new link', async () => {
    const leader = await fakeLeader(() => undefined);
    cleanups.push(() => leader.close());
    const forwarder = new Forwarder(init);
    cleanups.push(() => forwarder.close());
    for (let attempt = 1; attempt <= 2; attempt++) {
      const error = await failure(forwarder.forward(leader.url, { op: 'put', key: 'k', value: 'v' }, 'c1', 2000));
      // Never sent: nothing is unknown.
      expect(error).toMatchObject({ code: 'UNAVAILABLE', message: 'the leader did not answer the forwarding handshake', reason: 'LEADER_CHANGING' });
      expect(leader.connections()).toBe(attempt);
    }
  });
});
