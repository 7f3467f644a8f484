import { createHash } from 'node:crypto';
import { InvalidEncodingError } from './errors.js';

/** A value that has exactly one canonical encoding: JSON without `undefined`, functions or non-finite numbers. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Canonical JSON text: object keys sorted by UTF-16 code units, no whitespace, numbers in
 * JavaScript's shortest round-trip form (`-0` written as `0`). The same value always gives the
 * same text, so signatures and hashes over it are stable across nodes.
 *
 * @throws {@link InvalidEncodingError} on `undefined`, a function, a symbol, a bigint, a typed
 *   array or a non-finite number.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidEncodingError(`cannot encode the non-finite number ${value}`);
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      if (ArrayBuffer.isView(value)) throw new InvalidEncodingError('encode bytes as base64url strings, not typed arrays');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const field = record[key];
        if (field === undefined) throw new InvalidEncodingError(`field ${key} is undefined`);
        parts.push(`${JSON.stringify(key)}:${canonicalJson(field)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new InvalidEncodingError(`cannot encode a ${typeof value}`);
  }
}

/** The canonical encoding of `value` as UTF-8 bytes. */
export function canonicalEncode(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

/**
 * Decodes canonical JSON bytes, refusing any other encoding of the same value (extra whitespace,
 * unsorted keys, `1.0` for `1`...), so one value never has two byte strings and two hashes.
 *
 * @throws {@link InvalidEncodingError} when the bytes are not UTF-8, not JSON, or not in canonical
 *   form (the UTF-8 or JSON parser's error is its `cause`).
 */
export function canonicalDecode(bytes: Uint8Array): unknown {
  let text: string;
  let value: unknown;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidEncodingError('the bytes are not UTF-8', { cause });
  }
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidEncodingError('the bytes are not JSON', { cause });
  }
  if (canonicalJson(value) !== text) throw new InvalidEncodingError('the bytes are JSON but not canonical JSON');
  return value;
}

/** SHA-256 of `bytes` (or of several byte strings, concatenated), as lowercase hex. */
export function sha256Hex(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Bytes as base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Parses base64url (without padding); `undefined` when the text is not canonical base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  return toBase64Url(bytes) === text ? bytes : undefined;
}
