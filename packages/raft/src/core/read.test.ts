/** Linearizable reads: ReadIndex (Raft thesis §6.4), follower reads and lease reads. */
import { type Message, NotLeaderError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { type CoreNetwork, coreNetwork, utf8 } from '../testing.js';

function elected(options = {}): CoreNetwork {
  const net = coreNetwork({ bootstrap: classic(), options });
  net.core('1').campaign();
  net.stabilize();
  net.core('1').propose(utf8('x'));
  net.stabilize();
  return net;
}

describe('ReadIndex', () => {
  it('"the leader records its current commit index ... sends heartbeats ... once a majority acknowledge, the read can be served": leader read', () => {
    const net = elected();
    net.core('1').readIndex('r1');
    net.processReady('1');
    expect(net.record('1').readStates).toEqual([]); // waits for the heartbeat round
    net.stabilize();
    expect(net.record('1').readStates).toEqual([{ context: 'r1', index: 2 }]);
    const rounds = net.delivered.filter((m) => m.type === 'heartbeat' && m.context !== undefined);
    expect(rounds.map((m) => m.to)).toEqual(['2', '3']);
  });

  it('a follower read goes through the leader and comes back as a ReadState on the follower', () => {
    const net = elected();
    net.core('3').readIndex('from-3');
    net.stabilize();
    expect(net.record('3').readStates).toEqual([{ context: 'from-3', index: 2 }]);
    expect(net.record('1').readStates).toEqual([]);
  });

  it('no read state when the quorum does not answer', () => {
    const net = elected();
    net.partition(['1'], ['2', '3']);
    net.core('1').readIndex('lonely');
    net.stabilize();
    net.tick('1', 3);
    net.stabilize();
    expect(net.record('1').readStates).toEqual([]);
  });

  it('"a leader that has not yet committed an entry in its term" defers reads until it has', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
    core.campaign();
    core.step({ type: 'voteResponse', from: '2', to: '1', term: 1, preVote: false, granted: true });
    drain(core);
    core.readIndex('early');
    const waiting = drain(core);
    expect(waiting.readStates).toEqual([]);
    expect(waiting.messages.some((m) => m.type === 'heartbeat')).toBe(false);
    core.step({ type: 'appendResponse', from: '2', to: '1', term: 1, success: true, index: 1, hintIndex: 0, hintTerm: 0 });
    const round = drain(core).messages.flatMap((m) => (m.type === 'heartbeat' && m.context !== undefined ? [m.context] : []));
    expect(round).toHaveLength(2);
    core.step({ type: 'heartbeatResponse', from: '3', to: '1', term: 1, context: round[0]! });
    expect(drain(core).readStates).toEqual([{ context: 'early', index: 1 }]);
  });

  it('a later confirmed round also releases earlier reads, in order', () => {
    const net = elected();
    net.drop((m) => m.type === 'heartbeatResponse' && m.context === '1.1');
    net.core('1').readIndex('first');
    net.processReady('1');
    // Round 1.1 is in flight (and its answers will be lost): the second read waits for the next round.
    net.core('1').readIndex('second');
    net.stabilize();
    expect(net.record('1').readStates).toEqual([]);
    // The next heartbeat starts the round of the read that waited; its quorum confirms the lost round too.
    net.tick('1');
    net.stabilize();
    expect(net.record('1').readStates.map((r) => r.context)).toEqual(['first', 'second']);
  });

  it('throws NotLeaderError when no leader is known', () => {
    const core = new RaftCore({ id: '2', bootstrap: classic() });
    expect(() => core.readIndex('r')).toThrow(NotLeaderError);
  });

  it("readOnly: 'lease' answers from the commit index without a heartbeat round, and requires checkQuorum", () => {
    const net = elected({ readOnly: 'lease' });
    const before = net.delivered.length;
    net.core('1').readIndex('leased');
    net.stabilize();
    expect(net.record('1').readStates).toEqual([{ context: 'leased', index: 2 }]);
    expect(net.delivered.length).toBe(before);
    expect(() => new RaftCore({ id: '1', bootstrap: classic(), readOnly: 'lease', checkQuorum: false })).toThrow(/checkQuorum/);
  });

  it('a single-voter leader answers at once', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(['1']) });
    core.campaign();
    drain(core);
    core.readIndex('solo');
    expect(drain(core).readStates).toEqual([{ context: 'solo', index: 1 }]);
  });
});

