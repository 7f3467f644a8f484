import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, StorageError, integerOption, rejectUnknownOptions } from '@greenraft/consensus';
import type { Index, LogEntry, PersistentState, Snapshot, Storage, StorageBatch, Term } from '@greenraft/consensus';
import { DecodeError, EncodeError, Decoder, Encoder, decodeEntry, encodeEntry, encodeHardState } from './codec.js';
import { EntryCache } from './entry-cache.js';
import { StorageCorruptionError } from './errors.js';
import { Failpoints, type WalFailpointInit } from './failpoints.js';
import { type WalFileSystem, nodeFileSystem, readFully, writeFully, writeFullySync } from './fs.js';
import { BatchBuilder, RecordType, TEMP_SUFFIX, parseRecord, segmentFileName, snapshotFileName } from './format.js';
import { type EntrySpan, LogIndex, type SnapshotRef } from './log-index.js';
import { type WalRecovery, recoverDirectory } from './recovery.js';
import { encodeCompactRecord, encodeSegmentStart, encodeSnapshotRecord } from './records.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';
import { type DirectoryLock, acquireLock } from './lock.js';

/** What {@link WalStorageInit.onSync} reports after each fsync of a segment. */
export interface WalSyncEvent {
  /** The segment file that was synced (absolute path). */
  readonly file: string;
  /** Bytes of `file` now durable. */
  readonly offset: number;
  /** How long the fsync took, in milliseconds. */
  readonly durationMs: number;
  /** Batches (saves and compactions) this fsync made durable: 0 when it installed a new segment. */
  readonly batches: number;
}

/** Options of {@link walStorage}. */
export interface WalStorageInit {
  /** The data directory; created if missing. One node, one directory: it is locked while open. */
  directory: string;
  /**
   * Size at which the active segment is sealed and a new one started. A batch is never split,
   * so a segment can exceed it by one batch. Between 4 KiB and 2 GiB.
   * @default 67_108_864 (64 MiB)
   */
  segmentBytes?: number;
  /**
   * Bytes of the most recently written batches kept in memory for reads; older entries are
   * read from disk (their checksums checked again). 0 turns the cache off.
   * @default 8_388_608 (8 MiB)
   */
  cacheBytes?: number;
  /**
   * Called after every fsync of a segment: for metrics (fsync duration, as
   * `greenraft_disk_wal_fsync_duration_seconds`) and for tests that need to know what is durable.
   * Must not throw (what it throws is ignored).
   * @default undefined
   */
  onSync?: (event: WalSyncEvent) => void;
  /**
   * A failpoint for crash tests: kill the process (or fail the operation) at a given write,
   * fsync or rename. Never set it in production.
   * @default the `GREENRAFT_WAL_FAILPOINT` environment variable (`point[:hit[:action]]`), else none
   */
  failpoint?: WalFailpointInit;
}

/**
 * A {@link Storage} on a segmented write-ahead log. Beyond `Storage`, it reads entries lazily
 * and reports what opening the directory found.
 */
