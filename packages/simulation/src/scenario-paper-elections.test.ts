import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type NodeId } from '@greenraft/consensus';
import { parseRoundDocument } from '@greenraft/power-market';
import { describe, expect, it } from 'vitest';
import { PAPER_TABLE_1_ROUND, type PaperElectionEvent, paperElections } from './scenario-paper-elections.js';

describe('paperElections: the shape of the paper’s Tables 3–4', () => {
  const events: PaperElectionEvent[] = [];
  // The full 200 elections per policy, as the paper ran them (about a second).
  const result = paperElections({ elections: 200 }, (event) => events.push(event));
  const total = (counts: Record<NodeId, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

  it('counts 200 elections per policy over the 30 nodes', () => {
    expect(Object.keys(result)).toEqual(['classic', 'weighted']);
    for (const counts of [result.classic, result.weighted]) {
      expect(Object.keys(counts)).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
      expect(total(counts)).toBe(200);
    }
  });

  it('classic Raft spreads leadership evenly (Tables 3–4, "Traditional Raft")', () => {
    const counts = Object.values(result.classic);
    expect(Math.max(...counts) / 200).toBeLessThanOrEqual(0.15);
    expect(counts.filter((n) => n > 0).length).toBeGreaterThanOrEqual(20);
  });

  it('weighted Raft gives leadership to the heaviest nodes (Tables 3–4, "Improved Raft")', () => {
    const weighted = events.filter((event) => event.policy === 'weighted');
    // The three nodes with the highest mean weight over the elections.
    const sums = new Map<NodeId, number>();
    for (const event of weighted) {
      const totalWeight = [...event.weights.values()].reduce((sum, w) => sum + w, 0);
      for (const [id, weight] of event.weights) sums.set(id, (sums.get(id) ?? 0) + weight / totalWeight);
    }
    const top3 = [...sums].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([id]) => id);
    const wins = top3.reduce((sum, id) => sum + (result.weighted[id] ?? 0), 0);
    expect(wins / 200).toBeGreaterThanOrEqual(0.8);
    // As in the paper, the heaviest are generators with renewables and large, honoured contracts.
    expect(top3).toContain('1');
    // The weights really moved from round to round.
    expect(new Set(weighted.map((event) => JSON.stringify([...event.weights]))).size).toBeGreaterThan(10);
    // Defaulting nodes 17 and 29 never lead under weighted Raft.
    expect(result.weighted['17']).toBe(0);
    expect(result.weighted['29']).toBe(0);
  });

  it('is deterministic and depends on its seed', () => {
    expect(paperElections({ elections: 20 })).toEqual(paperElections({ elections: 20 }));
    expect(paperElections({ elections: 20, seed: 2 }).classic).not.toEqual(paperElections({ elections: 20 }).classic);
  });

  it('holds the round of the paper’s Table 1', () => {
    const fixture = new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url);
    const { round } = parseRoundDocument(JSON.parse(readFileSync(fixture, 'utf8')));
    expect(PAPER_TABLE_1_ROUND.nodes).toEqual(round.nodes);
    expect(PAPER_TABLE_1_ROUND.contracts).toEqual(round.contracts);
  });

  it('rejects bad options with a typed error', () => {
    expect(() => paperElections({ elections: 0 })).toThrow(InvalidArgumentError);
    expect(() => paperElections({ seed: -1 })).toThrow(/seed/);
  });
});
