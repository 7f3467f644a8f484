/**
 * Tests in the style of etcd-io/raft's raft_paper_test.go: each one quotes the sentence of the
 * Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm") it checks.
 */
import { configuration, type AppendRequest, type Message, type VoteResponse } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, coreWithLog, drain, electedLeader, entriesWithTerms, sent, text } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { coreNetwork, utf8 } from '../testing.js';

const ofType = <T extends Message['type']>(messages: readonly Message[], type: T) =>
  messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);

describe('§5.1 terms', () => {
  it('"If one server\'s current term is smaller than the other\'s, then it updates its current term to the larger value. If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state."', () => {
    for (const role of ['follower', 'candidate', 'leader'] as const) {
      const core = role === 'leader' ? electedLeader('1') : new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
      if (role === 'candidate') core.campaign();
      expect(core.role).toBe(role);
      core.step({ type: 'appendRequest', from: '2', to: '1', term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], commitIndex: 0 });
      expect(core.term).toBe(5);
      expect(core.role).toBe('follower');
      expect(core.leader).toBe('2');
    }
  });

  it('"If a server receives a request with a stale term number, it rejects the request."', () => {
    const core = coreWithLog('1', [1, 2], 3);
    drain(core);
    core.step({ type: 'voteRequest', from: '2', to: '1', term: 2, preVote: false, lastLogIndex: 9, lastLogTerm: 2, transfer: false });
    core.step({ type: 'appendRequest', from: '2', to: '1', term: 2, prevLogIndex: 2, prevLogTerm: 2, entries: entriesWithTerms([1, 2, 2]).slice(2), commitIndex: 3 });
    expect(core.lastIndex).toBe(2);
    expect(core.vote).toBeUndefined();
    expect(core.commitIndex).toBe(0);
    // The stale leader is told the newer term so that it steps down.
    const replies = sent(core);
    expect(replies).toEqual([expect.objectContaining({ type: 'appendResponse', to: '2', term: 3, success: false })]);
  });
});

