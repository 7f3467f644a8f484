import type { EngineBug } from '@greenraft/raft/testing';
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

/**
 * Two bugs leave the logs looking healthy, so the log checkers cannot see them. A read answered
 * without confirming leadership shows only in the clients' history: a leader cut off in a minority
 * and paused, resumed while a new leader has taken writes, serves its stale state until check-quorum
 * deposes it. A configuration applied only once committed shows in the configuration a node counts
 * quorums in; with joint consensus and one change at a time its commits and elections stay safe
 * (etcd-io/raft applies configurations on commit by design), so the `configuration` checker is what
 * holds the engine to the rule it documents: the latest configuration in the node's own log counts.
 */
const provoked: readonly { bug: EngineBug; nodes: number; steps: number; nemesis: string; properties: readonly SafetyProperty[] }[] = [
  { bug: 'read-without-quorum', nodes: 5, steps: 1000, nemesis: 'majority,pause,reconfigure', properties: ['linearizability'] },
  { bug: 'config-applied-on-commit', nodes: 3, steps: 500, nemesis: 'all', properties: ['configuration'] },
];

describe('injected bugs that only the client history or the configuration checker sees are caught', () => {
  for (const { bug, nodes, steps, nemesis, properties } of provoked) {
    it(`catches ${bug} within 200 seeds (${nodes} nodes, ${steps} steps, nemesis ${nemesis})`, async () => {
      const summary = await runSimulations({ seeds: 200, nodes, steps, nemesis, bug, stopAtFirstViolation: true });
      expect(summary.violations).toHaveLength(1);
      const [violation] = summary.violations;
      expect(properties).toContain(violation!.property);
      expect(violation!.replay).toBe(`npx greenraft sim --nodes ${nodes} --seeds 1 --seed-start ${violation!.seed} --steps ${steps} --nemesis ${nemesis} --inject-bug ${bug}`);
      const clean = await runSimulations({ seeds: 1, seedStart: violation!.seed, nodes, steps, nemesis });
      expect(clean.violations).toEqual([]);
    });
  }
});
