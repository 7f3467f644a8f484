// The hand-written writer and reader against msgpackr, the reference: the same bytes for every
// message (valid or not), the same decoded values (or the same verdict) for every frame, valid,
// mutated or random. GREENRAFT_FUZZ_SEED replays a run.
import { configuration } from '@greenraft/consensus';
import type { AppendRequest, LogEntry, Message } from '@greenraft/consensus';
import { everyMessageType } from '@greenraft/consensus-compliance';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageEncoder, decodeFrameInto, decodeFrameWithMsgpackr, encodeMessage, encodeMessageWithMsgpackr, encodeValue, readsWithoutMsgpackr } from './codec.js';

const SEED = Number(process.env.GREENRAFT_FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.GREENRAFT_FUZZ_RUNS ?? 400);
const options = { seed: SEED, numRuns: RUNS };

/** Integers at every msgpack size boundary, safe integers, and values no message holds (floats, NaN, ∞, −0). */
const anyNumber = fc.oneof(
  fc.constantFrom(0, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -0),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
  fc.maxSafeInteger(),
  fc.double(),
);
const index = fc.oneof(fc.nat(300), fc.nat(70_000), fc.maxSafeNat());
/** ASCII ids of every string header size, and strings the fast writer leaves to msgpackr (any code unit, lone surrogates too). */
const anyString = fc.oneof(
  fc.constantFrom('a', 'b', 'n1', 'fuzzer-peer-0001', ''),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const bytes = fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }) }, { weight: 1, arbitrary: fc.constantFrom(255, 256, 65_535, 65_536, 70_000).map((size) => new Uint8Array(size).fill(size % 251)) });
const config = fc.constantFrom(
  { incoming: configuration({ a: 2, b: 1 }, ['c']) },
  { incoming: configuration({ a: 2, b: 1 }, ['c']), outgoing: configuration(['a', 'b', 'z']) },
);

function appendOf(from: string, to: string, term: number, prevLogIndex: number, commitIndex: number, kinds: readonly { config: boolean; data: Uint8Array; term: number }[]): AppendRequest {
  const entries: LogEntry[] = kinds.map((kind, i) =>
    kind.config ? { type: 'config', term: kind.term, index: prevLogIndex + 1 + i, config: { incoming: configuration(['a', 'b']) } } : { type: 'normal', term: kind.term, index: prevLogIndex + 1 + i, data: kind.data },
  );
  return { type: 'appendRequest', from, to, term, prevLogIndex, prevLogTerm: term, commitIndex, entries };
}

/** A well-formed AppendEntries: mostly normal entries, sometimes a configuration entry. */
const validAppend = fc
  .tuple(fc.constantFrom('a', 'n1', 'fuzzer-peer-0001'), fc.constantFrom('b', 'n2'), index, index, fc.array(fc.record({ config: fc.nat(15).map((n) => n === 0), data: bytes, term: index }), { maxLength: 40 }))
  .map(([from, to, term, prevLogIndex, kinds]) => appendOf(from, to, term, Math.min(prevLogIndex, Number.MAX_SAFE_INTEGER - 100), 0, kinds));

/** Any message with any field replaced by any number, string, boolean or null: valid or not, the encoders must agree. */
const anyMessage: fc.Arbitrary<Message> = fc.oneof(
  validAppend,
  fc.tuple(anyString, anyString, anyNumber, anyNumber, anyNumber, fc.array(fc.record({ term: anyNumber, index: anyNumber, data: bytes }), { maxLength: 8 })).map(
    ([from, to, term, prevLogIndex, commitIndex, raw]) =>
      ({ type: 'appendRequest', from, to, term, prevLogIndex, prevLogTerm: term, commitIndex, entries: raw.map((e) => ({ type: 'normal', ...e })) }) as Message,
  ),
  fc.tuple(fc.nat(10), fc.nat(8), fc.oneof(anyNumber, anyString, fc.boolean(), fc.constant(null)), config).map(([type, field, value, cfg]) => {
    const message = everyMessageType('a', 'b')[type] as unknown as Record<string, unknown>;
    const keys = Object.keys(message).filter((key) => key !== 'type');
    const key = keys[field % keys.length]!;
    const copy: Record<string, unknown> = { ...message, [key]: value };
    if (copy.type === 'snapshotRequest') copy.metadata = { index: 1, term: 1, config: cfg };
    return copy as unknown as Message;
  }),
);

