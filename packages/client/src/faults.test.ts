/**
 * What a real node cannot be made to do on demand, against the protocol-level fake: a connection
 * dropped after the write was applied and before its answer, an answer sent twice, an answer
 * that comes too late, frames that are not the protocol, a follower pointing at the leader in an
 * error. Everything else runs against real servers (cluster.test.ts).
 */
import { AbortError, isGreenraftError, TimeoutError } from '@greenraft/consensus';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeNode, FakeStore, fakeNode } from './fake-node.test-utils.js';
import { createClient, type GreenraftClient, idempotencyKeyOf, isOutcomeUnknown, ProtocolError, TooManyRequestsError, UnavailableError } from './index.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function node(init: Parameters<typeof fakeNode>[0]): Promise<FakeNode> {
  const fake = await fakeNode(init);
  cleanup.push(() => fake.close());
  return fake;
}

function client(init: Parameters<typeof createClient>[0]): GreenraftClient {
  const made = createClient(init);
  cleanup.push(() => made.close());
  return made;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('a write retried with its idempotency key is applied once', () => {
  it('the connection drops after the node applied the write and before it answered', async () => {
    const store = new FakeStore();
    let drops = 0;
    const a = await node({
      id: 'a',
      store,
      handle: (exchange) => {
        if (exchange.request.op !== 'put' || drops > 0) return 'default';
        drops++;
        exchange.apply(); // applied and committed, then the answer is lost with the connection
        exchange.drop();
      },
    });
    const b = await node({ id: 'b', store });
    const c = client({ endpoints: [a.url, b.url], retry: { initialDelayMs: 1 } });
    const result = await c.put('meter-7', '12.5');
    expect(drops).toBe(1);
    expect(result).toEqual({ index: 1 });
    expect(store.applied).toBe(1);
    expect(store.values.get('meter-7')).toBe('12.5');
    // Both attempts carried the same key: the second was answered from the remembered result.
    const puts = [...a.requests, ...b.requests].filter((r) => r.op === 'put');
    expect(puts).toHaveLength(2);
    expect(puts[0]!.idempotencyKey).toBeTypeOf('string');
    expect(puts[1]!.idempotencyKey).toBe(puts[0]!.idempotencyKey);
    expect(c.stats().retries).toBe(1);
  });

  it('without the key the same drop would apply it twice (the fake proves it can tell)', async () => {
    const store = new FakeStore();
    const request = { id: 1, op: 'put', key: 'k', value: 'v' };
    store.apply('c1', request);
    store.apply('c1', request);
    expect(store.applied).toBe(2);
    store.apply('c1', { ...request, idempotencyKey: 'x' });
    store.apply('c1', { ...request, idempotencyKey: 'x' });
    expect(store.applied).toBe(3);
  });

  it('a slow answer: the attempt times out, the retry elsewhere gets the first result, the late answer is ignored', async () => {
    const store = new FakeStore();
    const late = deferred();
    const slow = await node({
      id: 'slow',
      store,
      handle: async (exchange) => {
        if (exchange.request.op !== 'cas') return 'default';
        const result = exchange.apply();
        await late.promise;
        exchange.answer(result);
      },
    });
    const fast = await node({ id: 'fast', store });
    const c = client({ endpoints: [slow.url, fast.url], attemptTimeoutMs: 200, retry: { initialDelayMs: 1 } });
    const result = await c.cas('meter-7', null, '1');
    expect(result).toEqual({ swapped: true, index: 1 });
    expect(store.applied).toBe(1);
    expect(store.values.get('meter-7')).toBe('1');
    expect(c.stats().endpoint).toContain(new URL(fast.url).host);
    late.resolve();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The slow node's late answer found nothing waiting for it.
    expect((await c.get('meter-7')).value).toBe('1');
  });
});

describe('answers the client must not trust twice', () => {
  it('an answer sent twice settles the call once; the second is counted and ignored', async () => {
    const twice = await node({
      id: 'a',
      handle: (exchange) => {
        if (exchange.request.op !== 'put') return 'default';
        const result = exchange.apply();
        exchange.answer(result);
        exchange.answer({ index: 999 });
      },
    });
    const c = client({ endpoints: twice.url });
    expect(await c.put('k', 'v')).toEqual({ index: 1 });
    expect(await c.get('k')).toEqual({ value: 'v', index: 1 });
    expect(c.stats().strayFrames).toBe(1);
    expect(twice.connections()).toBe(1);
  });

  it('a frame that is not the protocol closes the connection; the request is retried on another node', async () => {
    const store = new FakeStore();
    const broken = await node({ id: 'a', store, handle: (exchange) => exchange.send('this is not json') });
    const good = await node({ id: 'b', store });
    const c = client({ endpoints: [broken.url, good.url], retry: { initialDelayMs: 1 } });
    expect(await c.put('k', 'v')).toEqual({ index: 1 });
    expect(store.applied).toBe(1);
    expect(c.stats().strayFrames).toBe(1);
  });

  it('an answer of the wrong shape is a ProtocolError, not a result', async () => {
    const wrong = await node({ id: 'a', handle: (exchange) => exchange.answer({ swapped: 'yes' }) });
    const c = client({ endpoints: wrong.url });
    const error = await c.cas('k', null, 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toMatch(/no valid swapped/);
    expect(isOutcomeUnknown(error)).toBe(true);
  });

  it('a node that closes with 1009 (frame too large) fails the request without retrying it', async () => {
    const closer = await node({
      id: 'a',
      handle: (exchange) => {
        for (const socket of closerSockets()) socket.close(1009, 'frame over maxRequestBytes');
        void exchange;
      },
    });
    const closerSockets = () => closer.sockets;
    const c = client({ endpoints: closer.url });
    const error = await c.put('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(closer.requests.filter((r) => r.op === 'put')).toHaveLength(1);
  });
});

describe('leader hints, UNAVAILABLE and backoff', () => {
  it('UNAVAILABLE with retryAfterMs is retried after that wait, then succeeds', async () => {
    let refusals = 0;
    const times: number[] = [];
    const n = await node({
      id: 'a',
      handle: (exchange) => {
        times.push(Date.now());
        if (refusals++ < 2) return exchange.fail('UNAVAILABLE', 'no leader is known', { retryAfterMs: 100 });
        return 'default';
      },
    });
    const c = client({ endpoints: n.url });
    expect(await c.put('k', 'v')).toEqual({ index: 1 });
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(95);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(95);
  });

  it('an error naming the leader moves the client to it', async () => {
    const store = new FakeStore();
    const leader = await node({ id: 'L', store });
    const follower = await node({
      id: 'F',
      store,
      handle: (exchange) => exchange.fail('UNAVAILABLE', 'not the leader', { leader: { id: 'L', url: leader.url }, retryAfterMs: 0 }),
    });
    const c = client({ endpoints: follower.url });
    expect(await c.put('k', 'v')).toEqual({ index: 1 });
    expect(c.stats().node).toBe('L');
    expect(c.stats().leader).toEqual({ id: 'L', url: leader.url });
    expect(follower.requests.filter((r) => r.op === 'put')).toHaveLength(1);
    expect(leader.requests.filter((r) => r.op === 'put')).toHaveLength(1);
  });

  it('with every endpoint down, a call fails with UnavailableError after retry.maxAttempts connection attempts', async () => {
    const n = await node({ id: 'a' });
    const url = n.url;
    await n.close();
    cleanup.pop();
    const c = client({ endpoints: url, retry: { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 5 } });
    const error = await c.put('k', 'v').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).message).toMatch(/failed after 4 attempts/);
    expect(isOutcomeUnknown(error)).toBe(false);
    expect((error as Error).message).toMatch(/the write was not applied/);
    expect(c.stats().retries).toBe(3);
  });

  it('a write whose connection keeps dropping ends UNAVAILABLE with its outcome unknown and its key', async () => {
    const n = await node({ id: 'a', handle: (exchange) => exchange.drop() });
    const c = client({ endpoints: n.url, retry: { maxAttempts: 3, initialDelayMs: 1 } });
    const error = await c.put('k', 'v', { idempotencyKey: 'reading-42' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(idempotencyKeyOf(error)).toBe('reading-42');
    expect((error as Error).message).toMatch(/may have been applied: retry with idempotency key 'reading-42'/);
    expect(n.requests.filter((r) => r.op === 'put').map((r) => r.idempotencyKey)).toEqual(['reading-42', 'reading-42', 'reading-42']);
  });
});

describe('changes without an idempotency key', () => {
  it('are not sent again once they may have been applied (a dropped connection)', async () => {
    const n = await node({ id: 'a', handle: (exchange) => exchange.drop() });
    const c = client({ endpoints: n.url, retry: { initialDelayMs: 1 } });
    const error = await c.admin.setWeights({ a: 3, b: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(isOutcomeUnknown(error)).toBe(true);
    expect(idempotencyKeyOf(error)).toBeUndefined();
    expect((error as Error).message).toMatch(/the change may have been applied: check the cluster status/);
    const sent = n.requests.filter((r) => r.op === 'cluster.setWeights');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.idempotencyKey).toBeUndefined();
  });

  it('are sent again after UNAVAILABLE (no leader: nothing was proposed)', async () => {
    let refusals = 0;
    const n = await node({
      id: 'a',
      handle: (exchange) => {
        if (refusals++ === 0) return exchange.fail('UNAVAILABLE', 'no leader is known', { retryAfterMs: 1 });
        exchange.answer({ voters: { a: 3, b: 1 }, learners: [], outgoing: null });
      },
    });
    const c = client({ endpoints: n.url });
    expect(await c.admin.setWeights({ a: 3, b: 1 })).toEqual({ voters: { a: 3, b: 1 }, learners: [], outgoing: null });
    expect(n.requests.filter((r) => r.op === 'cluster.setWeights')).toHaveLength(2);
  });
});

describe('deadlines, abort and the in-flight bound', () => {
  it('a write that times out says its outcome is unknown; a read that times out does not', async () => {
    const n = await node({ id: 'a', handle: () => {} }); // never answers
    const c = client({ endpoints: n.url, attemptTimeoutMs: 100, retry: { initialDelayMs: 1 } });
    const write = await c.put('k', 'v', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(write).toBeInstanceOf(TimeoutError);
    expect(isOutcomeUnknown(write)).toBe(true);
    expect((write as Error).message).toMatch(/put k did not finish within 300 ms \(last: no answer from ws:\/\/127.0.0.1:\d+\/v1\/ws within 100 ms\); the write may have been applied/);
    const read = await c.get('k', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(TimeoutError);
    expect(isOutcomeUnknown(read)).toBe(false);
  });

  it('abort: before sending the outcome is known, after sending it is not', async () => {
    const n = await node({ id: 'a', handle: () => {} });
    const c = client({ endpoints: n.url });
    const before = await c.put('k', 'v', { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(before).toBeInstanceOf(AbortError);
    expect(isOutcomeUnknown(before)).toBe(false);
    expect(n.requests.filter((r) => r.op === 'put')).toHaveLength(0);
    const controller = new AbortController();
    const pending = c.put('k', 'v', { signal: controller.signal });
    while (!n.requests.some((r) => r.op === 'put')) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const after = await pending.catch((e: unknown) => e);
    expect(after).toBeInstanceOf(AbortError);
    expect(isOutcomeUnknown(after)).toBe(true);
    expect(isGreenraftError(after, 'ABORTED')).toBe(true);
  });

  it('pipelines up to maxInFlight, queues up to maxQueued, refuses the next at once', async () => {
    const release = deferred();
    let seen = 0;
    const n = await node({
      id: 'a',
      handle: async () => {
        seen++;
        await release.promise;
        return 'default';
      },
    });
    const c = client({ endpoints: n.url, maxInFlight: 2, maxQueued: 1 });
    const calls = [c.put('a', '1'), c.put('b', '2'), c.put('c', '3')];
    while (seen < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(c.stats()).toMatchObject({ inFlight: 2, queued: 1 });
    const refused = await c.put('d', '4').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect(isOutcomeUnknown(refused)).toBe(false);
    // Both in flight on one connection: pipelined, not one after the other.
    expect(seen).toBe(2);
    expect(n.connections()).toBe(1);
    release.resolve();
    expect((await Promise.all(calls)).map((r) => r.index).sort()).toEqual([1, 2, 3]);
    expect(c.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('close() rejects calls in flight with ClientClosedError and later calls too', async () => {
    const n = await node({ id: 'a', handle: () => {} });
    const c = createClient({ endpoints: n.url });
    const pending = c.put('k', 'v').catch((e: unknown) => e);
    while (!n.requests.some((r) => r.op === 'put')) await new Promise((resolve) => setTimeout(resolve, 5));
    await c.close();
    const error = await pending;
    expect(isGreenraftError(error, 'CLIENT_CLOSED')).toBe(true);
    expect(isOutcomeUnknown(error)).toBe(true);
    await expect(c.get('k')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(n.sockets.size).toBe(0);
  });
});

describe('subscriptions across a dropped connection', () => {
  it('re-subscribes on the next node and keeps delivering', async () => {
    const store = new FakeStore();
    const a = await node({ id: 'a', store });
    const b = await node({ id: 'b', store });
    const c = client({ endpoints: [a.url, b.url], retry: { initialDelayMs: 1 } });
    const subscription = await c.subscribe(['commitQuorum']);
    a.broadcast('commitQuorum', { index: 1, term: 1, acks: [] });
    a.broadcast('status', { ignored: true }); // not a topic of this subscription
    expect(await subscription.next()).toEqual({ done: false, value: { topic: 'commitQuorum', data: { index: 1, term: 1, acks: [] } } });
    for (const socket of a.sockets) socket.terminate();
    while (!b.requests.some((r) => r.op === 'subscribe')) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    b.broadcast('commitQuorum', { index: 2, term: 1, acks: [] });
    expect((await subscription.next()).value).toEqual({ topic: 'commitQuorum', data: { index: 2, term: 1, acks: [] } });
    subscription.close();
    expect(await subscription.next()).toEqual({ done: true, value: undefined });
  });
});
