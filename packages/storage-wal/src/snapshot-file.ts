/**
 * Snapshot files. Layout (version 1): a 32-byte header — magic `GRAFTSNP`, u32 format version,
 * u32 metadata length, u64 data length, u32 reserved, u32 CRC32 of the bytes before it — then
 * the metadata (u64 index, u64 term, u64 file id, the cluster configuration), the data, and a
 * u32 CRC32 of metadata and data. Written under a temporary name, fsynced, renamed into place
 * and the directory fsynced; read and checked in chunks, so no second copy of the data is made.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Snapshot, SnapshotMetadata } from '@greenraft/consensus';
import { DecodeError, Decoder, Encoder, decodeClusterConfig, encodeClusterConfig } from './codec.js';
import { StorageCorruptionError, StorageVersionError } from './errors.js';
import type { Failpoints } from './failpoints.js';
import { type WalFileSystem, readFully, writeFully } from './fs.js';
import { FORMAT_VERSION, TEMP_SUFFIX, snapshotFileName } from './format.js';
import type { SnapshotRef } from './log-index.js';

const MAGIC = Buffer.from('GRAFTSNP', 'latin1');
const HEADER_BYTES = 32;
/** Where a snapshot file's metadata starts. */
export const SNAPSHOT_METADATA_OFFSET = HEADER_BYTES;
const TRAILER_BYTES = 4;
/** Snapshot data moves to and from disk in pieces of this size. */
const CHUNK_BYTES = 1 << 20;

function encodeHeaderAndMetadata(snapshot: Snapshot, id: number): Buffer {
  const encoder = new Encoder(HEADER_BYTES + 128);
  encoder.position = HEADER_BYTES;
  encoder.u64(snapshot.metadata.index);
  encoder.u64(snapshot.metadata.term);
  encoder.u64(id);
  encodeClusterConfig(encoder, snapshot.metadata.config);
  const metadataLength = encoder.position - HEADER_BYTES;
  const end = encoder.position;
  encoder.position = 0;
  encoder.bytes(MAGIC);
  encoder.u32(FORMAT_VERSION);
  encoder.u32(metadataLength);
  encoder.u64(snapshot.data.length);
  encoder.u32(0);
  encoder.u32(crc32(encoder.buffer.subarray(0, 28)));
  encoder.position = end;
  return encoder.result();
}

/** Writes the snapshot to a temporary file, fsyncs it, renames it into place and fsyncs the directory. Returns the file name. */
export async function writeSnapshotFile(fileSystem: WalFileSystem, directory: string, snapshot: Snapshot, id: number, failpoints: Failpoints): Promise<string> {
  const name = snapshotFileName(snapshot.metadata.index, id);
  const path = join(directory, name);
  const temp = path + TEMP_SUFFIX;
  const head = encodeHeaderAndMetadata(snapshot, id);
  const fd = await fileSystem.open(temp, 'w');
  try {
    failpoints.reach('beforeWrite');
    await writeFully(fileSystem, fd, head, 0);
    let checksum = crc32(head.subarray(HEADER_BYTES));
    let position = head.length;
    const { data } = snapshot;
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      const chunk = data.subarray(at, Math.min(data.length, at + CHUNK_BYTES));
      checksum = crc32(chunk, checksum);
      await writeFully(fileSystem, fd, chunk, position);
      position += chunk.length;
    }
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeUInt32LE(checksum, 0);
    await writeFully(fileSystem, fd, trailer, position);
    failpoints.reach('afterWrite');
    failpoints.reach('beforeFsync');
    await fileSystem.fsync(fd);
    failpoints.reach('afterFsync');
  } finally {
    await fileSystem.close(fd);
  }
  failpoints.reach('beforeRename');
  await fileSystem.rename(temp, path);
  failpoints.reach('afterRename');
  await fileSystem.syncDirectory(directory);
  return name;
}

/**
 * Reads the snapshot file of `ref` and checks it against `ref` and its checksums. With `keep`
 * false it only checks (a reused chunk buffer, nothing retained); otherwise it returns the data.
 */
export async function readSnapshotFile(fileSystem: WalFileSystem, directory: string, ref: SnapshotRef, keep: boolean): Promise<Snapshot | undefined> {
  const path = join(directory, snapshotFileName(ref.metadata.index, ref.id));
  let fd: number;
  try {
    fd = await fileSystem.open(path, 'r');
  } catch (error) {
    throw new StorageCorruptionError(path, 0, `the snapshot file the log refers to cannot be opened (${(error as Error).message})`, { cause: error });
  }
  try {
    const contents = await readSnapshotContents(fileSystem, fd, path, ref, keep);
    return contents.data === undefined ? undefined : { metadata: ref.metadata, data: contents.data };
  } finally {
    await fileSystem.close(fd);
  }
}