const encodeBoth = (message: Message): { fast: Buffer | string; reference: Buffer | string } => {
  const attempt = (encode: (m: Message) => Buffer): Buffer | string => {
    try {
      return encode(message);
    } catch (error) {
      return `throws ${(error as Error).constructor.name}`;
    }
  };
  return { fast: attempt(encodeMessage), reference: attempt(encodeMessageWithMsgpackr) };
};

describe('the fast message writer', () => {
  it('writes exactly the bytes msgpackr writes, for every message type', () => {
    for (const message of everyMessageType('n1', 'n2')) {
      expect(Buffer.compare(encodeMessage(message), encodeMessageWithMsgpackr(message)), message.type).toBe(0);
    }
  });

  it('writes exactly the bytes msgpackr writes for random messages, valid or not, and measures them exactly', () => {
    const encoder = new MessageEncoder();
    fc.assert(
      fc.property(anyMessage, (message) => {
        const { fast, reference } = encodeBoth(message);
        if (typeof reference === 'string') {
          expect(fast).toBe(reference);
          return;
        }
        expect(typeof fast === 'string' ? fast : fast.toString('hex')).toBe(reference.toString('hex'));
        // Written into the middle of a larger buffer: exactly its measured length, nothing outside it touched.
        const length = encoder.prepare(message);
        expect(length).toBe(reference.byteLength);
        const target = Buffer.alloc(length + 16, 0xee);
        expect(encoder.write(target, 8)).toBe(8 + length);
        expect(target.subarray(8, 8 + length).equals(reference)).toBe(true);
        expect(target.subarray(0, 8).every((b) => b === 0xee) && target.subarray(8 + length).every((b) => b === 0xee)).toBe(true);
      }),
      options,
    );
  });
});

/** Decoded values with every byte array as its prototype and hex (deep-comparing big arrays byte by byte is slow). */
function digest(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: `${Object.getPrototypeOf(value) === Uint8Array.prototype ? 'Uint8Array' : 'other'}:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}` };
  if (Array.isArray(value)) return value.map(digest);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, digest(v)]));
  if (value instanceof Set || value === null || typeof value !== 'object') return value;
  const out = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) out[k] = digest(v);
  return out;
}

const decodeFast = (frame: Uint8Array): unknown[] | string => {
  const out: unknown[] = [];
  const undecodable = decodeFrameInto(frame, out);
  if (undecodable !== undefined) {
    expect(out).toHaveLength(0);
    return undecodable;
  }
  return out;
};

/** AppendEntries tuples whose entries claim any data lengths, of any kind, over a data bin of any size. */
const appendTuple = fc
  .tuple(fc.array(fc.tuple(fc.oneof(fc.constant(0), fc.constant(0), fc.nat(3)), fc.oneof(fc.nat(9), fc.integer({ min: -9, max: 9 }), anyNumber)), { maxLength: 6 }), fc.boolean(), fc.nat(20))
  .map(([groups, claimed, binBytes]) => {
    // Often a bin exactly as long as the lengths add up to, so that wrong lengths (negative ones) cancel out.
    const sum = groups.reduce((total, [, length]) => total + length, 0);
    const size = claimed && Number.isSafeInteger(sum) && sum >= 0 && sum < 1024 ? sum : binBytes;
    return encodeValue([3, 'a', 'b', 1, 0, 0, 0, groups.flatMap(([kind, length], i) => [kind, 1, i + 1, length]), new Uint8Array(size)]);
  });

