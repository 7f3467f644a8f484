import type { HardState, Index, LogEntry, PersistentState, Snapshot, Term } from '@greenraft/consensus';
import { chainDigest, decodeChainSnapshot } from './digest.js';

/** An entry a durable write replaced or removed: where, and the terms before and after (`undefined`: removed). */
export interface Overwrite {
  readonly index: Index;
  readonly oldTerm: Term;
  readonly newTerm: Term | undefined;
}

/** What a durable write changed, for the checkers. */
export interface WriteOutcome {
  /** Entries written (those at or below the snapshot index are skipped). */
  readonly written: readonly { readonly index: Index; readonly term: Term; readonly chain: number }[];
  /** Existing entries the write replaced by different ones, or removed. */
  readonly overwritten: readonly Overwrite[];
  /** The durable commit index before the write. */
  readonly commitBefore: Index;
  /** The last durable index before the write. */
  readonly lastIndexBefore: Index;
}

/**
 * One node's simulated disk: what an fsync made durable. A crash keeps exactly this and loses
 * whatever the node held only in memory. Each entry carries the chain digest of the log up to it,
 * so Log Matching costs O(1) per written entry.
 */
export class SimulatedDisk {
  hardState: HardState = { term: 0, vote: undefined, commit: 0 };
  snapshot: Snapshot | undefined;
  /** Chain digest of the log up to the snapshot's index (0 for none). */
  snapshotChain = 0;
  private entries: LogEntry[] = [];
  private chains: number[] = [];
  private everWritten = false;

  get snapshotIndex(): Index {
    return this.snapshot?.metadata.index ?? 0;
  }

  get lastIndex(): Index {
    return this.snapshotIndex + this.entries.length;
  }

  /** The durable entry at `index`, if held. */
  entry(index: Index): LogEntry | undefined {
    return this.entries[index - this.snapshotIndex - 1];
  }

  /** Chain digest of the durable log up to `index`, if known. */
  chainAt(index: Index): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotChain;
    return this.chains[index - this.snapshotIndex - 1];
  }

  /**
   * Applies one atomic batch (snapshot, then entries, then hard state). Throws a RangeError when
   * the entries would leave a gap, which only a broken engine produces.
   */
  write(batch: { hardState?: HardState; entries: readonly LogEntry[]; snapshot?: Snapshot }): WriteOutcome {
    const commitBefore = this.hardState.commit;
    const lastIndexBefore = this.lastIndex;
    if (batch.snapshot) this.installSnapshot(batch.snapshot);
    const written: { index: Index; term: Term; chain: number }[] = [];
    const overwritten: Overwrite[] = [];
    const entries = batch.entries;
    if (entries.length > 0) {
      let start = 0;
      while (start < entries.length && entries[start]!.index <= this.snapshotIndex) start++;
      if (start < entries.length) {
        const first = entries[start]!.index;
        if (first > this.lastIndex + 1) throw new RangeError(`durable write at index ${first} leaves a gap after ${this.lastIndex}`);
        const keep = first - this.snapshotIndex - 1;
        for (let k = start; k < entries.length; k++) {
          const entry = entries[k]!;
          const old = this.entries[keep + k - start];
          if (old !== undefined && old.term !== entry.term) overwritten.push({ index: entry.index, oldTerm: old.term, newTerm: entry.term });
        }
        // Stored entries past the end of the batch are dropped too: the log now ends with the batch.
        for (let k = keep + entries.length - start; k < this.entries.length; k++) {
          overwritten.push({ index: this.entries[k]!.index, oldTerm: this.entries[k]!.term, newTerm: undefined });
        }
        this.entries.length = keep;
        this.chains.length = keep;
        let chain = this.chainAt(first - 1) ?? 0;
        for (let k = start; k < entries.length; k++) {
          const entry = entries[k]!;
          if (entry.index !== first + k - start) throw new RangeError(`durable write is not contiguous at index ${entry.index}`);
          chain = chainDigest(chain, entry);
          this.entries.push(entry);
          this.chains.push(chain);
          written.push({ index: entry.index, term: entry.term, chain });
        }
      }
    }
    if (batch.hardState) this.hardState = batch.hardState;
    this.everWritten = true;
    return { written, overwritten, commitBefore, lastIndexBefore };
  }

  /** A snapshot received from the leader replaces the log up to its index, keeping a suffix that matches. */
  private installSnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    const matches = this.entry(index)?.term === term;
    const drop = matches ? index - this.snapshotIndex : this.entries.length;
    this.entries.splice(0, drop);
    this.chains.splice(0, drop);
    this.snapshot = snapshot;
    this.snapshotChain = decodeChainSnapshot(snapshot.data) ?? 0;
  }

  /** The driver took a snapshot at an index it has applied: it becomes durable and the log before it is dropped. */
  compact(snapshot: Snapshot, chain: number): void {
    const drop = Math.min(this.entries.length, snapshot.metadata.index - this.snapshotIndex);
    if (drop < 0) return;
    this.entries.splice(0, drop);
    this.chains.splice(0, drop);
    this.snapshot = snapshot;
    this.snapshotChain = chain;
    this.everWritten = true;
  }

  /** What a restarting node reads back; `undefined` if nothing was ever made durable. */
  load(): PersistentState | undefined {
    if (!this.everWritten) return undefined;
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}
