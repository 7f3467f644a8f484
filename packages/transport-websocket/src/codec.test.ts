import { configuration, messageProblem } from '@greenraft/consensus';
import type { AppendRequest, LogEntry, Message, SnapshotRequest } from '@greenraft/consensus';
import { everyMessageType } from '@greenraft/consensus-compliance';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGES_PER_FRAME, decodeFrame, encodeMessage, encodeValue, messageTuple } from './codec.js';

const decodeOne = (frame: Uint8Array): unknown => {
  const decoded = decodeFrame(frame);
  expect(decoded.undecodable).toBeUndefined();
  expect(decoded.values).toHaveLength(1);
  return decoded.values![0]!.message;
};

describe('message codec', () => {
  it('round-trips every message type exactly: Maps of weights, Sets of learners, Uint8Array data', () => {
    for (const message of everyMessageType('n1', 'n2')) {
      const decoded = decodeOne(encodeMessage(message));
      expect(decoded).toStrictEqual(message);
      expect(messageProblem(decoded, 'n2')).toBeUndefined();
    }
  });

  it('keeps the order of voters and learners, and gives the node plain Uint8Array copies', () => {
    const config = configuration(new Map([['z', 1], ['10', 2], ['2', 3], ['a', 4]]), ['y', '1', 'b']);
    const message: AppendRequest = {
      type: 'appendRequest', from: 'n1', to: 'n2', term: 3, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0,
      entries: [
        { type: 'config', term: 3, index: 1, config: { incoming: config } },
        { type: 'normal', term: 3, index: 2, data: new Uint8Array([9, 8, 7]) },
      ],
    };
    const frame = encodeMessage(message);
    const decoded = decodeOne(frame) as AppendRequest;
    const entry = decoded.entries[0]!;
    if (entry.type !== 'config') throw new Error('expected a config entry');
    // Integer-like ids would be reordered by a plain object; a Map keeps insertion order.
    expect([...entry.config.incoming.voters.keys()]).toEqual(['z', '10', '2', 'a']);
    expect([...entry.config.incoming.learners]).toEqual(['y', '1', 'b']);
    const data = decoded.entries[1]!.type === 'normal' ? decoded.entries[1]!.data : undefined;
    expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
    // Scribbling over the frame afterwards leaves the decoded entry as it was.
    frame.fill(0);
    expect([...data!]).toEqual([9, 8, 7]);
  });

  it('round-trips terms and indexes up to 2^53 − 1 and a snapshot chunk of 256 KiB', () => {
    const huge = Number.MAX_SAFE_INTEGER;
    const chunk = new Uint8Array(256 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    const message: SnapshotRequest = {
      type: 'snapshotRequest', from: 'n1', to: 'n2', term: huge, offset: 2 ** 40, chunk, done: false,
      metadata: { index: huge, term: huge - 1, config: { incoming: configuration(['n1', 'n2']) } },
    };
    const decoded = decodeOne(encodeMessage(message)) as SnapshotRequest;
    expect(Buffer.compare(decoded.chunk, chunk)).toBe(0);
    expect({ ...decoded, chunk: undefined }).toStrictEqual({ ...message, chunk: undefined });
  });

  it('writes AppendEntries byte for byte as msgpackr writes the same tuple, across every bin size', () => {
    const config = { incoming: configuration({ a: 2, b: 1 }, ['c']), outgoing: configuration(['a', 'b']) };
    for (const sizes of [[], [0], [5, 0, 7], [200, 55], [256], [65_535], [65_536], [40_000, 40_000]]) {
      const entries: LogEntry[] = sizes.map((size, i) => ({ type: 'normal', term: 2, index: 11 + i, data: new Uint8Array(size).fill(i + 1) }));
      entries.splice(Math.min(1, entries.length), 0, { type: 'config', term: 2, index: 11 + entries.length, config });
      for (const [i, entry] of entries.entries()) Object.assign(entry, { index: 11 + i });
      const message: AppendRequest = { type: 'appendRequest', from: 'n1', to: 'n2', term: 2, prevLogIndex: 10, prevLogTerm: 1, commitIndex: 9, entries };
      const frame = encodeMessage(message);
      expect(Buffer.compare(frame, encodeValue(messageTuple(message))), JSON.stringify(sizes)).toBe(0);
      // Entry data compared as bytes (a deep comparison of 64 KiB arrays is slow), the rest exactly.
      const decoded = decodeOne(frame) as AppendRequest;
      const digest = (m: AppendRequest) => ({ ...m, entries: m.entries.map((e) => (e.type === 'normal' ? { ...e, data: Buffer.from(e.data).toString('base64') } : e)) });
      expect(digest(decoded)).toStrictEqual(digest(message));
      for (const entry of decoded.entries) if (entry.type === 'normal') expect(Object.getPrototypeOf(entry.data)).toBe(Uint8Array.prototype);
    }
  });

  it('decodes a frame of several messages back to back, in order', () => {
    const messages = everyMessageType('a', 'b');
    const frame = Buffer.concat(messages.map(encodeMessage));
    const decoded = decodeFrame(frame);
    expect(decoded.values?.map((value) => value.message)).toStrictEqual(messages);
  });

  it('reports frames that are not msgpack at all as undecodable', () => {
    const valid = encodeMessage({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex: 0 });
    expect(decodeFrame(new Uint8Array(0)).undecodable).toBe('empty frame');
    expect(decodeFrame(valid.subarray(0, valid.byteLength - 1)).undecodable).toBeDefined();
    // A bin32 header claiming 4 GiB, then two bytes.
    expect(decodeFrame(Uint8Array.of(0xc6, 0xff, 0xff, 0xff, 0xff, 1, 2)).undecodable).toBeDefined();
    // An array32 header claiming 2^32 − 1 elements.
    expect(decodeFrame(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 1)).undecodable).toBeDefined();
    // A str8 whose length runs past the end.
    expect(decodeFrame(Uint8Array.of(0xd9, 0x20, 0x61)).undecodable).toBeDefined();
  });

  it('survives nesting deep enough to overflow a recursive decoder', () => {
    const depth = 200_000;
    const frame = new Uint8Array(depth + 1).fill(0x91); // fixarray of one element, nested
    frame[depth] = 0x01;
    const decoded = decodeFrame(frame);
    expect(decoded.undecodable ?? decoded.values?.[0]?.problem).toBeDefined();
  });

  it('refuses a frame with more than the maximum number of messages', () => {
    const frame = new Uint8Array(MAX_MESSAGES_PER_FRAME + 1).fill(0x01);
    expect(decodeFrame(frame).undecodable).toMatch(/more than/);
  });

  it('reports values of the wrong shape one by one, and the schema catches wrong field types', () => {
    const cases: [unknown, boolean][] = [
      [{ type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex: 0 }, false], // a map: not a tuple
      [[5, 'a', 'b', 1, 0], false], // heartbeat without its context slot
      [[99, 'a', 'b', 1], false], // unknown type code
      [[3, 'a', 'b', 1, 0, 0, 0, 'not a list', new Uint8Array()], false],
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 1], new Uint8Array()], false], // not groups of four
      [[3, 'a', 'b', 1, 0, 0, 0, [7, 1, 1, 0], new Uint8Array()], false], // unknown entry kind
      [[3, 'a', 'b', 1, 0, 0, 0, [1, 1, 1, [[['a', 1, 'a', 2], []]]], new Uint8Array()], false], // a voter twice
      [[3, 'a', 'b', 1, 0, 0, 0, [1, 1, 1, [[['a', 1, 'b'], []]]], new Uint8Array()], false], // odd voter list
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 1, 3], 'not bytes'], false],
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 1, 10], new Uint8Array(3)], false], // data length past the end
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 1, 1.5], new Uint8Array(3)], false],
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 1, 1], new Uint8Array(3)], false], // bytes no entry claims
      [[5, 'a', 'b', '1', 0, null], true], // shape fine, term a string: the schema refuses it
      [[5, 'a', 'b', -1, 0, null], true],
      [[5, 'a', 'b', 1.5, 0, null], true],
      [[5, 'a', '', 1, 0, null], true],
      [[5, 'a', 'b', 1, 0, 42], true], // context not a string
      [[3, 'a', 'b', 1, 0, 0, 0, [0, -1, 1, 0], new Uint8Array()], true], // an entry with a negative term
      [[3, 'a', 'b', 1, 0, 0, 0, [0, 1, 5, 0], new Uint8Array()], true], // out of sequence
      [[3, 'a', 'b', 1, 0, 0, 0, [1, 1, 1, [[['a', -1], []]]], new Uint8Array()], true], // a negative weight
    ];
    for (const [value, shapeOk] of cases) {
      const decoded = decodeFrame(encodeValue(value));
      const [only] = decoded.values!;
      if (!shapeOk) {
        expect(only!.problem, JSON.stringify(value)).toBeDefined();
        continue;
      }
      expect(only!.problem).toBeUndefined();
      expect(messageProblem(only!.message), JSON.stringify(value)).toBeDefined();
    }
  });

  it('throws on encode for a value that is not a message (the transport counts it)', () => {
    expect(() => encodeMessage({ type: 'gossip', from: 'a', to: 'b', term: 1 } as unknown as Message)).toThrow(TypeError);
    expect(() => encodeMessage({ type: 'appendRequest', from: 'a', to: 'b', term: 1 } as unknown as Message)).toThrow();
  });
});
