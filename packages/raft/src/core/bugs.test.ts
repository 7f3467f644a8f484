/** Each injectable EngineBug visibly changes behaviour (so the simulator's checkers have something to catch). */
import { describe, expect, it } from 'vitest';
import { type CoreNetwork, coreNetwork, ENGINE_BUGS, type EngineBug, engineBugOptions, utf8 } from '../testing.js';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';

function electedWith(bug: EngineBug | undefined): CoreNetwork {
  const net = coreNetwork({ bootstrap: classic(), options: (id) => (id === '1' && bug ? { bug } : {}) });
  net.core('1').campaign();
  net.stabilize();
  return net;
}

/** Runs the same story with and without the bug and returns both outcomes. */
function contrast<T>(bug: EngineBug, story: (net: CoreNetwork) => T): { correct: T; buggy: T } {
  return { correct: story(electedWith(undefined)), buggy: story(electedWith(bug)) };
}

describe('injected engine bugs', () => {
  it('covers every bug in ENGINE_BUGS', () => {
    expect(ENGINE_BUGS).toHaveLength(6);
  });

  it('commit-without-quorum: a partitioned leader commits and applies alone', () => {
    const { correct, buggy } = contrast('commit-without-quorum', (net) => {
      net.partition(['1'], ['2', '3']);
      net.core('1').propose(utf8('lost'));
      net.stabilize();
      return net.record('1').applied;
    });
    expect(correct).toEqual([]);
    expect(buggy).toEqual(['lost']);
  });

  it('vote-twice: a follower grants a second vote in the same term', () => {
    const votes = (bug?: EngineBug) => {
      const core = new RaftCore({ id: '1', bootstrap: classic(), ...engineBugOptions(bug) });
      for (const from of ['2', '3']) {
        core.step({ type: 'voteRequest', from, to: '1', term: 1, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
      }
      return drain(core).messages.map((m) => (m.type === 'voteResponse' ? m.granted : undefined));
    };
    expect(votes()).toEqual([true, false]);
    expect(votes('vote-twice')).toEqual([true, true]);
  });

  it('apply-uncommitted: uncommitted entries reach the state machine', () => {
    const { correct, buggy } = contrast('apply-uncommitted', (net) => {
      net.partition(['1'], ['2', '3']);
      net.core('1').propose(utf8('tentative'));
      net.stabilize();
      return { applied: net.record('1').applied, commit: net.core('1').commitIndex };
    });
    expect(correct).toEqual({ applied: [], commit: 1 });
    expect(buggy).toEqual({ applied: ['tentative'], commit: 1 });
  });

  it('forget-term-on-restart: a restarted node forgets its vote and votes again in the same term', () => {
    const restartAndVote = (bug?: EngineBug) => {
      const first = new RaftCore({ id: '1', bootstrap: classic() });
      first.step({ type: 'voteRequest', from: '2', to: '1', term: 3, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
      const hardState = drain(first).hardState!;
      const again = new RaftCore({ id: '1', bootstrap: classic(), state: { hardState, snapshot: undefined, entries: [] }, ...engineBugOptions(bug) });
      const termAfterRestart = again.term;
      again.step({ type: 'voteRequest', from: '3', to: '1', term: 3, preVote: false, lastLogIndex: 0, lastLogTerm: 0, transfer: false });
      const granted = drain(again).messages.some((m) => m.type === 'voteResponse' && m.granted);
      return { termAfterRestart, granted };
    };
    expect(restartAndVote()).toEqual({ termAfterRestart: 3, granted: false });
    expect(restartAndVote('forget-term-on-restart')).toEqual({ termAfterRestart: 0, granted: true });
  });

  it('read-without-quorum: a partitioned leader serves a read without confirming leadership', () => {
    const { correct, buggy } = contrast('read-without-quorum', (net) => {
      net.partition(['1'], ['2', '3']);
      net.core('1').readIndex('stale?');
      net.stabilize();
      return net.record('1').readStates.map((r) => r.context);
    });
    expect(correct).toEqual([]);
    expect(buggy).toEqual(['stale?']);
  });

  it('config-applied-on-commit: an appended configuration is not in effect until it commits', () => {
    const { correct, buggy } = contrast('config-applied-on-commit', (net) => {
      net.partition(['1'], ['2', '3']);
      net.core('1').proposeConfigChange(classic(['1', '2']));
      return net.core('1').config.outgoing !== undefined;
    });
    expect(correct).toBe(true);
    expect(buggy).toBe(false);
  });
});
