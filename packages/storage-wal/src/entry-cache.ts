import type { Index } from '@greenraft/consensus';

/** The entry records of one saved batch, kept as the encoded bytes it was written from. */
interface CachedBatch {
  readonly firstIndex: Index;
  /** Entries of the batch still cached (an overwrite trims the tail). */
  count: number;
  readonly seq: number;
  /** Where `buffer` starts in its segment. */
  readonly base: number;
  readonly buffer: Buffer;
  /** Offset in `buffer` of each entry record, and where the last one ends. */
  readonly starts: readonly number[];
  readonly end: number;
}

/** Where a cached entry record lies: `length` bytes at `offset` of `buffer`. */
export interface CachedRecord {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly length: number;
}

/**
 * The encoded entry records of the most recent batches, bounded by bytes and evicted oldest
 * batch first. Whole batches, in index order, so a save costs one insertion rather than one per
 * entry. A lookup is checked against the entry's location in the log index, so a record that was
 * overwritten or compacted away is never served; holding encoded bytes (not the caller's objects)
 * means every read decodes a fresh copy.
 */
export class EntryCache {
  /** Cached batches by increasing index, non-overlapping; live from `#head`. */
  #batches: CachedBatch[] = [];
  #head = 0;
  #bytes = 0;

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** Caches the entry records of a batch written at `base` of segment `seq`. */
  add(seq: number, base: number, buffer: Buffer, firstIndex: Index, starts: readonly number[], end: number): void {
    if (starts.length === 0 || buffer.length > this.limit) return;
    // An overwrite: cached entries from `firstIndex` on are stale.
    while (this.#batches.length > this.#head) {
      const last = this.#batches.at(-1)!;
      if (last.firstIndex >= firstIndex) {
        this.#batches.pop();
        this.#bytes -= last.buffer.length;
      } else {
        last.count = Math.min(last.count, firstIndex - last.firstIndex);
        break;
      }
    }
    this.#batches.push({ firstIndex, count: starts.length, seq, base, buffer, starts, end });
    this.#bytes += buffer.length;
    while (this.#bytes > this.limit && this.#head < this.#batches.length) this.#bytes -= this.#batches[this.#head++]!.buffer.length;
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The record of the entry at `index` if it is cached for this location (segment `seq`, byte `position`). */
  get(index: Index, seq: number, position: number): CachedRecord | undefined {
    let low = this.#head;
    let high = this.#batches.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const batch = this.#batches[middle]!;
      if (index < batch.firstIndex) high = middle - 1;
      else if (index >= batch.firstIndex + batch.count) low = middle + 1;
      else {
        const k = index - batch.firstIndex;
        const offset = batch.starts[k]!;
        if (batch.seq !== seq || batch.base + offset !== position) return undefined;
        return { buffer: batch.buffer, offset, length: (batch.starts[k + 1] ?? batch.end) - offset };
      }
    }
    return undefined;
  }
}
