import type { EngineBug } from '@greenraft/raft';
import { describe, expect, it } from 'vitest';
import type { SafetyProperty } from './checkers.js';
import { runSimulations } from './batch.js';

/**
 * The checkers are only worth what they catch: each known engine bug must be caught within 200
 * seeds of the default nemesis, and the same engine without the bug must pass those seeds.
 */
const cases: readonly { bug: EngineBug; nodes: number; properties: readonly SafetyProperty[] }[] = [
  { bug: 'commit-without-quorum', nodes: 5, properties: ['leader-completeness', 'state-machine-safety', 'log-matching', 'committed-durability'] },
  { bug: 'vote-twice', nodes: 5, properties: ['election-safety'] },
  { bug: 'apply-uncommitted', nodes: 3, properties: ['state-machine-safety'] },
  { bug: 'forget-term-on-restart', nodes: 3, properties: ['persistent-state', 'election-safety'] },
];

describe('injected engine bugs are caught', () => {
  for (const { bug, nodes, properties } of cases) {
    it(`catches ${bug} within 200 seeds (${nodes} nodes, 500 steps, full nemesis)`, async () => {
      const summary = await runSimulations({ seeds: 200, nodes, steps: 500, bug, stopAtFirstViolation: true });
      expect(summary.violations).toHaveLength(1);
      const [violation] = summary.violations;
      expect(properties).toContain(violation!.property);
      expect(violation!.replay).toBe(
        `npx greenraft sim --nodes ${nodes} --seeds 1 --seed-start ${violation!.seed} --steps 500 --nemesis all --inject-bug ${bug}`,
      );
      // The same seed without the bug is clean: the violation is the bug's, not the simulator's.
      const clean = await runSimulations({ seeds: 1, seedStart: violation!.seed, nodes, steps: 500 });
      expect(clean.violations).toEqual([]);
    });
  }
});
