import { StorageError } from '@greenraft/consensus';
import type { HardState, Index, LogEntry, PersistentState, Snapshot, StorageBatch } from '@greenraft/consensus';

/** The hard state of a node that has never written anything. */
export const INITIAL_HARD_STATE: HardState = { term: 0, vote: undefined, commit: 0 };

/**
 * One copy of everything a store holds: hard state, latest snapshot and the log.
 * The memory store keeps two of them (what is durable and what has been written) and
 * replays the same operations on both, so the rules live in one place.
 */
export class LogState {
  hardState: HardState = INITIAL_HARD_STATE;
  snapshot: Snapshot | undefined = undefined;
  /** Stored entries, contiguous; `entries[0]` has index `offset`. May still hold entries the snapshot covers until `compact`. */
  entries: LogEntry[] = [];
  offset: Index = 1;

  /** The index of the last stored entry, or of the snapshot when the log is empty past it. */
  get lastIndex(): Index {
    const last = this.offset + this.entries.length - 1;
    return Math.max(last, this.snapshot?.metadata.index ?? 0);
  }

  /** The term of the entry at `index` if this store knows it (from the log or the snapshot). */
  termAt(index: Index): number | undefined {
    if (index === 0) return 0;
    const entry = this.entries[index - this.offset];
    if (entry !== undefined) return entry.term;
    if (this.snapshot?.metadata.index === index) return this.snapshot.metadata.term;
    return undefined;
  }

  clone(): LogState {
    const copy = new LogState();
    copy.hardState = this.hardState;
    copy.snapshot = this.snapshot;
    copy.entries = this.entries.slice();
    copy.offset = this.offset;
    return copy;
  }

  static fromPersistentState(state: PersistentState): LogState {
    const log = new LogState();
    log.check({ hardState: state.hardState, snapshot: state.snapshot, entries: state.entries });
    log.apply({ hardState: state.hardState, snapshot: state.snapshot, entries: state.entries });
    return log;
  }

  /** What a restarting node reads: the snapshot and only the entries after it. */
  toPersistentState(): PersistentState {
    const snapshotIndex = this.snapshot?.metadata.index ?? 0;
    const from = Math.max(0, snapshotIndex + 1 - this.offset);
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice(from) };
  }

  /**
   * Throws StorageError if `batch` cannot be applied to this state; changes nothing.
   * Checked before any write so that a batch is all or nothing.
   */
  check(batch: StorageBatch): void {
    const { hardState, snapshot, entries } = batch;
    if (hardState !== undefined) {
      if (!Number.isSafeInteger(hardState.term) || hardState.term < 0) throw new StorageError(`hard state term ${String(hardState.term)} is not an integer ≥ 0`);
      if (!Number.isSafeInteger(hardState.commit) || hardState.commit < 0) throw new StorageError(`hard state commit ${String(hardState.commit)} is not an integer ≥ 0`);
      if (hardState.vote !== undefined && (typeof hardState.vote !== 'string' || hardState.vote.length === 0)) {
        throw new StorageError('hard state vote must be a node id or undefined');
      }
      // A term that goes backwards would let the node vote twice in a term after a restart.
      if (hardState.term < this.hardState.term) throw new StorageError(`hard state term ${hardState.term} is below the stored term ${this.hardState.term}`);
    }
    let snapshotIndex = this.snapshot?.metadata.index ?? 0;
    if (snapshot !== undefined) {
      const { index, term } = snapshot.metadata;
      if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
        throw new StorageError('snapshot index and term must be integers ≥ 0');
      }
      if (!(snapshot.data instanceof Uint8Array)) throw new StorageError('snapshot data must be a Uint8Array');
      if (index < snapshotIndex) throw new StorageError(`snapshot at index ${index} is older than the stored snapshot at ${snapshotIndex}`);
      snapshotIndex = index;
    }
    if (entries === undefined || entries.length === 0) return;
    const first = entries[0]!.index;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.index !== first + i) throw new StorageError(`entries are not contiguous: index ${entry.index} at position ${i} after ${first}`);
      if (!Number.isSafeInteger(entry.term) || entry.term < 0) throw new StorageError(`entry ${entry.index} has term ${String(entry.term)}`);
      if (i > 0 && entry.term < entries[i - 1]!.term) throw new StorageError(`entry ${entry.index} has a lower term than the entry before it`);
    }
    if (first <= snapshotIndex) throw new StorageError(`entries from ${first} would overwrite the snapshot, which covers up to ${snapshotIndex}`);
    // After a snapshot in the same batch, the log may continue right after it even if older entries are dropped.
    const lastKnown = snapshot !== undefined && this.termAt(snapshot.metadata.index) !== snapshot.metadata.term ? snapshotIndex : this.lastIndex;
    if (first > Math.max(lastKnown, snapshotIndex) + 1) {
      throw new StorageError(`entries from ${first} leave a gap after the last stored index ${Math.max(lastKnown, snapshotIndex)}`);
    }
  }

  /** Applies a batch that {@link check} accepted: snapshot first, then entries, then hard state. */
  apply(batch: StorageBatch): void {
    const { hardState, snapshot, entries } = batch;
    if (snapshot !== undefined) {
      const { index, term } = snapshot.metadata;
      // Raft §7: keep the log after the snapshot only if it agrees with it at the snapshot's index.
      if (this.termAt(index) !== term || index > this.offset + this.entries.length - 1) {
        this.entries = [];
        this.offset = index + 1;
      }
      this.snapshot = snapshot;
    }
    if (entries !== undefined && entries.length > 0) {
      const first = entries[0]!.index;
      if (this.entries.length === 0) this.offset = first;
      this.entries.length = first - this.offset;
      for (const entry of entries) this.entries.push(entry);
    }
    if (hardState !== undefined) this.hardState = hardState;
  }

  /** Throws StorageError unless the stored snapshot covers `index`. */
  checkCompact(index: Index): void {
    if (!Number.isSafeInteger(index) || index < 0) throw new StorageError(`cannot compact to index ${String(index)}`);
    const snapshotIndex = this.snapshot?.metadata.index;
    if (snapshotIndex === undefined) throw new StorageError(`cannot compact to ${index}: no snapshot is saved`);
    if (index > snapshotIndex) throw new StorageError(`cannot compact to ${index}: the saved snapshot only covers up to ${snapshotIndex}`);
  }

  /** Drops stored entries up to and including `index`. */
  compact(index: Index): void {
    const drop = Math.min(this.entries.length, Math.max(0, index + 1 - this.offset));
    if (drop === 0) return;
    this.entries = this.entries.slice(drop);
    this.offset += drop;
  }
}