describe('§5.2 leader election', () => {
  it('"When servers start up, they begin as followers."', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic() });
    expect(core.role).toBe('follower');
    expect(core.term).toBe(0);
    expect(core.leader).toBeUndefined();
  });

  it('"Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers in order to maintain their authority."', () => {
    const leader = electedLeader('1', { heartbeatTicks: 1 });
    leader.tick();
    const heartbeats = ofType(sent(leader), 'heartbeat');
    expect(heartbeats.map((m) => m.to).sort()).toEqual(['2', '3']);
    expect(heartbeats.every((m) => m.term === 1)).toBe(true);
  });

  it('"If a follower receives no communication over a period of time called the election timeout, then it assumes there is no viable leader and begins an election to choose a new leader."', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false, electionTicks: 10 });
    for (let i = 0; i < 20 && core.role === 'follower'; i++) core.tick();
    // "To begin an election, a follower increments its current term and transitions to candidate state.
    //  It then votes for itself and issues RequestVote RPCs in parallel to each of the other servers."
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(1);
    expect(core.vote).toBe('1');
    const requests = ofType(sent(core), 'voteRequest');
    expect(requests.map((m) => [m.to, m.term, m.preVote])).toEqual([
      ['2', 1, false],
      ['3', 1, false],
    ]);
  });

  it('a follower that hears from its leader does not start an election', () => {
    const core = new RaftCore({ id: '2', bootstrap: classic(), preVote: false, electionTicks: 10 });
    for (let i = 0; i < 100; i++) {
      core.tick();
      core.step({ type: 'heartbeat', from: '1', to: '2', term: 1, commitIndex: 0 });
    }
    expect(core.role).toBe('follower');
    expect(core.term).toBe(1);
  });

  it.each([
    // [cluster size, granted votes (incl. self), rejected votes, expected role]
    [1, 1, 0, 'leader'],
    [3, 2, 0, 'leader'],
    [3, 2, 1, 'leader'],
    [3, 1, 0, 'candidate'],
    [3, 1, 2, 'follower'],
    [5, 3, 0, 'leader'],
    [5, 2, 2, 'candidate'],
    [5, 2, 3, 'follower'],
  ] as const)(
    '"A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term." (%i nodes, %i granted, %i rejected)',
    (size, granted, rejected, role) => {
      const voters = Array.from({ length: size }, (_, i) => String(i + 1));
      const core = new RaftCore({ id: '1', bootstrap: configuration(voters), preVote: false });
      core.campaign();
      const others = voters.slice(1);
      for (const from of others.slice(0, granted - 1)) core.step({ type: 'voteResponse', from, to: '1', term: 1, preVote: false, granted: true });
      for (const from of others.slice(granted - 1, granted - 1 + rejected)) {
        core.step({ type: 'voteResponse', from, to: '1', term: 1, preVote: false, granted: false });
      }
      expect(core.role).toBe(role);
    },
  );

  it('"Each server will vote for at most one candidate in a given term, on a first-come-first-served basis."', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic() });
    core.step({ type: 'voteRequest', from: '2', to: '1', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    core.step({ type: 'voteRequest', from: '3', to: '1', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    core.step({ type: 'voteRequest', from: '2', to: '1', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    const answers = ofType(sent(core), 'voteResponse').map((m) => [m.to, m.granted]);
    expect(answers).toEqual([
      ['2', true],
      ['3', false],
      ['2', true],
    ]);
    expect(core.vote).toBe('2');
  });

  it('"Updated on stable storage before responding to RPCs": the vote is in the same Ready as the reply, and survives a restart', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic() });
    core.step({ type: 'voteRequest', from: '2', to: '1', term: 4, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    const rd = drain(core);
    expect(rd.hardState).toEqual({ term: 4, vote: '2', commit: 0 });
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'voteResponse', granted: true })]);
    const restarted = new RaftCore({ id: '1', bootstrap: classic(), state: { hardState: rd.hardState!, snapshot: undefined, entries: [] } });
    restarted.step({ type: 'voteRequest', from: '3', to: '1', term: 4, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
    expect(ofType(sent(restarted), 'voteResponse')[0]?.granted).toBe(false);
    expect(restarted.vote).toBe('2');
  });

  it('"While waiting for votes, a candidate may receive an AppendEntries RPC from another server claiming to be leader. If the leader\'s term is at least as large as the candidate\'s current term, then the candidate recognizes the leader as legitimate and returns to follower state."', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
    core.campaign();
    core.step({ type: 'appendRequest', from: '2', to: '1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], commitIndex: 0 });
    expect(core.role).toBe('follower');
    expect(core.term).toBe(1);
    expect(core.leader).toBe('2');
  });

  it('"If the term in the RPC is smaller than the candidate\'s current term, then the candidate rejects the RPC and continues in candidate state."', () => {
    const core = coreWithLog('1', [], 3, { preVote: false });
    core.campaign();
    core.step({ type: 'appendRequest', from: '2', to: '1', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commitIndex: 0 });
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(4);
  });

  it('"When this happens, each candidate will time out and start a new election by incrementing its term and initiating another round of RequestVote RPCs." (split vote)', () => {
    const net = coreNetwork({ bootstrap: classic(['1', '2', '3', '4']), options: { preVote: false } });
    // 1 and 3 campaign at once; 2 votes for 1, 4 votes for 3: nobody has 3 of 4 votes.
    net.partition(['1', '2'], ['3', '4']);
    net.core('1').campaign();
    net.core('3').campaign();
    net.stabilize();
    net.heal();
    expect(net.ids.map((id) => net.core(id).role)).toEqual(['candidate', 'follower', 'candidate', 'follower']);
    net.tickElection('1');
    expect(net.core('1').role).toBe('candidate');
    expect(net.core('1').term).toBe(2);
    net.stabilize();
    expect(net.core('1').role).toBe('leader');
    expect(net.ids.map((id) => net.core(id).leader)).toEqual(['1', '1', '1', '1']);
  });

  it('"Raft uses randomized election timeouts to ensure that split votes are rare" — timeouts are drawn from [T, 2T) and differ between nodes', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false, electionTicks: 10, seed });
      let elapsed = 0;
      while (core.role === 'follower') {
        core.tick();
        elapsed++;
      }
      expect(elapsed).toBeGreaterThanOrEqual(10);
      expect(elapsed).toBeLessThan(20);
      timeouts.add(elapsed);
    }
    expect(timeouts.size).toBeGreaterThan(3);
  });
});

