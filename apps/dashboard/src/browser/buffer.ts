/**
 * The part of Node's `Buffer` that the bundled greenraft packages call, for the browser build:
 * `Buffer.from(bytes | arrayBuffer | text, encoding)` and `toString(encoding)` with the encodings
 * `hex`, `base64url` and `utf8`. Anything else throws rather than guess: the page bundles only
 * code whose calls are listed here (the power market's ledger hashes and base64url keys).
 */

const HEX = '0123456789abcdef';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_VALUE = new Map([...BASE64URL].map((char, value) => [char, value]));

function unsupported(encoding: string): Error {
  return new TypeError(`the browser build's Buffer supports hex, base64url and utf8, not ${JSON.stringify(encoding)}`);
}

/** Hex to bytes as Node decodes it: pairs of hex digits, stopping at the first pair that is not one. */
function fromHex(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length >> 1);
  let length = 0;
  for (; length < bytes.length; length++) {
    const high = HEX.indexOf(text[2 * length]!.toLowerCase());
    const low = HEX.indexOf(text[2 * length + 1]!.toLowerCase());
    if (high < 0 || low < 0) break;
    bytes[length] = (high << 4) | low;
  }
  return bytes.subarray(0, length);
}

/** Base64url (or base64) to bytes, six bits a character; trailing bits that make no whole byte are dropped, as Node drops them. */
function fromBase64Url(text: string): Uint8Array {
  const bytes = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let accumulated = 0;
  let length = 0;
  for (const char of text) {
    if (char === '=') break;
    const value = BASE64URL_VALUE.get(char === '+' ? '-' : char === '/' ? '_' : char);
    if (value === undefined) throw new TypeError(`not base64url: ${JSON.stringify(char)}`);
    accumulated = (accumulated << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[length++] = (accumulated >> bits) & 0xff;
    }
  }
  return bytes.subarray(0, length);
}

function toBase64Url(bytes: Uint8Array): string {
  let text = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    text += BASE64URL[triple >> 18]! + BASE64URL[(triple >> 12) & 63]! + BASE64URL[(triple >> 6) & 63]! + BASE64URL[triple & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const single = bytes[i]!;
    text += BASE64URL[single >> 2]! + BASE64URL[(single & 3) << 4]!;
  } else if (rest === 2) {
    const pair = (bytes[i]! << 8) | bytes[i + 1]!;
    text += BASE64URL[pair >> 10]! + BASE64URL[(pair >> 4) & 63]! + BASE64URL[(pair & 15) << 2]!;
  }
  return text;
}

/** Bytes with the few `Buffer` methods the bundled packages call on what `Buffer.from` returns. */
export class BufferBytes extends Uint8Array {
  /** The bytes as `hex`, `base64url` or `utf8` text (the whole buffer). */
  override toString(encoding: string = 'utf8'): string {
    if (encoding === 'hex') {
      let text = '';
      for (const byte of this) text += HEX[byte >> 4]! + HEX[byte & 15]!;
      return text;
    }
    if (encoding === 'base64url') return toBase64Url(this);
    if (encoding === 'utf8' || encoding === 'utf-8') return new TextDecoder().decode(this);
    throw unsupported(encoding);
  }

  /** Byte-wise equality, like `Buffer.equals`. */
  equals(other: Uint8Array): boolean {
    if (other.length !== this.length) return false;
    for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
    return true;
  }
}

/** The `Buffer` of the browser build: `from` and `isBuffer`. */
export const BrowserBuffer = {
  /**
   * `Buffer.from(arrayBuffer, byteOffset, length)` (a view, as Node's), `Buffer.from(bytes)` (a
   * copy), `Buffer.from(text, encoding)`.
   */
  from(value: ArrayBuffer | ArrayLike<number> | string, encodingOrOffset?: string | number, length?: number): BufferBytes {
    if (typeof value === 'string') {
      const encoding = typeof encodingOrOffset === 'string' ? encodingOrOffset : 'utf8';
      const bytes =
        encoding === 'hex'
          ? fromHex(value)
          : encoding === 'base64url' || encoding === 'base64'
            ? fromBase64Url(value)
            : encoding === 'utf8' || encoding === 'utf-8'
              ? new TextEncoder().encode(value)
              : undefined;
      if (bytes === undefined) throw unsupported(encoding);
      return new BufferBytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
    }
    if (value instanceof ArrayBuffer) {
      const offset = typeof encodingOrOffset === 'number' ? encodingOrOffset : 0;
      return new BufferBytes(value, offset, length ?? value.byteLength - offset);
    }
    const copy = new BufferBytes(value.length);
    copy.set(value);
    return copy;
  },
  /** Like `Buffer.isBuffer`. */
  isBuffer(value: unknown): value is BufferBytes {
    return value instanceof BufferBytes;
  },
};
