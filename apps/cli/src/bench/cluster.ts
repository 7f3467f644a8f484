/**
 * The `cluster` suite: 3 node processes (`greenraft node`, `@greenraft/server`) on loopback over
 * WebSocket with WAL storage, written by `greenraft cluster init`'s own code into the data
 * directory; closed-loop clients through `@greenraft/client` in a separate process at concurrency
 * 1, 64 and 1024: 128-byte writes (ops/s, p50/p99, fsyncs/s and peer bytes per write from the
 * nodes' /metrics), then linearizable reads by ReadIndex and by lease at the same concurrencies.
 * After every load, each node's peak RSS (VmHWM, a high-water mark: the load that raises it is the
 * one that pushed it); during every load, the leader's V8 heap, read from its /metrics every
 * 250 ms, since its peaks come and go between the scrapes before and after.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimeoutError } from '@greenraft/consensus';
import { type ClusterNode, initCluster } from '../commands/cluster.js';
import { NodeProcess } from '../node-process.js';
import { type ClientLoad, type ClientLoadResult, startClientProcess } from './cluster-client.js';
import { type RaftSuiteInit, wanted } from './memory.js';
import { type BenchResult, machine, ratioTo, result, type SuiteReport } from './report.js';

const NODES = 3;
const CONCURRENCIES = [1, 64, 1024] as const;
const START_PATIENCE_MS = 60_000;

/**
 * The profiler flags this process runs with (`node --cpu-prof`, `--heap-prof` and their options),
 * for the node processes: profiling the bench profiles its nodes alike (the client process, a
 * fork, inherits them anyway).
 */
export function profilingArgs(execArgv: readonly string[] = process.execArgv): string[] {
  return execArgv.filter((arg) => /^--(cpu|heap)-prof(-|=|$)/.test(arg));
}

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

/** The memory of one node process at a scrape, in MB. */
interface NodeMemory {
  /** VmHWM: the peak resident set size so far (Linux /proc). */
  readonly peakRssMb: number | undefined;
  /** The V8 heap the node holds (total) and uses, and the memory outside it (buffers), from its /metrics. */
  readonly heapTotalMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
}

/** The counters a load's figures come from, summed over the nodes, each node's memory, and the leader. */
interface Sample {
  readonly at: number;
  readonly fsyncs: number;
  /** Seconds the nodes spent in fsync, by the WAL's own timing. */
  readonly fsyncSeconds: number;
  readonly peerBytes: number;
  /** Entries the first node applied. */
  readonly applied: number;
  /** Each node's memory, by id. */
  readonly memory: ReadonlyMap<string, NodeMemory>;
  /** The node that said it leads, if one did. */
  readonly leader: string | undefined;
}

const MB = 1024 * 1024;

/** A node's memory from its /metrics page and its /proc entry. */
function memoryOf(page: string, pid: number | undefined): NodeMemory {
  return {
    peakRssMb: residentMb(pid),
    heapTotalMb: metricSum(page, 'nodejs_heap_size_total_bytes') / MB,
    heapUsedMb: metricSum(page, 'nodejs_heap_size_used_bytes') / MB,
    externalMb: metricSum(page, 'nodejs_external_memory_bytes') / MB,
  };
}

async function sample(nodes: readonly RunningNode[]): Promise<Sample> {
  const pages = await Promise.all(nodes.map((node) => scrape(node.node.http)));
  return {
    at: performance.now(),
    fsyncs: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_disk_wal_fsync_duration_seconds_count'), 0),
    fsyncSeconds: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_disk_wal_fsync_duration_seconds_sum'), 0),
    peerBytes: pages.reduce((sum, page) => sum + metricSum(page, 'greenraft_network_peer_sent_bytes_total'), 0),
    applied: metricSum(pages[0]!, 'greenraft_server_proposals_applied_total'),
    memory: new Map(nodes.map(({ node, child }, i) => [node.id, memoryOf(pages[i]!, child.pid)])),
    leader: nodes.find((_, i) => metricSum(pages[i]!, 'greenraft_server_is_leader') === 1)?.node.id,
  };
}

/** How often the suite reads the leader's memory while a load runs. */
const WATCH_MS = 250;

/** The range a node's V8 heap moved in during a load: what it used (garbage included) and what it held from the system. */
export interface HeapRange {
  readonly usedMinMb: number;
  readonly usedMaxMb: number;
  readonly totalMaxMb: number;
}

