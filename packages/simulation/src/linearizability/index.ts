/*
 * A linearizability checker (Wing and Gong's search with porcupine's memoisation and
 * P-compositionality), the models it checks histories against (a compare-and-set register and
 * a key-value store), a recorder of client histories, and readers for recorded Jepsen histories.
 *
 * @example
 * ```ts
 * import { checkOperations, historyRecorder, kvModel, type KvInput, type KvOutput } from '@greenraft/simulation';
 *
 * const recorder = historyRecorder<KvInput, KvOutput>();
 * const put = recorder.invoke(1, { kind: 'put', key: 'x', value: 'a' }, 0);
 * const get = recorder.invoke(2, { kind: 'get', key: 'x' }, 1);
 * recorder.complete(get, { kind: 'get', value: 'a' }, 2);
 * recorder.complete(put, { kind: 'put' }, 3);
 * console.log(checkOperations(kvModel(), recorder.history()).result); // 'ok'
 * ```
 */
export type { CheckOptions, CheckResult, CheckVerdict, Model, Operation, StepResult } from './types.js';
export { checkOperations } from './checker.js';
export { HistoryParseError } from './errors.js';
export { casRegisterModel, type RegisterInput, type RegisterOutput, type RegisterValue } from './register.js';
export { kvModel, type KvInput, type KvOutput } from './kv.js';
export { historyRecorder, type HistoryRecorder } from './recorder.js';
export { parseJepsenEtcdLog } from './jepsen.js';
export { parseKvHistory } from './kv-history.js';
