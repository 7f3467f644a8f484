import type { Index, LogEntry, Term } from '@greenraft/consensus';

/** Bytes an entry costs against message and in-flight budgets. Config entries count a nominal size. */
export function entryBytes(entry: LogEntry): number {
  return entry.type === 'normal' ? entry.data.byteLength : 64;
}

/**
 * The in-memory log: entries after the latest snapshot, in one array whose position 0 holds
 * index `snapshotIndex + 1`. Entries from `unstableFrom` on have not yet been handed to storage.
 */
export class RaftLog {
  snapshotIndex: Index;
  snapshotTerm: Term;
  entries: LogEntry[];
  /** First index not yet persisted (acknowledged through `advance`). */
  unstableFrom: Index;

  constructor(snapshotIndex: Index, snapshotTerm: Term, entries: LogEntry[], unstableFrom: Index) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = entries;
    this.unstableFrom = unstableFrom;
  }

  get firstIndex(): Index {
    return this.snapshotIndex + 1;
  }

  get lastIndex(): Index {
    return this.snapshotIndex + this.entries.length;
  }

  get lastTerm(): Term {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? this.snapshotTerm : last.term;
  }

  /** The term of the entry at `index`, or `undefined` when it was compacted away or does not exist yet. */
  termAt(index: Index): Term | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    return this.entries[index - this.snapshotIndex - 1]?.term;
  }

  entry(index: Index): LogEntry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Entries in [lo, hi), at least one when any is available, then up to `maxBytes` in total. */
  slice(lo: Index, hi: Index, maxBytes = Number.POSITIVE_INFINITY): LogEntry[] {
    const from = Math.max(lo, this.firstIndex) - this.snapshotIndex - 1;
    const to = Math.min(hi, this.lastIndex + 1) - this.snapshotIndex - 1;
    if (to <= from) return [];
    if (maxBytes === Number.POSITIVE_INFINITY) return this.entries.slice(from, to);
    let bytes = 0;
    let end = from;
    while (end < to) {
      bytes += entryBytes(this.entries[end]!);
      if (bytes > maxBytes && end > from) break;
      end++;
    }
    return this.entries.slice(from, end);
  }

  /** Appends entries that directly follow the last one. */
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) this.entries.push(entry);
  }

  /** Drops every entry at or after `index` (never before the snapshot). */
  truncateFrom(index: Index): void {
    const keep = index - this.snapshotIndex - 1;
    if (keep < this.entries.length) this.entries.length = Math.max(0, keep);
    if (this.unstableFrom > index) this.unstableFrom = index;
  }

  /** The first entry of `entries` whose term differs from ours at its index, or 0 if all match. */
  findConflict(entries: readonly LogEntry[]): Index {
    for (const entry of entries) {
      if (this.termAt(entry.index) !== entry.term) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term` (fast log back-off: a whole conflicting
   * term is skipped in one round trip). Returns `index` itself when it is outside the log.
   */
  findConflictByTerm(index: Index, term: Term): Index {
    if (index > this.lastIndex || index <= this.snapshotIndex) return index;
    let at = index;
    while (at > this.snapshotIndex) {
      const entryTerm = this.termAt(at)!;
      if (entryTerm <= term) return at;
      at--;
    }
    return this.snapshotIndex;
  }

  /** Forgets entries up to and including `index` (which must be in the log or be the snapshot). */
  compactTo(index: Index, term: Term): void {
    const drop = index - this.snapshotIndex;
    if (drop <= 0) return;
    this.entries = drop >= this.entries.length ? [] : this.entries.slice(drop);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    if (this.unstableFrom < index + 1) this.unstableFrom = index + 1;
  }

  /** Replaces the whole log with an empty one that starts after a snapshot. */
  resetTo(index: Index, term: Term): void {
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.unstableFrom = index + 1;
  }
}
