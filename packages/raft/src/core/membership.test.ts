/** Membership and weight changes by joint consensus (Raft thesis ch. 4). */
import {
  type ClusterConfig,
  type Configuration,
  ConfigurationError,
  configuration,
  configurationsEqual,
  NotLeaderError,
} from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { type CoreNetwork, coreNetwork, utf8 } from '../testing.js';

function elected(bootstrap: Configuration = classic(), leader = '1'): CoreNetwork {
  const net = coreNetwork({ bootstrap });
  net.core(leader).campaign();
  net.stabilize();
  expect(net.core(leader).role).toBe('leader');
  return net;
}

function expectConfig(actual: ClusterConfig, incoming: Configuration): void {
  expect(actual.outgoing).toBeUndefined();
  expect(configurationsEqual(actual.incoming, incoming)).toBe(true);
}

function configEntries(net: CoreNetwork, id: string): ClusterConfig[] {
  return net
    .core(id)
    .entriesFrom(1)
    .flatMap((e) => (e.type === 'config' ? [e.config] : []));
}

describe('joint consensus', () => {
  it('adds a voter: C(old,new) then C(new), and the new node catches up from scratch', () => {
    const net = elected();
    net.core('1').propose(utf8('early'));
    net.stabilize();
    net.addNode('4');
    const target = classic(['1', '2', '3', '4']);
    const proposed = net.core('1').proposeConfigChange(target);
    // The configuration takes effect when appended: the leader is joint at once.
    expect(net.core('1').config.outgoing).toBeDefined();
    expect(net.core('1').progress().get('4')).toMatchObject({ state: 'probe', match: 0 });
    net.stabilize();
    for (const id of ['1', '2', '3', '4']) expectConfig(net.core(id).config, target);
    const history = configEntries(net, '1');
    expect(history).toHaveLength(2);
    expect(history[0]!.outgoing && configurationsEqual(history[0]!.outgoing, classic())).toBe(true);
    expect(history[1]!.outgoing).toBeUndefined();
    expect(net.core('1').entry(proposed.index)?.type).toBe('config');
    expect(net.record('4').applied).toEqual(['early']);
    // The new voter counts: with 2 and 3 gone, 1 and 4 are not a majority of four.
    net.partition(['1', '4'], ['2', '3']);
    net.core('1').propose(utf8('needs-three'));
    net.stabilize();
    expect(net.record('4').applied).toEqual(['early']);
  });

  it('removes a voter, which then stops receiving messages', () => {
    const net = elected();
    net.core('1').proposeConfigChange(classic(['1', '2']));
    net.stabilize();
    expectConfig(net.core('1').config, classic(['1', '2']));
    expect([...net.core('1').progress().keys()]).toEqual(['1', '2']);
    const before = net.core('3').lastIndex;
    net.core('1').propose(utf8('after'));
    net.stabilize();
    expect(net.record('2').applied).toEqual(['after']);
    expect(net.core('3').lastIndex).toBe(before);
    expect(net.delivered.slice(-6).some((m) => m.to === '3')).toBe(false);
  });

  it('changes weights: after {1:3,2:1,3:1} commits, node 1 commits alone', () => {
    const net = elected();
    const weighted = configuration({ '1': 3, '2': 1, '3': 1 });
    net.core('1').proposeConfigChange(weighted);
    net.stabilize();
    for (const id of net.ids) expectConfig(net.core(id).config, weighted);
    net.partition(['1'], ['2', '3']);
    net.core('1').propose(utf8('alone'));
    net.stabilize();
    expect(net.record('1').applied).toEqual(['alone']);
  });

  it('promotes a learner; before that the learner never campaigns and never counts', () => {
    const net = elected(configuration(['1', '2', '3'], ['4']));
    for (let i = 0; i < 100; i++) net.tick('4');
    net.stabilize();
    expect(net.core('4').role).toBe('follower');
    expect(net.core('4').term).toBe(1);
    net.core('1').propose(utf8('x'));
    net.stabilize();
    expect(net.record('4').applied).toEqual(['x']);
    const promoted = classic(['1', '2', '3', '4']);
    net.core('1').proposeConfigChange(promoted);
    net.stabilize();
    for (const id of net.ids) expectConfig(net.core(id).config, promoted);
    // Now a voter, node 4 can lead.
    net.partition(['2', '3', '4'], ['1']);
    for (let i = 0; i < 25 && net.core('4').role !== 'leader'; i++) {
      net.tick('2');
      net.tick('3');
      net.tickElection('4');
      net.stabilize();
    }
    expect(['2', '3', '4'].some((id) => net.core(id).role === 'leader')).toBe(true);
  });

  it('needs a quorum of both halves while joint: C(old,new) does not commit without the new majority', () => {
    const net = elected();
    net.addNode('4');
    net.addNode('5');
    net.partition(['1', '2', '3'], ['4', '5']);
    net.core('1').proposeConfigChange(classic(['1', '4', '5']));
    net.stabilize();
    const leader = net.core('1');
    expect(leader.config.outgoing).toBeDefined();
    expect(leader.commitIndex).toBeLessThan(leader.lastIndex); // old majority alone is not enough
    net.heal();
    net.tick('1');
    net.stabilize();
    expectConfig(leader.config, classic(['1', '4', '5']));
    expect(leader.commitIndex).toBe(leader.lastIndex);
  });

  it('a leader not in C(new) keeps replicating until C(new) commits, then steps down and never campaigns', () => {
    const net = elected();
    net.core('1').proposeConfigChange(classic(['2', '3']));
    net.stabilize();
    expect(net.core('1').role).toBe('follower');
    for (const id of ['2', '3']) expectConfig(net.core(id).config, classic(['2', '3']));
    expect(net.core('2').commitIndex).toBeGreaterThanOrEqual(net.core('1').lastIndex);
    // It handed over to an up-to-date voter of C(new) on its way out, without waiting for a timeout.
    expect(['2', '3'].filter((id) => net.core(id).role === 'leader')).toHaveLength(1);
    for (let i = 0; i < 60; i++) {
      for (const id of net.ids) net.tick(id);
      net.stabilize();
    }
    expect(net.core('1').role).toBe('follower');
    const leaders = ['2', '3'].filter((id) => net.core(id).role === 'leader');
    expect(leaders).toHaveLength(1);
  });

  it('rolls back to the previous configuration when an uncommitted config entry is truncated', () => {
    const follower = new RaftCore({ id: '3', bootstrap: classic() });
    const joint: ClusterConfig = { incoming: classic(['1', '2', '3', '4']), outgoing: classic() };
    follower.step({ type: 'appendRequest', from: '1', to: '3', term: 1, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0, entries: [
      { type: 'normal', term: 1, index: 1, data: new Uint8Array() },
      { type: 'config', term: 1, index: 2, config: joint },
    ] });
    expect(follower.config).toBe(joint);
    // A new leader of term 2 never had the config entry: its entry at index 2 replaces it.
    follower.step({ type: 'appendRequest', from: '2', to: '3', term: 2, prevLogIndex: 1, prevLogTerm: 1, commitIndex: 0, entries: [
      { type: 'normal', term: 2, index: 2, data: new Uint8Array() },
    ] });
    expectConfig(follower.config, classic());
    expect(follower.termAt(2)).toBe(2);
  });
});

