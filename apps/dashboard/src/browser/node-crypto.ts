/**
 * The part of `node:crypto` the power market calls, for the browser build (the bundler resolves
 * `node:crypto` here; in Node the packages keep the real module). The market verifies signatures
 * inside a synchronous `apply()`, and WebCrypto's Ed25519 is asynchronous only, so ed25519 comes
 * from `@noble/ed25519` (RFC 8032, deterministic: the same key and message give the same
 * signature as Node's) and SHA-256/512 from `@noble/hashes`. Verification follows RFC 8032's
 * stricter rules (`zip215: false`). Its verdicts are Node's except for public keys of small
 * order (the identity, the points of order 2, 4 and 8, in any encoding): OpenSSL verifies with
 * them as the curve arithmetic says, so that the all-identity signature verifies any message under
 * the identity key; here nothing verifies under them, the safe direction. Keys import as Node
 * imports them: any 32 bytes, and a key that is no curve point only fails to verify.
 */
import * as ed25519 from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';
import { BrowserBuffer } from './buffer.js';

ed25519.hashes.sha512 = sha512;

/** An ed25519 JSON Web Key, as `KeyObject.export({ format: 'jwk' })` gives it. */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  /** The public key: 32 bytes, base64url. */
  x: string;
  /** The private seed: 32 bytes, base64url (private keys only). */
  d?: string;
}

const unsupported = (what: string): Error => new TypeError(`the browser build's node:crypto supports ed25519 and sha256 only: ${what}`);

function decode32(text: unknown, field: string): Uint8Array {
  const bytes = typeof text === 'string' && /^[A-Za-z0-9_-]{43}$/.test(text) ? BrowserBuffer.from(text, 'base64url') : undefined;
  if (bytes?.length !== 32) throw new TypeError(`invalid ed25519 JWK: ${field} must be 32 bytes of base64url`);
  return bytes;
}

/** An ed25519 key, public or private: what `instanceof KeyObject` checks in the market see. */
export class KeyObject {
  readonly type: 'public' | 'private';
  readonly asymmetricKeyType = 'ed25519' as const;
  readonly #publicKey: Uint8Array;
  readonly #seed: Uint8Array | undefined;

  /** Not for callers: use {@link generateKeyPairSync}, {@link createPublicKey} or {@link createPrivateKey}. */
  constructor(publicKey: Uint8Array, seed?: Uint8Array) {
    this.type = seed === undefined ? 'public' : 'private';
    this.#publicKey = Uint8Array.from(publicKey);
    this.#seed = seed === undefined ? undefined : Uint8Array.from(seed);
  }

  /** `{ format: 'jwk' }` only. */
  export(options: { format: string }): Ed25519Jwk {
    if (options?.format !== 'jwk') throw unsupported(`export format ${String(options?.format)}`);
    const x = BrowserBuffer.from(this.#publicKey).toString('base64url');
    return this.#seed === undefined ? { kty: 'OKP', crv: 'Ed25519', x } : { kty: 'OKP', crv: 'Ed25519', x, d: BrowserBuffer.from(this.#seed).toString('base64url') };
  }

  /** @internal the raw public key */
  static publicBytes(key: KeyObject): Uint8Array {
    return key.#publicKey;
  }

  /** @internal the raw seed of a private key */
  static seedBytes(key: KeyObject): Uint8Array | undefined {
    return key.#seed;
  }
}

/** `generateKeyPairSync('ed25519')`. */
export function generateKeyPairSync(type: string): { publicKey: KeyObject; privateKey: KeyObject } {
  if (type !== 'ed25519') throw unsupported(`key type ${JSON.stringify(type)}`);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const publicKey = ed25519.getPublicKey(seed);
  return { publicKey: new KeyObject(publicKey), privateKey: new KeyObject(publicKey, seed) };
}

type KeyInput = KeyObject | { key: Ed25519Jwk; format: 'jwk' };

/** From a private `KeyObject` (its public half) or `{ key: jwk, format: 'jwk' }`. */
export function createPublicKey(input: KeyInput): KeyObject {
  if (input instanceof KeyObject) return new KeyObject(KeyObject.publicBytes(input));
  if (input?.format !== 'jwk' || input.key?.kty !== 'OKP' || input.key.crv !== 'Ed25519') throw unsupported('keys are ed25519 JWKs');
  if (input.key.d !== undefined) return new KeyObject(ed25519.getPublicKey(decode32(input.key.d, 'd')));
  return new KeyObject(decode32(input.key.x, 'x'));
}

/** From `{ key: jwk, format: 'jwk' }` with the private seed `d`. */
export function createPrivateKey(input: { key: Ed25519Jwk; format: 'jwk' }): KeyObject {
  if (input?.format !== 'jwk' || input.key?.kty !== 'OKP' || input.key.crv !== 'Ed25519') throw unsupported('keys are ed25519 JWKs');
  const seed = decode32(input.key.d, 'd');
  return new KeyObject(ed25519.getPublicKey(seed), seed);
}

/** `sign(null, data, privateKey)`: the 64-byte ed25519 signature. */
export function sign(algorithm: null | undefined, data: Uint8Array, key: KeyObject): Uint8Array {
  if (algorithm !== null && algorithm !== undefined) throw unsupported('ed25519 takes no digest algorithm');
  const seed = key instanceof KeyObject ? KeyObject.seedBytes(key) : undefined;
  if (seed === undefined) throw new TypeError('sign needs an ed25519 private KeyObject');
  return BrowserBuffer.from(ed25519.sign(data, seed));
}

/** `verify(null, data, key, signature)`: false for a wrong signature, a wrong length, or a key that is no curve point. */
export function verify(algorithm: null | undefined, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  if (algorithm !== null && algorithm !== undefined) throw unsupported('ed25519 takes no digest algorithm');
  if (!(key instanceof KeyObject)) throw new TypeError('verify needs an ed25519 KeyObject');
  if (signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, data, KeyObject.publicBytes(key), { zip215: false });
  } catch {
    return false;
  }
}

/** An incremental SHA-256, as `createHash('sha256')` gives it. */
export interface Sha256Hash {
  update(data: Uint8Array | string): Sha256Hash;
  digest(): Uint8Array;
  digest(encoding: 'hex'): string;
}

/** `createHash('sha256')`. */
export function createHash(algorithm: string): Sha256Hash {
  if (algorithm !== 'sha256') throw unsupported(`hash ${JSON.stringify(algorithm)}`);
  const hash = nobleSha256.create();
  const handle = {
    update(data: Uint8Array | string) {
      hash.update(typeof data === 'string' ? new TextEncoder().encode(data) : data);
      return handle;
    },
    digest(encoding?: string): string | Uint8Array {
      const bytes = BrowserBuffer.from(hash.digest());
      if (encoding === undefined) return bytes;
      if (encoding === 'hex') return bytes.toString('hex');
      throw unsupported(`digest encoding ${JSON.stringify(encoding)}`);
    },
  };
  return handle as Sha256Hash;
}
