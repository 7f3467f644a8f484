import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkOperations } from './checker.js';
import { type KvInput, type KvOutput, kvModel } from './kv.js';
import { casRegisterModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './register.js';
import type { Operation } from './types.js';

type RegisterOp = Operation<RegisterInput, RegisterOutput>;

const registerValue = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 }));
const registerInput: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant({ kind: 'read' as const }),
  registerValue.map((value) => ({ kind: 'write' as const, value })),
  fc.tuple(registerValue, registerValue).map(([expected, value]) => ({ kind: 'cas' as const, expected, value })),
);

/** Per operation: its input, how far its interval reaches either side of its effect, and whether its client gave up. */
const plannedOperation = <Input>(input: fc.Arbitrary<Input>) =>
  fc.record({ input, before: fc.integer({ min: 0, max: 35 }), after: fc.integer({ min: 0, max: 35 }), indefinite: fc.boolean() });

/**
 * Runs the operations one after another on a real object (`execute`; operation i takes effect
 * at time 10 i), then widens each into a random interval around that instant: a history that is
 * linearizable by construction. Operations marked indefinite lose their completion (but did
 * take effect).
 */
function recordExecution<Input, Output>(
  execute: (input: Input) => Output,
  plan: { input: Input; before: number; after: number; indefinite: boolean }[],
  indefiniteAllowed: (input: Input) => boolean,
): Operation<Input, Output>[] {
  return plan.map(({ input, before, after, indefinite }, i) => {
    const output = execute(input);
    const effect = 10 * i;
    const pending = indefinite && indefiniteAllowed(input);
    return { clientId: i, input, call: effect - before, output: pending ? undefined : output, return: pending ? undefined : effect + after };
  });
}

/** A plain register, the real object the register histories are recorded from. */
function register(): (input: RegisterInput) => RegisterOutput {
  let value: RegisterValue = null;
  return (input) => {
    if (input.kind === 'read') return { kind: 'read', value };
    if (input.kind === 'write') {
      value = input.value;
      return { kind: 'write' };
    }
    if (value !== input.expected) return { kind: 'cas', swapped: false };
    value = input.value;
    return { kind: 'cas', swapped: true };
  };
}

/** A plain multi-key store, the real object the key-value histories are recorded from. */
function store(): (input: KvInput) => KvOutput {
  const values = new Map<string, string>();
  return (input) => {
    const current = values.get(input.key) ?? '';
    switch (input.kind) {
      case 'get':
        return { kind: 'get', value: current };
      case 'put':
        values.set(input.key, input.value);
        return { kind: 'put' };
      case 'append':
        values.set(input.key, current + input.value);
        return { kind: 'append' };
      case 'cas':
        if (current !== input.expected) return { kind: 'cas', swapped: false };
        values.set(input.key, input.value);
        return { kind: 'cas', swapped: true };
    }
  };
}

/** Sets one read's result to a value no operation ever writes. */
function withImpossibleRead(history: RegisterOp[], readIndex: number): RegisterOp[] {
  const reads = history.flatMap((op, i) => (op.input.kind === 'read' && op.output !== undefined ? [i] : []));
  const target = reads[readIndex % reads.length]!;
  return history.map((op, i) => (i === target ? { ...op, output: { kind: 'read', value: 'never written' } } : op));
}

