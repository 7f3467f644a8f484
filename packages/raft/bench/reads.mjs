#!/usr/bin/env node
// Linearizable reads (readBarrier) on a three-node RaftNode cluster on the memory transport: reads
// per second, ReadIndex heartbeat rounds per read and, on a follower, ReadIndex requests it sent to
// the leader per read, at several concurrencies, on the leader and on a follower. Batching shows as
// fewer rounds (and requests) than reads once reads overlap.
// Build first:  npx turbo run build --filter=@greenraft/raft --filter=@greenraft/transport-memory
// Run:          node packages/raft/bench/reads.mjs [--seconds 2] [--concurrency 1,16,128] [--latency 1]
import { parseArgs } from 'node:util';
import { configuration } from '@greenraft/consensus';
import { createRaftNode, memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,16,128' },
    latency: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const ids = ['a', 'b', 'c'];
const network = memoryNetwork({ defaultLink: { latency: Number(values.latency) } });
/** Contexts of the ReadIndex rounds the leader started (a round's context rides on every heartbeat until confirmed). */
const rounds = new Set();
/** ReadIndex requests followers sent to the leader. */
let requests = 0;
const stateMachine = () => ({ apply: () => undefined, snapshot: () => new Uint8Array(0), restore: () => {} });
const nodes = ids.map((id) => {
  const endpoint = network.transport(id);
  // Records the ReadIndex rounds: each has its own heartbeat context.
  const transport = {
    localId: id,
    start: (handler, events) => endpoint.start(handler, events),
    stop: () => endpoint.stop(),
    send: (message) => {
      if (message.type === 'heartbeat' && message.context !== undefined) rounds.add(`${id}/${message.context}`);
      if (message.type === 'readIndexRequest') requests++;
      endpoint.send(message);
    },
  };
  return createRaftNode({ id, transport, storage: memoryStorage(), stateMachine: stateMachine(), bootstrap: configuration(ids), tickMs: 10 });
});
await Promise.all(nodes.map((node) => node.start()));
const leader = await new Promise((resolve) => {
  const poll = setInterval(() => {
    const found = nodes.find((node) => node.status().role === 'leader');
    if (found !== undefined && nodes.every((node) => node.status().leader === found.id)) {
      clearInterval(poll);
      resolve(found);
    }
  }, 10);
});
await leader.propose(new TextEncoder().encode('warm-up'));
const follower = nodes.find((node) => node !== leader);

async function measure(node, concurrency) {
  rounds.clear();
  requests = 0;
  let reads = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await node.readBarrier();
        reads++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { reads, perSecond: reads / elapsed, roundsPerRead: rounds.size / reads, requestsPerRead: requests / reads };
}

console.log(`readBarrier, 3 nodes, memory transport (latency ${values.latency} ms), tickMs 10, ${seconds} s each (preliminary: shared machine)`);
for (const concurrency of values.concurrency.split(',').map(Number)) {
  for (const [where, node] of [
    ['leader', leader],
    ['follower', follower],
  ]) {
    const { reads, perSecond, roundsPerRead, requestsPerRead } = await measure(node, concurrency);
    console.log(
      `  ${where.padEnd(8)} concurrency ${String(concurrency).padStart(4)}: ${perSecond.toFixed(0).padStart(7)} reads/s, ${roundsPerRead.toFixed(3)} rounds per read, ${requestsPerRead.toFixed(3)} requests per read (${reads} reads)`,
    );
  }
}
await Promise.all(nodes.map((node) => node.stop()));
network.close();
