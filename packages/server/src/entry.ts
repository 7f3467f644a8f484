/**
 * The bytes of a server's log entries: one format version byte, a 4-byte big-endian header
 * length, a JSON header (the operation, its fields, and the client session it belongs to), then
 * the payload as raw bytes (a KV value, or a market entry as `encodeTransactions` gives it), so a
 * large value is never escaped into JSON.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';

/** The format version of an entry's first byte. */
export const ENTRY_FORMAT = 1;
const MAX_HEADER_BYTES = 64 * 1024;

const sessionFields = {
  /** The client session (client id) the idempotency key belongs to. */
  c: z.string().min(1).max(256).optional(),
  /** The idempotency key: the entry is applied once per (client, key). */
  k: z.string().min(1).max(128).optional(),
};
const memberId = z.string().min(1).max(128);

const headerSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('kv.put'), key: z.string().min(1), ...sessionFields }),
  z.strictObject({ op: z.literal('kv.cas'), key: z.string().min(1), from: z.string().nullable(), ...sessionFields }),
  z.strictObject({ op: z.literal('kv.delete'), key: z.string().min(1), ...sessionFields }),
  z.strictObject({ op: z.literal('market'), ...sessionFields }),
  z.strictObject({ op: z.literal('market.participation') }),
  z.strictObject({ op: z.literal('member.put'), id: memberId, peerUrl: z.string().min(1).max(2048), clientUrl: z.string().min(1).max(2048) }),
  z.strictObject({ op: z.literal('member.remove'), id: memberId }),
  z.strictObject({ op: z.literal('scoring.set'), name: z.string().min(1).max(128), version: z.string().min(1).max(64), params: z.unknown().optional(), ...sessionFields }),
]);

/** The header of a server log entry. */
export type EntryHeader = z.output<typeof headerSchema>;
/** The operation of an entry. */
export type EntryOp = EntryHeader['op'];

/** A decoded entry. */
export interface DecodedEntry {
  readonly header: EntryHeader;
  readonly payload: Uint8Array;
}

const encoder = new TextEncoder();

/** Encodes an entry. */
export function encodeEntry(header: EntryHeader, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const headerBytes = encoder.encode(JSON.stringify(header));
  const bytes = new Uint8Array(5 + headerBytes.length + payload.length);
  bytes[0] = ENTRY_FORMAT;
  new DataView(bytes.buffer).setUint32(1, headerBytes.length);
  bytes.set(headerBytes, 5);
  bytes.set(payload, 5 + headerBytes.length);
  return bytes;
}

/** Decodes an entry, or says why it cannot be: never throws, so applying stays total. */
export function decodeEntry(data: Uint8Array): DecodedEntry | string {
  if (data.length < 5) return 'the entry is too short';
  if (data[0] !== ENTRY_FORMAT) return `unknown entry format ${data[0]}`;
  const length = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1);
  if (length > MAX_HEADER_BYTES || 5 + length > data.length) return 'the entry header is malformed';
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(5, 5 + length)));
  } catch {
    return 'the entry header is not JSON';
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) return `the entry header is invalid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`;
  return { header: parsed.data, payload: data.subarray(5 + length) };
}

/** What the request was, without its session fields: two entries with one idempotency key must have the same fingerprint. */
export function entryFingerprint(entry: DecodedEntry): string {
  const { c: _c, k: _k, ...rest } = entry.header as EntryHeader & { c?: string; k?: string };
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).update('\n').update(entry.payload).digest('base64url');
}
