/**
 * A node's applied index counts every entry it applied, the ones its state machine never sees
 * included (a new leader's no-op, configuration entries): once everything committed is applied,
 * `appliedIndex` equals `commitIndex` in the status, the readiness check and the metrics, with no
 * client write at all and after a weight change whose entries end the log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCluster, http, startCluster, until } from './cluster.test-utils.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ overrides: () => ({ policy: 'weighted', weighted: { electionTimeout: { baseMs: 300, stepMs: 30 } } }) });
  await cluster.leader();
});
afterAll(() => cluster?.close());

/** Every node's status once commit and applied settle (they agree everywhere). */
async function settledStatuses(what: string): Promise<Record<string, unknown>[]> {
  return until(() => {
    const statuses = cluster.servers.map((server) => server.status());
    const commits = new Set(statuses.map((status) => status.commitIndex));
    return commits.size === 1 && statuses.every((status) => status.appliedIndex === status.commitIndex && (status.commitIndex as number) > 0) ? statuses : undefined;
  }, what);
}

describe('the applied index', () => {
  it('reaches the commit index after the leader\u2019s no-op, with no client write', async () => {
    const statuses = await settledStatuses('applied = commit on every node');
    // The leader's no-op (and nothing else) is committed: the state machine applied nothing yet.
    for (const status of statuses) expect(status.appliedIndex).toBeGreaterThanOrEqual(1);
    for (const server of cluster.servers) {
      const { checks } = server.readiness();
      expect(checks.applied).toMatchObject({ lag: 0 });
      const metrics = await server.metrics();
      const applied = Number(/^greenraft_server_applied_index (\d+)$/m.exec(metrics)?.[1]);
      expect(applied).toBe(server.status().commitIndex);
    }
  });

  it('counts the configuration entries of a weight change, which end the log', async () => {
    const leader = await cluster.leader();
    const changed = await http(`${cluster.url(leader.id)}/v1/cluster/weights`, { method: 'POST', body: JSON.stringify({ weights: { n1: 2, n2: 2, n3: 3 } }), headers: { 'content-type': 'application/json' } });
    expect(changed.status).toBe(200);
    const statuses = await settledStatuses('applied = commit after the weight change');
    // C(old,new) and C(new) are the last two entries; both count as applied.
    expect(statuses[0]!.commitIndex).toBeGreaterThanOrEqual(3);
    expect(statuses.map((status) => (status.config as { voters: Record<string, number> }).voters.n3)).toEqual([3, 3, 3]);
  });
});
