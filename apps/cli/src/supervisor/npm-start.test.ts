/**
 * `npm start`: exactly what the root package.json's start script runs after its build step (the
 * CLI is built here already), in a process group of its own as a terminal runs it. It starts a
 * weighted power market of 5 node processes over WebSocket with WAL storage in a temporary data
 * directory, prints the dashboard's address and trades by itself; the cluster is checked through
 * its HTTP API (one leader for every node, rounds committing, the same ledger head everywhere),
 * then Ctrl-C (SIGINT to the group) must stop it with exit code 0, leave no node process (checked
 * by pid) and no process of the group, and remove the temporary directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, getJson, requireBuilt, until } from '../local-cluster.test-utils.js';
import { groupMembers } from '../../../../tests/support/processes.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** The start script's run step: what follows its build step. */
function startCommand(): string {
  const script = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: { start: string } }).scripts.start;
  const steps = script.split('&&').map((step) => step.trim());
  expect(steps[0]).toMatch(/^turbo run build\b/);
  expect(steps).toHaveLength(2);
  return steps[1]!;
}

interface Started {
  dir: string;
  nodes: { id: string; pid: number; http: string }[];
  dashboard: string;
}

let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let started: Started | undefined;

beforeAll(() => {
  requireBuilt();
  child = spawn('bash', ['-c', startCommand()], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
});

afterAll(() => {
  // Whatever happened: the group, and every node it started.
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // gone
  }
  for (const node of started?.nodes ?? []) {
    try {
      process.kill(node.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // A run killed after a failure cannot remove its directory itself.
  if (started !== undefined) rmSync(started.dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs a weighted power market of 5 node processes that trades by itself, and Ctrl-C leaves nothing behind', async () => {
    started = await until(() => {
      const line = stdout.split('\n')[0];
      return stdout.includes('\n') && line !== undefined ? (JSON.parse(line) as Started) : undefined;
    }, `the endpoints line (stderr: ${stderr})`, 60_000);
    const nodes = started.nodes;
    expect(nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(started.dir.startsWith(root)).toBe(false);
    expect(existsSync(started.dir)).toBe(true);
    // The dashboard's address, printed for a person (nothing is opened).
    expect(started.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{32}$/);
    // stderr is a pipe of its own: its line may come a moment after the endpoints on stdout.
    await until(() => (stderr.includes(`dashboard at ${started!.dashboard}`) ? true : undefined), `the dashboard line on stderr (stderr: ${stderr})`, 10_000);
    for (const node of nodes) expect(alive(node.pid)).toBe(true);

    // WebSocket peers and WAL storage, a weighted market.
    const config = JSON.parse(readFileSync(`${started.dir}/n1.json`, 'utf8')) as { stateMachine: string; policy: string; peers: Record<string, { peerUrl: string }> };
    expect(config).toMatchObject({ stateMachine: 'market', policy: 'weighted' });
    expect(Object.values(config.peers).every((peer) => peer.peerUrl.startsWith('ws://127.0.0.1:'))).toBe(true);
    expect(readdirSync(`${started.dir}/data/n1`).some((name) => /^wal-\d{16}\.log$/.test(name))).toBe(true);

    // One leader that every node follows, and rounds that commit: the market's round count grows.
    const statuses = async () => Promise.all(nodes.map(async (node) => (await getJson(`${node.http}/v1/cluster/status`)).body));
    await until(async () => {
      const all = await statuses();
      const leaders = new Set(all.map((status) => status.leader));
      return leaders.size === 1 && typeof [...leaders][0] === 'string';
    }, 'one leader known by every node', 30_000);
    const round = async () => Number(((await getJson(`${nodes[0]!.http}/v1/market/head`)).body as { round?: number }).round ?? 0);
    await until(async () => (await round()) >= 2, `two rounds settled (stderr: ${stderr})`, 45_000);
    expect(stderr).toMatch(/^round 1: \d+ contracts?, [\d,]+ kWh/m);
    expect(stderr).toMatch(/^round 2: /m);
    // Quiet enough to read: one line per round, and a few lines besides.
    expect(stderr.split('\n').filter((line) => line !== '' && !/^round \d+: /.test(line)).length).toBeLessThanOrEqual(4);

    // The same ledger on every node, once rounds pause (through the control API, with the printed token).
    const dashboard = new URL(started.dashboard);
    const token = new URLSearchParams(dashboard.hash.slice(1)).get('token')!;
    const paused = await getJson(`${dashboard.origin}/v1/control/autoRounds`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"everyMs":0}' });
    expect(paused).toMatchObject({ status: 200, body: { result: { everyMs: 0 } } });
    const heads = await until(async () => {
      const all = await Promise.all(nodes.map(async (node) => (await getJson(`${node.http}/v1/market/head`)).body));
      return new Set(all.map((head) => `${head.height}/${head.hash}/${head.index}/${head.term}`)).size === 1 ? all : undefined;
    }, 'the same ledger head on every node', 30_000);
    expect(heads[0]!.height as number).toBeGreaterThan(20);

    // Ctrl-C: SIGINT to the whole group, as a terminal sends it.
    process.kill(-child.pid!, 'SIGINT');
    const outcome = await Promise.race([exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 40_000))]);
    expect(outcome, `npm start did not stop within 40 s after SIGINT; stderr: ${stderr}`).toEqual({ code: 0, signal: null });
    for (const node of nodes) expect(alive(node.pid), `${node.id} (pid ${node.pid})`).toBe(false);
    expect(groupMembers(child.pid!)).toEqual([]);
    expect(existsSync(started.dir)).toBe(false);
    expect(stderr).not.toContain('it is not restarted');
  });
});
