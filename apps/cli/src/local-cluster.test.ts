/**
 * `greenraft cluster init|start` and `greenraft node`: real node processes on loopback. init
 * writes valid configs; start runs them, prints their endpoints, reports (and never restarts) a
 * node that dies, and on SIGTERM stops every one, leaving no process behind.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig } from '@greenraft/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { RunningCluster, alive, allReady, getJson, greenraft, initCluster, requireBuilt, until } from './local-cluster.test-utils.js';
import { capture } from './test-support.js';

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-local-cluster-'));
beforeAll(requireBuilt);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('greenraft cluster init', () => {
  it('writes one valid configuration per node, a 0600 secret, and prints the nodes', async () => {
    const dir = join(scratch, 'init');
    const run = await capture(() => runCli(['cluster', 'init', '--nodes', '3', '--dir', dir, '--base-port', '47100']));
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { nodes: { id: string; config: string; http: string }[] };
    expect(printed.nodes).toEqual([
      { id: 'n1', config: join(dir, 'n1.json'), http: 'http://127.0.0.1:47101' },
      { id: 'n2', config: join(dir, 'n2.json'), http: 'http://127.0.0.1:47103' },
      { id: 'n3', config: join(dir, 'n3.json'), http: 'http://127.0.0.1:47105' },
    ]);
    expect(statSync(join(dir, 'cluster.secret')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'cluster.secret'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    for (const node of printed.nodes) {
      const config = await loadServerConfig(node.config);
      expect(config.peers[node.id]?.clientUrl).toBe(node.http);
      expect(config.dataDir).toBe(join(dir, 'data', node.id));
      expect(config.clusterSecretFile).toBe(join(dir, 'cluster.secret'));
    }
    // A directory that holds a cluster is refused.
    const again = await capture(() => runCli(['cluster', 'init', '--dir', dir]));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a cluster/);
  });

  it('gives a market cluster one participant key per node, and picks distinct free ports', async () => {
    const dir = join(scratch, 'market-init');
    const run = await capture(() => runCli(['cluster', 'init', '--nodes', '5', '--dir', dir, '--weighted', '--state-machine', 'market']));
    expect(run.code).toBe(0);
    const nodes = (JSON.parse(run.stdout) as { nodes: { config: string; http: string }[] }).nodes;
    const ports = new Set<string>();
    for (const node of nodes) {
      const config = await loadServerConfig(node.config);
      expect(config).toMatchObject({ stateMachine: 'market', policy: 'weighted' });
      expect(statSync(config.market!.participantKeyFile!).mode & 0o777).toBe(0o600);
      for (const member of Object.values(config.peers)) ports.add(member.peerUrl.split(':').at(-1)!).add(member.clientUrl.split(':').at(-1)!);
    }
    expect(ports.size).toBe(10);
    expect((await capture(() => runCli(['cluster', 'init', '--nodes', '0', '--dir', join(scratch, 'zero')]))).code).toBe(2);
  });
});

describe('greenraft node', () => {
  it('exits 2 naming the field of an invalid configuration, and 1 with a fatal log line when its storage fails', () => {
    const dir = join(scratch, 'one');
    initCluster(['cluster', 'init', '--nodes', '1', '--dir', dir]);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'n1.json'), 'utf8')), raft: { tickMs: 0 }, extra: 1 }));
    const bad = greenraft(['node', '--config', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('raft.tickMs: expected at least 1, got 0');
    expect(bad.stderr).toContain('extra: unknown field');
    expect(greenraft(['node']).stderr).toContain('--config is required');
    // The fourth fsync fails: the node must stop, never retry it.
    const failing = greenraft(['node', '--config', join(dir, 'n1.json')], { GREENRAFT_WAL_FAILPOINT: 'beforeFsync:4:error' });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('greenraft node: stopping n1: fatal error');
    const fatal = failing.stdout.split('\n').find((line) => line.includes('"level":60'));
    expect(JSON.parse(fatal!)).toMatchObject({ node: 'n1', err: { type: 'StorageError' } });
  });
});

describe('greenraft cluster start', () => {
  it('runs 3 node processes that serve writes and reads, reports a node that dies, and stops every one on SIGTERM', async () => {
    const dir = join(scratch, 'run');
    initCluster(['cluster', 'init', '--nodes', '3', '--dir', dir]);
    const cluster = new RunningCluster(dir);
    try {
      const nodes = await cluster.started();
      expect(nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3']);
      for (const node of nodes) expect(alive(node.pid)).toBe(true);
      await allReady(nodes);
      const put = await getJson(`${nodes[0]!.http}/v1/kv/meter-7`, { method: 'PUT', body: '12.5', headers: { 'idempotency-key': 'reading-1' } });
      expect(put.status).toBe(200);
      const read = await getJson(`${nodes[2]!.http}/v1/kv/meter-7`);
      expect(read).toMatchObject({ status: 200, body: { value: '12.5', index: put.body.index } });
      const status = await getJson(`${nodes[1]!.http}/v1/cluster/status`);
      expect(status.body).toMatchObject({ stateMachine: 'kv', policy: 'classic', config: { voters: { n1: 1, n2: 1, n3: 1 } } });
      expect(readFileSync(nodes[0]!.log, 'utf8')).toMatch(/"node":"n1".*"term":\d+.*"role":"\w+"/);

      // A node that dies is reported, and not restarted; the other two go on.
      const victim = nodes[2]!;
      process.kill(victim.pid, 'SIGKILL');
      await until(() => cluster.stderr.includes(`node n3 (pid ${victim.pid}) exited on SIGKILL; it is not restarted`), 'the death to be reported');
      await until(async () => (await getJson(`${nodes[0]!.http}/v1/kv/after`, { method: 'PUT', body: 'x' })).status === 200, 'a write without n3');
      expect(alive(victim.pid)).toBe(false);

      const { code, signal } = await cluster.stop();
      expect(signal).toBeNull();
      expect(code).toBe(1); // a node died during the run
      for (const node of nodes) expect(alive(node.pid), `node ${node.id} (pid ${node.pid})`).toBe(false);
      expect(alive(cluster.child.pid!)).toBe(false);
      // Each survivor stopped gracefully: its log ends with "stopped".
      for (const node of nodes.slice(0, 2)) expect(readFileSync(node.log, 'utf8').trim().split('\n').at(-1)).toMatch(/"msg":"stopped"/);
    } finally {
      cluster.killAll();
    }
  });

  it('restarts from the data directories with every acknowledged write', async () => {
    const dir = join(scratch, 'run');
    const cluster = new RunningCluster(dir);
    try {
      const nodes = await cluster.started();
      await allReady(nodes);
      expect((await getJson(`${nodes[1]!.http}/v1/kv/meter-7`)).body.value).toBe('12.5');
      expect((await getJson(`${nodes[2]!.http}/v1/kv/after`)).body.value).toBe('x');
      const { code } = await cluster.stop();
      expect(code).toBe(0);
      for (const node of nodes) expect(alive(node.pid)).toBe(false);
    } finally {
      cluster.killAll();
    }
  });

  it('greenraft cluster --nodes N does both in a temporary directory, removed when it stops', async () => {
    const cluster = new RunningCluster('', ['cluster', '--nodes', '3']);
    try {
      const nodes = await cluster.started();
      expect(nodes).toHaveLength(3);
      expect(existsSync(join(cluster.dir, 'cluster.secret'))).toBe(true);
      await allReady(nodes);
      expect((await getJson(`${nodes[0]!.http}/v1/kv/k`, { method: 'PUT', body: 'v' })).status).toBe(200);
      expect((await cluster.stop()).code).toBe(0);
      for (const node of nodes) expect(alive(node.pid)).toBe(false);
      expect(existsSync(cluster.dir)).toBe(false);
    } finally {
      cluster.killAll();
    }
  });
});
