import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { checkOperations } from './checker.js';
import { kvModel } from './kv.js';
import { casRegisterModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './register.js';
import type { Model, Operation } from './types.js';

type RegisterOp = Operation<RegisterInput, RegisterOutput>;

const write = (clientId: number, value: RegisterValue, call: number, ret?: number): RegisterOp => ({
  clientId,
  input: { kind: 'write', value },
  call,
  output: ret === undefined ? undefined : { kind: 'write' },
  return: ret,
});
const read = (clientId: number, value: RegisterValue, call: number, ret: number): RegisterOp => ({
  clientId,
  input: { kind: 'read' },
  call,
  output: { kind: 'read', value },
  return: ret,
});
const cas = (clientId: number, expected: RegisterValue, value: RegisterValue, swapped: boolean | undefined, call: number, ret?: number): RegisterOp => ({
  clientId,
  input: { kind: 'cas', expected, value },
  call,
  output: swapped === undefined ? undefined : { kind: 'cas', swapped },
  return: ret,
});

const verdict = (history: RegisterOp[]) => checkOperations(casRegisterModel(), history).result;

describe('checkOperations on textbook register histories', () => {
  it('accepts the empty history and a sequential one', () => {
    expect(verdict([])).toBe('ok');
    expect(verdict([read(0, null, 0, 1), write(0, 1, 2, 3), read(1, 1, 4, 5), write(1, 2, 6, 7), read(0, 2, 8, 9)])).toBe('ok');
  });

  it('rejects a sequential read of a stale value', () => {
    expect(verdict([write(0, 1, 0, 1), write(0, 2, 2, 3), read(1, 1, 4, 5)])).toBe('illegal');
  });

  it('lets a read concurrent with a write see either value', () => {
    expect(verdict([write(0, 1, 0, 10), read(1, null, 1, 2)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 10), read(1, 1, 1, 2)])).toBe('ok');
  });

  it('rejects a new-then-old inversion of two reads during one write', () => {
    // Herlihy & Wing: once some read returned the new value, a later read may not return the old one.
    expect(verdict([write(0, 1, 0, 10), read(1, 1, 1, 2), read(2, null, 3, 4)])).toBe('illegal');
    // The same reads overlapping each other are fine: they may be ordered old-then-new.
    expect(verdict([write(0, 1, 0, 10), read(1, 1, 1, 4), read(2, null, 2, 5)])).toBe('ok');
  });

  it('treats intervals that touch as concurrent', () => {
    expect(verdict([write(0, 1, 0, 5), read(1, null, 5, 6)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 5), read(1, null, 6, 7)])).toBe('illegal');
  });

  it('needs the order of concurrent writes to explain every read', () => {
    // Writes of 1 and 2 overlap; reads after both see 2 then 1: no single order explains that.
    expect(verdict([write(0, 1, 0, 10), write(1, 2, 0, 10), read(2, 2, 11, 12), read(2, 1, 13, 14)])).toBe('illegal');
    expect(verdict([write(0, 1, 0, 10), write(1, 2, 0, 10), read(2, 1, 11, 12), read(3, 1, 13, 14)])).toBe('ok');
  });
});

