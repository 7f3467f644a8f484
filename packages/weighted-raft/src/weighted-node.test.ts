import {
  ConfigurationError,
  InvalidArgumentError,
  NotLeaderError,
  TimeoutError,
  configuration,
  configurationToJSON,
  totalWeight,
} from '@greenraft/consensus';
import type { ClusterConfig, CommitQuorum, ConsensusNode, NodeId } from '@greenraft/consensus';
import { memoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { MissingScoreInputError, latencyScoring, paperScoring } from '@greenraft/weight-scoring';
import type { NodeScoreInput } from '@greenraft/weight-scoring';
import { afterEach, describe, expect, it } from 'vitest';
import { TradeLedger, VirtualCluster, trade } from './cluster.test-utils.js';
import { planWeightEpoch } from './weight-plan.js';
import { measuredScoreInputs } from './score-inputs.js';
import type {
  LeaderHandoverEvent,
  WeightEpochEvent,
  WeightEpochFailedEvent,
  WeightEpochSkippedEvent,
  WeightsChangeEvent,
} from './weighted-node.js';
import { createWeightedRaftNode } from './weighted-node.js';

const five = ['a', 'b', 'c', 'd', 'e'] as const;
let cluster: VirtualCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A power market's view of five nodes (what a replicated market state machine would hold). */
const market: Record<NodeId, Omit<NodeScoreInput, 'id'>> = {
  a: { kind: 'generation', creditWeight: 98, contracted: 310, actual: 310, participation: 0, greenCertificates: 40, carbonSettlement: 15, transmissions: 200, transmissionFaults: 2 },
  b: { kind: 'generation', creditWeight: 60, contracted: 200, actual: 150, participation: 0, greenCertificates: 5, carbonSettlement: -25, transmissions: 150, transmissionFaults: 30 },
  c: { kind: 'consumption', creditWeight: 96, contracted: 310, actual: 310, participation: 0, greenCertificates: 30, carbonSettlement: 30 },
  d: { kind: 'consumption', creditWeight: 70, contracted: 60, actual: 50, participation: 0, greenCertificates: 0, carbonSettlement: -20 },
  e: { kind: 'consumption', creditWeight: 90, contracted: 250, actual: 250, participation: 0, greenCertificates: 20, carbonSettlement: 5 },
};
const marketInputs = (): NodeScoreInput[] => Object.entries(market).map(([id, input]) => ({ id, ...input }));

/** The weights the paper strategy gives the market above, starting from the classic configuration. */
function expectedMarketWeights(): Record<NodeId, number> {
  const target = planWeightEpoch({ incoming: configuration([...five]) }, paperScoring().score(marketInputs()));
  if (target === undefined) throw new Error('the market should change the weights');
  return configurationToJSON(target).voters;
}

const votersOf = (config: ClusterConfig): Record<NodeId, number> => configurationToJSON(config.incoming).voters;

describe('weighted Raft node: rank-based elections (eq. 7)', () => {
  it('elects the heaviest voter first with the paper\u2019s timeouts (100 + 5·n ms)', async () => {
    cluster = new VirtualCluster(five, { weights: { a: 5, b: 6, c: 9, d: 7, e: 8 } });
    expect(five.map((id) => cluster!.node(id).electionRank())).toEqual([5, 4, 1, 3, 2]);
    await cluster.start();
    const leader = await cluster.leader();
    expect(leader).toBe('c');
    expect(cluster.node('c').status().term).toBe(1);
  });

  it('elects the heaviest voter first for every seed, with jitter and varying link latency', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      cluster = new VirtualCluster(
        five,
        (id) => ({ weights: { a: 6, b: 8, c: 5, d: 9, e: 7 }, seed: seed * 7 + id.charCodeAt(0), electionTimeout: { stepMs: 20, jitterMs: 10 } }),
        { seed, defaultLink: { latency: { min: 1, max: 2 } } },
      );
      await cluster.start();
      const leader = await cluster.leader();
      expect({ seed, leader, term: cluster.node(leader).status().term }).toEqual({ seed, leader: 'd', term: 1 });
      await cluster.stop();
      cluster = undefined;
    }
  });
});

