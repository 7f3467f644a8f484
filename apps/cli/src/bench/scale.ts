/**
 * The `scale` suite: how the cost of a commit grows with the cluster. Classic Raft on the memory
 * transport at 3, 5, 9, 15 and 30 nodes (real time, one process), then the engine's deterministic
 * core network (`coreNetwork` of `@greenraft/raft/testing`: every core in one thread, no I/O, no
 * timers) from 3 up to 100 nodes: ops/s, latency, and Raft messages sent per committed write. Rows
 * with 5 voters and the rest learners show what learners buy a large market: the same replication
 * with a 5-voter quorum.
 */
import { configuration } from '@greenraft/consensus';
import { coreNetwork } from '@greenraft/raft/testing';
import { type RaftSuiteInit, errorNote, nodeIds, wanted, writeLoad } from './memory.js';
import { startMemoryCluster } from './memory-cluster.js';
import { type BenchResult, machine, ratioTo, result, type SuiteReport } from './report.js';
import { LatencySamples } from './stats.js';
import { payloadPool } from './workload.js';

const MEMORY_SIZES = [3, 5, 9, 15, 30] as const;
const SIMULATOR_SIZES = [3, 5, 9, 15, 30, 100] as const;
const CONCURRENCIES = [1, 64] as const;
/** Voters of the learner rows: a quorum of 3 whatever the market's size. */
const LEARNER_VOTERS = 5;

interface Shape {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

function shape(nodes: number, withLearners: boolean): Shape {
  const ids = nodeIds(nodes);
  return withLearners ? { voters: ids.slice(0, LEARNER_VOTERS), learners: ids.slice(LEARNER_VOTERS) } : { voters: ids, learners: [] };
}

const label = (nodes: number, { learners }: Shape) => (learners.length === 0 ? `${nodes} voters` : `${LEARNER_VOTERS} voters + ${learners.length} learners`);

async function memoryRows(init: RaftSuiteInit): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const shapes: [number, Shape][] = [...MEMORY_SIZES.map((n): [number, Shape] => [n, shape(n, false)]), [30, shape(30, true)]];
  const { applyPerSec, memoryRttMs } = init.limits;
  for (const [nodes, { voters, learners }] of shapes) {
    const name = (concurrency: number) => `memory transport, ${label(nodes, { voters, learners })}, c${concurrency}`;
    const concurrencies = CONCURRENCIES.filter((concurrency) => wanted(init, name(concurrency)));
    if (concurrencies.length === 0) continue;
    const cluster = await startMemoryCluster({ voters, learners, policy: 'classic' });
    try {
      const leader = await cluster.leader();
      for (const concurrency of concurrencies) {
        init.log(`scale: memory transport, ${label(nodes, { voters, learners })}, concurrency ${concurrency}`);
        const { loop, messages, cpuUsPerOp } = await writeLoad(cluster, leader, concurrency, init.seconds);
        const p50 = loop.latencies.quantile(0.5);
        rows.push(
          result({
            name: name(concurrency),
            nodes,
            policy: 'classic',
            concurrency,
            opsPerSec: loop.opsPerSec,
            p50Ms: p50,
            p99Ms: loop.latencies.quantile(0.99),
            messagesPerCommit: messages,
            ratio: {
              // As in the memory suite: a commit's floor is one memory-transport round trip to a quorum.
              latency: ratioTo(p50, memoryRttMs),
              latencyLimitMs: memoryRttMs,
              throughput: ratioTo(loop.opsPerSec, applyPerSec),
              throughputLimit: applyPerSec,
            },
            note: [`cpu ${cpuUsPerOp.toFixed(1)} µs/write`, errorNote(loop)].filter((part) => part !== undefined).join('; '),
          }),
        );
      }
    } finally {
      await cluster.stop();
    }
  }
  return rows;
}

/**
 * Rounds of `concurrency` proposals on the core network, each round stabilised (replicated,
 * committed and applied everywhere) before the next, for `seconds` of wall time.
 */
function simulate(nodes: number, { voters, learners }: Shape, concurrency: number, seconds: number) {
  const net = coreNetwork({ bootstrap: configuration(voters, learners), options: { electionTicks: 10, heartbeatTicks: 1 } });
  const leaderId = voters[0]!;
  net.core(leaderId).campaign();
  net.stabilize();
  const leader = net.core(leaderId);
  const pool = payloadPool();
  const rounds = new LatencySamples();
  let next = 0;
  let messages = 0;
  let committed = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  while (performance.now() < deadline) {
    const began = performance.now();
    for (let i = 0; i < concurrency; i++) leader.propose(pool[next++ % pool.length]!);
    messages += net.stabilize().length;
    // The network keeps every delivered message for tests; a long run must not.
    net.delivered.length = 0;
    rounds.add(performance.now() - began);
    committed += concurrency;
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const applied = net.record(voters[voters.length - 1]!).applied.length;
  if (applied !== committed) throw new Error(`the core network applied ${applied} of ${committed} writes on ${nodes} nodes`);
  return { opsPerSec: committed / elapsed, rounds, messagesPerCommit: messages / committed, cpuUsPerOp: (cpu.user + cpu.system) / committed };
}

function simulatorRows(init: RaftSuiteInit): BenchResult[] {
  const rows: BenchResult[] = [];
  const shapes: [number, Shape][] = [...SIMULATOR_SIZES.map((n): [number, Shape] => [n, shape(n, false)]), [30, shape(30, true)], [100, shape(100, true)]];
  const { applyPerSec } = init.limits;
  for (const [nodes, nodeShape] of shapes) {
    for (const concurrency of CONCURRENCIES) {
      const name = `core network, ${label(nodes, nodeShape)}, c${concurrency}`;
      if (!wanted(init, name)) continue;
      init.log(`scale: core network, ${label(nodes, nodeShape)}, concurrency ${concurrency}`);
      const run = simulate(nodes, nodeShape, concurrency, Math.max(0.2, init.seconds / 2));
      const p50 = run.rounds.quantile(0.5);
      // No transport, no disk, no timers: the only work a round cannot skip is applying its writes once.
      const roundLimitMs = applyPerSec === undefined ? undefined : (1000 * concurrency) / applyPerSec;
      rows.push(
        result({
          name,
          nodes,
          policy: 'classic',
          concurrency,
          opsPerSec: run.opsPerSec,
          p50Ms: p50,
          p99Ms: run.rounds.quantile(0.99),
          messagesPerCommit: run.messagesPerCommit,
          ratio: {
            latency: ratioTo(p50, roundLimitMs),
            latencyLimitMs: roundLimitMs,
            throughput: ratioTo(run.opsPerSec, applyPerSec),
            throughputLimit: applyPerSec,
          },
          note: `one thread, no I/O: cpu ${run.cpuUsPerOp.toFixed(1)} µs/write; latency = wall time of a round`,
        }),
      );
    }
  }
  return rows;
}

/** Runs the `scale` suite. */
export async function scaleSuite(init: RaftSuiteInit): Promise<SuiteReport> {
  const rows = [...(await memoryRows(init)), ...simulatorRows(init)];
  return { suite: 'scale', machine: machine(), results: rows };
}