/**
 * Reads the heap of the node at `url` every `everyMs` until stopped: the peaks of a load come and
 * go between the scrapes before and after it (a full collection can free most of the heap). Stops
 * with the range its scrapes saw, or undefined if none answered.
 */
export function watchHeap(url: string, everyMs: number = WATCH_MS): { stop(): Promise<HeapRange | undefined> } {
  let range: HeapRange | undefined;
  let watching = true;
  const loop = (async () => {
    while (watching) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      if (!watching) return;
      let memory: NodeMemory;
      try {
        memory = memoryOf(await scrape(url), undefined);
      } catch {
        // A scrape that fails (a node too busy to answer in time) leaves a gap, not an error.
        continue;
      }
      range = {
        usedMinMb: Math.min(range?.usedMinMb ?? Number.POSITIVE_INFINITY, memory.heapUsedMb),
        usedMaxMb: Math.max(range?.usedMaxMb ?? 0, memory.heapUsedMb),
        totalMaxMb: Math.max(range?.totalMaxMb ?? 0, memory.heapTotalMb),
      };
    }
  })();
  return {
    async stop() {
      watching = false;
      await loop;
      return range;
    },
  };
}

/** A process's peak resident set so far in MB (Linux: VmHWM), or undefined where it cannot be read. */
export function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const peak = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return peak === null ? undefined : Number(peak[1]) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * The per-node memory fields of a row: each node's peak RSS, the largest of them, and a note of
 * what the load added and how the leader's heap moved; `heap` is what the watch of the leader
 * known before the load saw.
 */
