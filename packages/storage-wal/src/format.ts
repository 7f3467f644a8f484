/**
 * The on-disk format of the write-ahead log, version 1.
 *
 * A data directory holds segment files `wal-<seq>.log`, snapshot files
 * `snapshot-<index>-<id>.snap`, the `LOCK` file and, after a crash, leftover `*.tmp` files.
 *
 * A segment starts with a 32-byte header: magic `GRAFTWAL`, u32 format version, u32 header
 * length, u64 sequence number, u32 reserved, u32 CRC32 of the bytes before it. Then come
 * batches. Every record is `crc u32 | length u32 | type u8 | 3 reserved bytes | payload`, the
 * CRC32 covering everything after the crc field. A batch is a BEGIN record (payload: u32 batch
 * length in bytes, u32 record count), body records, and a COMMIT record whose payload is the
 * CRC32 of every batch byte before it, so a torn batch is recognised as a whole. The first
 * batch of a segment holds one STATE record: the log's bounds, the hard state and the snapshot
 * reference as of the segment's start, so older segments can be deleted.
 */
import { crc32 } from 'node:zlib';
import { type Encoder, writeU32 } from './codec.js';

/** The format version this release writes and reads. */
export const FORMAT_VERSION = 1;

export const SEGMENT_MAGIC = Buffer.from('GRAFTWAL', 'latin1');
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 12;
export const BEGIN_RECORD_BYTES = RECORD_HEADER_BYTES + 8;
export const COMMIT_RECORD_BYTES = RECORD_HEADER_BYTES + 4;
/** The largest record or batch: lengths are 32-bit. */
export const MAX_BATCH_BYTES = 0xffff_fff0;