describe('weighted Raft node: weighted quorums', () => {
  it('commits with only the heavy voters\u2019 acknowledgements when the light ones are cut off', async () => {
    // tolerateFailures 1: a and b together may hold the majority (the default for five voters, 2, forbids it).
    cluster = new VirtualCluster(five, { weights: { a: 3, b: 3, c: 1, d: 1, e: 1 }, tolerateFailures: 1 });
    await cluster.start();
    expect(await cluster.leader()).toBe('a'); // a and b tie at 3: a ranks first by id
    cluster.network.partition(['a', 'b'], ['c', 'd', 'e']);
    const quorums: CommitQuorum[] = [];
    cluster.node('a').on('commitQuorum', (quorum) => quorums.push(quorum));
    const { index, result } = await cluster.propose('a', 'g1 → c1: 310 kWh');
    expect(result).toBe(1);
    const quorum = quorums.find((q) => q.index === index)!;
    expect(quorum.acks.map((ack) => [ack.id, ack.weight])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    await cluster.until(() => cluster!.ledgers.get('b')!.trades.length === 1, 'b to apply the trade');
    // The light side weighs 3 of 9: it can elect nobody and applies nothing.
    await cluster.advance(1_000);
    for (const id of ['c', 'd', 'e']) {
      expect(cluster.node(id).status().role).not.toBe('leader');
      expect(cluster.ledgers.get(id)!.trades).toEqual([]);
    }
  });

  it('with equal weights the same two nodes cannot commit (classic Raft)', async () => {
    cluster = new VirtualCluster(five, { weights: { a: 1, b: 1, c: 1, d: 1, e: 1 } });
    await cluster.start();
    expect(await cluster.leader()).toBe('a');
    cluster.network.partition(['a', 'b'], ['c', 'd', 'e']);
    const error = await cluster.settle(cluster.node('a').propose(new TextEncoder().encode('stranded'), { timeoutMs: 400 }).catch((caught: unknown) => caught));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(cluster.ledgers.get('a')!.trades).toEqual([]);
  });

  it('reports which acknowledgements formed each quorum, leader first, up to the one that completed it', async () => {
    cluster = new VirtualCluster(five, { weights: { a: 5, b: 4, c: 4, d: 3, e: 3 } });
    await cluster.start();
    const leader = await cluster.leader();
    expect(leader).toBe('a');
    const quorums: CommitQuorum[] = [];
    cluster.node(leader).on('commitQuorum', (quorum) => quorums.push(quorum));
    const proposed = await cluster.propose(leader, 'c2 → g2: 200 kWh');
    const quorum = quorums.find((q) => q.index === proposed.index)!;
    expect(quorum.term).toBe(proposed.term);
    expect(quorum.acks[0]!.id).toBe('a');
    const config = cluster.node(leader).status().config.incoming;
    const total = totalWeight(config);
    const weights = quorum.acks.map((ack) => ack.weight);
    for (const ack of quorum.acks) {
      expect(ack.weight).toBe(config.voters.get(ack.id));
      // Virtual milliseconds: the leader's memory disk takes none; a follower's answer crosses the 1 ms link twice.
      if (ack.id === leader) expect(ack.latencyMs).toBe(0);
      else expect(ack.latencyMs).toBeGreaterThanOrEqual(2);
    }
    const sum = weights.reduce((s, w) => s + w, 0);
    expect(2 * sum).toBeGreaterThan(total);
    // Minimal: without the last acknowledgement it was not yet a quorum.
    expect(2 * (sum - weights.at(-1)!)).toBeLessThanOrEqual(total);
  });
});

describe('weighted Raft node: weight epochs through the log', () => {
  it('applies new weights by joint consensus after each commit round, the same on every node', async () => {
    const scoredBy: NodeId[] = [];
    cluster = new VirtualCluster(five, (id) => ({
      bootstrap: configuration([...five]),
      scoring: paperScoring(),
      scoreInputs: () => {
        scoredBy.push(id);
        return marketInputs();
      },
    }));
    const follower = 'e';
    const seenByFollower: ClusterConfig[] = [];
    cluster.node(follower).on('configChange', ({ config }) => seenByFollower.push(config));
    const weightsChanges = new Map<NodeId, WeightsChangeEvent[]>(five.map((id) => [id, []]));
    for (const id of five) cluster.node(id).on('weightsChange', (event) => weightsChanges.get(id)!.push(event));
    await cluster.start();
    const leader = await cluster.leader();
    expect(leader).toBe('a');
    await cluster.propose(leader, 'g1 → c1: 310 kWh');
    const expected = expectedMarketWeights();
    await cluster.until(
      () => five.every((id) => cluster!.node(id).status().config.outgoing === undefined && JSON.stringify(votersOf(cluster!.node(id).status().config)) === JSON.stringify(expected)),
      'every node to adopt the market weights',
    );
    expect(new Set(Object.values(expected)).size).toBeGreaterThan(1);
    // The follower saw C(old,new) first, then C(new): the change went through the log.
    expect(seenByFollower).toHaveLength(2);
    expect(seenByFollower[0]!.outgoing).toBeDefined();
    expect(votersOf({ incoming: seenByFollower[0]!.outgoing! })).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    expect(votersOf(seenByFollower[0]!)).toEqual(expected);
    expect(seenByFollower[1]!.outgoing).toBeUndefined();
    for (const id of five) {
      expect(weightsChanges.get(id)!.map((event) => configurationToJSON({ voters: event.weights, learners: new Set() }).voters)).toEqual([expected]);
    }
    // Only the leader scored: followers never compute weights.
    expect(new Set(scoredBy)).toEqual(new Set([leader]));
    // Ranks follow the new weights.
    const ranks = five.map((id) => cluster!.node(id).electionRank());
    const byWeight = [...five].sort((x, y) => expected[y]! - expected[x]! || (x < y ? -1 : 1));
    expect(byWeight.map((id) => ranks[five.indexOf(id)])).toEqual([1, 2, 3, 4, 5]);
  });

  it('waits `epoch` commit rounds between weight changes', async () => {
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]), scoreInputs: marketInputs, epoch: 3 });
    await cluster.start();
    const leader = await cluster.leader();
    await cluster.propose(leader, 'round 1');
    await cluster.propose(leader, 'round 2');
    await cluster.advance(200);
    expect(votersOf(cluster.node(leader).status().config)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    await cluster.propose(leader, 'round 3');
    const expected = expectedMarketWeights();
    await cluster.until(() => JSON.stringify(votersOf(cluster!.node('c').status().config)) === JSON.stringify(expected), 'the weights after round 3');
  });

  it('applies weights on demand with applyWeights() when epoch is 0', async () => {
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]), scoreInputs: marketInputs, epoch: 0 });
    await cluster.start();
    const leader = await cluster.leader();
    for (let round = 1; round <= 3; round++) await cluster.propose(leader, `round ${round}`);
    await cluster.advance(200);
    expect(votersOf(cluster.node(leader).status().config)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });

    const follower = five.find((id) => id !== leader)!;
    await expect(cluster.settle(cluster.node(follower).applyWeights())).rejects.toBeInstanceOf(NotLeaderError);

    const outcome = await cluster.settle(cluster.node(leader).applyWeights());
    const expected = expectedMarketWeights();
    expect(outcome.changed).toBe(true);
    expect(outcome.config.outgoing).toBeUndefined();
    expect(votersOf(outcome.config)).toEqual(expected);
    expect([...outcome.scores.keys()].sort()).toEqual([...five]);
    await cluster.until(() => five.every((id) => JSON.stringify(votersOf(cluster!.node(id).status().config)) === JSON.stringify(expected)), 'every node to adopt the weights');

    const again = await cluster.settle(cluster.node(leader).applyWeights());
    expect(again.changed).toBe(false);
    expect(votersOf(again.config)).toEqual(expected);
  });

  it('reports a failed epoch by event, keeps committing, and retries at the next epoch', async () => {
    let calls = 0;
    cluster = new VirtualCluster(five, {
      bootstrap: configuration([...five]),
      scoreInputs: () => {
        calls++;
        if (calls === 1) throw new Error('the market state is not readable yet');
        return marketInputs();
      },
    });
    const failures: WeightEpochFailedEvent[] = [];
    for (const id of five) cluster.node(id).on('weightEpochFailed', (event) => failures.push(event));
    await cluster.start();
    const leader = await cluster.leader();
    const first = await cluster.propose(leader, 'round 1');
    await cluster.until(() => failures.length === 1, 'the failed epoch to be reported');
    expect(failures[0]).toMatchObject({ epoch: 1, trigger: 'schedule', reason: 'scoring' });
    expect(failures[0]!.error).toBeInstanceOf(InvalidArgumentError);
    expect((failures[0]!.error as InvalidArgumentError).message).toContain('the market state is not readable yet');
    expect(votersOf(cluster.node(leader).status().config)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    const second = await cluster.propose(leader, 'round 2');
    expect(second.index).toBeGreaterThan(first.index);
    const expected = expectedMarketWeights();
    await cluster.until(() => JSON.stringify(votersOf(cluster!.node('b').status().config)) === JSON.stringify(expected), 'the retried epoch');
    expect(calls).toBe(2);
  });

  it('rejects applyWeights without scoreInputs with ConfigurationError, changing nothing', async () => {
    cluster = new VirtualCluster(['a', 'b', 'c'], { weights: { a: 2, b: 2, c: 1 } });
    await cluster.start();
    const leader = await cluster.leader();
    await expect(cluster.settle(cluster.node(leader).applyWeights())).rejects.toBeInstanceOf(ConfigurationError);
    expect(votersOf(cluster.node(leader).status().config)).toEqual({ a: 2, b: 2, c: 1 });
  });
});

