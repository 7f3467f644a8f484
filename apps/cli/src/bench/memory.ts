/**
 * The `memory` suite: an in-process cluster on the memory transport with memory storage, 3 and 5
 * nodes, classic and weighted (equal weights, equal latencies), closed-loop clients proposing
 * 128-byte writes to the leader at each concurrency: ops/s, p50/p99/p999 commit latency (propose
 * until applied on the leader), and the process's CPU time per write.
 */
import type { ConsensusNode } from '@greenraft/consensus';
import type { Limits } from './limits.js';
import { type MemoryCluster, startMemoryCluster } from './memory-cluster.js';
import { type BenchResult, machine, ratioTo, result, type SuiteReport } from './report.js';
import { type ClosedLoopResult, closedLoop, LatencySamples } from './stats.js';
import { payloadPool } from './workload.js';

/** What every Raft suite is given. */
export interface RaftSuiteInit {
  /** Seconds of each measured window. */
  readonly seconds: number;
  /** Limits measured in this run, for the ratios. */
  readonly limits: Limits;
  /** Progress lines (on stderr). */
  readonly log: (line: string) => void;
  /** Measure only the rows whose name contains this text (to profile one configuration). @default every row */
  readonly only?: string;
}

/** Whether the suite measures the row `name`: every row, unless `--only` names some. */
export function wanted(init: Pick<RaftSuiteInit, 'only'>, name: string): boolean {
  return init.only === undefined || name.includes(init.only);
}

/** Concurrencies of the `memory` suite. */
export const MEMORY_CONCURRENCIES = [1, 64, 1024] as const;
const MEMORY_SIZES = [3, 5] as const;
const POLICIES = ['classic', 'weighted'] as const;
type Policy = (typeof POLICIES)[number];

/** Node ids `n1` … `nN`. */
export function nodeIds(count: number, prefix = 'n'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** What one closed-loop run on a leader measured, with the CPU time it cost. */
export interface WriteLoad {
  readonly loop: ClosedLoopResult;
  readonly cpuUsPerOp: number;
  readonly messages: number;
}

/** Closed-loop 128-byte writes to `leader` at `concurrency` for `seconds` (after a short warm-up). */
export async function writeLoad(cluster: MemoryCluster, leader: ConsensusNode<number>, concurrency: number, seconds: number): Promise<WriteLoad> {
  const pool = payloadPool();
  let next = 0;
  const warmUpSeconds = Math.min(0.5, Math.max(0.1, seconds / 4));
  const cpuBefore = process.cpuUsage();
  const sentBefore = cluster.messagesSent();
  const loop = await closedLoop({
    concurrency,
    seconds,
    warmUpSeconds,
    operation: () => leader.propose(pool[next++ % pool.length]!),
  });
  const cpu = process.cpuUsage(cpuBefore);
  // CPU and messages cover the warm-up too; scaled to the whole run's operations they stay per-op figures.
  const total = Math.max(1, loop.ops * ((seconds + warmUpSeconds) / seconds));
  return { loop, cpuUsPerOp: (cpu.user + cpu.system) / total, messages: (cluster.messagesSent() - sentBefore) / total };
}

/** A note on what failed during a run, if anything did. */
export function errorNote(loop: ClosedLoopResult): string | undefined {
  if (loop.errors === 0) return undefined;
  const first = loop.firstError instanceof Error ? `${loop.firstError.name}: ${loop.firstError.message}` : String(loop.firstError);
  return `${loop.errors} failed (${first.slice(0, 80)})`;
}

/** Slices each measurement is cut into, alternating between the policies, so a busy moment of the machine falls on both alike. */
const ROUNDS = 4;

/** Runs the `memory` suite. */
export async function memorySuite(init: RaftSuiteInit): Promise<SuiteReport> {
  const rows: BenchResult[] = [];
  for (const nodes of MEMORY_SIZES) {
    const name = (policy: Policy, concurrency: number) => `memory ${nodes} nodes ${policy} c${concurrency}`;
    const policies = POLICIES.filter((policy) => MEMORY_CONCURRENCIES.some((concurrency) => wanted(init, name(policy, concurrency))));
    if (policies.length === 0) continue;
    // Both clusters run side by side (an idle one only ticks); each concurrency alternates between them.
    const clusters = new Map<Policy, MemoryCluster>();
    try {
      for (const policy of policies) clusters.set(policy, await startMemoryCluster({ voters: nodeIds(nodes), policy }));
      const leaders = new Map<Policy, ConsensusNode<number>>();
      for (const [policy, cluster] of clusters) leaders.set(policy, await cluster.leader());
      for (const concurrency of MEMORY_CONCURRENCIES) {
        const measured = policies.filter((policy) => wanted(init, name(policy, concurrency)));
        if (measured.length === 0) continue;
        init.log(`memory: ${nodes} nodes, ${measured.join(' and ')}${measured.length > 1 ? ' in turn' : ''}, concurrency ${concurrency}`);
        const pooled = new Map(measured.map((policy) => [policy, emptyPool()]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const policy of measured) {
            const load = await writeLoad(clusters.get(policy)!, leaders.get(policy)!, concurrency, init.seconds / ROUNDS);
            addToPool(pooled.get(policy)!, load);
          }
        }
        const classic = pooled.get('classic');
        const classicOps = classic === undefined ? undefined : classic.ops / classic.seconds;
        for (const policy of measured) {
          const pool = pooled.get(policy)!;
          const opsPerSec = pool.ops / pool.seconds;
          const p50 = pool.latencies.quantile(0.5);
          rows.push(
            result({
              name: name(policy, concurrency),
              nodes,
              policy,
              concurrency,
              opsPerSec,
              p50Ms: p50,
              p99Ms: pool.latencies.quantile(0.99),
              p999Ms: pool.latencies.quantile(0.999),
              ratio: {
                latency: ratioTo(p50, init.limits.memoryRttMs),
                latencyLimitMs: init.limits.memoryRttMs,
                throughput: ratioTo(opsPerSec, init.limits.applyPerSec),
                throughputLimit: init.limits.applyPerSec,
                weightedToClassic: policy === 'weighted' ? ratioTo(opsPerSec, classicOps) : undefined,
              },
              note: [`cpu ${(pool.cpuUs / Math.max(1, pool.ops)).toFixed(1)} µs/write`, ...pool.errors].join('; '),
            }),
          );
        }
      }
    } finally {
      for (const cluster of clusters.values()) await cluster.stop();
    }
  }
  return { suite: 'memory', machine: machine(), results: rows };
}

/** Loads of one configuration, pooled over the rounds. */
interface Pool {
  ops: number;
  seconds: number;
  cpuUs: number;
  readonly latencies: LatencySamples;
  readonly errors: string[];
}

const emptyPool = (): Pool => ({ ops: 0, seconds: 0, cpuUs: 0, latencies: new LatencySamples(), errors: [] });

function addToPool(pool: Pool, load: WriteLoad): void {
  pool.ops += load.loop.ops;
  pool.seconds += load.loop.seconds;
  pool.cpuUs += load.cpuUsPerOp * load.loop.ops;
  pool.latencies.addAll(load.loop.latencies);
  const note = errorNote(load.loop);
  if (note !== undefined) pool.errors.push(note);
}