function memoryFields(before: Sample, after: Sample, heap: HeapRange | undefined) {
  const byNode: Record<string, number> = {};
  for (const [id, memory] of after.memory) if (memory.peakRssMb !== undefined) byNode[id] = memory.peakRssMb;
  const peaks = Object.values(byNode);
  const grown = [...after.memory]
    .map(([id, memory]) => [id, (memory.peakRssMb ?? 0) - (before.memory.get(id)?.peakRssMb ?? 0)] as const)
    .filter(([, growth]) => growth >= 1)
    .map(([id, growth]) => `${id} +${growth.toFixed(0)}`);
  const parts = [`leader ${after.leader ?? 'unknown'}`, `peak RSS grew ${grown.length === 0 ? 'by < 1 MB' : `${grown.join(', ')} MB`}`];
  const leader = after.leader === undefined ? undefined : after.memory.get(after.leader);
  if (leader !== undefined) {
    // The scrapes before and after the load count too: the watch may have caught none in a short one.
    const seen = [before.memory.get(after.leader!), leader].filter((memory): memory is NodeMemory => memory !== undefined);
    // A leader elected during the load was not the one watched: only its two scrapes count.
    const range = before.leader === after.leader ? heap : undefined;
    const usedMin = Math.min(range?.usedMinMb ?? Number.POSITIVE_INFINITY, ...seen.map((memory) => memory.heapUsedMb));
    const usedMax = Math.max(range?.usedMaxMb ?? 0, ...seen.map((memory) => memory.heapUsedMb));
    const totalMax = Math.max(range?.totalMaxMb ?? 0, ...seen.map((memory) => memory.heapTotalMb));
    parts.push(`leader's V8 heap during the load ${usedMin.toFixed(0)}–${usedMax.toFixed(0)} MB in use, up to ${totalMax.toFixed(0)} MB held, external ${leader.externalMb.toFixed(0)} MB`);
  }
  return { peakRssMb: peaks.length === 0 ? undefined : Math.max(...peaks), peakRssMbByNode: byNode, memoryNote: parts.join('; ') };
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

/** One load of the suite: the row it makes. */
interface Load {
  readonly name: string;
  readonly operation: ClientLoad['operation'];
  readonly concurrency: number;
}

/** Every load of the suite, in the order it runs them: writes at each concurrency, then ReadIndex reads, then lease reads. */
function suiteLoads(): Load[] {
  const kinds = [
    ['put', 'writes'],
    ['linearizable', 'ReadIndex reads'],
    ['lease', 'lease reads'],
  ] as const;
  return kinds.flatMap(([operation, label]) => CONCURRENCIES.map((concurrency) => ({ name: `cluster ${NODES} nodes ${label} c${concurrency}`, operation, concurrency })));
}

/** Runs the `cluster` suite. */
export async function clusterSuite(init: RaftSuiteInit & { readonly dataDir: string }): Promise<SuiteReport> {
  const loads = suiteLoads().filter((load) => wanted(init, load.name));
  if (loads.length === 0) return { suite: 'cluster', machine: machine(), results: [] };
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
    const nodeArgs = profilingArgs();
    running = nodes.map((node) => ({ node, child: new NodeProcess({ id: node.id, config: node.config, log: join(dir, `${node.id}.log`), startPatienceMs: START_PATIENCE_MS, nodeArgs }) }));
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
    init.log(`cluster: pids ${running.map(({ node, child }) => `${node.id} ${child.pid}`).join(', ')}, client ${client.pid}`);
    const endpoints = nodes.map((node) => node.http);
    const warmUpSeconds = Math.min(1, Math.max(0.2, init.seconds / 4));
    const { wsRttMs, fsyncMs, groupedWritesPerSec, wsMessagesPerSec } = init.limits;
    const latencyLimitMs = wsRttMs === undefined || fsyncMs === undefined ? undefined : 2 * wsRttMs + fsyncMs;
    const rows: BenchResult[] = [];
    const writes = new Map<number, number>();
    for (const load of loads) {
      const { operation, concurrency, name } = load;
      init.log(`cluster: ${operation === 'put' ? 'writes' : `${operation} reads`}, concurrency ${concurrency}`);
      const before = await sample(running);
      // Only the leader's heap goes into the row: the watch scrapes it alone, not every node.
      const leaderUrl = running.find(({ node }) => node.id === before.leader)?.node.http;
      const watch = leaderUrl === undefined ? undefined : watchHeap(leaderUrl);
      let measured: ClientLoadResult;
      let heap: HeapRange | undefined;
      try {
        measured = await client.run({ endpoints, operation, concurrency, seconds: init.seconds, warmUpSeconds });
      } finally {
        heap = await watch?.stop();
      }
      const after = await sample(running);
      const { memoryNote, ...memory } = memoryFields(before, after, heap);
      const common = {
        name,
        nodes: NODES,
        policy: 'classic' as const,
        concurrency,
        opsPerSec: measured.opsPerSec,
        p50Ms: measured.p50Ms,
        p99Ms: measured.p99Ms,
        p999Ms: measured.p999Ms,
        ...memory,
      };
      if (operation === 'put') {
        const elapsed = (after.at - before.at) / 1000;
        const applied = Math.max(1, after.applied - before.applied);
        writes.set(concurrency, measured.opsPerSec);
        rows.push(
          result({
            ...common,
            fsyncsPerSec: (after.fsyncs - before.fsyncs) / elapsed,
            bytesPerOp: (after.peerBytes - before.peerBytes) / applied,
            ratio: {
              latency: ratioTo(measured.p50Ms, latencyLimitMs),
              latencyLimitMs,
              throughput: ratioTo(measured.opsPerSec, groupedWritesPerSec),
              throughputLimit: groupedWritesPerSec,
            },
            note: `${describe(measured)}; fsync mean ${fsyncMeanMs(before, after)} ms (the WAL's timing); ${memoryNote}`,
          }),
        );
        continue;
      }
      // A read needs the client round trip and a heartbeat round (ReadIndex), or only the first (lease).
      const readLimitMs = wsRttMs === undefined ? undefined : operation === 'linearizable' ? 2 * wsRttMs : wsRttMs;
      const written = writes.get(concurrency);
      rows.push(
        result({
          ...common,
          ratio: {
            latency: ratioTo(measured.p50Ms, readLimitMs),
            latencyLimitMs: readLimitMs,
            // A read is one request and one answer on a client connection: the raw ws message rate bounds it.
            throughput: ratioTo(measured.opsPerSec, wsMessagesPerSec),
            throughputLimit: wsMessagesPerSec,
            readsToWrites: ratioTo(measured.opsPerSec, written),
          },
          note: `${describe(measured)}; ${memoryNote}`,
        }),
      );
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
function fsyncMeanMs(before: Sample, after: Sample): string {
  const count = after.fsyncs - before.fsyncs;
  return count <= 0 ? '-' : ((1000 * (after.fsyncSeconds - before.fsyncSeconds)) / count).toFixed(2);
}

function describe(measured: ClientLoadResult): string {
  const parts = [`${measured.connections} client connection${measured.connections === 1 ? '' : 's'}`];
  if (measured.errors > 0) parts.push(`${measured.errors} failed (${(measured.firstError ?? '').slice(0, 80)})`);
  return parts.join('; ');
}
