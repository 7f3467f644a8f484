import type { LogEntry } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { type LogView, safetyChecker } from './checkers.js';
import { chainDigest } from './digest.js';

/** A hand-made log: one entry per term in `terms`, from index `first`, each carrying `tag` so contents can differ. */
function log(terms: readonly number[], tag = 'a', first = 1): LogView & { entries: LogEntry[] } {
  const entries: LogEntry[] = terms.map((term, k) => ({ type: 'normal', term, index: first + k, data: new TextEncoder().encode(`${tag}${first + k}`) }));
  return {
    entries,
    firstIndex: first,
    get lastIndex() {
      return first + entries.length - 1;
    },
    termAt: (index) => entries[index - first]?.term,
    entry: (index) => entries[index - first],
  };
}

function chains(entries: readonly LogEntry[]): number[] {
  let chain = 0;
  return entries.map((entry) => (chain = chainDigest(chain, entry)));
}

describe('Election Safety: "at most one leader can be elected in a given term" (§5.2)', () => {
  it('fires when two nodes lead the same term', () => {
    const checker = safetyChecker();
    expect(checker.leaderElected(5, 'n1', 3, log([1, 3]))).toBeUndefined();
    expect(checker.leaderElected(9, 'n2', 3, log([1, 3]))).toEqual({ property: 'election-safety', step: 9, detail: 'n2 and n1 were both leader in term 3' });
  });

  it('holds for one leader per term, and for the same leader seen again', () => {
    const checker = safetyChecker();
    expect(checker.leaderElected(1, 'n1', 1, log([1]))).toBeUndefined();
    expect(checker.leaderElected(2, 'n1', 1, log([1]))).toBeUndefined();
    expect(checker.leaderElected(3, 'n2', 2, log([1, 2]))).toBeUndefined();
    expect(checker.elections).toBe(2);
    expect(checker.maxTerm).toBe(2);
  });
});

describe('Leader Append-Only: "a leader never overwrites or deletes entries in its log" (§5.3)', () => {
  it('fires when a leader shrinks its log', () => {
    const checker = safetyChecker();
    const view = log([1, 2, 2]);
    checker.leaderElected(1, 'n1', 2, view);
    view.entries.pop();
    expect(checker.leaderStep(2, 'n1', 2, view)?.property).toBe('leader-append-only');
  });

  it('fires when a leader replaces an entry without changing its length', () => {
    const checker = safetyChecker();
    const view = log([1, 2, 2]);
    checker.leaderElected(1, 'n1', 2, view);
    view.entries[2] = { type: 'normal', term: 2, index: 3, data: new TextEncoder().encode('other') };
    expect(checker.leaderStep(2, 'n1', 2, view)).toMatchObject({ property: 'leader-append-only', detail: 'n1, leader of term 2, replaced its entry at index 3' });
  });

  it('fires when a leader overwrites its durable log', () => {
    expect(safetyChecker().leaderPersisted(4, 'n1', 2, 3, 5)?.property).toBe('leader-append-only');
    expect(safetyChecker().leaderPersisted(4, 'n1', 2, 6, 5)).toBeUndefined();
  });

  it('holds while the leader only appends, and restarts watching in a new term', () => {
    const checker = safetyChecker();
    const view = log([1, 2]);
    checker.leaderElected(1, 'n1', 2, view);
    view.entries.push({ type: 'normal', term: 2, index: 3, data: new Uint8Array([1]) });
    expect(checker.leaderStep(2, 'n1', 2, view)).toBeUndefined();
    // A new term is a new leadership: a shorter log is no violation then.
    expect(checker.leaderStep(3, 'n1', 4, log([1]))).toBeUndefined();
  });
});

describe('Log Matching: same index and term means identical logs up to there (§5.3)', () => {
  it('fires when two logs agree on (index, term) but differ before it', () => {
    const checker = safetyChecker();
    const a = log([1, 1, 2], 'a');
    const b = log([1, 1, 2], 'b');
    const chainsA = chains(a.entries);
    const chainsB = chains(b.entries);
    for (const entry of a.entries) expect(checker.entryPersisted(1, 'n1', entry.index, entry.term, chainsA[entry.index - 1]!)).toBeUndefined();
    expect(checker.entryPersisted(2, 'n2', 1, 1, chainsB[0]!)).toMatchObject({ property: 'log-matching', step: 2 });
  });

  it('holds for identical prefixes and for different terms at one index', () => {
    const checker = safetyChecker();
    const a = log([1, 1, 2], 'a');
    const chainsA = chains(a.entries);
    for (const id of ['n1', 'n2']) {
      for (const entry of a.entries) expect(checker.entryPersisted(1, id, entry.index, entry.term, chainsA[entry.index - 1]!)).toBeUndefined();
    }
    const c = log([1, 1, 3], 'a');
    expect(checker.entryPersisted(1, 'n3', 3, 3, chains(c.entries)[2]!)).toBeUndefined();
  });
});