/** Record types. */
export const RecordType = {
  begin: 1,
  commit: 2,
  state: 3,
  entry: 4,
  hardState: 5,
  snapshot: 6,
  compact: 7,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

export const LOCK_FILE = 'LOCK';
export const TEMP_SUFFIX = '.tmp';

const pad = (value: number): string => value.toString().padStart(16, '0');
const SEGMENT_NAME = /^wal-(\d{16})\.log$/;
const SNAPSHOT_NAME = /^snapshot-(\d{16})-(\d{16})\.snap$/;

export function segmentFileName(seq: number): string {
  return `wal-${pad(seq)}.log`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match === null ? undefined : Number(match[1]);
}

export function snapshotFileName(index: number, id: number): string {
  return `snapshot-${pad(index)}-${pad(id)}.snap`;
}

export function parseSnapshotFileName(name: string): { index: number; id: number } | undefined {
  const match = SNAPSHOT_NAME.exec(name);
  return match === null ? undefined : { index: Number(match[1]), id: Number(match[2]) };
}

/** The header every segment starts with. */
export function encodeSegmentHeader(seq: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(SEGMENT_HEADER_BYTES, 12);
  header.writeUInt32LE(seq % 4_294_967_296, 16);
  header.writeUInt32LE(Math.floor(seq / 4_294_967_296), 20);
  header.writeUInt32LE(crc32(header.subarray(0, 28)), 28);
  return header;
}

export type SegmentHeaderProblem =
  | { readonly kind: 'short' }
  | { readonly kind: 'corrupt'; readonly problem: string }
  | { readonly kind: 'version'; readonly version: number };

/** Checks a segment header; `undefined` when it is valid for `seq`. */
export function segmentHeaderProblem(bytes: Uint8Array, seq: number): SegmentHeaderProblem | undefined {
  if (bytes.length < SEGMENT_HEADER_BYTES) return { kind: 'short' };
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (!header.subarray(0, 8).equals(SEGMENT_MAGIC)) return { kind: 'corrupt', problem: 'not a greenraft write-ahead log segment (bad magic)' };
  if (header.readUInt32LE(28) !== crc32(header.subarray(0, 28))) return { kind: 'corrupt', problem: 'segment header checksum mismatch' };
  const version = header.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return { kind: 'version', version };
  if (header.readUInt32LE(12) !== SEGMENT_HEADER_BYTES) return { kind: 'corrupt', problem: 'unexpected segment header length' };
  const stored = header.readUInt32LE(20) * 4_294_967_296 + header.readUInt32LE(16);
  if (stored !== seq) return { kind: 'corrupt', problem: `segment header holds sequence ${stored}, its name says ${seq}` };
  return undefined;
}

/** Opens a record at the encoder's position; returns where it starts, for {@link endRecord}. */
export function startRecord(encoder: Encoder): number {
  const start = encoder.position;
  encoder.reserve(RECORD_HEADER_BYTES);
  encoder.position += RECORD_HEADER_BYTES;
  return start;
}

/** Closes a record opened by {@link startRecord}: fills in its length, type and checksum. */
export function endRecord(encoder: Encoder, start: number, type: RecordTypeCode): void {
  const buffer = encoder.buffer;
  writeU32(buffer, start + 4, encoder.position - start - RECORD_HEADER_BYTES);
  buffer[start + 8] = type;
  buffer[start + 9] = 0;
  buffer[start + 10] = 0;
  buffer[start + 11] = 0;
  writeU32(buffer, start, crc32(new Uint8Array(buffer.buffer, buffer.byteOffset + start + 4, encoder.position - start - 4)));
}

/** Builds one batch: BEGIN, the body records, COMMIT. */
export class BatchBuilder {
  readonly #encoder: Encoder;
  readonly #start: number;
  #records = 0;

  constructor(encoder: Encoder) {
    this.#encoder = encoder;
    this.#start = encoder.position;
    // BEGIN's payload (length, count) is known only at the end; finish() fills it in.
    encoder.reserve(BEGIN_RECORD_BYTES);
    encoder.position += BEGIN_RECORD_BYTES;
  }

  /** Adds one body record whose payload `write` encodes; returns where the record starts in the encoder. */
  record(type: RecordTypeCode, write: (encoder: Encoder) => void): number {
    const start = this.open();
    write(this.#encoder);
    this.close(start, type);
    return start;
  }

  /** Opens a body record (the payload is written to the encoder next); returns where it starts. */
  open(): number {
    return startRecord(this.#encoder);
  }

  /** Closes the record {@link open} started. */
  close(start: number, type: RecordTypeCode): void {
    endRecord(this.#encoder, start, type);
    this.#records++;
  }

  get records(): number {
    return this.#records;
  }

  /** Closes the batch; returns its length in bytes. */
  finish(): number {
    const encoder = this.#encoder;
    const length = encoder.position + COMMIT_RECORD_BYTES - this.#start;
    if (length > MAX_BATCH_BYTES) throw new RangeError(`a batch of ${length} bytes exceeds the ${MAX_BATCH_BYTES}-byte limit`);
    const end = encoder.position;
    encoder.position = this.#start + RECORD_HEADER_BYTES;
    encoder.u32(length);
    encoder.u32(this.#records + 2);
    endRecord(encoder, this.#start, RecordType.begin);
    encoder.position = end;
    const commit = startRecord(encoder);
    encoder.u32(crc32(encoder.buffer.subarray(this.#start, commit)));
    endRecord(encoder, commit, RecordType.commit);
    return length;
  }
}

/** One record of a parsed batch, by absolute offsets into the buffer it was parsed from. */
export interface ParsedRecord {
  readonly type: number;
  /** Where the record starts. */
  readonly start: number;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

export type BatchBegin =
  | { readonly kind: 'ok'; readonly length: number; readonly records: number }
  | { readonly kind: 'corrupt'; readonly problem: string };

/** Reads and checks the BEGIN record at `at` (the caller ensures {@link BEGIN_RECORD_BYTES} bytes are there). */
export function parseBegin(buffer: Buffer, at: number): BatchBegin {
  const length = buffer.readUInt32LE(at + 4);
  if (length !== 8 || buffer[at + 8] !== RecordType.begin) return { kind: 'corrupt', problem: 'no batch begins here' };
  if (buffer.readUInt32LE(at) !== crc32(buffer.subarray(at + 4, at + BEGIN_RECORD_BYTES))) return { kind: 'corrupt', problem: 'batch header checksum mismatch' };
  const batchLength = buffer.readUInt32LE(at + RECORD_HEADER_BYTES);
  const records = buffer.readUInt32LE(at + RECORD_HEADER_BYTES + 4);
  if (batchLength < BEGIN_RECORD_BYTES + COMMIT_RECORD_BYTES || records < 2) return { kind: 'corrupt', problem: 'impossible batch length or record count' };
  return { kind: 'ok', length: batchLength, records };
}

export type BatchParse =
  | { readonly kind: 'ok'; readonly records: readonly ParsedRecord[] }
  /** `recordEnd` is where the failing record ends; `undefined` when every record passed but the batch as a whole did not. */
  | { readonly kind: 'corrupt'; readonly offset: number; readonly recordEnd: number | undefined; readonly problem: string };

/**
 * Checks a whole batch that starts at `at` and is `length` bytes long (all present in `buffer`):
 * every record's checksum, the record count, and the COMMIT checksum over the batch. Returns the
 * body records (without BEGIN and COMMIT).
 */
export function parseBatch(buffer: Buffer, at: number, length: number, records: number): BatchParse {
  const end = at + length;
  const body: ParsedRecord[] = [];
  let position = at + BEGIN_RECORD_BYTES;
  for (let i = 1; i < records; i++) {
    const bad = (problem: string, recordEnd: number | undefined = end): BatchParse => ({ kind: 'corrupt', offset: position, recordEnd, problem });
    if (position + RECORD_HEADER_BYTES > end) return bad('record header runs past the end of its batch');
    const payloadLength = buffer.readUInt32LE(position + 4);
    const recordEnd = position + RECORD_HEADER_BYTES + payloadLength;
    if (recordEnd > end) return bad('record runs past the end of its batch');
    if (buffer.readUInt32LE(position) !== crc32(buffer.subarray(position + 4, recordEnd))) return bad('record checksum mismatch', recordEnd);
    const type = buffer[position + 8]!;
    const last = i === records - 1;
    if (last !== (type === RecordType.commit)) return bad(last ? 'the batch does not end with a commit record' : 'a commit record inside a batch', recordEnd);
    if (last) {
      if (payloadLength !== 4 || recordEnd !== end) return bad('malformed commit record', recordEnd);
      if (buffer.readUInt32LE(position + RECORD_HEADER_BYTES) !== crc32(buffer.subarray(at, position))) {
        return { kind: 'corrupt', offset: at, recordEnd: undefined, problem: 'batch checksum mismatch' };
      }
    } else {
      body.push({ type, start: position, payloadStart: position + RECORD_HEADER_BYTES, payloadEnd: recordEnd });
    }
    position = recordEnd;
  }
  return { kind: 'ok', records: body };
}

/** Checks one record read back on its own (an entry read from disk); returns its payload bounds. */
export function parseRecord(buffer: Buffer, at: number, available: number): ParsedRecord | string {
  if (available < RECORD_HEADER_BYTES) return 'record header cut short';
  const payloadLength = buffer.readUInt32LE(at + 4);
  const recordEnd = at + RECORD_HEADER_BYTES + payloadLength;
  if (RECORD_HEADER_BYTES + payloadLength > available) return 'record cut short';
  if (buffer.readUInt32LE(at) !== crc32(buffer.subarray(at + 4, recordEnd))) return 'record checksum mismatch';
  return { type: buffer[at + 8]!, start: at, payloadStart: at + RECORD_HEADER_BYTES, payloadEnd: recordEnd };
}

/**
 * A run of zeros at the end of the last segment at least this long is space the file system
 * extended but never wrote (a power cut), not data: a valid batch ends with its commit record,
 * whose type byte is non-zero and is followed by only 7 more bytes.
 */
export const UNWRITTEN_RUN_BYTES = 16;
