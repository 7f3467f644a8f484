/**
 * The compact binary encoding of log entries, configurations and hard state: little-endian
 * integers, 64-bit indexes and terms, length-prefixed UTF-8 node ids. No schema library: the
 * shapes are few and fixed, and every byte is covered by a record checksum.
 */
import type { ClusterConfig, Configuration, HardState, LogEntry, NodeId } from '@greenraft/consensus';

const TWO_32 = 4_294_967_296;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Thrown by {@link Decoder} when bytes do not hold what they should; callers turn it into a typed corruption error. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Thrown by encoders for a value that has no encoding (callers turn it into a StorageError). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** Writes a 32-bit little-endian integer byte by byte (cheaper than Buffer#writeUInt32LE's checks on the hot path). */
export function writeU32(buffer: Uint8Array, at: number, value: number): void {
  buffer[at] = value;
  buffer[at + 1] = value >>> 8;
  buffer[at + 2] = value >>> 16;
  buffer[at + 3] = value >>> 24;
}

/** A growable byte buffer written front to back. */
export class Encoder {
  buffer: Buffer;
  position = 0;

  constructor(capacity = 256) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    const needed = this.position + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.position++] = value;
  }

  u16(value: number): void {
    this.reserve(2);
    this.buffer.writeUInt16LE(value, this.position);
    this.position += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    writeU32(this.buffer, this.position, value);
    this.position += 4;
  }

  /** A safe integer ≥ 0, as 64 bits. */
  u64(value: number): void {
    this.reserve(8);
    writeU32(this.buffer, this.position, value % TWO_32);
    writeU32(this.buffer, this.position + 4, Math.floor(value / TWO_32));
    this.position += 8;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
  }

  /** A string of at most 65535 UTF-8 bytes, length first. */
  shortString(value: string): void {
    const bytes = textEncoder.encode(value);
    if (bytes.length > 0xffff) throw new EncodeError(`a node id of ${bytes.length} bytes is longer than 65535 bytes`);
    this.u16(bytes.length);
    this.bytes(bytes);
  }

  /** The bytes written so far (a view, not a copy). */
  result(): Buffer {
    return this.buffer.subarray(0, this.position);
  }
}

/** Reads what {@link Encoder} wrote, checking every bound. */
export class Decoder {
  position: number;

  constructor(
    readonly buffer: Uint8Array,
    start = 0,
    readonly end = buffer.length,
  ) {
    this.position = start;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  #need(bytes: number): number {
    if (this.position + bytes > this.end) throw new DecodeError(`needs ${bytes} more bytes, ${this.end - this.position} left`);
    const at = this.position;
    this.position += bytes;
    return at;
  }