describe('Leader Completeness: committed entries are in every later leader\'s log (§5.4)', () => {
  it('fires when a new leader lacks an entry committed in an earlier term', () => {
    const checker = safetyChecker();
    checker.leaderElected(1, 'n1', 1, log([1, 1]));
    expect(checker.commitAdvanced(2, 'n1', 1, 2, log([1, 1]))).toBeUndefined();
    expect(checker.leaderElected(3, 'n2', 2, log([1]))).toMatchObject({
      property: 'leader-completeness',
      detail: 'n2, leader of term 2, holds no entry at index 2, committed in term 1 with term 1',
    });
  });

  it('fires when a current leader of a later term lacks an entry seen committed afterwards', () => {
    const checker = safetyChecker();
    checker.leaderElected(1, 'n2', 3, log([1, 3]));
    // n1, still in term 2, reports index 2 committed with an entry of term 2 that n2 does not hold.
    expect(checker.commitAdvanced(2, 'n1', 2, 2, log([1, 2]))?.property).toBe('leader-completeness');
  });

  it('holds when later leaders keep committed entries, or commits happen in their own term', () => {
    const checker = safetyChecker();
    checker.commitAdvanced(1, 'n1', 1, 2, log([1, 1]));
    expect(checker.leaderElected(2, 'n2', 2, log([1, 1, 2]))).toBeUndefined();
    // Committed as seen in term 5: a leader of term 4 need not hold it.
    checker.commitAdvanced(3, 'n3', 5, 4, log([1, 1, 2, 5]));
    expect(checker.leaderElected(4, 'n4', 4, log([1, 1, 2]))).toBeUndefined();
    expect(checker.maxCommitted).toBe(4);
  });
});

describe('State Machine Safety: no two nodes apply different entries at one index (§5.4.3)', () => {
  it('fires when two nodes apply different histories at an index', () => {
    const checker = safetyChecker();
    const a = chains(log([1, 1], 'a').entries);
    const b = chains(log([1, 1], 'b').entries);
    expect(checker.entryApplied(1, 'n1', 1, a[0]!, 2)).toBeUndefined();
    expect(checker.entryApplied(1, 'n1', 2, a[1]!, 2)).toBeUndefined();
    expect(checker.entryApplied(2, 'n2', 1, b[0]!, 2)).toMatchObject({ property: 'state-machine-safety', step: 2 });
  });

  it('fires when a node applies beyond its commit index, or out of order', () => {
    const chain = chains(log([1, 1]).entries);
    expect(safetyChecker().entryApplied(1, 'n1', 1, chain[0]!, 0)?.detail).toBe('n1 applied index 1 beyond its commit index 0');
    expect(safetyChecker().entryApplied(1, 'n1', 2, chain[1]!, 2)?.detail).toBe('n1 applied index 2 when its next index to apply was 1');
  });

  it('fires when two nodes commit different entries at one index', () => {
    const checker = safetyChecker();
    checker.commitAdvanced(1, 'n1', 1, 1, log([1]));
    expect(checker.commitAdvanced(2, 'n2', 2, 1, log([2]))?.property).toBe('state-machine-safety');
  });

  it('fires when a restored snapshot disagrees with what was applied', () => {
    const checker = safetyChecker();
    const a = chains(log([1, 1], 'a').entries);
    checker.entryApplied(1, 'n1', 1, a[0]!, 2);
    checker.entryApplied(1, 'n1', 2, a[1]!, 2);
    expect(checker.snapshotRestored(3, 'n2', 2, a[1]! ^ 1)?.property).toBe('state-machine-safety');
    expect(checker.snapshotRestored(3, 'n3', 2, a[1]!)).toBeUndefined();
  });

  it('holds when every node applies the same entries in order, restarts included', () => {
    const checker = safetyChecker();
    const a = chains(log([1, 1, 2]).entries);
    for (const id of ['n1', 'n2']) for (let i = 1; i <= 3; i++) expect(checker.entryApplied(i, id, i, a[i - 1]!, 3)).toBeUndefined();
    checker.nodeRestarted('n1', 3, 0);
    for (let i = 1; i <= 3; i++) expect(checker.entryApplied(9, 'n1', i, a[i - 1]!, 3)).toBeUndefined();
  });
});

describe('durability of committed entries and of the persistent state', () => {
  it('fires when a durable entry at or below the durable commit index changes term', () => {
    expect(safetyChecker().durableOverwrite(7, 'n1', 3, 1, 2, 4)).toMatchObject({ property: 'committed-durability', step: 7 });
  });

  it('fires when a durable entry at or below the durable commit index is removed', () => {
    expect(safetyChecker().durableOverwrite(7, 'n1', 4, 1, undefined, 4)?.detail).toBe(
      'n1 removed its durable entry at index 4 (term 1) at or below its durable commit index 4',
    );
  });

  it('holds for overwrites above the commit index, or rewrites of the same term', () => {
    expect(safetyChecker().durableOverwrite(7, 'n1', 5, 1, 2, 4)).toBeUndefined();
    expect(safetyChecker().durableOverwrite(7, 'n1', 3, 2, 2, 4)).toBeUndefined();
  });

  it('fires when a restarted node forgets its term or vote (Figure 2, persistent state)', () => {
    expect(safetyChecker().stateRestored(3, 'n1', 5, 'n2', 0, undefined)?.property).toBe('persistent-state');
    expect(safetyChecker().stateRestored(3, 'n1', 5, 'n2', 5, 'n3')?.property).toBe('persistent-state');
    expect(safetyChecker().stateRestored(3, 'n1', 5, 'n2', 5, 'n2')).toBeUndefined();
  });
});
