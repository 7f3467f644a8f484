/** Lifecycle on a real cluster in this process: graceful shutdown, restart from the data directory, adding and removing nodes. */
import { walStorage } from '@greenraft/storage-wal';
import { describe, expect, it } from 'vitest';
import { type HttpAnswer, baseConfig, http, startCluster, until } from './cluster.test-utils.js';
import { createServer } from './server.js';

describe('graceful shutdown and restart', () => {
  it('a stopping leader hands leadership over first; nothing acknowledged is lost across a restart of every node', async () => {
    const cluster = await startCluster({ overrides: () => ({ client: { requestTimeoutMs: 3000 } }) });
    let restarted: ReturnType<typeof createServer>[] = [];
    try {
      const leader = await cluster.leader();
      const followers = cluster.followers();
      const events: string[] = [];
      for (const follower of followers) {
        follower.on('leaderChange', ({ leader: next }) => {
          if (next !== undefined && next !== leader.id) events.push(`leader ${next}`);
        });
      }
      leader.on('stopped', () => events.push('stopped'));

      // Writers keep going through the followers while the leader stops.
      const acknowledged = new Map<string, string>();
      const answers: HttpAnswer[] = [];
      let writing = true;
      const writers = followers.map(async (follower, w) => {
        for (let i = 0; writing; i++) {
          const key = `w${w}-${i}`;
          const answer = await http(`${cluster.url(follower.id)}/v1/kv/${key}`, { method: 'PUT', body: key, headers: { 'idempotency-key': key } }).catch(() => undefined);
          if (answer === undefined) continue;
          answers.push(answer);
          if (answer.status === 200) acknowledged.set(key, key);
        }
      });
      await until(() => acknowledged.size >= 10, 'some writes before the shutdown');
      await leader.stop();
      expect(leader.phase).toBe('stopped');
      // Leadership moved before the old leader finished stopping: a transfer, not an election after a silence.
      expect(events[0]).toMatch(/^leader /);
      expect(events.indexOf('stopped')).toBeGreaterThan(0);
      await until(() => acknowledged.size >= 30, 'writes on the new leader');
      writing = false;
      await Promise.all(writers);
      // Every answer is a success, or a clear "try again" (the node stopping, a leader change).
      for (const answer of answers) {
        if (answer.status !== 200) expect(['UNAVAILABLE', 'TIMEOUT']).toContain((answer.body.error as { code: string }).code);
      }
      // The stopped leader closed its storage: its directory opens again.
      const reopened = await walStorage({ directory: leader.config.dataDir });
      await reopened.close();

      // Every node down, then up again on the same data directories (on new ports).
      await Promise.all(followers.map((follower) => follower.stop()));
      restarted = cluster.servers.map((server) =>
        createServer({ ...baseConfig(cluster.dir, server.id, { [server.id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } }) }),
      );
      const addresses = await Promise.all(restarted.map((server) => server.listen()));
      const peers = Object.fromEntries(restarted.map((server, i) => [server.id, addresses[i]!]));
      for (const server of restarted) server.setPeers(peers);
      await Promise.all(restarted.map((server) => server.start()));
      const newLeader = await until(() => restarted.find((server) => server.status().role === 'leader'), 'a leader after the restart');
      const url = newLeader.addresses!.clientUrl;
      for (const [key, value] of acknowledged) {
        const read = await http(`${url}/v1/kv/${key}`);
        expect(read.body.value, key).toBe(value);
      }
      // Sessions survived too: a retried write is still answered from its first outcome.
      const [someKey] = acknowledged.keys();
      const retry = await http(`${url}/v1/kv/${someKey}`, { method: 'PUT', body: someKey, headers: { 'idempotency-key': someKey! } });
      expect(retry.status).toBe(200);
    } finally {
      await Promise.all(restarted.map((server) => server.stop()));
      await cluster.close();
    }
  });
});

