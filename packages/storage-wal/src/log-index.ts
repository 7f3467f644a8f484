import { StorageError } from '@greenraft/consensus';
import type { HardState, Index, LogEntry, SnapshotMetadata, StorageBatch, Term } from '@greenraft/consensus';

/** The hard state of a node that has never written anything. */
export const INITIAL_HARD_STATE: HardState = { term: 0, vote: undefined, commit: 0 };

/** The stored snapshot as the log knows it: its metadata and which file holds its data. */
export interface SnapshotRef {
  readonly metadata: SnapshotMetadata;
  /** The snapshot file's id (its name holds the index and the id). */
  readonly id: number;
  /** Bytes of snapshot data. */
  readonly size: number;
}

/** Terms and record locations of a run of stored entries, the first at index `from`. */
export interface EntrySpan {
  readonly from: Index;
  readonly terms: readonly Term[];
  readonly seqs: readonly number[];
  readonly positions: readonly number[];
  readonly lengths: readonly number[];
}

/** The log's bounds, hard state and snapshot at the start of a segment (its STATE record). */
export interface StartState {
  readonly offset: Index;
  /** The last stored entry's index (`offset - 1` when the log is empty). */
  readonly lastStored: Index;
  readonly hardState: HardState;
  readonly snapshot: SnapshotRef | undefined;
}

/** A replayed record that contradicts the log built so far (a bug or a forged file, never a torn write). */
export class InconsistentLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InconsistentLogError';
  }
}

/** Location of an entry whose record lies in a segment that was deleted (it must be compacted by the end of replay). */
const UNKNOWN = -1;

/**
 * What the store holds, without the entry bodies: the hard state, the snapshot reference and,
 * for each stored entry, its term and where its record lies. The rules are those of the memory
 * store's log state (the compliance suite and an equivalence test hold them equal), applied as
 * effects: a live save first checks a batch and decides its effects (whether a snapshot keeps
 * the log), the WAL records those effects, and replaying them at open rebuilds the same index.
 */
export class LogIndex {
  hardState: HardState = INITIAL_HARD_STATE;
  snapshot: SnapshotRef | undefined = undefined;
  /** Index of the first stored entry. Stored entries may still include ones the snapshot covers until `compact`. */
  offset: Index = 1;
  #terms: Term[] = [];
  #seqs: number[] = [];
  #positions: number[] = [];
  #lengths: number[] = [];

  static fromStartState(state: StartState): LogIndex {
    const log = new LogIndex();
    log.hardState = state.hardState;
    log.snapshot = state.snapshot;
    log.offset = state.offset;
    for (let index = state.offset; index <= state.lastStored; index++) {
      log.#terms.push(UNKNOWN);
      log.#seqs.push(UNKNOWN);
      log.#positions.push(UNKNOWN);
      log.#lengths.push(0);
    }
    return log;
  }

  /** Number of stored entries. */
  get length(): number {
    return this.#terms.length;
  }

  /** Index of the last stored entry, `offset - 1` when none is stored. */
  get lastStored(): Index {
    return this.offset + this.#terms.length - 1;
  }

  get snapshotIndex(): Index {
    return this.snapshot?.metadata.index ?? 0;
  }

  /** The index of the last stored entry, or of the snapshot when the log is empty past it. */
  get lastIndex(): Index {
    return Math.max(this.lastStored, this.snapshotIndex);
  }

  startState(): StartState {
    return { offset: this.offset, lastStored: this.lastStored, hardState: this.hardState, snapshot: this.snapshot };
  }

  /** The term of the entry at `index` if this store knows it (from the log or the snapshot). */
  termAt(index: Index): Term | undefined {
    if (index === 0) return 0;
    const term = this.#terms[index - this.offset];
    if (term !== undefined && term !== UNKNOWN) return term;
    if (this.snapshot?.metadata.index === index) return this.snapshot.metadata.term;
    return undefined;
  }

  /** Terms and locations of the stored entries `from..to` (inclusive), copied so later writes cannot change them. */
  span(from: Index, to: Index): EntrySpan {
    const start = from - this.offset;
    const end = to - this.offset + 1;
    return {
      from,
      terms: this.#terms.slice(start, end),
      seqs: this.#seqs.slice(start, end),
      positions: this.#positions.slice(start, end),
      lengths: this.#lengths.slice(start, end),
    };
  }

  /** The lowest segment holding a stored entry: every segment before it can be deleted. `undefined` when nothing is stored. */
  firstSegmentInUse(): number | undefined {
    return this.#seqs[0];
  }

  /** The first stored entry whose record lies in no segment (after replay: a segment is missing). */
  firstUnlocated(): Index | undefined {
    const at = this.#seqs.indexOf(UNKNOWN);
    return at === -1 ? undefined : this.offset + at;
  }