describe('§5.4.1 election restriction', () => {
  it.each([
    // [voter's log terms, candidate's last index, candidate's last term, granted]
    [[1, 2], 2, 2, true], // same
    [[1, 2], 3, 2, true], // longer, same term
    [[1, 2], 1, 3, true], // higher last term wins even if shorter
    [[1, 2], 1, 2, false], // shorter with same last term
    [[1, 2], 5, 1, false], // longer but older last term
  ] as const)(
    '"The voter denies its vote if its own log is more up-to-date than that of the candidate." (voter %j, candidate last %i@%i)',
    (terms, lastLogIndex, lastLogTerm, granted) => {
      const core = coreWithLog('1', terms, 3);
      core.step({ type: 'voteRequest', from: '2', to: '1', term: 4, preVote: false, lastLogIndex, lastLogTerm, transfer: false });
      const reply = ofType(sent(core), 'voteResponse')[0] as VoteResponse;
      expect(reply.granted).toBe(granted);
      expect(core.vote).toBe(granted ? '2' : undefined);
    },
  );
});

describe('§5.3 log replication', () => {
  it('"The leader appends the command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers to replicate the entry."', () => {
    const leader = electedLeader('1');
    // Both followers accept the no-op so they move to pipelined replication.
    for (const from of ['2', '3']) leader.step({ type: 'appendResponse', from, to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    drain(leader);
    const { index } = leader.propose(utf8('x'));
    expect(index).toBe(2);
    const appends = ofType(sent(leader), 'appendRequest');
    expect(appends.map((m) => [m.to, m.prevLogIndex, m.prevLogTerm, m.entries.map((e) => e.index)])).toEqual([
      ['2', 1, 1, [2]],
      ['3', 1, 1, [2]],
    ]);
  });

  it('several proposals between two Readys go out in one AppendRequest per follower (batching)', () => {
    const leader = electedLeader('1');
    for (const from of ['2', '3']) leader.step({ type: 'appendResponse', from, to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    drain(leader);
    for (const word of ['a', 'b', 'c']) leader.propose(utf8(word));
    const appends = ofType(sent(leader), 'appendRequest');
    expect(appends).toHaveLength(2);
    expect(appends[0]!.entries.map((e) => (e.type === 'normal' ? text(e.data) : ''))).toEqual(['a', 'b', 'c']);
  });

  it('"A log entry is committed once the leader that created the entry has replicated it on a majority of the servers."', () => {
    const leader = electedLeader('1', {}, classic(['1', '2', '3', '4', '5']));
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(0);
    leader.step({ type: 'appendResponse', from: '3', to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(1);
    // "Once a follower learns that a log entry is committed, it applies the entry to its local state machine"
    const rd = drain(leader);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1]);
  });

  it('"The leader keeps track of the highest index it knows to be committed, and it includes that index in future AppendEntries RPCs (including heartbeats)"', () => {
    const net = coreNetwork({ bootstrap: classic() });
    net.core('1').campaign();
    net.stabilize();
    net.core('1').propose(utf8('x'));
    net.stabilize();
    expect(net.ids.map((id) => net.core(id).commitIndex)).toEqual([2, 2, 2]);
    expect(net.ids.map((id) => net.record(id).applied)).toEqual([['x'], ['x'], ['x']]);
    net.core('1').tick();
    const heartbeats = ofType(sent(net.core('1')), 'heartbeat');
    expect(heartbeats.map((m) => m.commitIndex)).toEqual([2, 2]);
  });

  it('"If the follower does not find an entry in its log with the same index and term, then it refuses the new entries."', () => {
    const follower = coreWithLog('2', [1, 1, 2], 2);
    follower.step({ type: 'appendRequest', from: '1', to: '2', term: 3, prevLogIndex: 3, prevLogTerm: 3, entries: [], commitIndex: 3 });
    const reply = ofType(sent(follower), 'appendResponse')[0]!;
    expect(reply).toMatchObject({ success: false, index: 3, hintIndex: 3, hintTerm: 2 });
    expect(follower.commitIndex).toBe(0);
  });

  it('"If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it"', () => {
    const follower = coreWithLog('2', [1, 2, 2, 2], 2);
    drain(follower);
    const fresh = { type: 'normal' as const, term: 3, index: 3, data: utf8('new') };
    follower.step({ type: 'appendRequest', from: '1', to: '2', term: 3, prevLogIndex: 2, prevLogTerm: 2, entries: [fresh], commitIndex: 1 });
    expect(follower.lastIndex).toBe(3);
    expect(follower.termAt(3)).toBe(3);
    const rd = drain(follower);
    expect(rd.entries).toEqual([fresh]); // storage overwrites from index 3
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'appendResponse', success: true, index: 3 })]);
  });

  it('"When sending an AppendEntries RPC, the leader includes the index and term of the entry in its log that immediately precedes the new entries." (and probes back on refusal)', () => {
    const leader = coreWithLog('1', [1, 1, 2, 3], 3, { preVote: false });
    leader.campaign();
    leader.step({ type: 'voteResponse', from: '2', to: '1', term: 4, preVote: false, granted: true });
    expect(leader.role).toBe('leader');
    const probe = ofType(sent(leader), 'appendRequest').find((m) => m.to === '2')!;
    expect([probe.prevLogIndex, probe.prevLogTerm, probe.entries.map((e) => e.index)]).toEqual([4, 3, [5]]);
    // Follower 2 only has [1, 1]: its hint makes the leader skip straight back.
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 4, success: false, index: 4, hintIndex: 2, hintTerm: 1 });
    const retry = ofType(sent(leader), 'appendRequest').find((m) => m.to === '2')!;
    expect([retry.prevLogIndex, retry.prevLogTerm, retry.entries.map((e) => e.index)]).toEqual([2, 1, [3, 4, 5]]);
  });

  it('Figure 7: a leader brings every possible follower log into line with its own', () => {
    // The leader's log from Figure 7 (terms per index), and followers (a)–(f).
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    for (const [name, terms] of Object.entries(followers)) {
      // A third server 'x' holds the leader's log, so the leader wins even when the follower refuses.
      const net = coreNetwork({ bootstrap: classic(['L', 'x', name]), options: { preVote: false } });
      const withLog = (id: string, log: number[], term: number) => {
        const record = net.record(id);
        record.storage.entries = entriesWithTerms(log).map((e) => ({ ...e, data: utf8(`${e.term}`) }));
        record.storage.hardState = { term, vote: undefined, commit: 0 };
        net.restart(id);
      };
      withLog('L', leaderLog, 8);
      withLog('x', leaderLog, 8);
      withLog(name, terms, name === 'd' ? 7 : 6);
      net.core('L').campaign();
      net.stabilize();
      const leader = net.core('L');
      expect(leader.role).toBe('leader');
      const follower = net.core(name);
      expect(follower.lastIndex).toBe(leader.lastIndex);
      for (let i = 1; i <= leader.lastIndex; i++) expect(follower.termAt(i)).toBe(leader.termAt(i));
      expect(follower.commitIndex).toBe(11);
    }
  });
});

