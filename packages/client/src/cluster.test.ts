/**
 * The client against three real `@greenraft/server` nodes in this process (WAL storage, WebSocket
 * peers, loopback, OS-picked ports): leader following, failover, a write retried after a dropped
 * connection applied once, consistency levels, abort and timeout, pipelining, subscriptions,
 * admin calls and the typed errors a node answers with.
 */
import { AbortError, isGreenraftError, TimeoutError } from '@greenraft/consensus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, until } from './cluster.test-utils.js';
import { type CutLog, cuttingWebSocket } from './cutting-websocket.test-utils.js';
import {
  BadRequestError,
  ConflictError,
  type ClientInit,
  createClient,
  type GreenraftClient,
  isOutcomeUnknown,
  TooLargeError,
  UnauthenticatedError,
} from './index.js';

let cluster: Cluster;
const clients: GreenraftClient[] = [];

function client(init: Partial<ClientInit> = {}): GreenraftClient {
  const made = createClient({ endpoints: cluster.urls(), ...init });
  clients.push(made);
  return made;
}

beforeAll(async () => {
  cluster = await startCluster({ config: { client: { maxValueBytes: 4096 } } });
  await cluster.leader();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.close();
});

describe('leader following and failover', () => {
  it('connected to a follower, moves to the leader it names in hello', async () => {
    const leader = await cluster.leader();
    const follower = cluster.followers()[0]!;
    const c = client({ endpoints: [cluster.url(follower.id)] });
    expect(await c.put('follow-1', 'x')).toMatchObject({ index: expect.any(Number) });
    expect(c.stats()).toMatchObject({ node: leader.id, leader: { id: leader.id, url: cluster.url(leader.id) } });
  });

  it('with followLeader off, stays on the follower, which forwards writes', async () => {
    const follower = cluster.followers()[0]!;
    const c = client({ endpoints: [cluster.url(follower.id)], followLeader: false });
    await c.put('follow-2', 'y');
    expect(c.stats().node).toBe(follower.id);
    expect((await c.get('follow-2')).value).toBe('y');
  });

  it('pipelines 200 concurrent writes on one connection', async () => {
    const c = client();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => c.put(`pipe-${i}`, String(i))));
    expect(new Set(results.map((r) => r.index)).size).toBe(200);
    expect(c.stats().connections).toBe(1);
    const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(`pipe-${i}`)));
    expect(reads.map((r) => r.value)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });
});

