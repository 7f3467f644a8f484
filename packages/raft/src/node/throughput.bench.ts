/**
 * Throughput of the driver on a three-node cluster on the memory transport with memory storage.
 * Run: `npx vitest bench --run --project raft src/node/throughput.bench.ts`
 */
import { bench, describe } from 'vitest';
import { TestCluster, reading } from './test-cluster.js';

let running: Promise<{ cluster: TestCluster; leader: string }> | undefined;
const cluster = () =>
  (running ??= (async () => {
    const started = new TestCluster(['a', 'b', 'c'], { tickMs: 10 });
    await started.start();
    return { cluster: started, leader: await started.leader() };
  })());

describe('RaftNode on transport-memory, 3 nodes, tickMs 10', () => {
  bench('one proposal at a time (commit latency)', async () => {
    const { cluster: nodes, leader } = await cluster();
    await nodes.node(leader).propose(reading('meter-1: 1.0 kWh'));
  }, { time: 2000 });

  bench('a batch of 100 proposals in flight', async () => {
    const { cluster: nodes, leader } = await cluster();
    const node = nodes.node(leader);
    await Promise.all(Array.from({ length: 100 }, (_, i) => node.propose(reading(`meter-${i}: 1.0 kWh`))));
  }, { time: 2000 });
});
