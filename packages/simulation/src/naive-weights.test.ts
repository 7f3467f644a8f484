/**
 * Why weights must change through the log (docs/weighted-safety.md). First the counter-example of
 * DESIGN.md, scripted step by step: weights (3,1,1) then (1,3,1) on three nodes, applied locally
 * as a literal reading of the paper suggests, lose a committed entry and elect two leaders in one
 * term; the same story with the weights moved by joint consensus keeps the entry. Then a seeded
 * search in the simulator: the naive policy breaks safety within a few seeds on which greenraft's
 * weight epochs (same seeds, same scores, through the log) show no violation.
 */
import { configuration, type NodeId } from '@greenraft/consensus';
import { coreNetwork, unsafeLocalWeightsOptions, utf8 } from '@greenraft/raft/testing';
import { describe, expect, it } from 'vitest';
import { naiveLocalWeights, volatileScoring } from './naive-weights.test-support.js';
import { runSimulation } from './simulation.js';

const ids = ['a', 'b', 'c'];
const w1 = new Map([['a', 3], ['b', 1], ['c', 1]]);
const w2 = new Map([['a', 1], ['b', 3], ['c', 1]]);

/** Three classic cores whose quorums use the weights each node holds locally (the naive policy). */
function naiveCluster(local: Map<NodeId, ReadonlyMap<NodeId, number>>) {
  return coreNetwork({ bootstrap: configuration(ids), options: (id) => ({ ...unsafeLocalWeightsOptions(() => local.get(id)) }) });
}

describe('the (3,1,1) → (1,3,1) counter-example, scripted', () => {
  it('naive local weights: A commits x alone, then B elects itself alone without x and commits over it', () => {
    const local = new Map<NodeId, ReadonlyMap<NodeId, number>>(ids.map((id) => [id, w1]));
    const net = naiveCluster(local);
    // 1. Term 1, w1 everywhere: A's own vote weighs 3 of 5, so it wins alone; B and C follow it.
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('leader');
    expect(net.core('b').leader).toBe('a');
    // 2. A commits x alone; its AppendEntries to B and C are lost.
    net.partition(['a'], ['b', 'c']);
    const x = net.core('a').propose(utf8('x'));
    net.stabilize();
    expect(net.core('a').commitIndex).toBe(x.index);
    expect(net.record('a').applied).toEqual(['x']);
    expect(net.core('b').lastIndex).toBe(x.index - 1);
    // 3. B's view of the scores changes first: it now counts with w2.
    local.set('b', w2);
    // 4. B elects itself alone in term 2: its empty log was never compared with A's.
    net.partition(['a'], ['b'], ['c']);
    net.core('b').campaign();
    net.stabilize();
    expect(net.core('b').role).toBe('leader');
    expect(net.core('b').term).toBe(2);
    // 5. B commits its term-2 no-op alone at the index where A committed x, then y after it:
    //    two nodes applied different entries at one index, State Machine Safety is gone.
    const y = net.core('b').propose(utf8('y'));
    net.stabilize();
    expect(net.core('b').commitIndex).toBe(y.index);
    expect(net.core('b').entry(x.index)).toMatchObject({ term: 2, data: new Uint8Array(0) });
    expect(net.record('b').applied).toEqual(['y']);
    // Leader Completeness is gone too: the leader of term 2 lacks the entry committed in term 1.
    expect(net.core('a').entry(x.index)?.term).toBe(1);
    // Both committed their entry at x.index: no later repair can make the two logs agree.
    expect(net.core('a').commitIndex).toBeGreaterThanOrEqual(x.index);
    expect(net.core('b').commitIndex).toBeGreaterThanOrEqual(x.index);
  });

  it('naive local weights: A (w1) and B (w2) both win term 1, two leaders in one term', () => {
    const local = new Map<NodeId, ReadonlyMap<NodeId, number>>([
      ['a', w1],
      ['b', w2],
      ['c', w1],
    ]);
    const net = naiveCluster(local);
    net.core('a').campaign();
    net.core('b').campaign();
    net.stabilize();
    // Each counted its own vote as a quorum: Election Safety is broken.
    expect([net.core('a').role, net.core('a').term]).toEqual(['leader', 1]);
    expect([net.core('b').role, net.core('b').term]).toEqual(['leader', 1]);
  });

  it('the same story by joint consensus: B cannot win without A, and x survives the move to (1,3,1)', () => {
    const net = coreNetwork({ bootstrap: configuration(w1) });
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('leader');
    // A commits x alone: legal, the configuration in the log says A weighs 3 of 5.
    net.partition(['a'], ['b', 'c']);
    const x = net.core('a').propose(utf8('x'));
    net.stabilize();
    expect(net.record('a').applied).toEqual(['x']);
    // A starts the move to w2: C(old,new) needs A (quorum of w1) and B (quorum of w2).
    net.core('a').proposeConfigChange(configuration(w2));
    net.stabilize();
    expect(net.core('a').config.outgoing).toBeDefined();
    // B, cut off, still counts with the configuration in its own log: w1. Alone it weighs 1 of 5.
    net.partition(['a'], ['b'], ['c']);
    net.core('b').campaign();
    net.stabilize();
    expect(net.core('b').role).not.toBe('leader');
    // Healed, C(old,new) reaches B after x (Log Matching), commits, then C(new) commits.
    net.heal();
    net.tick('a', 2);
    net.stabilize();
    expect(net.core('b').config.outgoing).toBeUndefined();
    expect(net.core('b').config.incoming.voters.get('b')).toBe(3);
    // Now B alone is a quorum of w2, and when it elects itself its log holds x.
    net.crash('a');
    net.core('b').campaign();
    net.stabilize();
    expect(net.core('b').role).toBe('leader');
    expect(net.core('b').entry(x.index)?.type).toBe('normal');
    expect(net.record('b').applied).toEqual(['x']);
  });
});

describe('the naive policy in the simulator, seeded search', () => {
  // Every fault but `reconfigure`, so that the only configuration changes are the weights' own.
  const nemesis = 'partition,majority,one-way,bridge,loss,duplicate,reorder,delay,crash,pause,heal';
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
  const SEEDS = 12;

  it(`loses a committed entry or elects two leaders within ${SEEDS} seeds on which greenraft's weight epochs hold`, async () => {
    const broken: { seed: number; property: string }[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const base = { seed, nodes: 5, steps: 1000, nemesis };
      // greenraft: the same scores, planned into the same guarded weights, moved through the log.
      const greenraft = await runSimulation({ ...base, policy: 'weighted', scoring: volatileScoring() });
      expect(greenraft.violation).toBeUndefined();
      expect(greenraft.stats.weightEpochs).toBeGreaterThan(0);
      const naive = await runSimulation({
        ...base,
        engineOptions: naiveLocalWeights({ seed, ids, scoring: volatileScoring(), roundSteps: 30, maxLagSteps: 15, electionTicks: 10, tickMs: 10 }),
      });
      if (naive.violation !== undefined) broken.push({ seed, property: naive.violation.property });
    }
    expect(broken.length).toBeGreaterThan(0);
    for (const { property } of broken) expect(['election-safety', 'leader-completeness', 'state-machine-safety', 'log-matching']).toContain(property);
    // Both ways of breaking safety show up: two leaders in a term, and committed entries lost.
    expect(broken.some((b) => b.property === 'election-safety')).toBe(true);
    expect(broken.some((b) => b.property === 'leader-completeness' || b.property === 'state-machine-safety')).toBe(true);
  });
});