describe('weighted Raft node: skipped epochs are not failures', () => {
  it('with epoch 1 on a healthy 3-node cluster, rounds that end while the weights change skip the epoch, and nothing fails', async () => {
    const three = ['a', 'b', 'c'] as const;
    const inputs = (): NodeScoreInput[] => three.map((id) => ({ id, ...market[id]! }));
    cluster = new VirtualCluster(three, { bootstrap: configuration([...three]), scoreInputs: inputs, epoch: 1 });
    const failures: WeightEpochFailedEvent[] = [];
    const skipped: WeightEpochSkippedEvent[] = [];
    const epochs: WeightEpochEvent[] = [];
    for (const id of three) {
      cluster.node(id).on('weightEpochFailed', (event) => failures.push(event));
      cluster.node(id).on('weightEpochSkipped', (event) => skipped.push(event));
      cluster.node(id).on('weightEpoch', (event) => epochs.push(event));
    }
    await cluster.start();
    const leader = await cluster.leader();
    // Round 1 starts an epoch; rounds 2 and 3 are proposed as soon as its C(old,new) is appended,
    // so they commit while the change is in flight.
    const more: Promise<unknown>[] = [];
    cluster.node(leader).on('configChange', ({ config }) => {
      if (config.outgoing !== undefined && more.length === 0) more.push(cluster!.node(leader).propose(trade('round 2')), cluster!.node(leader).propose(trade('round 3')));
    });
    await cluster.propose(leader, 'round 1');
    await cluster.until(() => more.length === 2, 'the first epoch to append C(old,new)');
    await cluster.settle(Promise.all(more));
    await cluster.until(() => three.every((id) => cluster!.node(id).status().config.outgoing === undefined), 'the weight change to finish');
    await cluster.advance(200);
    expect(failures).toEqual([]);
    expect(epochs.map((event) => [event.epoch, event.target !== undefined])).toEqual([[1, true]]);
    expect(skipped.length).toBeGreaterThan(0);
    for (const event of skipped) expect([event.trigger, event.reason]).toEqual(['schedule', 'changeInFlight']);
    expect(skipped[0]!.error).toBeInstanceOf(ConfigurationError);
    const weights = votersOf(cluster.node(leader).status().config);
    expect(new Set(Object.values(weights)).size).toBeGreaterThan(1);
    // A skipped epoch is not lost: the next round runs it (the market is unchanged, so are the weights).
    await cluster.propose(leader, 'round 4');
    expect(epochs.map((event) => [event.epoch, event.target !== undefined])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(epochs[1]!.round).toBeGreaterThan(skipped.at(-1)!.round);
    expect(failures).toEqual([]);
  });

  it('reports applyWeights on a follower as skipped (notLeader), and rejects it', async () => {
    cluster = new VirtualCluster(['a', 'b', 'c'], { bootstrap: configuration(['a', 'b', 'c']), scoreInputs: marketInputs, epoch: 0 });
    const skipped: WeightEpochSkippedEvent[] = [];
    const failures: WeightEpochFailedEvent[] = [];
    cluster.node('b').on('weightEpochSkipped', (event) => skipped.push(event));
    cluster.node('b').on('weightEpochFailed', (event) => failures.push(event));
    await cluster.start();
    expect(await cluster.leader()).toBe('a');
    await expect(cluster.settle(cluster.node('b').applyWeights())).rejects.toBeInstanceOf(NotLeaderError);
    expect(skipped.map((event) => [event.trigger, event.reason])).toEqual([['demand', 'notLeader']]);
    expect((skipped[0]!.error as NotLeaderError).leader).toBe('a');
    expect(failures).toEqual([]);
  });
});

describe('weighted Raft node: latency scoring', () => {
  it('does not starve the voters the leader has not measured yet (a zero-latency network)', async () => {
    // tolerateFailures 1 lets weights differ widely, so starvation would show: unmeasured voters
    // used to score 0 and get weight 1 against the measured ones' 100.
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]), scoring: latencyScoring(), scoreInputs: measuredScoreInputs, tolerateFailures: 1 }, { defaultLink: {} });
    await cluster.start();
    const leader = await cluster.leader();
    for (let round = 1; round <= 5; round++) await cluster.propose(leader, `round ${round}`);
    await cluster.until(() => cluster!.node(leader).status().config.outgoing === undefined, 'the epochs to finish');
    const measured = [...cluster.node(leader).participation().keys()];
    // Only the acknowledgements that completed a quorum are measured: some voters never are.
    expect(measured.length).toBeLessThan(five.length);
    const weights = [...cluster.node(leader).voteWeights().values()];
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(Math.max(...weights) / 2);
  });

  it('fails loudly, changing nothing, when the strategy gets none of its inputs (latency scoring fed market figures)', async () => {
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]), scoring: latencyScoring(), scoreInputs: marketInputs, epoch: 0 });
    const failures: WeightEpochFailedEvent[] = [];
    await cluster.start();
    const leader = await cluster.leader();
    cluster.node(leader).on('weightEpochFailed', (event) => failures.push(event));
    const error = await cluster.settle(cluster.node(leader).applyWeights()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).cause).toBeInstanceOf(MissingScoreInputError);
    expect((error as Error).message).toContain('ackLatencyMs');
    expect(failures.map((event) => event.reason)).toEqual(['scoring']);
    expect(votersOf(cluster.node(leader).status().config)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
  });
});

