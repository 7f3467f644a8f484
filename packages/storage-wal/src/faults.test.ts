/**
 * Failed writes and fsyncs, injected through the store's file-system seam, and failpoints.
 * fsyncgate: after a failed fsync the kernel may have dropped the dirty pages, so a retry that
 * "succeeds" proves nothing. The store must never retry: it fails for good, every pending and
 * later call rejects with StorageError, and what it acknowledged before is still there on reopen.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, StorageError, configuration } from '@greenraft/consensus';
import type { LogEntry, PersistentState, StorageBatch } from '@greenraft/consensus';
import { memoryStorage } from '@greenraft/raft';
import { afterAll, describe, expect, it } from 'vitest';
import { Failpoints, type WalFailpoint, parseFailpoint } from './failpoints.js';
import { type WalFileSystem, nodeFileSystem } from './fs.js';
import { walStorage } from './index.js';
import { type WalStorage, openWalStorage } from './wal.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let directories = 0;
const freshDirectory = (): string => join(root, `d${++directories}`);

const entry = (index: number, term = 1, size = 64): LogEntry => ({ type: 'normal', index, term, data: Uint8Array.from({ length: size }, (_, i) => (index * 7 + i) & 0xff) });
const run = (from: number, to: number, term = 1, size = 64): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term, size));
const founding = { incoming: configuration(['a', 'b', 'c']) };

/**
 * The real file system with counted calls, and a failure planned for the n-th call of one
 * operation, counted from `arm()` (after the store opened).
 */
function faultyFileSystem(operation: 'fdatasync' | 'fsync' | 'writeSync' | 'rename' | 'unlink', failOn: number) {
  const error = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
  const calls = { fdatasync: 0, fsync: 0, writeSync: 0, rename: 0, unlink: 0 };
  let armed = false;
  const strikes = (name: keyof typeof calls): boolean => armed && ++calls[name] === failOn && name === operation;
  const fileSystem: WalFileSystem = {
    ...nodeFileSystem,
    fdatasync: async (fd) => {
      if (strikes('fdatasync')) throw error;
      return nodeFileSystem.fdatasync(fd);
    },
    fsync: async (fd) => {
      if (strikes('fsync')) throw error;
      return nodeFileSystem.fsync(fd);
    },
    writeSync: (fd, buffer, offset, length, position) => {
      if (strikes('writeSync')) {
        // A short write first, as a full disk gives, then the error.
        nodeFileSystem.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
        throw error;
      }
      return nodeFileSystem.writeSync(fd, buffer, offset, length, position);
    },
    rename: async (from, to) => {
      if (strikes('rename')) throw error;
      return nodeFileSystem.rename(from, to);
    },
    unlink: async (path) => {
      if (strikes('unlink')) throw error;
      return nodeFileSystem.unlink(path);
    },
  };
  return {
    fileSystem,
    calls,
    arm: () => {
      armed = true;
    },
  };
}

type Step = { readonly batch: StorageBatch } | { readonly compact: number };

/** A workload that crosses segments, overwrites, snapshots and compacts. */
function workload(): Step[] {
  const steps: Step[] = [];
  let next = 1;
  for (let round = 0; round < 6; round++) {
    steps.push({ batch: { entries: run(next, next + 9, round + 1, 150), hardState: { term: round + 1, vote: 'a', commit: next } } });
    next += 10;
    if (round % 2 === 1) steps.push({ batch: { entries: run(next - 3, next - 1, round + 2, 90) } });
    if (round === 3) {
      steps.push({ batch: { snapshot: { metadata: { index: next - 5, term: round + 1, config: founding }, data: Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff) } } });
      steps.push({ compact: next - 5 });
    }
  }
  return steps;
}

const fingerprint = (state: PersistentState): string =>
  JSON.stringify({ ...state, snapshot: state.snapshot && { ...state.snapshot, data: [...state.snapshot.data] }, entries: state.entries.map((e) => (e.type === 'normal' ? { ...e, data: [...e.data] } : e)) }, (_k, v: unknown) =>
    v instanceof Map ? [...v] : v instanceof Set ? [...v] : v,
  );