describe('membership', () => {
  it('a node added with join: true catches up by snapshot, becomes a voter, and stops taking part once removed', async () => {
    const cluster = await startCluster({ overrides: () => ({ raft: { tickMs: 15, electionTicks: 20, heartbeatTicks: 2, snapshotThreshold: 25 } }) });
    try {
      const leader = await cluster.leader();
      const url = cluster.url(leader.id);
      for (let i = 0; i < 60; i++) expect((await http(`${url}/v1/kv/key-${i}`, { method: 'PUT', body: `value-${i}` })).status).toBe(200);
      await until(() => (leader.status().snapshots as { taken: number }).taken > 0, 'the leader to take a snapshot');

      const added = cluster.extra('n4', { join: true });
      const addresses = await added.listen();
      await added.start();
      const follower = cluster.followers()[0]!;
      // Asked of a follower: forwarded to the leader.
      const response = await http(`${cluster.url(follower.id)}/v1/cluster/members`, {
        method: 'POST',
        body: JSON.stringify({ member: 'n4', peerUrl: addresses.peerUrl, clientUrl: addresses.clientUrl }),
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ voters: { n1: 1, n2: 1, n3: 1, n4: 1 }, learners: [], outgoing: null });
      expect((added.status().snapshots as { installed: number }).installed).toBeGreaterThanOrEqual(1);
      const stale = await until(async () => {
        const read = await http(`${addresses.clientUrl}/v1/kv/key-59?consistency=stale`);
        return read.status === 200 ? read : undefined;
      }, 'n4 to hold the last write');
      expect(stale.body.value).toBe('value-59');
      expect((await http(`${addresses.clientUrl}/v1/kv/key-0`)).body.value).toBe('value-0');
      // Every node knows where n4 is: its addresses went through the log.
      for (const server of cluster.servers) expect((server.status().members as Record<string, unknown>).n4).toEqual(addresses);
      expect((await http(`${url}/v1/cluster/members`, { method: 'POST', body: JSON.stringify({ member: 'n4', peerUrl: addresses.peerUrl, clientUrl: addresses.clientUrl }) })).status).toBe(409);

      // Removal: n4 leaves the configuration and stops taking part.
      const removed = await http(`${url}/v1/cluster/members/n4`, { method: 'DELETE' });
      expect(removed.body).toEqual({ voters: { n1: 1, n2: 1, n3: 1 }, learners: [], outgoing: null });
      await until(() => added.status().role === 'removed', 'n4 to see itself removed');
      const ready = await http(`${addresses.clientUrl}/readyz`);
      expect(ready).toMatchObject({ status: 503, body: { ready: false, checks: { removed: true } } });
      expect((await http(`${addresses.clientUrl}/v1/kv/key-0`)).body).toMatchObject({ error: { code: 'UNAVAILABLE', message: 'this node was removed from the cluster' } });
      expect((await http(`${url}/v1/kv/after-removal`, { method: 'PUT', body: 'fine' })).status).toBe(200);
      for (const server of cluster.servers) expect(Object.keys(server.status().members as object)).not.toContain('n4');
      expect((await http(`${url}/v1/cluster/members/n4`, { method: 'DELETE' })).status).toBe(404);
    } finally {
      await cluster.close();
    }
  });

  it('changes weights and transfers leadership on request, refusing what a classic cluster cannot do', async () => {
    const cluster = await startCluster({ overrides: () => ({ policy: 'weighted', weighted: { electionTimeout: { baseMs: 300, stepMs: 30 }, preferredLeader: false } }) });
    try {
      const leader = await cluster.leader();
      const other = cluster.followers()[0]!;
      const url = cluster.url(other.id);
      const weights = await http(`${url}/v1/cluster/weights`, { method: 'POST', body: JSON.stringify({ weights: { n1: 3, n2: 2, n3: 2 } }) });
      expect(weights.body).toEqual({ voters: { n1: 3, n2: 2, n3: 2 }, learners: [], outgoing: null });
      // f = 1 of 3 voters: one voter alone at half the total breaks the guard.
      const unsafe = await http(`${url}/v1/cluster/weights`, { method: 'POST', body: JSON.stringify({ weights: { n1: 4, n2: 2, n3: 2 } }) });
      expect(unsafe).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.stringContaining('fault-tolerance guard') } } });
      expect((await http(`${url}/v1/cluster/weights`, { method: 'POST', body: JSON.stringify({ weights: { n9: 1 } }) })).status).toBe(400);
      const transfer = await http(`${url}/v1/cluster/transfer-leader`, { method: 'POST', body: JSON.stringify({ to: other.id }) });
      expect(transfer.body).toEqual({ leader: other.id });
      await until(() => other.status().role === 'leader', 'the transfer');
      expect(leader.status().role).not.toBe('leader');
      for (const server of cluster.servers) await until(() => (server.status().config as { voters: Record<string, number> }).voters.n1 === 3, 'the weights everywhere');
    } finally {
      await cluster.close();
    }
    const classic = await startCluster({ ids: ['c1', 'c2', 'c3'] });
    try {
      const leader = await classic.leader();
      const refused = await http(`${classic.url(leader.id)}/v1/cluster/weights`, { method: 'POST', body: JSON.stringify({ weights: { c1: 2 } }) });
      expect(refused).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('classic Raft') } } });
    } finally {
      await classic.close();
    }
  });
});
