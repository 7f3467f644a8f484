import { generateParticipantKeys, marketClient } from '@greenraft/power-market';
import { encodeTransactions } from '@greenraft/power-market';
import { describe, expect, it } from 'vitest';
import { type EntryHeader, decodeEntry, encodeEntry } from './entry.js';
import { SessionTable } from './sessions.js';
import { type AppliedEntry, ServerSnapshotError, ServerStateMachine } from './state-machine.js';

const encoder = new TextEncoder();

/** A KV replica and a log to apply to it. */
function replica(limits?: { retainEntries: number; maxKeysPerClient: number; maxKeys: number }) {
  const state = new ServerStateMachine({ kind: 'kv', ...(limits === undefined ? {} : { sessionLimits: limits }) });
  let index = 0;
  const apply = (header: EntryHeader, value?: string): AppliedEntry => state.apply({ index: ++index, term: 1, data: encodeEntry(header, value === undefined ? undefined : encoder.encode(value)) });
  return { state, apply, skip: (count: number) => (index += count) };
}

describe('the KV state machine', () => {
  it('puts, compares-and-swaps and deletes, each value with the index that set it', () => {
    const { state, apply } = replica();
    expect(apply({ op: 'kv.put', key: 'meter/7' }, '12.5')).toEqual({ index: 1, duplicate: false, op: 'kv.put', outcome: { ok: true, value: {} } });
    expect(state.kv.get('meter/7')).toEqual({ value: '12.5', index: 1 });
    expect(apply({ op: 'kv.cas', key: 'meter/7', from: '99' }, '13').outcome).toEqual({ ok: true, value: { swapped: false } });
    expect(apply({ op: 'kv.cas', key: 'meter/7', from: '12.5' }, '13').outcome).toEqual({ ok: true, value: { swapped: true } });
    expect(state.kv.get('meter/7')).toEqual({ value: '13', index: 3 });
    expect(apply({ op: 'kv.cas', key: 'fresh', from: null }, 'a').outcome).toEqual({ ok: true, value: { swapped: true } });
    expect(apply({ op: 'kv.cas', key: 'fresh', from: null }, 'b').outcome).toEqual({ ok: true, value: { swapped: false } });
    expect(apply({ op: 'kv.delete', key: 'meter/7' }).outcome).toEqual({ ok: true, value: { deleted: true } });
    expect(apply({ op: 'kv.delete', key: 'meter/7' }).outcome).toEqual({ ok: true, value: { deleted: false } });
    expect(state.kv.get('meter/7')).toBeUndefined();
    expect(state.appliedIndex).toBe(7);
  });

  it('applies a retried write once and answers it with the first outcome (thesis §6.3)', () => {
    const { state, apply } = replica();
    const first = apply({ op: 'kv.cas', key: 'k', from: null, c: 'meter-gw', k: 'op-1' }, 'v1');
    expect(first).toMatchObject({ index: 1, duplicate: false, outcome: { ok: true, value: { swapped: true } } });
    apply({ op: 'kv.put', key: 'k' }, 'changed by someone else');
    // The retry arrives as a new entry; were it applied again, the cas would now fail.
    const retry = apply({ op: 'kv.cas', key: 'k', from: null, c: 'meter-gw', k: 'op-1' }, 'v1');
    expect(retry).toEqual({ index: 1, duplicate: true, op: 'kv.cas', outcome: { ok: true, value: { swapped: true } } });
    expect(state.kv.get('k')?.value).toBe('changed by someone else');
    // The same key of another client is another request.
    expect(apply({ op: 'kv.put', key: 'k', c: 'other', k: 'op-1' }, 'x')).toMatchObject({ index: 4, duplicate: false });
  });

  it('refuses an idempotency key reused for another request, and changes nothing', () => {
    const { state, apply } = replica();
    apply({ op: 'kv.put', key: 'k', c: 'c1', k: 'key-1' }, 'v1');
    const reused = apply({ op: 'kv.put', key: 'k', c: 'c1', k: 'key-1' }, 'v2');
    expect(reused.outcome).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(state.kv.get('k')?.value).toBe('v1');
  });

  it('forgets keys by log index, the same way on every replica', () => {
    const limits = { retainEntries: 10, maxKeysPerClient: 3, maxKeys: 5 };
    const replay = () => {
      const r = replica(limits);
      r.apply({ op: 'kv.put', key: 'a', c: 'c1', k: 'k1' }, '1'); // index 1
      r.skip(9);
      r.apply({ op: 'kv.put', key: 'b' }, '2'); // index 11: k1 (index 1) is now 10 entries old
      return r;
    };
    const one = replay();
    const two = replay();
    expect(one.state.sessions.lookup('c1', 'k1')).toBeUndefined();
    expect(two.state.sessions.snapshot()).toEqual(one.state.sessions.snapshot());
    // Forgotten: the retry is applied again.
    expect(one.apply({ op: 'kv.put', key: 'a', c: 'c1', k: 'k1' }, '1').duplicate).toBe(false);
    // Index 9 is still within the window.
    const fresh = replica(limits);
    fresh.apply({ op: 'kv.put', key: 'a', c: 'c1', k: 'k1' }, '1');
    fresh.skip(8);
    fresh.apply({ op: 'kv.put', key: 'b' }, '2'); // index 10
    expect(fresh.state.sessions.lookup('c1', 'k1')?.index).toBe(1);
  });

  it('bounds the keys per client and over every client, forgetting the oldest', () => {
    const sessions = new SessionTable({ retainEntries: 1_000_000, maxKeysPerClient: 2, maxKeys: 3 });
    const outcome = { ok: true, value: {} } as const;
    sessions.record('a', 'k1', { index: 1, fingerprint: 'f', outcome });
    sessions.record('a', 'k2', { index: 2, fingerprint: 'f', outcome });
    sessions.record('a', 'k3', { index: 3, fingerprint: 'f', outcome });
    expect(sessions.lookup('a', 'k1')).toBeUndefined();
    expect(sessions.size).toBe(2);
    sessions.record('b', 'k1', { index: 4, fingerprint: 'f', outcome });
    sessions.record('c', 'k1', { index: 5, fingerprint: 'f', outcome });
    expect(sessions.size).toBe(3);
    expect(sessions.lookup('a', 'k2')).toBeUndefined();
    expect(sessions.snapshot().map(([client, key]) => `${client}/${key}`)).toEqual(['a/k3', 'b/k1', 'c/k1']);
  });

  it('keeps the session queue bounded when one client churns through keys', () => {
    const sessions = new SessionTable({ retainEntries: 1_000_000, maxKeysPerClient: 10, maxKeys: 100 });
    for (let i = 1; i <= 50_000; i++) sessions.record('busy', `k${i}`, { index: i, fingerprint: 'f', outcome: { ok: true, value: {} } });
    expect(sessions.size).toBe(10);
    expect(sessions.snapshot()).toHaveLength(10);
  });

  it('applies garbage as a deterministic refusal and never throws', () => {
    const { state } = replica();
    for (const data of [Uint8Array.of(9, 9), Uint8Array.of(1, 0, 0, 0, 200), Uint8Array.of(1, 0, 0, 0, 2, 0x7b, 0x7d), encoder.encode('not an entry at all')]) {
      const applied = state.apply({ index: state.appliedIndex + 1, term: 1, data });
      expect(applied.op).toBe('invalid');
      expect(applied.outcome).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    const notUtf8 = encodeEntry({ op: 'kv.put', key: 'k' }, Uint8Array.of(0xff, 0xfe));
    expect(state.apply({ index: 10, term: 1, data: notUtf8 }).outcome).toMatchObject({ ok: false, code: 'BAD_REQUEST', message: 'the value is not UTF-8' });
    expect(state.kv.size).toBe(0);
    expect(decodeEntry(encodeEntry({ op: 'kv.delete', key: 'x' }))).toMatchObject({ header: { op: 'kv.delete', key: 'x' } });
  });

  it('round-trips its snapshot: values, sessions, members and all, byte for byte', () => {
    const { state, apply } = replica();
    apply({ op: 'kv.put', key: 'a', c: 'c1', k: 'k1' }, 'x'.repeat(1000));
    apply({ op: 'kv.put', key: 'b\n"quoted"' }, 'line\nbreak');
    apply({ op: 'member.put', id: 'n4', peerUrl: 'ws://10.0.0.4:7001', clientUrl: 'http://10.0.0.4:7101' });
    apply({ op: 'member.remove', id: 'n2' });
    const bytes = state.snapshot();
    const restored = new ServerStateMachine({ kind: 'kv' });
    restored.restore(bytes);
    expect(restored.snapshot()).toEqual(bytes);
    expect(restored.kv.get('b\n"quoted"')).toEqual({ value: 'line\nbreak', index: 2 });
    expect(restored.appliedIndex).toBe(4);
    expect([...restored.members]).toEqual([['n4', { peerUrl: 'ws://10.0.0.4:7001', clientUrl: 'http://10.0.0.4:7101' }]]);
    expect([...restored.removed]).toEqual(['n2']);
    // The restored sessions still answer a retry with the first outcome.
    expect(restored.apply({ index: 5, term: 2, data: encodeEntry({ op: 'kv.put', key: 'a', c: 'c1', k: 'k1' }, encoder.encode('x'.repeat(1000))) })).toMatchObject({ index: 1, duplicate: true });
  });

  it('refuses a corrupt snapshot and keeps its state', () => {
    const { state, apply } = replica();
    apply({ op: 'kv.put', key: 'a' }, '1');
    const bytes = state.snapshot();
    const target = replica();
    target.apply({ op: 'kv.put', key: 'mine' }, 'kept');
    const before = target.state.snapshot();
    for (const corrupt of [bytes.subarray(0, bytes.length - 3), Uint8Array.of(0, 0, 0, 1, 0x7b), new Uint8Array(0), encoder.encode('garbage!')]) {
      expect(() => target.state.restore(corrupt)).toThrow(ServerSnapshotError);
      expect(target.state.snapshot()).toEqual(before);
    }
    expect(() => new ServerStateMachine({ kind: 'market' }).restore(bytes)).toThrow(/the snapshot is of a kv server, this one runs market/);
  });
});

describe('the market state machine', () => {
  it('applies signed transactions through the market, and answers a retried key with its first receipt', () => {
    const state = new ServerStateMachine({ kind: 'market' });
    const g1 = marketClient({ id: 'g1', keys: generateParticipantKeys() });
    const register = encodeTransactions(g1.register({ kind: 'generation', renewable: true }));
    const first = state.apply({ index: 1, term: 1, data: encodeEntry({ op: 'market', c: 'gw', k: 'reg' }, register) });
    expect(first.outcome).toMatchObject({ ok: true, value: { block: { height: 1 }, receipt: { type: 'registerNode', signer: 'g1' } } });
    const again = state.apply({ index: 2, term: 1, data: encodeEntry({ op: 'market', c: 'gw', k: 'reg' }, register) });
    expect(again).toMatchObject({ index: 1, duplicate: true });
    expect(again.outcome).toEqual(first.outcome);
    // Without a key, the replay reaches the market, which refuses it.
    const replay = state.apply({ index: 3, term: 1, data: encodeEntry({ op: 'market' }, register) });
    expect(replay.outcome).toMatchObject({ ok: false, code: 'REJECTED', reason: 'NODE_ALREADY_REGISTERED' });
    expect(state.market?.ledgerHead()).toMatchObject({ height: 1, index: 1 });
  });

  it('replicates the scoring strategy in force and round-trips it with the market in its snapshot', () => {
    const state = new ServerStateMachine({ kind: 'market' });
    const changes: string[] = [];
    state.on('scoringChange', (selection) => changes.push(`${selection.name}@${selection.version}`));
    expect(state.scoring).toEqual({ name: 'paper', version: '1' });
    state.apply({ index: 1, term: 1, data: encodeEntry({ op: 'scoring.set', name: 'green-first', version: '2', params: { floor: 5 } }) });
    expect(state.scoring).toEqual({ name: 'green-first', version: '2', params: { floor: 5 } });
    expect(changes).toEqual(['green-first@2']);
    const copy = new ServerStateMachine({ kind: 'market' });
    copy.restore(state.snapshot());
    expect(copy.scoring).toEqual(state.scoring);
    expect(copy.snapshot()).toEqual(state.snapshot());
    // A KV cluster has no strategy.
    const kv = new ServerStateMachine({ kind: 'kv' });
    expect(kv.apply({ index: 1, term: 1, data: encodeEntry({ op: 'scoring.set', name: 'x', version: '1' }) }).outcome).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
  });
});
