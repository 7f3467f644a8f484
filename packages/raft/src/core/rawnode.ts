import type { HardState, LogEntry, Message, Snapshot } from '@greenraft/consensus';
import type { CoreCommitQuorum, ReadState, Ready, SoftState } from './api.js';

/** Shared empty list for Ready fields with nothing in them (never mutated). */
const NOTHING: readonly never[] = Object.freeze([]);

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}

/** What the core's log and state hold for the next Ready, besides the queued output. */
export interface ReadyParts {
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly entries: readonly LogEntry[];
  readonly committedEntries: readonly LogEntry[];
  readonly snapshot: Snapshot | undefined;
}

/**
 * The Ready bookkeeping (etcd-io/raft's `rawnode.go`): the output the core queued (messages, read
 * states, dropped reads, commit quorums) and the hard and soft state the driver last acknowledged, so that a
 * Ready carries only what changed and `advance` releases exactly what the driver handled.
 */
export class ReadyTracker {
  private readonly outbox: Message[] = [];
  private readonly readStates: ReadState[] = [];
  private readonly droppedReads: string[] = [];
  private readonly commitQuorums: CoreCommitQuorum[] = [];
  private acknowledgedHard: HardState;
  private acknowledgedSoft: SoftState;

  /** The state the core starts in counts as acknowledged: storage already holds it. */
  constructor(hardState: HardState, softState: SoftState) {
    this.acknowledgedHard = hardState;
    this.acknowledgedSoft = softState;
  }

  /** Queues a message for the next Ready. */
  send(message: Message): void {
    this.outbox.push(message);
  }

  /** Queues a read that may be served once the applied index reaches its index. */
  addReadState(readState: ReadState): void {
    this.readStates.push(readState);
  }

  /** Queues the context of one of this node's reads that will never be served. */
  addDroppedRead(context: string): void {
    this.droppedReads.push(context);
  }

  /** Queues the report of which acknowledgements formed a commit's quorum. */
  addCommitQuorum(quorum: CoreCommitQuorum): void {
    this.commitQuorums.push(quorum);
  }

  /** True when output is queued. */
  get hasOutput(): boolean {
    return this.outbox.length > 0 || this.readStates.length > 0 || this.droppedReads.length > 0 || this.commitQuorums.length > 0;
  }

  /** True when `hardState` or `softState` differ from what the driver last acknowledged. */
  stateChanged(hardState: HardState, softState: SoftState): boolean {
    return !sameHardState(hardState, this.acknowledgedHard) || !sameSoftState(softState, this.acknowledgedSoft);
  }

  /** The Ready for `parts` and the queued output; hard and soft state only when they changed. */
  ready(parts: ReadyParts): Ready {
    return {
      entries: parts.entries.length > 0 ? parts.entries : NOTHING,
      committedEntries: parts.committedEntries.length > 0 ? parts.committedEntries : NOTHING,
      messages: this.outbox.length > 0 ? this.outbox.slice() : NOTHING,
      readStates: this.readStates.length > 0 ? this.readStates.slice() : NOTHING,
      droppedReads: this.droppedReads.length > 0 ? this.droppedReads.slice() : NOTHING,
      commitQuorums: this.commitQuorums.length > 0 ? this.commitQuorums.slice() : NOTHING,
      ...(sameHardState(parts.hardState, this.acknowledgedHard) ? {} : { hardState: parts.hardState }),
      ...(sameSoftState(parts.softState, this.acknowledgedSoft) ? {} : { softState: parts.softState }),
      ...(parts.snapshot === undefined ? {} : { snapshot: parts.snapshot }),
    };
  }

  /** The driver handled `rd`: its state is acknowledged and its output released. */
  advance(rd: Ready): void {
    if (rd.hardState !== undefined) this.acknowledgedHard = rd.hardState;
    if (rd.softState !== undefined) this.acknowledgedSoft = rd.softState;
    if (rd.messages.length > 0) this.outbox.splice(0, rd.messages.length);
    if (rd.readStates.length > 0) this.readStates.splice(0, rd.readStates.length);
    if (rd.droppedReads.length > 0) this.droppedReads.splice(0, rd.droppedReads.length);
    if (rd.commitQuorums.length > 0) this.commitQuorums.splice(0, rd.commitQuorums.length);
  }
}
