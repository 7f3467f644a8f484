/**
 * The `cluster` suite: 3 node processes (`greenraft node`, `@greenraft/server`) on loopback over
 * WebSocket with WAL storage, written by `greenraft cluster init`'s own code into the data
 * directory; closed-loop clients through `@greenraft/client` in a separate process at concurrency
 * 1, 64 and 1024: 128-byte writes (ops/s, p50/p99, fsyncs/s and peer bytes per write from the
 * nodes' /metrics, peak RSS per node), then linearizable reads by ReadIndex and by lease at the
 * same concurrencies.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimeoutError } from '@greenraft/consensus';
import { type ClusterNode, initCluster } from '../commands/cluster.js';
import { NodeProcess } from '../node-process.js';
import { type ClientLoadResult, startClientProcess } from './cluster-client.js';
import type { RaftSuiteInit } from './memory.js';
import { type BenchResult, machine, result, type SuiteReport } from './report.js';

const NODES = 3;
const CONCURRENCIES = [1, 64, 1024] as const;
const START_PATIENCE_MS = 60_000;

/** A node of the suite: its place in the cluster and its process. */
interface RunningNode {
  readonly node: ClusterNode;
  readonly child: NodeProcess;
}

/** The sum of every sample of the metric `name` (over its label sets) in a Prometheus text page. */
export function metricSum(page: string, name: string): number {
  let sum = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  return response.text();
}

/** The counters a load's figures come from, summed over the nodes. */
interface Counters {
  readonly at: number;
  readonly fsyncs: number;
  /** Seconds the nodes spent in fsync, by the WAL's own timing. */
  readonly fsyncSeconds: number;
  readonly peerBytes: number;
  /** Entries the first node applied. */
  readonly applied: number;
}

async function counters(nodes: readonly RunningNode[]): Promise<Counters> {
  const pages = await Promise.all(nodes.map((node) => scrape(node.node.http)));
  return {
    at: performance.now(),
    fsyncs: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_disk_wal_fsync_duration_seconds_count'), 0),
    fsyncSeconds: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_disk_wal_fsync_duration_seconds_sum'), 0),
    peerBytes: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_network_peer_sent_bytes_total'), 0),
    applied: metricSum(pages[0]!, 'greenraft_server_proposals_applied_total'),
  };
}

