/**
 * The unsafe local-weights hook (`unsafeLocalWeightsOptions` of `@greenraft/raft/testing`, tests only): it must change every quorum decision the core makes,
 * and nothing when it returns `undefined`. The simulator uses it to show that weights taken from
 * local state lose committed entries (docs/weighted-safety.md).
 */
import { configuration, type NodeId } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { coreNetwork, unsafeLocalWeightsOptions, utf8 } from '../testing.js';

const ids = ['a', 'b', 'c'];

/** A 3-node classic cluster whose cores count quorums with `local.get(id)` when it is set. */
function networkWithLocalWeights(local: Map<NodeId, ReadonlyMap<NodeId, number>>) {
  return coreNetwork({
    bootstrap: configuration(ids),
    options: (id) => ({ preVote: false, ...unsafeLocalWeightsOptions(() => local.get(id)) }),
  });
}

describe('the unsafe local-weights hook (unsafeLocalWeightsOptions)', () => {
  it('without local weights, an isolated node neither wins an election nor commits', () => {
    const net = networkWithLocalWeights(new Map());
    net.partition(['a'], ['b', 'c']);
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('candidate');
    expect(net.core('a').term).toBe(1);
  });

  it('a node whose local weights make it a quorum elects itself and commits alone', () => {
    const local = new Map<NodeId, ReadonlyMap<NodeId, number>>([['a', new Map([['a', 3], ['b', 1], ['c', 1]])]]);
    const net = networkWithLocalWeights(local);
    net.partition(['a'], ['b', 'c']);
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('leader');
    net.core('a').propose(utf8('x'));
    net.stabilize();
    // 3 of 5 by its local vector: committed and applied without any other node holding it.
    expect(net.record('a').applied).toEqual(['x']);
    expect(net.core('b').lastIndex).toBe(0);
    // The configuration in the log is untouched: the override is local and invisible.
    expect([...net.core('a').config.incoming.voters.values()]).toEqual([1, 1, 1]);
  });

  it('check-quorum keeps a leader that local weights say still has a quorum', () => {
    const local = new Map<NodeId, ReadonlyMap<NodeId, number>>();
    const net = networkWithLocalWeights(local);
    net.core('a').campaign();
    net.stabilize();
    expect(net.core('a').role).toBe('leader');
    net.partition(['a'], ['b', 'c']);
    local.set('a', new Map([['a', 3], ['b', 1], ['c', 1]]));
    net.tick('a', 25);
    expect(net.core('a').role).toBe('leader');
    local.delete('a');
    // Within one more election timeout (10 ticks) the check fails: a steps down.
    net.tick('a', 10);
    expect(net.core('a').role).toBe('follower');
  });

  it('the commit quorum the leader reports is counted with the local weights', () => {
    const local = new Map<NodeId, ReadonlyMap<NodeId, number>>([['a', new Map([['a', 1], ['b', 1], ['c', 3]])]]);
    const net = networkWithLocalWeights(local);
    net.core('a').campaign();
    net.stabilize();
    net.core('a').propose(utf8('y'));
    net.stabilize();
    const last = net.record('a').commitQuorums.at(-1)!;
    // c alone outweighs a and b: the quorum needs c's acknowledgement, with weight 3.
    expect(last.acks.find((ack) => ack.id === 'c')?.weight).toBe(3);
  });
});
