import { StorageError } from '@greenraft/consensus';
import type { HardState, Index, LogEntry, PersistentState, Snapshot, Storage, StorageBatch, Term } from '@greenraft/consensus';
import { LogState } from '@greenraft/raft/testing';
import { chainDigest, decodeChainSnapshot } from './digest.js';

/** An entry a durable write replaced or removed: where, and the terms before and after (`undefined`: removed). */
export interface Overwrite {
  readonly index: Index;
  readonly oldTerm: Term;
  readonly newTerm: Term | undefined;
}

/** What a durable write changed, for the checkers. */
export interface WriteOutcome {
  /** Entries written. */
  readonly written: readonly { readonly index: Index; readonly term: Term; readonly chain: number }[];
  /** Existing entries the write replaced by different ones, or removed. */
  readonly overwritten: readonly Overwrite[];
  /** The durable commit index before the write. */
  readonly commitBefore: Index;
  /** The last durable index before the write. */
  readonly lastIndexBefore: Index;
}

/** A {@link Storage} handle on a {@link SimulatedDisk}: closing it closes the handle, never the disk. */
export interface SimulatedDiskStorage extends Storage {
  /** The disk this handle reads and writes. */
  readonly disk: SimulatedDisk;
}

/**
 * One node's simulated disk: what an fsync made durable. A crash keeps exactly this and loses
 * whatever the node held only in memory. It keeps the memory storage's rules (`LogState`: atomic
 * batches, overwrite from the first index, a snapshot keeps only a matching suffix, no gaps, no
 * term going back), and each entry carries the chain digest of the log up to it, so Log Matching
 * costs O(1) per written entry.
 */
export class SimulatedDisk {
  private readonly state = new LogState();
  /** `chains[i]` is the chain digest of the log up to `state.entries[i]`. */
  private chains: number[] = [];
  /** Chain digest of the log up to the snapshot's index (0 for none). */
  snapshotChain = 0;
  private everWritten = false;

  get hardState(): HardState {
    return this.state.hardState;
  }

  get snapshot(): Snapshot | undefined {
    return this.state.snapshot;
  }

  get snapshotIndex(): Index {
    return this.state.snapshot?.metadata.index ?? 0;
  }

  get lastIndex(): Index {
    return this.state.lastIndex;
  }

  /** The durable entry at `index`, if held after the snapshot. */
  entry(index: Index): LogEntry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.state.entries[index - this.state.offset];
  }

  /** Chain digest of the durable log up to `index`, if known. */
  chainAt(index: Index): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotChain;
    if (index < this.snapshotIndex) return undefined;
    return this.chains[index - this.state.offset];
  }

  /**
   * Applies one atomic batch (snapshot, then entries, then hard state), or nothing of it: a batch
   * the storage rules refuse (a gap, entries out of sequence or under the snapshot, a term going
   * back) throws StorageError, which only a broken engine produces.
   */
  write(batch: StorageBatch): WriteOutcome {
    const commitBefore = this.state.hardState.commit;
    const lastIndexBefore = this.lastIndex;
    this.state.check(batch);
    const { snapshot } = batch;
    const entries = batch.entries ?? [];
    if (snapshot !== undefined) this.installSnapshot(snapshot);
    const written: { index: Index; term: Term; chain: number }[] = [];
    const overwritten: Overwrite[] = [];
    if (entries.length > 0) {
      const first = entries[0]!.index;
      const last = entries[entries.length - 1]!.index;
      for (const entry of entries) {
        const old = this.entry(entry.index);
        if (old !== undefined && old.term !== entry.term) overwritten.push({ index: entry.index, oldTerm: old.term, newTerm: entry.term });
      }
      // Stored entries past the end of the batch are dropped too: the log now ends with the batch.
      for (let index = last + 1; index <= this.lastIndex; index++) {
        const old = this.entry(index);
        if (old !== undefined) overwritten.push({ index, oldTerm: old.term, newTerm: undefined });
      }
      this.state.apply({ entries });
      this.chains.length = first - this.state.offset;
      let chain = this.chainAt(first - 1) ?? 0;
      for (const entry of entries) {
        chain = chainDigest(chain, entry);
        this.chains.push(chain);
        written.push({ index: entry.index, term: entry.term, chain });
      }
    }
    if (batch.hardState !== undefined) this.state.apply({ hardState: batch.hardState });
    this.everWritten = true;
    return { written, overwritten, commitBefore, lastIndexBefore };
  }

  /** A snapshot received from the leader replaces the log up to its index, keeping a suffix that matches. */
  private installSnapshot(snapshot: Snapshot): void {
    this.saveSnapshot(snapshot, decodeChainSnapshot(snapshot.data) ?? 0);
    this.state.compact(snapshot.metadata.index);
    this.trimChains();
  }

  /**
   * The driver took a snapshot at an index it has applied: it becomes durable and the log up to it
   * is dropped. An older snapshot than the durable one changes nothing.
   */
  compact(snapshot: Snapshot, chain: number): void {
    if (snapshot.metadata.index < this.snapshotIndex) return;
    this.state.check({ snapshot });
    this.saveSnapshot(snapshot, chain);
    this.state.compact(snapshot.metadata.index);
    this.trimChains();
    this.everWritten = true;
  }

  /** What a restarting node reads back; `undefined` if nothing was ever made durable. */
  load(): PersistentState | undefined {
    return this.everWritten ? this.durableState() : undefined;
  }

  /** Everything durable: the hard state, the snapshot and the entries after it. */
  durableState(): PersistentState {
    return this.state.toPersistentState();
  }

  /**
   * Opens this disk as a {@link Storage}, as a restarted process opens the files it left: every
   * save is durable when it resolves. Closing the handle leaves the disk as it is.
   */
  open(): SimulatedDiskStorage {
    return new DiskHandle(this);
  }

  /**
   * Drops the durable log up to `index`, which the durable snapshot must cover (the disk already
   * drops it when a snapshot is saved; this only checks).
   * @throws StorageError when no snapshot covers `index`
   */
  compactTo(index: Index): void {
    this.state.checkCompact(index);
    this.state.compact(index);
    this.trimChains();
  }

  private saveSnapshot(snapshot: Snapshot, chain: number): void {
    this.state.apply({ snapshot });
    // LogState drops the whole log when the snapshot disagrees with it: so go the chains.
    if (this.state.entries.length === 0) this.chains = [];
    this.snapshotChain = chain;
  }

  /** Drops the chains of entries `LogState.compact` dropped, so both stay aligned on `offset`. */
  private trimChains(): void {
    const drop = this.chains.length - this.state.entries.length;
    if (drop > 0) this.chains.splice(0, drop);
  }
}

class DiskHandle implements SimulatedDiskStorage {
  #closed = false;

  constructor(readonly disk: SimulatedDisk) {}

  async load(): Promise<PersistentState> {
    this.#checkOpen('load');
    return this.disk.durableState();
  }

  async save(batch: StorageBatch): Promise<void> {
    this.#checkOpen('save');
    if (batch === null || typeof batch !== 'object') throw new StorageError('a batch must be an object');
    this.disk.write(batch);
  }

  async compact(index: Index): Promise<void> {
    this.#checkOpen('compact');
    this.disk.compactTo(index);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new StorageError(`cannot ${operation}: the storage is closed`);
  }
}
