/**
 * The node processes of a chaos run: their configuration files (each node reaches every peer
 * through the proxy of that directed link, and every peer's client API through its client proxy),
 * and process control: start, kill -9 (with or without the lost-write power cut), SIGSTOP/SIGCONT,
 * graceful stop. Each node runs `greenraft node` from the built CLI in a process group of its
 * own, with the fsync-recording preload, and listens on ports the OS picks (port 0): it tells
 * where over IPC when it is ready, and the proxies forward there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerConfig, type ServerConfigInput } from '@greenraft/server';
import { type LostWrite, SKIP_FDATASYNC_ENV, SYNC_LOG_ENV, truncateToSynced } from './durability.js';
import type { ChaosNetwork, PassThroughProxy, ProxyTarget } from './proxy.js';

const HOST = '127.0.0.1';

/** The CLI's entry point, which each node process runs (`dist/bin.js`; from the source tree in tests). */
export function cliEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/bin.js' : './bin.js', here));
}

/** The lowest port of the kernel's ephemeral range (outgoing connections take ports from it). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isSafeInteger(low) && low > 2048 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createNetServer();
    server.once('error', () => resolve(false));
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports free now, below the ephemeral range, for nodes that must bind the same
 * ports again after a restart (a port of the ephemeral range could meanwhile be taken by an
 * outgoing connection). Chaos runs themselves put nodes on port 0 behind proxies instead.
 */
export async function stablePorts(count: number, random: () => number): Promise<number[]> {
  const high = ephemeralLow();
  const low = Math.max(10_000, high - 20_000);
  const ports = new Set<number>();
  for (let attempt = 0; ports.size < count && attempt < count * 200; attempt++) {
    const port = low + Math.floor(random() * (high - low));
    if (!ports.has(port) && (await bindable(port))) ports.add(port);
  }
  if (ports.size < count) throw new Error(`could not find ${count} free ports between ${low} and ${high}`);
  return [...ports];
}

/** Timing of the nodes: short enough that faults show within seconds, long enough for a loaded machine. */
export interface NodeTiming {
  /** `raft.tickMs`. */
  readonly tickMs: number;
  /** `raft.electionTicks` (classic): elections after this many ticks to twice that. */
  readonly electionTicks: number;
  /** `raft.heartbeatTicks` (classic). */
  readonly heartbeatTicks: number;
  /** Weighted: paper eq. 7's T_i = base + step · rank, base in milliseconds. */
  readonly weightedBaseMs: number;
  /** Weighted: eq. 7's step per rank, in milliseconds. */
  readonly weightedStepMs: number;
  /** `peer.pingIntervalMs`. */
  readonly pingIntervalMs: number;
  /** `peer.pongTimeoutMs`: a link without a pong this long is dead (how a blackhole is found). */
  readonly pongTimeoutMs: number;
  /** `client.requestTimeoutMs`. */
  readonly requestTimeoutMs: number;
  /** `raft.snapshotThreshold`: low, so that runs take snapshots and install them on lagging nodes. */
  readonly snapshotThreshold: number;
}

/** The timing chaos runs use unless told otherwise. */
export const DEFAULT_TIMING: NodeTiming = {
  tickMs: 30,
  electionTicks: 20,
  heartbeatTicks: 2,
  weightedBaseMs: 700,
  weightedStepMs: 70,
  pingIntervalMs: 300,
  pongTimeoutMs: 1500,
  requestTimeoutMs: 2500,
  snapshotThreshold: 1000,
};

/** One node of the run: how it is reached and where its files are. */
export interface ChaosNodeSpec {
  readonly id: string;
  /** Its client API, through its client proxy: the same across restarts. */
  readonly clientUrl: string;
  readonly config: string;
  readonly dataDir: string;
  readonly log: string;
  /** The side log of its fsyncs (see durability.ts). */
  readonly syncLog: string;
}