describe('ReadIndex batching', () => {
  const roundsOf = (messages: readonly Message[]): string[] => [
    ...new Set(messages.flatMap((m) => (m.type === 'heartbeat' && m.context !== undefined ? [m.context] : []))),
  ];

  it('reads that arrive between two Readys share one round', () => {
    const net = elected();
    const before = net.delivered.length;
    for (const context of ['a', 'b', 'c', 'd']) net.core('1').readIndex(context);
    net.stabilize();
    expect(roundsOf(net.delivered.slice(before))).toHaveLength(1);
    expect(net.record('1').readStates.map((r) => r.context)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads that arrive while a round is in flight share the next round: 2 rounds serve 5 reads', () => {
    const net = elected();
    const before = net.delivered.length;
    net.core('1').readIndex('r1');
    net.processReady('1');
    // While r1's round is in flight, four more reads arrive (two from followers).
    net.core('1').readIndex('r2');
    net.core('1').readIndex('r3');
    net.core('2').readIndex('f2');
    net.core('3').readIndex('f3');
    net.stabilize();
    expect(roundsOf(net.delivered.slice(before))).toHaveLength(2);
    expect(net.record('1').readStates.map((r) => r.context)).toEqual(['r1', 'r2', 'r3']);
    expect(net.record('2').readStates.map((r) => r.context)).toEqual(['f2']);
    expect(net.record('3').readStates.map((r) => r.context)).toEqual(['f3']);
    for (const id of ['1', '2', '3']) for (const read of net.record(id).readStates) expect(read.index).toBe(2);
  });

  it('a read waiting for the next round keeps the commit index of its arrival or a later one', () => {
    const net = elected();
    net.core('1').readIndex('before-write');
    net.processReady('1');
    net.core('1').propose(utf8('y'));
    net.core('1').readIndex('after-write');
    net.stabilize();
    const [first, second] = net.record('1').readStates;
    expect(first).toEqual({ context: 'before-write', index: 2 });
    expect(second?.context).toBe('after-write');
    expect(second!.index).toBeGreaterThanOrEqual(2);
  });
});

describe('dropped reads', () => {
  it("a follower whose leader answers that it cannot serve the read reports it in Ready.droppedReads", () => {
    const net = elected();
    const follower = net.core('3');
    follower.readIndex('lost');
    drain(follower);
    follower.step({ type: 'readIndexResponse', from: '1', to: '3', term: follower.term, context: 'lost', index: -1 });
    const rd = drain(follower);
    expect(rd.droppedReads).toEqual(['lost']);
    expect(rd.readStates).toEqual([]);
    expect(follower.hasReady()).toBe(false);
  });

  it('a leader that steps down drops its own pending and deferred reads, and answers followers that it cannot serve theirs', () => {
    const net = elected();
    net.partition(['1'], ['2', '3']);
    net.core('1').readIndex('pending');
    net.stabilize();
    // A follower's read arrives, then a higher term deposes the leader.
    net.core('1').step({ type: 'readIndexRequest', from: '2', to: '1', term: 1, context: 'remote' });
    const leader = net.core('1');
    leader.step({ type: 'heartbeat', from: '3', to: '1', term: 2, commitIndex: 0 });
    const rd = drain(leader);
    expect(leader.role).toBe('follower');
    expect(rd.droppedReads).toEqual(['pending']);
    expect(net.record('1').droppedReads).toEqual([]);
    expect(rd.messages.filter((m) => m.type === 'readIndexResponse')).toEqual([
      { type: 'readIndexResponse', from: '1', to: '2', term: 2, context: 'remote', index: -1 },
    ]);
  });

  it('a new leader drops the reads it deferred (no entry of its term committed) when it loses leadership', () => {
    const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
    core.campaign();
    core.step({ type: 'voteResponse', from: '2', to: '1', term: 1, preVote: false, granted: true });
    drain(core);
    core.readIndex('deferred');
    expect(drain(core).droppedReads).toEqual([]);
    core.step({ type: 'appendRequest', from: '3', to: '1', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], commitIndex: 0 });
    expect(drain(core).droppedReads).toEqual(['deferred']);
  });
});

describe('dropped reads on the test network', () => {
  it("a follower's read that its leader drops on stepping down reaches the follower's record at once", () => {
    const net = elected();
    net.partition(['1', '3'], ['2']);
    net.drop((m) => m.type === 'heartbeatResponse');
    net.core('3').readIndex('from-3');
    net.stabilize();
    expect(net.record('3').readStates).toEqual([]);
    // A newer term reaches the leader before any round is confirmed.
    net.core('1').step({ type: 'appendRequest', from: '2', to: '1', term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], commitIndex: 0 });
    net.stabilize();
    expect(net.record('3').droppedReads).toEqual(['from-3']);
    expect(net.record('3').readStates).toEqual([]);
  });
});

