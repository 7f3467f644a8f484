import { crc32 } from 'node:zlib';
import { configuration } from '@greenraft/consensus';
import type { ClusterConfig, LogEntry } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { DecodeError, Decoder, Encoder, decodeClusterConfig, decodeEntry, decodeHardState, encodeClusterConfig, encodeEntry, encodeHardState } from './codec.js';
import {
  BatchBuilder,
  COMMIT_RECORD_BYTES,
  FORMAT_VERSION,
  RecordType,
  encodeSegmentHeader,
  parseBatch,
  parseBegin,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
  segmentHeaderProblem,
  snapshotFileName,
} from './format.js';
import { decodeStateRecord, encodeSegmentStart, encodeStateRecord } from './records.js';

function sampleBatch(): Buffer {
  const encoder = new Encoder(16);
  const batch = new BatchBuilder(encoder);
  batch.record(RecordType.entry, (e) => encodeEntry(e, { type: 'normal', index: 7, term: 2, data: Uint8Array.of(1, 2, 3) }));
  batch.record(RecordType.entry, (e) => encodeEntry(e, { type: 'config', index: 8, term: 2, config: { incoming: configuration({ a: 2 }, ['b']) } }));
  batch.record(RecordType.hardState, (e) => encodeHardState(e, { term: 2, vote: 'a', commit: 7 }));
  batch.finish();
  return Buffer.from(encoder.result());
}

describe('format version 1', () => {
  it('pins the bytes of a segment header and of a batch, so a format change cannot slip in unnoticed', () => {
    expect(FORMAT_VERSION).toBe(1);
    // magic GRAFTWAL, version 1, header length 32, sequence 3, reserved, CRC32.
    expect(encodeSegmentHeader(3).toString('hex')).toBe('475241465457414c0100000020000000030000000000000000000000264a0262');
    // BEGIN (length 151, 5 records), entry 7 (normal), entry 8 (configuration), hard state, COMMIT.
    expect(sampleBatch().toString('hex')).toBe(
      'afd596160800000001000000970000000500000074cac0eb140000000400000007000000000000000200000000000000010102038cee7eef280000000400000008000000000000000200000000000000020001000000010061020000000000000001000000010062e9b74d0a1300000005000000020000000000000007000000000000000100616e89e6df04000000020000002ce2429b',
    );
  });

  it('names segments and snapshots with zero-padded numbers and parses them back', () => {
    expect(segmentFileName(12)).toBe('wal-0000000000000012.log');
    expect(parseSegmentFileName('wal-0000000000000012.log')).toBe(12);
    expect(parseSegmentFileName('wal-12.log')).toBeUndefined();
    expect(parseSegmentFileName('wal-0000000000000012.log.tmp')).toBeUndefined();
    expect(snapshotFileName(1234, 5)).toBe('snapshot-0000000000001234-0000000000000005.snap');
    expect(parseSnapshotFileName('snapshot-0000000000001234-0000000000000005.snap')).toEqual({ index: 1234, id: 5 });
  });

  it('checks segment headers: magic, checksum, version and sequence number', () => {
    const header = encodeSegmentHeader(9);
    expect(segmentHeaderProblem(header, 9)).toBeUndefined();
    expect(segmentHeaderProblem(header, 10)).toEqual({ kind: 'corrupt', problem: 'segment header holds sequence 9, its name says 10' });
    expect(segmentHeaderProblem(header.subarray(0, 31), 9)).toEqual({ kind: 'short' });
    const badMagic = Buffer.from(header);
    badMagic[0] = 0x58;
    expect(segmentHeaderProblem(badMagic, 9)?.kind).toBe('corrupt');
    // A newer version with a valid checksum is a version problem, not corruption.
    const newer = Buffer.from(header);
    newer.writeUInt32LE(2, 8);
    newer.writeUInt32LE(crc32(newer.subarray(0, 28)), 28);
    expect(segmentHeaderProblem(newer, 9)).toEqual({ kind: 'version', version: 2 });
  });

  it('parses a batch back into its records, and finds any flipped bit in it', () => {
    const bytes = sampleBatch();
    const begin = parseBegin(bytes, 0);
    expect(begin).toEqual({ kind: 'ok', length: bytes.length, records: 5 });
    const parsed = parseBatch(bytes, 0, bytes.length, 5);
    expect(parsed.kind).toBe('ok');
    if (parsed.kind !== 'ok') return;
    expect(parsed.records.map((record) => record.type)).toEqual([RecordType.entry, RecordType.entry, RecordType.hardState]);
    const entry = decodeEntry(new Decoder(bytes, parsed.records[1]!.payloadStart, parsed.records[1]!.payloadEnd));
    expect(entry).toEqual({ type: 'config', index: 8, term: 2, config: { incoming: configuration({ a: 2 }, ['b']) } });
    for (let offset = 0; offset < bytes.length; offset++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[offset]! ^= 1 << bit;
        const head = parseBegin(flipped, 0);
        const verdict = head.kind === 'ok' ? parseBatch(flipped, 0, bytes.length, head.records).kind : head.kind;
        expect(verdict, `bit ${bit} of byte ${offset}`).toBe('corrupt');
      }
    }
  });

  it('refuses a batch whose last record is not its commit', () => {
    const bytes = sampleBatch();
    // Claims one record fewer: the hard state record would have to be the commit.
    const begin = parseBegin(bytes, 0);
    if (begin.kind !== 'ok') throw new Error('bad sample');
    expect(parseBatch(bytes, 0, bytes.length - COMMIT_RECORD_BYTES, 4)).toMatchObject({ kind: 'corrupt' });
  });
});