describe('histories recorded from a real sequential execution', () => {
  const plan = fc.array(plannedOperation(registerInput), { minLength: 1, maxLength: 40 });
  // A final read that completes, so there is always a read to corrupt.
  const withFinalRead = plan.map((ops) => [...ops, { input: { kind: 'read' as const }, before: 5, after: 5, indefinite: false }]);

  it('are linearizable, in any order and with some completions lost', () => {
    fc.assert(
      fc.property(withFinalRead, fc.integer(), (ops, seed) => {
        const history = recordExecution(register(), ops, () => true);
        const shuffled = [...history].sort((a, b) => ((a.clientId * 7919 + seed) % 31) - ((b.clientId * 7919 + seed) % 31));
        expect(checkOperations(casRegisterModel(), shuffled).result).toBe('ok');
      }),
      { numRuns: 150 },
    );
  });

  it('are not linearizable once a read returns a value never written', () => {
    fc.assert(
      fc.property(withFinalRead, fc.nat(), (ops, readIndex) => {
        const history = withImpossibleRead(recordExecution(register(), ops, () => true), readIndex);
        const result = checkOperations(casRegisterModel(), history);
        expect(result.result).toBe('illegal');
        expect(result.failingDescription).toBe('read() -> "never written"');
      }),
      { numRuns: 150 },
    );
  });

  it('hold for a key-value store over several keys', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const value = fc.constantFrom('', 'x', 'y');
    const kvInput: fc.Arbitrary<KvInput> = fc.oneof(
      key.map((k) => ({ kind: 'get' as const, key: k })),
      fc.tuple(key, value).map(([k, v]) => ({ kind: 'put' as const, key: k, value: v })),
      fc.tuple(key, value).map(([k, v]) => ({ kind: 'append' as const, key: k, value: v })),
      fc.tuple(key, value, value).map(([k, e, v]) => ({ kind: 'cas' as const, key: k, expected: e, value: v })),
    );
    fc.assert(
      fc.property(fc.array(plannedOperation(kvInput), { minLength: 1, maxLength: 60 }), (ops) => {
        const history = recordExecution(store(), ops, () => true);
        expect(checkOperations(kvModel(), history).result).toBe('ok');
      }),
      { numRuns: 100 },
    );
  });
});

/**
 * The definition itself, for small histories: some subset of the indefinite operations and all
 * completed ones, in some order that respects real time, replay on the model with their outputs.
 */
function bruteForceLinearizable(history: RegisterOp[]): boolean {
  const model = casRegisterModel();
  const n = history.length;
  const mustPrecede = (a: RegisterOp, b: RegisterOp) => a.return !== undefined && a.return < b.call;
  const search = (done: boolean[], state: RegisterValue): boolean => {
    if (history.every((op, i) => done[i] || op.return === undefined)) return true;
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      const op = history[i]!;
      // i may go next only if every operation that must precede it is already placed.
      if (history.some((other, j) => !done[j] && j !== i && mustPrecede(other, op))) continue;
      const stepped = model.step(state, op.input, op.output);
      if (!stepped.ok) continue;
      done[i] = true;
      const found = search(done, stepped.state);
      done[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(new Array(n).fill(false), model.init());
}

describe('random small histories', () => {
  it('get the verdict of a brute-force search of every order', () => {
    const op = fc
      .record({
        clientId: fc.nat(4),
        input: registerInput,
        call: fc.integer({ min: 0, max: 20 }),
        length: fc.integer({ min: 0, max: 12 }),
        indefinite: fc.boolean(),
        readValue: registerValue,
        swapped: fc.boolean(),
      })
      .map(({ clientId, input, call, length, indefinite, readValue, swapped }): RegisterOp => {
        const output: RegisterOutput =
          input.kind === 'read' ? { kind: 'read', value: readValue } : input.kind === 'write' ? { kind: 'write' } : { kind: 'cas', swapped };
        return indefinite && input.kind !== 'read'
          ? { clientId, input, call, output: undefined, return: undefined }
          : { clientId, input, call, output, return: call + length };
      });
    let illegal = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 7 }), (history) => {
        const expected = bruteForceLinearizable(history);
        if (!expected) illegal++;
        expect(checkOperations(casRegisterModel(), history).result).toBe(expected ? 'ok' : 'illegal');
      }),
      { numRuns: 400 },
    );
    // The generator must exercise both verdicts for the comparison to mean anything.
    expect(illegal).toBeGreaterThan(40);
    expect(illegal).toBeLessThan(360);
  });
});
