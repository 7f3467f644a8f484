import type { AppendRequest, ClusterConfig, Configuration, LogEntry, Message, NodeId, SnapshotMetadata } from '@greenraft/consensus';
import { Packr, Unpackr } from 'msgpackr';

/*
 * Wire format of a peer frame: one or more msgpack values back to back, each a Raft message as a
 * positional tuple `[typeCode, from, to, term, ...fields]` (the field order of each type below).
 * Tuples carry no keys, so nothing on the wire can name a property of a decoded object: the
 * decoder builds every object itself, and `messageProblem` (the one message schema, in
 * @greenraft/consensus) then checks every field before a message reaches the node.
 *
 * Configurations travel as `[voters, learners]` with voters flattened to `[id, weight, id, ...]`,
 * so a `Map`'s order and a `Set` survive exactly. An AppendEntries carries its entries flat,
 * `[kind, term, index, dataLength | config, ...]`, and the data of all its normal entries in one
 * msgpack bin after them: one copy per message instead of one msgpack value per entry (encoding
 * 32 entries of 128 bytes this way is about 3× faster). Snapshot chunks are one bin each.
 *
 * msgpackr is the reference codec, and the fallback for anything unusual; the hot messages take a
 * hand-written path in each direction (measured: msgpackr's generic array walk costs more per
 * AppendEntries than `ws` does to carry it):
 * - {@link MessageEncoder} computes a message's exact length, then writes the bytes msgpackr would
 *   write straight into the caller's buffer (a lane's batch): an AppendEntries field by field,
 *   every other message from its small tuple;
 * - {@link decodeFrameInto} reads frames made only of the canonical tuples (no snapshot chunks, no
 *   configuration entries, ASCII strings) without building tuples, and hands every other frame to
 *   msgpackr whole, so what it accepts it decodes exactly as msgpackr and `messageFrom` would.
 */

/** Type codes on the wire. Fixed forever: never renumber, only append. */
const TYPE_CODES = {
  voteRequest: 1,
  voteResponse: 2,
  appendRequest: 3,
  appendResponse: 4,
  heartbeat: 5,
  heartbeatResponse: 6,
  snapshotRequest: 7,
  snapshotResponse: 8,
  timeoutNow: 9,
  readIndexRequest: 10,
  readIndexResponse: 11,
} as const satisfies Record<Message['type'], number>;

const ENTRY_NORMAL = 0;
const ENTRY_CONFIG = 1;

/** At most this many messages in one frame; a frame with more is dropped whole. */
export const MAX_MESSAGES_PER_FRAME = 65_536;

// useRecords: false keeps msgpackr's record extension out of what we write; on read, maps decode
// to plain objects, which no tuple position accepts.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

type Tuple = unknown[];

function configurationTuple(config: Configuration): Tuple {
  const voters: unknown[] = [];
  for (const [id, weight] of config.voters) voters.push(id, weight);
  return [voters, [...config.learners]];
}

function clusterConfigTuple(config: ClusterConfig): Tuple {
  return config.outgoing === undefined
    ? [configurationTuple(config.incoming)]
    : [configurationTuple(config.incoming), configurationTuple(config.outgoing)];
}

/** The flat entry list of an AppendEntries, and how many bytes of data its normal entries hold. */
function flatEntries(entries: readonly LogEntry[]): { flat: unknown[]; dataBytes: number } {
  const flat: unknown[] = [];
  let dataBytes = 0;
  for (const entry of entries) {
    if (entry.type === 'normal') {
      flat.push(ENTRY_NORMAL, entry.term, entry.index, entry.data.byteLength);
      dataBytes += entry.data.byteLength;
    } else flat.push(ENTRY_CONFIG, entry.term, entry.index, clusterConfigTuple(entry.config));
  }
  return { flat, dataBytes };
}

/**
 * An AppendEntries, encoded as msgpackr encodes `[..., flat, dataBin]`, but with the entries' data
 * copied once, straight into the frame: msgpackr packs the tuple with a `nil` in the last slot,
 * and that last byte becomes the bin header followed by the data.
 */
function encodeAppend(m: AppendRequest): Buffer {
  const { flat, dataBytes } = flatEntries(m.entries);
  const head = packr.pack([TYPE_CODES.appendRequest, m.from, m.to, m.term, m.prevLogIndex, m.prevLogTerm, m.commitIndex, flat, null]);
  const prefix = head.byteLength - 1; // everything but the trailing nil (0xc0)
  const header = dataBytes < 0x100 ? 2 : dataBytes < 0x10000 ? 3 : 5;
  const frame = Buffer.allocUnsafe(prefix + header + dataBytes);
  head.copy(frame, 0, 0, prefix);
  let offset = prefix;
  if (header === 2) {
    frame[offset++] = 0xc4; // bin 8
    frame[offset++] = dataBytes;
  } else if (header === 3) {
    frame[offset++] = 0xc5; // bin 16
    frame.writeUInt16BE(dataBytes, offset);
    offset += 2;
  } else {
    frame[offset++] = 0xc6; // bin 32
    frame.writeUInt32BE(dataBytes, offset);
    offset += 4;
  }
  for (const entry of m.entries) {
    if (entry.type !== 'normal') continue;
    frame.set(entry.data, offset);
    offset += entry.data.byteLength;
  }
  return frame;
}

