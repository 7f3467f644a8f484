/**
 * The chaos run's history and its checks on hand-made histories: the EDN file checks the same as
 * the history in memory, and the lost-write check finds exactly the acknowledged writes that no
 * final value can follow. Each check is shown failing on the loss it guards against.
 */
import { checkOperations, kvModel, parseKvHistory } from '@greenraft/linearizability';
import { describe, expect, it } from 'vitest';
import { lostWrites } from './checks.js';
import { ChaosHistory, type RecordedOperation } from './history.js';
import { ClusterObserver, type NodeStatus } from './observer.js';

function history(): ChaosHistory {
  let now = 0;
  return new ChaosHistory(() => now++);
}

const put = (h: ChaosHistory, process: number, key: string, value: string, outcome: 'ok' | 'info' | 'fail' = 'ok') => {
  const op = h.invoke(process, { kind: 'put', key, value });
  if (outcome === 'ok') h.ok(op, { kind: 'put' });
  else if (outcome === 'info') h.info(op, 'TIMEOUT');
  else h.fail(op, 'BAD_REQUEST');
  return op;
};
const get = (h: ChaosHistory, process: number, key: string, value: string) => {
  const op = h.invoke(process, { kind: 'get', key });
  h.ok(op, { kind: 'get', value });
  return op;
};

function verdicts(h: ChaosHistory): { memory: string; file: string } {
  return { memory: checkOperations(kvModel(), h.forChecker()).result, file: checkOperations(kvModel(), parseKvHistory(h.toEdn())).result };
}

describe('chaos history', () => {
  it('writes an EDN history that greenraft lincheck checks the same way: linearizable', () => {
    const h = history();
    put(h, 0, 'k1', 'c0-1');
    const cas = h.invoke(1, { kind: 'cas', key: 'k1', expected: 'c0-1', value: 'c1-1' });
    const read = h.invoke(2, { kind: 'get', key: 'k1' });
    h.ok(read, { kind: 'get', value: 'c1-1' });
    h.ok(cas, { kind: 'cas', swapped: true });
    const refused = h.invoke(0, { kind: 'cas', key: 'k1', expected: '', value: 'c0-2' });
    h.ok(refused, { kind: 'cas', swapped: false });
    put(h, 0, 'k2', 'c0-3', 'info');
    put(h, 3, 'k2', 'c3-1', 'fail');
    get(h, 4, 'k2', 'c0-3');
    expect(verdicts(h)).toEqual({ memory: 'ok', file: 'ok' });
    const edn = h.toEdn();
    expect(edn).toContain('{:process 0, :type :fail, :f :cas, :key "k1", :value ["" "c0-2"]}');
    expect(edn).toContain('{:process 0, :type :info, :f :put, :key "k2", :value "c0-3"}');
    // A definite failure took no effect: it is not in the history at all.
    expect(edn).not.toContain('c3-1');
    expect(h.forChecker()).toHaveLength(6);
  });

  it('and not linearizable: a read that misses an acknowledged write, in memory and from the file', () => {
    const h = history();
    put(h, 0, 'k1', 'c0-1');
    get(h, 1, 'k1', '');
    expect(verdicts(h)).toEqual({ memory: 'illegal', file: 'illegal' });
    // The same read before the write returned is fine.
    const h2 = history();
    const write = h2.invoke(0, { kind: 'put', key: 'k1', value: 'c0-1' });
    get(h2, 1, 'k1', '');
    h2.ok(write, { kind: 'put' });
    expect(verdicts(h2)).toEqual({ memory: 'ok', file: 'ok' });
  });

  it('refuses to end an operation twice', () => {
    const h = history();
    const op = put(h, 0, 'k', 'v');
    expect(() => h.info(op, 'late')).toThrow(/already ended/);
  });
});

describe('the lost-write check', () => {
  const finals = (entries: [string, RecordedOperation | undefined][]) => new Map(entries);

  it('finds nothing lost when the final values follow every acknowledged write', () => {
    const h = history();
    put(h, 0, 'k1', 'c0-1');
    put(h, 1, 'k1', 'c1-1');
    put(h, 2, 'u-c2-1', 'c2-1');
    put(h, 3, 'k2', 'c3-1', 'info');
    const found = lostWrites(h, finals([['k1', get(h, 9, 'k1', 'c1-1')], ['u-c2-1', get(h, 9, 'u-c2-1', 'c2-1')], ['k2', get(h, 9, 'k2', '')]]));
    expect(found).toEqual({ lost: 0, unreadKeys: [], unexplained: [], examples: [] });
  });

  it('counts an acknowledged write invoked after the final value\u2019s writer had returned', () => {
    const h = history();
    put(h, 0, 'k1', 'c0-1');
    put(h, 1, 'k1', 'c1-1');
    const found = lostWrites(h, finals([['k1', get(h, 9, 'k1', 'c0-1')]]));
    expect(found.lost).toBe(1);
    expect(found.examples).toEqual([{ key: 'k1', value: 'c1-1', finalValue: 'c0-1' }]);
  });

  it('does not count writes concurrent with the final writer, nor behind an indefinite one', () => {
    const h = history();
    const first = h.invoke(0, { kind: 'put', key: 'k1', value: 'c0-1' });
    put(h, 1, 'k1', 'c1-1');
    h.ok(first, { kind: 'put' });
    put(h, 2, 'k2', 'c2-1');
    put(h, 3, 'k2', 'c3-1', 'info');
    put(h, 2, 'k2', 'c2-2');
    expect(lostWrites(h, finals([['k1', get(h, 9, 'k1', 'c0-1')], ['k2', get(h, 9, 'k2', 'c3-1')]])).lost).toBe(0);
  });

  it('counts every acknowledged write of a key that reads as absent (nothing deletes), a key never read back, a value nobody wrote', () => {
    const h = history();
    put(h, 0, 'u-c0-1', 'c0-1');
    put(h, 1, 'k1', 'c1-1');
    const cas = h.invoke(1, { kind: 'cas', key: 'k1', expected: 'c1-1', value: 'c1-2' });
    h.ok(cas, { kind: 'cas', swapped: true });
    put(h, 2, 'k2', 'c2-1');
    const found = lostWrites(h, finals([['u-c0-1', get(h, 9, 'u-c0-1', '')], ['k1', get(h, 9, 'k1', '')], ['k2', undefined], ['k3', get(h, 9, 'k3', 'c7-7')]]));
    expect(found.lost).toBe(3);
    expect(found.unreadKeys).toEqual(['k2']);
    expect(found.unexplained).toEqual([{ key: 'k3', value: 'c7-7' }]);
  });
});

describe('the election observer', () => {
  const status = (node: string, role: string, term: number): NodeStatus => ({ node, role, term, leader: role === 'leader' ? node : null, commitIndex: 0, appliedIndex: 0, lastIndex: 0, config: null });

  it('counts terms with a leader and flags two leaders in one term', () => {
    const observer = new ClusterObserver({ nodes: new Map(), answering: () => true });
    observer.observe('n1', status('n1', 'leader', 2));
    observer.observe('n2', status('n2', 'follower', 2));
    observer.observe('n1', status('n1', 'leader', 2));
    observer.observe('n3', status('n3', 'leader', 3));
    expect(observer.elections).toBe(2);
    expect(observer.leader()).toBe('n3');
    expect(observer.violations()).toEqual([]);
    observer.observe('n2', status('n2', 'leader', 3));
    expect(observer.violations()).toEqual([{ term: 3, leaders: ['n2', 'n3'] }]);
  });
});
