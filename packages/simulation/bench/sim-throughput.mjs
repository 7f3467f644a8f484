#!/usr/bin/env node
// Simulation throughput benchmark: runs seeds in this thread and prints steps per second, plus the
// projected wall time of the 2000 seeds × 5000 steps target on W worker threads.
// Build first:  npx turbo run build --filter=@greenraft/simulation
// Run:          node packages/simulation/bench/sim-throughput.mjs [--nodes 5] [--seeds 20] [--steps 5000] [--nemesis all] [--workers 2]
import { parseArgs } from 'node:util';
import { runSimulation } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    seeds: { type: 'string', default: '20' },
    steps: { type: 'string', default: '5000' },
    nemesis: { type: 'string', default: 'all' },
    workers: { type: 'string', default: '2' },
    'seed-start': { type: 'string', default: '1' },
  },
});
const nodes = Number(values.nodes);
const seeds = Number(values.seeds);
const steps = Number(values.steps);
const workers = Number(values.workers);
const seedStart = Number(values['seed-start']);

// Warm the JIT on a short run so the figure reflects steady state.
await runSimulation({ seed: 999_999, nodes, steps: 500, nemesis: values.nemesis });

let totalSteps = 0;
let violations = 0;
let messages = 0;
const started = performance.now();
for (let seed = seedStart; seed < seedStart + seeds; seed++) {
  const result = await runSimulation({ seed, nodes, steps, nemesis: values.nemesis });
  totalSteps += result.steps;
  messages += result.stats.messagesDelivered;
  if (result.violation) {
    violations++;
    console.log(`violation: ${result.violation.property} at step ${result.violation.step}: ${result.violation.detail}\n  ${result.violation.replay}`);
  }
}
const seconds = (performance.now() - started) / 1000;
const stepsPerSecond = totalSteps / seconds;
const target = 2000 * 5000;
console.log(`nodes ${nodes}, nemesis ${values.nemesis}: ${seeds} seeds × ${steps} steps in ${seconds.toFixed(2)} s on one thread`);
console.log(`  ${Math.round(stepsPerSecond)} steps/s, ${Math.round(messages / seconds)} messages delivered/s, ${violations} violations`);
console.log(`  projected 2000 seeds × 5000 steps on ${workers} workers: ${(target / stepsPerSecond / workers / 60).toFixed(1)} min`);