/** Runs the workload (two calls at a time, so group commits form) until the store fails; returns how far it got. */
async function runUntilFailure(storage: WalStorage, steps: readonly Step[]): Promise<{ acknowledged: number; failure: unknown }> {
  let acknowledged = 0;
  for (let i = 0; i < steps.length; i += 2) {
    const calls = steps.slice(i, i + 2).map((step) => ('batch' in step ? storage.save(step.batch) : storage.compact(step.compact)));
    const results = await Promise.allSettled(calls);
    for (const result of results) {
      if (result.status === 'rejected') return { acknowledged, failure: result.reason };
      acknowledged++;
    }
  }
  return { acknowledged, failure: undefined };
}

/** The states a reopened store may hold: at least every acknowledged step, at most every step issued. */
async function acceptable(steps: readonly Step[], from: number, to: number): Promise<Set<string>> {
  const model = memoryStorage();
  const states = new Set<string>();
  for (let i = 0; i <= to; i++) {
    if (i >= from) states.add(fingerprint(await model.load()));
    const step = steps[i];
    if (step === undefined) break;
    if ('batch' in step) await model.save(step.batch);
    else await model.compact(step.compact);
  }
  return states;
}

describe('a failed write or fsync', () => {
  for (const [operation, label] of [
    ['fdatasync', 'fdatasync of a segment'],
    ['writeSync', 'short write then error'],
    ['fsync', 'fsync of a new segment or snapshot file'],
    ['rename', 'rename of a new segment or snapshot file'],
  ] as const) {
    it(`(${label}) is never retried: the store fails for good and keeps what it acknowledged`, async () => {
      const steps = workload();
      let struck = 0;
      for (let failOn = 1; failOn <= 6; failOn++) {
        const directory = freshDirectory();
        const { fileSystem, calls, arm } = faultyFileSystem(operation, failOn);
        const storage = await openWalStorage({ directory, segmentBytes: 4096 }, fileSystem);
        arm();
        const { acknowledged, failure } = await runUntilFailure(storage, steps);
        const where = `${label}, failing call ${failOn}`;
        if (failure === undefined) continue;
        struck++;
        expect(failure, where).toBeInstanceOf(StorageError);
        expect((failure as StorageError).cause, where).toMatchObject({ code: 'EIO' });
        // The failing call was the last of its kind.
        expect(calls[operation], where).toBe(failOn);
        expect(storage.failure, where).toBe(failure);
        const before = { ...calls };
        for (const call of [storage.save({ entries: [entry(1000)] }), storage.compact(0), storage.load(), storage.entries(1, 1)]) {
          await expect(call, where).rejects.toBe(failure);
        }
        // Nothing was tried again: not the failed call, not any other.
        expect(calls, where).toEqual(before);
        await storage.close();
        // The lock was released: the directory opens again, with every acknowledged step.
        const reopened = await walStorage({ directory, segmentBytes: 4096 });
        try {
          const states = await acceptable(steps, acknowledged, acknowledged + 2);
          expect(states.has(fingerprint(await reopened.load())), where).toBe(true);
        } finally {
          await reopened.close();
        }
      }
      expect(struck).toBeGreaterThanOrEqual(2);
    });
  }

  it('rejects every save queued behind the failed fsync', async () => {
    const directory = freshDirectory();
    const { fileSystem, arm } = faultyFileSystem('fdatasync', 2);
    const storage = await openWalStorage({ directory }, fileSystem);
    arm();
    await storage.save({ entries: [entry(1)] });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => storage.save({ entries: [entry(i + 1)] })));
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    await storage.close();
    const reopened = await walStorage({ directory });
    expect(reopened.lastIndex).toBeGreaterThanOrEqual(1);
    await reopened.close();
  });

  it('never acknowledges a save before its fdatasync has returned', async () => {
    const directory = freshDirectory();
    let release: () => void = () => undefined;
    let held = false;
    const fileSystem: WalFileSystem = {
      ...nodeFileSystem,
      fdatasync: async (fd) => {
        if (held) await new Promise<void>((resolve) => (release = resolve));
        return nodeFileSystem.fdatasync(fd);
      },
    };
    const storage = await openWalStorage({ directory }, fileSystem);
    held = true;
    let acknowledged = false;
    const saving = storage.save({ entries: [entry(1)] }).then(() => (acknowledged = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(acknowledged).toBe(false);
    held = false;
    release();
    await saving;
    expect(acknowledged).toBe(true);
    await storage.close();
  });

  it('a failed removal of an old segment stops the store too', async () => {
    const directory = freshDirectory();
    const { fileSystem, arm } = faultyFileSystem('unlink', 1);
    const storage = await openWalStorage({ directory, segmentBytes: 4096 }, fileSystem);
    arm();
    for (let i = 0; i < 6; i++) await storage.save({ entries: run(1 + i * 10, 10 + i * 10, 1, 150) });
    await storage.save({ snapshot: { metadata: { index: 55, term: 1, config: founding }, data: Uint8Array.of(1) } });
    await expect(storage.compact(55)).rejects.toBeInstanceOf(StorageError);
    await expect(storage.save({ entries: [entry(61)] })).rejects.toBeInstanceOf(StorageError);
    await storage.close();
    const reopened = await walStorage({ directory, segmentBytes: 4096 });
    expect(reopened.lastIndex).toBe(60);
    await reopened.close();
  });
});

