/**
 * The life cycle of a node process, on a stand-in node (a script that behaves as its
 * configuration says: ready with or without addresses, never ready, exiting, ignoring SIGTERM,
 * missing code, a child of its own): the ready handshake, every exit reported and whether it was
 * expected, the start and stop patiences, SIGSTOP/SIGCONT, the process group, the port hold and
 * the missing-code retry. The real node under the same class is what the chaos and supervisor
 * tests run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type NodeExit, NodeProcess, type NodeProcessInit, NodeStartError } from './node-process.js';

const FAKE_NODE = `
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
const config = JSON.parse(readFileSync(process.argv[process.argv.indexOf('--config') + 1], 'utf8'));
console.log(JSON.stringify({ argv: process.argv.slice(2), execArgv: process.execArgv, set: process.env.NP_SET ?? null, removed: process.env.NP_REMOVED ?? null }));
if (config.missingTimes !== undefined) {
  const seen = existsSync(config.counter) ? Number(readFileSync(config.counter, 'utf8')) : 0;
  writeFileSync(config.counter, String(seen + 1));
  if (seen < config.missingTimes) {
    console.error("Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/gone/dist/chunk.js'");
    process.exit(1);
  }
}
if (config.exitCode !== undefined) {
  console.error('boom: bad config');
  process.exit(config.exitCode);
}
if (config.grandchild) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log('grandchild ' + child.pid);
}
process.on('SIGTERM', () => {
  if (!config.ignoreTerm) process.exit(0);
});
setInterval(() => {}, 1000);
const ready = (port) => {
  if (config.ready === 'never') return;
  process.send(config.ready === 'bare' ? { ready: {} } : { ready: { peerUrl: 'ws://127.0.0.1:' + port, clientUrl: 'http://127.0.0.1:4002' } });
  if (config.exitAfterMs !== undefined) setTimeout(() => process.exit(7), config.exitAfterMs);
};
if (config.listen !== undefined) {
  const server = createServer();
  server.once('error', (error) => {
    console.error('listen: ' + error.code);
    process.exit(2);
  });
  server.listen({ host: '127.0.0.1', port: config.listen }, () => ready(config.listen));
} else ready(4001);
`;

let dir: string;
let entry: string;
const started: NodeProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'greenraft-node-process-'));
  entry = join(dir, 'fake-node.mjs');
  writeFileSync(entry, FAKE_NODE);
});

afterEach(async () => {
  for (const node of started.splice(0)) {
    await node.crash();
    await node.releasePorts();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;

/** A node process running the stand-in with configuration `config`; its exits are collected. */
function fake(config: Record<string, unknown>, init: Partial<NodeProcessInit> = {}): { node: NodeProcess; exits: NodeExit[] } {
  const id = `n${++count}`;
  const file = join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify({ counter: join(dir, `${id}.count`), ...config }));
  const exits: NodeExit[] = [];
  const node = new NodeProcess({ id, config: file, log: join(dir, `${id}.log`), entry, onExit: (exit) => exits.push(exit), ...init });
  started.push(node);
  return { node, exits };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process state letter of /proc/PID/stat ('T' when stopped). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a listener can bind `port` now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('NodeProcess', () => {
  it('starts with its Node options and environment changes, resolves on ready with the addresses, and stops gracefully', async () => {
    process.env.NP_REMOVED = 'inherited';
    const endpoints: unknown[] = [];
    const { node, exits } = fake({}, { nodeArgs: ['--no-warnings'], env: { NP_SET: '1', NP_REMOVED: undefined }, onReady: (found) => endpoints.push(found) });
    try {
      await node.start();
    } finally {
      delete process.env.NP_REMOVED;
    }
    expect(node.state).toBe('up');
    expect(node.starts).toBe(1);
    expect(endpoints).toEqual([{ peer: { host: '127.0.0.1', port: 4001 }, client: { host: '127.0.0.1', port: 4002 } }]);
    const printed = JSON.parse(readFileSync(node.log, 'utf8').split('\n')[0]!) as { argv: string[]; execArgv: string[]; set: string | null; removed: string | null };
    expect(printed).toEqual({ argv: ['node', '--config', node.config], execArgv: ['--no-warnings'], set: '1', removed: null });
    await expect(node.start()).rejects.toThrow(`${node.id} is up, not down`);
    const pid = node.pid!;
    await node.stop();
    expect(node.state).toBe('down');
    expect(node.pid).toBeUndefined();
    expect(alive(pid)).toBe(false);
    expect(exits).toEqual([{ id: node.id, pid, code: 0, signal: null, expected: true, log: node.log }]);
    expect(node.lastExit).toEqual(exits[0]);
  });

  it('reports an exit nobody asked for as unexpected', async () => {
    const { node, exits } = fake({ exitAfterMs: 100 });
    await node.start();
    await until(() => exits.length > 0, 'the exit');
    expect(exits).toEqual([{ id: node.id, pid: expect.any(Number), code: 7, signal: null, expected: false, log: node.log }]);
    expect(node.state).toBe('down');
  });

  it('rejects a start that exits with what that start printed, and reports the exit', async () => {
    const { node, exits } = fake({ exitCode: 3 });
    writeFileSync(node.log, 'an earlier run said something else\n');
    const error = await node.start().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(NodeStartError);
    expect((error as NodeStartError).code).toBe('NODE_START');
    expect((error as Error).message).toMatch(new RegExp(`^${node.id} exited while starting \\(code 3\\); log: .*: .*boom: bad config$`));
    expect((error as Error).message).not.toContain('an earlier run');
    expect(exits).toMatchObject([{ code: 3, expected: false }]);
    expect(node.state).toBe('down');
  });

  it('kills a node that says it is ready without its addresses, or takes longer than the start patience', async () => {
    const bare = fake({ ready: 'bare' });
    await expect(bare.node.start()).rejects.toThrow(/said it was ready without its addresses/);
    expect(bare.node.state).toBe('down');
    expect(bare.exits).toMatchObject([{ signal: 'SIGKILL', expected: true }]);

    const slow = fake({ ready: 'never' }, { startPatienceMs: 400 });
    await expect(slow.node.start()).rejects.toThrow(`${slow.node.id} did not start within 400 ms`);
    expect(slow.node.state).toBe('down');
    expect(slow.exits).toMatchObject([{ signal: 'SIGKILL', expected: true }]);
    expect(alive(slow.exits[0]!.pid!)).toBe(false);
  });

  it('kills a node that ignores SIGTERM once the stop patience is over', async () => {
    const { node, exits } = fake({ ignoreTerm: true }, { stopPatienceMs: 300 });
    await node.start();
    let slow = 0;
    await node.stop(() => slow++);
    expect(slow).toBe(1);
    expect(exits).toMatchObject([{ signal: 'SIGKILL', expected: true }]);
  });

  it('pauses with SIGSTOP and resumes with SIGCONT; a paused node still stops gracefully', async () => {
    const { node, exits } = fake({}, { stopPatienceMs: 5000 });
    await node.start();
    const pid = node.pid!;
    node.pause();
    expect(node.state).toBe('paused');
    await until(() => procState(pid) === 'T', 'the node to stop');
    node.resume();
    expect(node.state).toBe('up');
    await until(() => procState(pid) !== 'T', 'the node to continue');
    node.pause();
    let slow = 0;
    await node.stop(() => slow++);
    expect(slow).toBe(0);
    expect(exits).toMatchObject([{ code: 0, signal: null, expected: true }]);
  });

  it('crashes the whole process group, and a crash of a node that is down does nothing', async () => {
    const { node, exits } = fake({ grandchild: true });
    await node.start();
    const grandchild = Number(/grandchild (\d+)/.exec(readFileSync(node.log, 'utf8'))?.[1]);
    try {
      expect(alive(grandchild)).toBe(true);
      expect(await node.crash()).toBe(true);
      expect(exits).toMatchObject([{ signal: 'SIGKILL', expected: true }]);
      await until(() => !alive(grandchild), 'the grandchild to die');
      expect(await node.crash()).toBe(false);
    } finally {
      // Left behind only if the group was not killed: the test fails, and leaves nothing running.
      if (alive(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  });

  it('kill() reaches a paused node at once', async () => {
    const { node, exits } = fake({});
    await node.start();
    node.pause();
    node.kill();
    await until(() => exits.length > 0, 'the exit');
    expect(exits).toMatchObject([{ signal: 'SIGKILL', expected: true }]);
  });

  it('holds its ports while it is down, lets them go when it starts again and when told', async () => {
    const port = await freePort();
    const { node } = fake({ listen: port }, { holdPorts: [{ host: '127.0.0.1', port }] });
    await node.start();
    await node.crash();
    let held = false;
    for (let tries = 0; tries < 100 && !held; tries++) {
      held = !(await bindable(port));
      if (!held) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(held).toBe(true);
    // The node binds the same port again: the hold is gone before it runs.
    await node.start();
    expect(node.state).toBe('up');
    await node.stop();
    await node.releasePorts();
    expect(await bindable(port)).toBe(true);
  });

  it('tries a start again while the CLI cannot load its code, without reporting those exits', async () => {
    const { node, exits } = fake({ missingTimes: 2 }, { retryMissingCode: { attempts: 3, waitMs: 50 } });
    await node.start();
    expect(node.state).toBe('up');
    expect(node.missingCodeRetries).toBe(2);
    expect(node.starts).toBe(3);
    expect(exits).toEqual([]);

    const never = fake({ missingTimes: 5 }, { retryMissingCode: { attempts: 2, waitMs: 50 } });
    await expect(never.node.start()).rejects.toThrow(`${never.node.id} could not load the CLI`);
    expect(never.node.missingCodeRetries).toBe(1);

    const noRetry = fake({ missingTimes: 1 });
    await expect(noRetry.node.start()).rejects.toThrow(/exited while starting \(code 1\).*ERR_MODULE_NOT_FOUND/);
    expect(noRetry.exits).toMatchObject([{ code: 1, expected: false }]);
  });
});
