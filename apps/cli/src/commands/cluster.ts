/**
 * `greenraft cluster init|start` and `greenraft cluster --nodes N`: a local cluster of node
 * processes on loopback. `init` writes one validated configuration per node (with a fresh
 * cluster secret, and participant keys for a market cluster); `start` runs them as child
 * processes, prints their endpoints, reports (and never restarts) a node that dies, and stops
 * every one on Ctrl-C or SIGTERM; the bare command does both in a temporary directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@greenraft/consensus';
import { generateParticipantKeys } from '@greenraft/power-market';
import { parseServerConfig, type ServerConfigInput } from '@greenraft/server';
import { booleanOption, choiceOption, commandSpec, defineCommand, integerOption, optionalIntegerOption, type ParsedCommandLine } from '../args.js';
import { print, printError } from '../io.js';
import { requiredText } from './node.js';

/** The file `init` writes and `start` reads: the nodes of the cluster. */
export const MANIFEST = 'cluster.json';
const HOST = '127.0.0.1';
/** How long `start` waits for a node to answer /livez, and for a node to stop after SIGTERM. */
const START_PATIENCE_MS = 30_000;
const STOP_PATIENCE_MS = 15_000;

/** One node of a local cluster, as `init` prints it. */
export interface ClusterNode {
  readonly id: string;
  /** Its configuration file (absolute). */
  readonly config: string;
  /** Its client API. */
  readonly http: string;
  /** Its peer endpoint. */
  readonly peer: string;
}

/** What `init` needs. */
export interface ClusterInit {
  readonly nodes: number;
  readonly dir: string;
  readonly weighted: boolean;
  readonly stateMachine: 'kv' | 'market';
  /** Node i (from 0) gets peer port P + 2i and client port P + 2i + 1; free ports picked by the OS when absent. */
  readonly basePort: number | undefined;
}

/** `count` distinct ports the OS reports free now (all held open together, so they differ). */
export async function freePorts(count: number, host = HOST): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createNetServer>>((resolveServer, reject) => {
          const server = createNetServer();
          server.once('error', reject);
          server.listen({ host, port: 0 }, () => resolveServer(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/** Writes a local cluster's files into `init.dir` and returns its nodes. */
export async function initCluster(init: ClusterInit): Promise<ClusterNode[]> {
  const dir = resolve(init.dir);
  if (existsSync(join(dir, MANIFEST))) throw new InvalidArgumentError(`--dir ${init.dir} already holds a cluster (${MANIFEST}); choose another directory`);
  if (init.basePort !== undefined && init.basePort + 2 * init.nodes - 1 > 65_535) throw new InvalidArgumentError(`--base-port ${init.basePort} leaves no room for ${init.nodes} nodes (2 ports each)`);
  const ports = init.basePort === undefined ? await freePorts(2 * init.nodes) : Array.from({ length: 2 * init.nodes }, (_, i) => init.basePort! + i);
  const ids = Array.from({ length: init.nodes }, (_, i) => `n${i + 1}`);
  const peers = Object.fromEntries(ids.map((id, i) => [id, { peerUrl: `ws://${HOST}:${ports[2 * i]}`, clientUrl: `http://${HOST}:${ports[2 * i + 1]}` }]));
  const clusterId = `greenraft-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  // A fresh secret, readable by its owner only.
  const secretFile = join(dir, 'cluster.secret');
  writeFileSync(secretFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  if (init.stateMachine === 'market') mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  const nodes: ClusterNode[] = [];
  for (const id of ids) {
    const config: ServerConfigInput = {
      id,
      clusterId,
      dataDir: `data/${id}`,
      stateMachine: init.stateMachine,
      policy: init.weighted ? 'weighted' : 'classic',
      clusterSecretFile: 'cluster.secret',
      peers,
      ...(init.stateMachine === 'market' ? { market: { participantKeyFile: `keys/${id}.pem` } } : {}),
    };
    // The same schema `greenraft node` applies: what init writes, a node accepts.
    parseServerConfig(config, { baseDir: dir });
    if (init.stateMachine === 'market') {
      const keyFile = join(dir, 'keys', `${id}.pem`);
      writeFileSync(keyFile, generateParticipantKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
    }
    const file = join(dir, `${id}.json`);
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    nodes.push({ id, config: file, http: peers[id]!.clientUrl, peer: peers[id]!.peerUrl });
  }
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify({ nodes: nodes.map(({ id, http, peer }) => ({ id, config: `${id}.json`, http, peer })) }, null, 2)}\n`);
  return nodes;
}

/** The nodes of the cluster in `dir`, from its manifest. */
export function readManifest(dir: string): ClusterNode[] {
  const file = join(resolve(dir), MANIFEST);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`--dir ${dir}: cannot read ${MANIFEST} (run greenraft cluster init first): ${(error as Error).message}`);
  }
  const nodes = (parsed as { nodes?: unknown }).nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) throw new InvalidArgumentError(`${file}: expected {"nodes":[…]}`);
  return nodes.map((node, i) => {
    const { id, config, http, peer } = node as Record<string, unknown>;
    if (typeof id !== 'string' || typeof config !== 'string' || typeof http !== 'string' || typeof peer !== 'string') {
      throw new InvalidArgumentError(`${file}: nodes[${i}] needs id, config, http and peer`);
    }
    return { id, config: resolve(dir, config), http, peer };
  });
}

