import type { AppendRequest } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { cloneMessage } from './clone.js';

describe('cloneMessage', () => {
  it('copies a Raft message, sharing no object with it, bytes included', () => {
    const message: AppendRequest = {
      type: 'appendRequest',
      from: 'a',
      to: 'b',
      term: 3,
      prevLogIndex: 9,
      prevLogTerm: 3,
      commitIndex: 9,
      entries: [{ type: 'normal', term: 3, index: 10, data: new TextEncoder().encode('meter-7: 12.5 kWh') }],
    };
    const copy = cloneMessage(message);
    expect(copy).toEqual(message);
    expect(copy).not.toBe(message);
    expect(copy.entries).not.toBe(message.entries);
    expect(copy.entries[0]).not.toBe(message.entries[0]);
    const [original, copied] = [message.entries[0]!, copy.entries[0]!];
    if (original.type !== 'normal' || copied.type !== 'normal') throw new Error('a normal entry');
    expect(copied.data).toBeInstanceOf(Uint8Array);
    expect(copied.data.buffer).not.toBe(original.data.buffer);
    original.data[0] = 0;
    expect(copied.data[0]).toBe('m'.charCodeAt(0));
  });

  it('copies the data of many entries into one new buffer, each entry a view of its own bytes', () => {
    const encode = (text: string) => new TextEncoder().encode(text);
    const shared = encode('xxmeter-2yy');
    const message: AppendRequest = {
      type: 'appendRequest',
      from: 'a',
      to: 'b',
      term: 3,
      prevLogIndex: 9,
      prevLogTerm: 3,
      commitIndex: 9,
      entries: [
        { type: 'normal', term: 3, index: 10, data: encode('meter-1') },
        { type: 'normal', term: 3, index: 11, data: shared.subarray(2, 9) },
        { type: 'config', term: 3, index: 12, config: { incoming: { voters: new Map([['a', 2]]), learners: new Set(['l']) } } },
        { type: 'normal', term: 3, index: 13, data: new Uint8Array(0) },
      ],
    };
    const copy = cloneMessage(message);
    expect(copy).toEqual(message);
    expect(copy).toEqual(structuredClone(message));
    const data = copy.entries.flatMap((entry) => (entry.type === 'normal' ? [entry.data] : []));
    expect(data.map((bytes) => new TextDecoder().decode(bytes))).toEqual(['meter-1', 'meter-2', '']);
    // One allocation for every entry's bytes, none of them the sender's.
    expect(new Set(data.map((bytes) => bytes.buffer)).size).toBe(1);
    expect(data[0]!.buffer).not.toBe(shared.buffer);
    expect(data[0]!.buffer.byteLength).toBe(14);
    for (const [i, entry] of copy.entries.entries()) expect(entry).not.toBe(message.entries[i]);
    const config = copy.entries[2]!;
    if (config.type !== 'config') throw new Error('a config entry');
    expect(config.config.incoming.voters).not.toBe((message.entries[2] as typeof config).config.incoming.voters);
    shared.fill(0);
    (message.entries[0] as { data: Uint8Array }).data.fill(0);
    expect(data.map((bytes) => new TextDecoder().decode(bytes))).toEqual(['meter-1', 'meter-2', '']);
    // An entry of any other shape is copied field by field, extra fields included.
    const odd = { type: 'normal', term: 3, index: 14, data: encode('odd'), note: { by: 'a' } };
    const withOdd = cloneMessage({ ...message, entries: [message.entries[0]!, odd] });
    expect(withOdd.entries[1]).toEqual(odd);
    expect((withOdd.entries[1] as typeof odd).note).not.toBe(odd.note);
    // What cannot cross a wire is still refused inside an entry.
    expect(() => cloneMessage({ ...message, entries: [...message.entries, { type: 'normal', data: () => 1 }] })).toThrow();
  });

  it('copies maps, sets, undefined fields and null-prototype objects as structuredClone does', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: 1 });
    const value = { voters: new Map([['a', 3]]), learners: new Set(['l']), hint: undefined, bare };
    const copy = cloneMessage(value);
    expect(copy).toEqual(structuredClone(value));
    expect(copy.voters).not.toBe(value.voters);
    expect(copy.learners).not.toBe(value.learners);
    expect('hint' in copy).toBe(true);
    expect(Object.getPrototypeOf(copy.bare)).toBe(Object.prototype);
  });

  it('copies only the bytes of a view, and turns a Buffer into a Uint8Array', () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const copy = cloneMessage({ view: backing.subarray(2, 4), buffer: Buffer.from([7, 8]) });
    expect([...copy.view]).toEqual([3, 4]);
    expect(copy.view.byteOffset).toBe(0);
    expect(copy.buffer.constructor).toBe(Uint8Array);
    expect([...copy.buffer]).toEqual([7, 8]);
  });

  it('hands what it does not know to structuredClone: dates, cycles, other typed arrays', () => {
    const when = new Date(1_700_000_000_000);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const copy = cloneMessage({ when, cyclic, wide: new Float64Array([0.5]) });
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(when);
    expect(copy.when.getTime()).toBe(when.getTime());
    expect((copy.cyclic as { name: string }).name).toBe('loop');
    expect(copy.cyclic).not.toBe(cyclic);
    expect([...copy.wide]).toEqual([0.5]);
  });

  it('throws, as structuredClone does, on what cannot cross a wire', () => {
    expect(() => cloneMessage({ type: 'heartbeat', callback: () => 1 })).toThrow();
    expect(() => cloneMessage({ nested: [{ id: Symbol('x') }] })).toThrow();
    class WithPrivate {
      #secret = 1;
      reveal() {
        return this.#secret;
      }
    }
    // A class instance loses its prototype through structuredClone, exactly as before.
    expect(Object.getPrototypeOf(cloneMessage({ instance: new WithPrivate() }).instance)).toBe(Object.prototype);
  });
});
