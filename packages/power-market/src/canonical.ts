import { createHash } from 'node:crypto';
import { InvalidEncodingError } from './errors.js';
import { MARKET_LIMITS } from './limits.js';

/** A value that has exactly one canonical encoding: JSON without `undefined`, functions or non-finite numbers. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue };

const encoder = new TextEncoder();
// ignoreBOM keeps a leading byte-order mark in the text, so JSON.parse refuses it instead of two
// byte strings decoding to one value.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function tooDeep(maxDepth: number): InvalidEncodingError {
  return new InvalidEncodingError(`the value is nested deeper than ${maxDepth} levels (or holds a cycle)`);
}

function write(value: unknown, depth: number, maxDepth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidEncodingError(`cannot encode the non-finite number ${String(value)}`);
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (depth >= maxDepth) throw tooDeep(maxDepth);
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) throw new InvalidEncodingError(`item ${i} of a list is undefined or a hole`);
          text += (i === 0 ? '' : ',') + write(item, depth + 1, maxDepth);
        }
        return `${text}]`;
      }
      if (ArrayBuffer.isView(value)) throw new InvalidEncodingError('encode bytes as base64url strings, not typed arrays');
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let text = '{';
      for (const [i, key] of keys.entries()) {
        const field = record[key];
        if (field === undefined) throw new InvalidEncodingError(`field ${JSON.stringify(key)} is undefined`);
        text += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${write(field, depth + 1, maxDepth)}`;
      }
      return `${text}}`;
    }
    default:
      throw new InvalidEncodingError(`cannot encode a ${typeof value}`);
  }
}

/**
 * Canonical JSON text: object keys sorted by UTF-16 code units, no whitespace, numbers in
 * JavaScript's shortest round-trip form (`-0` written as `0`). The same value always gives the
 * same text, so signatures and hashes over it are stable across nodes. Only own enumerable
 * properties count; `toJSON` methods are ignored.
 *
 * @throws {@link InvalidEncodingError} on `undefined`, a function, a symbol, a bigint, a typed
 *   array, a non-finite number, a list hole, nesting deeper than `maxDepth` (a cycle), or a
 *   property whose getter (or proxy trap) throws (that error is the `cause`).
 */
export function canonicalJson(value: unknown, maxDepth: number = MARKET_LIMITS.maxDepth): string {
  try {
    return write(value, 0, maxDepth);
  } catch (cause) {
    if (cause instanceof InvalidEncodingError) throw cause;
    throw new InvalidEncodingError('the value could not be read (a getter or proxy threw, or it is too large)', { cause });
  }
}

/** The canonical encoding of `value` as UTF-8 bytes. @throws like {@link canonicalJson}. */
export function canonicalEncode(value: unknown, maxDepth?: number): Uint8Array {
  return encoder.encode(canonicalJson(value, maxDepth));
}

function copy(value: unknown, depth: number, maxDepth: number): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  if (depth >= maxDepth) throw tooDeep(maxDepth);
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) items[i] = copy(value[i], depth + 1, maxDepth);
    return items;
  }
  // No prototype: a key such as "__proto__" or "toString" is an ordinary own field here.
  const record: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) record[key] = copy((value as Record<string, unknown>)[key], depth + 1, maxDepth);
  return record;
}

/**
 * A fresh copy of `value`'s data: dense lists, and objects with no prototype that hold the own
 * enumerable properties only (nothing inherited, no accessors: each getter runs once, here).
 * Primitives, functions and typed arrays are kept as they are, for a schema to refuse.
 *
 * @throws {@link InvalidEncodingError} when the value nests deeper than `maxDepth` (or is
 *   cyclic) or a getter or proxy trap throws.
 */
export function plainData(value: unknown, maxDepth: number = MARKET_LIMITS.maxDepth): unknown {
  try {
    return copy(value, 0, maxDepth);
  } catch (cause) {
    if (cause instanceof InvalidEncodingError) throw cause;
    throw new InvalidEncodingError('the value could not be read (a getter or proxy threw, or it is too large)', { cause });
  }
}

/** The deepest nesting of `[` and `{` outside strings; stops counting once past `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Decodes canonical JSON bytes, refusing any other encoding of the same value (extra whitespace,
 * unsorted keys, `1.0` for `1`, a byte-order mark...), so one value never has two byte strings and
 * two hashes. The result is fresh data: lists, and objects without a prototype (a `"__proto__"` or
 * `"constructor"` key is an ordinary own field). Nesting is checked before parsing, so no input
 * can exhaust the stack.
 *
 * @throws {@link InvalidEncodingError} when the bytes are not UTF-8, nest deeper than `maxDepth`,
 *   are not JSON, or are not in canonical form (the UTF-8 or JSON parser's error is its `cause`).
 */
export function canonicalDecode(bytes: Uint8Array, maxDepth: number = MARKET_LIMITS.maxDepth): unknown {
  if (!(bytes instanceof Uint8Array)) throw new InvalidEncodingError('canonical JSON is decoded from bytes (a Uint8Array)');
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (cause) {
    throw new InvalidEncodingError('the bytes are not UTF-8', { cause });
  }
  if (nestingDepth(text, maxDepth) > maxDepth) throw tooDeep(maxDepth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new InvalidEncodingError('the bytes are not JSON', { cause });
  }
  const value = plainData(parsed, maxDepth);
  if (canonicalJson(value, maxDepth) !== text) throw new InvalidEncodingError('the bytes are JSON but not canonical JSON');
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
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  return toBase64Url(bytes) === text ? bytes : undefined;
}
