/** A weighted market cluster of real `@greenraft/server` nodes in this process, on loopback with OS-picked ports, for the live-mode tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateParticipantKeys } from '@greenraft/power-market';
import { type GreenraftServer, type ServerConfigInput, createServer } from '@greenraft/server';

export interface MarketCluster {
  readonly servers: readonly GreenraftServer[];
  /** Every node's client URL, in id order. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts `ids` as one cluster (market state machine, weighted policy, fast elections); stops and
 * removes everything on `close`. With `participantKeys`, each node holds its own participant key,
 * so it signs its own transactions (`market.submitOwn`), as `greenraft cluster init` sets it up.
 */
export async function startMarketCluster(ids: readonly string[] = ['n1', 'n2', 'n3'], options: { participantKeys?: boolean } = {}): Promise<MarketCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'greenraft-dashboard-live-'));
  const keyFile = (id: string) => join(dir, `${id}.pem`);
  if (options.participantKeys) for (const id of ids) writeFileSync(keyFile(id), generateParticipantKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  const any = { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' };
  const config = (id: string): ServerConfigInput => ({
    id,
    clusterId: 'dashboard-test',
    dataDir: join(dir, id),
    clusterSecret: 'a cluster secret for the dashboard tests',
    peers: { [id]: any },
    stateMachine: 'market',
    policy: 'weighted',
    raft: { tickMs: 15, electionTicks: 20, heartbeatTicks: 2 },
    client: { statusIntervalMs: 200 },
    ...(options.participantKeys ? { market: { participantKeyFile: keyFile(id) } } : {}),
    log: { level: 'silent' },
    shutdown: { transferTimeoutMs: 1000, drainTimeoutMs: 1000 },
  });
  const servers = ids.map((id) => createServer(config(id)));
  const close = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const addresses = await Promise.all(servers.map((server) => server.listen()));
    const peers = Object.fromEntries(ids.map((id, i) => [id, addresses[i]!]));
    for (const server of servers) server.setPeers(peers);
    await Promise.all(servers.map((server) => server.start()));
    return { servers, urls: addresses.map((address) => address.clientUrl), close };
  } catch (error) {
    await close();
    throw error;
  }
}
