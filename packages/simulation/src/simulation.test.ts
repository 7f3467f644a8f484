import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { runSimulations, summarizeRuns } from './batch.js';
import { livenessBound, replayCommand, runSimulation } from './simulation.js';

describe('runSimulation', () => {
  it('replays identically from the same seed, and differently from another', async () => {
    const a = await runSimulation({ seed: 7, nodes: 5, steps: 800 });
    const b = await runSimulation({ seed: 7, nodes: 5, steps: 800 });
    const c = await runSimulation({ seed: 8, nodes: 5, steps: 800 });
    expect(b).toEqual(a);
    expect(c.stats).not.toEqual(a.stats);
  });

  it('elects, commits, and injects the faults it was asked for', async () => {
    const quiet = await runSimulation({ seed: 3, nodes: 3, steps: 600, nemesis: 'none' });
    expect(quiet.violation).toBeUndefined();
    expect(quiet.elections).toBe(1);
    expect(quiet.commits).toBeGreaterThan(100);
    expect(quiet.stats.acknowledged).toBeGreaterThan(100);
    expect(quiet.stats.crashes + quiet.stats.pauses).toBe(0);
    expect(quiet.stats.snapshots).toBeGreaterThan(0);

    const stormy = await runSimulation({ seed: 3, nodes: 5, steps: 2000, nemesis: 'all' });
    expect(stormy.violation).toBeUndefined();
    expect(stormy.stats.crashes).toBeGreaterThan(0);
    expect(stormy.stats.restarts).toBe(stormy.stats.crashes);
    expect(stormy.stats.pauses).toBeGreaterThan(0);
    expect(stormy.stats.messagesDropped).toBeGreaterThan(0);
    expect(stormy.elections).toBeGreaterThan(1);
    expect(stormy.maxTerm).toBeGreaterThanOrEqual(stormy.elections);
  });

  it('shows liveness after the final heal, within the bound', async () => {
    const steps = 1000;
    const result = await runSimulation({ seed: 5, nodes: 5, steps, nemesis: 'all' });
    expect(result.violation).toBeUndefined();
    const healedAt = steps - livenessBound(5, 10);
    expect(result.livenessStep).toBeGreaterThanOrEqual(healedAt);
    expect(result.livenessStep).toBeLessThan(steps);
    // Too short to leave a full bound after the nemesis: liveness is not claimed.
    expect((await runSimulation({ seed: 5, nodes: 5, steps: 200 })).livenessStep).toBeUndefined();
  });

  it('keeps every safety property across a few seeds of the full nemesis, on 3 and 5 nodes', async () => {
    for (const nodes of [3, 5]) {
      const summary = await runSimulations({ seeds: 6, seedStart: 100, nodes, steps: 1500, nemesis: 'all' });
      expect(summary.violations).toEqual([]);
      expect(summary.runs).toBe(6);
      expect(summary.steps).toBe(6 * 1500);
    }
  });

  it('rejects bad options with a typed error before running', async () => {
    await expect(runSimulation({ seed: 1, nodes: 2 })).rejects.toThrow(InvalidArgumentError);
    await expect(runSimulation({ seed: -1 })).rejects.toThrow(/seed/);
    await expect(runSimulation({ seed: 1, steps: 0 })).rejects.toThrow(/steps/);
    await expect(runSimulation({ seed: 1, nemesis: 'earthquake' })).rejects.toThrow(/earthquake/);
    await expect(runSimulation({ seed: 1, bug: 'typo' as never })).rejects.toThrow(/typo/);
    await expect(runSimulations({ seeds: 0 })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('the KV workload and the reconfiguration nemesis', () => {
  it("checks the clients' key-value history for linearizability, bounded per run", async () => {
    const quiet = await runSimulation({ seed: 3, nodes: 3, steps: 600, nemesis: 'none' });
    expect(quiet.linearizability).toBe('ok');
    expect(quiet.historyOps).toBeGreaterThan(200);
    expect(quiet.stats.reads).toBeGreaterThan(100);
    // Without faults every write is answered, but for those still in flight when the run ends.
    expect(quiet.stats.acknowledged).toBeGreaterThanOrEqual(quiet.stats.proposals - 3);
    const stormy = await runSimulation({ seed: 3, nodes: 5, steps: 2000, nemesis: 'all' });
    expect(stormy.linearizability).toBe('ok');
    expect(stormy.historyOps).toBeLessThanOrEqual(800);
    expect(stormy.historyOps).toBeGreaterThan(300);
    // Past the limit the clients go on, on an unchecked key.
    expect(stormy.stats.proposals + stormy.stats.reads).toBeGreaterThan(stormy.historyOps);
    const capped = await runSimulation({ seed: 3, nodes: 3, steps: 600, nemesis: 'none', historyLimit: 50 });
    expect(capped.historyOps).toBeLessThanOrEqual(50);
    expect(capped.commits).toBeGreaterThan(100);
  });

  it('changes membership and weights through the leader: spares join and catch up, every property holds', async () => {
    const appliedBy = new Map<string, number>();
    const result = await runSimulation({
      seed: 11,
      nodes: 3,
      steps: 2000,
      nemesis: 'reconfigure,partition,crash',
      onEvent: (event) => {
        if (event.type === 'applied') appliedBy.set(event.id, event.index);
      },
    });
    expect(result.violation).toBeUndefined();
    expect(result.linearizability).toBe('ok');
    expect(result.stats.configChanges).toBeGreaterThanOrEqual(5);
    // The two spares (n4, n5) were added and caught up.
    expect(appliedBy.get('n4') ?? 0).toBeGreaterThan(10);
    expect(appliedBy.get('n5') ?? 0).toBeGreaterThan(10);
    // Liveness holds after the final heal, with the final configuration's quorum.
    expect(result.livenessStep).toBeDefined();
    // Without the reconfigure fault there are no spares and no changes.
    const fixed = await runSimulation({ seed: 11, nodes: 3, steps: 600, nemesis: 'partition,crash' });
    expect(fixed.stats.configChanges).toBe(0);
  });

  it('rejects bad KV and reconfiguration options with a typed error', async () => {
    await expect(runSimulation({ seed: 1, historyLimit: -1 })).rejects.toThrow(/historyLimit/);
    await expect(runSimulation({ seed: 1, linearizabilityTimeoutMs: 0 })).rejects.toThrow(/linearizabilityTimeoutMs/);
    await expect(runSimulation({ seed: 1, spares: 1.5 })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('replayCommand and summarizeRuns', () => {
  it('prints the command that replays one seed with the same options', () => {
    expect(replayCommand({ seed: 42, nodes: 3, steps: 500, nemesis: 'pause,crash', bug: 'vote-twice' })).toBe(
      'npx greenraft sim --nodes 3 --seeds 1 --seed-start 42 --steps 500 --nemesis crash,pause --inject-bug vote-twice',
    );
    expect(replayCommand({ seed: 1 })).toBe('npx greenraft sim --nodes 5 --seeds 1 --seed-start 1 --steps 2000 --nemesis all');
  });

  it('merges results in seed order whatever order they arrive in', async () => {
    const results = await Promise.all([12, 10, 11].map((seed) => runSimulation({ seed, nodes: 3, steps: 300, bug: 'vote-twice' })));
    const summary = summarizeRuns(results);
    expect(summarizeRuns([...results].reverse())).toEqual(summary);
    expect(summary.violations.map((v) => v.seed)).toEqual([...summary.violations.map((v) => v.seed)].sort((a, b) => a - b));
    expect(summary.elections).toBe(results.reduce((sum, r) => sum + r.elections, 0));
    expect(summary.maxTerm).toBe(Math.max(...results.map((r) => r.maxTerm)));
  });
});
