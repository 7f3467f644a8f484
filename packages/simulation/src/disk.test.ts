import { StorageError } from '@greenraft/consensus';
import type { LogEntry, Snapshot } from '@greenraft/consensus';
import { storageCompliance } from '@greenraft/consensus-compliance';
import { describe, expect, it } from 'vitest';
import { chainDigest, encodeChainSnapshot } from './digest.js';
import { SimulatedDisk, type SimulatedDiskStorage } from './disk.js';

const entry = (index: number, term: number, tag = 'x'): LogEntry => ({ type: 'normal', index, term, data: new TextEncoder().encode(`${tag}${index}`) });
const config = { incoming: { voters: new Map([['n1', 1]]), learners: new Set<string>() } };

describe('SimulatedDisk', () => {
  it('holds nothing until the first write, then exactly what was written', () => {
    const disk = new SimulatedDisk();
    expect(disk.load()).toBeUndefined();
    disk.write({ hardState: { term: 2, vote: 'n2', commit: 1 }, entries: [entry(1, 1), entry(2, 2)] });
    expect(disk.load()).toEqual({ hardState: { term: 2, vote: 'n2', commit: 1 }, snapshot: undefined, entries: [entry(1, 1), entry(2, 2)] });
    expect(disk.chainAt(2)).toBe(chainDigest(chainDigest(0, entry(1, 1)), entry(2, 2)));
  });

  it('reports entries a write replaced by a different term, with the commit index before the write', () => {
    const disk = new SimulatedDisk();
    disk.write({ hardState: { term: 1, vote: undefined, commit: 2 }, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    const outcome = disk.write({ entries: [entry(2, 1), entry(3, 2)] });
    expect(outcome.overwritten).toEqual([{ index: 3, oldTerm: 1, newTerm: 2 }]);
    expect(outcome.commitBefore).toBe(2);
    expect(outcome.lastIndexBefore).toBe(3);
    expect(disk.lastIndex).toBe(3);
    expect(disk.entry(3)?.term).toBe(2);
    expect(disk.chainAt(3)).toBe(chainDigest(disk.chainAt(2)!, entry(3, 2)));
  });

  it('reports stored entries past the end of a shorter write as removed', () => {
    const disk = new SimulatedDisk();
    disk.write({ entries: [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)] });
    const outcome = disk.write({ entries: [entry(2, 2)] });
    expect(outcome.overwritten).toEqual([
      { index: 2, oldTerm: 1, newTerm: 2 },
      { index: 3, oldTerm: 1, newTerm: undefined },
      { index: 4, oldTerm: 1, newTerm: undefined },
    ]);
    expect(disk.lastIndex).toBe(2);
    expect(disk.chainAt(3)).toBeUndefined();
  });

  it('refuses a write that would leave a gap, a term going back or entries under the snapshot, and keeps nothing of it', () => {
    const disk = new SimulatedDisk();
    disk.write({ hardState: { term: 3, vote: undefined, commit: 0 }, entries: [entry(1, 1), entry(2, 1)] });
    expect(() => disk.write({ hardState: { term: 4, vote: 'n1', commit: 0 }, entries: [entry(4, 1)] })).toThrow(StorageError);
    expect(() => disk.write({ hardState: { term: 2, vote: undefined, commit: 0 } })).toThrow(StorageError);
    disk.compact({ metadata: { index: 2, term: 1, config }, data: encodeChainSnapshot(disk.chainAt(2)!) }, disk.chainAt(2)!);
    expect(() => disk.write({ entries: [entry(2, 2)] })).toThrow(StorageError);
    expect(disk.load()).toEqual({ hardState: { term: 3, vote: undefined, commit: 0 }, snapshot: disk.snapshot, entries: [] });
  });

  it('compacts to a snapshot and continues the chain from the snapshot digest', () => {
    const disk = new SimulatedDisk();
    disk.write({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    const chain2 = disk.chainAt(2)!;
    const chain3 = disk.chainAt(3)!;
    const snapshot: Snapshot = { metadata: { index: 2, term: 1, config }, data: encodeChainSnapshot(chain2) };
    disk.compact(snapshot, chain2);
    expect(disk.load()?.entries).toEqual([entry(3, 1)]);
    expect(disk.snapshotIndex).toBe(2);
    expect(disk.chainAt(2)).toBe(chain2);
    expect(disk.chainAt(3)).toBe(chain3);
    const outcome = disk.write({ entries: [entry(4, 1)] });
    expect(outcome.written[0]!.chain).toBe(chainDigest(chain3, entry(4, 1)));
  });

  it('installs a leader snapshot, keeping only a matching suffix', () => {
    const disk = new SimulatedDisk();
    disk.write({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    const chain3 = disk.chainAt(3)!;
    disk.write({ entries: [], snapshot: { metadata: { index: 2, term: 1, config }, data: encodeChainSnapshot(77) } });
    expect(disk.load()?.entries).toEqual([entry(3, 1)]);
    expect(disk.chainAt(2)).toBe(77);
    expect(disk.chainAt(3)).toBe(chain3);
    disk.write({ entries: [], snapshot: { metadata: { index: 5, term: 3, config }, data: encodeChainSnapshot(99) } });
    expect(disk.load()?.entries).toEqual([]);
    expect(disk.lastIndex).toBe(5);
    expect(disk.chainAt(5)).toBe(99);
    expect(disk.write({ entries: [entry(6, 3)] }).written[0]!.chain).toBe(chainDigest(99, entry(6, 3)));
  });
});

// The disk keeps the same storage rules as every Storage: opened as one, it passes the shared suite.
storageCompliance<SimulatedDiskStorage>({
  setup: async () => new SimulatedDisk().open(),
  teardown: async (storage) => storage.close(),
  reopen: async (storage) => storage.disk.open(),
});