export interface WalStorage extends Storage {
  /** The data directory (its real path). */
  readonly directory: string;
  /** What opening the directory found: a torn tail dropped, files cleaned up. */
  readonly recovery: WalRecovery;
  /** The index of the first stored entry (entries the snapshot covers stay until `compact`). */
  readonly firstIndex: Index;
  /** The index of the last stored entry, or of the snapshot when no entry follows it. */
  readonly lastIndex: Index;
  /** The failure that stopped the store (a failed write, fsync or read of a corrupt file), if any. */
  readonly failure: StorageError | undefined;
  /** The term of the entry at `index`, from the log or the snapshot; `undefined` if not stored. */
  term(index: Index): Term | undefined;
  /**
   * Reads the stored entries `from` ≤ index < `to`, from the cache or from disk, checking their
   * checksums. Rejects with StorageError unless `firstIndex` ≤ from ≤ to ≤ 1 + the last stored
   * entry's index.
   */
  entries(from: Index, to: Index): Promise<LogEntry[]>;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_CACHE_BYTES = 8 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 4096;
const MAX_SEGMENT_BYTES = 2 ** 31;
/** Entries are read from disk in runs of at most this many bytes. */
const READ_SPAN_BYTES = 4 * 1024 * 1024;

/** One batch on its way to disk, in the order `save`/`compact` were called. */
interface Operation {
  /** The encoded batch, or `undefined` when there is nothing to write (it still waits its turn). */
  readonly bytes: Buffer | undefined;
  readonly seq: number;
  readonly position: number;
  /** A new segment to install before writing this batch. */
  readonly cut: { readonly seq: number; readonly bytes: Buffer } | undefined;
  /** A snapshot file to write before this batch (which refers to it). */
  readonly snapshot: { readonly snapshot: Snapshot; readonly id: number } | undefined;
  /** Once this batch is durable, segments before this one are no longer needed. */
  readonly neededFrom: number;
  /** Settle the caller's promise (set by `#enqueue`). */
  resolve: () => void;
  reject: (error: Error) => void;
}

const unsettled = (): void => undefined;

/** Raised inside the flusher once the store was abandoned: stop without touching the disk again. */
class Abandoned extends Error {}

function asStorageError(error: unknown, message: string): StorageError {
  if (error instanceof StorageError) return error;
  if (error instanceof EncodeError || error instanceof RangeError) return new StorageError(error.message, { cause: error });
  return new StorageError(`${message}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Creates a segment: written under a temporary name, fsynced, renamed into place, directory fsynced. Returns it open for reading and writing. */
async function installSegment(fileSystem: WalFileSystem, directory: string, seq: number, bytes: Buffer, failpoints: Failpoints): Promise<number> {
  const path = join(directory, segmentFileName(seq));
  const temp = path + TEMP_SUFFIX;
  const fd = await fileSystem.open(temp, 'w');
  try {
    failpoints.reach('beforeWrite');
    await writeFully(fileSystem, fd, bytes, 0);
    failpoints.reach('afterWrite');
    failpoints.reach('beforeFsync');
    await fileSystem.fsync(fd);
    failpoints.reach('afterFsync');
  } finally {
    await fileSystem.close(fd);
  }
  failpoints.reach('beforeRename');
  await fileSystem.rename(temp, path);
  failpoints.reach('afterRename');
  await fileSystem.syncDirectory(directory);
  return fileSystem.open(path, 'r+');
}

interface WalParts {
  readonly directory: string;
  readonly fileSystem: WalFileSystem;
  readonly failpoints: Failpoints;
  readonly lock: DirectoryLock;
  readonly segmentBytes: number;
  readonly cacheBytes: number;
  readonly onSync: ((event: WalSyncEvent) => void) | undefined;
  readonly index: LogIndex;
  readonly segments: number[];
  readonly activeFd: number;
  readonly activeEnd: number;
  readonly activeStartEnd: number;
  readonly nextSnapshotId: number;
  readonly recovery: WalRecovery;
}

class WalStorageImpl implements WalStorage {
  readonly directory: string;
  readonly recovery: WalRecovery;
  readonly #fs: WalFileSystem;
  readonly #failpoints: Failpoints;
  readonly #lock: DirectoryLock;
  readonly #segmentBytes: number;
  readonly #onSync: ((event: WalSyncEvent) => void) | undefined;
  readonly #index: LogIndex;
  readonly #cache: EntryCache;
  /** Segments on disk or planned, ascending. */
  readonly #segments: number[];
  /** Sealed segments open for reading. */
  readonly #readFds = new Map<number, number>();
  /** Snapshot files on disk, by id. */
  readonly #snapshotFiles = new Map<number, string>();

  // Where save() places the next batch (ahead of the disk by what is queued).
  #plannedSeq: number;
  #plannedEnd: number;
  #plannedStartEnd: number;
  #nextSnapshotId: number;

  // What the flusher has on disk.
  #activeSeq: number;
  #activeFd: number;
  #writtenEnd: number;

  #queue: Operation[] = [];
  #inFlight: Operation[] = [];
  #flushing = false;
  #flusher: Promise<void> = Promise.resolve();
  /** Operations queued and settled so far, and who waits for a count to settle. */
  #enqueued = 0;
  #settled = 0;
  #settledWaiters: { readonly target: number; readonly resolve: () => void }[] = [];
  #readers = 0;
  #readersIdle: (() => void)[] = [];
  #deleteSegmentsBefore = 0;
  #deleteSnapshotsBelow = 0;

  #failure: StorageError | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #abandoned = false;
  #filesClosed = false;

  constructor(parts: WalParts) {
    this.directory = parts.directory;
    this.recovery = parts.recovery;
    this.#fs = parts.fileSystem;
    this.#failpoints = parts.failpoints;
    this.#lock = parts.lock;
    this.#segmentBytes = parts.segmentBytes;
    this.#onSync = parts.onSync;
    this.#index = parts.index;
    this.#cache = new EntryCache(parts.cacheBytes);
    this.#segments = parts.segments;
    this.#activeSeq = this.#plannedSeq = parts.segments.at(-1)!;
    this.#activeFd = parts.activeFd;
    this.#writtenEnd = this.#plannedEnd = parts.activeEnd;
    this.#plannedStartEnd = parts.activeStartEnd;
    this.#nextSnapshotId = parts.nextSnapshotId;
    const ref = parts.index.snapshot;
    if (ref !== undefined) this.#snapshotFiles.set(ref.id, snapshotFileName(ref.metadata.index, ref.id));
  }

  get firstIndex(): Index {
    return this.#index.offset;
  }

  get lastIndex(): Index {
    return this.#index.lastIndex;
  }

  get failure(): StorageError | undefined {
    return this.#failure;
  }

  term(index: Index): Term | undefined {
    return this.#index.termAt(index);
  }

  save(batch: StorageBatch): Promise<void> {
    let operation: Operation;
    try {
      this.#usable('save');
      operation = this.#planSave(batch);
    } catch (error) {
      return Promise.reject(asStorageError(error, 'could not save the batch'));
    }
    return this.#enqueue(operation);
  }

  async compact(index: Index): Promise<void> {
    this.#usable('compact');
    this.#index.checkCompact(index);
    let bytes: Buffer | undefined;
    if (this.#index.compactionDrops(index) > 0) {
      const encoder = new Encoder(64);
      const batch = new BatchBuilder(encoder);
      batch.record(RecordType.compact, (e) => encodeCompactRecord(e, index));
      batch.finish();
      bytes = encoder.result();
    }
    // Placed before it takes effect: a new segment's start state must not include it yet.
    const place = this.#place(bytes?.length ?? 0);
    this.#index.compact(index);
    return this.#enqueue({
      seq: place.seq,
      position: place.position,
      cut: place.cut,
      bytes,
      snapshot: undefined,
      neededFrom: this.#index.firstSegmentInUse() ?? place.seq,
      resolve: unsettled,
      reject: unsettled,
    });
  }

  async load(): Promise<PersistentState> {
    this.#usable('load');
    const index = this.#index;
    const { hardState, snapshot: ref } = index;
    const from = Math.max(index.offset, index.snapshotIndex + 1);
    const span = index.span(from, index.lastStored);
    return this.#reading(async () => {
      const snapshot = ref === undefined ? undefined : await readSnapshotFile(this.#fs, this.directory, ref, true);
      return { hardState, snapshot, entries: await this.#readEntries(span) };
    });
  }

  async entries(from: Index, to: Index): Promise<LogEntry[]> {
    this.#usable('read entries');
    const index = this.#index;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < index.offset || to < from || to > index.lastStored + 1) {
      throw new StorageError(`cannot read entries [${String(from)}, ${String(to)}): the stored log holds [${index.offset}, ${index.lastStored + 1})`);
    }
    const span = index.span(from, to - 1);
    return this.#reading(() => this.#readEntries(span));
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = this.#close();
    return this.#closing;
  }

  /**
   * Stops as a crash would: nothing queued is written, nothing pending is acknowledged, the lock
   * file stays (the next open finds it stale). What was already written stays in the page cache.
   * For crash tests in one process.
   */
  async abandon(): Promise<void> {
    if (this.#abandoned) return;
    this.#abandoned = true;
    this.#closed = true;
    this.#closing ??= Promise.resolve();
    const pending = [...this.#inFlight, ...this.#queue];
    this.#inFlight = [];
    this.#queue = [];
    this.#settle(pending, new StorageError('the storage was stopped without flushing'));
    await this.#flusher;
    await this.#closeFiles();
    this.#lock.abandon();
  }

  async #close(): Promise<void> {
    await this.#queuedSettled();
    if (this.#readers > 0) await new Promise<void>((done) => this.#readersIdle.push(done));
    await this.#flusher;
    await this.#closeFiles();
    await this.#lock.release();
  }

  async #closeFiles(): Promise<void> {
    if (this.#filesClosed) return;
    this.#filesClosed = true;
    const fds = [this.#activeFd, ...this.#readFds.values()];
    this.#readFds.clear();
    for (const fd of fds) await this.#fs.close(fd).catch(() => undefined);
  }

  #usable(operation: string): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new StorageError(`cannot ${operation}: the storage is closed`);
  }

  /** Checks and encodes a batch, then applies it to the index: nothing changes if anything throws. */
  #planSave(batch: StorageBatch): Operation {
    const index = this.#index;
    index.check(batch);
    const { snapshot, entries, hardState } = batch;
    let estimate = 256;
    if (entries !== undefined) for (const entry of entries) estimate += 48 + (entry.type === 'normal' && entry.data instanceof Uint8Array ? entry.data.length : 256);
    const encoder = new Encoder(estimate);
    const builder = new BatchBuilder(encoder);
    let ref: SnapshotRef | undefined;
    let keepLog = false;
    if (snapshot !== undefined) {
      ref = { metadata: snapshot.metadata, id: this.#nextSnapshotId, size: snapshot.data.length };
      keepLog = index.keepsLogAfter(snapshot.metadata);
      const snapshotRef = ref;
      builder.record(RecordType.snapshot, (e) => encodeSnapshotRecord(e, snapshotRef, keepLog));
    }
    const starts: number[] = [];
    if (entries !== undefined) {
      for (const entry of entries) {
        const start = builder.open();
        encodeEntry(encoder, entry);
        builder.close(start, RecordType.entry);
        starts.push(start);
      }
    }
    // Where the last entry record ends: the hard state record, if any, follows it.
    const end = hardState !== undefined ? builder.record(RecordType.hardState, (e) => encodeHardState(e, hardState)) : encoder.position;
    let bytes: Buffer | undefined;
    if (builder.records > 0) {
      builder.finish();
      bytes = encoder.result();
    }

    // Encoded without error: from here on the batch is accepted.
    const place = this.#place(bytes?.length ?? 0);
    if (ref !== undefined) {
      index.applySnapshot(ref, keepLog);
      this.#nextSnapshotId++;
    }
    if (entries !== undefined && bytes !== undefined) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        const start = starts[i]!;
        const length = (starts[i + 1] ?? end) - start;
        index.applyEntry(entry.index, entry.term, place.seq, place.position + start, length);
      }
      if (entries.length > 0) this.#cache.add(place.seq, place.position, bytes, entries[0]!.index, starts, end);
    }
    if (hardState !== undefined) index.applyHardState(hardState);
    return {
      seq: place.seq,
      position: place.position,
      cut: place.cut,
      bytes,
      snapshot: snapshot !== undefined && ref !== undefined ? { snapshot, id: ref.id } : undefined,
      neededFrom: index.firstSegmentInUse() ?? place.seq,
      resolve: unsettled,
      reject: unsettled,
    };
  }

  /** Where the next batch of `length` bytes goes; seals the active segment first when it is full. */
  #place(length: number): Pick<Operation, 'seq' | 'position' | 'cut'> {
    let cut: Operation['cut'];
    if (length > 0 && this.#plannedEnd > this.#plannedStartEnd && this.#plannedEnd + length > this.#segmentBytes) {
      // The new segment starts with the state as of this point in the log, before this batch.
      const seq = this.#plannedSeq + 1;
      const bytes = encodeSegmentStart(seq, this.#index.startState());
      cut = { seq, bytes };
      this.#segments.push(seq);
      this.#plannedSeq = seq;
      this.#plannedEnd = this.#plannedStartEnd = bytes.length;
    }
    const position = this.#plannedEnd;
    this.#plannedEnd += length;
    return { seq: this.#plannedSeq, position, cut };
  }

  #enqueue(operation: Operation): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => {
      operation.resolve = resolve;
      operation.reject = reject;
    });
    this.#queue.push(operation);
    this.#enqueued++;
    this.#kick();
    return promise;
  }

  /** Resolves once every operation queued so far has settled (the queue settles in order). */
  #queuedSettled(): Promise<void> {
    const target = this.#enqueued;
    if (this.#settled >= target) return Promise.resolve();
    return new Promise<void>((resolve) => this.#settledWaiters.push({ target, resolve }));
  }

  /** Settles operations, oldest first: resolved, or rejected with `error`. */
  #settle(operations: readonly Operation[], error?: Error): void {
    for (const operation of operations) {
      if (error === undefined) operation.resolve();
      else operation.reject(error);
    }
    this.#settled += operations.length;
    if (this.#settledWaiters.length === 0) return;
    const waiting = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const waiter of waiting) {
      if (waiter.target <= this.#settled) waiter.resolve();
      else this.#settledWaiters.push(waiter);
    }
  }

  #kick(): void {
    if (this.#flushing || this.#abandoned || this.#failure !== undefined) return;
    this.#flushing = true;
    // One microtask later: every save issued in the same turn of the event loop joins the first fsync.
    this.#flusher = Promise.resolve().then(() => this.#flush());
  }

  #halt(): void {
    if (this.#abandoned) throw new Abandoned();
  }

  /**
   * Group commit: writes every queued batch in order, then one fdatasync makes them all durable,
   * then they resolve. Batches queued meanwhile go in the next round. Runs until the queue is empty.
   */
  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      for (;;) {
        if (this.#abandoned || this.#failure !== undefined) return;
        if (this.#queue.length === 0) {
          if (this.#readers === 0 && this.#hasDeletions()) {
            await this.#deleteUnneeded();
            continue;
          }
          return;
        }
        const group = this.#queue;
        this.#queue = [];
        this.#inFlight = group;
        let unsynced = 0;
        let dirty = false;
        for (const operation of group) {
          if (operation.snapshot !== undefined) {
            const { snapshot, id } = operation.snapshot;
            const name = await writeSnapshotFile(this.#fs, this.directory, snapshot, id, this.#failpoints);
            this.#halt();
            this.#snapshotFiles.set(id, name);
          }
          if (operation.cut !== undefined) {
            // The sealed segment must be durable before a newer one exists: only the last segment may have a torn tail.
            if (dirty) await this.#syncActive(unsynced);
            dirty = false;
            unsynced = 0;
            await this.#installSegment(operation.cut);
          }
          if (operation.bytes !== undefined) {
            this.#failpoints.reach('beforeWrite');
            writeFullySync(this.#fs, this.#activeFd, operation.bytes, operation.position);
            this.#failpoints.reach('afterWrite');
            this.#writtenEnd = operation.position + operation.bytes.length;
            dirty = true;
          }
          unsynced++;
        }
        if (dirty) await this.#syncActive(unsynced);
        this.#deleteSegmentsBefore = Math.max(this.#deleteSegmentsBefore, group.at(-1)!.neededFrom);
        for (const operation of group) {
          // The new snapshot is durable: older snapshot files are superseded.
          if (operation.snapshot !== undefined) this.#deleteSnapshotsBelow = Math.max(this.#deleteSnapshotsBelow, operation.snapshot.id);
        }
        // Removals first, so that a resolved compaction has its segments gone (unless a read holds them).
        if (this.#readers === 0 && this.#hasDeletions()) await this.#deleteUnneeded();
        this.#inFlight = [];
        this.#settle(group);
      }
    } catch (error) {
      if (!(error instanceof Abandoned) && !this.#abandoned) this.#fail(error);
    } finally {
      this.#flushing = false;
    }
  }

  async #syncActive(batches: number): Promise<void> {
    const started = this.#onSync === undefined ? 0 : performance.now();
    this.#failpoints.reach('beforeFsync');
    await this.#fs.fdatasync(this.#activeFd);
    this.#halt();
    this.#failpoints.reach('afterFsync');
    if (this.#onSync !== undefined) this.#notify({ file: join(this.directory, segmentFileName(this.#activeSeq)), offset: this.#writtenEnd, durationMs: performance.now() - started, batches });
  }

  async #installSegment(cut: { readonly seq: number; readonly bytes: Buffer }): Promise<void> {
    const started = performance.now();
    const fd = await installSegment(this.#fs, this.directory, cut.seq, cut.bytes, this.#failpoints);
    if (this.#abandoned) {
      await this.#fs.close(fd);
      throw new Abandoned();
    }
    this.#readFds.set(this.#activeSeq, this.#activeFd);
    this.#activeSeq = cut.seq;
    this.#activeFd = fd;
    this.#writtenEnd = cut.bytes.length;
    this.#notify({ file: join(this.directory, segmentFileName(cut.seq)), offset: cut.bytes.length, durationMs: performance.now() - started, batches: 0 });
  }

  #notify(event: WalSyncEvent): void {
    try {
      this.#onSync?.(event);
    } catch {
      // A metrics callback must never stop the log.
    }
  }

  #hasDeletions(): boolean {
    const oldest = this.#segments[0];
    if (oldest !== undefined && oldest < this.#deleteSegmentsBefore && oldest !== this.#activeSeq) return true;
    for (const id of this.#snapshotFiles.keys()) if (id < this.#deleteSnapshotsBelow) return true;
    return false;
  }

  /** Removes segments no stored entry needs (oldest first, so a crash leaves a valid suffix) and superseded snapshot files. */
  async #deleteUnneeded(): Promise<void> {
    while (this.#segments.length > 1 && this.#segments[0]! < this.#deleteSegmentsBefore && this.#segments[0]! !== this.#activeSeq) {
      const seq = this.#segments[0]!;
      const fd = this.#readFds.get(seq);
      if (fd !== undefined) {
        this.#readFds.delete(seq);
        await this.#fs.close(fd);
      }
      await this.#unlink(segmentFileName(seq));
      this.#halt();
      this.#segments.shift();
    }
    for (const [id, name] of [...this.#snapshotFiles]) {
      if (id >= this.#deleteSnapshotsBelow) continue;
      await this.#unlink(name);
      this.#halt();
      this.#snapshotFiles.delete(id);
    }
    await this.#fs.syncDirectory(this.directory);
    this.#halt();
  }

  async #unlink(name: string): Promise<void> {
    try {
      await this.#fs.unlink(join(this.directory, name));
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }

  /** The store cannot keep its promises any more: every pending and later call rejects (fsyncgate: never retry). */
  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    const failure =
      error instanceof StorageError
        ? error
        : new StorageError(
            `the write-ahead log in ${this.directory} failed and accepts no more calls (a failed write or fsync is never retried): ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
    this.#failure = failure;
    const pending = [...this.#inFlight, ...this.#queue];
    this.#inFlight = [];
    this.#queue = [];
    this.#settle(pending, failure);
  }

  /** Runs a read once everything queued before it is on disk, keeping segment removals away meanwhile. */
  async #reading<T>(read: () => Promise<T>): Promise<T> {
    this.#readers++;
    try {
      await this.#queuedSettled();
      if (this.#failure !== undefined) throw this.#failure;
      return await read();
    } catch (error) {
      if (error instanceof StorageCorruptionError) this.#fail(error);
      throw asStorageError(error, 'could not read the write-ahead log');
    } finally {
      this.#readers--;
      if (this.#readers === 0) {
        for (const idle of this.#readersIdle.splice(0)) idle();
        if (!this.#closed && this.#hasDeletions()) this.#kick();
      }
    }
  }

  async #fdFor(seq: number): Promise<number> {
    if (seq === this.#activeSeq) return this.#activeFd;
    let fd = this.#readFds.get(seq);
    if (fd === undefined) {
      fd = await this.#fs.open(join(this.directory, segmentFileName(seq)), 'r');
      // Another read may have opened it meanwhile.
      const other = this.#readFds.get(seq);
      if (other !== undefined) {
        await this.#fs.close(fd);
        return other;
      }
      this.#readFds.set(seq, fd);
    }
    return fd;
  }

  async #readEntries(span: EntrySpan): Promise<LogEntry[]> {
    const count = span.terms.length;
    const entries: LogEntry[] = new Array(count);
    let i = 0;
    while (i < count) {
      const seq = span.seqs[i]!;
      const cached = this.#cache.get(span.from + i, seq, span.positions[i]!);
      if (cached !== undefined) {
        entries[i] = this.#decodeEntry(cached.buffer, cached.offset, cached.length, span, i);
        i++;
        continue;
      }
      // A run of uncached entries of one segment, read in one go.
      const start = span.positions[i]!;
      let end = start + span.lengths[i]!;
      let j = i + 1;
      while (j < count && span.seqs[j] === seq && span.positions[j]! + span.lengths[j]! - start <= READ_SPAN_BYTES) {
        if (this.#cache.get(span.from + j, seq, span.positions[j]!) !== undefined) break;
        end = span.positions[j]! + span.lengths[j]!;
        j++;
      }
      const buffer = Buffer.allocUnsafe(end - start);
      const read = await readFully(this.#fs, await this.#fdFor(seq), buffer, 0, end - start, start);
      for (let k = i; k < j; k++) {
        const at = span.positions[k]! - start;
        entries[k] = this.#decodeEntry(buffer, at, Math.max(0, read - at), span, k);
      }
      i = j;
    }
    return entries;
  }

  #decodeEntry(buffer: Uint8Array, at: number, available: number, span: EntrySpan, k: number): LogEntry {
    const file = join(this.directory, segmentFileName(span.seqs[k]!));
    const position = span.positions[k]!;
    const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const record = parseRecord(bytes, at, Math.min(available, span.lengths[k]!));
    if (typeof record === 'string') throw new StorageCorruptionError(file, position, record);
    if (record.type !== RecordType.entry) throw new StorageCorruptionError(file, position, `expected an entry record, found type ${record.type}`);
    let entry: LogEntry;
    try {
      entry = decodeEntry(new Decoder(bytes, record.payloadStart, record.payloadEnd));
    } catch (error) {
      if (error instanceof DecodeError) throw new StorageCorruptionError(file, position, error.message);
      throw error;
    }
    const index = span.from + k;
    if (entry.index !== index || entry.term !== span.terms[k]) {
      throw new StorageCorruptionError(file, position, `expected entry ${index} of term ${span.terms[k]}, found ${entry.index} of term ${entry.term}`);
    }
    return entry;
  }
}

const WAL_STORAGE_OPTIONS = Object.keys({ directory: true, segmentBytes: true, cacheBytes: true, onSync: true, failpoint: true } satisfies Record<keyof WalStorageInit, true>);

function checkInit(init: WalStorageInit): void {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('walStorage needs an options object with a directory');
  rejectUnknownOptions('walStorage', init, WAL_STORAGE_OPTIONS);
  if (typeof init.directory !== 'string' || init.directory.length === 0) throw new InvalidArgumentError('walStorage: directory must be a non-empty path');
  if (init.segmentBytes !== undefined) integerOption('segmentBytes', init.segmentBytes, { min: MIN_SEGMENT_BYTES, max: MAX_SEGMENT_BYTES });
  if (init.cacheBytes !== undefined) integerOption('cacheBytes', init.cacheBytes, { min: 0 });
  if (init.onSync !== undefined && typeof init.onSync !== 'function') throw new InvalidArgumentError('walStorage: onSync must be a function');
}

/** Opens a store on `fileSystem` (the real one unless a test passes another). */
export async function openWalStorage(init: WalStorageInit, fileSystem: WalFileSystem = nodeFileSystem): Promise<WalStorage> {
  checkInit(init);
  const failpoints = Failpoints.resolve(init.failpoint);
  let directory: string;
  try {
    await fileSystem.mkdir(resolve(init.directory));
    directory = await fileSystem.realpath(resolve(init.directory));
  } catch (error) {
    throw asStorageError(error, `could not create the data directory ${init.directory}`);
  }
  let lock: DirectoryLock;
  try {
    lock = await acquireLock(fileSystem, directory);
  } catch (error) {
    throw asStorageError(error, `could not lock the data directory ${directory}`);
  }
  try {
    const recovered = await recoverDirectory(fileSystem, directory);
    const common = {
      directory,
      fileSystem,
      failpoints,
      lock,
      segmentBytes: init.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      cacheBytes: init.cacheBytes ?? DEFAULT_CACHE_BYTES,
      onSync: init.onSync,
    };
    if ('empty' in recovered) {
      const index = new LogIndex();
      const start = encodeSegmentStart(1, index.startState());
      const started = performance.now();
      const activeFd = await installSegment(fileSystem, directory, 1, start, failpoints);
      try {
        init.onSync?.({ file: join(directory, segmentFileName(1)), offset: start.length, durationMs: performance.now() - started, batches: 0 });
      } catch {
        // A metrics callback must never stop the log.
      }
      return new WalStorageImpl({
        ...common,
        index,
        segments: [1],
        activeFd,
        activeEnd: start.length,
        activeStartEnd: start.length,
        nextSnapshotId: 1,
        recovery: { created: true, segments: 0, batches: 0, tornTail: undefined, removedFiles: recovered.removedFiles },
      });
    }
    return new WalStorageImpl({ ...common, ...recovered, recovery: recovered.report });
  } catch (error) {
    await lock.release().catch(() => undefined);
    throw asStorageError(error, `could not open the write-ahead log in ${directory}`);
  }
}

/** Stops a store as a crash would (see {@link WalStorageImpl.abandon}); for crash tests in one process. */
export function abandonWalStorage(storage: WalStorage): Promise<void> {
  if (!(storage instanceof WalStorageImpl)) throw new InvalidArgumentError('not a write-ahead log storage');
  return storage.abandon();
}