function metadataTuple(metadata: SnapshotMetadata): Tuple {
  return [metadata.index, metadata.term, clusterConfigTuple(metadata.config)];
}

/** The positional tuple of a message. Throws a TypeError for a value that is not a message. */
export function messageTuple(m: Message): Tuple {
  switch (m.type) {
    case 'voteRequest':
      return [TYPE_CODES.voteRequest, m.from, m.to, m.term, m.preVote, m.lastLogIndex, m.lastLogTerm, m.transfer];
    case 'voteResponse':
      return [TYPE_CODES.voteResponse, m.from, m.to, m.term, m.preVote, m.granted];
    case 'appendRequest':
      return [TYPE_CODES.appendRequest, m.from, m.to, m.term, m.prevLogIndex, m.prevLogTerm, m.commitIndex, flatEntries(m.entries).flat, Buffer.concat(m.entries.flatMap((e) => (e.type === 'normal' ? [e.data] : [])))];
    case 'appendResponse':
      return [TYPE_CODES.appendResponse, m.from, m.to, m.term, m.success, m.index, m.hintIndex, m.hintTerm];
    case 'heartbeat':
      return [TYPE_CODES.heartbeat, m.from, m.to, m.term, m.commitIndex, m.context ?? null];
    case 'heartbeatResponse':
      return [TYPE_CODES.heartbeatResponse, m.from, m.to, m.term, m.context ?? null];
    case 'snapshotRequest':
      return [TYPE_CODES.snapshotRequest, m.from, m.to, m.term, metadataTuple(m.metadata), m.offset, m.chunk, m.done];
    case 'snapshotResponse':
      return [TYPE_CODES.snapshotResponse, m.from, m.to, m.term, m.index, m.offset, m.done];
    case 'timeoutNow':
      return [TYPE_CODES.timeoutNow, m.from, m.to, m.term];
    case 'readIndexRequest':
      return [TYPE_CODES.readIndexRequest, m.from, m.to, m.term, m.context];
    case 'readIndexResponse':
      return [TYPE_CODES.readIndexResponse, m.from, m.to, m.term, m.context, m.index];
    default:
      throw new TypeError(`cannot encode message type ${String((m as { type?: unknown }).type)}`);
  }
}

/** Encodes one message with msgpackr alone (the reference the fast writer matches byte for byte). */
export function encodeMessageWithMsgpackr(message: Message): Buffer {
  if (message.type === 'appendRequest') return encodeAppend(message);
  return packr.pack(messageTuple(message));
}

// ------------------------------------------------------------------ fast writer

/** A string msgpackr would write as these bytes, when it is ASCII (anything else takes msgpackr). */
function asciiLength(value: string): number {
  const length = value.length;
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return -1;
  return length < 0x20 ? 1 + length : length < 0x100 ? 2 + length : length < 0x10000 ? 3 + length : 5 + length;
}

function writeAscii(target: Buffer, offset: number, value: string): number {
  const length = value.length;
  let at = offset;
  if (length < 0x20) target[at++] = 0xa0 | length;
  else if (length < 0x100) {
    target[at++] = 0xd9;
    target[at++] = length;
  } else if (length < 0x10000) {
    target[at++] = 0xda;
    target[at++] = length >> 8;
    target[at++] = length & 0xff;
  } else {
    target[at++] = 0xdb;
    target.writeUInt32BE(length, at);
    at += 4;
  }
  for (let i = 0; i < length; i++) target[at++] = value.charCodeAt(i);
  return at;
}

/** Bytes msgpackr writes for an integer (an unsigned or signed 32-bit form, else a float64), or −1 for anything else. */
function integerLength(value: unknown): number {
  if (typeof value !== 'number') return -1;
  if (value >>> 0 === value) return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : 5;
  if (value >> 0 === value) return value >= -0x20 ? 1 : value >= -0x80 ? 2 : value >= -0x8000 ? 3 : 5;
  return Number.isInteger(value) ? 9 : -1;
}

function writeInteger(target: Buffer, offset: number, value: number): number {
  if (value >>> 0 === value) {
    if (value < 0x80) {
      target[offset] = value;
      return offset + 1;
    }
    if (value < 0x100) {
      target[offset] = 0xcc;
      target[offset + 1] = value;
      return offset + 2;
    }
    if (value < 0x10000) {
      target[offset] = 0xcd;
      target[offset + 1] = value >> 8;
      target[offset + 2] = value & 0xff;
      return offset + 3;
    }
    target[offset] = 0xce;
    target.writeUInt32BE(value, offset + 1);
    return offset + 5;
  }
  if (value >> 0 === value) {
    if (value >= -0x20) {
      target[offset] = 0x100 + value;
      return offset + 1;
    }
    if (value >= -0x80) {
      target[offset] = 0xd0;
      target[offset + 1] = value + 0x100;
      return offset + 2;
    }
    if (value >= -0x8000) {
      target[offset] = 0xd1;
      target.writeInt16BE(value, offset + 1);
      return offset + 3;
    }
    target[offset] = 0xd2;
    target.writeInt32BE(value, offset + 1);
    return offset + 5;
  }
  target[offset] = 0xcb;
  target.writeDoubleBE(value, offset + 1);
  return offset + 9;
}

