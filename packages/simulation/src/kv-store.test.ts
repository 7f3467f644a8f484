import { describe, expect, it } from 'vitest';
import { decodeChainSnapshot } from './digest.js';
import { KvStore, decodeKvCommand, decodeStateSnapshot, encodeKvCommand, encodeStateSnapshot } from './kv-store.js';
import { kvModel } from '@greenraft/linearizability';

describe('KV commands in log entries', () => {
  it('round-trip through entry data', () => {
    for (const command of [
      { kind: 'put', key: 'k0.1', value: '2:17' },
      { kind: 'cas', key: 'k3.0', expected: '', value: '0:5' },
      { kind: 'cas', key: 'ключ', expected: '1:9', value: 'значение' },
    ] as const) {
      expect(decodeKvCommand(encodeKvCommand(command))).toEqual(command);
    }
  });

  it('leave anything else alone: the empty entry of a new leader, a probe payload, a truncated command', () => {
    expect(decodeKvCommand(new Uint8Array(0))).toBeUndefined();
    const probe = new Uint8Array(12);
    new DataView(probe.buffer).setFloat64(0, 42);
    expect(decodeKvCommand(probe)).toBeUndefined();
    const data = encodeKvCommand({ kind: 'cas', key: 'a', expected: 'b', value: 'c' });
    expect(decodeKvCommand(data.subarray(0, data.length - 4))).toBeUndefined();
  });
});

describe('KvStore', () => {
  it('answers as the KV model specifies: absent keys read "", cas swaps only on the expected value', () => {
    const store = new KvStore();
    expect(store.get('x')).toBe('');
    expect(store.apply({ kind: 'cas', key: 'x', expected: 'nope', value: 'a' })).toEqual({ kind: 'cas', swapped: false });
    expect(store.get('x')).toBe('');
    expect(store.apply({ kind: 'cas', key: 'x', expected: '', value: 'a' })).toEqual({ kind: 'cas', swapped: true });
    expect(store.apply({ kind: 'put', key: 'x', value: 'b' })).toEqual({ kind: 'put' });
    expect(store.get('x')).toBe('b');
    // The same sequence is legal in the model the checker uses.
    const model = kvModel();
    let state = model.init();
    for (const [input, output] of [
      [{ kind: 'cas', key: 'x', expected: 'nope', value: 'a' }, { kind: 'cas', swapped: false }],
      [{ kind: 'cas', key: 'x', expected: '', value: 'a' }, { kind: 'cas', swapped: true }],
      [{ kind: 'put', key: 'x', value: 'b' }, { kind: 'put' }],
      [{ kind: 'get', key: 'x' }, { kind: 'get', value: 'b' }],
    ] as const) {
      const step = model.step(state, input, output);
      expect(step.ok).toBe(true);
      state = step.state;
    }
  });

  it('snapshots to the chain digest followed by its keys, and restores from them', () => {
    const store = KvStore.from([
      ['b', '2'],
      ['a', '1'],
    ]);
    const data = encodeStateSnapshot(0xdeadbeef, store);
    expect(decodeChainSnapshot(data)).toBe(0xdeadbeef);
    const restored = decodeStateSnapshot(data);
    expect(restored?.chain).toBe(0xdeadbeef);
    expect(restored?.store.entries()).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    // A bare chain digest (4 bytes) is an empty store.
    expect(decodeStateSnapshot(new Uint8Array([0, 0, 0, 7]))?.store.entries()).toEqual([]);
    expect(decodeStateSnapshot(new Uint8Array([1, 2]))).toBeUndefined();
    expect(decodeStateSnapshot(new Uint8Array([0, 0, 0, 7, 123]))).toBeUndefined();
  });
});