/** Writes one configuration per node into `dir`: `peers` names the proxies, not the nodes. */
export function writeNodeConfigs(init: {
  readonly dir: string;
  readonly ids: readonly string[];
  readonly network: ChaosNetwork;
  /** Each node's client proxy. */
  readonly clientProxies: ReadonlyMap<string, PassThroughProxy>;
  readonly weighted: boolean;
  readonly timing: NodeTiming;
}): ChaosNodeSpec[] {
  const { dir, ids, network, clientProxies, timing } = init;
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'sync'), { recursive: true });
  const secretFile = join(dir, 'cluster.secret');
  writeFileSync(secretFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  const clusterId = `greenraft-chaos-${randomBytes(4).toString('hex')}`;
  return ids.map((id) => {
    const peers: Record<string, { peerUrl: string; clientUrl: string }> = {};
    for (const other of ids) {
      // Its own endpoints on port 0 (the OS picks, again at each restart); the others behind their proxies.
      peers[other] =
        other === id ? { peerUrl: `ws://${HOST}:0`, clientUrl: `http://${HOST}:0` } : { peerUrl: network.url(id, other), clientUrl: clientProxies.get(other)!.url };
    }
    const config: ServerConfigInput = {
      id,
      clusterId,
      dataDir: `data/${id}`,
      stateMachine: 'kv',
      policy: init.weighted ? 'weighted' : 'classic',
      clusterSecretFile: 'cluster.secret',
      peers,
      peer: { pingIntervalMs: timing.pingIntervalMs, pongTimeoutMs: timing.pongTimeoutMs, handshakeTimeoutMs: 2000 },
      client: { requestTimeoutMs: timing.requestTimeoutMs },
      raft: {
        tickMs: timing.tickMs,
        snapshotThreshold: timing.snapshotThreshold,
        ...(init.weighted ? {} : { electionTicks: timing.electionTicks, heartbeatTicks: timing.heartbeatTicks }),
      },
      ...(init.weighted ? { weighted: { electionTimeout: { baseMs: timing.weightedBaseMs, stepMs: timing.weightedStepMs, jitterMs: Math.round(timing.weightedStepMs / 2) } } } : {}),
      log: { level: 'info', format: 'json' },
      shutdown: { transferTimeoutMs: 1000, drainTimeoutMs: 1000 },
    };
    // The schema greenraft node applies: a configuration it would refuse fails here, before any process starts.
    parseServerConfig(config, { baseDir: dir });
    const file = join(dir, `${id}.json`);
    writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
    return {
      id,
      clientUrl: clientProxies.get(id)!.url,
      config: file,
      dataDir: join(dir, 'data', id),
      log: join(dir, 'logs', `${id}.log`),
      syncLog: join(dir, 'sync', `${id}.log`),
    };
  });
}

/** Where a node process is. */
export type NodeState = 'down' | 'starting' | 'up' | 'paused' | 'stopping';

/** A node process that exited without being told to. */
export interface UnexpectedExit {
  readonly id: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds since the run began. */
  readonly atMs: number;
  readonly log: string;
}

/** Options of {@link NodeProcess}. */
export interface NodeProcessInit {
  readonly spec: ChaosNodeSpec;
  /** The `--import` URL of the fsync-recording preload. */
  readonly preload: string;
  /** Acknowledge writes before they are durable (the injected bug). */
  readonly skipFdatasync: boolean;
  /** Milliseconds since the run began, for reports. */
  readonly clock: () => number;
  readonly onUnexpectedExit: (exit: UnexpectedExit) => void;
  /** Where the node listens, once it says it is ready (before `start` resolves). */
  readonly onListening: (endpoints: { readonly peer: ProxyTarget; readonly client: ProxyTarget }) => void;
}

/** `ws://host:port` or `http://host:port` as a proxy target. */
function targetOf(url: unknown): ProxyTarget | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    const port = Number(parsed.port);
    return Number.isInteger(port) && port > 0 ? { host: parsed.hostname, port } : undefined;
  } catch {
    return undefined;
  }
}

/** What a log got since byte `from`: what one start of the node printed. */
function logSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

/** Output on one line, at most 2000 characters (its end, where the error is). */
function oneLine(output: string): string {
  return output.trim().split('\n').filter((line) => line.trim() !== '').join(' | ').slice(-2000);
}

/** What Node prints when a module of the CLI is not there. */
const MISSING_CODE = /ERR_MODULE_NOT_FOUND|Cannot find module/;
const MISSING_CODE_ATTEMPTS = 10;
const MISSING_CODE_WAIT_MS = 3000;

/** The node could not load the CLI's code: not the node's failure. */
class MissingCodeError extends Error {}

/** How long a node may take to start (open its log, bind, answer ready) on a loaded machine. */
const START_PATIENCE_MS = 30_000;
const STOP_PATIENCE_MS = 10_000;

/** One node process, started and stopped as the nemesis says. */
export class NodeProcess {
  readonly id: string;
  readonly spec: ChaosNodeSpec;
  #child: ChildProcess | undefined;
  #state: NodeState = 'down';
  #exited: Promise<void> = Promise.resolve();
  readonly #init: NodeProcessInit;
  /** Times it was started. */
  starts = 0;
  /** Starts tried again because the CLI's files were missing. */
  missingCodeRetries = 0;

  constructor(init: NodeProcessInit) {
    this.#init = init;
    this.spec = init.spec;
    this.id = init.spec.id;
  }

