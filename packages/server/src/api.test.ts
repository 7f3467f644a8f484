/** The client API on a real 3-node cluster in this process: HTTP through fetch, the WebSocket protocol through raw frames. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, type TestCluster, http, startCluster, until } from './cluster.test-utils.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ overrides: () => ({ client: { statusIntervalMs: 100, maxRequestBytes: 256 * 1024, maxValueBytes: 128 * 1024 } }) });
  await cluster.leader();
});
afterAll(() => cluster?.close());

const json = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('the HTTP gateway', () => {
  it('writes through a follower (forwarded to the leader) and reads at every consistency level', async () => {
    const leader = await cluster.leader();
    const [f1, f2] = cluster.followers();
    const put = await http(`${cluster.url(f1!.id)}/v1/kv/meter-1`, { method: 'PUT', body: '12.5' });
    expect(put.status).toBe(200);
    expect(put.body.index).toBeGreaterThan(0);
    // Linearizable (the default) on the other follower: its read barrier sees the write.
    const linearizable = await http(`${cluster.url(f2!.id)}/v1/kv/meter-1`);
    expect(linearizable).toMatchObject({ status: 200, body: { value: '12.5', index: put.body.index } });
    expect(linearizable.body.readIndex).toBeGreaterThanOrEqual(put.body.index as number);
    const lease = await http(`${cluster.url(f2!.id)}/v1/kv/meter-1?consistency=lease`);
    expect(lease.body.value).toBe('12.5');
    const onLeader = await http(`${cluster.url(leader.id)}/v1/kv/meter-1?consistency=lease`);
    expect(onLeader.body.value).toBe('12.5');
    // Stale reads serve whatever this node applied: eventually the write.
    await until(async () => (await http(`${cluster.url(f2!.id)}/v1/kv/meter-1?consistency=stale`)).body.value === '12.5', 'a stale read to catch up');
    expect((await http(`${cluster.url(f2!.id)}/v1/kv/meter-1?consistency=eventual`)).status).toBe(400);
  });

  it('compares and swaps, deletes, and answers 404 for a missing key', async () => {
    const url = cluster.url(cluster.followers()[0]!.id);
    expect((await http(`${url}/v1/kv/cas-key/cas`, json({ from: null, to: 'a' }))).body).toMatchObject({ swapped: true });
    expect((await http(`${url}/v1/kv/cas-key/cas`, json({ from: null, to: 'b' }))).body).toMatchObject({ swapped: false });
    expect((await http(`${url}/v1/kv/cas-key/cas`, json({ from: 'a', to: 'b' }))).body).toMatchObject({ swapped: true });
    expect((await http(`${url}/v1/kv/cas-key`)).body.value).toBe('b');
    const deleted = await http(`${url}/v1/kv/cas-key`, { method: 'DELETE' });
    expect(deleted.body).toMatchObject({ deleted: true });
    expect((await http(`${url}/v1/kv/cas-key`, { method: 'DELETE' })).body).toMatchObject({ deleted: false });
    const missing = await http(`${url}/v1/kv/cas-key`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    // Keys are any UTF-8 but "/": percent-encoded in the path.
    expect((await http(`${url}/v1/kv/${encodeURIComponent('zähler 7 ⚡')}`, { method: 'PUT', body: 'ok' })).status).toBe(200);
    expect((await http(`${url}/v1/kv/${encodeURIComponent('zähler 7 ⚡')}`)).body.value).toBe('ok');
    expect((await http(`${url}/v1/kv/${encodeURIComponent('a/b')}`, { method: 'PUT', body: 'x' })).status).toBe(400);
  });

  it('applies a retried write once, through any node, and answers it with the first result', async () => {
    const [f1, f2] = cluster.followers();
    const leader = await cluster.leader();
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'cas-once-1', 'client-id': 'meter-gateway' };
    const first = await http(`${cluster.url(f1!.id)}/v1/kv/once/cas`, { method: 'POST', headers, body: JSON.stringify({ from: null, to: 'first' }) });
    expect(first.body).toMatchObject({ swapped: true });
    await http(`${cluster.url(leader.id)}/v1/kv/once`, { method: 'PUT', body: 'overwritten' });
    const before = leader.status().lastIndex as number;
    // The retry (after a lost answer, say) goes to another node; applied again, the cas would now fail.
    const retry = await http(`${cluster.url(f2!.id)}/v1/kv/once/cas`, { method: 'POST', headers, body: JSON.stringify({ from: null, to: 'first' }) });
    expect(retry.body).toEqual(first.body);
    expect((await http(`${cluster.url(leader.id)}/v1/kv/once`)).body.value).toBe('overwritten');
    expect(leader.status().lastIndex).toBe(before); // answered from the session, with no new entry
    // The same key for another request is a conflict.
    const reused = await http(`${cluster.url(f2!.id)}/v1/kv/once/cas`, { method: 'POST', headers, body: JSON.stringify({ from: null, to: 'second' }) });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ error: { code: 'CONFLICT' } });
  });

  it('serves cluster status, metrics and health', async () => {
    const leader = await cluster.leader();
    const status = await http(`${cluster.url(cluster.followers()[0]!.id)}/v1/cluster/status`);
    expect(status.body).toMatchObject({ role: 'follower', leader: leader.id, leaderUrl: cluster.url(leader.id), stateMachine: 'kv', policy: 'classic' });
    expect(status.body.config).toEqual({ voters: { n1: 1, n2: 1, n3: 1 }, learners: [], outgoing: null });
    expect(Object.keys(status.body.members as object)).toEqual(['n1', 'n2', 'n3']);
    expect((await http(`${cluster.url(leader.id)}/livez`)).body).toEqual({ status: 'ok' });
    const ready = await http(`${cluster.url(leader.id)}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, checks: { storage: true, leader: leader.id, removed: false } });
    const metrics = await (await fetch(`${cluster.url(leader.id)}/metrics`)).text();
    for (const name of [
      'greenraft_server_has_leader 1',
      'greenraft_server_is_leader 1',
      'greenraft_server_leader_changes_seen_total',
      'greenraft_server_proposals_committed_total',
      'greenraft_server_proposals_applied_total',
      'greenraft_server_proposals_pending 0',
      'greenraft_server_proposals_failed_total',
      'greenraft_disk_wal_fsync_duration_seconds_bucket',
      'greenraft_network_peer_round_trip_time_seconds{To=',
      'greenraft_network_peer_sent_bytes_total{To=',
      'greenraft_network_peer_received_bytes_total{From=',
      'greenraft_server_weight{voter="n1"} 1',
      'nodejs_eventloop_lag_seconds',
      'greenraft_server_client_requests_total{op="put",code="OK"}',
    ]) {
      expect(metrics, name).toContain(name);
    }
    expect(metrics).toMatch(/greenraft_disk_wal_fsync_duration_seconds_count [1-9]/);
  });
});

describe('the WebSocket protocol', () => {
  it('pipelines and multiplexes requests on one connection, each answered once with its id', async () => {
    const client = await RawClient.connect(cluster.url(cluster.followers()[0]!.id));
    try {
      const hello = await client.request({ op: 'hello', clientId: 'ws-test' });
      expect(hello).toMatchObject({ ok: true, result: { node: expect.any(String), leader: (await cluster.leader()).id, protocol: 1 } });
      const puts = Array.from({ length: 40 }, (_, i) => client.request({ op: 'put', key: `ws-${i}`, value: `v${i}`, idempotencyKey: `ws-put-${i}` }));
      const answers = await Promise.all(puts);
      expect(answers.every((answer) => answer.ok === true)).toBe(true);
      const indexes = answers.map((answer) => (answer.result as { index: number }).index);
      expect(new Set(indexes).size).toBe(40);
      expect(await client.request({ op: 'get', key: 'ws-7' })).toMatchObject({ ok: true, result: { value: 'v7' } });
      expect(await client.request({ op: 'get', key: 'nothing-here', consistency: 'stale' })).toMatchObject({ ok: true, result: { value: null, index: 0 } });
      expect(await client.request({ op: 'cas', key: 'ws-7', from: 'v7', to: 'w7' })).toMatchObject({ ok: true, result: { swapped: true } });
      expect(await client.request({ op: 'delete', key: 'ws-7' })).toMatchObject({ ok: true, result: { deleted: true } });
      // Retrying a put with its key gives the first index back.
      expect(await client.request({ op: 'put', key: 'ws-3', value: 'v3', idempotencyKey: 'ws-put-3' })).toMatchObject({ ok: true, result: { index: indexes[3] } });
    } finally {
      client.close();
    }
  });

  it('answers a request that fails with an error and keeps the connection; closes it on a frame that is not a request', async () => {
    const client = await RawClient.connect(cluster.url((await cluster.leader()).id));
    try {
      expect(await client.request({ op: 'put', key: 'k', value: 'v' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'the first request must be hello' } });
      await client.request({ op: 'hello' });
      expect(await client.request({ op: 'launch' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'op: unknown operation "launch"' } });
      expect(await client.request({ op: 'put', key: 'k', value: 'v', ttl: 5 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'put: ttl: unknown field' } });
      expect(await client.request({ op: 'put', key: '', value: 'v' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      expect(await client.request({ op: 'market.submit', transaction: {} })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringMatching(/KV store/) } });
      expect(await client.request({ op: 'put', key: 'big', value: 'x'.repeat(129 * 1024) })).toMatchObject({ ok: false, error: { code: 'TOO_LARGE' } });
      expect(await client.request({ op: 'get', key: 'k' })).toMatchObject({ ok: true });
      client.sendRaw('{ not json');
      expect(await client.closed).toBe(1007);
    } finally {
      client.close();
    }
    for (const [frame, code] of [
      ['[1, 2]', 1007],
      ['{"op":"hello"}', 1007],
      [JSON.stringify({ id: 1, op: 'hello', pad: 'x'.repeat(300 * 1024) }), 1009],
    ] as const) {
      const raw = await RawClient.connect(cluster.url((await cluster.leader()).id));
      raw.sendRaw(frame);
      expect(await raw.closed, frame.slice(0, 20)).toBe(code);
    }
  });

  it('streams the subscribed topics: commit quorums, leader changes and a bounded-rate status', async () => {
    const leader = await cluster.leader();
    const client = await RawClient.connect(cluster.url(leader.id));
    try {
      await client.request({ op: 'hello' });
      expect(await client.request({ op: 'subscribe', topics: ['status', 'commitQuorum', 'leader'] })).toMatchObject({ ok: true, result: { subscribed: ['status', 'commitQuorum', 'leader'] } });
      expect(await client.request({ op: 'subscribe', topics: ['weather'] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      await client.request({ op: 'put', key: 'sub', value: '1' });
      const quorum = await until(() => client.events.find((event) => event.event === 'commitQuorum'), 'a commitQuorum event');
      expect(quorum.data).toMatchObject({ index: expect.any(Number), term: expect.any(Number), acks: expect.arrayContaining([expect.objectContaining({ id: leader.id })]) });
      const status = await until(() => client.events.find((event) => event.event === 'status'), 'a status event');
      expect(status.data).toMatchObject({ node: leader.id, role: 'leader', weights: { n1: 1, n2: 1, n3: 1 }, peers: expect.any(Object), eventLoopLagMs: expect.any(Object) });
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const statusEvents = client.events.filter((event) => event.event === 'status').length;
      // statusIntervalMs is 100: a handful per half second, never one per commit.
      expect(statusEvents).toBeLessThanOrEqual(Math.ceil((performance.now() - started) / 100) + 3);
      await client.request({ op: 'unsubscribe', topics: ['status', 'commitQuorum'] });
    } finally {
      client.close();
    }
  });
});
