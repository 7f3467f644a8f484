import { StorageError, configuration } from '@greenraft/consensus';
import type { ClusterConfig, LogEntry, NormalEntry, Snapshot, Storage } from '@greenraft/consensus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** What {@link storageCompliance} needs to exercise a {@link Storage} implementation. */
export interface StorageComplianceOptions<S extends Storage = Storage> {
  /** Returns a fresh, empty, open store. */
  setup(): Promise<S>;
  /** Releases a store returned by `setup` or `reopen` (it may already be closed). */
  teardown(storage: S): Promise<void>;
  /**
   * Returns the store a restarting node would open after `storage` was closed cleanly
   * (a LevelDB store: close and reopen the same directory). Omit to skip the persistence test.
   * @default undefined (the "keeps everything saved across a clean close and reopen" test is skipped)
   */
  reopen?(storage: S): Promise<S>;
}

const encoder = new TextEncoder();

function normal(index: number, term: number, text = `entry ${index}`): NormalEntry {
  return { type: 'normal', index, term, data: encoder.encode(text) };
}

function run(from: number, to: number, term: number): LogEntry[] {
  const entries: LogEntry[] = [];
  for (let index = from; index <= to; index++) entries.push(normal(index, term));
  return entries;
}

const founding: ClusterConfig = { incoming: configuration({ a: 3, b: 1, c: 1 }, ['d']) };

function snapshotAt(index: number, term: number, text = `state at ${index}`): Snapshot {
  return { metadata: { index, term, config: founding }, data: encoder.encode(text) };
}

async function expectStorageError(operation: Promise<unknown>): Promise<StorageError> {
  const error = await operation.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as StorageError).code).toBe('STORAGE');
  return error as StorageError;
}

/**
 * Registers vitest tests that every {@link Storage} implementation must pass: a fresh store
 * loads empty, batches are atomic, entries overwrite from their first index, the hard state
 * and snapshots round-trip with their configuration, compaction needs a covering snapshot,
 * and misuse rejects with StorageError.
 *
 * @example
 * ```ts
 * // memory.spec.test.ts
 * import { storageCompliance } from '@greenraft/consensus-compliance';
 * import { memoryStorage } from '@greenraft/raft';
 *
 * storageCompliance({ setup: async () => memoryStorage(), teardown: async (storage) => storage.close() });
 * ```
 */