describe('entry and configuration encoding', () => {
  const roundTrip = (entry: LogEntry): LogEntry => {
    const encoder = new Encoder(4);
    encodeEntry(encoder, entry);
    return decodeEntry(new Decoder(encoder.result()));
  };

  it('round-trips normal entries with any bytes, large indexes and terms', () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const entry: LogEntry = { type: 'normal', index: Number.MAX_SAFE_INTEGER, term: 2 ** 40 + 3, data };
    const back = roundTrip(entry);
    expect(back).toEqual(entry);
    expect(back.type === 'normal' && back.data).toBeInstanceOf(Uint8Array);
    expect(roundTrip({ type: 'normal', index: 1, term: 0, data: new Uint8Array(0) })).toEqual({ type: 'normal', index: 1, term: 0, data: new Uint8Array(0) });
  });

  it('round-trips joint configurations with weights, learners and non-ASCII ids', () => {
    const config: ClusterConfig = { incoming: configuration({ 'nœud-1': 3, b: 0, c: 2 ** 40 }, ['learner-é']), outgoing: configuration(['a', 'b', 'c']) };
    const encoder = new Encoder(4);
    encodeClusterConfig(encoder, config);
    const back = decodeClusterConfig(new Decoder(encoder.result()));
    expect(back).toEqual(config);
    expect(back.incoming.voters).toBeInstanceOf(Map);
    expect(back.incoming.learners).toBeInstanceOf(Set);
    expect([...back.incoming.voters.keys()]).toEqual(['nœud-1', 'b', 'c']);
  });

  it('round-trips hard state with and without a vote', () => {
    for (const hardState of [{ term: 5, vote: 'node-b', commit: 9 }, { term: 0, vote: undefined, commit: 0 }]) {
      const encoder = new Encoder(4);
      encodeHardState(encoder, hardState);
      expect(decodeHardState(new Decoder(encoder.result()))).toEqual(hardState);
    }
  });

  it('round-trips a segment start state', () => {
    const state = {
      offset: 41,
      lastStored: 90,
      hardState: { term: 4, vote: 'a', commit: 80 },
      snapshot: { metadata: { index: 40, term: 3, config: { incoming: configuration(['a', 'b']) } }, id: 7, size: 1234 },
    };
    const encoder = new Encoder(4);
    encodeStateRecord(encoder, state);
    expect(decodeStateRecord(new Decoder(encoder.result()))).toEqual(state);
    expect(encodeSegmentStart(2, state).length).toBeGreaterThan(32);
  });

  it('reports truncated or malformed bytes as DecodeError, never as a wrong value', () => {
    const encoder = new Encoder(4);
    encodeEntry(encoder, { type: 'config', index: 3, term: 1, config: { incoming: configuration(['a']) } });
    const bytes = encoder.result();
    for (let cut = 0; cut < bytes.length; cut++) expect(() => decodeEntry(new Decoder(bytes.subarray(0, cut)))).toThrow(DecodeError);
    const unknownKind = Buffer.from(bytes);
    unknownKind[16] = 9;
    expect(() => decodeEntry(new Decoder(unknownKind))).toThrow(/unknown entry kind 9/);
    const tooLarge = new Encoder(16);
    tooLarge.u32(0);
    tooLarge.u32(0x00200000);
    expect(() => new Decoder(tooLarge.result()).u64()).toThrow(/safe integer/);
  });

  it('refuses values it cannot encode', () => {
    const encoder = new Encoder(4);
    expect(() => encodeEntry(encoder, { type: 'normal', index: 1, term: 1, data: 'text' as unknown as Uint8Array })).toThrow(/no Uint8Array data/);
    expect(() => encodeEntry(encoder, { type: 'other', index: 1, term: 1 } as unknown as LogEntry)).toThrow(/unknown type other/);
    expect(() => encodeClusterConfig(encoder, { incoming: { voters: new Map([['a', 1.5]]), learners: new Set() } })).toThrow(/weights must be integers/);
    expect(() => encodeClusterConfig(encoder, { incoming: { voters: new Map([['x'.repeat(70_000), 1]]), learners: new Set() } })).toThrow(/65535/);
  });
});