const arrayHeaderLength = (length: number): number => (length < 0x10 ? 1 : length < 0x10000 ? 3 : 5);

function writeArrayHeader(target: Buffer, offset: number, length: number): number {
  if (length < 0x10) {
    target[offset] = 0x90 | length;
    return offset + 1;
  }
  if (length < 0x10000) {
    target[offset] = 0xdc;
    target[offset + 1] = length >> 8;
    target[offset + 2] = length & 0xff;
    return offset + 3;
  }
  target[offset] = 0xdd;
  target.writeUInt32BE(length, offset + 1);
  return offset + 5;
}

const binHeaderLength = (length: number): number => (length < 0x100 ? 2 : length < 0x10000 ? 3 : 5);

function writeBinHeader(target: Buffer, offset: number, length: number): number {
  if (length < 0x100) {
    target[offset] = 0xc4;
    target[offset + 1] = length;
    return offset + 2;
  }
  if (length < 0x10000) {
    target[offset] = 0xc5;
    target[offset + 1] = length >> 8;
    target[offset + 2] = length & 0xff;
    return offset + 3;
  }
  target[offset] = 0xc6;
  target.writeUInt32BE(length, offset + 1);
  return offset + 5;
}

// Lengths of byte arrays are read as `length`, equal to `byteLength` for a Uint8Array: V8 (Node 20)
// reads `length` several times faster, and a message has one per entry.

/** Bytes of a tuple value the fast writer handles (integers, ASCII strings, booleans, null, bytes, arrays of these), or −1. */
function valueLength(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'number':
      return integerLength(value);
    case 'string':
      return asciiLength(value);
    case 'boolean':
      return 1;
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Uint8Array) return binHeaderLength(value.length) + value.length;
      if (!Array.isArray(value) || depth > 4) return -1;
      let length = arrayHeaderLength(value.length);
      for (const element of value) {
        const size = valueLength(element, depth + 1);
        if (size < 0) return -1;
        length += size;
      }
      return length;
    }
    default:
      return -1;
  }
}

/** Writes a value {@link valueLength} measured. */
function writeValue(target: Buffer, offset: number, value: unknown): number {
  switch (typeof value) {
    case 'number':
      return writeInteger(target, offset, value);
    case 'string':
      return writeAscii(target, offset, value);
    case 'boolean':
      target[offset] = value ? 0xc3 : 0xc2;
      return offset + 1;
    default: {
      if (value === null) {
        target[offset] = 0xc0;
        return offset + 1;
      }
      if (value instanceof Uint8Array) {
        const at = writeBinHeader(target, offset, value.length);
        target.set(value, at);
        return at + value.length;
      }
      const list = value as unknown[];
      let at = writeArrayHeader(target, offset, list.length);
      for (const element of list) at = writeValue(target, at, element);
      return at;
    }
  }
}

/**
 * The exact length of an AppendEntries of normal entries with integer fields and ASCII ids, as
 * msgpackr writes its tuple; −1 for any other (configuration entries, malformed fields): those
 * take msgpackr.
 */
function appendLength(m: AppendRequest): number {
  const { entries } = m;
  if (typeof m.from !== 'string' || typeof m.to !== 'string' || !Array.isArray(entries)) return -1;
  const from = asciiLength(m.from);
  const to = asciiLength(m.to);
  const term = integerLength(m.term);
  const prevLogIndex = integerLength(m.prevLogIndex);
  const prevLogTerm = integerLength(m.prevLogTerm);
  const commitIndex = integerLength(m.commitIndex);
  if (from < 0 || to < 0 || term < 0 || prevLogIndex < 0 || prevLogTerm < 0 || commitIndex < 0) return -1;
  // fixarray(9), type code, the six header fields, the flat list's header.
  let length = 2 + from + to + term + prevLogIndex + prevLogTerm + commitIndex + arrayHeaderLength(entries.length * 4);
  let dataBytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as LogEntry | undefined;
    if (typeof entry !== 'object' || entry === null || entry.type !== 'normal' || !(entry.data instanceof Uint8Array)) return -1;
    const entryTerm = integerLength(entry.term);
    const entryIndex = integerLength(entry.index);
    if (entryTerm < 0 || entryIndex < 0) return -1;
    const size = entry.data.length;
    length += 1 + entryTerm + entryIndex + integerLength(size);
    dataBytes += size;
  }
  return length + binHeaderLength(dataBytes) + dataBytes;
}