  u8(): number {
    return this.buffer[this.#need(1)]!;
  }

  u16(): number {
    const at = this.#need(2);
    return this.buffer[at]! | (this.buffer[at + 1]! << 8);
  }

  u32(): number {
    const at = this.#need(4);
    return (this.buffer[at]! | (this.buffer[at + 1]! << 8) | (this.buffer[at + 2]! << 16) | (this.buffer[at + 3]! << 24)) >>> 0;
  }

  u64(): number {
    const low = this.u32();
    const high = this.u32();
    if (high > 0x1fffff) throw new DecodeError('a 64-bit integer exceeds the safe integer range');
    return high * TWO_32 + low;
  }

  /** A copy of the next `length` bytes, so no decoded value keeps a large read buffer alive. */
  bytes(length: number): Uint8Array {
    const at = this.#need(length);
    const copy = new Uint8Array(length);
    copy.set(this.buffer.subarray(at, at + length));
    return copy;
  }

  shortString(): string {
    const length = this.u16();
    const at = this.#need(length);
    try {
      return textDecoder.decode(this.buffer.subarray(at, at + length));
    } catch {
      throw new DecodeError('a node id is not valid UTF-8');
    }
  }

  /** Throws unless every byte up to `end` was read. */
  done(what: string): void {
    if (this.position !== this.end) throw new DecodeError(`${this.end - this.position} unexpected bytes after the ${what}`);
  }
}

const ENTRY_NORMAL = 1;
const ENTRY_CONFIG = 2;

function encodeConfiguration(encoder: Encoder, config: Configuration): void {
  if (!(config?.voters instanceof Map) || !(config.learners instanceof Set)) throw new EncodeError('a configuration needs a voters Map and a learners Set');
  encoder.u32(config.voters.size);
  for (const [id, weight] of config.voters) {
    if (typeof id !== 'string' || id.length === 0) throw new EncodeError('node ids must be non-empty strings');
    if (!Number.isSafeInteger(weight) || weight < 0) throw new EncodeError(`voter ${id} has weight ${String(weight)}; weights must be integers ≥ 0`);
    encoder.shortString(id);
    encoder.u64(weight);
  }
  encoder.u32(config.learners.size);
  for (const id of config.learners) {
    if (typeof id !== 'string' || id.length === 0) throw new EncodeError('node ids must be non-empty strings');
    encoder.shortString(id);
  }
}

function decodeConfiguration(decoder: Decoder): Configuration {
  const voters = new Map<NodeId, number>();
  const voterCount = decoder.u32();
  if (voterCount > decoder.remaining) throw new DecodeError(`a configuration claims ${voterCount} voters`);
  for (let i = 0; i < voterCount; i++) {
    const id = decoder.shortString();
    voters.set(id, decoder.u64());
  }
  const learners = new Set<NodeId>();
  const learnerCount = decoder.u32();
  if (learnerCount > decoder.remaining) throw new DecodeError(`a configuration claims ${learnerCount} learners`);
  for (let i = 0; i < learnerCount; i++) learners.add(decoder.shortString());
  return { voters, learners };
}

/** A cluster configuration: a flag for the outgoing half, then one or two configurations. */
export function encodeClusterConfig(encoder: Encoder, config: ClusterConfig): void {
  if (config === null || typeof config !== 'object') throw new EncodeError('a cluster configuration must be an object');
  encoder.u8(config.outgoing === undefined ? 0 : 1);
  encodeConfiguration(encoder, config.incoming);
  if (config.outgoing !== undefined) encodeConfiguration(encoder, config.outgoing);
}

export function decodeClusterConfig(decoder: Decoder): ClusterConfig {
  const flags = decoder.u8();
  if (flags > 1) throw new DecodeError(`unknown configuration flags ${flags}`);
  const incoming = decodeConfiguration(decoder);
  return flags === 1 ? { incoming, outgoing: decodeConfiguration(decoder) } : { incoming };
}

/** Index, term, kind, then the data (the rest of the payload) or the configuration. */
export function encodeEntry(encoder: Encoder, entry: LogEntry): void {
  encoder.u64(entry.index);
  encoder.u64(entry.term);
  if (entry.type === 'normal') {
    if (!(entry.data instanceof Uint8Array)) throw new EncodeError(`entry ${entry.index} has no Uint8Array data`);
    encoder.u8(ENTRY_NORMAL);
    encoder.bytes(entry.data);
  } else if (entry.type === 'config') {
    encoder.u8(ENTRY_CONFIG);
    encodeClusterConfig(encoder, entry.config);
  } else {
    throw new EncodeError(`entry ${String((entry as { index?: unknown }).index)} has unknown type ${String((entry as { type?: unknown }).type)}`);
  }
}

export function decodeEntry(decoder: Decoder): LogEntry {
  const index = decoder.u64();
  const term = decoder.u64();
  const kind = decoder.u8();
  if (kind === ENTRY_NORMAL) return { type: 'normal', index, term, data: decoder.bytes(decoder.remaining) };
  if (kind !== ENTRY_CONFIG) throw new DecodeError(`unknown entry kind ${kind}`);
  const config = decodeClusterConfig(decoder);
  decoder.done('configuration entry');
  return { type: 'config', index, term, config };
}

/** Reads only the index and term at the front of an encoded entry. */
export function peekEntryIndexTerm(decoder: Decoder): { index: number; term: number } {
  const start = decoder.position;
  const index = decoder.u64();
  const term = decoder.u64();
  decoder.position = start;
  return { index, term };
}

/** Term, commit, then the vote as a length-prefixed id (length 0: no vote). */
export function encodeHardState(encoder: Encoder, hardState: HardState): void {
  encoder.u64(hardState.term);
  encoder.u64(hardState.commit);
  encoder.shortString(hardState.vote ?? '');
}

export function decodeHardState(decoder: Decoder): HardState {
  const term = decoder.u64();
  const commit = decoder.u64();
  const vote = decoder.shortString();
  return { term, vote: vote.length === 0 ? undefined : vote, commit };
}