describe('weighted Raft node: preferred leader', () => {
  it('hands leadership to the heaviest voter once it has caught up, once per weight epoch', async () => {
    cluster = new VirtualCluster(five, { weights: { a: 2, b: 2, c: 3, d: 2, e: 2 }, preferredLeader: true });
    const handovers: LeaderHandoverEvent[] = [];
    for (const id of five) cluster.node(id).on('leaderHandover', (event) => handovers.push(event));
    cluster.network.isolate('c');
    await cluster.start();
    const first = await cluster.leader(['a', 'b', 'd', 'e']);
    expect(first).toBe('a');
    await cluster.propose(first, 'while c was away');
    cluster.network.heal();
    expect(await cluster.leader().then(async () => {
      await cluster!.until(() => cluster!.node('c').status().role === 'leader', 'c to take over');
      return cluster!.leader();
    })).toBe('c');
    expect(handovers).toEqual([{ from: 'a', to: 'c', term: 1 }]);
    expect(cluster.ledgers.get('c')!.trades).toEqual(['while c was away']);

    // Same weights, same epoch: when c drops out and returns, the new leader keeps leading.
    cluster.network.isolate('c');
    const second = await cluster.leader(['a', 'b', 'd', 'e']);
    cluster.network.heal();
    await cluster.propose(second, 'after c returned');
    await cluster.advance(1_000);
    expect(second).toBe('a');
    expect(await cluster.leader()).toBe('a');
    expect(handovers).toEqual([{ from: 'a', to: 'c', term: 1 }]);
  });
});