/** Frames of whole messages, then perhaps one mutation: a byte changed, bytes cut off, bytes inserted. */
const frame = fc
  .tuple(
    fc.array(fc.oneof(anyMessage, fc.constantFrom(...everyMessageType('a', 'b')), appendTuple), { minLength: 1, maxLength: 6 }),
    fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
    ),
  )
  .map(([messages, mutation]) => {
    const whole = Buffer.concat(messages.flatMap((m) => {
      if (m instanceof Uint8Array) return [m];
      const { reference } = encodeBoth(m);
      return typeof reference === 'string' ? [] : [reference];
    }));
    if (whole.byteLength === 0 || mutation.kind === 'none') return whole;
    const at = mutation.at % whole.byteLength;
    if (mutation.kind === 'flip') {
      const copy = Buffer.from(whole);
      copy[at] = mutation.value;
      return copy;
    }
    if (mutation.kind === 'cut') return whole.subarray(0, at);
    return Buffer.concat([whole.subarray(0, at), mutation.bytes, whole.subarray(at)]);
  });

describe('the fast frame reader', () => {
  it('reads the frames the transport writes without msgpackr, and gives what msgpackr gives', () => {
    const canonical = everyMessageType('a', 'b').filter((m) => m.type !== 'snapshotRequest' && m.type !== 'appendRequest');
    const appends = [
      appendOf('a', 'b', 3, 10, 9, [{ config: false, data: new Uint8Array([1, 2, 3]), term: 3 }, { config: false, data: new Uint8Array(0), term: 3 }]),
      appendOf('a', 'b', 3, 10, 9, []),
      // More entries than the reader's shared scratch holds.
      appendOf('a', 'b', 3, 10, 9, Array.from({ length: 5000 }, (_, i) => ({ config: false, data: new Uint8Array(i % 3).fill(i % 251), term: 3 }))),
    ];
    const frame = Buffer.concat([...canonical, ...appends].map(encodeMessage));
    expect(readsWithoutMsgpackr(frame)).toBe(true);
    expect(digest(decodeFast(frame))).toStrictEqual(digest(decodeFrameWithMsgpackr(frame)));
    // Configuration entries and snapshot chunks are msgpackr's, and still decode.
    for (const message of everyMessageType('a', 'b').filter((m) => m.type === 'snapshotRequest' || m.type === 'appendRequest')) {
      expect(readsWithoutMsgpackr(encodeMessage(message))).toBe(false);
      expect(decodeFast(encodeMessage(message))).toStrictEqual([message]);
    }
  });

  it('decodes every random, mutated or truncated frame exactly as msgpackr does, or judges it the same', () => {
    let fast = 0;
    fc.assert(
      fc.property(frame, (bytes) => {
        if (readsWithoutMsgpackr(bytes)) fast++;
        expect(digest(decodeFast(bytes))).toStrictEqual(digest(decodeFrameWithMsgpackr(bytes)));
      }),
      options,
    );
    // The comparison means something only if many frames took the fast reader.
    expect(fast).toBeGreaterThan(RUNS / 50);
  });

  it('decodes random bytes exactly as msgpackr does, or judges them the same', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(digest(decodeFast(bytes))).toStrictEqual(digest(decodeFrameWithMsgpackr(bytes)));
      }),
      options,
    );
  });

  it('gives the node plain Uint8Array views of a copy of the frame, one per entry', () => {
    const message = appendOf('a', 'b', 3, 10, 9, [{ config: false, data: new Uint8Array([1, 2, 3]), term: 3 }, { config: false, data: new Uint8Array([4, 5]), term: 3 }]);
    const frame = encodeMessage(message);
    const [decoded] = decodeFast(frame) as [AppendRequest];
    const data = decoded.entries.map((entry) => (entry.type === 'normal' ? entry.data : undefined));
    for (const view of data) expect(Object.getPrototypeOf(view)).toBe(Uint8Array.prototype);
    frame.fill(0);
    expect(data.map((view) => [...view!])).toEqual([[1, 2, 3], [4, 5]]);
  });
});