describe('a write retried after a dropped connection is applied once', () => {
  it('cas from absent: the retry answers the first result (swapped), not a second application (not swapped)', async () => {
    const log: CutLog = { sent: [], cut: 0 };
    const c = client({ WebSocket: cuttingWebSocket((frame) => frame.includes('"swapped"'), log), retry: { initialDelayMs: 1 } });
    const before = (await cluster.leader()).status().commitIndex as number;
    const result = await c.cas('once-1', null, 'applied');
    expect(log.cut).toBe(1);
    // Had the retry been applied again, from absent would not hold any more: swapped false.
    expect(result.swapped).toBe(true);
    expect((await c.get('once-1')).value).toBe('applied');
    // One log entry for two attempts (the retry was answered from the client's session).
    expect(result.index).toBe(before + 1);
    const keys = log.sent.map((text) => JSON.parse(text) as { op: string; idempotencyKey?: string }).filter((frame) => frame.op === 'cas').map((frame) => frame.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTypeOf('string');
    expect(keys[1]).toBe(keys[0]);
    expect(c.stats().connections).toBe(2);
  });

  it('the same drop without an idempotency key would have applied twice: the node proves it', async () => {
    const c = client();
    const first = await c.cas('once-2', null, 'applied', { idempotencyKey: 'k-1' });
    const again = await c.cas('once-2', null, 'applied', { idempotencyKey: 'k-1' });
    const fresh = await c.cas('once-2', null, 'applied', { idempotencyKey: 'k-2' });
    expect(first.swapped).toBe(true);
    expect(again).toEqual(first);
    expect(fresh.swapped).toBe(false);
  });
});

describe('consistency levels', () => {
  it('linearizable and lease reads on a follower see a write acknowledged just before, every time', async () => {
    const follower = cluster.followers()[0]!;
    const writer = client();
    const reader = client({ endpoints: [cluster.url(follower.id)], followLeader: false });
    for (let i = 0; i < 20; i++) {
      await writer.put('fresh', String(i));
      expect((await reader.get('fresh', { consistency: 'linearizable' })).value).toBe(String(i));
      expect((await reader.get('fresh', { consistency: 'lease' })).value).toBe(String(i));
    }
    expect(reader.stats().node).toBe(follower.id);
  });

  it('a stale read answers from the node’s own state and catches up', async () => {
    const follower = cluster.followers()[0]!;
    const writer = client();
    const reader = client({ endpoints: [cluster.url(follower.id)], followLeader: false });
    const { index } = await writer.put('stale-1', 'v');
    const read = await until(async () => {
      const r = await reader.get('stale-1', { consistency: 'stale' });
      return r.value === 'v' ? r : undefined;
    }, 'the follower to apply the write');
    expect(read.index).toBe(index);
    expect((await reader.get('never-written', { consistency: 'stale' })).value).toBeNull();
  });
});

describe('abort and timeout', () => {
  it('an aborted call rejects with AbortError and sends nothing', async () => {
    const c = client();
    await c.put('abort-0', 'warm');
    const controller = new AbortController();
    controller.abort();
    const error = await c.put('abort-1', 'v', { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(isOutcomeUnknown(error)).toBe(false);
    expect((await c.get('abort-1')).value).toBeNull();
  });

  it('a write that times out is unknown; retried with its key, it is applied at most once', async () => {
    const c = client();
    await c.put('timeout-0', 'warm');
    const error = await c.cas('timeout-1', null, 'v', { idempotencyKey: 'timeout-key', timeoutMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isOutcomeUnknown(error)).toBe(true);
    // Whether or not the first attempt was applied, the retry with its key swaps exactly once.
    expect((await c.cas('timeout-1', null, 'v', { idempotencyKey: 'timeout-key' })).swapped).toBe(true);
    expect((await c.cas('timeout-1', null, 'v')).swapped).toBe(false);
  });
});

describe('typed errors from a node', () => {
  it('a value over the node’s maxValueBytes is TooLargeError', async () => {
    const c = client();
    await expect(c.put('big', 'x'.repeat(5000))).rejects.toBeInstanceOf(TooLargeError);
  });

  it('an idempotency key reused for another request is ConflictError', async () => {
    const c = client();
    await c.put('conflict', 'a', { idempotencyKey: 'reused' });
    const error = await c.put('conflict', 'b', { idempotencyKey: 'reused' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((await c.get('conflict')).value).toBe('a');
  });

  it('a market query on a KV cluster is BadRequestError', async () => {
    const c = client();
    const error = await c.market.query('balances').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(/KV store/);
  });
});

describe('status, admin and subscriptions', () => {
  it('status names the leader and the voters', async () => {
    const leader = await cluster.leader();
    const status = await client().status();
    expect(status.leader).toBe(leader.id);
    expect(status.config.voters).toEqual({ n1: 1, n2: 1, n3: 1 });
  });

  it('subscribe: commitQuorum events for writes, a leader event after transferLeader', async () => {
    const c = client();
    const subscription = await c.subscribe(['commitQuorum', 'leader']);
    const leader = await cluster.leader();
    const { index } = await c.put('events-1', 'v');
    const quorum = await until(async () => {
      const { value } = await subscription.next();
      return value?.topic === 'commitQuorum' && value.data.index >= index ? value : undefined;
    }, 'a commitQuorum event');
    expect(quorum.data.acks.length).toBeGreaterThanOrEqual(2);
    const target = cluster.followers()[0]!.id;
    await c.admin.transferLeader(target);
    await until(async () => {
      const { value } = await subscription.next();
      return value?.topic === 'leader' ? value : undefined;
    }, 'a leader event');
    expect((await cluster.leader()).id).toBe(target);
    expect(leader.id).not.toBe(target);
    subscription.close();
    expect((await subscription.next()).done).toBe(true);
  });

  it('fails over when the node it is connected to stops: writes in flight and after succeed, each once; a subscription follows', async () => {
    const c = client({ retry: { initialDelayMs: 5 } });
    await c.put('failover-0', 'warm');
    const connected = c.stats().node!;
    const subscription = await c.subscribe(['status']);
    const writes = Array.from({ length: 40 }, (_, i) => c.cas(`failover-${i + 1}`, null, 'v'));
    await cluster.server(connected).stop();
    const results = await Promise.all(writes);
    // A cas from absent applied twice would answer swapped: false to its retry.
    expect(results.every((r) => r.swapped)).toBe(true);
    expect(c.stats().node).not.toBe(connected);
    for (let i = 1; i <= 40; i++) expect((await c.get(`failover-${i}`)).value).toBe('v');
    expect((await c.status()).leader).not.toBe(connected);
    // The subscription moved with the client: status events now come from another node.
    const moved = await until(async () => {
      const { value } = await subscription.next();
      return value?.topic === 'status' && value.data.node !== connected ? value : undefined;
    }, 'a status event from another node');
    expect(moved.data.node).toBe(c.stats().node);
    subscription.close();
  });
});

describe('bearer tokens', () => {
  it('without the token the client is refused with UnauthenticatedError; with it, served', async () => {
    const secured = await startCluster({ ids: ['t1'], config: { client: { tokens: [{ subject: 'meter-gateway', token: 'a token of at least sixteen characters' }] } } });
    try {
      await secured.leader();
      const anonymous = createClient({ endpoints: secured.urls() });
      const refused = await anonymous.put('k', 'v').catch((e: unknown) => e);
      await anonymous.close();
      expect(refused).toBeInstanceOf(UnauthenticatedError);
      expect(isGreenraftError(refused, 'UNAUTHENTICATED')).toBe(true);
      const known = createClient({ endpoints: secured.urls(), token: 'a token of at least sixteen characters' });
      expect((await known.put('k', 'v')).index).toBeGreaterThan(0);
      await known.close();
    } finally {
      await secured.close();
    }
  });
});
