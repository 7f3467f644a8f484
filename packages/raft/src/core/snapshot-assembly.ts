import type { Snapshot, SnapshotMetadata, SnapshotRequest } from '@greenraft/consensus';

/** Where a follower stands after a snapshot chunk: the bytes it holds, and the snapshot once whole. */
export interface ChunkReceived {
  /** Bytes of the snapshot received so far: the offset the leader should send next. */
  readonly offset: number;
  readonly done: boolean;
  /** The whole snapshot, once its last chunk is in. */
  readonly snapshot?: Snapshot;
}

function concatChunks(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const data = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    data.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return data;
}

/**
 * A follower assembling the snapshot its leader sends in chunks (InstallSnapshot, Raft §7): chunks
 * must arrive in order from offset 0; a chunk of another snapshot, or out of order, is answered
 * with the offset the follower needs instead. A chunk at offset 0 of the snapshot already being
 * assembled (a late duplicate, or a leader starting over) does not restart it: the answer tells the
 * leader where to resume.
 */
export class SnapshotAssembly {
  private receiving: { readonly metadata: SnapshotMetadata; readonly chunks: Uint8Array[]; bytes: number } | undefined;

  /** Forgets a partly received snapshot. */
  reset(): void {
    this.receiving = undefined;
  }

  /** Takes one chunk of the leader's snapshot. */
  receive(m: SnapshotRequest): ChunkReceived {
    const { metadata } = m;
    const current = this.receiving;
    const same = current !== undefined && current.metadata.index === metadata.index && current.metadata.term === metadata.term;
    if (!same) {
      if (m.offset !== 0) return { offset: 0, done: false };
      this.receiving = { metadata, chunks: [], bytes: 0 };
    }
    const receiving = this.receiving!;
    if (m.offset !== receiving.bytes) return { offset: receiving.bytes, done: false };
    receiving.chunks.push(m.chunk);
    receiving.bytes += m.chunk.byteLength;
    if (!m.done) return { offset: receiving.bytes, done: false };
    this.receiving = undefined;
    return { offset: receiving.bytes, done: true, snapshot: { metadata, data: concatChunks(receiving.chunks, receiving.bytes) } };
  }
}
