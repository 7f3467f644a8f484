import type { Index, Snapshot } from '@greenraft/consensus';
import { type ChunkTiming, SnapshotTransfer } from './snapshot-transfer.js';

/** AppendRequests sent to one follower and not yet acknowledged, as a ring of (last index, bytes). */
export class Inflights {
  private readonly lastIndexes: number[];
  private readonly sizes: number[];
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {
    this.lastIndexes = new Array<number>(maxMessages).fill(0);
    this.sizes = new Array<number>(maxMessages).fill(0);
  }

  get full(): boolean {
    return this.count >= this.maxMessages || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  add(lastIndex: Index, bytes: number): void {
    const slot = (this.start + this.count) % this.maxMessages;
    this.lastIndexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every in-flight message whose last index is ≤ `index` (acknowledged). */
  freeUpTo(index: Index): void {
    while (this.count > 0 && this.lastIndexes[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxMessages;
      this.count--;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

/** One acknowledgement that raised a follower's match index: when, and in which order overall. */
export interface AckRecord {
  readonly index: Index;
  readonly sequence: number;
  readonly tick: number;
  /** The core's count of stepped messages when it was recorded (the response's own ordinal for a follower). */
  readonly step: number;
}

/** The leader's view of one follower (etcd-io/raft's Progress). */
export class Progress {
  match: Index = 0;
  next: Index;
  state: 'probe' | 'replicate' | 'snapshot' = 'probe';
  /** In probe state: an append is out; wait for its answer or the next heartbeat. */
  probeSent = false;
  recentActive = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot: Index = 0;
  /** In snapshot state: the transfer of the snapshot, chunk by chunk. */
  transfer: SnapshotTransfer | undefined = undefined;
  readonly inflights: Inflights;
  /** Match advances not yet covered by the commit index, oldest first (for commit quorums). */
  acks: AckRecord[] = [];

  constructor(next: Index, maxInflightMessages: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  get paused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflights.full;
    return true;
  }

  becomeProbe(): void {
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.transfer = undefined;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.state = 'replicate';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.transfer = undefined;
    this.inflights.reset();
  }

  becomeSnapshot(snapshot: Snapshot, timing: ChunkTiming): void {
    this.state = 'snapshot';
    this.probeSent = false;
    this.pendingSnapshot = snapshot.metadata.index;
    this.transfer = new SnapshotTransfer(snapshot, timing);
    this.inflights.reset();
  }

  /**
   * The follower rejected the append after `rejected` (etcd's `MaybeDecrTo`): go back to probing,
   * from `probeFrom + 1` at most. Returns false for a stale rejection of an append since moved past.
   */
  maybeDecrTo(rejected: Index, probeFrom: Index): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.becomeProbe();
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probeFrom + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** The follower accepted appends up to `index`: a probe or a finished snapshot moves on to replicate. */
  accepted(index: Index): void {
    if (this.state === 'probe') this.becomeReplicate();
    else if (this.state === 'snapshot' && this.match >= this.pendingSnapshot) {
      this.becomeProbe();
      this.becomeReplicate();
    } else if (this.state === 'replicate') this.inflights.freeUpTo(index);
  }

  /** Raises the match index; returns true if it moved. */
  update(index: Index, sequence: number, tick: number, step: number): boolean {
    if (index <= this.match) return false;
    this.probeSent = false;
    this.match = index;
    if (this.next <= index) this.next = index + 1;
    this.acks.push({ index, sequence, tick, step });
    return true;
  }

  /** The first acknowledgement that covered `index`, if any is still recorded. */
  ackCovering(index: Index): AckRecord | undefined {
    for (const ack of this.acks) if (ack.index >= index) return ack;
    return undefined;
  }

  /** Forgets acknowledgements of indexes ≤ `index`: later commits never need them. */
  pruneAcks(index: Index): void {
    let drop = 0;
    while (drop < this.acks.length && this.acks[drop]!.index <= index) drop++;
    if (drop > 0) this.acks.splice(0, drop);
  }
}
