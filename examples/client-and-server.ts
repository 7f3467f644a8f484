/**
 * Three `@greenraft/server` nodes (classic Raft, the key-value state machine) on loopback in one
 * process, and an application talking to them through `@greenraft/client`: a write, a
 * linearizable read, a compare-and-swap, a write retried with its idempotency key (applied once,
 * answered with its first result), and the cluster's status. A real deployment runs one
 * `greenraft node --config FILE` per host; the client needs only their client URLs.
 *
 *   npm install @greenraft/server @greenraft/client
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@greenraft/client';
import { createServer } from '@greenraft/server';

const ids = ['n1', 'n2', 'n3'];
const dataDir = mkdtempSync(join(tmpdir(), 'greenraft-kv-'));
// The cluster secret: the same on every node (in production, from `clusterSecretFile`).
const clusterSecret = randomBytes(32).toString('base64url');
const servers = ids.map((id) =>
  createServer({
    id,
    clusterId: 'grid-east',
    dataDir: join(dataDir, id),
    clusterSecret,
    // Port 0 lets the OS pick; the real addresses are handed round with setPeers below.
    peers: { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
    log: { level: 'error' },
  }),
);

try {
  const addresses = await Promise.all(servers.map((server) => server.listen()));
  for (const server of servers) server.setPeers(Object.fromEntries(ids.map((id, i) => [id, addresses[i]!])));
  await Promise.all(servers.map((server) => server.start()));

  // Any node will do: the client follows the leader, and retries while one is being elected.
  const client = createClient({ endpoints: addresses.map((address) => address.clientUrl) });
  try {
    await client.put('meter-7', '12.5');
    const read = await client.get('meter-7'); // linearizable by default: a ReadIndex round
    console.log(`put meter-7 = 12.5, linearizable get: ${read.value}`);

    const swap = await client.cas('meter-7', '12.5', '13.0');
    const stale = await client.cas('meter-7', '12.5', '14.0'); // meter-7 no longer holds 12.5
    console.log(`cas 12.5 → 13.0: ${swap.swapped}; cas 12.5 → 14.0: ${stale.swapped}`);

    // A meter gateway that lost the answer sends the same write again with the same key: the
    // nodes apply it once and answer the retry with the first result. Without the key, the
    // second cas would find 13.6, not 13.0, and fail.
    const write = { idempotencyKey: 'gateway-3/meter-7/reading-42' };
    const sent = await client.cas('meter-7', '13.0', '13.6', write);
    const retried = await client.cas('meter-7', '13.0', '13.6', write);
    console.log(`retried cas: swapped ${retried.swapped}, applied once: ${retried.index === sent.index}`);
    console.log(`meter-7 = ${(await client.get('meter-7')).value}`);

    const status = await client.status();
    console.log(`${status.node} is ${status.role} in term ${status.term}, leader ${status.leader}, commit index ${status.commitIndex}`);
    console.log(status.config.voters);
  } finally {
    await client.close();
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(dataDir, { recursive: true, force: true });
}
