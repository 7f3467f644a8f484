import { describe, expect, it } from 'vitest';
import { encodeValue } from './codec.js';
import {
  type HandshakeBinding,
  NONCE_BYTES,
  NonceCache,
  SESSION_BYTES,
  encodeAuth,
  encodeChallenge,
  encodeHello,
  handshakeMac,
  macMatches,
  nonce,
  parseAuth,
  parseChallenge,
  parseHello,
} from './handshake.js';

const secret = new TextEncoder().encode('the cluster secret, 32 bytes....');
const binding: HandshakeBinding = {
  clusterId: 'grid-east',
  dialerId: 'n1',
  acceptorId: 'n2',
  lane: 'control',
  dialerNonce: new Uint8Array(NONCE_BYTES).fill(1),
  acceptorNonce: new Uint8Array(NONCE_BYTES).fill(2),
  session: new Uint8Array(SESSION_BYTES).fill(3),
};

describe('handshake MACs', () => {
  it('are HMAC-SHA256 over every bound field, and differ when any one changes', () => {
    const mac = handshakeMac(secret, 'dialer', binding);
    expect(mac.byteLength).toBe(32);
    expect(macMatches(mac, handshakeMac(secret, 'dialer', { ...binding }))).toBe(true);
    const variants: HandshakeBinding[] = [
      { ...binding, clusterId: 'grid-west' },
      { ...binding, dialerId: 'n3' },
      { ...binding, acceptorId: 'n3' },
      { ...binding, lane: 'bulk' },
      { ...binding, dialerNonce: new Uint8Array(NONCE_BYTES).fill(9) },
      { ...binding, acceptorNonce: new Uint8Array(NONCE_BYTES).fill(9) },
      { ...binding, session: new Uint8Array(SESSION_BYTES).fill(9) },
      // Moving a byte from one id to the next keeps the concatenation: the length prefixes tell them apart.
      { ...binding, dialerId: 'n1n', acceptorId: '2' },
    ];
    for (const variant of variants) expect(macMatches(mac, handshakeMac(secret, 'dialer', variant)), JSON.stringify(variant)).toBe(false);
    // The acceptor's MAC cannot be reflected back as the dialer's.
    expect(macMatches(mac, handshakeMac(secret, 'acceptor', binding))).toBe(false);
    expect(macMatches(mac, handshakeMac(new TextEncoder().encode('another secret of 32 bytes......'), 'dialer', binding))).toBe(false);
  });

  it('compare only byte arrays of the right length', () => {
    const mac = handshakeMac(secret, 'dialer', binding);
    expect(macMatches(mac, mac.subarray(0, 31))).toBe(false);
    expect(macMatches(mac, 'not bytes')).toBe(false);
    expect(macMatches(mac, undefined)).toBe(false);
  });

  it('never contain the secret, and neither does any handshake frame', () => {
    const frames = [
      encodeHello({ version: 1, clusterId: 'grid-east', dialerId: 'n1', acceptorId: 'n2', lane: 'control', dialerNonce: nonce(), session: binding.session }),
      encodeChallenge(binding.acceptorNonce, handshakeMac(secret, 'acceptor', binding)),
      encodeAuth(handshakeMac(secret, 'dialer', binding)),
    ];
    for (const frame of frames) expect(Buffer.from(frame).includes(Buffer.from(secret))).toBe(false);
  });
});

describe('handshake frames', () => {
  it('parse what they encode', () => {
    const hello = { version: 1, clusterId: 'grid-east', dialerId: 'n1', acceptorId: 'n2', lane: 'bulk' as const, dialerNonce: nonce(), session: binding.session };
    expect(parseHello(encodeHello(hello))).toEqual(hello);
    const mac = handshakeMac(secret, 'acceptor', binding);
    expect(parseChallenge(encodeChallenge(binding.acceptorNonce, mac))).toEqual({ acceptorNonce: binding.acceptorNonce, acceptorMac: mac });
    expect(parseAuth(encodeAuth(mac))).toEqual(mac);
  });

  it('refuse malformed hellos with a reason', () => {
    const good = ['greenraft/hello', 1, 'c', 'n1', 'n2', 'control', new Uint8Array(NONCE_BYTES), new Uint8Array(SESSION_BYTES)];
    const variant = (index: number, value: unknown): Uint8Array => encodeValue(good.map((field, i) => (i === index ? value : field)));
    expect(parseHello(variant(1, 2))).toMatch(/unsupported protocol version 2/);
    expect(parseHello(variant(2, ''))).toMatch(/invalid cluster or node id/);
    expect(parseHello(variant(5, 'express'))).toMatch(/unknown lane/);
    expect(parseHello(variant(6, new Uint8Array(8)))).toMatch(/invalid nonce/);
    expect(parseHello(variant(7, 'session'))).toMatch(/invalid session/);
    expect(parseHello(encodeValue(good.slice(0, 7)))).toMatch(/not a hello/);
    expect(parseHello(Uint8Array.of(0xc6, 0xff))).toMatch(/not a hello/);
    expect(parseHello(new Uint8Array(5000))).toMatch(/not a hello/);
    expect(parseChallenge(encodeAuth(new Uint8Array(32)))).toBeUndefined();
    expect(parseAuth(encodeValue(['greenraft/auth', 'mac']))).toBeUndefined();
  });
});

describe('NonceCache', () => {
  it('refuses a nonce seen within the window and forgets it after', () => {
    const cache = new NonceCache(1000, 100);
    const value = nonce();
    expect(cache.remember(value, 0)).toBe(true);
    expect(cache.remember(new Uint8Array(value), 999)).toBe(false);
    expect(cache.remember(value, 1000)).toBe(true);
  });

  it('stays within its capacity, dropping the oldest', () => {
    const cache = new NonceCache(60_000, 3);
    const values = Array.from({ length: 5 }, () => nonce());
    for (const [i, value] of values.entries()) expect(cache.remember(value, i)).toBe(true);
    expect(cache.size).toBe(3);
    expect(cache.remember(values[4]!, 10)).toBe(false);
    expect(cache.remember(values[0]!, 10)).toBe(true);
  });
});