  /**
   * Throws StorageError if `batch` cannot be applied to this log; changes nothing. The same rules
   * as the memory store: terms never go back, snapshots never get older, entries are contiguous,
   * never overwrite the snapshot and leave no gap.
   */
  check(batch: StorageBatch): void {
    if (batch === null || typeof batch !== 'object') throw new StorageError('a batch must be an object');
    const { hardState, snapshot, entries } = batch;
    if (hardState !== undefined) {
      if (hardState === null || typeof hardState !== 'object') throw new StorageError('hard state must be an object');
      if (!Number.isSafeInteger(hardState.term) || hardState.term < 0) throw new StorageError(`hard state term ${String(hardState.term)} is not an integer ≥ 0`);
      if (!Number.isSafeInteger(hardState.commit) || hardState.commit < 0) throw new StorageError(`hard state commit ${String(hardState.commit)} is not an integer ≥ 0`);
      if (hardState.vote !== undefined && (typeof hardState.vote !== 'string' || hardState.vote.length === 0)) {
        throw new StorageError('hard state vote must be a node id or undefined');
      }
      // A term that goes backwards would let the node vote twice in a term after a restart.
      if (hardState.term < this.hardState.term) throw new StorageError(`hard state term ${hardState.term} is below the stored term ${this.hardState.term}`);
    }
    let snapshotIndex = this.snapshotIndex;
    if (snapshot !== undefined) {
      if (snapshot === null || typeof snapshot !== 'object' || snapshot.metadata === null || typeof snapshot.metadata !== 'object') {
        throw new StorageError('a snapshot needs metadata and data');
      }
      const { index, term } = snapshot.metadata;
      if (!Number.isSafeInteger(index) || index < 0 || !Number.isSafeInteger(term) || term < 0) {
        throw new StorageError('snapshot index and term must be integers ≥ 0');
      }
      if (!(snapshot.data instanceof Uint8Array)) throw new StorageError('snapshot data must be a Uint8Array');
      if (index < snapshotIndex) throw new StorageError(`snapshot at index ${index} is older than the stored snapshot at ${snapshotIndex}`);
      snapshotIndex = index;
    }
    if (entries === undefined) return;
    if (!Array.isArray(entries)) throw new StorageError('batch entries must be an array');
    if (entries.length === 0) return;
    const first = (entries[0] as LogEntry | null)?.index;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LogEntry | null;
      if (entry === null || typeof entry !== 'object') throw new StorageError(`entry at position ${i} is not an object`);
      if (!Number.isSafeInteger(entry.index)) throw new StorageError(`entry at position ${i} has index ${String(entry.index)}, not an integer`);
      if (entry.index !== (first as number) + i) throw new StorageError(`entries are not contiguous: index ${entry.index} at position ${i} after ${String(first)}`);
      if (!Number.isSafeInteger(entry.term) || entry.term < 0) throw new StorageError(`entry ${entry.index} has term ${String(entry.term)}`);
      if (i > 0 && entry.term < entries[i - 1]!.term) throw new StorageError(`entry ${entry.index} has a lower term than the entry before it`);
    }
    const firstIndex = first as number;
    if (firstIndex <= snapshotIndex) throw new StorageError(`entries from ${firstIndex} would overwrite the snapshot, which covers up to ${snapshotIndex}`);
    // After a snapshot in the same batch, the log may continue right after it even if older entries are dropped.
    const lastKnown = snapshot !== undefined && this.termAt(snapshot.metadata.index) !== snapshot.metadata.term ? snapshotIndex : this.lastIndex;
    if (firstIndex > Math.max(lastKnown, snapshotIndex) + 1) {
      throw new StorageError(`entries from ${firstIndex} leave a gap after the last stored index ${Math.max(lastKnown, snapshotIndex)}`);
    }
  }

  /** Raft §7: a new snapshot keeps the stored log after it only if the log agrees with it at its index. */
  keepsLogAfter(metadata: SnapshotMetadata): boolean {
    return this.termAt(metadata.index) === metadata.term && metadata.index <= this.lastStored;
  }

  /** Installs a snapshot reference, dropping the whole log unless `keepLog`. */
  applySnapshot(ref: SnapshotRef, keepLog: boolean): void {
    if (!keepLog) {
      this.#truncate(0);
      this.offset = ref.metadata.index + 1;
    }
    this.snapshot = ref;
  }

  /** Stores the entry at `index`, whose record lies at `position` (`length` bytes) of segment `seq`, dropping every stored entry at or after it first. */
  applyEntry(index: Index, term: Term, seq: number, position: number, length: number): void {
    if (this.#terms.length === 0) this.offset = index;
    const at = index - this.offset;
    if (at < 0 || at > this.#terms.length) throw new InconsistentLogError(`entry ${index} does not follow the stored log ${this.offset}..${this.lastStored}`);
    this.#truncate(at);
    this.#terms.push(term);
    this.#seqs.push(seq);
    this.#positions.push(position);
    this.#lengths.push(length);
  }

  applyHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Throws StorageError unless the stored snapshot covers `index`. */
  checkCompact(index: Index): void {
    if (!Number.isSafeInteger(index) || index < 0) throw new StorageError(`cannot compact to index ${String(index)}`);
    const snapshotIndex = this.snapshot?.metadata.index;
    if (snapshotIndex === undefined) throw new StorageError(`cannot compact to ${index}: no snapshot is saved`);
    if (index > snapshotIndex) throw new StorageError(`cannot compact to ${index}: the saved snapshot only covers up to ${snapshotIndex}`);
  }

  /** How many stored entries `compact(index)` would drop. */
  compactionDrops(index: Index): number {
    return Math.min(this.#terms.length, Math.max(0, index + 1 - this.offset));
  }

  /** Drops stored entries up to and including `index`; returns how many. */
  compact(index: Index): number {
    const drop = this.compactionDrops(index);
    if (drop === 0) return 0;
    this.#terms.splice(0, drop);
    this.#seqs.splice(0, drop);
    this.#positions.splice(0, drop);
    this.#lengths.splice(0, drop);
    this.offset += drop;
    return drop;
  }

  #truncate(length: number): void {
    if (this.#terms.length === length) return;
    this.#terms.length = length;
    this.#seqs.length = length;
    this.#positions.length = length;
    this.#lengths.length = length;
  }
}