describe('failpoints', () => {
  it('parse from the environment variable syntax point[:hit[:action]]', () => {
    expect(parseFailpoint('afterWrite')).toEqual({ point: 'afterWrite' });
    expect(parseFailpoint('beforeRename:3')).toEqual({ point: 'beforeRename', hit: 3 });
    expect(parseFailpoint('afterFsync:2:error')).toEqual({ point: 'afterFsync', hit: 2, action: 'error' });
    for (const bad of ['', 'later', 'afterWrite:0', 'afterWrite:x', 'afterWrite:1:explode', 'afterWrite:1:crash:extra']) {
      expect(() => parseFailpoint(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(() => Failpoints.resolve(undefined, 'nonsense')).toThrow(/GREENRAFT_WAL_FAILPOINT/);
    // The init option wins over the environment.
    expect(() => Failpoints.resolve({ point: 'afterWrite', action: 'error' }, 'nonsense').reach('afterWrite')).toThrow(/injected failure at afterWrite/);
  });

  it('strike only at their hit', () => {
    const failpoints = new Failpoints({ point: 'beforeFsync', hit: 3, action: 'error' });
    failpoints.reach('beforeFsync');
    failpoints.reach('afterFsync');
    failpoints.reach('beforeFsync');
    expect(() => failpoints.reach('beforeFsync')).toThrow(/hit 3/);
    failpoints.reach('beforeFsync');
  });

  const points: WalFailpoint[] = ['beforeWrite', 'afterWrite', 'beforeFsync', 'afterFsync', 'beforeRename', 'afterRename'];
  for (const point of points) {
    it(`at ${point}, as an I/O error, stop the store with what it acknowledged intact`, async () => {
      const steps = workload();
      let struck = 0;
      for (let hit = 1; hit <= 12; hit++) {
        const directory = freshDirectory();
        let storage: WalStorage;
        try {
          storage = await walStorage({ directory, segmentBytes: 4096, failpoint: { point, hit, action: 'error' } });
        } catch (error) {
          // Struck while creating the first segment: nothing was acknowledged, the directory opens afresh.
          expect(error).toBeInstanceOf(StorageError);
          const reopened = await walStorage({ directory });
          expect(reopened.lastIndex).toBe(0);
          expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
          await reopened.close();
          struck++;
          continue;
        }
        const { acknowledged, failure } = await runUntilFailure(storage, steps);
        await storage.close();
        if (failure === undefined) continue;
        struck++;
        expect(failure).toBeInstanceOf(StorageError);
        const reopened = await walStorage({ directory, segmentBytes: 4096 });
        try {
          const states = await acceptable(steps, acknowledged, acknowledged + 2);
          expect(states.has(fingerprint(await reopened.load())), `${point}:${hit}`).toBe(true);
          expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
        } finally {
          await reopened.close();
        }
      }
      expect(struck).toBeGreaterThan(0);
    });
  }
});