describe('indefinite operations', () => {
  it('assumes a pending write happened when a read saw its value', () => {
    expect(verdict([write(0, 7, 0), read(1, 7, 5, 6)])).toBe('ok');
  });

  it('assumes a pending write never happened when reads never see it', () => {
    expect(verdict([write(0, 1, 0, 1), write(1, 7, 2), read(2, 1, 5, 6), read(2, 1, 7, 8)])).toBe('ok');
  });

  it('lets a pending write take effect late, after reads of the older value', () => {
    expect(verdict([write(0, 7, 0), read(1, null, 1, 2), read(1, 7, 3, 4)])).toBe('ok');
  });

  it('still forbids flickering: a pending write cannot take effect twice', () => {
    expect(verdict([write(0, 7, 0), read(1, 7, 1, 2), read(1, null, 3, 4), read(1, 7, 5, 6)])).toBe('illegal');
  });

  it('may never take effect, even where the model would refuse it at the end', () => {
    // A one-shot latch: setting it twice is impossible, so the pending second set never happened.
    const latch: Model<boolean, 'set', 'done'> = {
      init: () => false,
      step: (isSet) => ({ ok: !isSet, state: true }),
      hash: String,
    };
    const set = (call: number, ret?: number): Operation<'set', 'done'> => ({
      clientId: call,
      input: 'set',
      call,
      output: ret === undefined ? undefined : 'done',
      return: ret,
    });
    expect(checkOperations(latch, [set(0, 1), set(2)]).result).toBe('ok');
    expect(checkOperations(latch, [set(0, 1), set(2, 3)]).result).toBe('illegal');
  });

  it('cannot take effect before it was invoked', () => {
    expect(verdict([read(1, 7, 0, 1), write(0, 7, 2)])).toBe('illegal');
  });

  it('decides a pending cas by the state it meets', () => {
    // cas(nil -> 3) pending: it may succeed, explaining the read of 3.
    expect(verdict([cas(0, null, 3, undefined, 0), read(1, 3, 1, 2)])).toBe('ok');
    // cas(1 -> 3) pending on a register that never holds 1 cannot produce 3.
    expect(verdict([cas(0, 1, 3, undefined, 0), read(1, 3, 1, 2)])).toBe('illegal');
  });
});

describe('compare-and-set', () => {
  it('accepts a cas that swapped when the register held the expected value', () => {
    expect(verdict([write(0, 1, 0, 1), cas(1, 1, 2, true, 2, 3), read(0, 2, 4, 5)])).toBe('ok');
  });

  it('rejects a cas that swapped when the register held something else', () => {
    expect(verdict([write(0, 1, 0, 1), cas(1, 5, 2, true, 2, 3)])).toBe('illegal');
  });

  it('treats a failed cas as a definite outcome: the value was not the expected one', () => {
    expect(verdict([write(0, 1, 0, 1), cas(1, 1, 2, false, 2, 3)])).toBe('illegal');
    expect(verdict([write(0, 1, 0, 1), cas(1, 4, 2, false, 2, 3), read(0, 1, 4, 5)])).toBe('ok');
  });

  it('orders a failed cas against a concurrent write', () => {
    // The cas(nil -> 2) failed, so it came after the concurrent write of 1.
    expect(verdict([write(0, 1, 0, 10), cas(1, null, 2, false, 1, 2), read(2, 1, 3, 4)])).toBe('ok');
    expect(verdict([write(0, 1, 0, 10), cas(1, null, 2, false, 1, 2), read(2, null, 3, 4)])).toBe('illegal');
  });
});

describe('failure reports', () => {
  it('gives the smallest failing prefix and the operation that completes it', () => {
    const history = [write(0, 1, 0, 10), read(1, 1, 2, 3), read(2, null, 4, 5), read(3, 1, 6, 7)];
    const result = checkOperations(casRegisterModel(), history);
    expect(result.result).toBe('illegal');
    expect(result.smallestFailingPrefix).toBe(5);
    expect(result.failingOperation).toBe(history[2]);
    expect(result.failingDescription).toBe('read() -> nil');
    expect(result.partitions).toBe(1);
    expect(result.operations).toBe(4);
  });

  it('can stop at the verdict without narrowing the prefix', () => {
    const result = checkOperations(casRegisterModel(), [write(0, 1, 0, 1), read(1, 2, 2, 3)], { findSmallestFailingPrefix: false });
    expect(result.result).toBe('illegal');
    expect(result.smallestFailingPrefix).toBeUndefined();
    expect(result.failingPartition).toBe(0);
  });

  it('names the earliest failing key of a partitioned history', () => {
    const put = (key: string, value: string, call: number, ret: number) => ({
      clientId: 0,
      input: { kind: 'put' as const, key, value },
      call,
      output: { kind: 'put' as const },
      return: ret,
    });
    const get = (key: string, value: string, call: number, ret: number) => ({
      clientId: 1,
      input: { kind: 'get' as const, key },
      call,
      output: { kind: 'get' as const, value },
      return: ret,
    });
    const result = checkOperations(kvModel(), [
      put('a', 'x', 0, 1),
      put('b', 'y', 2, 3),
      get('b', 'stale', 20, 21), // key b fails at time 21
      get('a', '', 10, 11), // key a fails earlier, at time 11
      get('c', '', 4, 5),
    ]);
    expect(result.result).toBe('illegal');
    expect(result.partitions).toBe(3);
    expect(result.failingKey).toBe('a');
    expect(result.smallestFailingPrefix).toBe(8); // every event up to time 11
    expect(result.failingDescription).toBe('get("a") -> ""');
  });
});