/** The CLI's entry point, which each node process runs (`dist/bin.js`, from the source tree in tests). */
function cliEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/bin.js' : './bin.js', here));
}

interface RunningNode extends ClusterNode {
  readonly child: ChildProcess;
  readonly log: string;
  exited: boolean;
}

async function answersLivez(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/livez`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Runs the cluster in `dir` until SIGINT or SIGTERM: one child process per node, logs in
 * `dir/logs`. Resolves with the exit code: 0 when every node ran until it was stopped, 1 when a
 * node died (it is reported at once, and not restarted) or could not start.
 */
export async function startCluster(dir: string): Promise<number> {
  const nodes = readManifest(dir);
  const logs = join(resolve(dir), 'logs');
  mkdirSync(logs, { recursive: true });
  const entry = cliEntry();
  let stopping = false;
  let died = 0;
  let finish!: () => void;
  const allExited = new Promise<void>((resolveExited) => {
    finish = resolveExited;
  });
  const running: RunningNode[] = nodes.map((node) => {
    const log = join(logs, `${node.id}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(process.execPath, [entry, 'node', '--config', node.config], { stdio: ['ignore', fd, fd, 'ipc'], env: process.env });
    closeSync(fd);
    const started: RunningNode = { ...node, child, log, exited: false };
    child.once('exit', (code, signal) => {
      started.exited = true;
      if (!stopping) {
        died++;
        printError(`greenraft cluster: node ${node.id} (pid ${child.pid}) exited ${signal === null ? `with code ${code}` : `on ${signal}`}; it is not restarted (log: ${log})`);
      }
      if (running.every((other) => other.exited)) finish();
    });
    child.on('error', (error) => printError(`greenraft cluster: node ${node.id}: ${error.message}`));
    return started;
  });

  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const node of running) if (!node.exited) node.child.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const node of running) {
        if (node.exited) continue;
        printError(`greenraft cluster: node ${node.id} (pid ${node.child.pid}) did not stop within ${STOP_PATIENCE_MS} ms; killing it`);
        node.child.kill('SIGKILL');
      }
    }, STOP_PATIENCE_MS);
    await allExited;
    clearTimeout(deadline);
  };
  const onSignal = () => void stopAll();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const deadline = performance.now() + START_PATIENCE_MS;
    for (const node of running) {
      while (!(await answersLivez(node.http))) {
        if (node.exited || stopping || performance.now() > deadline) {
          if (!node.exited && !stopping) printError(`greenraft cluster: node ${node.id} did not come up within ${START_PATIENCE_MS} ms (log: ${node.log})`);
          await stopAll();
          return 1;
        }
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
      }
    }
    print(
      JSON.stringify({
        dir: resolve(dir),
        nodes: running.map((node) => ({ id: node.id, pid: node.child.pid, http: node.http, ws: `${node.http.replace(/^http/, 'ws')}/v1/ws`, peer: node.peer, config: node.config, log: node.log })),
      }),
    );
    printError(`greenraft cluster: ${running.length} nodes running; Ctrl-C stops them all`);
    await allExited;
    return died > 0 ? 1 : 0;
  } finally {
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const sharedOptions = {
  weighted: booleanOption({ help: 'weighted Raft (every node weighs 1 at first; a market cluster takes its weights from the market)' }),
  stateMachine: choiceOption({ value: 'kv|market', help: 'the replicated state machine', values: ['kv', 'market'], default: 'kv' }),
  basePort: optionalIntegerOption({ value: 'P', help: 'node i (from 0) listens on ports P+2i (peers) and P+2i+1 (clients); default: free ports the OS picks', min: 1, max: 65_534 }),
} as const;

/** The table of `greenraft cluster init`. */
export const clusterInitSpec = commandSpec({
  name: 'cluster init',
  summary: 'write the configuration of a local cluster of N nodes (with a fresh secret)',
  description: [
    'Writes into DIR one validated configuration per node (n1.json … nN.json), a fresh cluster secret',
    '(cluster.secret, mode 0600), cluster.json (the nodes), and for a market cluster one participant key',
    'per node (keys/nI.pem, mode 0600). Every node listens on loopback; without --base-port the OS picks',
    'free ports, so two clusters on one machine never collide. Prints {"nodes":[{"id","config","http"}]}.',
  ].join('\n'),
  options: {
    nodes: integerOption({ value: 'N', help: 'cluster size', min: 1, max: 15, default: 3 }),
    dir: requiredText({ value: 'DIR', help: 'where to write the cluster (must not hold one already)' }),
    ...sharedOptions,
  },
  examples: ['greenraft cluster init --nodes 3 --dir ./cluster', 'greenraft cluster init --nodes 5 --dir ./market --weighted --state-machine market'],
  exitStatus: '0 written, 2 bad arguments (or DIR already holds a cluster).',
});

/** The table of `greenraft cluster start`. */
export const clusterStartSpec = commandSpec({
  name: 'cluster start',
  summary: 'run the nodes of a cluster written by cluster init, until Ctrl-C',
  description: [
    'Runs every node of the cluster in DIR as a child process (greenraft node --config …), logs in',
    'DIR/logs, and prints {"dir","nodes":[{"id","pid","http","ws","peer","config","log"}]} once every node',
    'answers /livez. A node that dies is reported on stderr and not restarted. Ctrl-C or SIGTERM stops',
    'every node gracefully (SIGKILL after 15 s) and leaves no process behind.',
  ].join('\n'),
  options: { dir: requiredText({ value: 'DIR', help: 'a directory written by greenraft cluster init' }) },
  examples: ['greenraft cluster start --dir ./cluster'],
  exitStatus: '0 every node ran until stopped, 1 a node died or did not start, 2 bad arguments.',
});

/** The table of `greenraft cluster`. */
export const clusterSpec = commandSpec({
  name: 'cluster',
  summary: 'init and start a local cluster in a temporary directory (removed on exit)',
  description: 'cluster init into a temporary directory, then cluster start on it; the directory is removed when the cluster stops.',
  options: { nodes: integerOption({ value: 'N', help: 'cluster size', min: 1, max: 15, default: 5 }), ...sharedOptions },
  examples: ['greenraft cluster --nodes 5', 'greenraft cluster --nodes 5 --weighted --state-machine market'],
  exitStatus: '0 every node ran until stopped, 1 a node died or did not start, 2 bad arguments.',
});

async function runClusterInit({ options }: ParsedCommandLine<typeof clusterInitSpec.options>): Promise<number> {
  const nodes = await initCluster(options);
  print(JSON.stringify({ nodes: nodes.map(({ id, config, http }) => ({ id, config, http })) }));
  return 0;
}

async function runClusterStart({ options }: ParsedCommandLine<typeof clusterStartSpec.options>): Promise<number> {
  return startCluster(options.dir);
}

async function runCluster({ options }: ParsedCommandLine<typeof clusterSpec.options>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-cluster-'));
  try {
    await initCluster({ ...options, dir });
    return await startCluster(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `greenraft cluster init`, `greenraft cluster start` and `greenraft cluster`. */
export const clusterCommands = [defineCommand(clusterInitSpec, runClusterInit), defineCommand(clusterStartSpec, runClusterStart), defineCommand(clusterSpec, runCluster)] as const;
