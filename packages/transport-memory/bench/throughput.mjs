// Throughput of the in-process network on a virtual clock: how many messages per second of
// wall time it moves from send to handler, with and without cloning and faults.
// Run: npx turbo run build --filter=@greenraft/transport-memory && node packages/transport-memory/bench/throughput.mjs
import { performance } from 'node:perf_hooks';
import { memoryNetwork, virtualClock } from '../dist/index.js';

const MESSAGES = 200_000;
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

/** An AppendRequest carrying one 256-byte entry, the common case of a busy leader. */
const append = (from, to, index) => ({
  type: 'appendRequest', from, to, term: 3, prevLogIndex: index - 1, prevLogTerm: 3, commitIndex: index - 1,
  entries: [{ type: 'normal', term: 3, index, data: new Uint8Array(256) }],
});

async function run(label, init) {
  const clock = virtualClock();
  const network = memoryNetwork({ clock, seed: 1, ...init });
  let received = 0;
  const endpoints = NODES.map((id) => network.transport(id));
  for (const endpoint of endpoints) await endpoint.start(() => received++);
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const from = i % NODES.length;
    const to = (from + 1 + (i % (NODES.length - 1))) % NODES.length;
    endpoints[from].send(append(NODES[from], NODES[to], i + 1));
    if (i % 1000 === 999) clock.advance(1);
  }
  while (clock.runNext());
  const seconds = (performance.now() - started) / 1000;
  const { delivered, dropped } = network.stats;
  console.log(`${label.padEnd(44)} ${Math.round(MESSAGES / seconds).toLocaleString('en').padStart(10)} msg/s  (delivered ${delivered}, dropped ${dropped}, received ${received})`);
}

await run('fault-free, no clone', { clone: false });
await run('fault-free, cloned (the default)', {});
await run('latency 1-20 ms, loss 5%, dup 5%, reorder 10%', { defaultLink: { latency: { min: 1, max: 20 }, loss: 0.05, duplicate: 0.05, reorder: 0.1 } });
