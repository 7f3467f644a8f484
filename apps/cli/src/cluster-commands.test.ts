/**
 * `greenraft kv|market|admin` run as a user runs them: the built CLI (dist/bin.js) as a child
 * process, against real `@greenraft/server` nodes started in this process on loopback (port 0):
 * output, --json, exit codes (0 done, 1 a definite no, 2 errors), endpoints from the flag or the
 * environment, tokens from a file, and membership changes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateParticipantKeys, marketClient } from '@greenraft/power-market';
import { createServer, type GreenraftServer, type ServerConfigInput } from '@greenraft/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'greenraft-cli-cluster-'));
const TOKEN = 'a bearer token for the market gateway';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking this process's event loop (the nodes it talks to live here). */
function greenraft(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { GREENRAFT_ENDPOINTS: _e, GREENRAFT_TOKEN: _t, ...base } = process.env;
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function config(dir: string, id: string, peers: ServerConfigInput['peers'], extra: Partial<ServerConfigInput> = {}): ServerConfigInput {
  return {
    id,
    clusterId: `cli-${dir.length}`,
    dataDir: join(scratch, dir, id),
    clusterSecret: 'a cluster secret for the CLI tests',
    peers,
    raft: { tickMs: 15, electionTicks: 20, heartbeatTicks: 2 },
    log: { level: 'silent' },
    shutdown: { transferTimeoutMs: 2000, drainTimeoutMs: 2000 },
    ...extra,
  };
}

const ANY = { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' };

async function cluster(dir: string, ids: readonly string[], extra: Partial<ServerConfigInput> = {}): Promise<GreenraftServer[]> {
  const servers = ids.map((id) => createServer(config(dir, id, { [id]: ANY }, extra)));
  const addresses = await Promise.all(servers.map((server) => server.listen()));
  const peers = Object.fromEntries(ids.map((id, i) => [id, addresses[i]!]));
  for (const server of servers) server.setPeers(peers);
  await Promise.all(servers.map((server) => server.start()));
  return servers;
}

async function leaderOf(servers: readonly GreenraftServer[]): Promise<GreenraftServer> {
  const deadline = performance.now() + 15_000;
  for (;;) {
    const live = servers.filter((server) => server.phase === 'running');
    const leaders = live.filter((server) => server.status().role === 'leader');
    if (leaders.length === 1 && live.every((server) => server.status().leader === leaders[0]!.id)) return leaders[0]!;
    if (performance.now() > deadline) throw new Error('no leader');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let kv: GreenraftServer[] = [];
let market: GreenraftServer[] = [];
const extras: GreenraftServer[] = [];
let endpoints = '';
let marketEndpoint = '';

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error('build the CLI first: npx turbo run build --filter=@greenraft/cli');
  [kv, market] = await Promise.all([
    cluster('kv', ['n1', 'n2', 'n3']),
    cluster('market', ['m1'], { stateMachine: 'market', client: { tokens: [{ subject: 'gateway', token: TOKEN }] } }),
  ]);
  await Promise.all([leaderOf(kv), leaderOf(market)]);
  endpoints = kv.map((server) => server.addresses!.clientUrl).join(',');
  marketEndpoint = market[0]!.addresses!.clientUrl;
}, 60_000);

afterAll(async () => {
  await Promise.all([...kv, ...market, ...extras].map((server) => server.stop()));
  rmSync(scratch, { recursive: true, force: true });
});

describe('greenraft kv', () => {
  it('put, get, cas, del: output and exit codes', async () => {
    const put = await greenraft(['kv', 'put', 'meter-7', '12.5', '--endpoints', endpoints]);
    expect(put).toMatchObject({ code: 0, stderr: '' });
    expect(put.stdout).toMatch(/^put meter-7 at index \d+\n$/);

    expect(await greenraft(['kv', 'get', 'meter-7', '--endpoints', endpoints])).toEqual({ code: 0, stdout: '12.5\n', stderr: '' });

    const wrong = await greenraft(['kv', 'cas', 'meter-7', '--from', '99', '--to', '13.0', '--endpoints', endpoints]);
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toBe('greenraft kv cas: not swapped: meter-7 is not "99"\n');
    const right = await greenraft(['kv', 'cas', 'meter-7', '--from', '12.5', '--to', '13.0', '--endpoints', endpoints, '--json']);
    expect(right.code).toBe(0);
    expect(JSON.parse(right.stdout)).toEqual({ key: 'meter-7', swapped: true, index: expect.any(Number) });
    const present = await greenraft(['kv', 'cas', 'meter-7', '--absent', '--to', 'x', '--endpoints', endpoints]);
    expect(present.code).toBe(1);
    expect(present.stderr).toMatch(/not swapped: meter-7 is present/);

    const deleted = await greenraft(['kv', 'del', 'meter-7', '--endpoints', endpoints, '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ key: 'meter-7', deleted: true });
    expect(await greenraft(['kv', 'del', 'meter-7', '--endpoints', endpoints])).toEqual({ code: 1, stdout: '', stderr: 'greenraft kv del: meter-7: no such key\n' });

    expect(await greenraft(['kv', 'get', 'meter-7', '--endpoints', endpoints])).toEqual({ code: 1, stdout: '', stderr: 'greenraft kv get: meter-7: no such key\n' });
    const missing = await greenraft(['kv', 'get', 'meter-7', '--endpoints', endpoints, '--json', '--consistency', 'stale']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({ key: 'meter-7', value: null, index: 0 });
  });

  it('takes the endpoints from GREENRAFT_ENDPOINTS, and one follower is enough', async () => {
    const leader = await leaderOf(kv);
    const follower = kv.find((server) => server !== leader)!;
    expect((await greenraft(['kv', 'put', 'env-1', 'v'], { GREENRAFT_ENDPOINTS: follower.addresses!.clientUrl })).code).toBe(0);
    expect(await greenraft(['kv', 'get', 'env-1'], { GREENRAFT_ENDPOINTS: endpoints })).toMatchObject({ code: 0, stdout: 'v\n' });
  });

  it('a write retried with the same --client-id and --idempotency-key is applied once', async () => {
    const args = ['kv', 'cas', 'once-1', '--absent', '--to', 'v', '--client-id', 'cli-test', '--idempotency-key', 'k-1', '--endpoints', endpoints, '--json'];
    const first = await greenraft(args);
    const again = await greenraft(args);
    expect(first.code).toBe(0);
    expect(again).toEqual(first); // the first result, not "not swapped"
    const fresh = await greenraft(['kv', 'cas', 'once-1', '--absent', '--to', 'v', '--endpoints', endpoints]);
    expect(fresh.code).toBe(1);
  });

  it.each([
    ['no endpoints', ['kv', 'get', 'k'], /--endpoints is required \(or set GREENRAFT_ENDPOINTS\)/],
    ['a bad endpoint', ['kv', 'get', 'k', '--endpoints', 'ftp://x'], /--endpoints: 'ftp:\/\/x' is not a node URL/],
    ['cas without --to', ['kv', 'cas', 'k', '--absent', '--endpoints', 'http://127.0.0.1:1'], /--to is required/],
    ['cas with --from and --absent', ['kv', 'cas', 'k', '--absent', '--from', 'a', '--to', 'b', '--endpoints', 'http://127.0.0.1:1'], /exactly one of --from VALUE and --absent/],
    ['a key with a slash', ['kv', 'put', 'a/b', 'v', '--endpoints', 'http://127.0.0.1:1'], /key must not contain '\/'/],
    ['a bad consistency', ['kv', 'get', 'k', '--consistency', 'eventual', '--endpoints', 'http://127.0.0.1:1'], /--consistency takes one of linearizable, lease, stale/],
  ])('%s: one line on stderr, exit 2', async (_name, args, message) => {
    const run = await greenraft(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('no node reachable: exit 2 after the retries, saying the write was not applied', async () => {
    const run = await greenraft(['kv', 'put', 'k', 'v', '--endpoints', 'http://127.0.0.1:1', '--timeout', '3000']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^greenraft kv put: put k (failed after \d+ attempts|did not finish within 3000 ms).*the write was not applied/);
  });
});

describe('greenraft admin', () => {
  it('status: text and --json', async () => {
    const leader = await leaderOf(kv);
    const text = await greenraft(['admin', 'status', '--endpoints', endpoints]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^node +${leader.id} \\(leader, term \\d+\\)\\nleader +${leader.id}\\ncommit +\\d+, applied \\d+\\nvoters +n1=1 n2=1 n3=1\\n`));
    expect(text.stdout).toContain('member    n2  client http://127.0.0.1:');
    const json = JSON.parse((await greenraft(['admin', 'status', '--endpoints', endpoints, '--json'])).stdout) as { leader: string; config: { voters: object } };
    expect(json.leader).toBe(leader.id);
    expect(json.config.voters).toEqual({ n1: 1, n2: 1, n3: 1 });
  });

  it('transfer-leader moves the leadership', async () => {
    const leader = await leaderOf(kv);
    const target = kv.find((server) => server !== leader)!.id;
    expect(await greenraft(['admin', 'transfer-leader', target, '--endpoints', endpoints])).toEqual({ code: 0, stdout: `leader ${target}\n`, stderr: '' });
    expect((await leaderOf(kv)).id).toBe(target);
  });

  it('set-weights on a classic cluster is refused (exit 2, the node’s reason)', async () => {
    const run = await greenraft(['admin', 'set-weights', 'n1=3,n2=2,n3=1', '--endpoints', endpoints]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/classic Raft/);
    expect((await greenraft(['admin', 'set-weights', 'n1=x', '--endpoints', endpoints])).stderr).toMatch(/WEIGHTS takes ID=W/);
  });

  it('add-node then remove-node: a learner joins, catches up, and leaves', async () => {
    const joining = createServer(
      config('kv', 'n4', { ...Object.fromEntries(kv.map((server) => [server.id, server.addresses!])), n4: ANY }, { join: true }),
    );
    extras.push(joining);
    const addresses = await joining.listen();
    await joining.start();
    const add = await greenraft(['admin', 'add-node', 'n4', '--peer-url', addresses.peerUrl, '--client-url', addresses.clientUrl, '--learner', '--endpoints', endpoints]);
    expect(add).toEqual({ code: 0, stdout: 'configuration: n1=1 n2=1 n3=1 (learners: n4)\n', stderr: '' });
    expect((await greenraft(['kv', 'put', 'after-join', 'v', '--endpoints', endpoints])).code).toBe(0);
    // The learner serves a stale read of what the cluster wrote.
    const deadline = performance.now() + 10_000;
    let read: Run;
    do read = await greenraft(['kv', 'get', 'after-join', '--consistency', 'stale', '--endpoints', addresses.clientUrl]);
    while (read.code !== 0 && performance.now() < deadline);
    expect(read.stdout).toBe('v\n');
    const remove = await greenraft(['admin', 'remove-node', 'n4', '--endpoints', endpoints, '--json']);
    expect(remove.code).toBe(0);
    expect(JSON.parse(remove.stdout)).toEqual({ voters: { n1: 1, n2: 1, n3: 1 }, learners: [], outgoing: null });
  });
});

describe('greenraft market (cluster commands)', () => {
  const tmpFile = (name: string) => join(scratch, name);
  const tokenFile = tmpFile('token');
  beforeAll(() => writeFileSync(tokenFile, `${TOKEN}\n`));

  it('without the token: exit 2, UNAUTHENTICATED', async () => {
    const run = await greenraft(['market', 'balances', '--endpoints', marketEndpoint]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/token/);
  });

  it('submit a signed registration, see it in balances, the ledger and the head; a replay is refused with exit 1', async () => {
    const solar = marketClient({ id: 'solar-farm', keys: generateParticipantKeys() });
    const file = tmpFile('register.json');
    writeFileSync(file, JSON.stringify(solar.register({ kind: 'generation', renewable: true })));
    const submit = await greenraft(['market', 'submit', file, '--endpoints', marketEndpoint, '--token-file', tokenFile, '--json']);
    expect(submit.stderr).toBe('');
    expect(submit.code).toBe(0);
    expect(JSON.parse(submit.stdout)).toMatchObject({ index: expect.any(Number), receipt: { type: 'registerNode', signer: 'solar-farm', nonce: 1 } });

    // Another run is another client (no idempotency key in common): the market refuses the replay, nothing changes.
    const replay = await greenraft(['market', 'submit', file, '--endpoints', marketEndpoint], { GREENRAFT_TOKEN: TOKEN });
    expect(replay.code).toBe(1);
    expect(replay.stderr).toMatch(/^greenraft market submit: refused \(NODE_ALREADY_REGISTERED\): .*already registered\n$/);

    const balances = await greenraft(['market', 'balances', '--endpoints', marketEndpoint, '--token-file', tokenFile]);
    expect(balances).toEqual({ code: 0, stdout: 'participant  balance (yuan)\nsolar-farm   0.000\n(grid)       0.000\n', stderr: '' });
    const ledger = await greenraft(['market', 'ledger', '--endpoints', marketEndpoint, '--token-file', tokenFile]);
    expect(ledger.code).toBe(0);
    expect(ledger.stdout).toMatch(/^ledger height 1\nblock 1 {2}index \d+ term \d+ {2}[0-9a-f]{64} {2}registerNode by solar-farm\n$/);
    const head = await greenraft(['market', 'query', 'head', '--json', '--endpoints', marketEndpoint, '--token-file', tokenFile]);
    expect(JSON.parse(head.stdout)).toMatchObject({ height: 1 });
  });

  it('a file that is not a signed transaction is exit 2 before anything is sent', async () => {
    const file = tmpFile('bad.json');
    writeFileSync(file, '{"transaction":{"type":"registerNode"}}');
    const run = await greenraft(['market', 'submit', file, '--endpoints', 'http://127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not a signed transaction/);
    expect((await greenraft(['market', 'query', 'ledger', '--endpoints', marketEndpoint])).stderr).toMatch(/the ledger has its own command/);
  });
});
