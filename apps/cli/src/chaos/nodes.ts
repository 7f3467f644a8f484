/**
 * The node processes of a chaos run: their configuration files (each node reaches every peer
 * through the proxy of that directed link, and every peer's client API through its client proxy),
 * and process control: start, kill -9 (with or without the lost-write power cut), SIGSTOP/SIGCONT,
 * graceful stop. Each node runs `greenraft node` from the built CLI in a process group of its
 * own, with the fsync-recording preload, and listens on ports the OS picks (port 0): it tells
 * where over IPC when it is ready, and the proxies forward there.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { parseServerConfig, type ServerConfigInput } from '@greenraft/server';
import { type NodeEndpoints, NodeProcess } from '../node-process.js';
import { type LostWrite, SKIP_FDATASYNC_ENV, SYNC_LOG_ENV, truncateToSynced } from './durability.js';
import type { ChaosNetwork, PassThroughProxy } from './proxy.js';

const HOST = '127.0.0.1';

/** Starts tried while the CLI's files are missing (a build replacing dist/), and the wait between them. */
const MISSING_CODE_ATTEMPTS = 10;
const MISSING_CODE_WAIT_MS = 3000;
/** How long a node may take to stop after SIGTERM before it is killed. */
const STOP_PATIENCE_MS = 10_000;

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

/** A node process that exited without being told to. */
export interface UnexpectedExit {
  readonly id: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds since the run began. */
  readonly atMs: number;
  readonly log: string;
}

/** Options of {@link ChaosNode}. */
export interface ChaosNodeInit {
  readonly spec: ChaosNodeSpec;
  /** The `--import` URL of the fsync-recording preload. */
  readonly preload: string;
  /** Acknowledge writes before they are durable (the injected bug). */
  readonly skipFdatasync: boolean;
  /** Milliseconds since the run began, for reports. */
  readonly clock: () => number;
  readonly onUnexpectedExit: (exit: UnexpectedExit) => void;
  /** Where the node listens, once it says it is ready (before `start` resolves). */
  readonly onListening: (endpoints: NodeEndpoints) => void;
}

/**
 * One node process of a chaos run, started and stopped as the nemesis says: it records its fsyncs
 * through the preload, a start is tried again while a build replaces the CLI's files, and a kill
 * may be followed by the lost-write power cut.
 */
export class ChaosNode extends NodeProcess {
  readonly spec: ChaosNodeSpec;

  constructor(init: ChaosNodeInit) {
    const { spec } = init;
    super({
      id: spec.id,
      config: spec.config,
      log: spec.log,
      nodeArgs: ['--import', init.preload],
      // A failpoint or the injected bug of the parent's environment would be the node's without being asked for.
      env: { [SYNC_LOG_ENV]: spec.syncLog, GREENRAFT_WAL_FAILPOINT: undefined, [SKIP_FDATASYNC_ENV]: init.skipFdatasync ? '1' : undefined },
      stopPatienceMs: STOP_PATIENCE_MS,
      retryMissingCode: { attempts: MISSING_CODE_ATTEMPTS, waitMs: MISSING_CODE_WAIT_MS },
      onReady: init.onListening,
      onExit: (exit) => {
        if (!exit.expected) init.onUnexpectedExit({ id: exit.id, code: exit.code, signal: exit.signal, atMs: init.clock(), log: exit.log });
      },
    });
    this.spec = spec;
  }

  /** kill -9; with `lostWrite`, then the power cut: its log segments back to what was fsynced. */
  async kill9(lostWrite: boolean): Promise<LostWrite | undefined> {
    if (!(await this.crash())) return undefined;
    return lostWrite ? truncateToSynced(this.spec.dataDir, this.spec.syncLog) : undefined;
  }
}