export function storageCompliance<S extends Storage>(options: StorageComplianceOptions<S>): void {
  describe('Storage compliance', () => {
    let storage: S;
    const opened: S[] = [];

    beforeEach(async () => {
      storage = await options.setup();
      opened.push(storage);
    });

    afterEach(async () => {
      for (const store of opened.splice(0)) await options.teardown(store);
    });

    it('loads a fresh store as term 0, no vote, no snapshot and no entries', async () => {
      const state = await storage.load();
      expect(state.hardState).toEqual({ term: 0, vote: undefined, commit: 0 });
      expect(state.hardState.vote).toBeUndefined();
      expect(state.snapshot).toBeUndefined();
      expect(state.entries).toEqual([]);
    });

    it('round-trips the hard state, with and without a vote', async () => {
      await storage.save({ hardState: { term: 3, vote: 'b', commit: 0 } });
      expect((await storage.load()).hardState).toEqual({ term: 3, vote: 'b', commit: 0 });
      await storage.save({ hardState: { term: 4, vote: undefined, commit: 0 } });
      const { hardState } = await storage.load();
      expect(hardState.term).toBe(4);
      expect(hardState.vote).toBeUndefined();
    });

    it('round-trips normal and configuration entries byte for byte', async () => {
      const config: LogEntry = { type: 'config', index: 2, term: 1, config: { incoming: configuration({ a: 2, b: 1 }), outgoing: founding.incoming } };
      const bytes = Uint8Array.of(0, 255, 7, 128);
      await storage.save({ entries: [normal(1, 1), config, { type: 'normal', index: 3, term: 1, data: bytes }] });
      const { entries } = await storage.load();
      expect(entries.map((entry) => entry.index)).toEqual([1, 2, 3]);
      const loadedConfig = entries[1]!;
      expect(loadedConfig.type).toBe('config');
      if (loadedConfig.type !== 'config') return;
      expect(loadedConfig.config.incoming.voters).toEqual(new Map([['a', 2], ['b', 1]]));
      expect(loadedConfig.config.outgoing?.voters).toEqual(new Map([['a', 3], ['b', 1], ['c', 1]]));
      expect(loadedConfig.config.outgoing?.learners).toEqual(new Set(['d']));
      const last = entries[2]!;
      expect(last.type === 'normal' && [...last.data]).toEqual([0, 255, 7, 128]);
    });

    it('saves entries and hard state of one batch together', async () => {
      await storage.save({ entries: run(1, 3, 1), hardState: { term: 1, vote: 'a', commit: 2 } });
      const state = await storage.load();
      expect(state.entries.map((entry) => [entry.index, entry.term])).toEqual([[1, 1], [2, 1], [3, 1]]);
      expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
    });

    it('overwrites stored entries from the first index of a batch and drops the rest', async () => {
      await storage.save({ entries: run(1, 5, 1) });
      await storage.save({ entries: [normal(3, 2, 'new 3'), normal(4, 2, 'new 4')] });
      const { entries } = await storage.load();
      expect(entries.map((entry) => [entry.index, entry.term])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2]]);
      const third = entries[2]!;
      expect(third.type === 'normal' && new TextDecoder().decode(third.data)).toBe('new 3');
      await storage.save({ entries: [normal(5, 2)] });
      expect((await storage.load()).entries.map((entry) => entry.index)).toEqual([1, 2, 3, 4, 5]);
    });

    it('rejects a batch whose entries leave a gap, and keeps nothing of it', async () => {
      await storage.save({ entries: run(1, 2, 1), hardState: { term: 1, vote: undefined, commit: 0 } });
      await expectStorageError(storage.save({ entries: run(4, 5, 1), hardState: { term: 2, vote: 'c', commit: 1 } }));
      const state = await storage.load();
      expect(state.entries.map((entry) => entry.index)).toEqual([1, 2]);
      expect(state.hardState).toEqual({ term: 1, vote: undefined, commit: 0 });
    });

    it('rejects entries that are not contiguous within a batch, and keeps nothing of it', async () => {
      await expectStorageError(storage.save({ entries: [normal(1, 1), normal(3, 1)], hardState: { term: 1, vote: 'a', commit: 0 } }));
      const state = await storage.load();
      expect(state.entries).toEqual([]);
      expect(state.hardState.term).toBe(0);
    });

    it('saves a snapshot with its configuration and keeps the log after it when they agree', async () => {
      await storage.save({ entries: run(1, 10, 2) });
      await storage.save({ snapshot: snapshotAt(6, 2) });
      const state = await storage.load();
      expect(state.snapshot?.metadata.index).toBe(6);
      expect(state.snapshot?.metadata.term).toBe(2);
      expect(new TextDecoder().decode(state.snapshot?.data)).toBe('state at 6');
      expect(state.snapshot?.metadata.config.incoming.voters).toEqual(new Map([['a', 3], ['b', 1], ['c', 1]]));
      expect(state.snapshot?.metadata.config.incoming.learners).toEqual(new Set(['d']));
      expect(state.entries.map((entry) => entry.index)).toEqual([7, 8, 9, 10]);
    });

    it('drops the whole log when a snapshot disagrees with it or lies beyond it', async () => {
      await storage.save({ entries: run(1, 5, 1) });
      await storage.save({ snapshot: snapshotAt(3, 2) });
      expect((await storage.load()).entries).toEqual([]);
      await storage.save({ snapshot: snapshotAt(9, 3) });
      const state = await storage.load();
      expect(state.snapshot?.metadata.index).toBe(9);
      expect(state.entries).toEqual([]);
      await storage.save({ entries: run(10, 11, 3) });
      expect((await storage.load()).entries.map((entry) => entry.index)).toEqual([10, 11]);
    });

    it('compacts up to a saved snapshot and keeps loading the entries after it', async () => {
      await storage.save({ entries: run(1, 10, 1), hardState: { term: 1, vote: 'a', commit: 8 } });
      await storage.save({ snapshot: snapshotAt(5, 1) });
      await storage.compact(5);
      const state = await storage.load();
      expect(state.snapshot?.metadata.index).toBe(5);
      expect(state.entries.map((entry) => entry.index)).toEqual([6, 7, 8, 9, 10]);
      expect(state.hardState.commit).toBe(8);
      await storage.save({ entries: [normal(11, 1)] });
      expect((await storage.load()).entries.map((entry) => entry.index)).toEqual([6, 7, 8, 9, 10, 11]);
    });

    it('refuses to compact without a snapshot or beyond it', async () => {
      await storage.save({ entries: run(1, 10, 1) });
      await expectStorageError(storage.compact(3));
      await storage.save({ snapshot: snapshotAt(4, 1) });
      await expectStorageError(storage.compact(5));
      expect((await storage.load()).entries.map((entry) => entry.index)).toEqual([5, 6, 7, 8, 9, 10]);
    });

    it('refuses entries that would overwrite the snapshot', async () => {
      await storage.save({ entries: run(1, 6, 1) });
      await storage.save({ snapshot: snapshotAt(4, 1) });
      await expectStorageError(storage.save({ entries: [normal(3, 2)] }));
      expect((await storage.load()).entries.map((entry) => [entry.index, entry.term])).toEqual([[5, 1], [6, 1]]);
    });

    it('rejects every call after close with StorageError', async () => {
      await storage.save({ entries: run(1, 1, 1) });
      await storage.close();
      await expectStorageError(storage.load());
      await expectStorageError(storage.save({ entries: run(2, 2, 1) }));
      await expectStorageError(storage.compact(0));
    });

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it('keeps everything saved across a clean close and reopen', async () => {
        await storage.save({ entries: run(1, 8, 1), hardState: { term: 2, vote: 'c', commit: 7 } });
        await storage.save({ snapshot: snapshotAt(4, 1) });
        await storage.compact(4);
        await storage.close();
        const reopened = await reopen(storage);
        opened.push(reopened);
        const state = await reopened.load();
        expect(state.hardState).toEqual({ term: 2, vote: 'c', commit: 7 });
        expect(state.snapshot?.metadata.index).toBe(4);
        expect(state.entries.map((entry) => entry.index)).toEqual([5, 6, 7, 8]);
      });
    }
  });
}
