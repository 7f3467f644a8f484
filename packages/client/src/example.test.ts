import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '@greenraft/server';
import { expect, it, vi } from 'vitest';
import { createClient, isOutcomeUnknown } from './index.js';

// The @packageDocumentation example of index.ts and the README, run as written.
it('runs the package example: a local 3-node cluster, put, cas, get, status', async () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
  try {
    // Three nodes on loopback (port 0: the OS picks). A real deployment runs `greenraft cluster`,
    // or one `greenraft node --config FILE` per host, and the client only needs their client URLs.
    const dataDir = mkdtempSync(join(tmpdir(), 'greenraft-client-'));
    const ids = ['n1', 'n2', 'n3'];
    const servers = ids.map((id) =>
      createServer({
        id,
        clusterId: 'example',
        dataDir: join(dataDir, id),
        clusterSecret: 'an example secret, 16 characters or more',
        peers: { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
        log: { level: 'error' },
      }),
    );
    const addresses = await Promise.all(servers.map((server) => server.listen()));
    for (const server of servers) server.setPeers(Object.fromEntries(ids.map((id, i) => [id, addresses[i]!])));
    await Promise.all(servers.map((server) => server.start()));

    // Any node will do: the client moves to the leader, and retries while one is being elected.
    const client = createClient({ endpoints: addresses.map((address) => address.clientUrl) });
    await client.put('meter-7', '12.5');
    const { swapped } = await client.cas('meter-7', '12.5', '13.0');
    const { value } = await client.get('meter-7'); // linearizable by default
    console.log(swapped, value);

    try {
      await client.put('meter-8', '4.2', { timeoutMs: 2000, signal: AbortSignal.timeout(5000) });
    } catch (err) {
      // A timeout or abort after the write was sent: it may have been applied. Retrying with the same
      // idempotency key (idempotencyKeyOf(err)) applies it at most once.
      if (isOutcomeUnknown(err)) console.log('outcome unknown');
      else throw err;
    }
    console.log((await client.status()).config.voters);

    await client.close();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([[true, '13.0'], [{ n1: 1, n2: 1, n3: 1 }]]);
});
