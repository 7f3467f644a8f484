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

/** Encodes one message; frames are concatenations of these. Throws for a value that is not a message. */
export function encodeMessage(message: Message): Buffer {
  if (message.type === 'appendRequest') return encodeAppend(message);
  return packr.pack(messageTuple(message));
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
  if (frame.byteLength === 0) return { undecodable: 'empty frame' };
  // One copy per frame, as a plain Uint8Array: msgpackr then decodes every bin (entry data,
  // snapshot chunks) as a view into it, so the node keeps no view into a socket's buffer and
  // pays one allocation per frame rather than one per entry.
  const owned = new Uint8Array(frame);
  const values: DecodedValue[] = [];
  let tooMany = false;
  try {
    // Only collect inside the callback: the handler runs after msgpackr has finished with its state.
    unpackr.unpackMultiple(owned, (value: unknown) => {
      if (values.length >= MAX_MESSAGES_PER_FRAME) {
        tooMany = true;
        return false;
      }
      try {
        values.push({ message: messageFrom(value) });
      } catch (error) {
        if (!(error instanceof ShapeProblem)) throw error;
        values.push({ problem: error.what });
      }
      return true;
    });
  } catch (error) {
    return { undecodable: error instanceof Error ? error.message : String(error) };
  }
  if (tooMany) return { undecodable: `more than ${MAX_MESSAGES_PER_FRAME} messages in one frame` };
  return { values };
}

/** Decodes one msgpack value (handshake frames). Throws on bytes that are not exactly one value. */
export function decodeValue(frame: Uint8Array): unknown {
  return unpackr.unpack(frame);
}
