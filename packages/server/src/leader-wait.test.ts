/**
 * `client.leaderWaitMs`: a read or a write that meets a leader change waits for the next leader
 * and is tried again, instead of answering UNAVAILABLE during an election or a hand-over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpAnswer, RawClient, baseConfig, http, startCluster, type TestCluster } from './cluster.test-utils.js';
import type { ServerConfigInput } from './config.js';
import { type GreenraftServer, createServer } from './server.js';

const IDS = ['n1', 'n2', 'n3'];

/** Three servers listening and told of each other, none started: no leader until two start. */
async function unstarted(client: ServerConfigInput['client'] = {}): Promise<{ servers: GreenraftServer[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-leader-wait-'));
  const servers = IDS.map((id) =>
    createServer({ ...baseConfig(dir, id, { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } }), client: client as never }),
  );
  const addresses = await Promise.all(servers.map((server) => server.listen()));
  const peers = Object.fromEntries(IDS.map((id, i) => [id, addresses[i]!]));
  for (const server of servers) server.setPeers(peers);
  return {
    servers,
    close: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('a request that meets no leader', () => {
  it('with leaderWaitMs 0 is answered UNAVAILABLE at once, its reason NO_LEADER', async () => {
    const { servers, close } = await unstarted({ leaderWaitMs: 0 });
    cleanups.push(close);
    await servers[0]!.start();
    const url = servers[0]!.addresses!.clientUrl;
    for (const answer of [await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v' }), await http(`${url}/v1/kv/k`)]) {
      expect(answer).toMatchObject({ status: 503, body: { error: { code: 'UNAVAILABLE', message: 'no leader is known', reason: 'NO_LEADER', retryAfterMs: 200 } } });
    }
  });

  it('waits for the leader elected meanwhile, then succeeds; a stale read does not wait', async () => {
    const { servers, close } = await unstarted();
    cleanups.push(close);
    await servers[0]!.start();
    const url = servers[0]!.addresses!.clientUrl;
    // Alone, n1 cannot be elected: the write waits.
    let answered: HttpAnswer | undefined;
    const write = http(`${url}/v1/kv/meter-7`, { method: 'PUT', body: '42' }).then((answer) => (answered = answer));
    const read = http(`${url}/v1/kv/meter-7`);
    expect((await http(`${url}/v1/kv/meter-7?consistency=stale`)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(answered).toBeUndefined();
    // A second voter starts: a leader is elected within the wait, and both requests go through.
    await servers[1]!.start();
    expect(await write).toMatchObject({ status: 200, body: { index: expect.any(Number) } });
    const first = await read;
    // The read raced the write: it saw the key or its absence, never an UNAVAILABLE.
    expect([200, 404]).toContain(first.status);
    expect(await http(`${url}/v1/kv/meter-7`)).toMatchObject({ status: 200, body: { value: '42' } });
  });

  it('is answered UNAVAILABLE when no leader comes within the wait', async () => {
    const { servers, close } = await unstarted({ leaderWaitMs: 300 });
    cleanups.push(close);
    await servers[0]!.start();
    const url = servers[0]!.addresses!.clientUrl;
    const sent = performance.now();
    expect(await http(`${url}/v1/kv/k`, { method: 'PUT', body: 'v' })).toMatchObject({ status: 503, body: { error: { reason: 'NO_LEADER' } } });
    // It waited the whole leader wait first (a lower bound: it cannot flake on a slow machine).
    expect(performance.now() - sent).toBeGreaterThanOrEqual(290);
  });

  it('wakes at the leaderChange naming a leader, not at the end of its pause', async () => {
    const { servers, close } = await unstarted();
    cleanups.push(close);
    // The server's own wait, as the handler uses it (not on the public interface).
    const server = servers[0]! as GreenraftServer & { nextLeader(timeoutMs: number, signal?: AbortSignal): Promise<void> };
    let woke = false;
    const waiting = server.nextLeader(60_000).then(() => (woke = true));
    server.emit('leaderChange', { leader: undefined, term: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woke).toBe(false);
    server.emit('leaderChange', { leader: 'n2', term: 1 });
    await waiting;
    expect(woke).toBe(true);
    // An abort ends the wait too.
    const abort = new AbortController();
    const aborted = server.nextLeader(60_000, abort.signal);
    abort.abort();
    await aborted;
    expect(server.listenerCount('leaderChange')).toBe(0);
  });
});

describe('requests during leadership hand-overs', () => {
  let cluster: TestCluster;
  afterEach(async () => cluster?.close());

  it('reads and writes on every node, the followers forwarding, all succeed while leadership moves five times', async () => {
    cluster = await startCluster();
    let leader = await cluster.leader();
    const failures: unknown[] = [];
    let written = 0;
    for (let round = 0; round < 5; round++) {
      const next = IDS.find((id) => id !== leader.id)!;
      const requests: Promise<void>[] = [];
      for (let i = 0; i < 30; i++) {
        const url = cluster.url(IDS[i % 3]!);
        const key = `r${round}-k${i}`;
        requests.push(
          http(`${url}/v1/kv/${key}`, { method: 'PUT', body: String(i) }).then((answer) => {
            if (answer.status === 200) written++;
            else failures.push({ key, put: answer.body });
          }),
          http(`${url}/v1/kv/r${round}-k0`).then((answer) => {
            if (answer.status !== 200 && answer.status !== 404) failures.push({ key, get: answer.body });
          }),
        );
      }
      const moved = http(`${cluster.url(leader.id)}/v1/cluster/transfer-leader`, { method: 'POST', body: JSON.stringify({ to: next }) });
      await Promise.all(requests);
      expect((await moved).body).toEqual({ leader: next });
      leader = await cluster.leader();
    }
    expect(failures).toEqual([]);
    expect(written).toBe(150);
    // Every write is there, once.
    const answer = await http(`${cluster.url('n2')}/v1/kv/r4-k29`);
    expect(answer).toMatchObject({ status: 200, body: { value: '29' } });
  }, 60_000);

  it('a weight change that meets a hand-over waits it out and is applied; a membership change is answered at once', async () => {
    cluster = await startCluster({ overrides: () => ({ policy: 'weighted', weighted: { electionTimeout: { baseMs: 300, stepMs: 30 }, preferredLeader: false } }) });
    const leader = await cluster.leader();
    const [down, up] = cluster.followers();
    await down!.stop();
    const client = await RawClient.connect(cluster.url(leader.id));
    try {
      await client.request({ op: 'hello', clientId: 'hand-over' });
      // A hand-over to a stopped node stays under way for an election timeout (300 ms), the leader refusing proposals meanwhile.
      void client.request({ op: 'cluster.transferLeader', to: down!.id });
      const member = await client.request({ op: 'cluster.addMember', member: 'n9', peerUrl: 'ws://127.0.0.1:1', clientUrl: 'http://127.0.0.1:2', weight: 1 });
      expect(member).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', reason: 'LEADER_CHANGING', message: expect.stringMatching(/^leadership is being transferred to /) } });
      const weights = { [leader.id]: 2, [up!.id]: 2, [down!.id]: 1 };
      const changed = await client.request({ op: 'cluster.setWeights', weights });
      expect(changed).toMatchObject({ ok: true, result: { voters: weights, learners: [], outgoing: null } });
      // The membership change did nothing: n9 is in no configuration and no directory.
      const status = (await http(`${cluster.url(leader.id)}/v1/cluster/status`)).body as { config: { voters: Record<string, number>; learners: string[] }; members: Record<string, unknown> };
      expect(status.config).toMatchObject({ voters: weights, learners: [] });
      expect(Object.keys(status.members)).not.toContain('n9');
    } finally {
      client.close();
    }
  }, 30_000);
});