describe('§5.4.2 committing entries from previous terms', () => {
  it('"Raft never commits log entries from previous terms by counting replicas. Only log entries from the leader\'s current term are committed by counting replicas" (Figure 8)', () => {
    // Leader of term 3 holding an entry of term 2 at index 2 that followers lack.
    const leader = coreWithLog('1', [1, 2], 2, { preVote: false });
    leader.campaign();
    leader.step({ type: 'voteResponse', from: '2', to: '1', term: 3, preVote: false, granted: true });
    expect(leader.role).toBe('leader');
    expect(leader.lastIndex).toBe(3); // the no-op of term 3
    // A majority (1 and 2) now hold index 2, of term 2: not enough to commit it.
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 3, success: true, index: 2, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(0);
    // "once an entry from the current term has been committed in this way, then all prior entries are committed indirectly"
    leader.step({ type: 'appendResponse', from: '2', to: '1', term: 3, success: true, index: 3, hintIndex: 0, hintTerm: 0 });
    expect(leader.commitIndex).toBe(3);
  });
});

describe('weighted quorums (greenraft)', () => {
  const weights = configuration({ a: 3, b: 1, c: 1 });

  it('with weights {a:3,b:1,c:1}, a leader a commits with a alone; b+c can neither commit nor elect', () => {
    const net = coreNetwork({ bootstrap: weights });
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('leader');
    net.partition(['a'], ['b', 'c']);
    net.core('a').propose(utf8('alone'));
    net.stabilize();
    expect(net.record('a').applied).toEqual(['alone']);
    // b and c together weigh 2 of 5: no election, however long they wait.
    for (let i = 0; i < 100; i++) {
      net.tick('b');
      net.tick('c');
      net.stabilize();
    }
    expect(['b', 'c'].map((id) => net.core(id).role)).not.toContain('leader');
    expect(net.record('b').applied).toEqual([]);
  });

  it('a+b commit and report which acknowledgements formed the quorum, leader first', () => {
    const net = coreNetwork({ bootstrap: configuration({ a: 1, b: 3, c: 1 }) });
    net.core('b').campaign();
    net.stabilize();
    net.partition(['a', 'b'], ['c']);
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('b').role).toBe('leader');
    const leader = net.core('b');
    const before = net.record('b').commitQuorums.length;
    leader.propose(utf8('x'));
    net.stabilize();
    const quorum = net.record('b').commitQuorums.slice(before);
    expect(quorum).toHaveLength(1);
    expect(quorum[0]).toMatchObject({ index: leader.commitIndex, term: leader.term });
    // b alone weighs 3 of 5: its own append formed the quorum.
    expect(quorum[0]!.acks.map((ack) => [ack.id, ack.weight])).toEqual([['b', 3]]);
  });

  it('classic weights report leader + the first follower ack as the quorum', () => {
    const net = coreNetwork({ bootstrap: classic() });
    net.core('1').campaign();
    net.stabilize();
    net.drop((m) => m.type === 'appendResponse' && m.from === '3');
    net.core('1').propose(utf8('x'));
    net.stabilize();
    const last = net.record('1').commitQuorums.at(-1)!;
    expect(last.index).toBe(2);
    expect(last.acks.map((ack) => ack.id)).toEqual(['1', '2']);
  });
});

it('appendRequest entries are never empty in replicate state unless they carry a commit (no busy loop)', () => {
  const net = coreNetwork({ bootstrap: classic() });
  net.core('1').campaign();
  net.stabilize();
  const before = net.delivered.length;
  net.stabilize();
  expect(net.delivered.length).toBe(before);
  const appends = net.delivered.filter((m): m is AppendRequest => m.type === 'appendRequest');
  expect(appends.length).toBeLessThan(8);
});