describe('weighted Raft node: participation (eq. 19)', () => {
  it('counts the acknowledgements that formed each commit quorum', async () => {
    cluster = new VirtualCluster(['a', 'b', 'c'], { weights: { a: 1, b: 1, c: 1 } });
    await cluster.start();
    const leader = await cluster.leader();
    expect(leader).toBe('a');
    cluster.network.isolate('c');
    for (let round = 1; round <= 4; round++) await cluster.propose(leader, `round ${round}`);
    const report = cluster.node(leader).participation();
    expect(report.get('a')).toMatchObject({ quorumAcks: 4, completedQuorums: 0, meanPosition: 1, score: 0 });
    expect(report.get('b')).toMatchObject({ quorumAcks: 4, completedQuorums: 4, meanPosition: 2 });
    // eq. 19 over rounds 1..4: Σ (k + 1)/k = 2 + 1.5 + 4/3 + 1.25
    expect(report.get('b')!.score).toBeCloseTo(2 + 1.5 + 4 / 3 + 1.25);
    expect(report.get('b')!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(report.has('c')).toBe(false);
    // Followers measure nothing: they never lead.
    expect(cluster.node('b').participation().size).toBe(0);
  });
});

describe('weighted Raft node: apply events', () => {
  it('forwards apply to its listeners on any node, for as long as they listen', async () => {
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]) });
    await cluster.start();
    const leader = await cluster.leader();
    const follower = five.find((id) => id !== leader)!;
    const seen = new Map<NodeId, number[]>(five.map((id) => [id, []]));
    const listeners = new Map(five.map((id) => [id, ({ index }: { index: number }) => seen.get(id)!.push(index)]));
    for (const id of five) cluster.node(id).on('apply', listeners.get(id)!);
    const once: number[] = [];
    cluster.node(follower).once('apply', ({ index }) => once.push(index));
    const first = await cluster.propose(leader, 'first');
    await cluster.until(() => five.every((id) => seen.get(id)!.includes(first.index)), 'every node to apply the first entry');
    for (const id of five) cluster.node(id).off('apply', listeners.get(id)!);
    const second = await cluster.propose(leader, 'second');
    await cluster.until(() => five.every((id) => cluster!.node(id).status().appliedIndex >= second.index), 'every node to apply the second entry');
    for (const id of five) expect(seen.get(id), id).toEqual([first.index]);
    expect(once).toEqual([first.index]);
  });

  it('counts commit rounds on whichever node leads, listened to or not', async () => {
    cluster = new VirtualCluster(five, { bootstrap: configuration([...five]), scoreInputs: marketInputs, epoch: 2 });
    await cluster.start();
    const first = await cluster.leader();
    const next = five.find((id) => id !== first)!;
    await cluster.settle(cluster.node(first).transferLeadership(next));
    await cluster.leader();
    await cluster.propose(next, 'round 1');
    expect(votersOf(cluster.node(next).status().config)).toEqual({ a: 1, b: 1, c: 1, d: 1, e: 1 });
    await cluster.propose(next, 'round 2');
    // The new leader counted its own rounds: the weights follow the market after the second.
    const expected = expectedMarketWeights();
    await cluster.until(() => JSON.stringify(votersOf(cluster!.node(next).status().config)) === JSON.stringify(expected), 'the weights after two rounds under the new leader');
  });
});

