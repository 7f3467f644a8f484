/**
 * Liveness rules around elections: check-quorum (thesis §6.2), pre-vote (thesis §9.6) and the
 * election jitter of cores built without a seed (Raft §5.2).
 */
import { configuration } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { coreNetwork, utf8 } from '../testing.js';
import { classic, drain, electedLeader, sent } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';

const activePeers = (core: RaftCore): string[] => [...core.progress()].filter(([id, pr]) => id !== core.id && pr.recentActive).map(([id]) => id);

describe('check-quorum', () => {
  it('a new leader counts only itself as recently active: cut off at once, it steps down after one election timeout', () => {
    const leader = electedLeader('1', { electionTicks: 5, checkQuorum: true });
    expect(activePeers(leader)).toEqual([]);
    for (let tick = 1; tick < 5; tick++) {
      leader.tick();
      expect(leader.role, `tick ${tick}`).toBe('leader');
    }
    leader.tick();
    expect(leader.role).toBe('follower');
    expect(leader.term).toBe(1);
  });

  it('a follower heard from during the timeout keeps the leader in office, for that timeout only', () => {
    const leader = electedLeader('1', { electionTicks: 5, checkQuorum: true });
    leader.tick();
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    expect(activePeers(leader)).toEqual(['2']);
    for (let tick = 2; tick <= 9; tick++) {
      leader.tick();
      expect(leader.role, `tick ${tick}`).toBe('leader');
    }
    leader.tick();
    expect(leader.role).toBe('follower');
  });

  it('a member added during the term counts as active until the next check, so adding it cannot depose the leader', () => {
    const net = coreNetwork({ bootstrap: classic(), options: { electionTicks: 5 } });
    net.core('1').campaign();
    net.stabilize();
    net.addNode('4');
    net.core('1').proposeConfigChange(configuration(['1', '2', '3'], ['4']));
    net.processReady('1');
    expect(activePeers(net.core('1'))).toContain('4');
  });
});

describe('pre-vote without check-quorum', () => {
  const follower = (checkQuorum: boolean): RaftCore => {
    const core = new RaftCore({ id: '2', bootstrap: classic(), preVote: true, checkQuorum });
    // Leader 1 of term 1 was just heard from.
    core.step({ type: 'heartbeat', from: '1', to: '2', term: 1, commitIndex: 0 });
    drain(core);
    return core;
  };
  const preVoteFrom3 = { type: 'voteRequest', from: '3', to: '2', term: 2, preVote: true, lastLogIndex: 0, lastLogTerm: 0, transfer: false } as const;

  it('a voter that recently heard from a leader still grants a pre-vote when check-quorum is off (as etcd-io/raft does)', () => {
    const core = follower(false);
    core.step(preVoteFrom3);
    expect(sent(core)).toEqual([{ type: 'voteResponse', from: '2', to: '3', term: 2, preVote: true, granted: true }]);
    // A pre-vote changes nothing on the voter.
    expect([core.term, core.leader, core.vote]).toEqual([1, '1', undefined]);
  });

  it('with check-quorum on, the leader lease makes the voter ignore it', () => {
    const core = follower(true);
    core.step(preVoteFrom3);
    expect(sent(core)).toEqual([]);
  });
});

describe('election jitter without a seed', () => {
  /** Ticks until the core campaigns: its first randomized election timeout. */
  const firstTimeout = (core: RaftCore): number => {
    for (let tick = 1; tick <= 100; tick++) {
      core.tick();
      if (core.role !== 'follower') return tick;
    }
    throw new Error('no campaign within 100 ticks');
  };
  const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];

  it('cores built without seed or random draw different timeouts, derived from their ids', () => {
    const timeouts = ids.map((id) => firstTimeout(new RaftCore({ id, bootstrap: configuration(ids), preVote: false })));
    expect(new Set(timeouts).size).toBeGreaterThan(1);
    // The same id always draws the same timeout.
    expect(ids.map((id) => firstTimeout(new RaftCore({ id, bootstrap: configuration(ids), preVote: false })))).toEqual(timeouts);
  });

  it('a cluster of unseeded cores elects a leader without endless split votes', () => {
    const net = coreNetwork({ bootstrap: configuration(ids), options: { seed: undefined, electionTicks: 10 } });
    for (let tick = 0; tick < 200 && !ids.some((id) => net.core(id).role === 'leader'); tick++) {
      for (const id of ids) net.tick(id);
      net.stabilize();
    }
    const leaders = ids.filter((id) => net.core(id).role === 'leader');
    expect(leaders).toHaveLength(1);
    net.core(leaders[0]!).propose(utf8('x'));
    net.stabilize();
    expect(ids.map((id) => net.record(id).applied)).toEqual(ids.map(() => ['x']));
  });
});
