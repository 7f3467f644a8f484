import { InvalidArgumentError, StorageError, configuration } from '@greenraft/consensus';
import type { LogEntry } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { memoryStorage } from './memory.js';

const entries = (from: number, to: number, term: number): LogEntry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ type: 'normal', index: from + i, term, data: Uint8Array.of(from + i) }) as const);

const indexes = (list: readonly LogEntry[]) => list.map((entry) => entry.index);

describe('memoryStorage durability', () => {
  it("'always': every resolved save survives a crash", async () => {
    const storage = memoryStorage();
    await storage.save({ entries: entries(1, 3, 1), hardState: { term: 1, vote: 'a', commit: 1 } });
    expect(storage.pendingWrites).toBe(0);
    const restarted = storage.crash();
    const state = await restarted.load();
    expect(indexes(state.entries)).toEqual([1, 2, 3]);
    expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 1 });
  });

  it("'manual': a crash loses every batch written since the last flush, whole", async () => {
    const storage = memoryStorage({ sync: 'manual' });
    await storage.save({ entries: entries(1, 2, 1), hardState: { term: 1, vote: 'a', commit: 0 } });
    await storage.flush();
    await storage.save({ entries: entries(3, 4, 2), hardState: { term: 2, vote: 'b', commit: 2 } });
    expect(storage.pendingWrites).toBe(1);
    // Written state is readable before it is durable.
    expect(indexes((await storage.load()).entries)).toEqual([1, 2, 3, 4]);
    expect(indexes(storage.durableState().entries)).toEqual([1, 2]);
    const restarted = storage.crash();
    const state = await restarted.load();
    expect(indexes(state.entries)).toEqual([1, 2]);
    expect(state.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    expect(restarted.sync).toBe('manual');
  });

  it("'deferred': save resolves only at the flush that makes it durable", async () => {
    const storage = memoryStorage({ sync: 'deferred' });
    let resolved = false;
    const saving = storage.save({ hardState: { term: 5, vote: undefined, commit: 0 } }).then(() => {
      resolved = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(storage.durableState().hardState.term).toBe(0);
    await storage.flush();
    await saving;
    expect(resolved).toBe(true);
    expect(storage.durableState().hardState.term).toBe(5);
  });

  it("'deferred': a crash rejects the saves still waiting with StorageError", async () => {
    const storage = memoryStorage({ sync: 'deferred' });
    const saving = storage.save({ entries: entries(1, 1, 1) });
    const restarted = storage.crash();
    await expect(saving).rejects.toBeInstanceOf(StorageError);
    expect((await restarted.load()).entries).toEqual([]);
    expect(storage.closed).toBe(true);
    await expect(storage.load()).rejects.toBeInstanceOf(StorageError);
  });

  it('a compaction is durable only together with the snapshot it depends on', async () => {
    const storage = memoryStorage({ sync: 'manual' });
    await storage.save({ entries: entries(1, 6, 1) });
    await storage.flush();
    await storage.save({ snapshot: { metadata: { index: 4, term: 1, config: { incoming: configuration(['a']) } }, data: Uint8Array.of(9) } });
    await storage.compact(4);
    expect(storage.firstIndex).toBe(5);
    expect(storage.pendingWrites).toBe(2);
    const lost = storage.crash();
    expect(lost.firstIndex).toBe(1);
    expect((await lost.load()).snapshot).toBeUndefined();
    expect(indexes((await lost.load()).entries)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('flush then crash keeps the compaction and the snapshot', async () => {
    const storage = memoryStorage({ sync: 'manual' });
    await storage.save({ entries: entries(1, 6, 1) });
    await storage.save({ snapshot: { metadata: { index: 4, term: 1, config: { incoming: configuration(['a']) } }, data: Uint8Array.of(9) } });
    await storage.compact(4);
    await storage.flush();
    const kept = storage.crash();
    expect(kept.firstIndex).toBe(5);
    expect(kept.lastIndex).toBe(6);
    const state = await kept.load();
    expect(state.snapshot?.data).toEqual(Uint8Array.of(9));
    expect(indexes(state.entries)).toEqual([5, 6]);
  });

  it('starts from a given durable state and checks it', async () => {
    const storage = memoryStorage({ state: { hardState: { term: 3, vote: 'c', commit: 2 }, snapshot: undefined, entries: entries(1, 2, 3) } });
    expect(indexes((await storage.load()).entries)).toEqual([1, 2]);
    expect(() => memoryStorage({ state: { hardState: { term: 1, vote: undefined, commit: 0 }, snapshot: undefined, entries: [...entries(1, 1, 1), ...entries(3, 3, 1)] } })).toThrow(StorageError);
  });

  it('refuses a hard state whose term goes backwards, and an unknown sync mode', async () => {
    const storage = memoryStorage();
    await storage.save({ hardState: { term: 4, vote: 'a', commit: 0 } });
    await expect(storage.save({ hardState: { term: 3, vote: 'b', commit: 0 } })).rejects.toThrow(/below the stored term 4/);
    expect((await storage.load()).hardState.vote).toBe('a');
    expect(() => memoryStorage({ sync: 'sometimes' as never })).toThrow(InvalidArgumentError);
    const misspelt: Record<string, unknown> = { synch: 'manual' };
    expect(() => memoryStorage(misspelt)).toThrow('memoryStorage: unknown option "synch"; known options: sync, state');
  });

  it('close makes written state durable first', async () => {
    const storage = memoryStorage({ sync: 'manual' });
    await storage.save({ entries: entries(1, 2, 1) });
    await storage.close();
    expect(indexes(storage.durableState().entries)).toEqual([1, 2]);
    expect(() => storage.crash()).toThrow(StorageError);
  });
});
