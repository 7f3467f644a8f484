import { EdnSyntaxError, type EdnValue, isKeyword, readEdn, showEdn } from './edn.js';
import { HistoryParseError } from './errors.js';
import type { KvInput, KvOutput } from './kv.js';
import { InvocationPairing } from './pairing.js';
import type { Operation } from './types.js';

/**
 * Reads a key-value history written one EDN map per line, as Jepsen and porcupine record them,
 * into operations for {@link kvModel}. Operation times are line numbers.
 *
 * ```
 * {:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
 * {:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
 * {:process 3, :type :invoke, :f :get, :key "4", :value nil}
 * {:process 3, :type :ok, :f :get, :key "4", :value "x 0 1 y"}
 * ```
 *
 * `:f` is `:get`, `:put`, `:append` or `:cas` (value `["expected" "new"]`). `:type :fail` on a
 * cas means its compare failed (a definite outcome); on other operations it means the operation
 * did not take effect, and it is dropped. `:info` and invocations never completed are
 * indefinite. A get that returns nil read an absent key (`""`). Blank lines and `;` comments
 * are ignored.
 *
 * @param text - the history's contents.
 * @returns the operations in invocation order.
 * @throws {@link HistoryParseError} with the line number when a line is not such a map, a
 * completion has no matching invocation, a busy client invokes again, or no operation is found.
 *
 * @example
 * ```ts
 * import { checkOperations, kvModel, parseKvHistory } from '@greenraft/linearizability';
 *
 * const history = parseKvHistory([
 *   '{:process 0, :type :invoke, :f :put, :key "k", :value "a"}',
 *   '{:process 0, :type :ok, :f :put, :key "k", :value "a"}',
 *   '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
 *   '{:process 1, :type :ok, :f :get, :key "k", :value ""}',
 * ].join('\n'));
 * console.log(checkOperations(kvModel(), history).failingKey); // 'k': the get missed the put
 * ```
 */
export function parseKvHistory(text: string): Operation<KvInput, KvOutput>[] {
  if (typeof text !== 'string') throw new HistoryParseError(1, 'the history must be text');
  const pairing = new InvocationPairing<KvInput, KvOutput>();
  let events = 0;

  text.split(/\r?\n/).forEach((content, i) => {
    const line = i + 1;
    const trimmed = content.trim();
    if (trimmed === '' || trimmed.startsWith(';')) return;
    const event = readEvent(trimmed, line);
    events++;
    const { process, type, f, key, value } = event;

    if (type === 'invoke') {
      pairing.invoke(process, line, kvInput(f, key, value, line));
      return;
    }
    const completed = pairing.complete(process, line);
    const { op, invokedOn } = completed;
    if (op.input.kind !== f || op.input.key !== key) {
      throw new HistoryParseError(
        line,
        `process ${process} invoked :${op.input.kind} on key ${JSON.stringify(op.input.key)} (line ${invokedOn}) but completes :${f} on key ${JSON.stringify(key)}`,
      );
    }
    if (type === 'info') return;
    if (type === 'fail') {
      pairing.fail(completed, line);
      return;
    }
    op.return = line;
    if (op.input.kind === 'get') {
      if (value !== null && typeof value !== 'string') throw new HistoryParseError(line, `a get returns a string or nil, not ${showEdn(value)}`);
      op.output = { kind: 'get', value: value ?? '' };
      return;
    }
    if (JSON.stringify(kvInput(f, key, value, line)) !== JSON.stringify(op.input)) {
      throw new HistoryParseError(line, `the completion's value ${showEdn(value)} does not match the invocation of line ${invokedOn}`);
    }
    op.output = op.input.kind === 'cas' ? { kind: 'cas', swapped: true } : { kind: op.input.kind };
  });

  if (events === 0) throw new HistoryParseError(1, 'no operation found; expected lines such as {:process 0, :type :invoke, :f :get, :key "k", :value nil}');
  return pairing.result();
}

interface KvEvent {
  process: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: KvInput['kind'];
  key: string;
  value: EdnValue | undefined;
}

const EVENT_TYPES = new Set(['invoke', 'ok', 'fail', 'info']);
const FUNCTIONS = new Set(['get', 'put', 'append', 'cas']);

function readEvent(text: string, line: number): KvEvent {
  let map: EdnValue;
  try {
    map = readEdn(text);
  } catch (err) {
    if (err instanceof EdnSyntaxError) throw new HistoryParseError(line, `not an EDN map: ${err.message}`, { cause: err });
    throw err;
  }
  if (!(map instanceof Map)) throw new HistoryParseError(line, `expected a map such as {:process 0, :type :invoke, ...}, got ${showEdn(map)}`);
  const process = map.get('process');
  if (typeof process !== 'number' || process < 0) throw new HistoryParseError(line, `:process must be a non-negative integer, got ${showEdn(process)}`);
  const type = map.get('type');
  if (!isKeyword(type) || !EVENT_TYPES.has(type.keyword)) {
    throw new HistoryParseError(line, `:type must be :invoke, :ok, :fail or :info, got ${showEdn(type)}`);
  }
  const f = map.get('f');
  if (!isKeyword(f) || !FUNCTIONS.has(f.keyword)) throw new HistoryParseError(line, `:f must be :get, :put, :append or :cas, got ${showEdn(f)}`);
  const key = map.get('key');
  if (typeof key !== 'string' && typeof key !== 'number') throw new HistoryParseError(line, `:key must be a string or an integer, got ${showEdn(key)}`);
  return {
    process,
    type: type.keyword as KvEvent['type'],
    f: f.keyword as KvEvent['f'],
    key: String(key),
    value: map.get('value'),
  };
}

function kvInput(f: KvInput['kind'], key: string, value: EdnValue | undefined, line: number): KvInput {
  if (f === 'get') return { kind: 'get', key };
  if (f === 'cas') {
    if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
      throw new HistoryParseError(line, `a cas takes ["expected" "new"], not ${showEdn(value)}`);
    }
    return { kind: 'cas', key, expected: value[0], value: value[1] };
  }
  if (typeof value !== 'string') throw new HistoryParseError(line, `a ${f} takes a string value, not ${showEdn(value)}`);
  return { kind: f, key, value };
}
