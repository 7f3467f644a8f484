// What pipelining on one connection buys: puts and linearizable gets through @greenraft/client
// against a 3-node @greenraft/server cluster in this process (WAL storage, WebSocket peers,
// loopback), one request at a time versus many in flight on the same connection.
//  - sequential: N calls, each awaited before the next (round-trip latency p50/p99, ops/s);
//  - pipelined: N calls with W in flight (ops/s; the nodes batch the entries behind one fsync).
// The nodes share this process and its 2 cores with the client, so the figures are a floor.
// Run: npx turbo run build --filter=@greenraft/client --filter=@greenraft/server --output-logs=errors-only
//      node packages/client/bench/pipeline.mjs [--ops 2000] [--window 256]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient } from '@greenraft/client';
import { createServer } from '@greenraft/server';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '2000' }, window: { type: 'string', default: '256' } } });
const ops = Number(values.ops);
const window = Number(values.window);

const dir = mkdtempSync(join(tmpdir(), 'greenraft-client-bench-'));
const ids = ['n1', 'n2', 'n3'];
const servers = ids.map((id) =>
  createServer({
    id,
    clusterId: 'bench',
    dataDir: join(dir, id),
    clusterSecret: 'a benchmark cluster secret',
    peers: { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
    log: { level: 'error' },
    shutdown: { transferTimeoutMs: 500, drainTimeoutMs: 500 },
  }),
);
const addresses = await Promise.all(servers.map((server) => server.listen()));
for (const server of servers) server.setPeers(Object.fromEntries(ids.map((id, i) => [id, addresses[i]])));
await Promise.all(servers.map((server) => server.start()));
const client = createClient({ endpoints: addresses.map((address) => address.clientUrl), maxInFlight: Math.max(window, 1) });
await client.put('warm-up', 'x');

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function sequential(name, call) {
  const latencies = [];
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const t = performance.now();
    await call(i);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(`${name.padEnd(30)} ${String(Math.round(ops / seconds)).padStart(7)} ops/s   p50 ${percentile(latencies, 0.5).toFixed(2)} ms   p99 ${percentile(latencies, 0.99).toFixed(2)} ms`);
}

async function pipelined(name, call) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < ops) await call(next++);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(`${name.padEnd(30)} ${String(Math.round(ops / seconds)).padStart(7)} ops/s   (${window} in flight on ${client.stats().connections} connection)`);
}

try {
  console.log(`@greenraft/client against 3 in-process nodes, ${ops} calls each (preliminary: shared machine)`);
  await sequential('put, one at a time', (i) => client.put(`seq-${i}`, 'v'));
  await pipelined('put, pipelined', (i) => client.put(`pipe-${i}`, 'v'));
  await sequential('get linearizable, one at a time', (i) => client.get(`seq-${i}`));
  await pipelined('get linearizable, pipelined', (i) => client.get(`pipe-${i}`));
  await pipelined('get stale, pipelined', (i) => client.get(`pipe-${i}`, { consistency: 'stale' }));
} finally {
  await client.close();
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
}
