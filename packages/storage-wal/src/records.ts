/** Payloads of the body records: STATE, SNAPSHOT and COMPACT (ENTRY and HARD_STATE are in codec.ts). */
import { DecodeError, type Decoder, Encoder, decodeClusterConfig, decodeHardState, encodeClusterConfig, encodeHardState } from './codec.js';
import { BatchBuilder, RecordType, encodeSegmentHeader } from './format.js';
import type { SnapshotRef, StartState } from './log-index.js';

function encodeSnapshotRef(encoder: Encoder, ref: SnapshotRef): void {
  encoder.u64(ref.metadata.index);
  encoder.u64(ref.metadata.term);
  encoder.u64(ref.id);
  encoder.u64(ref.size);
  encodeClusterConfig(encoder, ref.metadata.config);
}

function decodeSnapshotRef(decoder: Decoder): SnapshotRef {
  const index = decoder.u64();
  const term = decoder.u64();
  const id = decoder.u64();
  const size = decoder.u64();
  const config = decodeClusterConfig(decoder);
  return { metadata: { index, term, config }, id, size };
}

/** SNAPSHOT: whether the snapshot kept the stored log after it (decided when saved), then the reference. */
export function encodeSnapshotRecord(encoder: Encoder, ref: SnapshotRef, keepLog: boolean): void {
  encoder.u8(keepLog ? 1 : 0);
  encodeSnapshotRef(encoder, ref);
}

export function decodeSnapshotRecord(decoder: Decoder): { ref: SnapshotRef; keepLog: boolean } {
  const keep = decoder.u8();
  if (keep > 1) throw new DecodeError(`bad keep-log flag ${keep}`);
  const ref = decodeSnapshotRef(decoder);
  decoder.done('snapshot record');
  return { ref, keepLog: keep === 1 };
}

/** COMPACT, the prefix marker: entries up to and including the index are gone. */
export function encodeCompactRecord(encoder: Encoder, index: number): void {
  encoder.u64(index);
}

export function decodeCompactRecord(decoder: Decoder): number {
  const index = decoder.u64();
  decoder.done('compact record');
  return index;
}

export function encodeStateRecord(encoder: Encoder, state: StartState): void {
  encoder.u64(state.offset);
  encoder.u64(state.lastStored + 1);
  encodeHardState(encoder, state.hardState);
  encoder.u8(state.snapshot === undefined ? 0 : 1);
  if (state.snapshot !== undefined) encodeSnapshotRef(encoder, state.snapshot);
}

export function decodeStateRecord(decoder: Decoder): StartState {
  const offset = decoder.u64();
  const end = decoder.u64();
  if (offset < 1 || end < offset) throw new DecodeError(`impossible log bounds ${offset}..${end - 1}`);
  const hardState = decodeHardState(decoder);
  const hasSnapshot = decoder.u8();
  if (hasSnapshot > 1) throw new DecodeError(`bad snapshot flag ${hasSnapshot}`);
  const snapshot = hasSnapshot === 1 ? decodeSnapshotRef(decoder) : undefined;
  decoder.done('state record');
  return { offset, lastStored: end - 1, hardState, snapshot };
}

/** The first bytes of a new segment: its header, then a batch holding the STATE record. */
export function encodeSegmentStart(seq: number, state: StartState): Buffer {
  const encoder = new Encoder(256);
  encoder.bytes(encodeSegmentHeader(seq));
  const batch = new BatchBuilder(encoder);
  batch.record(RecordType.state, (e) => encodeStateRecord(e, state));
  batch.finish();
  return encoder.result();
}

/** True if two start states describe the same log (a segment's STATE must match the log before it). */
export function sameStartState(a: StartState, b: StartState): boolean {
  const sameSnapshot =
    a.snapshot === undefined
      ? b.snapshot === undefined
      : b.snapshot !== undefined && a.snapshot.id === b.snapshot.id && a.snapshot.metadata.index === b.snapshot.metadata.index && a.snapshot.metadata.term === b.snapshot.metadata.term;
  return (
    sameSnapshot &&
    a.offset === b.offset &&
    a.lastStored === b.lastStored &&
    a.hardState.term === b.hardState.term &&
    a.hardState.commit === b.hardState.commit &&
    a.hardState.vote === b.hardState.vote
  );
}
