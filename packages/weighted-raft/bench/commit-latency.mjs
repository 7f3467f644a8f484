// Commit latency at concurrency 1 on a 3-node in-process cluster (memory transport, memory
// storage, real timers): one proposal at a time, each awaited until applied on the leader.
// Classic RaftNode and the weighted node, on zero-latency links (delivered on the next turn of the
// event loop) and, for comparison, on 1 ms links (what a zero-latency hop cost when it went
// through setTimeout), and without the transport's structuredClone of every message. Prints wall time per commit (mean, p50, p99) and the process's CPU time per
// commit, which a machine loaded by other work inflates far less. Prints figures; asserts nothing.
// Run: npx turbo run build --filter=@greenraft/weighted-raft --filter=@greenraft/transport-memory --output-logs=errors-only
//      node packages/weighted-raft/bench/commit-latency.mjs [--commits 2000]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { memoryNetwork } from '@greenraft/transport-memory';
import { configuration, createRaftNode, createWeightedRaftNode, memoryStorage } from '../dist/index.js';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '2000' } } });
const COMMITS = Number(values.commits);
const WARM_UP = 200;
const IDS = ['n1', 'n2', 'n3'];

const ledger = () => ({ apply: ({ data }) => data.byteLength, snapshot: () => new Uint8Array(), restore() {} });

async function leaderOf(nodes) {
  for (;;) {
    const leader = nodes.find((node) => node.status().role === 'leader');
    if (leader !== undefined) return leader;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function measure(label, kind, latency, clone = true) {
  const network = memoryNetwork({ clone, ...(latency === 0 ? {} : { defaultLink: { latency } }) });
  const nodes = IDS.map((id, i) => {
    const common = { id, transport: network.transport(id), storage: memoryStorage(), stateMachine: ledger(), seed: i + 1 };
    return kind === 'weighted'
      ? createWeightedRaftNode({ ...common, weights: { n1: 3, n2: 2, n3: 2 }, epoch: 0 })
      : createRaftNode({ ...common, bootstrap: configuration(IDS) });
  });
  await Promise.all(nodes.map((node) => node.start()));
  const leader = await leaderOf(nodes);
  const data = new TextEncoder().encode('meter-7: 12.5 kWh');
  for (let i = 0; i < WARM_UP; i++) await leader.propose(data);
  const samples = new Float64Array(COMMITS);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const t0 = performance.now();
    await leader.propose(data);
    samples[i] = performance.now() - t0;
  }
  const elapsed = performance.now() - started;
  // CPU time is the process's own work: on a machine busy with other work it stays put while wall time grows.
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  await Promise.all(nodes.map((node) => node.stop()));
  network.close();
  samples.sort();
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  console.log(
    `${label.padEnd(38)} ${(elapsed / COMMITS).toFixed(3).padStart(7)} ms/commit  ${Math.round((COMMITS * 1000) / elapsed)
      .toLocaleString('en')
      .padStart(7)} commits/s  p50 ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  cpu ${(cpuMs / COMMITS).toFixed(3)} ms/commit`,
  );
}

console.log(`${COMMITS} commits at concurrency 1, 3 nodes in one process (after ${WARM_UP} to warm up)`);
await measure('classic RaftNode, zero-latency links', 'classic', 0);
await measure('weighted node, zero-latency links', 'weighted', 0);
await measure('classic RaftNode, zero latency, no clone', 'classic', 0, false);
await measure('classic RaftNode, 1 ms links', 'classic', 1);
await measure('weighted node, 1 ms links', 'weighted', 1);
