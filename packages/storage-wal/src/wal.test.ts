import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, StorageError, configuration } from '@greenraft/consensus';
import type { LogEntry, NormalEntry } from '@greenraft/consensus';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageCorruptionError, type WalStorage, type WalStorageInit, type WalSyncEvent, walStorage } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let directories = 0;
const freshDirectory = (): string => join(root, `d${++directories}`);

const entry = (index: number, term = 1, size = 64): LogEntry => ({ type: 'normal', index, term, data: Uint8Array.from({ length: size }, (_, i) => (index * 13 + term + i) & 0xff) });
const run = (from: number, to: number, term = 1, size = 64): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term, size));
const founding = { incoming: configuration(['a', 'b', 'c']) };
const segments = (directory: string): string[] => readdirSync(directory).filter((name) => name.endsWith('.log')).sort();
const summary = (entries: readonly LogEntry[]): [number, number][] => entries.map((e) => [e.index, e.term]);

async function withStore<T>(init: WalStorageInit, use: (storage: WalStorage) => Promise<T>): Promise<T> {
  const storage = await walStorage(init);
  try {
    return await use(storage);
  } finally {
    await storage.close();
  }
}

describe('walStorage', () => {
  it('truncates a conflicting suffix by appending: the bytes already written are never rewritten', async () => {
    const directory = freshDirectory();
    await withStore({ directory }, async (storage) => {
      await storage.save({ entries: run(1, 20) });
      const file = join(directory, segments(directory)[0]!);
      const before = readFileSync(file);
      await storage.save({ entries: run(10, 12, 2) });
      const after = readFileSync(file);
      expect(after.length).toBeGreaterThan(before.length);
      expect(after.subarray(0, before.length).equals(before)).toBe(true);
      expect(summary((await storage.load()).entries)).toEqual([...summary(run(1, 9)), [10, 2], [11, 2], [12, 2]]);
      expect([storage.term(9), storage.term(10), storage.term(13)]).toEqual([1, 2, undefined]);
    });
    await withStore({ directory }, async (storage) => {
      expect(summary((await storage.load()).entries)).toEqual([...summary(run(1, 9)), [10, 2], [11, 2], [12, 2]]);
      const [tenth] = await storage.entries(10, 11);
      expect(tenth).toEqual(entry(10, 2));
    });
  });

  it('compacts by deleting whole segments and persisting a prefix marker', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      for (let i = 0; i < 20; i++) await storage.save({ entries: run(1 + i * 10, 10 + i * 10) });
      const before = segments(directory);
      expect(before.length).toBeGreaterThanOrEqual(4);
      await storage.save({ snapshot: { metadata: { index: 150, term: 1, config: founding }, data: Uint8Array.of(1, 5, 0) } });
      // Until compacted, the entries the snapshot covers stay stored.
      expect(storage.firstIndex).toBe(1);
      const withSnapshot = segments(directory);
      expect(withSnapshot).toEqual(expect.arrayContaining(before));
      await storage.compact(150);
      expect(storage.firstIndex).toBe(151);
      const after = segments(directory);
      expect(after.length).toBeLessThan(before.length);
      // Only whole segments went, the oldest first; the newest are untouched.
      expect(after).toEqual(withSnapshot.slice(withSnapshot.length - after.length));
      await expect(storage.entries(150, 151)).rejects.toThrow(StorageError);
      expect(summary(await storage.entries(151, 153))).toEqual([[151, 1], [152, 1]]);
    });
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      expect(storage.firstIndex).toBe(151);
      const state = await storage.load();
      expect(state.snapshot?.metadata.index).toBe(150);
      expect(state.entries.map((e) => e.index)).toEqual(run(151, 200).map((e) => e.index));
    });
  });

  it('coalesces overlapping saves into shared fsyncs (group commit), resolving them in order once durable', async () => {
    const directory = freshDirectory();
    const syncs: WalSyncEvent[] = [];
    await withStore({ directory, onSync: (event) => syncs.push(event) }, async (storage) => {
      // Creating the first segment is reported too.
      expect(syncs).toHaveLength(1);
      expect(syncs[0]).toMatchObject({ file: join(storage.directory, 'wal-0000000000000001.log'), batches: 0 });
      await storage.save({ entries: [entry(1)] });
      expect(syncs).toHaveLength(2);
      expect(syncs[1]).toMatchObject({ file: join(storage.directory, 'wal-0000000000000001.log'), batches: 1 });
      expect(syncs[1]!.offset).toBe(statSync(syncs[1]!.file).size);
      syncs.shift();
      const resolved: number[] = [];
      await Promise.all(Array.from({ length: 50 }, (_, i) => storage.save({ entries: [entry(i + 2)], hardState: { term: 1, vote: 'a', commit: i } }).then(() => resolved.push(i))));
      expect(resolved).toEqual(Array.from({ length: 50 }, (_, i) => i));
      // Issued in one turn of the event loop: one fsync for all fifty.
      expect(syncs.slice(1).map((event) => event.batches)).toEqual([50]);
      // Issued while an fsync is under way: they wait for the next one, together.
      const first = storage.save({ entries: [entry(52)] });
      await Promise.resolve();
      const later = Array.from({ length: 20 }, (_, i) => storage.save({ entries: [entry(53 + i)] }));
      await Promise.all([first, ...later]);
      expect(syncs.slice(2).map((event) => event.batches)).toEqual([1, 20]);
    });
    await withStore({ directory }, async (storage) => {
      const state = await storage.load();
      expect(state.entries).toHaveLength(72);
      expect(state.hardState.commit).toBe(49);
    });
  });

  it('reads entries from disk beyond its bounded cache, checking them again, and refuses a corrupted one', async () => {
    const directory = freshDirectory();
    await withStore({ directory, cacheBytes: 2000 }, async (storage) => {
      const written = run(1, 100, 1, 100);
      for (let i = 0; i < 10; i++) await storage.save({ entries: written.slice(i * 10, i * 10 + 10) });
      expect(await storage.entries(1, 101)).toEqual(written);
      expect(await storage.entries(40, 40)).toEqual([]);
      await expect(storage.entries(0, 3)).rejects.toThrow(StorageError);
      await expect(storage.entries(5, 102)).rejects.toThrow(StorageError);
      // Corrupt the record of entry 3 on disk (long evicted from the cache).
      const file = join(directory, segments(directory)[0]!);
      const bytes = readFileSync(file);
      const at = bytes.indexOf(Buffer.from((entry(3, 1, 100) as NormalEntry).data));
      expect(at).toBeGreaterThan(0);
      bytes[at + 50]! ^= 0x01;
      writeFileSync(file, bytes);
      expect(summary(await storage.entries(99, 101))).toEqual([[99, 1], [100, 1]]);
      const error = await storage.entries(1, 5).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StorageCorruptionError);
      expect(error).toMatchObject({ file });
      // A store that served corruption once serves nothing more.
      expect(storage.failure).toBe(error);
      await expect(storage.save({ entries: [entry(101)] })).rejects.toBe(error);
      await expect(storage.load()).rejects.toBe(error);
    });
  });

  it('streams a large snapshot to and from its file and keeps only the newest', async () => {
    const directory = freshDirectory();
    const data = Uint8Array.from({ length: 6 * 1024 * 1024 + 17 }, (_, i) => (i * 2654435761) >>> 24);
    await withStore({ directory }, async (storage) => {
      await storage.save({ entries: run(1, 10) });
      await storage.save({ snapshot: { metadata: { index: 4, term: 1, config: founding }, data: Uint8Array.of(4) } });
      await storage.save({ snapshot: { metadata: { index: 9, term: 1, config: founding }, data } });
    });
    const snapshots = readdirSync(directory).filter((name) => name.endsWith('.snap'));
    expect(snapshots).toHaveLength(1);
    expect(statSync(join(directory, snapshots[0]!)).size).toBeGreaterThan(data.length);
    await withStore({ directory }, async (storage) => {
      const state = await storage.load();
      expect(state.snapshot?.metadata).toEqual({ index: 9, term: 1, config: founding });
      expect(Buffer.from(state.snapshot!.data).equals(Buffer.from(data))).toBe(true);
      expect(summary(state.entries)).toEqual([[10, 1]]);
    });
  });

  it('puts a batch larger than a segment into a segment of its own', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      await storage.save({ entries: run(1, 2) });
      await storage.save({ entries: run(3, 3, 1, 10_000) });
      await storage.save({ entries: run(4, 5) });
      expect(segments(directory)).toHaveLength(3);
      expect(statSync(join(directory, segments(directory)[1]!)).size).toBeGreaterThan(10_000);
    });
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => expect(await storage.entries(1, 6)).toEqual([...run(1, 2), ...run(3, 3, 1, 10_000), ...run(4, 5)]));
  });

  it('returns fresh copies: changing what load returned changes nothing stored', async () => {
    const directory = freshDirectory();
    await withStore({ directory }, async (storage) => {
      const saved = entry(1);
      await storage.save({ entries: [saved] });
      const [first] = (await storage.load()).entries;
      if (first?.type !== 'normal') throw new Error('expected a normal entry');
      first.data.fill(0);
      expect((await storage.entries(1, 2))[0]).toEqual(entry(1));
    });
  });

  it('flushes pending saves on close, is idempotent, and refuses everything afterwards', async () => {
    const directory = freshDirectory();
    const storage = await walStorage({ directory });
    const pending = storage.save({ entries: run(1, 3) });
    const closing = storage.close();
    await pending;
    await closing;
    await storage.close();
    for (const call of [storage.load(), storage.save({ entries: [entry(4)] }), storage.compact(0), storage.entries(1, 2)]) {
      await expect(call).rejects.toBeInstanceOf(StorageError);
    }
    await withStore({ directory }, async (reopened) => expect(reopened.lastIndex).toBe(3));
  });

  it('refuses malformed batches with StorageError and keeps nothing of them', async () => {
    const directory = freshDirectory();
    await withStore({ directory }, async (storage) => {
      await storage.save({ entries: run(1, 2), hardState: { term: 1, vote: 'a', commit: 1 } });
      const bad = [
        null,
        { entries: 'nope' },
        { entries: [{ type: 'normal', index: 3, term: 1, data: 'text' }], hardState: { term: 2, vote: 'b', commit: 2 } },
        { entries: [{ type: 'config', index: 3, term: 1, config: { incoming: { voters: new Map([['a', -1]]), learners: new Set() } } }] },
        { entries: [{ type: 'mystery', index: 3, term: 1 }] },
        { snapshot: { metadata: { index: 2, term: 1, config: { incoming: { voters: {}, learners: [] } } }, data: new Uint8Array(0) } },
        { snapshot: { metadata: { index: 2, term: 1, config: founding }, data: [1, 2] } },
        { hardState: { term: 1, vote: '', commit: 0 } },
        { entries: [{ ...entry(3), index: 3.5 }] },
      ];
      for (const batch of bad) {
        const error = await storage.save(batch as never).catch((caught: unknown) => caught);
        expect(error, JSON.stringify(batch)).toBeInstanceOf(StorageError);
      }
      expect(storage.failure).toBeUndefined();
      const state = await storage.load();
      expect(summary(state.entries)).toEqual([[1, 1], [2, 1]]);
      expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 1 });
      expect(state.snapshot).toBeUndefined();
    });
    await withStore({ directory }, async (storage) => expect(storage.lastIndex).toBe(2));
  });

  it('checks its options', async () => {
    const directory = freshDirectory();
    for (const init of [
      {},
      { directory: '' },
      { directory, segmentBytes: 100 },
      { directory, segmentBytes: 2 ** 40 },
      { directory, cacheBytes: -1 },
      { directory, cacheBytes: 1.5 },
      { directory, onSync: 'log' },
      { directory, failpoint: { point: 'sometime' } },
      { directory, failpoint: { point: 'afterWrite', hit: 0 } },
      { directory, failpoint: { point: 'afterWrite', when: 'now' } },
      { directory, segmentSize: 4096 },
    ]) {
      await expect(walStorage(init as WalStorageInit), JSON.stringify(init)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});
