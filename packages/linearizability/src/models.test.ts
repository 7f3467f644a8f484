import { describe, expect, it } from 'vitest';
import { kvModel } from './kv.js';
import { casRegisterModel } from './register.js';

describe('casRegisterModel', () => {
  const model = casRegisterModel();

  it('starts at nil and applies reads, writes and cas', () => {
    expect(model.init()).toBeNull();
    expect(model.step(null, { kind: 'read' }, { kind: 'read', value: null })).toEqual({ ok: true, state: null });
    expect(model.step(null, { kind: 'read' }, { kind: 'read', value: 1 }).ok).toBe(false);
    expect(model.step(null, { kind: 'write', value: 4 }, { kind: 'write' })).toEqual({ ok: true, state: 4 });
    expect(model.step(4, { kind: 'cas', expected: 4, value: 5 }, { kind: 'cas', swapped: true })).toEqual({ ok: true, state: 5 });
    expect(model.step(4, { kind: 'cas', expected: 3, value: 5 }, { kind: 'cas', swapped: true }).ok).toBe(false);
    expect(model.step(4, { kind: 'cas', expected: 3, value: 5 }, { kind: 'cas', swapped: false })).toEqual({ ok: true, state: 4 });
    expect(model.step(4, { kind: 'cas', expected: 4, value: 5 }, { kind: 'cas', swapped: false }).ok).toBe(false);
  });

  it('accepts any result of an indefinite operation and applies its effect', () => {
    expect(model.step(2, { kind: 'read' }, undefined)).toEqual({ ok: true, state: 2 });
    expect(model.step(2, { kind: 'cas', expected: 2, value: 7 }, undefined)).toEqual({ ok: true, state: 7 });
    expect(model.step(2, { kind: 'cas', expected: 1, value: 7 }, undefined)).toEqual({ ok: true, state: 2 });
  });

  it('tells the number 1 from the string "1"', () => {
    expect(model.step(1, { kind: 'read' }, { kind: 'read', value: '1' }).ok).toBe(false);
    expect(model.hash!(1)).not.toBe(model.hash!('1'));
    expect(model.hash!(null)).not.toBe(model.hash!('nil'));
  });

  it('describes operations for reports', () => {
    expect(model.describe!({ kind: 'cas', expected: null, value: 'a' }, { kind: 'cas', swapped: false })).toBe('cas(nil -> "a") -> failed');
    expect(model.describe!({ kind: 'write', value: 3 }, undefined)).toBe('write(3) -> ?');
  });
});

describe('kvModel', () => {
  const model = kvModel();

  it('reads absent keys as "" and applies put, append and cas', () => {
    expect(model.init()).toBe('');
    expect(model.step('', { kind: 'get', key: 'k' }, { kind: 'get', value: '' }).ok).toBe(true);
    expect(model.step('ab', { kind: 'append', key: 'k', value: 'c' }, { kind: 'append' })).toEqual({ ok: true, state: 'abc' });
    expect(model.step('ab', { kind: 'put', key: 'k', value: 'z' }, { kind: 'put' })).toEqual({ ok: true, state: 'z' });
    expect(model.step('', { kind: 'cas', key: 'k', expected: '', value: 'v' }, { kind: 'cas', swapped: true })).toEqual({ ok: true, state: 'v' });
    expect(model.step('w', { kind: 'cas', key: 'k', expected: '', value: 'v' }, { kind: 'cas', swapped: true }).ok).toBe(false);
    expect(model.step('w', { kind: 'get', key: 'k' }, { kind: 'get', value: 'x' }).ok).toBe(false);
  });

  it('partitions a history per key and names each part by its key', () => {
    const op = (key: string, call: number) => ({ clientId: 0, input: { kind: 'get' as const, key }, call, output: undefined, return: undefined });
    const parts = model.partition!([op('a', 0), op('b', 1), op('a', 2)]);
    expect(parts.map((part) => part.map((o) => o.call))).toEqual([[0, 2], [1]]);
    expect(parts.map((part) => model.partitionName!(part))).toEqual(['a', 'b']);
  });
});
