/**
 * `propose` (WebSocket) and `POST /v1/propose` (HTTP) on real 3-node clusters in this process: a
 * KV cluster's put, cas and delete commands and a market cluster's signed transactions go
 * through the operations they stand for (the same checks, sessions and answers), a bad command is
 * refused before the log, and a retried command is applied once.
 */
import { generateParticipantKeys, marketClient } from '@greenraft/power-market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, type TestCluster, http, startCluster } from './cluster.test-utils.js';

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  http(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

/** A raw client of `url`, greeted as `clientId`. */
async function greeted(url: string, clientId: string): Promise<RawClient> {
  const client = await RawClient.connect(url);
  expect(await client.request({ op: 'hello', clientId })).toMatchObject({ ok: true });
  return client;
}

describe('propose on a KV cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ overrides: () => ({ client: { maxValueBytes: 4096 } }) });
    await cluster.leader();
  });
  afterAll(() => cluster?.close());

  it('WebSocket: put, cas and delete commands through a follower, each answered { index, result } and seen by get', async () => {
    const client = await greeted(cluster.url(cluster.followers()[0]!.id), 'propose-ws');
    try {
      const put = await client.request({ op: 'propose', command: { type: 'put', key: 'p-1', value: '12.5' } });
      expect(put).toMatchObject({ ok: true, result: { index: expect.any(Number), result: {} } });
      const putIndex = (put.result as { index: number }).index;
      expect(await client.request({ op: 'get', key: 'p-1' })).toMatchObject({ ok: true, result: { value: '12.5', index: putIndex } });

      const swapped = await client.request({ op: 'propose', command: { type: 'cas', key: 'p-1', from: '12.5', to: '13.0' } });
      expect(swapped).toMatchObject({ ok: true, result: { index: putIndex + 1, result: { swapped: true } } });
      const missed = await client.request({ op: 'propose', command: { type: 'cas', key: 'p-1', from: '12.5', to: '14.0' } });
      expect(missed).toMatchObject({ ok: true, result: { result: { swapped: false } } });
      const fromAbsent = await client.request({ op: 'propose', command: { type: 'cas', key: 'p-2', from: null, to: 'first' } });
      expect(fromAbsent).toMatchObject({ ok: true, result: { result: { swapped: true } } });
      expect(await client.request({ op: 'get', key: 'p-1' })).toMatchObject({ result: { value: '13.0' } });
      expect(await client.request({ op: 'get', key: 'p-2' })).toMatchObject({ result: { value: 'first' } });

      const deleted = await client.request({ op: 'propose', command: { type: 'delete', key: 'p-1' } });
      expect(deleted).toMatchObject({ ok: true, result: { result: { deleted: true } } });
      expect(await client.request({ op: 'propose', command: { type: 'delete', key: 'p-1' } })).toMatchObject({ ok: true, result: { result: { deleted: false } } });
      expect(await client.request({ op: 'get', key: 'p-1' })).toMatchObject({ result: { value: null, index: 0 } });
    } finally {
      client.close();
    }
  });

  it('answers what the operation it stands for answers: the same entry, so one idempotency key serves both', async () => {
    const client = await greeted(cluster.url((await cluster.leader()).id), 'propose-same');
    try {
      const proposed = await client.request({ op: 'propose', command: { type: 'cas', key: 'same-1', from: null, to: 'a' }, idempotencyKey: 'same-1' });
      expect(proposed).toMatchObject({ ok: true, result: { result: { swapped: true } } });
      const { index, result } = proposed.result as { index: number; result: Record<string, unknown> };
      // The cas operation with the same key is the same request: answered from the session, with the first index.
      expect(await client.request({ op: 'cas', key: 'same-1', from: null, to: 'a', idempotencyKey: 'same-1' })).toEqual({ id: expect.any(Number), ok: true, result: { ...result, index } });
    } finally {
      client.close();
    }
  });

  it('refuses a bad command with BAD_REQUEST naming the field, and appends nothing', async () => {
    const leader = await cluster.leader();
    const client = await greeted(cluster.url(cluster.followers()[0]!.id), 'propose-bad');
    try {
      await client.request({ op: 'propose', command: { type: 'put', key: 'bad-warm', value: 'x' } });
      const before = leader.status().lastIndex;
      const cases: [Record<string, unknown>, string][] = [
        [{ op: 'propose' }, 'propose: command: expected an object, got nothing'],
        [{ op: 'propose', command: [1] }, 'propose: command: expected an object, got a list'],
        [{ op: 'propose', command: { key: 'k', value: 'v' } }, 'propose: command.type: expected one of "put", "cas", "delete", got nothing'],
        [{ op: 'propose', command: { type: 'increment', key: 'k' } }, 'propose: command.type: expected one of "put", "cas", "delete", got "increment"'],
        [{ op: 'propose', command: { type: 'put', value: 'v' } }, 'propose: command.key: expected a string, got nothing'],
        [{ op: 'propose', command: { type: 'put', key: 'a/b', value: 'v' } }, 'propose: command.key: expected a key of 1 to 512 bytes of UTF-8 without "/"'],
        [{ op: 'propose', command: { type: 'put', key: 'k', value: 7 } }, 'propose: command.value: expected a string, got 7'],
        [{ op: 'propose', command: { type: 'cas', key: 'k', to: 'v' } }, 'propose: command.from: expected a string, got nothing'],
        [{ op: 'propose', command: { type: 'put', key: 'k', value: 'v', ttl: 5 } }, 'propose: command.ttl: unknown field'],
        // The idempotency key travels beside the command, never inside it.
        [{ op: 'propose', command: { type: 'put', key: 'k', value: 'v', idempotencyKey: 'x' } }, 'propose: command.idempotencyKey: unknown field'],
        [{ op: 'propose', command: { type: 'put', key: 'k', value: 'v' }, extra: 1 }, 'propose: extra: unknown field'],
        [{ op: 'propose', command: { transaction: { type: 'registerNode' }, signature: 'x' } }, 'propose: command.type: expected one of "put", "cas", "delete", got nothing'],
      ];
      for (const [request, message] of cases) {
        expect(await client.request(request), message).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message } });
      }
      // A value over maxValueBytes is checked as put checks it.
      expect(await client.request({ op: 'propose', command: { type: 'put', key: 'big', value: 'x'.repeat(5000) } })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
      expect(leader.status().lastIndex).toBe(before);
      expect(await client.request({ op: 'get', key: 'k' })).toMatchObject({ result: { value: null } });
    } finally {
      client.close();
    }
  });

  it('WebSocket: a retried command is applied once, through another node, answered with the first result', async () => {
    const leader = await cluster.leader();
    const [f1, f2] = cluster.followers();
    const first = await greeted(cluster.url(f1!.id), 'meter-gateway');
    const second = await greeted(cluster.url(f2!.id), 'meter-gateway');
    try {
      const command = { type: 'cas', key: 'once-ws', from: null, to: 'first' };
      const answer = await first.request({ op: 'propose', command, idempotencyKey: 'once-ws-1' });
      expect(answer).toMatchObject({ ok: true, result: { result: { swapped: true } } });
      await first.request({ op: 'put', key: 'once-ws', value: 'overwritten' });
      const before = leader.status().lastIndex;
      // Applied again, the cas from absent would now fail: the retry must get the first answer.
      const retry = await second.request({ op: 'propose', command, idempotencyKey: 'once-ws-1' });
      expect(retry.result).toEqual(answer.result);
      expect(leader.status().lastIndex).toBe(before);
      expect(await second.request({ op: 'get', key: 'once-ws' })).toMatchObject({ result: { value: 'overwritten' } });
      const reused = await second.request({ op: 'propose', command: { ...command, to: 'second' }, idempotencyKey: 'once-ws-1' });
      expect(reused).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    } finally {
      first.close();
      second.close();
    }
  });

  it('HTTP: POST /v1/propose with put, cas and delete commands through a follower; GET sees each', async () => {
    const url = cluster.url(cluster.followers()[0]!.id);
    const put = await post(`${url}/v1/propose`, { command: { type: 'put', key: 'h-1', value: 'ten' } });
    expect(put).toMatchObject({ status: 200, body: { index: expect.any(Number), result: {} } });
    expect((await http(`${url}/v1/kv/h-1`)).body).toMatchObject({ value: 'ten', index: put.body.index });
    expect((await post(`${url}/v1/propose`, { command: { type: 'cas', key: 'h-1', from: 'ten', to: 'eleven' } })).body).toMatchObject({ result: { swapped: true } });
    expect((await http(`${url}/v1/kv/h-1`)).body.value).toBe('eleven');
    expect((await post(`${url}/v1/propose`, { command: { type: 'delete', key: 'h-1' } })).body).toMatchObject({ result: { deleted: true } });
    expect((await http(`${url}/v1/kv/h-1`)).status).toBe(404);
    expect((await http(`${url}/v1/propose`)).status).toBe(404);
  });

  it('HTTP: a bad command is 400 naming the field and appends nothing; a retry with the same Idempotency-Key is one entry', async () => {
    const leader = await cluster.leader();
    const [f1, f2] = cluster.followers();
    const before = leader.status().lastIndex as number;
    const bad = await post(`${cluster.url(f1!.id)}/v1/propose`, { command: { type: 'put', key: 'h-bad', value: null } });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'propose: command.value: expected a string, got null' } } });
    const notJson = await http(`${cluster.url(f1!.id)}/v1/propose`, { method: 'POST', body: 'put h-bad 1' });
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'the body is not JSON' } } });
    expect(leader.status().lastIndex).toBe(before);

    const headers = { 'idempotency-key': 'h-once-1', 'client-id': 'meter-gateway-http' };
    const command = { type: 'cas', key: 'h-once', from: null, to: 'first' };
    const first = await post(`${cluster.url(f1!.id)}/v1/propose`, { command }, headers);
    expect(first.body).toMatchObject({ result: { swapped: true } });
    await http(`${cluster.url(leader.id)}/v1/kv/h-once`, { method: 'PUT', body: 'overwritten' });
    const afterWrites = leader.status().lastIndex;
    expect(afterWrites).toBe(before + 2);
    const retry = await post(`${cluster.url(f2!.id)}/v1/propose`, { command }, headers);
    expect(retry).toMatchObject({ status: 200, body: first.body });
    expect(leader.status().lastIndex).toBe(afterWrites);
    expect((await http(`${cluster.url(leader.id)}/v1/kv/h-once`)).body.value).toBe('overwritten');
  });
});

