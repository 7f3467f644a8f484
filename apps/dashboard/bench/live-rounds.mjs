// Trading rounds on a real cluster of processes, as npm start runs them: `greenraft cluster
// --nodes N --weighted --state-machine market` of the built CLI, then ROUNDS rounds back to back
// through its control API (each round: one contract per generator, offered and accepted, metered
// by both parties, carbon accounts and a settlement; every transaction signed by its own node).
// Prints the time per round (p50, p95, max), the transactions per second that makes, and how long
// the page's reads take once the ledger has grown (head, nodes and the last 20 blocks).
//
//   node apps/dashboard/bench/live-rounds.mjs [ROUNDS=30] [NODES=5]     (after npx turbo run build --filter=@greenraft/cli)
import { hasBuiltCli, startCliCluster } from '../scripts/cli-cluster.mjs';

const rounds = Number(process.argv[2] ?? 30);
const nodes = Number(process.argv[3] ?? 5);
if (!hasBuiltCli()) {
  console.error('live-rounds: build the CLI first (npx turbo run build --filter=@greenraft/cli)');
  process.exit(1);
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const cluster = await startCliCluster(['cluster', '--nodes', String(nodes), '--weighted', '--state-machine', 'market']);
try {
  const url = new URL(cluster.started.dashboard);
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  const control = async (name, body) => {
    const response = await fetch(`${url.origin}/v1/control/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const answer = await response.json();
    if (!response.ok) throw new Error(`${name}: ${answer.error?.message}`);
    return answer.result;
  };
  // The first round registers the participants and waits for a leader: not counted.
  await control('runRound');
  const times = [];
  let transactions = 0;
  const generators = Math.max(1, nodes - Math.max(1, Math.floor((2 * nodes) / 5)));
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const result = await control('runRound');
    times.push(performance.now() - started);
    // Per contract: offer, acceptance, two meter readings; per participant: carbon; one settlement.
    transactions += 4 * result.contracts + nodes + 1;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  const node = cluster.started.nodes[0].http;
  const read = async () => {
    const started = performance.now();
    const head = await (await fetch(`${node}/v1/market/head?consistency=stale`)).json();
    await Promise.all([fetch(`${node}/v1/market/nodes?consistency=stale`).then((r) => r.json()), fetch(`${node}/v1/market/ledger?consistency=stale&from=${Math.max(1, head.height - 19)}&limit=20`).then((r) => r.json())]);
    return { ms: performance.now() - started, height: head.height };
  };
  const reads = [];
  for (let i = 0; i < 10; i++) reads.push(await read());
  const readSorted = reads.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`${nodes} node processes, ${rounds} rounds of ${generators} contracts (${Math.round(transactions / rounds)} transactions each, each signed by its own node)`);
  console.log(`round: p50 ${quantile(sorted, 0.5).toFixed(0)} ms, p95 ${quantile(sorted, 0.95).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms; ${(transactions / (total / 1000)).toFixed(0)} transactions/s`);
  console.log(`the page's market read at ledger height ${reads.at(-1).height}: p50 ${quantile(readSorted, 0.5).toFixed(1)} ms, max ${readSorted.at(-1).toFixed(1)} ms`);
} finally {
  await cluster.stop().catch((error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
