import { InvalidArgumentError } from '@greenraft/consensus';
import type { Model, Operation } from './types.js';

/** An operation on a key-value store of strings. */
export type KvInput =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'append'; key: string; value: string }
  /** Sets `key` to `value` if it holds `expected` (an absent key holds `""`). */
  | { kind: 'cas'; key: string; expected: string; value: string };

/** What a key-value operation returned. */
export type KvOutput =
  | { kind: 'get'; value: string }
  | { kind: 'put' }
  | { kind: 'append' }
  /** `swapped: false` is a definite outcome: the key did not hold `expected`. */
  | { kind: 'cas'; swapped: boolean };

/**
 * The sequential specification of a key-value store whose absent keys read as `""`, with get,
 * put, append and compare-and-set. Keys are independent, so the model partitions a history per
 * key and its state is the value of one key.
 *
 * @returns a model for {@link checkOperations}; a failure names its key in `failingKey`.
 * @example
 * ```ts
 * import { checkOperations, kvModel } from '@greenraft/linearizability';
 *
 * const result = checkOperations(kvModel(), [
 *   { clientId: 0, input: { kind: 'put', key: 'a', value: '1' }, call: 0, output: { kind: 'put' }, return: 1 },
 *   { clientId: 1, input: { kind: 'get', key: 'b' }, call: 2, output: { kind: 'get', value: '' }, return: 3 },
 *   { clientId: 1, input: { kind: 'get', key: 'a' }, call: 4, output: { kind: 'get', value: '' }, return: 5 },
 * ]);
 * console.log(result.result, result.failingKey); // 'illegal' 'a'
 * ```
 */
export function kvModel(): Model<string, KvInput, KvOutput> {
  return {
    init: () => '',
    step(value, input, output) {
      if (output !== undefined && output.kind !== input.kind) {
        throw new InvalidArgumentError(`a ${input.kind} operation cannot return a ${output.kind} result`);
      }
      switch (input.kind) {
        case 'get':
          return { ok: output === undefined || (output as { value: string }).value === value, state: value };
        case 'put':
          return { ok: true, state: input.value };
        case 'append':
          return { ok: true, state: value + input.value };
        case 'cas': {
          const holdsExpected = value === input.expected;
          if (output === undefined) return { ok: true, state: holdsExpected ? input.value : value };
          const swapped = (output as { swapped: boolean }).swapped;
          return { ok: swapped === holdsExpected, state: swapped ? input.value : value };
        }
      }
    },
    hash: (value) => value,
    partition: (history) => partitionByKey(history),
    partitionName: (part) => part[0]?.input.key ?? '',
    describe: (input, output) => describeKvOperation(input, output),
  };
}

function partitionByKey(history: Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[][] {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of history) {
    const part = byKey.get(op.input.key);
    if (part) part.push(op);
    else byKey.set(op.input.key, [op]);
  }
  return [...byKey.values()];
}

function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const key = JSON.stringify(input.key);
  const call =
    input.kind === 'get'
      ? `get(${key})`
      : input.kind === 'cas'
        ? `cas(${key}, ${JSON.stringify(input.expected)} -> ${JSON.stringify(input.value)})`
        : `${input.kind}(${key}, ${JSON.stringify(input.value)})`;
  if (output === undefined) return `${call} -> ?`;
  if (output.kind === 'get') return `${call} -> ${JSON.stringify(output.value)}`;
  if (output.kind === 'cas') return `${call} -> ${output.swapped ? 'ok' : 'failed'}`;
  return `${call} -> ok`;
}