describe('propose on a market cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // No participation entries: the leader appends nothing by itself, so the log's growth is the test's own.
    cluster = await startCluster({ overrides: () => ({ stateMachine: 'market', market: { participation: { enabled: false } } }) });
    await cluster.leader();
  });
  afterAll(() => cluster?.close());

  it('WebSocket and HTTP: signed transactions through a follower, answered with the market.submit result', async () => {
    const solar = marketClient({ id: 'solar', keys: generateParticipantKeys() });
    const client = await greeted(cluster.url(cluster.followers()[0]!.id), 'market-ws');
    try {
      const registered = await client.request({ op: 'propose', command: solar.register({ kind: 'generation', renewable: true }), idempotencyKey: 'solar-1' });
      expect(registered).toMatchObject({
        ok: true,
        result: { index: expect.any(Number), result: { block: { height: 1 }, receipt: { type: 'registerNode', signer: 'solar', nonce: 1 } } },
      });
      const nodes = await client.request({ op: 'market.query', what: 'nodes' });
      expect((nodes.result as { nodes: { id: string }[] }).nodes.map((node) => node.id)).toEqual(['solar']);
    } finally {
      client.close();
    }
    const carbon = await post(`${cluster.url(cluster.followers()[1]!.id)}/v1/propose`, { command: solar.recordCarbon({ quota: 5 }) });
    expect(carbon).toMatchObject({ status: 200, body: { result: { block: { height: 2 }, receipt: { type: 'recordCarbon', signer: 'solar', nonce: 2 } } } });
    expect((await http(`${cluster.url(cluster.followers()[1]!.id)}/v1/market/head`)).body).toMatchObject({ height: 2 });
  });

  it('refuses an unsigned, malformed or badly signed transaction before the log, and applies a retry once', async () => {
    const leader = await cluster.leader();
    const mill = marketClient({ id: 'mill', keys: generateParticipantKeys() });
    const url = cluster.url(leader.id);
    const registration = mill.register({ kind: 'consumption' });
    expect((await post(`${url}/v1/propose`, { command: registration }, { 'idempotency-key': 'mill-1' })).status).toBe(200);
    const before = leader.status().lastIndex;

    const unsigned = await post(`${url}/v1/propose`, { command: { transaction: registration.transaction } });
    expect(unsigned).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', reason: 'INVALID_TRANSACTION', message: expect.stringMatching(/^propose: command: .*signature/) } } });
    const malformed = await post(`${url}/v1/propose`, { command: { transaction: { type: 'recordCarbon', signer: 'mill', nonce: 'two' }, signature: 'x'.repeat(86) } });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^propose: command: .*transaction\.nonce/) } } });
    const kvShaped = await post(`${url}/v1/propose`, { command: { type: 'put', key: 'k', value: 'v' } });
    expect(kvShaped).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringMatching(/^propose: command\.transaction: .*signed transaction/) } } });
    const impostor = marketClient({ id: 'mill', keys: generateParticipantKeys(), lastNonce: 10 });
    const forged = await post(`${url}/v1/propose`, { command: impostor.recordCarbon({ quota: 1 }) });
    expect(forged).toMatchObject({ status: 422, body: { error: { code: 'REJECTED', reason: 'INVALID_SIGNATURE' } } });
    const stranger = marketClient({ id: 'stranger', keys: generateParticipantKeys() });
    expect((await post(`${url}/v1/propose`, { command: stranger.recordCarbon({ quota: 1 }) })).body).toMatchObject({ error: { code: 'REJECTED', reason: 'UNKNOWN_NODE' } });
    expect(leader.status().lastIndex).toBe(before);

    // The registration again, with its key: answered from the session (a new entry would be refused as a replayed nonce).
    const retry = await post(`${url}/v1/propose`, { command: registration }, { 'idempotency-key': 'mill-1' });
    expect(retry).toMatchObject({ status: 200, body: { result: { receipt: { type: 'registerNode', signer: 'mill', nonce: 1 } } } });
    expect(leader.status().lastIndex).toBe(before);
  });
});
