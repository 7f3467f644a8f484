/** Helpers of the server's tests: in-process clusters of real servers on loopback (port 0), raw HTTP and WebSocket clients. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ServerConfigInput } from './config.js';
import { type GreenraftServer, createServer } from './server.js';

export const SECRET = 'a test cluster secret of enough length';

/** Fast timings for loopback tests on a busy machine: elections in 0.3–0.6 s, heartbeats every 30 ms. */
export const FAST_RAFT = { tickMs: 15, electionTicks: 20, heartbeatTicks: 2 } as const;

export interface TestCluster {
  readonly dir: string;
  readonly servers: GreenraftServer[];
  url(id: string): string;
  server(id: string): GreenraftServer;
  leader(timeoutMs?: number): Promise<GreenraftServer>;
  followers(): GreenraftServer[];
  /** Creates (but does not start) another server with this cluster's settings. */
  extra(id: string, overrides?: Partial<ServerConfigInput>): GreenraftServer;
  close(): Promise<void>;
}

export interface TestClusterInit {
  readonly ids?: readonly string[];
  /** Settings of each node, given the cluster's temporary directory. */
  readonly overrides?: (id: string, dir: string) => Partial<ServerConfigInput>;
  /** Runs in the cluster's temporary directory before any server is created (to write key files, modules, ...). */
  readonly prepare?: (dir: string) => void;
}

export function baseConfig(dir: string, id: string, peers: ServerConfigInput['peers']): ServerConfigInput {
  return {
    id,
    clusterId: 'test',
    dataDir: join(dir, id),
    clusterSecret: SECRET,
    peers,
    raft: { ...FAST_RAFT },
    log: { level: 'silent' },
    shutdown: { transferTimeoutMs: 2000, drainTimeoutMs: 2000 },
  };
}

export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startCluster(init: TestClusterInit = {}): Promise<TestCluster> {
  const ids = init.ids ?? ['n1', 'n2', 'n3'];
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-server-'));
  init.prepare?.(dir);
  const placeholder = Object.fromEntries(
    ids.map((id) => {
      const settings = init.overrides?.(id, dir);
      return [id, { peerUrl: `${settings?.peer?.tls ? 'wss' : 'ws'}://127.0.0.1:0`, clientUrl: `${settings?.client?.tls ? 'https' : 'http'}://127.0.0.1:0` }];
    }),
  );
  const servers = ids.map((id) => createServer({ ...baseConfig(dir, id, { [id]: placeholder[id]! }), ...init.overrides?.(id, dir) }));
  const extras: GreenraftServer[] = [];
  try {
    const addresses = await Promise.all(servers.map((server) => server.listen()));
    const peers = Object.fromEntries(ids.map((id, i) => [id, addresses[i]!]));
    for (const server of servers) server.setPeers(peers);
    await Promise.all(servers.map((server) => server.start()));
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const byId = (id: string) => [...servers, ...extras].find((server) => server.id === id)!;
  return {
    dir,
    servers,
    url: (id) => byId(id).addresses!.clientUrl,
    server: byId,
    leader: (timeoutMs = 15_000) =>
      until(() => {
        const leaders = servers.filter((server) => server.phase === 'running' && server.status().role === 'leader');
        // Wait until every running server agrees on the leader: a fresh leader may not be known everywhere yet.
        const agreed = leaders.length === 1 && servers.every((server) => server.phase !== 'running' || server.status().leader === leaders[0]!.id);
        return agreed ? leaders[0] : undefined;
      }, 'a leader known by every node', timeoutMs),
    followers: () => servers.filter((server) => server.status().role !== 'leader'),
    extra: (id, overrides = {}) => {
      const peers = Object.fromEntries(servers.map((server) => [server.id, server.addresses!]));
      const server = createServer({ ...baseConfig(dir, id, { ...peers, [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } }), ...init.overrides?.(id, dir), ...overrides });
      extras.push(server);
      return server;
    },
    close: async () => {
      await Promise.all([...servers, ...extras].map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function http(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text.length === 0 ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: response.status, body, headers: response.headers };
}

/** A raw WebSocket client of `/v1/ws`: frames in, answers by id, events in order. */
export class RawClient {
  readonly socket: WebSocket;
  readonly events: { event: string; data: unknown }[] = [];
  readonly #answers = new Map<number, (frame: Record<string, unknown>) => void>();
  #nextId = 1;
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>;
      if (typeof frame.id === 'number') this.#answers.get(frame.id)?.(frame);
      else this.events.push(frame as { event: string; data: unknown });
    });
    this.closed = new Promise((resolve) => socket.once('close', (code) => resolve((this.closeCode = code))));
  }

  static async connect(clientUrl: string): Promise<RawClient> {
    const socket = new WebSocket(`${clientUrl.replace(/^http/, 'ws')}/v1/ws`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Sends one request and resolves with its answer frame. */
  request(fields: Record<string, unknown>, id = this.#nextId++): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#answers.set(id, (frame) => {
        this.#answers.delete(id);
        resolve(frame);
      });
      this.socket.send(JSON.stringify({ id, ...fields }));
    });
  }

  sendRaw(text: string | Buffer): void {
    this.socket.send(text);
  }

  close(): void {
    this.socket.terminate();
  }
}