describe('createWeightedRaftNode: options', () => {
  const base = (id: NodeId) => ({ id, transport: memoryNetwork().transport(id), storage: memoryStorage(), stateMachine: new TradeLedger() });

  it('rejects founding weights that break the fault-tolerance guard, saying which weights to flatten', () => {
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 4, b: 1, c: 1, d: 1, e: 1 }, tolerateFailures: 1 })).toThrow(ConfigurationError);
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 5, b: 4, c: 3, d: 2, e: 1 } })).toThrow(
      'the founding weights {"a":5,"b":4,"c":3,"d":2,"e":1} break the fault-tolerance guard: with tolerateFailures 2 (the default for 5 voters) ' +
        'the 2 heaviest voter(s), a (5), b (4), must weigh less than half the total, but weigh 9 of 15; ' +
        'flatten a, b, c to at most 2: {"a":2,"b":2,"c":2,"d":2,"e":1} keeps the guard',
    );
    // The advice is right: those weights are accepted.
    expect(votersOf(createWeightedRaftNode({ ...base('a'), weights: { a: 2, b: 2, c: 2, d: 2, e: 1 } }).status().config)).toEqual({ a: 2, b: 2, c: 2, d: 2, e: 1 });
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1 }, tolerateFailures: 1 })).toThrow(
      'tolerateFailures 1 needs at least 3 voters with a positive weight; these weights give 2 a positive weight',
    );
    // One or two voters tolerate no failure by default.
    expect(createWeightedRaftNode({ ...base('a'), weights: { a: 1 } }).status().config.incoming.voters.get('a')).toBe(1);
    expect(votersOf(createWeightedRaftNode({ ...base('a'), weights: { a: 3, b: 1 } }).status().config)).toEqual({ a: 3, b: 1 });
  });

  it('rejects weights that do not name the bootstrap voters, and bad options', () => {
    expect(() => createWeightedRaftNode({ ...base('a'), bootstrap: configuration(['a', 'b', 'c']), weights: { a: 1, b: 1, d: 1 } })).toThrow(ConfigurationError);
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 }, epoch: -1 })).toThrow(InvalidArgumentError);
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 }, electionTimeout: { stepMs: -5 } })).toThrow(InvalidArgumentError);
    expect(() => createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 }, scoreInputs: 'market' as never })).toThrow(InvalidArgumentError);
  });

  it('names an unknown option, as JavaScript or a spread would pass it, instead of ignoring it', () => {
    const unknown = (extra: Record<string, unknown>) => () => createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 }, ...extra });
    expect(unknown({ epochs: 2 })).toThrow(InvalidArgumentError);
    expect(unknown({ epochs: 2 })).toThrow(/^createWeightedRaftNode: unknown option "epochs"; known options: id, transport, storage, /);
    expect(unknown({ snapshotTreshold: 10 })).toThrow('createWeightedRaftNode: unknown option "snapshotTreshold"');
    // The election timeout is eq. 7's (electionTimeout), never a policy given here.
    expect(unknown({ policy: {} })).toThrow('createWeightedRaftNode: unknown option "policy"');
    expect(unknown({ electionTimeout: { base: 50 } })).toThrow(
      'createWeightedRaftNode electionTimeout: unknown option "base"; known options: baseMs, stepMs, jitterMs',
    );
    expect(unknown({ electionTimeout: { tickMs: 2 } })).toThrow('createWeightedRaftNode electionTimeout: unknown option "tickMs"');
    expect(unknown({ participation: { step: 2 } })).toThrow('participationTracker: unknown option "step"');
    expect(() => createWeightedRaftNode(undefined as never)).toThrow(InvalidArgumentError);
    // Engine options pass through to the engine.
    const node = createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 }, preVote: false, maxInflightMessages: 4, electionTimeout: { baseMs: 50 } });
    expect(node.status().role).toBe('follower');
  });

  it('computes founding weights from score inputs with the scoring strategy and the guard', () => {
    const node = createWeightedRaftNode({ ...base('a'), weights: { inputs: marketInputs() } });
    expect(votersOf(node.status().config)).toEqual(expectedMarketWeights());
    const withLearner = createWeightedRaftNode({ ...base('a'), bootstrap: configuration([...five], ['l']), weights: { inputs: marketInputs() } });
    expect([...withLearner.status().config.incoming.learners]).toEqual(['l']);
  });

  it('is a ConsensusNode', () => {
    const node: ConsensusNode<number> = createWeightedRaftNode({ ...base('a'), weights: { a: 1, b: 1, c: 1 } });
    expect(node.status()).toMatchObject({ id: 'a', role: 'follower', term: 0 });
  });
});
