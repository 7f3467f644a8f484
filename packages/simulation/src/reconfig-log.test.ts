import { type ClusterConfig, type LogEntry, configuration } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { LogConfigurations, describeClusterConfig } from './reconfig-log.js';

const c3 = configuration(['n1', 'n2', 'n3']);
const c4 = configuration({ n1: 1, n2: 1, n3: 1, n4: 2 });
const joint: ClusterConfig = { incoming: c4, outgoing: c3 };
const normal = (index: number, term = 1): LogEntry => ({ type: 'normal', index, term, data: new Uint8Array(0) });
const config = (index: number, cluster: ClusterConfig, term = 1): LogEntry => ({ type: 'config', index, term, config: cluster });

describe('LogConfigurations', () => {
  it('follows appends: the latest configuration entry wins, committed or not', () => {
    const log = LogConfigurations.fromState(undefined, c3);
    expect(log.latest).toEqual({ incoming: c3 });
    log.appended([normal(1), config(2, joint), normal(3)]);
    expect(log.latest).toBe(joint);
    log.appended([config(4, { incoming: c4 })]);
    expect(log.latest).toEqual({ incoming: c4 });
  });

  it('rolls back a truncated configuration entry to the one before it', () => {
    const log = LogConfigurations.fromState(undefined, c3);
    log.appended([normal(1), config(2, joint), normal(3)]);
    log.appended([normal(2, 2), normal(3, 2)]);
    expect(log.latest).toEqual({ incoming: c3 });
  });

  it('starts from a snapshot and its stored suffix, or from nothing for a node that joins later', () => {
    const snapshot = { metadata: { index: 10, term: 2, config: joint }, data: new Uint8Array(4) };
    const restarted = LogConfigurations.fromState({ hardState: { term: 2, vote: undefined, commit: 10 }, snapshot, entries: [normal(11, 2)] }, c3);
    expect(restarted.latest).toBe(joint);
    const spare = LogConfigurations.fromState(undefined, undefined);
    expect(spare.latest.incoming.voters.size).toBe(0);
    spare.installed(snapshot);
    expect(spare.latest).toBe(joint);
  });

  it('reports a node whose configuration in effect is not the latest in its log', () => {
    const log = LogConfigurations.fromState(undefined, c3);
    log.appended([config(1, joint)]);
    expect(log.check(5, 'n1', { incoming: configuration(['n1', 'n2', 'n3']), outgoing: c4 })).toMatchObject({ property: 'configuration', step: 5 });
    const stale = log.check(7, 'n2', { incoming: c3 });
    expect(stale).toEqual({
      property: 'configuration',
      step: 7,
      detail: 'n2 counts quorums in {n1:1,n2:1,n3:1}, but the latest configuration in its log (index 1) is {n1:1,n2:1,n3:1,n4:2} joint with {n1:1,n2:1,n3:1}',
    });
    // An equal configuration, even another object, agrees.
    expect(log.check(8, 'n2', { incoming: configuration({ n1: 1, n2: 1, n3: 1, n4: 2 }), outgoing: configuration(['n1', 'n2', 'n3']) })).toBeUndefined();
  });

  it('describes configurations for reports', () => {
    expect(describeClusterConfig({ incoming: configuration(['a'], ['b']) })).toBe('{a:1 learners b}');
  });
});