describe('follower reads batched', () => {
  const requestsFrom = (messages: readonly Message[], id: string): Message[] => messages.filter((m) => m.type === 'readIndexRequest' && m.from === id);

  it('reads that arrive at a follower between two Readys share one ReadIndex request', () => {
    const net = elected();
    const before = net.delivered.length;
    for (const context of ['a', 'b', 'c']) net.core('3').readIndex(context);
    net.stabilize();
    expect(requestsFrom(net.delivered.slice(before), '3')).toHaveLength(1);
    expect(net.record('3').readStates).toEqual([
      { context: 'a', index: 2 },
      { context: 'b', index: 2 },
      { context: 'c', index: 2 },
    ]);
  });

  it('reads that arrive while its request is in flight share its next request: 2 requests serve 5 reads', () => {
    const net = elected();
    const before = net.delivered.length;
    net.core('3').readIndex('f1');
    net.processReady('3');
    // The request for f1 is on its way: these four wait for the follower's next request.
    for (const context of ['f2', 'f3', 'f4', 'f5']) net.core('3').readIndex(context);
    net.processReady('3');
    net.stabilize();
    expect(requestsFrom(net.delivered.slice(before), '3')).toHaveLength(2);
    expect(net.record('3').readStates.map((r) => r.context)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
    for (const read of net.record('3').readStates) expect(read.index).toBe(2);
  });

  it('a request the leader never answers fails within an election timeout; the reads behind it go out next, at a current index', () => {
    const net = elected();
    net.drop((m) => m.type === 'readIndexResponse');
    net.core('3').readIndex('lost');
    net.stabilize();
    // A write commits while the lost request is outstanding; a read that arrives after it waits behind that request.
    net.core('1').propose(utf8('y'));
    net.stabilize();
    expect(net.core('1').commitIndex).toBe(3);
    net.core('3').readIndex('after-write');
    net.heal();
    // The leader keeps its lease with heartbeats; only the request's own bound ends it.
    for (let tick = 1; tick < 10; tick++) {
      net.tick('1');
      net.tick('3');
      net.stabilize();
    }
    expect(net.record('3').droppedReads).toEqual([]);
    expect(net.record('3').readStates).toEqual([]);
    net.tick('1');
    net.tick('3');
    net.stabilize();
    expect(net.record('3').droppedReads).toEqual(['lost']);
    expect(net.record('3').readStates).toEqual([{ context: 'after-write', index: 3 }]);
    // A late answer to the request given up releases nothing.
    const follower = net.core('3');
    follower.step({ type: 'readIndexResponse', from: '1', to: '3', term: follower.term, context: 'lost', index: 2 });
    net.stabilize();
    expect(net.record('3').readStates).toEqual([{ context: 'after-write', index: 3 }]);
    expect(net.record('3').droppedReads).toEqual(['lost']);
  });

  it('a follower that moves to a newer term drops its reads at once: the old leader’s answer can no longer arrive', () => {
    const net = elected();
    net.drop((m) => m.type === 'readIndexResponse');
    const follower = net.core('3');
    follower.readIndex('in-flight');
    net.stabilize();
    follower.readIndex('waiting');
    follower.step({ type: 'heartbeat', from: '2', to: '3', term: 7, commitIndex: 0 });
    const rd = drain(follower);
    expect(rd.droppedReads).toEqual(['in-flight', 'waiting']);
    expect(rd.messages.some((m) => m.type === 'readIndexRequest')).toBe(false);
  });

  it('the answer to a request serves only the reads it carried: a read that arrived later may follow a newer write', () => {
    const net = elected();
    const follower = net.core('3');
    follower.readIndex('early');
    expect(drain(follower).messages.filter((m) => m.type === 'readIndexRequest')).toMatchObject([{ context: 'early' }]);
    follower.readIndex('late');
    follower.step({ type: 'readIndexResponse', from: '1', to: '3', term: follower.term, context: 'early', index: 2 });
    const rd = drain(follower);
    expect(rd.readStates).toEqual([{ context: 'early', index: 2 }]);
    expect(rd.messages.filter((m) => m.type === 'readIndexRequest')).toMatchObject([{ to: '1', context: 'late' }]);
  });

  it("a batch the leader cannot serve fails whole, and the follower's next read goes out at once", () => {
    const net = elected();
    const follower = net.core('3');
    follower.readIndex('x1');
    follower.readIndex('x2');
    const request = drain(follower).messages.find((m) => m.type === 'readIndexRequest');
    expect(request).toMatchObject({ to: '1', context: 'x1' });
    follower.step({ type: 'readIndexResponse', from: '1', to: '3', term: follower.term, context: 'x1', index: -1 });
    expect(drain(follower).droppedReads).toEqual(['x1', 'x2']);
    follower.readIndex('x3');
    expect(drain(follower).messages.filter((m) => m.type === 'readIndexRequest')).toMatchObject([{ context: 'x3' }]);
  });
});