/** Writes an AppendEntries {@link appendLength} measured: the tuple header, the flat entries, one bin of all their data. */
function writeAppend(target: Buffer, offset: number, m: AppendRequest): number {
  const { entries } = m;
  target[offset] = 0x99; // fixarray of 9
  target[offset + 1] = TYPE_CODES.appendRequest;
  let at = writeAscii(target, offset + 2, m.from);
  at = writeAscii(target, at, m.to);
  at = writeInteger(target, at, m.term);
  at = writeInteger(target, at, m.prevLogIndex);
  at = writeInteger(target, at, m.prevLogTerm);
  at = writeInteger(target, at, m.commitIndex);
  at = writeArrayHeader(target, at, entries.length * 4);
  let dataBytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as LogEntry & { type: 'normal' };
    target[at] = ENTRY_NORMAL;
    at = writeInteger(target, at + 1, entry.term);
    at = writeInteger(target, at, entry.index);
    at = writeInteger(target, at, entry.data.length);
    dataBytes += entry.data.length;
  }
  at = writeBinHeader(target, at, dataBytes);
  for (let i = 0; i < entries.length; i++) {
    const data = (entries[i] as LogEntry & { type: 'normal' }).data;
    target.set(data, at);
    at += data.length;
  }
  return at;
}

/**
 * Encodes messages straight into a caller's buffer: {@link MessageEncoder.prepare} measures one
 * (its exact length, so the caller can find room), {@link MessageEncoder.write} writes it. The
 * bytes are msgpackr's for the message's tuple; what the fast writer does not handle is packed by
 * msgpackr in `prepare` and copied in `write`. One encoder per transport; nothing is allocated per
 * message on the fast path.
 */
export class MessageEncoder {
  #append: AppendRequest | undefined;
  #tuple: Tuple | undefined;
  #packed: Buffer | undefined;
  /** The prepared message's length in bytes. */
  length = 0;

