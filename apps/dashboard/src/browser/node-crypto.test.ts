/**
 * The browser build's node:crypto subset against Node's own: the same SHA-256 digests, the same
 * ed25519 keys and signatures (RFC 8032 signatures are deterministic), each verifying the
 * other's, and the same verdicts on forged or malformed input.
 */
import * as node from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as browser from './node-crypto.js';

const message = fc.uint8Array({ maxLength: 300 });

describe('the browser node:crypto subset', () => {
  it('hashes as Node does (sha256, incremental, hex or bytes)', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 4 }), (parts) => {
        const ours = browser.createHash('sha256');
        const theirs = node.createHash('sha256');
        for (const part of parts) {
          ours.update(part);
          theirs.update(part);
        }
        expect(ours.digest('hex')).toBe(theirs.digest('hex'));
      }),
      { numRuns: 200 },
    );
    expect([...browser.createHash('sha256').update('abc').digest()]).toEqual([...node.createHash('sha256').update('abc').digest()]);
    expect(() => browser.createHash('md5')).toThrow(/ed25519 and sha256 only/);
  });

  it('derives the same keys and makes the same signatures as Node, each verifying the other', () => {
    fc.assert(
      fc.property(message, (data) => {
        const pair = node.generateKeyPairSync('ed25519');
        const jwk = pair.privateKey.export({ format: 'jwk' }) as { d: string; x: string };
        const ours = browser.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, format: 'jwk' });
        expect(ours.export({ format: 'jwk' }).x).toBe(jwk.x);
        const signature = browser.sign(null, data, ours);
        expect(Buffer.from(signature).toString('hex')).toBe(node.sign(null, data, pair.privateKey).toString('hex'));
        expect(node.verify(null, data, pair.publicKey, signature)).toBe(true);
        const theirs = node.sign(null, data, pair.privateKey);
        const publicKey = browser.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
        expect(browser.verify(null, data, publicKey, theirs)).toBe(true);
        expect(browser.verify(null, data, browser.createPublicKey(ours), theirs)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('gives the same verdicts as Node on forged signatures, other keys and keys that are no curve point', () => {
    const pair = node.generateKeyPairSync('ed25519');
    const x = (pair.publicKey.export({ format: 'jwk' }) as { x: string }).x;
    const key = browser.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    const data = new TextEncoder().encode('settle round 7');
    const good = node.sign(null, data, pair.privateKey);
    for (let i = 0; i < 64; i += 7) {
      const forged = Uint8Array.from(good);
      forged[i]! ^= 1;
      expect(browser.verify(null, data, key, forged)).toBe(node.verify(null, data, pair.publicKey, forged));
      expect(browser.verify(null, data, key, forged)).toBe(false);
    }
    // S ≥ L (a malleated signature): RFC 8032 refuses it, and so does OpenSSL.
    const malleable = Uint8Array.from(good);
    malleable[63] = malleable[63]! | 0xf0;
    expect(browser.verify(null, data, key, malleable)).toBe(node.verify(null, data, pair.publicKey, malleable));
    expect(browser.verify(null, data, key, good.subarray(0, 63))).toBe(false);
    // Node imports any 32 bytes as a public key; a key that is no point only fails to verify.
    for (let i = 0; i < 20; i++) {
      const raw = node.randomBytes(32).toString('base64url');
      const imported = browser.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
      const theirs = node.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
      expect(browser.verify(null, data, imported, good)).toBe(node.verify(null, data, theirs, good));
    }
    expect(() => browser.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: 'short' }, format: 'jwk' })).toThrow(/32 bytes/);
  });

  it('refuses a non-canonical R as OpenSSL does, and small-order keys, which OpenSSL accepts', () => {
    const data = new TextEncoder().encode('any message');
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const nonCanonical = new Uint8Array(32).fill(0xff); // y = p, encoded without reduction: the order-4 point y = 0
    nonCanonical[0] = 0xed;
    nonCanonical[31] = 0x7f;
    const zeroS = new Uint8Array(32);
    const verdicts = (publicKey: Uint8Array, signature: Uint8Array) => {
      const x = Buffer.from(publicKey).toString('base64url');
      return [
        browser.verify(null, data, browser.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), signature),
        node.verify(null, data, node.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), signature),
      ];
    };
    expect(verdicts(identity, new Uint8Array([...nonCanonical, ...zeroS]))).toEqual([false, false]);
    expect(verdicts(nonCanonical, new Uint8Array([...identity, ...zeroS]))[0]).toBe(false);
    // The identity key with the identity signature "verifies" any message in OpenSSL; not here.
    expect(verdicts(identity, new Uint8Array([...identity, ...zeroS]))).toEqual([false, true]);
    expect(() => browser.generateKeyPairSync('rsa')).toThrow(/ed25519 and sha256 only/);
  });

  it('generates key pairs whose signatures Node verifies', () => {
    const { publicKey, privateKey } = browser.generateKeyPairSync('ed25519');
    expect([publicKey.type, privateKey.type, privateKey.asymmetricKeyType]).toEqual(['public', 'private', 'ed25519']);
    const data = new TextEncoder().encode('register solar');
    const nodeKey = node.createPublicKey({ key: publicKey.export({ format: 'jwk' }) as node.JsonWebKey, format: 'jwk' });
    expect(node.verify(null, data, nodeKey, browser.sign(null, data, privateKey))).toBe(true);
    expect(() => browser.sign(null, data, publicKey)).toThrow(/private/);
  });
});
