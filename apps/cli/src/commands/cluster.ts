/**
 * `greenraft cluster init|start` and `greenraft cluster --nodes N`: a local cluster of node
 * processes on loopback. `init` writes one validated configuration per node (with a fresh
 * cluster secret, and participant keys for a market cluster); `start` runs them under the
 * supervisor (../supervisor): child processes behind per-link proxies, the dashboard and its
 * control API, trading rounds for a market cluster; it prints their endpoints, reports (and
 * never restarts) a node that dies, and stops every one on Ctrl-C or SIGTERM; the bare command
 * does both in a temporary directory, removed when it stops.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { generateParticipantKeys } from '@greenraft/power-market';
import { parseServerConfig, type ServerConfigInput } from '@greenraft/server';
import { booleanOption, choiceOption, commandSpec, defineCommand, integerOption, millisecondsOption, optionalIntegerOption, type OptionSpec, type ParsedCommandLine, required, textOption } from '../args.js';
import { stablePorts } from '../chaos/nodes.js';
import { print } from '../io.js';
import { superviseCluster } from '../supervisor/supervisor.js';

/** The file `init` writes and `start` reads: the nodes of the cluster. */
export const MANIFEST = 'cluster.json';
const HOST = '127.0.0.1';

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
  // Free ports below the ephemeral range: a node restarted on its data directory binds them again,
  // and a port of that range could meanwhile be taken by an outgoing connection.
  const ports = init.basePort === undefined ? await stablePorts(2 * init.nodes, Math.random) : Array.from({ length: 2 * init.nodes }, (_, i) => init.basePort! + i);
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

/** What `start` does besides running the nodes. */
export interface StartOptions {
  /** Serve the dashboard and its control API. */
  readonly dashboard: boolean;
  readonly dashboardHost: string;
  /** 0: a free port. */
  readonly dashboardPort: number;
  /** A trading round every this many ms (market clusters); 0: only when asked. */
  readonly roundEvery: number;
  /** Stop after this many seconds; undefined: until Ctrl-C. */
  readonly stopAfter: number | undefined;
}

/** The defaults of {@link StartOptions}: a dashboard on a free loopback port, rounds only when asked, run until Ctrl-C. */
export const DEFAULT_START: StartOptions = { dashboard: true, dashboardHost: HOST, dashboardPort: 0, roundEvery: 0, stopAfter: undefined };

/**
 * Runs the cluster in `dir` until SIGINT or SIGTERM (or `stopAfter`): one child process per node,
 * logs in `dir/logs`, the nodes' run-time configurations (peers through the proxies) in
 * `dir/run`. Resolves with the exit code: 0 when every node ran until it was stopped, 1 when a
 * node died (it is reported at once, and not restarted) or could not start.
 */
export async function startCluster(dir: string, options: StartOptions = DEFAULT_START): Promise<number> {
  return superviseCluster({
    dir,
    nodes: readManifest(dir),
    dashboard: options.dashboard,
    dashboardHost: options.dashboardHost,
    dashboardPort: options.dashboardPort,
    roundEveryMs: options.roundEvery,
    ...(options.stopAfter === undefined ? {} : { stopAfterMs: options.stopAfter * 1000 }),
  });
}

/** An option naming a host to listen on. */
function hostOption(init: { value: string; help: string; default: string }): OptionSpec<string> {
  return {
    value: init.value,
    help: init.help,
    defaultText: init.default,
    parse: (text, flag) => {
      if (text === undefined) return init.default;
      if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(text)) throw new InvalidArgumentError(`${flag} takes a host name or address, not '${text}'`);
      return text;
    },
  };
}

/** The options of `start` and of the bare command. */
const runOptions = {
  noDashboard: booleanOption({ help: 'serve no dashboard (and no control API)' }),
  dashboardHost: hostOption({ value: 'HOST', help: 'where the dashboard and its control API listen (the token guards the API; keep it on loopback)', default: HOST }),
  dashboardPort: integerOption({ value: 'P', help: 'the dashboard\u2019s port; 0: a free one', min: 0, max: 65_535, default: 0 }),
  roundEvery: millisecondsOption({ value: 'MS', help: 'a market cluster runs a trading round every MS milliseconds; 0: only when the dashboard asks', default: 0 }),
  stopAfter: optionalIntegerOption({ value: 'S', help: 'stop by itself after S seconds (default: run until Ctrl-C)', min: 1, max: 31_536_000 }),
} as const;

function startOptions(options: ParsedCommandLine<typeof runOptions>['options']): StartOptions {
  return { dashboard: !options.noDashboard, dashboardHost: options.dashboardHost, dashboardPort: options.dashboardPort, roundEvery: options.roundEvery, stopAfter: options.stopAfter };
}

const sharedOptions = {
  weighted: booleanOption({ help: 'weighted Raft (every node weighs 1 at first; a market cluster takes its weights from the market)' }),
  stateMachine: choiceOption({ value: 'kv|market', help: 'the replicated state machine', values: ['kv', 'market'], default: 'kv' }),
  basePort: optionalIntegerOption({ value: 'P', help: 'node i (from 0) listens on ports P+2i (peers) and P+2i+1 (clients); default: free ports', min: 1, max: 65_534 }),
} as const;

