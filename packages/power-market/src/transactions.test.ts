import { describe, expect, it } from 'vitest';
import { canonicalDecode, canonicalEncode, canonicalJson } from './canonical.js';
import { marketClient, transactionSubjectId } from './client.js';
import { InvalidEncodingError, InvalidQuantityError, InvalidTransactionError, MarketError } from './errors.js';
import { allocateProportionally, toMilliYuan } from './money.js';
import {
  decodeTransactions,
  encodeTransactions,
  generateParticipantKeys,
  signTransaction,
  transactionHash,
  verifyTransactionSignature,
} from './transactions.js';

describe('canonical encoding', () => {
  it('sorts keys and is the same for equal values', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: -0, y: 1.5 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":1.5,"z":0}}');
    expect(canonicalEncode({ x: 1, y: 2 })).toEqual(canonicalEncode({ y: 2, x: 1 }));
  });

  function thrownBy(action: () => unknown): unknown {
    try {
      action();
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to throw');
  }

  function expectInvalidEncoding(action: () => unknown): InvalidEncodingError {
    const error = thrownBy(action);
    expect(error).toBeInstanceOf(InvalidEncodingError);
    expect(error).toBeInstanceOf(MarketError);
    expect((error as InvalidEncodingError).code).toBe('INVALID_ENCODING');
    expect((error as InvalidEncodingError).name).toBe('InvalidEncodingError');
    return error as InvalidEncodingError;
  }

  it('refuses values with no canonical form with InvalidEncodingError', () => {
    expectInvalidEncoding(() => canonicalJson({ a: Number.NaN }));
    expectInvalidEncoding(() => canonicalJson({ a: Number.POSITIVE_INFINITY }));
    expectInvalidEncoding(() => canonicalJson({ a: undefined }));
    expectInvalidEncoding(() => canonicalJson(Uint8Array.of(1)));
    expectInvalidEncoding(() => canonicalJson({ a: 1n }));
    expectInvalidEncoding(() => canonicalJson(() => 1));
  });

  it('decodes only the canonical bytes of a value, refusing the rest with InvalidEncodingError', () => {
    const utf8 = (text: string) => new TextEncoder().encode(text);
    expect(canonicalDecode(utf8('{"a":1,"b":2}'))).toEqual({ a: 1, b: 2 });
    expectInvalidEncoding(() => canonicalDecode(utf8('{"b":2,"a":1}')));
    expectInvalidEncoding(() => canonicalDecode(utf8('{"a": 1}')));
    expectInvalidEncoding(() => canonicalDecode(utf8('{"a":1.0}')));
  });

  it('keeps the parser\'s error as the cause when the bytes are not UTF-8 JSON', () => {
    const notJson = expectInvalidEncoding(() => canonicalDecode(new TextEncoder().encode('{"a":')));
    expect(notJson.cause).toBeInstanceOf(SyntaxError);
    const notUtf8 = expectInvalidEncoding(() => canonicalDecode(Uint8Array.of(0x7b, 0xff, 0x7d)));
    expect(notUtf8.cause).toBeInstanceOf(TypeError);
  });
});

describe('signed transactions', () => {
  const keys = generateParticipantKeys();

  it('sign and verify under the participant’s key and market only', () => {
    const signed = signTransaction({ type: 'recordCarbon', signer: 'g', nonce: 1, quota: 1, purchased: 0, emitted: 0 }, keys.privateKey);
    expect(verifyTransactionSignature(signed, keys.publicKey)).toBe(true);
    expect(verifyTransactionSignature(signed, generateParticipantKeys().publicKey)).toBe(false);
    expect(verifyTransactionSignature(signed, keys.publicKey, { marketId: 'other' })).toBe(false);
    expect(verifyTransactionSignature({ ...signed, signature: 'not-base64!' }, keys.publicKey)).toBe(false);
    expect(transactionHash(signed)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to sign a malformed transaction', () => {
    expect(() => signTransaction({ type: 'reportDelivery', signer: 'g', nonce: 1, contractId: 'x', meteredKWh: -1 }, keys.privateKey)).toThrow(InvalidQuantityError);
    expect(() => signTransaction({ type: 'reportDelivery', signer: 'g', nonce: 0, contractId: 'x', meteredKWh: 1 }, keys.privateKey)).toThrow(InvalidTransactionError);
    expect(() =>
      signTransaction({ type: 'proposeContract', signer: 'g', nonce: 1, counterparty: 'c', unitPrice: 0.5, contractedKWh: 1, deliveryStart: 5, deliveryEnd: 5, handlingFee: 0 }, keys.privateKey),
    ).toThrow(InvalidQuantityError);
  });

  it('round-trip through a log entry’s bytes', () => {
    const client = marketClient({ id: 'g', keys });
    const batch = [client.register({ kind: 'generation', renewable: true }), client.proposeContract({ counterparty: 'c', unitPrice: 0.5, contractedKWh: 3, deliveryStart: 0, deliveryEnd: 1 })];
    expect(decodeTransactions(encodeTransactions(batch))).toEqual(batch);
    expect(batch.map((tx) => tx.transaction.nonce)).toEqual([1, 2]);
    expect(transactionSubjectId(batch[1]!)).toBe('g/2');
    expect(client.nextNonce).toBe(3);
    expect(() => decodeTransactions(new TextEncoder().encode('{}'))).toThrow(InvalidTransactionError);
  });

  it('does not use up a nonce when a build is refused', () => {
    const client = marketClient({ id: 'g', keys, lastNonce: 10 });
    expect(() => client.reportDelivery('x', Number.NaN)).toThrow(InvalidQuantityError);
    expect(client.reportDelivery('x', 1).transaction.nonce).toBe(11);
  });
});

describe('money', () => {
  it('rounds to the nearest milli-yuan, halves away from zero', () => {
    expect(toMilliYuan(310 * 0.61)).toBe(189_100);
    expect(toMilliYuan(0.0005)).toBe(1);
    expect(toMilliYuan(-0.0005)).toBe(-1);
    expect(toMilliYuan(-2.0004)).toBe(-2_000);
  });

  it('splits by the largest remainder so the parts add up', () => {
    const parts = allocateProportionally(100, [['a', 1], ['b', 1], ['c', 1]])!;
    expect([...parts.values()]).toEqual([34, 33, 33]);
    expect(allocateProportionally(10, [['a', 0], ['b', 0]])).toBeUndefined();
    expect(allocateProportionally(7, [['a', 0], ['b', 3]])).toEqual(new Map([['b', 7]]));
  });
});