describe('models without a hash', () => {
  // A counter whose state is an object: memoisation must compare states with `equal`.
  const counter = (withEqual: boolean): Model<{ count: number }, 'inc' | 'read', number | null> => ({
    init: () => ({ count: 0 }),
    step: (state, input, output) =>
      input === 'inc' ? { ok: true, state: { count: state.count + 1 } } : { ok: output === undefined || output === state.count, state },
    ...(withEqual ? { equal: (a: { count: number }, b: { count: number }) => a.count === b.count } : {}),
  });
  const incs = (n: number): Operation<'inc' | 'read', number | null>[] =>
    Array.from({ length: n }, (_, i) => ({ clientId: i, input: 'inc' as const, call: 0, output: null, return: 100 }));

  it('checks with `equal`', () => {
    const model = counter(true);
    expect(checkOperations(model, [...incs(6), { clientId: 9, input: 'read', call: 101, output: 6, return: 102 }]).result).toBe('ok');
    expect(checkOperations(model, [...incs(6), { clientId: 9, input: 'read', call: 101, output: 5, return: 102 }]).result).toBe('illegal');
  });

  it('checks with neither `hash` nor `equal` (identity), just without sharing equal states', () => {
    const model = counter(false);
    expect(checkOperations(model, [...incs(5), { clientId: 9, input: 'read', call: 50, output: 3, return: 102 }]).result).toBe('ok');
    expect(checkOperations(model, [...incs(5), { clientId: 9, input: 'read', call: 101, output: 4, return: 102 }]).result).toBe('illegal');
  });
});

describe('limits and bad input', () => {
  it("answers 'unknown' when the time limit runs out", () => {
    // 30 overlapping writes and a read of a value none wrote: the search must try every subset
    // of writes before the read, about 2^30 configurations, so it cannot finish in 50 ms.
    const history = [...Array.from({ length: 30 }, (_, i) => write(i, i, 0, 100)), read(99, 'never written', 1, 99)];
    const result = checkOperations(casRegisterModel(), history, { timeoutMs: 50 });
    expect(result.result).toBe('unknown');
    expect(result.failingOperation).toBeUndefined();
  });

  it('rejects malformed operations with a typed error', () => {
    const model = casRegisterModel();
    expect(() => checkOperations(model, [read(0, 1, 5, 4)])).toThrow(InvalidArgumentError);
    expect(() => checkOperations(model, [read(0, 1, 5, 4)])).toThrow(/returns \(4\) before its call \(5\)/);
    expect(() => checkOperations(model, [{ ...read(0, 1, 0, 1), output: undefined }])).toThrow(/no output/);
    expect(() => checkOperations(model, [{ ...read(0, 1, 0, 1), return: undefined }])).toThrow(/output but no return/);
    expect(() => checkOperations(model, [read(0, 1, Number.NaN, 1)])).toThrow(/finite/);
    expect(() => checkOperations(model, [], { timeoutMs: -1 })).toThrow(InvalidArgumentError);
  });

  it('rejects an output of the wrong kind', () => {
    const mixed: RegisterOp = { clientId: 0, input: { kind: 'read' }, call: 0, output: { kind: 'write' }, return: 1 };
    expect(() => checkOperations(casRegisterModel(), [mixed])).toThrow(/a read operation cannot return a write result/);
  });
});
