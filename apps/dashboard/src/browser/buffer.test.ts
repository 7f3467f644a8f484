/** The browser build's Buffer subset decodes and encodes exactly as Node's Buffer does, on every input the bundled packages give it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrowserBuffer } from './buffer.js';

const bytes = fc.uint8Array({ maxLength: 200 });

describe('the browser Buffer subset', () => {
  it('encodes bytes as Node does: hex, base64url, utf8', () => {
    fc.assert(
      fc.property(bytes, (input) => {
        for (const encoding of ['hex', 'base64url'] as const) expect(BrowserBuffer.from(input).toString(encoding)).toBe(Buffer.from(input).toString(encoding));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect([...BrowserBuffer.from(text, 'utf8')]).toEqual([...Buffer.from(text, 'utf8')]);
      }),
    );
  });

  it('decodes hex and base64url as Node does, trailing bits and odd digits included', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/), (text) => {
        expect([...BrowserBuffer.from(text, 'base64url')]).toEqual([...Buffer.from(text, 'base64url')]);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-fA-F]{0,81}$/), (text) => {
        expect([...BrowserBuffer.from(text, 'hex')]).toEqual([...Buffer.from(text, 'hex')]);
      }),
      { numRuns: 300 },
    );
    // Node stops at the first pair that is not hex.
    expect([...BrowserBuffer.from('00ffzz11', 'hex')]).toEqual([...Buffer.from('00ffzz11', 'hex')]);
  });

  it('views an ArrayBuffer range without copying, as Buffer.from(buffer, offset, length) does', () => {
    const backing = Uint8Array.of(1, 2, 3, 4, 5);
    const view = BrowserBuffer.from(backing.buffer, 1, 3);
    expect([...view]).toEqual([2, 3, 4]);
    backing[2] = 9;
    expect(view[1]).toBe(9);
    expect(BrowserBuffer.from(Uint8Array.of(7, 8)).equals(Uint8Array.of(7, 8))).toBe(true);
    expect(BrowserBuffer.isBuffer(view)).toBe(true);
  });

  it('refuses encodings it does not implement, rather than guessing', () => {
    expect(() => BrowserBuffer.from('abc', 'latin1')).toThrow(/supports hex, base64url and utf8/);
    expect(() => BrowserBuffer.from(Uint8Array.of(1)).toString('base64')).toThrow(TypeError);
    expect(() => BrowserBuffer.from('a*b', 'base64url')).toThrow(/not base64url/);
  });
});