/** The peak resident set size of a process, in MB (Linux: VmHWM), or undefined where it cannot be read. */
function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Runs the `cluster` suite. */
export async function clusterSuite(init: RaftSuiteInit & { readonly dataDir: string }): Promise<SuiteReport> {
  const dir = mkdtempSync(join(init.dataDir, 'greenraft-bench-cluster-'));
  let running: RunningNode[] = [];
  let client: Awaited<ReturnType<typeof startClientProcess>> | undefined;
  try {
    const nodes = await initCluster({ nodes: NODES, dir, weighted: false, stateMachine: 'kv', basePort: undefined });
    for (const node of nodes) {
      // Warnings only: the logs of a node are not what the suite measures.
      const config = JSON.parse(readFileSync(node.config, 'utf8')) as Record<string, unknown>;
      writeFileSync(node.config, `${JSON.stringify({ ...config, log: { level: 'warn', format: 'json' } }, null, 2)}\n`);
    }
    init.log(`cluster: starting ${NODES} node processes in ${dir}`);
    running = nodes.map((node) => ({ node, child: new NodeProcess({ id: node.id, config: node.config, log: join(dir, `${node.id}.log`), startPatienceMs: START_PATIENCE_MS }) }));
    await Promise.all(running.map(({ child }) => child.start()));
    // Running is not ready: each node must also know a leader (`/readyz`).
    const deadline = performance.now() + START_PATIENCE_MS;
    for (const { node, child } of running) {
      while (!(await ready(node.http))) {
        if (child.state === 'down') throw new Error(`node ${node.id} exited while starting (log: ${child.log})`);
        if (performance.now() > deadline) throw new TimeoutError(`node ${node.id} was not ready within ${START_PATIENCE_MS} ms (log: ${child.log})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    client = await startClientProcess();
    const endpoints = nodes.map((node) => node.http);
    const warmUpSeconds = Math.min(1, Math.max(0.2, init.seconds / 4));
    const { wsRttMs, fsyncMs, groupedWritesPerSec } = init.limits;
    const latencyLimitMs = wsRttMs === undefined || fsyncMs === undefined ? undefined : 2 * wsRttMs + fsyncMs;
    const rows: BenchResult[] = [];
    const writes = new Map<number, number>();
    for (const concurrency of CONCURRENCIES) {
      init.log(`cluster: writes, concurrency ${concurrency}`);
      const before = await counters(running);
      const measured = await client.run({ endpoints, operation: 'put', concurrency, seconds: init.seconds, warmUpSeconds });
      const after = await counters(running);
      const elapsed = (after.at - before.at) / 1000;
      const applied = Math.max(1, after.applied - before.applied);
      writes.set(concurrency, measured.opsPerSec);
      rows.push(
        result({
          name: `cluster ${NODES} nodes writes c${concurrency}`,
          nodes: NODES,
          policy: 'classic',
          concurrency,
          opsPerSec: measured.opsPerSec,
          p50Ms: measured.p50Ms,
          p99Ms: measured.p99Ms,
          p999Ms: measured.p999Ms,
          fsyncsPerSec: (after.fsyncs - before.fsyncs) / elapsed,
          bytesPerOp: (after.peerBytes - before.peerBytes) / applied,
          peakRssMb: Math.max(...running.map((node) => peakRssMb(node.child.pid) ?? 0)),
          ratio: {
            latency: latencyLimitMs === undefined ? undefined : measured.p50Ms / latencyLimitMs,
            latencyLimitMs,
            throughput: groupedWritesPerSec === undefined ? undefined : measured.opsPerSec / groupedWritesPerSec,
            throughputLimit: groupedWritesPerSec,
          },
          note: `${describe(measured)}; fsync mean ${fsyncMeanMs(before, after)} ms (the WAL's timing)`,
        }),
      );
    }
    for (const consistency of ['linearizable', 'lease'] as const) {
      for (const concurrency of CONCURRENCIES) {
        init.log(`cluster: ${consistency} reads, concurrency ${concurrency}`);
        const measured = await client.run({ endpoints, operation: consistency, concurrency, seconds: init.seconds, warmUpSeconds });
        const written = writes.get(concurrency);
        rows.push(
          result({
            name: `cluster ${NODES} nodes ${consistency === 'linearizable' ? 'ReadIndex' : 'lease'} reads c${concurrency}`,
            nodes: NODES,
            policy: 'classic',
            concurrency,
            opsPerSec: measured.opsPerSec,
            p50Ms: measured.p50Ms,
            p99Ms: measured.p99Ms,
            p999Ms: measured.p999Ms,
            peakRssMb: Math.max(...running.map((node) => peakRssMb(node.child.pid) ?? 0)),
            ratio: {
              // A read needs the client round trip and a heartbeat round (ReadIndex), or only the first (lease).
              latency: wsRttMs === undefined ? undefined : measured.p50Ms / (consistency === 'linearizable' ? 2 * wsRttMs : wsRttMs),
              latencyLimitMs: wsRttMs === undefined ? undefined : consistency === 'linearizable' ? 2 * wsRttMs : wsRttMs,
              readsToWrites: written === undefined ? undefined : measured.opsPerSec / written,
            },
            note: describe(measured),
          }),
        );
      }
    }
    const dead = running.filter(({ child }) => child.state === 'down');
    if (dead.length > 0) throw new Error(`node ${dead.map(({ node }) => node.id).join(', ')} exited during the suite (log: ${dead[0]!.child.log})`);
    return { suite: 'cluster', machine: machine(), results: rows };
  } finally {
    await client?.stop();
    await Promise.all(running.map(({ child }) => child.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The mean fsync time between two scrapes, in ms, as text. */
function fsyncMeanMs(before: Counters, after: Counters): string {
  const count = after.fsyncs - before.fsyncs;
  return count <= 0 ? '-' : ((1000 * (after.fsyncSeconds - before.fsyncSeconds)) / count).toFixed(2);
}

function describe(measured: ClientLoadResult): string {
  const parts = [`${measured.connections} client connection${measured.connections === 1 ? '' : 's'}`];
  if (measured.errors > 0) parts.push(`${measured.errors} failed (${(measured.firstError ?? '').slice(0, 80)})`);
  return parts.join('; ');
}