/** What a snapshot file holds, read and checked. */
export interface SnapshotContents {
  /** Index, term and configuration, as the file's metadata holds them. */
  readonly metadata: SnapshotMetadata;
  /** The data, when asked to keep it. */
  readonly data: Uint8Array | undefined;
}

/**
 * Reads and checks the snapshot file open as `fd` (named `path` in errors): header, format
 * version, lengths, metadata and both checksums. With `expected`, the file must hold that
 * snapshot; without, its own metadata is returned. With `keep` the data is returned too.
 */
export async function readSnapshotContents(fileSystem: WalFileSystem, fd: number, path: string, expected: SnapshotRef | undefined, keep: boolean): Promise<SnapshotContents> {
  const corrupt = (offset: number, problem: string): StorageCorruptionError => new StorageCorruptionError(path, offset, problem);
  const size = await fileSystem.fileSize(fd);
  const header = Buffer.alloc(HEADER_BYTES);
  if ((await readFully(fileSystem, fd, header, 0, HEADER_BYTES, 0)) < HEADER_BYTES) throw corrupt(0, 'snapshot header cut short');
  if (!header.subarray(0, 8).equals(MAGIC)) throw corrupt(0, 'not a greenraft snapshot file (bad magic)');
  if (header.readUInt32LE(28) !== crc32(header.subarray(0, 28))) throw corrupt(0, 'snapshot header checksum mismatch');
  const version = header.readUInt32LE(8);
  if (version !== FORMAT_VERSION) throw new StorageVersionError(path, version, FORMAT_VERSION);
  const metadataLength = header.readUInt32LE(12);
  const dataLength = new Decoder(header, 16, 24).u64();
  if (HEADER_BYTES + metadataLength + dataLength + TRAILER_BYTES !== size) throw corrupt(0, `the file holds ${size} bytes, its header promises ${HEADER_BYTES + metadataLength + dataLength + TRAILER_BYTES}`);
  if (expected !== undefined && dataLength !== expected.size) throw corrupt(0, `the file holds ${dataLength} bytes of data, the log expects ${expected.size}`);
  const metadataBytes = Buffer.alloc(metadataLength);
  await readFully(fileSystem, fd, metadataBytes, 0, metadataLength, HEADER_BYTES);
  let checksum = crc32(metadataBytes);
  let metadata: SnapshotMetadata;
  let id: number;
  try {
    const decoder = new Decoder(metadataBytes);
    const index = decoder.u64();
    const term = decoder.u64();
    id = decoder.u64();
    const config = decodeClusterConfig(decoder);
    decoder.done('snapshot metadata');
    metadata = { index, term, config };
  } catch (error) {
    if (error instanceof DecodeError) throw corrupt(HEADER_BYTES, `unreadable snapshot metadata: ${error.message}`);
    throw error;
  }
  if (expected !== undefined && (metadata.index !== expected.metadata.index || metadata.term !== expected.metadata.term || id !== expected.id)) {
    throw corrupt(HEADER_BYTES, `the file holds snapshot ${metadata.index}/${metadata.term} #${id}, the log expects ${expected.metadata.index}/${expected.metadata.term} #${expected.id}`);
  }
  const data = keep ? new Uint8Array(dataLength) : undefined;
  const chunk = keep ? undefined : new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, dataLength)));
  const dataStart = HEADER_BYTES + metadataLength;
  for (let at = 0; at < dataLength; at += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, dataLength - at);
    const target = data ?? chunk!;
    const offset = data === undefined ? 0 : at;
    if ((await readFully(fileSystem, fd, target, offset, length, dataStart + at)) < length) throw corrupt(dataStart + at, 'snapshot data cut short');
    checksum = crc32(target.subarray(offset, offset + length), checksum);
  }
  const trailer = Buffer.alloc(TRAILER_BYTES);
  if ((await readFully(fileSystem, fd, trailer, 0, TRAILER_BYTES, dataStart + dataLength)) < TRAILER_BYTES) throw corrupt(dataStart + dataLength, 'snapshot checksum cut short');
  if (trailer.readUInt32LE(0) !== checksum) throw corrupt(dataStart, 'snapshot checksum mismatch');
  return { metadata, data };
}
