// Client API throughput and latency on a 3-node cluster in this process (loopback, WAL on the
// temporary directory's disk): HTTP writes through the leader and through a follower (forwarded),
// pipelined WebSocket writes, and reads at each consistency level. Run after building:
//   npx turbo run build --filter=@greenraft/server... && node packages/server/bench/api.mjs [--ops N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '@greenraft/server';
import WebSocket from 'ws';

const opsFlag = process.argv.indexOf('--ops');
const OPS = opsFlag > 0 ? Number(process.argv[opsFlag + 1]) : 2000;
const dir = mkdtempSync(join(tmpdir(), 'greenraft-bench-'));
const ids = ['n1', 'n2', 'n3'];
const servers = ids.map((id) =>
  createServer({
    id,
    clusterId: 'bench',
    dataDir: join(dir, id),
    clusterSecret: 'a benchmark cluster secret',
    peers: { [id]: { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' } },
    raft: { tickMs: 20, electionTicks: 20, heartbeatTicks: 2 },
    log: { level: 'silent' },
  }),
);
const addresses = await Promise.all(servers.map((server) => server.listen()));
for (const server of servers) server.setPeers(Object.fromEntries(ids.map((id, i) => [id, addresses[i]])));
await Promise.all(servers.map((server) => server.start()));
let leader;
while (!(leader = servers.find((server) => server.status().role === 'leader' && servers.every((s) => s.status().leader === server.id)))) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const follower = servers.find((server) => server !== leader);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `op(i)` OPS times with `concurrency` in flight; reports ops/s and latency percentiles. */
async function measure(name, concurrency, op) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < OPS; i = next++) {
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(44)} ${String(concurrency).padStart(4)} ${(OPS / seconds).toFixed(0).padStart(8)} ops/s   p50 ${percentile(latencies, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(latencies, 99).toFixed(2).padStart(7)} ms`,
  );
}

async function http(url, init) {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
}

const value = 'x'.repeat(128);
const leaderUrl = leader.addresses.clientUrl;
const followerUrl = follower.addresses.clientUrl;
console.log(`3 nodes in one process, ${OPS} operations each, 128-byte values (preliminary: a shared machine)`);
console.log(`${'operation'.padEnd(44)} conc     rate`);
await measure('HTTP PUT via the leader', 1, (i) => http(`${leaderUrl}/v1/kv/a${i}`, { method: 'PUT', body: value }));
await measure('HTTP PUT via the leader', 32, (i) => http(`${leaderUrl}/v1/kv/b${i}`, { method: 'PUT', body: value }));
await measure('HTTP PUT via a follower (forwarded)', 32, (i) => http(`${followerUrl}/v1/kv/c${i}`, { method: 'PUT', body: value }));
await measure('HTTP PUT with Idempotency-Key, via the leader', 32, (i) =>
  http(`${leaderUrl}/v1/kv/d${i}`, { method: 'PUT', body: value, headers: { 'idempotency-key': `k${i}`, 'client-id': 'bench' } }),
);
await measure('HTTP GET linearizable on a follower', 32, (i) => http(`${followerUrl}/v1/kv/b${i}`));
await measure('HTTP GET lease on the leader', 32, (i) => http(`${leaderUrl}/v1/kv/b${i}?consistency=lease`));
await measure('HTTP GET stale on a follower', 32, (i) => http(`${followerUrl}/v1/kv/b${i}?consistency=stale`));

// WebSocket: one connection, requests pipelined.
const socket = new WebSocket(`${leaderUrl.replace('http', 'ws')}/v1/ws`, { perMessageDeflate: false });
await new Promise((resolve) => socket.once('open', resolve));
const pending = new Map();
socket.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  pending.get(frame.id)?.(frame);
  pending.delete(frame.id);
});
let id = 0;
const request = (fields) =>
  new Promise((resolve) => {
    const frameId = ++id;
    pending.set(frameId, resolve);
    socket.send(JSON.stringify({ id: frameId, ...fields }));
  });
await request({ op: 'hello', clientId: 'bench' });
await measure('WebSocket put, one connection, pipelined', 256, (i) => request({ op: 'put', key: `w${i}`, value }));
await measure('WebSocket get linearizable, pipelined', 256, (i) => request({ op: 'get', key: `w${i}` }));
socket.close();

await Promise.all(servers.map((server) => server.stop()));
rmSync(dir, { recursive: true, force: true });