  get state(): NodeState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts the process and resolves once the node is running (it says so over IPC). A start that
   * fails because the CLI's own files are missing (a build replacing dist/ on a shared machine) is
   * tried again a few times; any other failure is the node's, and is reported.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#startOnce();
        return;
      } catch (error) {
        if (!(error instanceof MissingCodeError) || attempt >= MISSING_CODE_ATTEMPTS) throw error;
        this.missingCodeRetries++;
        await new Promise((resolve) => setTimeout(resolve, MISSING_CODE_WAIT_MS));
      }
    }
  }

  async #startOnce(): Promise<void> {
    if (this.#state !== 'down') throw new Error(`${this.id} is ${this.#state}, not down`);
    this.#state = 'starting';
    this.starts++;
    const env: NodeJS.ProcessEnv = { ...process.env, [SYNC_LOG_ENV]: this.spec.syncLog };
    delete env.GREENRAFT_WAL_FAILPOINT;
    delete env[SKIP_FDATASYNC_ENV];
    if (this.#init.skipFdatasync) env[SKIP_FDATASYNC_ENV] = '1';
    const fd = openSync(this.spec.log, 'a');
    const logFrom = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      // A process group of its own: kill -9 and SIGSTOP reach the node and nothing else.
      child = spawn(process.execPath, ['--import', this.#init.preload, cliEntry(), 'node', '--config', this.spec.config], {
        detached: true,
        stdio: ['ignore', fd, fd, 'ipc'],
        env,
      });
    } finally {
      closeSync(fd);
    }
    this.#child = child;
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    child.on('message', (message) => {
      if (typeof message !== 'object' || message === null || !('ready' in message)) return;
      const addresses = (message as { ready?: { peerUrl?: unknown; clientUrl?: unknown } }).ready;
      const peer = targetOf(addresses?.peerUrl);
      const client = targetOf(addresses?.clientUrl);
      if (peer === undefined || client === undefined) {
        failed(new Error(`${this.id} said it was ready without its addresses: ${JSON.stringify(message)}`));
        return;
      }
      this.#init.onListening({ peer, client });
      ready();
    });
    child.on('error', (error) => failed(error));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const expected = this.#state === 'stopping';
        const wasStarting = this.#state === 'starting';
        this.#state = 'down';
        if (this.#child === child) this.#child = undefined;
        const output = wasStarting ? logSince(this.spec.log, logFrom) : '';
        if (wasStarting && MISSING_CODE.test(output)) {
          failed(new MissingCodeError(`${this.id} could not load the CLI (${this.spec.log})`));
        } else {
          if (!expected) this.#init.onUnexpectedExit({ id: this.id, code, signal, atMs: this.#init.clock(), log: this.spec.log });
          // Settles a start still waiting (a no-op once the node said it was ready), stopped or not.
          failed(new Error(`${this.id} exited${wasStarting ? ' while starting' : ''} (${signal ?? `code ${code}`}); log: ${this.spec.log}${wasStarting ? `: ${oneLine(output)}` : ''}`));
        }
        resolve();
      });
    });
    const timer = setTimeout(() => failed(new Error(`${this.id} did not start within ${START_PATIENCE_MS} ms; log: ${this.spec.log}`)), START_PATIENCE_MS);
    try {
      await started;
      if (this.#state === 'starting') this.#state = 'up';
    } catch (error) {
      // A node stuck in its start is stopped, so that nothing is left half-started.
      if (this.#state === 'starting') {
        this.#state = 'stopping';
        this.#signal('SIGKILL');
        await this.#exited;
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** kill -9; with `lostWrite`, then the power cut: its log segments back to what was fsynced. */
  async kill(lostWrite: boolean): Promise<LostWrite | undefined> {
    if (this.#child === undefined) return undefined;
    this.#state = 'stopping';
    this.#signal('SIGKILL');
    await this.#exited;
    return lostWrite ? truncateToSynced(this.spec.dataDir, this.spec.syncLog) : undefined;
  }

  /** SIGSTOP: the process stops, its sockets stay open (a node that hangs). */
  pause(): void {
    if (this.#state !== 'up') return;
    this.#signal('SIGSTOP');
    this.#state = 'paused';
  }

  resume(): void {
    if (this.#state !== 'paused') return;
    this.#signal('SIGCONT');
    this.#state = 'up';
  }

  /** Graceful stop (SIGTERM), SIGKILL after a while. */
  async stop(): Promise<void> {
    if (this.#child === undefined) return;
    const wasPaused = this.#state === 'paused';
    this.#state = 'stopping';
    if (wasPaused) this.#signal('SIGCONT');
    this.#signal('SIGTERM');
    const deadline = setTimeout(() => this.#signal('SIGKILL'), STOP_PATIENCE_MS);
    await this.#exited;
    clearTimeout(deadline);
  }

  /** What `finally` does whatever happened: the whole process group, at once. */
  killNow(): void {
    this.#signal('SIGCONT');
    this.#signal('SIGKILL');
  }
}