describe('refused configuration changes change nothing', () => {
  function unchanged(net: CoreNetwork, attempt: () => unknown, error: new (...args: never[]) => Error): void {
    const leader = net.core(net.ids.find((id) => net.core(id).role === 'leader') ?? '1');
    const before = { last: leader.lastIndex, config: leader.config, commit: leader.commitIndex };
    expect(attempt).toThrow(error);
    expect({ last: leader.lastIndex, config: leader.config, commit: leader.commitIndex }).toEqual(before);
    expect(leader.config).toBe(before.config);
  }

  it.each([
    ['no voters', { voters: new Map(), learners: new Set() }],
    ['a negative weight', { voters: new Map([['1', 2], ['2', -1]]), learners: new Set() }],
    ['a fractional weight', { voters: new Map([['1', 1.5]]), learners: new Set() }],
    ['a zero total', { voters: new Map([['1', 0], ['2', 0]]), learners: new Set() }],
    ['a voter that is also a learner', { voters: new Map([['1', 1]]), learners: new Set(['1']) }],
  ] as const)('refuses a target with %s', (_, target) => {
    const net = elected();
    unchanged(net, () => net.core('1').proposeConfigChange(target as unknown as Configuration), ConfigurationError);
  });

  it('refuses a target equal to the current configuration', () => {
    const net = elected();
    unchanged(net, () => net.core('1').proposeConfigChange(classic()), ConfigurationError);
  });

  it('refuses a second change while one is in flight (uncommitted, then joint)', () => {
    const net = elected();
    net.core('1').proposeConfigChange(classic(['1', '2']));
    unchanged(net, () => net.core('1').proposeConfigChange(classic(['1', '3'])), ConfigurationError);
    // Let C(old,new) commit but hold back C(new): it is in effect on the leader, yet uncommitted.
    net.drop((m) => m.type === 'appendRequest' && m.entries.some((e) => e.type === 'config' && e.config.outgoing === undefined));
    net.stabilize();
    const leader = net.core('1');
    expect(leader.config.outgoing).toBeUndefined();
    expect(leader.commitIndex).toBe(leader.lastIndex - 1);
    unchanged(net, () => net.core('1').proposeConfigChange(classic(['1', '3'])), ConfigurationError);
    net.heal();
    net.tick('1');
    net.stabilize();
    expect(leader.commitIndex).toBe(leader.lastIndex);
    expect(() => leader.proposeConfigChange(classic(['1', '3']))).not.toThrow();
    // Accepted, not just tolerated: the joint C(old,new) towards the new target is now in effect.
    expect(leader.config.outgoing).toBeDefined();
    expect(configurationsEqual(leader.config.incoming, classic(['1', '3']))).toBe(true);
  });

  it('refuses a change before the leader has committed an entry of its own term', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
    core.campaign();
    core.step({ type: 'voteResponse', from: '2', to: '1', term: 1, preVote: false, granted: true });
    expect(core.role).toBe('leader');
    drain(core);
    const before = core.lastIndex;
    expect(() => core.proposeConfigChange(classic(['1', '2']))).toThrow(ConfigurationError);
    expect(core.lastIndex).toBe(before);
  });

  it('refuses on a follower with NotLeaderError naming the leader', () => {
    const net = elected();
    expect(() => net.core('2').proposeConfigChange(classic(['1', '2']))).toThrow(NotLeaderError);
    try {
      net.core('2').proposeConfigChange(classic(['1', '2']));
    } catch (error) {
      expect((error as NotLeaderError).leader).toBe('1');
    }
  });

  it('copies the target, so mutating it afterwards changes nothing', () => {
    const net = elected();
    const voters = new Map([['1', 1], ['2', 1]]);
    net.core('1').proposeConfigChange({ voters, learners: new Set() });
    voters.set('9', 100);
    net.stabilize();
    expectConfig(net.core('1').config, classic(['1', '2']));
  });
});