  /** Prepares `message` and returns its encoded length. Throws (a TypeError) for a value that is not a message. */
  prepare(message: Message): number {
    this.#append = undefined;
    this.#tuple = undefined;
    this.#packed = undefined;
    if (message.type === 'appendRequest') {
      const length = appendLength(message);
      if (length >= 0) {
        this.#append = message;
        return (this.length = length);
      }
    } else {
      const tuple = messageTuple(message);
      const length = valueLength(tuple, 0);
      if (length >= 0) {
        this.#tuple = tuple;
        return (this.length = length);
      }
    }
    this.#packed = encodeMessageWithMsgpackr(message);
    return (this.length = this.#packed.byteLength);
  }

  /** Writes the prepared message at `offset` (the caller made room for {@link MessageEncoder.length} bytes); returns where it ends. */
  write(target: Buffer, offset: number): number {
    let end: number;
    if (this.#append !== undefined) end = writeAppend(target, offset, this.#append);
    else if (this.#tuple !== undefined) end = writeValue(target, offset, this.#tuple);
    else {
      target.set(this.#packed!, offset);
      end = offset + this.#packed!.byteLength;
    }
    // The caller sends exactly `length` bytes: a writer that disagreed with its measure would send stale memory.
    if (end - offset !== this.length) throw new Error(`message encoder wrote ${end - offset} bytes for a measured ${this.length}`);
    return end;
  }
}

const standaloneEncoder = new MessageEncoder();

/** Encodes one message; frames are concatenations of these. Throws for a value that is not a message. */
export function encodeMessage(message: Message): Buffer {
  const length = standaloneEncoder.prepare(message);
  const frame = Buffer.allocUnsafe(length);
  standaloneEncoder.write(frame, 0);
  return frame;
}

/** Encodes any value with the transport's msgpack settings (handshake frames, tests). */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Thrown while rebuilding a message from a tuple whose shape is wrong; not an Error, so no stack is captured (a hostile frame can hold 65 536 of them). */
class ShapeProblem {
  constructor(readonly what: string) {}
}

function shape(condition: boolean, what: string): void {
  if (!condition) throw new ShapeProblem(what);
}

function configurationFrom(value: unknown): Configuration {
  shape(Array.isArray(value) && value.length === 2, 'a configuration must be [voters, learners]');
  const [voters, learners] = value as [unknown, unknown];
  shape(Array.isArray(voters) && voters.length % 2 === 0, 'voters must be a flat [id, weight, ...] list');
  shape(Array.isArray(learners), 'learners must be a list');
  const voterMap = new Map<NodeId, number>();
  const flat = voters as unknown[];
  for (let i = 0; i < flat.length; i += 2) voterMap.set(flat[i] as NodeId, flat[i + 1] as number);
  shape(voterMap.size * 2 === flat.length, 'a voter is listed twice');
  const learnerSet = new Set(learners as NodeId[]);
  shape(learnerSet.size === (learners as unknown[]).length, 'a learner is listed twice');
  return { voters: voterMap, learners: learnerSet };
}

function clusterConfigFrom(value: unknown): ClusterConfig {
  shape(Array.isArray(value) && (value.length === 1 || value.length === 2), 'a cluster configuration must be [incoming] or [incoming, outgoing]');
  const parts = value as unknown[];
  const incoming = configurationFrom(parts[0]);
  return parts.length === 2 ? { incoming, outgoing: configurationFrom(parts[1]) } : { incoming };
}

/** Rebuilds the entries of an AppendEntries: data are views into the message's data bin. */
function entriesFrom(flat: unknown, data: unknown): LogEntry[] {
  shape(Array.isArray(flat) && flat.length % 4 === 0, 'entries must be a flat list of [kind, term, index, payload] groups');
  shape(data instanceof Uint8Array, 'entry data must be a bin');
  const list = flat as unknown[];
  const bytes = data as Uint8Array;
  const entries: LogEntry[] = [];
  let offset = 0;
  for (let i = 0; i < list.length; i += 4) {
    const kind = list[i];
    const term = list[i + 1];
    const index = list[i + 2];
    const payload = list[i + 3];
    if (kind === ENTRY_NORMAL) {
      shape(typeof payload === 'number' && Number.isSafeInteger(payload) && payload >= 0 && offset + payload <= bytes.byteLength, 'an entry\'s data length runs past the data');
      const length = payload as number;
      entries.push({ type: 'normal', term, index, data: bytes.subarray(offset, offset + length) } as LogEntry);
      offset += length;
      continue;
    }
    shape(kind === ENTRY_CONFIG, 'unknown entry kind');
    entries.push({ type: 'config', term, index, config: clusterConfigFrom(payload) } as LogEntry);
  }
  shape(offset === bytes.byteLength, 'entry data has bytes no entry claims');
  return entries;
}

function metadataFrom(value: unknown): SnapshotMetadata {
  shape(Array.isArray(value) && value.length === 3, 'snapshot metadata must be [index, term, config]');
  const [index, term, config] = value as unknown[];
  return { index, term, config: clusterConfigFrom(config) } as SnapshotMetadata;
}

/** How many elements each type's tuple has. */
const ARITY: Record<number, number> = {
  [TYPE_CODES.voteRequest]: 8,
  [TYPE_CODES.voteResponse]: 6,
  [TYPE_CODES.appendRequest]: 9,
  [TYPE_CODES.appendResponse]: 8,
  [TYPE_CODES.heartbeat]: 6,
  [TYPE_CODES.heartbeatResponse]: 5,
  [TYPE_CODES.snapshotRequest]: 8,
  [TYPE_CODES.snapshotResponse]: 7,
  [TYPE_CODES.timeoutNow]: 4,
  [TYPE_CODES.readIndexRequest]: 5,
  [TYPE_CODES.readIndexResponse]: 6,
};

/** An optional string field: absent on the wire is `null`. */
function withContext<T extends object>(message: T, context: unknown): T {
  return context === null || context === undefined ? message : { ...message, context };
}

/**
 * Rebuilds a message object from a decoded tuple. The result still has to pass `messageProblem`:
 * this only restores the shape (which value goes in which field), never trusts a value.
 */
function messageFrom(value: unknown): unknown {
  shape(Array.isArray(value), 'a message must be a tuple');
  const t = value as unknown[];
  const code = t[0];
  shape(typeof code === 'number' && ARITY[code] === t.length, 'unknown message type or wrong number of fields');
  const [, from, to, term] = t;
  switch (code) {
    case TYPE_CODES.voteRequest:
      return { type: 'voteRequest', from, to, term, preVote: t[4], lastLogIndex: t[5], lastLogTerm: t[6], transfer: t[7] };
    case TYPE_CODES.voteResponse:
      return { type: 'voteResponse', from, to, term, preVote: t[4], granted: t[5] };
    case TYPE_CODES.appendRequest:
      return { type: 'appendRequest', from, to, term, prevLogIndex: t[4], prevLogTerm: t[5], commitIndex: t[6], entries: entriesFrom(t[7], t[8]) };
    case TYPE_CODES.appendResponse:
      return { type: 'appendResponse', from, to, term, success: t[4], index: t[5], hintIndex: t[6], hintTerm: t[7] };
    case TYPE_CODES.heartbeat:
      return withContext({ type: 'heartbeat', from, to, term, commitIndex: t[4] }, t[5]);
    case TYPE_CODES.heartbeatResponse:
      return withContext({ type: 'heartbeatResponse', from, to, term }, t[4]);
    case TYPE_CODES.snapshotRequest:
      return { type: 'snapshotRequest', from, to, term, metadata: metadataFrom(t[4]), offset: t[5], chunk: t[6], done: t[7] };
    case TYPE_CODES.snapshotResponse:
      return { type: 'snapshotResponse', from, to, term, index: t[4], offset: t[5], done: t[6] };
    case TYPE_CODES.timeoutNow:
      return { type: 'timeoutNow', from, to, term };
    case TYPE_CODES.readIndexRequest:
      return { type: 'readIndexRequest', from, to, term, context: t[4] };
    default:
      return { type: 'readIndexResponse', from, to, term, context: t[4], index: t[5] };
  }
}

/** Why a decoded value is not a message (its shape is wrong). */
export class ValueProblem {
  constructor(readonly problem: string) {}
}

/** One value of a decoded frame: a message-shaped object to check with `messageProblem`, or why it has none. */
export type DecodedValue = { readonly message: unknown; readonly problem?: undefined } | { readonly message?: undefined; readonly problem: string };

/** A decoded frame, or why its bytes are not msgpack at all. */
export type DecodedFrame = { readonly values: DecodedValue[]; readonly undecodable?: undefined } | { readonly values?: undefined; readonly undecodable: string };

/**
 * Decodes a frame into its values. Bytes that are not a sequence of msgpack values (truncated,
 * lengths past the end, empty, more than {@link MAX_MESSAGES_PER_FRAME} values) make the whole
 * frame undecodable; a value of the wrong shape is reported on its own.
 */
export function decodeFrame(frame: Uint8Array): DecodedFrame {
  const values: unknown[] = [];
  const undecodable = decodeFrameInto(frame, values);
  if (undecodable !== undefined) return { undecodable };
  return { values: values.map((value) => (value instanceof ValueProblem ? { problem: value.problem } : { message: value })) };
}

/**
 * Decodes a frame into `out`: each value a message-shaped object to check with `messageProblem`,
 * or a {@link ValueProblem}. Returns why the frame is undecodable (then `out` is left empty), or
 * `undefined`. Frames of canonical tuples take the fast reader; any other goes to msgpackr whole.
 */
export function decodeFrameInto(frame: Uint8Array, out: unknown[]): string | undefined {
  if (frame.byteLength === 0) return 'empty frame';
  try {
    if (readFrame(Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), out)) return undefined;
  } catch {
    // Never expected (the reader checks every bound); if it happens, msgpackr judges the frame.
  }
  out.length = 0;
  return decodeWithMsgpackr(ownCopy(frame), out);
}

/**
 * The frame's bytes in memory of their own, as a plain Uint8Array: every bin decoded from it
 * (entry data, snapshot chunks) is a view into it, so the node keeps no view into a socket's
 * buffer and pays one allocation per frame rather than one per entry. (allocUnsafeSlow: never a
 * slice of the shared pool, and every byte is overwritten at once.)
 */
function ownCopy(frame: Uint8Array): Uint8Array {
  const owned = Buffer.allocUnsafeSlow(frame.byteLength);
  owned.set(frame);
  return new Uint8Array(owned.buffer, 0, owned.byteLength);
}

/** The reference decoder: msgpackr, then `messageFrom` on every value. */
function decodeWithMsgpackr(owned: Uint8Array, out: unknown[]): string | undefined {
  let tooMany = false;
  try {
    // Only collect inside the callback: the handler runs after msgpackr has finished with its state.
    unpackr.unpackMultiple(owned, (value: unknown) => {
      if (out.length >= MAX_MESSAGES_PER_FRAME) {
        tooMany = true;
        return false;
      }
      try {
        out.push(messageFrom(value));
      } catch (error) {
        if (!(error instanceof ShapeProblem)) throw error;
        out.push(new ValueProblem(error.what));
      }
      return true;
    });
  } catch (error) {
    out.length = 0;
    return error instanceof Error ? error.message : String(error);
  }
  if (tooMany) {
    out.length = 0;
    return `more than ${MAX_MESSAGES_PER_FRAME} messages in one frame`;
  }
  return undefined;
}

/** Decodes a frame with msgpackr alone (the reference the fast reader matches). */
export function decodeFrameWithMsgpackr(frame: Uint8Array): unknown[] | string {
  if (frame.byteLength === 0) return 'empty frame';
  const out: unknown[] = [];
  const undecodable = decodeWithMsgpackr(ownCopy(frame), out);
  return undecodable ?? out;
}

// ------------------------------------------------------------------ fast reader

/*
 * Reads a frame of canonical tuples: every value a fixarray of its type's arity, integers in
 * msgpackr's forms, ASCII strings, booleans, nil, AppendEntries of normal entries. At the first
 * byte it does not expect it gives up (`ok = false`) and the frame goes to msgpackr, so nothing it
 * accepts decodes differently, and nothing it rejects is judged here. State lives in module
 * variables, as in msgpackr: the reader never re-enters.
 */
const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
let pos = 0;
let end = 0;
let ok = true;
/** The frame's own copy, once an AppendEntries needed one (see {@link ownCopy}); frames of small messages need none. */
let copy: Uint8Array | undefined;
/** Per entry of the AppendEntries being read: term, index, data length (reused, grown as needed). */
let entryFields = new Float64Array(3 * 64);
const MAX_SHARED_ENTRY_FIELDS = 4096;

function giveUp(): number {
  ok = false;
  return 0;
}

/** An integer or float64, as msgpackr reads it; anything else gives up. Small, so that it inlines: the common forms. */
function readNumber(): number {
  const token = src[pos]!;
  if (token < 0x80 && pos < end) {
    pos++;
    return token;
  }
  if (token === 0xcc && pos + 2 <= end) {
    pos += 2;
    return src[pos - 1]!;
  }
  if (token === 0xcd && pos + 3 <= end) {
    pos += 3;
    return (src[pos - 2]! << 8) | src[pos - 1]!;
  }
  return readOtherNumber();
}

function readOtherNumber(): number {
  if (pos >= end) return giveUp();
  const token = src[pos]!;
  if (token >= 0xe0) {
    pos++;
    return token - 0x100;
  }
  let value: number;
  switch (token) {
    case 0xcc:
      if (pos + 2 > end) return giveUp();
      value = src[pos + 1]!;
      pos += 2;
      return value;
    case 0xcd:
      if (pos + 3 > end) return giveUp();
      value = (src[pos + 1]! << 8) | src[pos + 2]!;
      pos += 3;
      return value;
    case 0xce:
      if (pos + 5 > end) return giveUp();
      value = src.readUInt32BE(pos + 1);
      pos += 5;
      return value;
    case 0xd0:
      if (pos + 2 > end) return giveUp();
      value = (src[pos + 1]! << 24) >> 24;
      pos += 2;
      return value;
    case 0xd1:
      if (pos + 3 > end) return giveUp();
      value = src.readInt16BE(pos + 1);
      pos += 3;
      return value;
    case 0xd2:
      if (pos + 5 > end) return giveUp();
      value = src.readInt32BE(pos + 1);
      pos += 5;
      return value;
    case 0xcb:
      if (pos + 9 > end) return giveUp();
      value = src.readDoubleBE(pos + 1);
      pos += 9;
      return value;
    default:
      return giveUp();
  }
}

function readBoolean(): boolean {
  if (pos >= end) return giveUp() === 1;
  const token = src[pos]!;
  if (token !== 0xc2 && token !== 0xc3) return giveUp() === 1;
  pos++;
  return token === 0xc3;
}

/** An ASCII string (fixstr, str 8, str 16); `nil` too when `nilAllowed` (then `undefined`). */
function readString(nilAllowed: boolean): string | undefined {
  if (pos >= end) return void giveUp();
  const token = src[pos]!;
  let start: number;
  let length: number;
  if (token >= 0xa0 && token <= 0xbf) {
    start = pos + 1;
    length = token & 0x1f;
  } else if (token === 0xd9) {
    if (pos + 2 > end) return void giveUp();
    start = pos + 2;
    length = src[pos + 1]!;
  } else if (token === 0xda) {
    if (pos + 3 > end) return void giveUp();
    start = pos + 3;
    length = (src[pos + 1]! << 8) | src[pos + 2]!;
  } else if (token === 0xc0 && nilAllowed) {
    pos++;
    return undefined;
  } else return void giveUp();
  const stop = start + length;
  if (stop > end) return void giveUp();
  for (let i = start; i < stop; i++) if (src[i]! > 0x7f) return void giveUp();
  pos = stop;
  return length <= 32 ? recentString(start, length) : src.toString('latin1', start, stop);
}

/** The last few short strings read (node ids, mostly: two in every message), reused when the bytes match. */
const recentStrings: string[] = ['', '', '', '', '', '', '', ''];
let nextRecent = 0;

function recentString(start: number, length: number): string {
  for (let slot = 0; slot < recentStrings.length; slot++) {
    const candidate = recentStrings[slot]!;
    if (candidate.length !== length) continue;
    let same = true;
    for (let i = 0; i < length; i++) {
      if (candidate.charCodeAt(i) !== src[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return candidate;
  }
  const value = src.toString('latin1', start, start + length);
  recentStrings[nextRecent] = value;
  nextRecent = (nextRecent + 1) % recentStrings.length;
  return value;
}

/** An array header (fixarray, array 16, array 32): its length. */
function readArrayHeader(): number {
  if (pos >= end) return giveUp();
  const token = src[pos]!;
  if (token >= 0x90 && token <= 0x9f) {
    pos++;
    return token & 0x0f;
  }
  if (token === 0xdc) {
    if (pos + 3 > end) return giveUp();
    pos += 3;
    return (src[pos - 2]! << 8) | src[pos - 1]!;
  }
  if (token === 0xdd) {
    if (pos + 5 > end) return giveUp();
    pos += 5;
    return src.readUInt32BE(pos - 4);
  }
  return giveUp();
}

/** A bin header whose bytes lie inside the frame: their length (the bytes start at `pos`). */
function readBinHeader(): number {
  if (pos >= end) return giveUp();
  const token = src[pos]!;
  let length: number;
  if (token === 0xc4 && pos + 2 <= end) {
    length = src[pos + 1]!;
    pos += 2;
  } else if (token === 0xc5 && pos + 3 <= end) {
    length = (src[pos + 1]! << 8) | src[pos + 2]!;
    pos += 3;
  } else if (token === 0xc6 && pos + 5 <= end) {
    length = src.readUInt32BE(pos + 1);
    pos += 5;
  } else return giveUp();
  if (pos + length > end) return giveUp();
  return length;
}

/** The AppendEntries after its type code, as `messageFrom` and `entriesFrom` build it. */
function readAppend(): unknown {
  const from = readString(false);
  const to = readString(false);
  const term = readNumber();
  const prevLogIndex = readNumber();
  const prevLogTerm = readNumber();
  const commitIndex = readNumber();
  const flatLength = readArrayHeader();
  // A flat list must hold whole groups, and each group takes at least 4 bytes: else msgpackr judges.
  if (!ok || flatLength % 4 !== 0 || pos + flatLength > end) return giveUp();
  const count = flatLength / 4;
  // The shared scratch grows to a few thousand entries at most; a larger append gets its own, for this message only.
  if (entryFields.length < 3 * count && count <= MAX_SHARED_ENTRY_FIELDS) entryFields = new Float64Array(3 * count);
  const fields = entryFields.length < 3 * count ? new Float64Array(3 * count) : entryFields;
  let dataBytes = 0;
  for (let i = 0; i < count; i++) {
    // Normal entries only (kind 0); a configuration entry's payload is a tuple: msgpackr's.
    if (pos + 4 > end || src[pos] !== ENTRY_NORMAL) return giveUp();
    pos++;
    fields[3 * i] = readNumber();
    fields[3 * i + 1] = readNumber();
    const length = readNumber();
    if (!ok || !Number.isSafeInteger(length) || length < 0) return giveUp();
    fields[3 * i + 2] = length;
    dataBytes += length;
  }
  const binLength = readBinHeader();
  if (!ok || binLength !== dataBytes) return giveUp();
  const entries: LogEntry[] = new Array(count);
  if (count > 0) {
    // Entry data are views into a copy of the frame, made once, by the first AppendEntries with entries.
    copy ??= ownCopy(src);
    const buffer = copy.buffer;
    let offset = pos;
    for (let i = 0; i < count; i++) {
      const length = fields[3 * i + 2]!;
      entries[i] = { type: 'normal', term: fields[3 * i]!, index: fields[3 * i + 1]!, data: new Uint8Array(buffer, offset, length) };
      offset += length;
    }
  }
  pos += binLength;
  return { type: 'appendRequest', from, to, term, prevLogIndex, prevLogTerm, commitIndex, entries };
}

/** One canonical tuple; gives up on anything else (snapshot chunks, configuration entries, wrong types). */
function readMessage(): unknown {
  if (pos >= end) return giveUp();
  const header = src[pos]!;
  if (header < 0x94 || header > 0x99 || pos + 1 >= end) return giveUp();
  const code = src[pos + 1]!;
  if (ARITY[code] !== (header & 0x0f) || code === TYPE_CODES.snapshotRequest) return giveUp();
  pos += 2;
  if (code === TYPE_CODES.appendRequest) return readAppend();
  const from = readString(false);
  const to = readString(false);
  const term = readNumber();
  switch (code) {
    case TYPE_CODES.voteRequest:
      return { type: 'voteRequest', from, to, term, preVote: readBoolean(), lastLogIndex: readNumber(), lastLogTerm: readNumber(), transfer: readBoolean() };
    case TYPE_CODES.voteResponse:
      return { type: 'voteResponse', from, to, term, preVote: readBoolean(), granted: readBoolean() };
    case TYPE_CODES.appendResponse:
      return { type: 'appendResponse', from, to, term, success: readBoolean(), index: readNumber(), hintIndex: readNumber(), hintTerm: readNumber() };
    case TYPE_CODES.heartbeat: {
      const commitIndex = readNumber();
      const context = readString(true);
      return context === undefined ? { type: 'heartbeat', from, to, term, commitIndex } : { type: 'heartbeat', from, to, term, commitIndex, context };
    }
    case TYPE_CODES.heartbeatResponse: {
      const context = readString(true);
      return context === undefined ? { type: 'heartbeatResponse', from, to, term } : { type: 'heartbeatResponse', from, to, term, context };
    }
    case TYPE_CODES.snapshotResponse:
      return { type: 'snapshotResponse', from, to, term, index: readNumber(), offset: readNumber(), done: readBoolean() };
    case TYPE_CODES.timeoutNow:
      return { type: 'timeoutNow', from, to, term };
    case TYPE_CODES.readIndexRequest:
      return { type: 'readIndexRequest', from, to, term, context: readString(false) };
    default:
      return { type: 'readIndexResponse', from, to, term, context: readString(false), index: readNumber() };
  }
}

/** Whether `frame` takes the fast reader (for tests: frames the transport writes should). */
export function readsWithoutMsgpackr(frame: Uint8Array): boolean {
  return readFrame(Buffer.from(frame), []);
}

/** Reads a whole frame of canonical tuples into `out`; false (with `out` partly filled) when msgpackr must judge it. */
function readFrame(frame: Buffer, out: unknown[]): boolean {
  src = frame;
  pos = 0;
  end = frame.byteLength;
  ok = true;
  copy = undefined;
  try {
    while (pos < end) {
      if (out.length >= MAX_MESSAGES_PER_FRAME) ok = false;
      const message = ok ? readMessage() : undefined;
      if (!ok) break;
      out.push(message);
    }
    return ok;
  } finally {
    src = EMPTY;
    copy = undefined;
  }
}

/** Decodes one msgpack value (handshake frames). Throws on bytes that are not exactly one value. */
export function decodeValue(frame: Uint8Array): unknown {
  return unpackr.unpack(frame);
}
