/**
 * The supervisor's control API on real node processes (`greenraft cluster --nodes 3 --weighted
 * --state-machine market` of the built CLI, which also serves the dashboard): crash is SIGKILL of
 * the node's process (checked by pid) and restart runs it again on its data directory; cutting a
 * node's links through the proxies gets a new leader elected without it, healing brings it back;
 * trades, rounds and the scoring strategy go through the market, each transaction signed by its
 * own node; a node that dies by itself is reported and stays down. Bad requests are refused with
 * their codes and change nothing. The published CLI carries the built page.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, alive, getJson, requireBuilt, until } from '../local-cluster.test-utils.js';

interface Started {
  dir: string;
  nodes: { id: string; pid: number; http: string }[];
  dashboard: string;
}

let child: ChildProcess;
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let started: Started;
let origin: string;
let token: string;
const pids = new Set<number>();
/** Trades proposed and not settled yet: the next round settles them too. */
let openTrades = 0;

beforeAll(async () => {
  requireBuilt();
  child = spawn(process.execPath, [BIN, 'cluster', '--nodes', '3', '--weighted', '--state-machine', 'market'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  started = await until(() => (stdout.includes('\n') ? (JSON.parse(stdout.split('\n')[0]!) as Started) : undefined), 'the endpoints line', 60_000);
  for (const node of started.nodes) pids.add(node.pid);
  const url = new URL(started.dashboard);
  origin = url.origin;
  token = new URLSearchParams(url.hash.slice(1)).get('token')!;
  // A page connecting (the control API's discovery) gets the participants registered, each by its own node.
  expect((await getJson(`${origin}/v1/control`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  await until(() => stderr.includes('registered 3 market participants'), `the participants registered (stderr: ${stderr})`, 30_000);
}, 90_000);

afterAll(async () => {
  try {
    process.kill(-child.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  } catch {
    // The run has ended already.
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    // A run killed after a failure cannot remove its temporary directory itself.
    if (started !== undefined) rmSync(started.dir, { recursive: true, force: true });
  }
}, 60_000);

const control = (name: string, body: unknown = {}, headers: Record<string, string> = {}) =>
  getJson(`${origin}/v1/control/${name}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } });
const nodeUrl = (id: string) => started.nodes.find((node) => node.id === id)!.http;
const statusOf = async (id: string) => (await getJson(`${nodeUrl(id)}/v1/cluster/status`)).body as { role: string; leader: string | null; term: number; commitIndex: number; appliedIndex: number };
/** The leader nodes `ids` agree on. */
const agreedLeader = (ids: readonly string[]) =>
  until(async () => {
    const statuses = await Promise.all(ids.map(statusOf));
    const leaders = new Set(statuses.map((status) => status.leader));
    const [leader] = leaders;
    return leaders.size === 1 && typeof leader === 'string' && ids.includes(leader) ? leader : undefined;
  }, `a leader among ${ids.join(', ')}`, 30_000);
describe('the supervisor of greenraft cluster', () => {
  it('offers every control of a market cluster, behind its token', async () => {
    const described = await getJson(`${origin}/v1/control`, { headers: { authorization: `Bearer ${token}` } });
    expect(described).toMatchObject({ status: 200, body: { controls: ['crash', 'restart', 'partition', 'heal', 'proposeTrade', 'runRound', 'setScoring'], autoRoundMs: 0 } });
    expect((await getJson(`${origin}/v1/control`)).status).toBe(401);
    expect((await control('crash', { node: 'n1' }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect(await control('crash', { node: 'n9' })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('no node "n9"') } } });
    expect((await control('partition', { a: 'n1', b: 'n7' })).status).toBe(400);
    for (const node of started.nodes) expect(alive(node.pid)).toBe(true);
  });

  it('crashes a node with SIGKILL and restarts it on its data directory; it catches up', async () => {
    const leader = await agreedLeader(['n1', 'n2', 'n3']);
    const victim = started.nodes.find((node) => node.id === leader)!;
    expect(await control('crash', { node: leader })).toMatchObject({ status: 200 });
    expect(alive(victim.pid)).toBe(false);
    expect(stderr).toContain(`crashed node ${leader} (pid ${victim.pid}, SIGKILL)`);
    expect(await control('crash', { node: leader })).toMatchObject({ status: 503, body: { error: { code: 'CONTROL_FAILED', message: `${leader} is not running (down)` } } });
    const others = ['n1', 'n2', 'n3'].filter((id) => id !== leader);
    const successor = await agreedLeader(others);
    expect(successor).not.toBe(leader);
    // Its data stays: a trade while it is down, then it comes back and has it.
    const trade = await control('proposeTrade', { seller: others.includes('n1') ? 'n1' : 'n2', buyer: 'n3', kWh: 120, unitPrice: 0.5 });
    if (leader === 'n3') expect(trade).toMatchObject({ status: 503, body: { error: { message: expect.stringContaining('n3 is down') } } });
    else {
      expect(trade.status).toBe(200);
      openTrades++;
    }
    expect(await control('restart', { node: leader })).toMatchObject({ status: 200 });
    const restartedPid = Number(/restarted node \w+ \(pid (\d+)\)/.exec(stderr)?.[1]);
    pids.add(restartedPid);
    expect(alive(restartedPid)).toBe(true);
    expect(await control('restart', { node: leader })).toMatchObject({ status: 503, body: { error: { message: `${leader} is running: crash it first` } } });
    const target = (await statusOf(successor)).commitIndex;
    await until(async () => (await statusOf(leader)).appliedIndex >= target, `${leader} to catch up`, 30_000);
  });

  it('cuts a node off through the proxies: the others elect a leader without it; healed, it rejoins', async () => {
    const leader = await agreedLeader(['n1', 'n2', 'n3']);
    const others = ['n1', 'n2', 'n3'].filter((id) => id !== leader);
    for (const other of others) expect((await control('partition', { a: leader, b: other })).status).toBe(200);
    const successor = await agreedLeader(others);
    expect(successor).not.toBe(leader);
    // Its process runs on, cut off: it does not lead the others' term.
    const cut = await statusOf(leader);
    expect(cut.leader === successor && cut.role === 'follower').toBe(false);
    expect(await control('heal', {})).toMatchObject({ status: 200 });
    await agreedLeader(['n1', 'n2', 'n3']);
    const commit = (await statusOf(successor)).commitIndex;
    await until(async () => (await statusOf(leader)).appliedIndex >= commit, `${leader} to catch up after the heal`, 30_000);
  });

  it('trades and settles a round, each transaction signed by its own node, and changes the scoring strategy', async () => {
    expect(await control('proposeTrade', { seller: 'n3', buyer: 'n1', kWh: 10, unitPrice: 0.5 })).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('n3 is not a registered generation node') } } });
    const trade = await control('proposeTrade', { seller: 'n2', buyer: 'n3', kWh: 321, unitPrice: 0.61 });
    expect(trade).toMatchObject({ status: 200, body: { result: { contractId: expect.stringMatching(/^n2\/\d+$/) } } });
    openTrades++;
    // One contract per generator (n1, n2), and the trades proposed since the last round.
    const round = await control('runRound');
    expect(round).toMatchObject({ status: 200, body: { result: { round: 1, contracts: 2 + openTrades } } });
    expect(stderr).toMatch(new RegExp(`^round 1: ${2 + openTrades} contracts, `, 'm'));
    // n1's ledger, read until it holds the settlement.
    const signed = await until(async () => {
      const answer = await getJson(`${nodeUrl('n1')}/v1/market/ledger?from=1&limit=1000`);
      const blocks = (answer.body as { blocks?: { transactions: { transaction: { type: string; signer: string } }[] }[] }).blocks;
      const all = blocks?.flatMap((block) => block.transactions.map((tx) => `${tx.transaction.signer}:${tx.transaction.type}`));
      return all?.includes('n3:settleRound') ? all : undefined;
    }, 'the settlement in n1’s ledger');
    for (const expected of ['n1:registerNode', 'n2:registerNode', 'n3:registerNode', 'n2:proposeContract', 'n3:acceptContract', 'n1:reportDelivery', 'n3:recordCarbon']) expect(signed).toContain(expected);
    expect(await control('setScoring', { choice: 'uniform' })).toMatchObject({ status: 200 });
    await until(async () => (await Promise.all(['n1', 'n2', 'n3'].map(async (id) => ((await getJson(`${nodeUrl(id)}/v1/cluster/status`)).body.scoring as { name: string }).name))).every((name) => name === 'uniform'), 'uniform scoring everywhere');
    expect(await control('setScoring', { choice: 'nope' })).toMatchObject({ status: 400 });
  });

  it('reports a node that dies by itself, and does not restart it', async () => {
    const victim = started.nodes.find((node) => node.id === 'n2')!;
    const pid = alive(victim.pid) ? victim.pid : Number([...stderr.matchAll(/restarted node n2 \(pid (\d+)\)/g)].at(-1)?.[1]);
    process.kill(pid, 'SIGKILL');
    await until(() => stderr.includes(`node n2 (pid ${pid}) exited on SIGKILL; it is not restarted`), 'the death reported');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getJson(`${victim.http}/livez`)).status).toBe(0);
    // Still down until someone restarts it.
    expect(await control('crash', { node: 'n2' })).toMatchObject({ status: 503 });
    expect(await control('restart', { node: 'n2' })).toMatchObject({ status: 200 });
    for (const match of stderr.matchAll(/restarted node n2 \(pid (\d+)\)/g)) pids.add(Number(match[1]));
    // The run ends with exit code 1: a node died during it.
    process.kill(-child.pid!, 'SIGINT');
    expect(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 40_000))])).toEqual({ code: 1, signal: null });
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });
});

describe('the published @greenraft/cli', () => {
  it('carries the built dashboard page (without source maps)', () => {
    const cli = fileURLToPath(new URL('../..', import.meta.url));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: cli, encoding: 'utf8', timeout: 60_000 })) as [{ files: { path: string }[] }];
    const files = packed.files.map((file) => file.path);
    expect(files).toContain('dist/dashboard/index.html');
    expect(files.some((path) => /^dist\/dashboard\/assets\/index-[\w-]+\.js$/.test(path))).toBe(true);
    expect(files.some((path) => /^dist\/dashboard\/assets\/index-[\w-]+\.css$/.test(path))).toBe(true);
    expect(files.filter((path) => path.startsWith('dist/dashboard/') && path.endsWith('.map'))).toEqual([]);
  });
});
