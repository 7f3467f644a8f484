import { crc32 } from 'node:zlib';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError, configuration } from '@greenraft/consensus';
import type { LogEntry, PersistentState } from '@greenraft/consensus';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageCorruptionError, StorageVersionError, type WalStorage, type WalStorageInit, walStorage } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-recovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let directories = 0;
const freshDirectory = (): string => join(root, `d${++directories}`);

const entry = (index: number, term = 1, size = 40): LogEntry => ({ type: 'normal', index, term, data: Uint8Array.from({ length: size }, (_, i) => (index + i) & 0xff) });
const run = (from: number, to: number, term = 1, size = 40): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term, size));
const founding = { incoming: configuration({ a: 2, b: 1 }, ['c']) };

async function expectCorruption(init: WalStorageInit, file: string, offset?: number): Promise<StorageCorruptionError> {
  const error = await walStorage(init).then(
    async (storage) => {
      await storage.close();
      return undefined;
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageCorruptionError);
  const corruption = error as StorageCorruptionError;
  expect(corruption.code).toBe('STORAGE');
  expect(corruption.file).toBe(file);
  if (offset !== undefined) expect(corruption.offset).toBeLessThanOrEqual(offset);
  return corruption;
}

async function withStore<T>(init: WalStorageInit, use: (storage: WalStorage) => Promise<T>): Promise<T> {
  const storage = await walStorage(init);
  try {
    return await use(storage);
  } finally {
    await storage.close();
  }
}

const indexes = (state: PersistentState): number[] => state.entries.map((e) => e.index);
const segments = (directory: string): string[] => readdirSync(directory).filter((name) => name.endsWith('.log')).sort();

describe('recovery', () => {
  it('reports a new directory as created, and a clean reopen as nothing dropped', async () => {
    const directory = freshDirectory();
    await withStore({ directory }, async (storage) => {
      expect(storage.recovery).toEqual({ created: true, segments: 0, batches: 0, tornTail: undefined, removedFiles: [] });
      await storage.save({ entries: run(1, 3), hardState: { term: 1, vote: 'a', commit: 1 } });
    });
    await withStore({ directory }, async (storage) => {
      expect(storage.recovery).toMatchObject({ created: false, segments: 1, batches: 2, tornTail: undefined, removedFiles: [] });
      expect(indexes(await storage.load())).toEqual([1, 2, 3]);
    });
  });

  it('drops a torn last batch, wherever the crash cut it, and reports exactly what it dropped', async () => {
    const directory = freshDirectory();
    const synced: number[] = [];
    await withStore({ directory, onSync: ({ offset, batches }) => batches > 0 && synced.push(offset) }, async (storage) => {
      await storage.save({ entries: run(1, 4), hardState: { term: 1, vote: 'a', commit: 0 } });
      await storage.save({ entries: run(5, 6, 2), hardState: { term: 2, vote: 'b', commit: 4 } });
    });
    const file = join(directory, 'wal-0000000000000001.log');
    const whole = readFileSync(file);
    const [afterFirst, afterSecond] = synced;
    expect(afterSecond).toBe(whole.length);
    for (let cut = afterFirst! + 1; cut < afterSecond!; cut++) {
      writeFileSync(file, whole.subarray(0, cut));
      await withStore({ directory }, async (storage) => {
        expect(storage.recovery.tornTail, `cut at ${cut}`).toEqual({ file, offset: afterFirst, bytes: cut - afterFirst! });
        const state = await storage.load();
        expect(indexes(state)).toEqual([1, 2, 3, 4]);
        expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
        expect(statSync(file).size).toBe(afterFirst);
        // The log goes on from the cut.
        await storage.save({ entries: [entry(5, 3)] });
      });
      await withStore({ directory }, async (storage) => expect(indexes(await storage.load())).toEqual([1, 2, 3, 4, 5]));
    }
  });

  it('takes zeros after the last batch for space never written (a power cut), not for corruption', async () => {
    const directory = freshDirectory();
    let firstEnd = 0;
    await withStore({ directory, onSync: ({ offset, batches }) => void (batches > 0 && (firstEnd ||= offset)) }, async (storage) => {
      await storage.save({ entries: run(1, 2) });
      await storage.save({ entries: run(3, 4) });
    });
    const file = join(directory, 'wal-0000000000000001.log');
    appendFileSync(file, Buffer.alloc(4096));
    await withStore({ directory }, async (storage) => {
      expect(storage.recovery.tornTail?.bytes).toBe(4096);
      expect(indexes(await storage.load())).toEqual([1, 2, 3, 4]);
    });
    // The second batch reached its full length but its pages were never written: zeros from inside it to the end.
    const bytes = readFileSync(file);
    bytes.fill(0, firstEnd + 30);
    writeFileSync(file, bytes);
    await withStore({ directory }, async (storage) => {
      expect(storage.recovery.tornTail).toEqual({ file, offset: firstEnd, bytes: bytes.length - firstEnd });
      expect(indexes(await storage.load())).toEqual([1, 2]);
    });
  });

  it('refuses every flipped bit anywhere in a durable log, naming the file and where it failed', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      await storage.save({ snapshot: { metadata: { index: 0, term: 0, config: founding }, data: new Uint8Array(0) } });
      for (let i = 0; i < 12; i++) await storage.save({ entries: run(1 + i * 8, 8 + i * 8, 1, 60), hardState: { term: 1, vote: 'a', commit: i * 8 } });
      await storage.save({ entries: [{ type: 'config', index: 97, term: 1, config: { incoming: configuration(['a', 'b']), outgoing: founding.incoming } }] });
    });
    const files = segments(directory);
    expect(files.length).toBeGreaterThanOrEqual(3);
    // Every byte of the last segment (where a torn tail could be mistaken for corruption), a stride of the others.
    for (const name of files) {
      const path = join(directory, name);
      const pristine = readFileSync(path);
      const stride = name === files.at(-1) ? 1 : name === files[0] ? 5 : 97;
      for (let offset = 0; offset < pristine.length; offset += stride) {
        const flipped = Buffer.from(pristine);
        flipped[offset]! ^= 1 << (offset % 8);
        writeFileSync(path, flipped);
        await expectCorruption({ directory, segmentBytes: 4096 }, path, offset);
      }
      writeFileSync(path, pristine);
    }
    await withStore({ directory }, async (storage) => expect(storage.lastIndex).toBe(97));
  });

  it('refuses a sealed segment that is cut short or has trailing bytes', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      for (let i = 0; i < 8; i++) await storage.save({ entries: run(1 + i * 10, 10 + i * 10, 1, 60) });
    });
    const [first] = segments(directory);
    const path = join(directory, first!);
    const pristine = readFileSync(path);
    truncateSync(path, pristine.length - 5);
    await expectCorruption({ directory }, path);
    appendFileSync(path, Buffer.concat([pristine.subarray(pristine.length - 5), Buffer.alloc(7)]));
    await expectCorruption({ directory }, path, pristine.length);
    writeFileSync(path, pristine);
    await withStore({ directory }, async (storage) => expect(storage.lastIndex).toBe(80));
  });

  it('refuses a log whose entries lie in a missing segment, and removes segments left over from an interrupted removal', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      for (let i = 0; i < 12; i++) await storage.save({ entries: run(1 + i * 10, 10 + i * 10, 1, 60) });
    });
    const files = segments(directory);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const middle = join(directory, files[1]!);
    const saved = readFileSync(middle);
    rmSync(middle);
    const error = await expectCorruption({ directory }, join(directory, files[2]!));
    expect(error.message).toMatch(/lies in a segment that is missing/);
    writeFileSync(middle, saved);

    // Compact everything: the old segments go; put a copy of the first one back, as if its removal had been cut short.
    const first = join(directory, files[0]!);
    const firstCopy = readFileSync(first);
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      await storage.save({ snapshot: { metadata: { index: 120, term: 1, config: founding }, data: Uint8Array.of(1) } });
      await storage.compact(120);
      await storage.save({ entries: [entry(121)] });
    });
    expect(segments(directory)).not.toContain(files[0]);
    writeFileSync(first, firstCopy);
    await withStore({ directory }, async (storage) => {
      expect(storage.recovery.removedFiles).toContain(first);
      expect(indexes(await storage.load())).toEqual([121]);
    });
    expect(existsSync(first)).toBe(false);
  });

  it('drops a newest segment whose creation a crash cut short', async () => {
    const directory = freshDirectory();
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      for (let i = 0; i < 3; i++) await storage.save({ entries: run(1 + i * 10, 10 + i * 10, 1, 60) });
    });
    const files = segments(directory);
    const next = join(directory, `wal-${String(files.length + 1).padStart(16, '0')}.log`);
    writeFileSync(next, readFileSync(join(directory, files.at(-1)!)).subarray(0, 20));
    await withStore({ directory, segmentBytes: 4096 }, async (storage) => {
      expect(storage.recovery.removedFiles).toEqual([next]);
      expect(storage.lastIndex).toBe(30);
      await storage.save({ entries: run(31, 40, 1, 60) });
    });
    await withStore({ directory }, async (storage) => expect(storage.lastIndex).toBe(40));

    // The very first segment cut short: nothing was ever written, the store starts afresh.
    const other = freshDirectory();
    await withStore({ directory: other }, async () => undefined);
    truncateSync(join(other, 'wal-0000000000000001.log'), 10);
    await withStore({ directory: other }, async (storage) => {
      expect(storage.recovery.created).toBe(true);
      expect(storage.lastIndex).toBe(0);
    });
  });

  it('refuses a newer format version with StorageVersionError', async () => {
    const directory = freshDirectory();
    await withStore({ directory }, async (storage) => storage.save({ entries: run(1, 2) }));
    const path = join(directory, 'wal-0000000000000001.log');
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(2, 8);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 28)), 28);
    writeFileSync(path, bytes);
    const error = await walStorage({ directory }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageVersionError);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ file: path, version: 2 });
  });

  describe('snapshots', () => {
    async function withSnapshots(): Promise<{ directory: string; current: string }> {
      const directory = freshDirectory();
      await withStore({ directory }, async (storage) => {
        await storage.save({ entries: run(1, 10) });
        await storage.save({ snapshot: { metadata: { index: 5, term: 1, config: founding }, data: Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff) } });
        await storage.save({ snapshot: { metadata: { index: 8, term: 1, config: founding }, data: Uint8Array.from({ length: 2000 }, (_, i) => (i * 3) & 0xff) } });
      });
      const snapshots = readdirSync(directory).filter((name) => name.endsWith('.snap'));
      // The older snapshot went once the newer one was durable.
      expect(snapshots).toEqual(['snapshot-0000000000000008-0000000000000002.snap']);
      return { directory, current: join(directory, snapshots[0]!) };
    }

    it('refuses a missing or corrupt snapshot file the log refers to', async () => {
      const { directory, current } = await withSnapshots();
      const pristine = readFileSync(current);
      for (const offset of [0, 9, 31, 40, 60, 1000, pristine.length - 1]) {
        const flipped = Buffer.from(pristine);
        flipped[offset]! ^= 0x10;
        writeFileSync(current, flipped);
        await expectCorruption({ directory }, current);
      }
      writeFileSync(current, pristine.subarray(0, pristine.length - 1));
      await expectCorruption({ directory }, current);
      rmSync(current);
      const error = await expectCorruption({ directory }, current);
      expect(error.message).toMatch(/cannot be opened/);
      writeFileSync(current, pristine);
      await withStore({ directory }, async (storage) => {
        const state = await storage.load();
        expect(state.snapshot?.metadata.index).toBe(8);
        expect(state.snapshot?.data).toEqual(Uint8Array.from({ length: 2000 }, (_, i) => (i * 3) & 0xff));
        expect(indexes(state)).toEqual([9, 10]);
      });
    });

    it('removes snapshot files no committed batch refers to, and temporary files of interrupted writes', async () => {
      const { directory, current } = await withSnapshots();
      const orphan = join(directory, 'snapshot-0000000000000009-0000000000000007.snap');
      copyFileSync(current, orphan);
      const temps = [join(directory, 'snapshot-0000000000000010-0000000000000008.snap.tmp'), join(directory, 'wal-0000000000000002.log.tmp')];
      for (const temp of temps) writeFileSync(temp, 'partial');
      const unrelated = join(directory, 'operator-notes.txt');
      writeFileSync(unrelated, 'kept');
      await withStore({ directory }, async (storage) => {
        expect([...storage.recovery.removedFiles].sort()).toEqual([...temps, orphan].sort());
        expect((await storage.load()).snapshot?.metadata.index).toBe(8);
        // Snapshot ids keep growing past the orphan's, so no new file reuses a stale name.
        await storage.save({ snapshot: { metadata: { index: 9, term: 1, config: founding }, data: Uint8Array.of(9) } });
      });
      expect(readdirSync(directory).filter((name) => name.endsWith('.snap'))).toEqual(['snapshot-0000000000000009-0000000000000008.snap']);
      expect(existsSync(unrelated)).toBe(true);
    });

    it('refuses snapshot files without any log segment', async () => {
      const { directory, current } = await withSnapshots();
      for (const name of segments(directory)) rmSync(join(directory, name));
      await expectCorruption({ directory }, current);
    });
  });
});
