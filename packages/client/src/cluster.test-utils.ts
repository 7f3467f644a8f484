/** Real `@greenraft/server` clusters in this process, on loopback with OS-picked ports, for the client's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type GreenraftServer, type ServerConfigInput } from '@greenraft/server';

/** Fast elections for loopback on a busy machine: 0.3–0.6 s, heartbeats every 30 ms. */
const FAST_RAFT = { tickMs: 15, electionTicks: 20, heartbeatTicks: 2 } as const;

export interface Cluster {
  readonly servers: GreenraftServer[];
  /** Client URL of a node. */
  url(id: string): string;
  server(id: string): GreenraftServer;
  /** Every running node's client URL, in id order. */
  urls(): string[];
  /** The leader every running node agrees on. */
  leader(timeoutMs?: number): Promise<GreenraftServer>;
  followers(): GreenraftServer[];
  /** Creates and starts another node that joins this cluster (`join: true`), for `addMember`. */
  join(id: string): Promise<GreenraftServer>;
  close(): Promise<void>;
}

export interface ClusterInit {
  readonly ids?: readonly string[];
  /** Config fields for every node. */
  readonly config?: Partial<ServerConfigInput>;
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

function nodeConfig(dir: string, id: string, peers: ServerConfigInput['peers'], extra: Partial<ServerConfigInput>): ServerConfigInput {
  return {
    id,
    clusterId: 'client-test',
    dataDir: join(dir, id),
    clusterSecret: 'a cluster secret for the client tests',
    peers,
    raft: { ...FAST_RAFT },
    log: { level: 'silent' },
    shutdown: { transferTimeoutMs: 2000, drainTimeoutMs: 2000 },
    ...extra,
  };
}

/** Starts a cluster (3 nodes by default) and waits for nothing: call `leader()` for that. */
export async function startCluster(init: ClusterInit = {}): Promise<Cluster> {
  const ids = init.ids ?? ['n1', 'n2', 'n3'];
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-client-'));
  const any = { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' };
  const servers = ids.map((id) => createServer(nodeConfig(dir, id, { [id]: any }, init.config ?? {})));
  const joined: GreenraftServer[] = [];
  const all = () => [...servers, ...joined];
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
  const byId = (id: string) => {
    const found = all().find((server) => server.id === id);
    if (found === undefined) throw new Error(`no node ${id}`);
    return found;
  };
  const running = () => all().filter((server) => server.phase === 'running');
  return {
    servers,
    url: (id) => byId(id).addresses!.clientUrl,
    server: byId,
    urls: () => running().map((server) => server.addresses!.clientUrl),
    leader: (timeoutMs = 15_000) =>
      until(() => {
        const live = running();
        const leaders = live.filter((server) => server.status().role === 'leader');
        return leaders.length === 1 && live.every((server) => server.status().leader === leaders[0]!.id) ? leaders[0] : undefined;
      }, 'a leader every node knows', timeoutMs),
    followers: () => running().filter((server) => server.status().role !== 'leader'),
    join: async (id) => {
      const peers = Object.fromEntries(running().map((server) => [server.id, server.addresses!]));
      const server = createServer(nodeConfig(dir, id, { ...peers, [id]: any }, { ...init.config, join: true }));
      joined.push(server);
      await server.listen();
      await server.start();
      return server;
    },
    close: async () => {
      await Promise.all(all().map((server) => server.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
