import { it, expect } from 'vitest';
import { runSimulation } from './simulation.js';
it('smoke', async () => {
  for (const [nodes, steps] of [[5, 500], [5, 1000], [3, 1000]] as const) {
    const t = performance.now();
    const caught: string[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const r = await runSimulation({ seed, nodes, steps, bug: 'forget-term-on-restart' });
      if (r.violation) caught.push(`${seed}:${r.violation.property}`);
    }
    console.log(nodes, steps, caught.length, caught.slice(0, 12).join(' '), performance.now() - t);
  }
  expect(1).toBe(1);
});
