/** Proposals, flow control and the bounded uncommitted log. */
import { type AppendRequest, type ClusterConfig, configuration, InvalidArgumentError, NotLeaderError, ProposalDroppedError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, drain, electedLeader } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { coreNetwork, engineBugOptions, utf8 } from '../testing.js';

const appendsTo = (core: RaftCore, to: string): AppendRequest[] =>
  drain(core).messages.filter((m): m is AppendRequest => m.type === 'appendRequest' && m.to === to);

/** A leader whose followers acknowledged the no-op, so they are in replicate state. */
function replicating(options = {}): RaftCore {
  const leader = electedLeader('1', options);
  for (const from of ['2', '3']) leader.step({ type: 'appendResponse', from, to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
  drain(leader);
  return leader;
}

describe('proposals', () => {
  it('a follower refuses with NotLeaderError carrying the leader it knows', () => {
    const net = coreNetwork({ bootstrap: classic() });
    net.core('1').campaign();
    net.stabilize();
    let caught: unknown;
    try {
      net.core('2').propose(utf8('x'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NotLeaderError);
    expect((caught as NotLeaderError).leader).toBe('1');
    expect(net.core('2').lastIndex).toBe(1);
  });

  it('rejects a payload that is not a Uint8Array, changing nothing', () => {
    const leader = replicating();
    expect(() => leader.propose('text' as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    expect(leader.lastIndex).toBe(1);
  });

  it('maxUncommittedBytes: proposals beyond the bound are dropped until the log commits', () => {
    const leader = replicating({ maxUncommittedBytes: 10 });
    leader.propose(new Uint8Array(6));
    expect(() => leader.propose(new Uint8Array(6))).toThrow(ProposalDroppedError);
    expect(() => leader.propose(new Uint8Array(6))).toThrow(expect.objectContaining({ reason: 'overloaded' }));
    expect(leader.lastIndex).toBe(2);
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 2, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(2);
    expect(leader.propose(new Uint8Array(6)).index).toBe(3);
  });

  it('refuses proposals during a leadership transfer', () => {
    const leader = replicating();
    leader.propose(utf8('x'));
    leader.transferLeadership('2');
    expect(leader.leadTransferee).toBe('2');
    expect(() => leader.propose(utf8('y'))).toThrow(ProposalDroppedError);
    expect(() => leader.propose(utf8('y'))).toThrow(expect.objectContaining({ reason: 'transferring', message: 'leadership is being transferred to 2' }));
  });

  it('refuses proposals once the leader appended a configuration without itself', () => {
    const leader = replicating();
    const { index: joint } = leader.proposeConfigChange(classic(['2', '3']));
    // C(old,new) commits, so the leader appends C(new), which leaves it out; it leads until C(new) commits.
    for (const from of ['2', '3']) leader.step({ type: 'appendResponse', from, to: '1', term: 1, success: true, index: joint, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(joint);
    expect(leader.lastIndex).toBe(joint + 1);
    expect(leader.role).toBe('leader');
    expect(() => leader.propose(utf8('y'))).toThrow(ProposalDroppedError);
    expect(() => leader.propose(utf8('y'))).toThrow(expect.objectContaining({ reason: 'leaving', message: 'this leader is leaving the configuration' }));
    expect(leader.lastIndex).toBe(joint + 1);
  });
});

describe('flow control', () => {
  it('maxInflightMessages pauses a replicating follower until it acknowledges', () => {
    const leader = replicating({ maxInflightMessages: 2 });
    for (const word of ['a', 'b', 'c']) {
      leader.propose(utf8(word));
      appendsTo(leader, '2'); // one Ready per proposal: one append each, until the window is full
    }
    expect(leader.progress().get('2')).toMatchObject({ state: 'replicate', next: 4 });
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 2, hintIndex: 0, hintTerm: 0 });
    const resumed = appendsTo(leader, '2');
    expect(resumed.map((m) => m.entries.map((e) => e.index))).toEqual([[4]]);
  });

  it('maxMessageBytes splits a long catch-up into several appends', () => {
    const leader = replicating({ maxMessageBytes: 10 });
    for (let i = 0; i < 4; i++) leader.propose(new Uint8Array(6));
    const appends = appendsTo(leader, '3');
    expect(appends.map((m) => m.entries.length)).toEqual([1, 1, 1, 1]);
  });

  it('maxInflightBytes bounds the bytes in flight', () => {
    const leader = replicating({ maxInflightBytes: 12 });
    for (let i = 0; i < 4; i++) leader.propose(new Uint8Array(6));
    const first = appendsTo(leader, '3');
    const sentBytes = first.flatMap((m) => m.entries).reduce((n, e) => n + (e.type === 'normal' ? e.data.byteLength : 0), 0);
    expect(sentBytes).toBe(24); // one batched append may overshoot, then the window is closed
    leader.propose(new Uint8Array(6));
    expect(appendsTo(leader, '3')).toEqual([]);
  });

  it('a probing follower gets one append at a time', () => {
    const leader = electedLeader('1');
    leader.propose(utf8('a'));
    leader.propose(utf8('b'));
    expect(appendsTo(leader, '2')).toEqual([]); // the no-op probe is still unanswered
    expect(leader.progress().get('2')?.state).toBe('probe');
  });

  it('rejects invalid options with InvalidArgumentError', () => {
    expect(() => new RaftCore({ id: '1', electionTicks: 0 })).toThrow(InvalidArgumentError);
    expect(() => new RaftCore({ id: '1', electionTicks: 2, heartbeatTicks: 2 })).toThrow(InvalidArgumentError);
    expect(() => new RaftCore({ id: '' })).toThrow(InvalidArgumentError);
  });

  it('names an unknown option, as JavaScript or a spread would pass it, instead of ignoring it', () => {
    const misspelt: Record<string, unknown> = { electionTick: 5 };
    const build = (extra: Record<string, unknown>) => () => new RaftCore({ id: '1', bootstrap: classic(), ...extra });
    expect(build(misspelt)).toThrow(InvalidArgumentError);
    expect(build(misspelt)).toThrow(/^new RaftCore: unknown option "electionTick"; known options: id, state, bootstrap, electionTicks, /);
    // Options of the driver are not the core's.
    expect(build({ snapshotThreshold: 10 })).toThrow('new RaftCore: unknown option "snapshotThreshold"');
    expect(() => new RaftCore(undefined as never)).toThrow(InvalidArgumentError);
    // Every documented option is accepted, given or left undefined; the test-only bug key is a symbol, never a name.
    const core = new RaftCore({
      id: '1',
      state: undefined,
      bootstrap: classic(),
      electionTicks: 10,
      heartbeatTicks: 1,
      random: undefined,
      seed: 3,
      preVote: true,
      checkQuorum: true,
      maxInflightMessages: 8,
      maxInflightBytes: 0,
      maxMessageBytes: 1024,
      maxUncommittedBytes: 0,
      snapshotChunkBytes: 1024,
      policy: {},
      readOnly: 'safe',
      applied: 0,
      ...engineBugOptions('vote-twice'),
    });
    expect(core.config.incoming.voters.size).toBe(3);
  });

  it('a node with neither bootstrap nor state never campaigns', () => {
    const core = new RaftCore({ id: 'new' });
    for (let i = 0; i < 100; i++) core.tick();
    expect(core.role).toBe('follower');
    expect(core.term).toBe(0);
    expect(core.config.incoming.voters.size).toBe(0);
  });
});

describe('election timeout policy', () => {
  it('redraws a policy timeout when the configuration changes, so new weight ranks apply at once', () => {
    // The policy gives a short timeout only to a voter that weighs 5.
    const policy = { electionTimeoutTicks: (ctx: { id: string; config: ClusterConfig }) => (ctx.config.incoming.voters.get(ctx.id) === 5 ? 3 : 50) };
    const follower = new RaftCore({ id: 'a', bootstrap: configuration(['a', 'b', 'c']), policy });
    const heavier: ClusterConfig = { incoming: configuration({ a: 5, b: 1, c: 1 }) };
    follower.step({ type: 'appendRequest', from: 'b', to: 'a', term: 1, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0, entries: [{ type: 'config', term: 1, index: 1, config: heavier }] });
    follower.advance(follower.ready());
    expect(follower.config.incoming.voters.get('a')).toBe(5);
    for (let i = 0; i < 3; i++) follower.tick();
    expect(follower.role).not.toBe('follower');
  });
});

describe('reportUnreachable (etcd-io/raft ReportUnreachable)', () => {
  it('moves a follower in replicate state to probe: the leader stops pipelining and sends one probe at a time', () => {
    const leader = replicating();
    leader.propose(utf8('a'));
    expect(appendsTo(leader, '2')).toHaveLength(1);
    expect(leader.progress().get('2')?.state).toBe('replicate');
    leader.reportUnreachable('2');
    expect(leader.progress().get('2')).toMatchObject({ state: 'probe', match: 1, next: 2 });
    expect(leader.progress().get('3')?.state).toBe('replicate');
    // In probe state only one append is out until the follower answers.
    leader.propose(utf8('b'));
    leader.propose(utf8('c'));
    const probes = appendsTo(leader, '2');
    expect(probes).toHaveLength(1);
    expect(probes[0]).toMatchObject({ prevLogIndex: 1 });
    leader.propose(utf8('d'));
    expect(appendsTo(leader, '2')).toEqual([]);
    // Its answer puts it back in replicate state.
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 4, hintIndex: 0, hintTerm: 0 });
    expect(leader.progress().get('2')?.state).toBe('replicate');
  });

  it('is ignored off the leader, for an unknown peer, and for a peer that is not replicating', () => {
    const follower = new RaftCore({ id: '2', bootstrap: classic() });
    follower.reportUnreachable('1');
    expect(follower.hasReady()).toBe(false);
    const leader = electedLeader('1');
    leader.reportUnreachable('stranger');
    expect(leader.progress().get('2')?.state).toBe('probe');
    const before = leader.progress().get('2');
    leader.reportUnreachable('2');
    expect(leader.progress().get('2')).toEqual(before);
  });
});
