import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { checkOperations } from './checker.js';
import { type KvInput, type KvOutput, kvModel } from './kv.js';
import { historyRecorder } from './recorder.js';

describe('historyRecorder', () => {
  it('records completed and unfinished operations in invocation order', () => {
    const recorder = historyRecorder<KvInput, KvOutput>();
    const put = recorder.invoke(1, { kind: 'put', key: 'x', value: 'a' }, 10);
    const get = recorder.invoke(2, { kind: 'get', key: 'x' }, 12);
    recorder.complete(get, { kind: 'get', value: 'a' }, 15);
    expect(recorder.history()).toEqual([
      { clientId: 1, input: { kind: 'put', key: 'x', value: 'a' }, call: 10, output: undefined, return: undefined },
      { clientId: 2, input: { kind: 'get', key: 'x' }, call: 12, output: { kind: 'get', value: 'a' }, return: 15 },
    ]);
    // The unfinished put is indefinite: it must have taken effect for the get to see 'a'.
    expect(checkOperations(kvModel(), recorder.history()).result).toBe('ok');
    recorder.complete(put, { kind: 'put' }, 20);
    expect(recorder.history()[0]!.return).toBe(20);
  });

  it('leaves discarded operations out', () => {
    const recorder = historyRecorder<KvInput, KvOutput>();
    const refused = recorder.invoke(1, { kind: 'put', key: 'x', value: 'a' }, 0);
    recorder.discard(refused);
    const get = recorder.invoke(2, { kind: 'get', key: 'x' }, 1);
    recorder.complete(get, { kind: 'get', value: 'a' }, 2);
    expect(recorder.history()).toHaveLength(1);
    // Without the put, nothing wrote 'a'.
    expect(checkOperations(kvModel(), recorder.history()).result).toBe('illegal');
  });

  it('rejects impossible completions without changing the history', () => {
    const recorder = historyRecorder<KvInput, KvOutput>();
    const get = recorder.invoke(0, { kind: 'get', key: 'x' }, 5);
    const before = recorder.history();
    expect(() => recorder.complete(get, { kind: 'get', value: '' }, 4)).toThrow(InvalidArgumentError);
    expect(() => recorder.complete(99, { kind: 'get', value: '' }, 6)).toThrow(/no such operation/);
    expect(() => recorder.invoke(0, { kind: 'get', key: 'x' }, Number.NaN)).toThrow(/finite/);
    expect(recorder.history()).toEqual(before);
    recorder.complete(get, { kind: 'get', value: '' }, 6);
    expect(() => recorder.complete(get, { kind: 'get', value: '' }, 7)).toThrow(/already completed/);
    expect(() => recorder.discard(get)).toThrow(/already completed/);
    expect(recorder.history()[0]!.return).toBe(6);
  });
});
