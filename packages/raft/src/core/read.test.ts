/** Linearizable reads: ReadIndex (Raft thesis §6.4), follower reads and lease reads. */
import { NotLeaderError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { type CoreNetwork, coreNetwork, utf8 } from './testing.js';

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
    net.core('1').readIndex('second');
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
