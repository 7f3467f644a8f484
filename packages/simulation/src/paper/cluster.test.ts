import { TimeoutError, configuration } from '@greenraft/consensus';
import { PAPER_CONSENSUS_TIME_PARAMETERS } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import { SimulatedCluster } from './cluster.js';
import { type LinkLatencies, linkKey, linkLatencies, resolveLatencyModel } from './latency.js';
import { MarketScript } from './market-script.js';
import { paperRoster } from './roster.js';

const ids = Array.from({ length: 9 }, (_, i) => String(i + 1));
const latencies = linkLatencies(ids, 5, resolveLatencyModel({ spread: 0.8 }));
const roundTrip = (from: string, to: string, links: LinkLatencies = latencies) => links.get(linkKey(from, to))! + links.get(linkKey(to, from))!;
const payload = new TextEncoder().encode('trade');

describe('SimulatedCluster: consensus time measured on the virtual clock', () => {
  it('classic Raft commits when the median follower acknowledges: its round trip is the consensus time', async () => {
    const cluster = await SimulatedCluster.start({ ids, seed: 1, latencies, policy: 'classic' });
    try {
      cluster.elect('1');
      const commit = cluster.propose(payload);
      // 5 of 9: the leader and the 4 fastest followers, in arrival order.
      const followers = ids.slice(1).sort((a, b) => roundTrip('1', a) - roundTrip('1', b));
      expect(commit.quorum.map((ack) => ack.id)).toEqual(['1', ...followers.slice(0, 4)]);
      expect(commit.ms).toBeCloseTo(roundTrip('1', followers[3]!), 9);
      expect(commit.quorum.at(-1)!.latencyMs).toBeCloseTo(commit.ms, 9);
      // Fixed links: the next consensus takes exactly as long.
      expect(cluster.propose(payload).ms).toBeCloseTo(commit.ms, 9);
      // Heartbeats aside: 8 appends and their 8 acknowledgements, then the new commit index to the
      // 8 followers and their 8 answers.
      expect(commit.messages).toBe(4 * 8);
    } finally {
      cluster.close();
    }
  });

  it('weighted Raft commits once the acknowledgements pass half the weight: heavy fast nodes shorten it', async () => {
    const followers = ids.slice(1).sort((a, b) => roundTrip('1', a) - roundTrip('1', b));
    // The two fastest followers weigh 5 each, the rest 1: leader (1) + 5 + 5 = 11 > 17 / 2.
    const weights = new Map(ids.map((id) => [id, followers.indexOf(id) === 0 || followers.indexOf(id) === 1 ? 5 : 1]));
    const cluster = await SimulatedCluster.start({ ids, seed: 1, latencies, policy: 'weighted', bootstrap: configuration(weights) });
    try {
      cluster.elect('1');
      const commit = cluster.propose(payload);
      expect(commit.quorum.map((ack) => ack.id)).toEqual(['1', followers[0], followers[1]]);
      expect(commit.ms).toBeCloseTo(roundTrip('1', followers[1]!), 9);
      expect(commit.ms).toBeLessThan(roundTrip('1', followers[3]!));
    } finally {
      cluster.close();
    }
  });

  it('changes weights by joint consensus, C(old,new) then C(new), on every node', async () => {
    const cluster = await SimulatedCluster.start({ ids, seed: 1, latencies, policy: 'weighted' });
    try {
      cluster.elect('1');
      const before = cluster.core('1').lastIndex;
      const target = configuration(new Map(ids.map((id, i) => [id, i + 1])));
      const change = cluster.changeWeights(target);
      const entries = cluster.core('1').entriesFrom(before + 1);
      expect(entries.map((entry) => (entry.type === 'config' ? (entry.config.outgoing === undefined ? 'C(new)' : 'C(old,new)') : entry.type))).toEqual(['C(old,new)', 'C(new)']);
      // Two entries, each at least the fastest quorum's round trip; C(new) rides on C(old,new)'s commit index.
      const fastest = Math.min(...ids.slice(1).map((id) => roundTrip('1', id)));
      expect(change.ms).toBeGreaterThan(2 * fastest);
      expect(change.messages).toBeGreaterThanOrEqual(6 * 8);
      cluster.runFor(100);
      for (const id of ids) expect(cluster.core(id).config.incoming.voters).toEqual(target.voters);
    } finally {
      cluster.close();
    }
  });

  it('does not commit without a quorum: crashing a majority times out', async () => {
    const cluster = await SimulatedCluster.start({ ids, seed: 1, latencies, policy: 'classic' });
    try {
      cluster.elect('1');
      for (const id of ['2', '3', '4', '5', '6']) cluster.crash(id);
      expect(() => cluster.propose(payload, 1_000)).toThrow(TimeoutError);
    } finally {
      cluster.close();
    }
  });

  it('replicates the market: a follower’s replica reaches the leader’s ledger', async () => {
    const roster = paperRoster(5, 3);
    const five = roster.nodes.map((node) => node.id);
    const script = new MarketScript({ roster, seed: 3, carbonCycle: 2 });
    const cluster = await SimulatedCluster.start({
      ids: five,
      seed: 3,
      latencies: linkLatencies(five, 3, resolveLatencyModel()),
      policy: 'classic',
      market: { parameters: PAPER_CONSENSUS_TIME_PARAMETERS, carbonCycle: 2 },
    });
    try {
      cluster.elect('1');
      cluster.propose(script.registrationEntry());
      let acks: string[] = [];
      for (let round = 1; round <= 4; round++) acks = cluster.propose(script.entry(round, '1', acks)).quorum.map((ack) => ack.id);
      cluster.runFor(100); // followers learn the last commit from the next heartbeat
      const leader = cluster.replica('1').market();
      const follower = cluster.replica('4').market();
      expect(leader.round()).toBe(4);
      expect(follower.ledgerHead()).toEqual(leader.ledgerHead());
      expect(cluster.replica('1').refused).toEqual([]);
      // Participation (eq. 19) came from the recorded quorums: the followers that acknowledged earned some.
      expect(leader.node(acks[1]!)!.participation).toBeGreaterThan(0);
    } finally {
      cluster.close();
    }
  });
});
