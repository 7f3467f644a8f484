import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, type NemesisEvent, formatNemesis, nemesisSchedule, parseNemesis } from './nemesis.js';

describe('parseNemesis / formatNemesis', () => {
  it('reads none, all and comma lists into canonical order', () => {
    expect(parseNemesis('none')).toEqual([]);
    expect(parseNemesis('all')).toEqual(FAULT_KINDS);
    expect(parseNemesis('crash, partition,crash')).toEqual(['partition', 'crash']);
  });

  it('rejects an unknown fault with a typed error naming it', () => {
    expect(() => parseNemesis('crash,meteor')).toThrow(InvalidArgumentError);
    expect(() => parseNemesis('crash,meteor')).toThrow(/'meteor'/);
    expect(() => parseNemesis('')).toThrow(InvalidArgumentError);
  });

  it('formats back to the shortest equivalent text', () => {
    expect(formatNemesis([])).toBe('none');
    expect(formatNemesis([...FAULT_KINDS].reverse())).toBe('all');
    expect(formatNemesis(['pause', 'loss'])).toBe('loss,pause');
  });
});

/** Node positions a node fault is holding down at each step, from crash/pause to restart/resume. */
function maxConcurrentNodeFaults(events: readonly NemesisEvent[]): number {
  let open = 0;
  let max = 0;
  for (const { action } of events) {
    if (action.type === 'crash' || action.type === 'pause') max = Math.max(max, ++open);
    else if (action.type === 'restart' || action.type === 'resume') open--;
  }
  return max;
}

describe('nemesisSchedule', () => {
  const all = parseNemesis('all');

  it('is a pure function of its init: the same seed gives the same schedule, another seed another', () => {
    const a = nemesisSchedule({ seed: 11, nodes: 5, steps: 2000, faults: all });
    expect(nemesisSchedule({ seed: 11, nodes: 5, steps: 2000, faults: all })).toEqual(a);
    expect(nemesisSchedule({ seed: 12, nodes: 5, steps: 2000, faults: all })).not.toEqual(a);
  });

  it('stays within the window, in step order, and always ends with a heal', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const events = nemesisSchedule({ seed, nodes: 5, steps: 1500, faults: all });
      expect(events.at(-1)).toEqual({ step: 1500, action: { type: 'heal-all' } });
      for (let i = 1; i < events.length; i++) expect(events[i]!.step).toBeGreaterThanOrEqual(events[i - 1]!.step);
      expect(events.every((event) => event.step >= 0 && event.step <= 1500)).toBe(true);
    }
  });

  it('draws every enabled fault kind, and only those', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      for (const { action } of nemesisSchedule({ seed, nodes: 5, steps: 3000, faults: all })) {
        if ('fault' in action) seen.add(action.fault);
        else seen.add(action.type);
      }
    }
    for (const kind of ['partition', 'majority', 'one-way', 'bridge', 'loss', 'duplicate', 'reorder', 'delay', 'crash', 'pause', 'heal-all']) expect(seen).toContain(kind);
    const only = nemesisSchedule({ seed: 3, nodes: 5, steps: 3000, faults: ['crash'] });
    expect(new Set(only.map((event) => event.action.type))).toEqual(new Set(['crash', 'restart', 'heal-all']));
    expect(nemesisSchedule({ seed: 3, nodes: 5, steps: 3000, faults: [] })).toEqual([{ step: 3000, action: { type: 'heal-all' } }]);
  });

  it('holds at most a minority of nodes crashed or paused at once', () => {
    for (const nodes of [3, 5, 7]) {
      for (let seed = 1; seed <= 10; seed++) {
        const events = nemesisSchedule({ seed, nodes, steps: 3000, faults: ['crash', 'pause'] });
        expect(maxConcurrentNodeFaults(events)).toBeLessThanOrEqual(Math.floor((nodes - 1) / 2));
      }
    }
  });

  it('builds partitions that cover every node and bridges that keep one node connected to both halves', () => {
    for (let seed = 1; seed <= 10; seed++) {
      for (const { action } of nemesisSchedule({ seed, nodes: 5, steps: 3000, faults: ['partition', 'majority', 'bridge'] })) {
        if (action.type === 'partition') {
          expect(action.groups.flat().sort()).toEqual([0, 1, 2, 3, 4]);
          if (action.fault === 'majority') expect(action.groups[0]!.length).toBe(2);
        }
        if (action.type === 'cut' && action.fault === 'bridge') {
          const cut = new Set(action.links.flat());
          expect(cut.size).toBe(4); // every node but the bridge loses some links
          for (const [from, to] of action.links) expect(action.links).toContainEqual([to, from]);
        }
      }
    }
  });

  it('draws configuration changes only with reconfigure, and lets network and node faults hit spare nodes', () => {
    const withoutSpares = nemesisSchedule({ seed: 4, nodes: 5, steps: 3000, faults: all.filter((kind) => kind !== 'reconfigure') });
    expect(withoutSpares.some(({ action }) => action.type === 'reconfigure')).toBe(false);
    const events = nemesisSchedule({ seed: 4, nodes: 5, spares: 2, steps: 3000, faults: all });
    const changes = events.filter(({ action }) => action.type === 'reconfigure');
    expect(changes.length).toBeGreaterThan(15);
    for (const { action } of changes) {
      if (action.type !== 'reconfigure') continue;
      expect(action.choice).toBeGreaterThanOrEqual(0);
      expect(action.choice).toBeLessThan(1);
      expect(action.weight).toBeGreaterThanOrEqual(0);
      expect(action.weight).toBeLessThanOrEqual(4);
    }
    const positions = new Set<number>();
    for (const { action } of events) {
      if (action.type === 'partition') for (const group of action.groups) for (const p of group) positions.add(p);
      if ((action.type === 'crash' || action.type === 'pause') && action.target.kind === 'node') positions.add(action.target.index);
    }
    expect([...positions].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Node lanes still follow the initial voters: at most ⌊(5 − 1) / 2⌋ nodes down at once.
    expect(maxConcurrentNodeFaults(events)).toBeLessThanOrEqual(2);
    // The configuration lane has its own stream: the other lanes draw exactly as without it.
    const noReconfig = nemesisSchedule({ seed: 4, nodes: 5, spares: 2, steps: 3000, faults: all.filter((kind) => kind !== 'reconfigure') });
    expect(events.filter(({ action }) => action.type !== 'reconfigure')).toEqual(noReconfig);
  });

  it('rejects a bad cluster size or step count', () => {
    expect(() => nemesisSchedule({ seed: 1, nodes: 0, steps: 10, faults: all })).toThrow(InvalidArgumentError);
    expect(() => nemesisSchedule({ seed: 1, nodes: 3, steps: -1, faults: all })).toThrow(InvalidArgumentError);
    expect(() => nemesisSchedule({ seed: 1, nodes: 3, spares: -1, steps: 10, faults: all })).toThrow(/spares/);
  });
});
