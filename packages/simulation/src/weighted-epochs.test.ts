import { InvalidArgumentError, type NodeId } from '@greenraft/consensus';
import { customScoring } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import { runSimulations } from './batch.js';
import { type SimulationInit, replayCommand, runSimulation } from './simulation.js';
import type { SimulationEvent } from './trace.js';

/** Runs one simulation and records its trace. */
async function traced(init: SimulationInit) {
  const events: SimulationEvent[] = [];
  const result = await runSimulation({ ...init, onEvent: (event) => events.push(event) });
  return { result, events };
}

/** Per node, the (index, term, chain digest) of every entry it applied, in order. */
function appliedPerNode(events: readonly SimulationEvent[]): Map<NodeId, string[]> {
  const applied = new Map<NodeId, string[]>();
  for (const event of events) {
    if (event.type !== 'applied') continue;
    let list = applied.get(event.id);
    if (list === undefined) applied.set(event.id, (list = []));
    list.push(`${event.index}@${event.term}#${event.chain}`);
  }
  return applied;
}

// Every fault but `reconfigure`: the nemesis's own weight changes would (rightly) be undone by a
// uniform weight epoch, which a classic run does not do.
const FAULTS_WITHOUT_RECONFIGURE = 'partition,majority,one-way,bridge,loss,duplicate,reorder,delay,crash,pause,heal';

describe('equal weights are classic Raft', () => {
  it('the weighted machinery with uniform scores and randomized timeouts replays the classic run event for event', async () => {
    for (const [seed, nemesis] of [
      [11, 'none'],
      [12, FAULTS_WITHOUT_RECONFIGURE],
      [13, FAULTS_WITHOUT_RECONFIGURE],
    ] as const) {
      const base = { seed, nodes: 5, steps: 800, nemesis };
      const classic = await traced(base);
      const weighted = await traced({ ...base, policy: 'weighted', scoring: 'uniform', electionTimeout: 'randomized', epoch: 5 });
      // Elections (who, when, which term) and every applied entry on every node, in order.
      expect(weighted.events).toEqual(classic.events);
      expect(appliedPerNode(weighted.events)).toEqual(appliedPerNode(classic.events));
      // Commits, message counts, faults, clients: the whole result.
      expect(weighted.result).toEqual(classic.result);
      expect(classic.result.violation).toBeUndefined();
      expect(classic.events.filter((e) => e.type === 'elected').length).toBe(classic.result.elections);
      expect(classic.result.stats.messagesSent).toBeGreaterThan(500);
    }
  });

  it('the comparison can fail: different weights give a different run', async () => {
    const base = { seed: 12, nodes: 5, steps: 1200, nemesis: FAULTS_WITHOUT_RECONFIGURE };
    const classic = await traced(base);
    const paper = await traced({ ...base, policy: 'weighted', scoring: 'paper', electionTimeout: 'randomized', epoch: 5 });
    expect(paper.result.stats.weightEpochs).toBeGreaterThan(0);
    expect(paper.events).not.toEqual(classic.events);
  });
});

describe('weighted runs', () => {
  it('change the weights by joint consensus and keep every property under the full nemesis, for every scoring', async () => {
    for (const scoring of ['paper', 'latency', 'uniform'] as const) {
      const summary = await runSimulations({ seeds: 3, seedStart: 200, nodes: 5, steps: 1200, nemesis: 'all', policy: 'weighted', scoring });
      expect(summary.violations).toEqual([]);
    }
    const paper = await runSimulation({ seed: 3, nodes: 5, steps: 1500, nemesis: 'all', policy: 'weighted', scoring: 'paper' });
    expect(paper.violation).toBeUndefined();
    expect(paper.stats.weightEpochs).toBeGreaterThan(3);
    expect(paper.linearizability).not.toBe('illegal');
  });

  it('start from the strategy’s weights and time out by rank: the heaviest founder leads first', async () => {
    // n3 scores highest, so it weighs most and (eq. 7) times out first on a quiet network.
    const scoring = customScoring('n3-first', (node) => (node.id === 'n3' ? 90 : 30));
    const { events } = await traced({ seed: 5, nodes: 5, steps: 200, nemesis: 'none', policy: 'weighted', scoring, clients: 0 });
    const first = events.find((event) => event.type === 'elected');
    expect(first).toMatchObject({ id: 'n3', term: 1 });
  });

  it('epoch sets how often the weights change', async () => {
    const base = { seed: 9, nodes: 5, steps: 1500, nemesis: 'none', policy: 'weighted', scoring: 'latency' } as const;
    const often = await runSimulation({ ...base, epoch: 5 });
    const rarely = await runSimulation({ ...base, epoch: 200 });
    expect(often.violation).toBeUndefined();
    expect(often.stats.weightEpochs).toBeGreaterThan(rarely.stats.weightEpochs);
  });

  it('replay commands name the policy and scoring; bad options are typed errors', async () => {
    expect(replayCommand({ seed: 4, policy: 'weighted', scoring: 'latency', epoch: 7 })).toBe(
      'npx greenraft sim --nodes 5 --seeds 1 --seed-start 4 --steps 2000 --nemesis all --policy weighted --scoring latency --epoch 7',
    );
    expect(replayCommand({ seed: 4, policy: 'weighted' })).toMatch(/--policy weighted --scoring paper$/);
    expect(replayCommand({ seed: 4 })).not.toMatch(/--policy/);
    await expect(runSimulation({ seed: 1, policy: 'fair' as never })).rejects.toThrow(InvalidArgumentError);
    await expect(runSimulation({ seed: 1, scoring: 'vibes' as never })).rejects.toThrow(/scoring/);
    await expect(runSimulation({ seed: 1, epoch: 0 })).rejects.toThrow(/epoch/);
    await expect(runSimulation({ seed: 1, electionTimeout: 'soon' as never })).rejects.toThrow(/electionTimeout/);
  });
});
