/**
 * A linearizability checker for greenraft and anything else that records concurrent histories:
 * Wing and Gong's search with porcupine's memoisation and P-compositionality, the models it
 * checks histories against (a compare-and-set register and a key-value store, or your own
 * `Model`), a recorder of client histories, and readers for recorded Jepsen histories (the etcd
 * register test's logs and EDN key-value histories). A check that runs out of time says
 * `'unknown'`, never `'ok'`.
 *
 * @example
 * ```ts
 * import { checkOperations, historyRecorder, kvModel, type KvInput, type KvOutput } from '@greenraft/linearizability';
 *
 * // Two clients, one key: a put and a get that overlap in time, so the get may see the put.
 * const recorder = historyRecorder<KvInput, KvOutput>();
 * const put = recorder.invoke(1, { kind: 'put', key: 'meter-7', value: '12.5' }, 0);
 * const get = recorder.invoke(2, { kind: 'get', key: 'meter-7' }, 1);
 * recorder.complete(get, { kind: 'get', value: '12.5' }, 2);
 * recorder.complete(put, { kind: 'put' }, 3);
 * console.log(checkOperations(kvModel(), recorder.history()).result); // 'ok'
 *
 * // A get that starts after the put returned must see it: this history is not linearizable.
 * const late = historyRecorder<KvInput, KvOutput>();
 * late.complete(late.invoke(1, { kind: 'put', key: 'meter-7', value: '12.5' }, 0), { kind: 'put' }, 1);
 * late.complete(late.invoke(2, { kind: 'get', key: 'meter-7' }, 2), { kind: 'get', value: '' }, 3);
 * const verdict = checkOperations(kvModel(), late.history());
 * console.log(verdict.result, verdict.failingKey); // 'illegal' 'meter-7'
 * ```
 *
 * @packageDocumentation
 */
export type { CheckOptions, CheckResult, CheckVerdict, Model, Operation, StepResult } from './types.js';
export { checkOperations } from './checker.js';
export { HistoryParseError } from './errors.js';
export { casRegisterModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './register.js';
export { kvModel, type KvInput, type KvOutput } from './kv.js';
export { historyRecorder, type HistoryRecorder } from './recorder.js';
export { parseJepsenEtcdLog } from './jepsen.js';
export { parseKvHistory } from './kv-history.js';
