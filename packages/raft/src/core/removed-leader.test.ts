/**
 * Raft thesis §4.2.2: "a server that is not part of its own latest configuration should still start
 * new elections, as it might still be needed until the Cnew entry is committed. It does not count
 * its own vote in elections unless it is part of its latest configuration."
 *
 * Found by the simulator (`greenraft sim --nodes 3 --seed-start 85 --steps 2000 --nemesis
 * majority,pause,reconfigure`): a leader removing itself appended C(new), lost leadership before
 * C(new) reached the remaining voter, and the cluster never elected a leader again.
 */
import { configurationsEqual } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic } from './helpers.test-utils.js';
import { type CoreNetwork, coreNetwork } from '../testing.js';

function leaders(net: CoreNetwork): string[] {
  return net.ids.filter((id) => net.isUp(id) && net.core(id).role === 'leader');
}

/** Ticks every node once per round, handling all the traffic in between, until `done` or the rounds run out. */
function runUntil(net: CoreNetwork, rounds: number, done: () => boolean): boolean {
  for (let round = 0; round < rounds; round++) {
    for (const id of net.ids) if (net.isUp(id)) net.tick(id);
    net.stabilize();
    if (done()) return true;
  }
  return false;
}

describe('a leader that removes itself', () => {
  it('still campaigns after losing leadership before C(new) commits, so the change completes', () => {
    const net = coreNetwork({ bootstrap: classic(['1', '2']) });
    net.core('1').campaign();
    net.stabilize();
    const target = classic(['2']);
    const { index: joint } = net.core('1').proposeConfigChange(target);
    // C(old,new) commits; C(new), appended right after, never reaches node 2.
    net.drop((m) => m.type === 'appendRequest' && m.from === '1' && m.entries.some((entry) => entry.index > joint));
    net.stabilize();
    expect(net.core('1').lastIndex).toBe(joint + 1);
    expect(net.core('2').lastIndex).toBe(joint);
    expect(net.core('1').config.outgoing).toBeUndefined();
    // Node 1 loses leadership with C(new) only in its own durable log.
    net.crash('1');
    net.restart('1');
    net.heal();
    expect(net.core('1').role).toBe('follower');
    // Node 2 cannot win alone (it still needs node 1 in C(old)), and node 1 has the newer log:
    // node 1 must campaign, win node 2's vote under C(new), commit C(new) and hand over to node 2.
    const settled = runUntil(net, 200, () => leaders(net).join() === '2' && net.core('2').commitIndex > joint);
    expect(settled).toBe(true);
    expect(configurationsEqual(net.core('2').config.incoming, target)).toBe(true);
    expect(net.core('2').config.outgoing).toBeUndefined();
    // Once it knows C(new) committed, node 1 stays out of elections.
    runUntil(net, 50, () => false);
    expect(leaders(net)).toEqual(['2']);
  });

  it('does not campaign once it knows it was removed', () => {
    const net = coreNetwork({ bootstrap: classic(['1', '2', '3']) });
    net.core('1').campaign();
    net.stabilize();
    net.core('1').proposeConfigChange(classic(['2', '3']));
    net.stabilize();
    expect(net.core('1').role).toBe('follower');
    net.partition(['1'], ['2', '3']);
    const term = net.core('1').term;
    net.tick('1', 100);
    expect(net.core('1').role).toBe('follower');
    expect(net.core('1').term).toBe(term);
  });
});
