import { InvalidArgumentError, StorageError, rejectUnknownOptions } from '@greenraft/consensus';
import type { Index, PersistentState, Storage, StorageBatch } from '@greenraft/consensus';
import { LogState } from './log-state.js';

/**
 * When a saved batch becomes durable, that is, survives {@link MemoryStorage.crash}:
 * - `'always'`: when `save` resolves (an fsync per batch);
 * - `'deferred'`: `save` resolves only at the next {@link MemoryStorage.flush}, which makes it
 *   durable (group commit: the node waits for the flush before sending what depends on it);
 * - `'manual'`: `save` resolves at once but the batch is durable only after the next `flush`
 *   (fsync turned off: a crash loses acknowledged writes, which Raft does not tolerate; for fault tests).
 */
export type MemorySyncMode = 'always' | 'deferred' | 'manual';

/** Options of {@link memoryStorage}. */
export interface MemoryStorageInit {
  /**
   * When saved batches become durable.
   * @default 'always'
   */
  sync?: MemorySyncMode;
  /**
   * Durable state to start from, as a restarted node would find it on disk.
   * @default an empty store (term 0, no vote, no snapshot, no entries)
   */
  state?: PersistentState;
}

const MEMORY_STORAGE_OPTIONS = Object.keys({ sync: true, state: true } satisfies Record<keyof MemoryStorageInit, true>);

/**
 * An in-memory {@link Storage} that models durability, for tests and simulations.
 * Written state is visible to `load` at once; only durable state survives {@link MemoryStorage.crash}.
 */
export interface MemoryStorage extends Storage {
  /** When saved batches become durable. */
  readonly sync: MemorySyncMode;
  /** Writes (saves and compactions) not yet durable, in order. Always 0 in `'always'` mode. */
  readonly pendingWrites: number;
  /** True once closed or crashed: every further call rejects with StorageError. */
  readonly closed: boolean;
  /** The index of the first stored log entry (entries the snapshot covers stay until `compact`). */
  readonly firstIndex: Index;
  /** The index of the last stored entry, or of the snapshot when no entry follows it. */
  readonly lastIndex: Index;
  /** Makes every pending write durable, in order, and resolves the saves waiting for it (`'deferred'`). */
  flush(): Promise<void>;
  /**
   * Simulates power loss: closes this store (pending `'deferred'` saves reject with StorageError)
   * and returns a new store, in the same sync mode, holding only what was durable.
   */
  crash(): MemoryStorage;
  /** What a node restarting after a crash would load now: the durable state only. */
  durableState(): PersistentState;
}

type PendingWrite =
  | { readonly kind: 'save'; readonly batch: StorageBatch; readonly settle?: { resolve(): void; reject(error: Error): void } }
  | { readonly kind: 'compact'; readonly index: Index };

class MemoryStorageImpl implements MemoryStorage {
  readonly sync: MemorySyncMode;
  #durable: LogState;
  #written: LogState;
  #pending: PendingWrite[] = [];
  #closed = false;

  constructor(sync: MemorySyncMode, durable: LogState) {
    this.sync = sync;
    this.#durable = durable;
    this.#written = durable.clone();
  }

  get pendingWrites(): number {
    return this.#pending.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get firstIndex(): Index {
    return this.#written.offset;
  }

  get lastIndex(): Index {
    return this.#written.lastIndex;
  }

  async load(): Promise<PersistentState> {
    this.#checkOpen('load');
    return this.#written.toPersistentState();
  }

  save(batch: StorageBatch): Promise<void> {
    try {
      this.#checkOpen('save');
      if (batch === null || typeof batch !== 'object') throw new StorageError('a batch must be an object');
      this.#written.check(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#written.apply(batch);
    if (this.sync === 'always') {
      this.#durable.apply(batch);
      return Promise.resolve();
    }
    if (this.sync === 'manual') {
      this.#pending.push({ kind: 'save', batch });
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ kind: 'save', batch, settle: { resolve, reject } });
    });
  }

  async compact(index: Index): Promise<void> {
    this.#checkOpen('compact');
    this.#written.checkCompact(index);
    this.#written.compact(index);
    if (this.sync === 'always') this.#durable.compact(index);
    // Queued behind the saves it depends on, so a crash never keeps a compaction without its snapshot.
    else this.#pending.push({ kind: 'compact', index });
  }

  async flush(): Promise<void> {
    this.#checkOpen('flush');
    const writes = this.#pending;
    this.#pending = [];
    for (const write of writes) {
      if (write.kind === 'save') this.#durable.apply(write.batch);
      else this.#durable.compact(write.index);
    }
    for (const write of writes) if (write.kind === 'save') write.settle?.resolve();
  }

  crash(): MemoryStorage {
    this.#checkOpen('crash');
    const survivor = new MemoryStorageImpl(this.sync, this.#durable.clone());
    this.#shutDown('the storage crashed before this write became durable');
    return survivor;
  }

  durableState(): PersistentState {
    return this.#durable.toPersistentState();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Closing cleanly syncs what was written, as a real store's close does.
    await this.flush();
    this.#shutDown('the storage was closed');
  }

  #shutDown(reason: string): void {
    this.#closed = true;
    const writes = this.#pending;
    this.#pending = [];
    for (const write of writes) if (write.kind === 'save') write.settle?.reject(new StorageError(reason));
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new StorageError(`cannot ${operation}: the storage is closed`);
  }
}

/**
 * Creates an in-memory {@link Storage} that models what a crash keeps: each `save` batch is
 * atomic, and with `sync: 'deferred'` or `'manual'` batches become durable only on `flush()`;
 * `crash()` returns the store a restarted node would find.
 *
 * @example
 * ```ts
 * import { memoryStorage } from '@greenraft/raft';
 *
 * const storage = memoryStorage({ sync: 'manual' });
 * await storage.save({ hardState: { term: 2, vote: 'a', commit: 0 } });
 * const afterPowerLoss = storage.crash();
 * console.log((await afterPowerLoss.load()).hardState.term); // 0: the batch was never flushed
 * ```
 */
export function memoryStorage(init: MemoryStorageInit = {}): MemoryStorage {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('memoryStorage needs an options object');
  rejectUnknownOptions('memoryStorage', init, MEMORY_STORAGE_OPTIONS);
  const sync = init.sync ?? 'always';
  if (sync !== 'always' && sync !== 'deferred' && sync !== 'manual') {
    throw new InvalidArgumentError(`sync must be 'always', 'deferred' or 'manual', not ${String(sync)}`);
  }
  return new MemoryStorageImpl(sync, init.state === undefined ? new LogState() : LogState.fromPersistentState(init.state));
}