/** The table of `greenraft cluster init`. */
export const clusterInitSpec = commandSpec({
  name: 'cluster init',
  summary: 'write the configuration of a local cluster of N nodes (with a fresh secret)',
  description: [
    'Writes into DIR one validated configuration per node (n1.json … nN.json), a fresh cluster secret',
    '(cluster.secret, mode 0600), cluster.json (the nodes), and for a market cluster one participant key',
    'per node (keys/nI.pem, mode 0600). Every node listens on loopback; without --base-port it picks ports',
    'that are free (below the ephemeral range), so two clusters on one machine never collide. Prints',
    '{"nodes":[{"id","config","http"}]}.',
  ].join('\n'),
  options: {
    nodes: integerOption({ value: 'N', help: 'cluster size', min: 1, max: 15, default: 3 }),
    dir: required(textOption({ value: 'DIR', help: 'where to write the cluster (must not hold one already)' })),
    ...sharedOptions,
  },
  examples: ['greenraft cluster init --nodes 3 --dir ./cluster', 'greenraft cluster init --nodes 5 --dir ./market --weighted --state-machine market'],
  exitStatus: '0 written, 2 bad arguments (or DIR already holds a cluster).',
});

const RUN_DESCRIPTION = [
  'The supervisor keeps the node processes: each node reaches its peers through a TCP proxy per directed',
  'link (so links can be cut), and a node that dies is reported on stderr and not restarted. It serves',
  'the dashboard (a web page, live from the nodes) with a control API beside it: crash (SIGKILL) and',
  'restart a node, cut and heal links, and in a market cluster propose trades, run trading rounds (each',
  'node signs its own transactions with its participant key) and change the scoring strategy. The API',
  'listens on loopback and wants the token in the printed address (…/#token=…); open that address in a',
  'browser. The first time a market cluster trades (the dashboard opens, a round or a trade is asked',
  'for, or --round-every starts), it registers its nodes as participants unless the market has some',
  'already (about three in five generate, the rest consume); with --round-every it trades by itself,',
  'one line per round on stderr.',
  '',
  'Once every node runs it prints {"dir","nodes":[{"id","pid","http","ws","peer","config","log"}],"dashboard"}',
  'on stdout (on a terminal, a line per node instead). Ctrl-C or SIGTERM (or --stop-after) stops every',
  'node gracefully (SIGKILL after 15 s, or at a second Ctrl-C) and leaves no process behind.',
].join('\n');

/** The table of `greenraft cluster start`. */
export const clusterStartSpec = commandSpec({
  name: 'cluster start',
  summary: 'run the nodes of a cluster written by cluster init, with the dashboard, until Ctrl-C',
  description: ['Runs every node of the cluster in DIR as a child process (greenraft node --config …), logs in', 'DIR/logs, their configurations with the proxies in DIR/run.', '', RUN_DESCRIPTION].join('\n'),
  options: { dir: required(textOption({ value: 'DIR', help: 'a directory written by greenraft cluster init' })), ...runOptions },
  examples: ['greenraft cluster start --dir ./cluster', 'greenraft cluster start --dir ./market --round-every 3000'],
  exitStatus: '0 every node ran until stopped, 1 a node died or did not start, 2 bad arguments.',
});

/** The table of `greenraft cluster`. */
export const clusterSpec = commandSpec({
  name: 'cluster',
  summary: 'init and start a local cluster in a temporary directory (removed on exit), with the dashboard',
  description: ['cluster init into a temporary directory, then cluster start on it; the directory is removed when the', 'cluster stops. What npm start runs in the repository: a weighted power market of 5 nodes trading every 3 s.', '', RUN_DESCRIPTION].join('\n'),
  options: { nodes: integerOption({ value: 'N', help: 'cluster size', min: 1, max: 15, default: 5 }), ...sharedOptions, ...runOptions },
  examples: ['greenraft cluster --nodes 5', 'greenraft cluster --nodes 5 --weighted --state-machine market --round-every 3000'],
  exitStatus: '0 every node ran until stopped, 1 a node died or did not start, 2 bad arguments.',
});

async function runClusterInit({ options }: ParsedCommandLine<typeof clusterInitSpec.options>): Promise<number> {
  const nodes = await initCluster(options);
  print(JSON.stringify({ nodes: nodes.map(({ id, config, http }) => ({ id, config, http })) }));
  return 0;
}

async function runClusterStart({ options }: ParsedCommandLine<typeof clusterStartSpec.options>): Promise<number> {
  return startCluster(options.dir, startOptions(options));
}

async function runCluster({ options }: ParsedCommandLine<typeof clusterSpec.options>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-cluster-'));
  try {
    await initCluster({ ...options, dir });
    return await startCluster(dir, startOptions(options));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `greenraft cluster init`, `greenraft cluster start` and `greenraft cluster`. */
export const clusterCommands = [defineCommand(clusterInitSpec, runClusterInit), defineCommand(clusterStartSpec, runClusterStart), defineCommand(clusterSpec, runCluster)] as const;
