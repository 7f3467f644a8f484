import { InvalidArgumentError } from '@greenraft/consensus';
import type { Model } from './types.js';

/** A value a register can hold; `null` is nil, the initial value. */
export type RegisterValue = string | number | null;

/** An operation on a compare-and-set register. */
export type RegisterInput =
  | { kind: 'read' }
  | { kind: 'write'; value: RegisterValue }
  /** Sets the register to `value` if it holds `expected`. */
  | { kind: 'cas'; expected: RegisterValue; value: RegisterValue };

/** What a register operation returned. */
export type RegisterOutput =
  | { kind: 'read'; value: RegisterValue }
  | { kind: 'write' }
  /** `swapped: false` is a definite outcome: the register did not hold `expected`. */
  | { kind: 'cas'; swapped: boolean };

/**
 * The sequential specification of a single compare-and-set register, initially nil (`null`):
 * the object of the Jepsen etcd tests.
 *
 * @returns a model for {@link checkOperations}.
 * @example
 * ```ts
 * import { checkOperations, casRegisterModel } from '@greenraft/linearizability';
 *
 * const result = checkOperations(casRegisterModel(), [
 *   { clientId: 0, input: { kind: 'cas', expected: null, value: 1 }, call: 0, output: { kind: 'cas', swapped: true }, return: 1 },
 *   { clientId: 1, input: { kind: 'read' }, call: 2, output: { kind: 'read', value: 1 }, return: 3 },
 * ]);
 * console.log(result.result); // 'ok'
 * ```
 */
export function casRegisterModel(): Model<RegisterValue, RegisterInput, RegisterOutput> {
  return {
    init: () => null,
    step(state, input, output) {
      if (output !== undefined && output.kind !== input.kind) {
        throw new InvalidArgumentError(`a ${input.kind} operation cannot return a ${output.kind} result`);
      }
      switch (input.kind) {
        case 'read':
          // An indefinite read constrains nothing.
          return { ok: output === undefined || (output as { value: RegisterValue }).value === state, state };
        case 'write':
          return { ok: true, state: input.value };
        case 'cas': {
          const holdsExpected = state === input.expected;
          // An indefinite cas that took effect swapped exactly when the register held `expected`.
          if (output === undefined) return { ok: true, state: holdsExpected ? input.value : state };
          const swapped = (output as { swapped: boolean }).swapped;
          return { ok: swapped === holdsExpected, state: swapped ? input.value : state };
        }
      }
    },
    hash: registerValueKey,
    describe: (input, output) => describeRegisterOperation(input, output),
  };
}

/** Tells numbers from strings (`1` and `'1'` are different values). */
function registerValueKey(value: RegisterValue): string {
  return value === null ? 'nil' : typeof value === 'number' ? `n${value}` : `s${value}`;
}

function formatValue(value: RegisterValue): string {
  return value === null ? 'nil' : typeof value === 'number' ? String(value) : JSON.stringify(value);
}

function describeRegisterOperation(input: RegisterInput, output: RegisterOutput | undefined): string {
  const call =
    input.kind === 'read'
      ? 'read()'
      : input.kind === 'write'
        ? `write(${formatValue(input.value)})`
        : `cas(${formatValue(input.expected)} -> ${formatValue(input.value)})`;
  if (output === undefined) return `${call} -> ?`;
  if (output.kind === 'read') return `${call} -> ${formatValue(output.value)}`;
  if (output.kind === 'cas') return `${call} -> ${output.swapped ? 'ok' : 'failed'}`;
  return `${call} -> ok`;
}
