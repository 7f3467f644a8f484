// The @packageDocumentation example of index.ts and the README, run as written.
import { expect, it, vi } from 'vitest';
import { type KvInput, type KvOutput, checkOperations, historyRecorder, kvModel } from './index.js';

it('runs the package example and prints what its comments say', () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args));
  try {
    // Two clients, one key: a put and a get that overlap in time, so the get may see the put.
    const recorder = historyRecorder<KvInput, KvOutput>();
    const put = recorder.invoke(1, { kind: 'put', key: 'meter-7', value: '12.5' }, 0);
    const get = recorder.invoke(2, { kind: 'get', key: 'meter-7' }, 1);
    recorder.complete(get, { kind: 'get', value: '12.5' }, 2);
    recorder.complete(put, { kind: 'put' }, 3);
    console.log(checkOperations(kvModel(), recorder.history()).result);

    // A get that starts after the put returned must see it: this history is not linearizable.
    const late = historyRecorder<KvInput, KvOutput>();
    late.complete(late.invoke(1, { kind: 'put', key: 'meter-7', value: '12.5' }, 0), { kind: 'put' }, 1);
    late.complete(late.invoke(2, { kind: 'get', key: 'meter-7' }, 2), { kind: 'get', value: '' }, 3);
    const verdict = checkOperations(kvModel(), late.history());
    console.log(verdict.result, verdict.failingKey);
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([['ok'], ['illegal', 'meter-7']]);
});
