import { type Configuration, configuration, totalWeight, validateConfiguration } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import type { NemesisEvent } from './nemesis.js';
import { rng } from './random.js';
import { RECONFIGURATION_CHANGES, planReconfiguration, reconfigurationLane } from './reconfig-plan.js';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
const voters = (config: Configuration | undefined) => (config === undefined ? undefined : Object.fromEntries(config.voters));
const learners = (config: Configuration | undefined) => (config === undefined ? undefined : [...config.learners].sort());

describe('planReconfiguration', () => {
  const three = configuration(['n1', 'n2', 'n3'], ['n4']);

  it('adds and removes voters and learners, picking the node by choice', () => {
    expect(voters(planReconfiguration(three, 'add-voter', nodes, 0, 3))).toEqual({ n1: 1, n2: 1, n3: 1, n5: 3 });
    // A joining voter gets at least weight 1.
    expect(voters(planReconfiguration(three, 'add-voter', nodes, 0.9, 0))).toMatchObject({ n5: 1 });
    expect(learners(planReconfiguration(three, 'add-learner', nodes, 0.5, 0))).toEqual(['n4', 'n5']);
    expect(voters(planReconfiguration(three, 'remove-voter', nodes, 0.99, 0))).toEqual({ n1: 1, n2: 1 });
    expect(learners(planReconfiguration(three, 'remove-learner', nodes, 0, 0))).toEqual([]);
    const promoted = planReconfiguration(three, 'promote-learner', nodes, 0, 2);
    expect(voters(promoted)).toEqual({ n1: 1, n2: 1, n3: 1, n4: 2 });
    expect(learners(promoted)).toEqual([]);
    const demoted = planReconfiguration(three, 'demote-voter', nodes, 0, 0);
    expect(voters(demoted)).toEqual({ n2: 1, n3: 1 });
    expect(learners(demoted)).toEqual(['n1', 'n4']);
  });

  it('changes weights, down to 0 and up to one voter holding 60% of the total', () => {
    expect(voters(planReconfiguration(three, 'reweight', nodes, 0.4, 0))).toEqual({ n1: 1, n2: 0, n3: 1 });
    const skewed = planReconfiguration(configuration({ n1: 1, n2: 2, n3: 1, n4: 3 }), 'dominant-weight', nodes, 0, 0)!;
    expect(voters(skewed)).toEqual({ n1: 9, n2: 2, n3: 1, n4: 3 });
    expect(skewed.voters.get('n1')! / totalWeight(skewed)).toBeGreaterThanOrEqual(0.6);
    expect(voters(planReconfiguration(skewed, 'equal-weights', nodes, 0, 0))).toEqual({ n1: 1, n2: 1, n3: 1, n4: 1 });
  });

  it('returns undefined when a change does not apply: no candidate, no voter left, a zero total, no change', () => {
    const single = configuration(['n1']);
    expect(planReconfiguration(single, 'remove-voter', nodes, 0, 0)).toBeUndefined();
    expect(planReconfiguration(single, 'demote-voter', nodes, 0, 0)).toBeUndefined();
    expect(planReconfiguration(single, 'reweight', nodes, 0, 0)).toBeUndefined(); // total weight 0
    expect(planReconfiguration(single, 'dominant-weight', nodes, 0, 0)).toBeUndefined(); // already everything
    expect(planReconfiguration(single, 'remove-learner', nodes, 0, 0)).toBeUndefined();
    expect(planReconfiguration(configuration(nodes), 'add-voter', nodes, 0, 1)).toBeUndefined();
    expect(planReconfiguration(configuration(nodes), 'equal-weights', nodes, 0, 1)).toBeUndefined();
    // Removing the only voter with weight leaves a zero total.
    expect(planReconfiguration(configuration({ n1: 0, n2: 2 }), 'remove-voter', nodes, 0.9, 0)).toBeUndefined();
  });

  it('always yields a valid configuration, whatever the draws', () => {
    const draw = rng(5);
    let current = configuration(['n1', 'n2', 'n3']);
    let changes = 0;
    for (let i = 0; i < 2000; i++) {
      const next = planReconfiguration(current, draw.pick(RECONFIGURATION_CHANGES), nodes, draw(), draw.int(0, 4));
      if (next === undefined) continue;
      validateConfiguration(next);
      expect(totalWeight(next)).toBeGreaterThan(0);
      current = next;
      changes++;
    }
    expect(changes).toBeGreaterThan(1000);
  });
});

describe('reconfigurationLane', () => {
  it('draws every kind of change, 25–150 steps apart, within the window', () => {
    const events: NemesisEvent[] = [];
    reconfigurationLane(rng(9), 20_000, events);
    const kinds = new Set(events.map(({ action }) => (action.type === 'reconfigure' ? action.change : action.type)));
    expect(kinds).toEqual(new Set(RECONFIGURATION_CHANGES));
    for (let i = 1; i < events.length; i++) {
      const gap = events[i]!.step - events[i - 1]!.step;
      expect(gap).toBeGreaterThanOrEqual(25);
      expect(gap).toBeLessThanOrEqual(150);
    }
    expect(events.at(-1)!.step).toBeLessThan(20_000);
  });
});
