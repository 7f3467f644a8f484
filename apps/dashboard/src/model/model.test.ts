/** The model turns events into what the views show, whichever source sent them. */
import { describe, expect, it } from 'vitest';
import type { ConfigView, DashboardEvent } from './events.js';
import { DashboardModel, PAGE } from './model.js';

const plain: ConfigView = { voters: { a: 3, b: 2, c: 2 }, learners: [], outgoing: null };
const joint: ConfigView = { voters: { a: 1, b: 3, c: 2 }, learners: [], outgoing: { a: 3, b: 2, c: 2 } };

function status(node: string, role: 'leader' | 'follower' | 'candidate', term: number, commitIndex: number, config: ConfigView = plain, at = 1000): DashboardEvent {
  return { type: 'status', at, node, role, term, leader: role === 'leader' ? node : 'a', commitIndex, appliedIndex: commitIndex, config };
}

/** A status that names no leader (an election is on, or the node has not heard from one). */
function leaderless(node: string, role: 'follower' | 'candidate', term: number, commitIndex: number): DashboardEvent {
  return { type: 'status', at: 1000, node, role, term, leader: null, commitIndex, appliedIndex: commitIndex, config: plain };
}

function feed(model: DashboardModel, events: readonly DashboardEvent[]): DashboardModel {
  for (const event of events) model.apply(event);
  return model;
}

describe('the dashboard model', () => {
  it('knows each node, the leader, and the weights of the configuration in force', () => {
    const model = feed(new DashboardModel(), [
      { type: 'roster', at: 0, participants: [{ id: 'a', kind: 'generation', renewable: true }, { id: 'b', kind: 'consumption', renewable: false }, { id: 'c', kind: 'generation', renewable: false }] },
      status('a', 'leader', 2, 10),
      status('b', 'follower', 2, 9, joint),
      status('c', 'follower', 1, 4),
    ]);
    expect(model.nodes().map((node) => [node.id, node.kind, node.role, node.weight])).toEqual([
      ['a', 'generation', 'leader', 3],
      ['b', 'consumption', 'follower', 2],
      ['c', 'generation', 'follower', 2],
    ]);
    expect(model.leader()?.id).toBe('a');
    expect(model.term()).toBe(2);
    // The leader's configuration is the one in force, not a follower's newer joint one.
    expect(model.configInForce()).toEqual(plain);
    model.apply(status('a', 'leader', 2, 11, joint));
    expect(model.configInForce()?.outgoing).toEqual({ a: 3, b: 2, c: 2 });
    expect(model.node('b')?.weight).toBe(3);
  });

  it('lists nodes in roster order, then the others by id', () => {
    const model = feed(new DashboardModel(), [status('z', 'follower', 1, 1), status('b', 'follower', 1, 1), status('a', 'leader', 1, 1)]);
    expect(model.nodes().map((node) => node.id)).toEqual(['a', 'b', 'z']);
    model.apply({ type: 'roster', at: 2, participants: [{ id: 'z', kind: 'consumption', renewable: false }] });
    expect(model.nodes().map((node) => node.id)).toEqual(['z', 'a', 'b']);
  });

  it('drops a crashed leader, and takes the next from the highest term', () => {
    const model = feed(new DashboardModel(), [status('a', 'leader', 2, 10), status('b', 'follower', 2, 10), { type: 'down', at: 2000, node: 'a', reason: 'crashed' }]);
    expect(model.node('a')?.role).toBe('down');
    expect(model.node('a')?.up).toBe(false);
    expect(model.leader()).toBeUndefined();
    model.apply(status('b', 'leader', 3, 12));
    expect(model.leader()?.id).toBe('b');
    // The crashed node reports again: up, as what it says it is.
    model.apply(status('a', 'follower', 3, 12));
    expect(model.node('a')?.role).toBe('follower');
    expect(model.configInForce()).toEqual(plain);
  });

  it('keeps one leader per term and counts every term seen as an election', () => {
    const model = feed(new DashboardModel(), [
      { type: 'election', at: 1, node: 'a', term: 1 },
      { type: 'leader', at: 2, reporter: 'b', leader: 'a', term: 1 },
      { type: 'leader', at: 3, reporter: 'c', leader: 'a', term: 1 },
      { type: 'election', at: 4, node: 'b', term: 2 },
      { type: 'election', at: 5, node: 'c', term: 2 },
      { type: 'leader', at: 6, reporter: 'b', leader: null, term: 2 },
      { type: 'leader', at: 7, reporter: 'c', leader: 'c', term: 3 },
    ]);
    expect(model.leaderHistory()).toEqual([
      { term: 1, leader: 'a', since: 2 },
      { term: 3, leader: 'c', since: 7 },
    ]);
    // Terms 1–3 each began with a campaign; term 2 ended without a leader; a, b, c and c again stood.
    expect(model.elections()).toEqual({ elections: 3, failed: 1, led: 2, candidacies: 4 });
  });

  it('counts the terms it sees in statuses, whether or not a candidate was caught', () => {
    // The live page samples statuses: it sees term 4 begin with nobody caught campaigning.
    const model = feed(new DashboardModel(), [status('a', 'leader', 3, 10), status('b', 'follower', 3, 10)]);
    expect(model.elections()).toEqual({ elections: 1, failed: 0, led: 1, candidacies: 1 });
    model.apply(leaderless('b', 'follower', 4, 10));
    // Term 4 has no leader yet, but it may still get one: not failed.
    expect(model.elections()).toEqual({ elections: 2, failed: 0, led: 1, candidacies: 1 });
    model.apply(leaderless('c', 'candidate', 5, 10));
    expect(model.elections()).toEqual({ elections: 3, failed: 1, led: 1, candidacies: 2 });
    // A late report of term 4's leader: it did not fail after all. Term 0 is no election.
    feed(model, [{ type: 'leader', at: 5, reporter: 'a', leader: 'b', term: 4 }, leaderless('d', 'follower', 0, 0)]);
    expect(model.elections()).toEqual({ elections: 3, failed: 0, led: 2, candidacies: 3 });
    expect(model.leaderHistory().map((entry) => [entry.term, entry.leader])).toEqual([
      [3, 'a'],
      [4, 'b'],
    ]);
  });

  it('keeps counting terms once it forgets the oldest', () => {
    const model = new DashboardModel();
    // Even terms elect a leader, odd ones fail; 1500 of them, more than the model keeps.
    for (let term = 1; term <= 1500; term++) model.apply(term % 2 === 0 ? { type: 'leader', at: term, reporter: 'a', leader: 'a', term } : { type: 'election', at: term, node: 'b', term });
    model.apply({ type: 'election', at: 1501, node: 'c', term: 1501 });
    // A report of a forgotten term changes nothing.
    model.apply({ type: 'leader', at: 1502, reporter: 'a', leader: 'a', term: 3 });
    expect(model.elections()).toEqual({ elections: 1501, failed: 750, led: 750, candidacies: 1501 });
  });

  it('forgets the oldest term first when a term arrives late, below the highest one seen', () => {
    const model = new DashboardModel();
    // Even terms 2–2000 elected a leader: as many terms as the model keeps.
    for (let term = 2; term <= 2000; term += 2) model.apply({ type: 'leader', at: term, reporter: 'a', leader: 'a', term });
    // A lagging node tells of term 3, then term 5, both leaderless: terms 2 and then 3 are forgotten, not 4.
    model.apply({ type: 'election', at: 2001, node: 'b', term: 3 });
    model.apply({ type: 'election', at: 2002, node: 'b', term: 5 });
    expect(model.elections()).toEqual({ elections: 1002, failed: 2, led: 1000, candidacies: 1002 });
    // Term 3 is forgotten (its report changes nothing); term 5 is kept and gets its leader.
    model.apply({ type: 'leader', at: 2003, reporter: 'a', leader: 'c', term: 3 });
    model.apply({ type: 'leader', at: 2004, reporter: 'a', leader: 'b', term: 5 });
    expect(model.elections()).toEqual({ elections: 1002, failed: 1, led: 1001, candidacies: 1002 });
  });

  it('reports each quorum with the weight it reached, and samples latency and throughput per second', () => {
    const model = feed(new DashboardModel({ quorums: 2 }), [status('a', 'leader', 2, 10)]);
    model.sample(10_000);
    const quorum = (index: number, latency: number): DashboardEvent => ({ type: 'commitQuorum', at: 10_100, leader: 'a', index, term: 2, acks: [{ id: 'a', weight: 3, latencyMs: 0 }, { id: 'c', weight: 2, latencyMs: latency }] });
    feed(model, [quorum(12, 4), quorum(15, 8), quorum(20, 12)]);
    expect(model.quorums().map((q) => [q.index, q.weight, q.total])).toEqual([
      [20, 5, 7],
      [15, 5, 7],
    ]);
    model.sample(12_000);
    const point = model.series().at(-1)!;
    expect(point.commitLatencyMs).toBe(8);
    expect(point.commitLatencyMaxMs).toBe(12);
    expect(point.throughput).toBe(5); // 10 entries (10 → 20) in 2 s
    model.sample(13_000);
    expect(model.series().at(-1)).toMatchObject({ commitLatencyMs: null, throughput: 0 });
  });

  it('keeps the latest round trips and event-loop lag, and forgets lag that stopped coming', () => {
    const model = feed(new DashboardModel(), [
      { type: 'rtt', at: 1, from: 'a', to: 'b', rttMs: 5 },
      { type: 'rtt', at: 2, from: 'a', to: 'b', rttMs: 7 },
      { type: 'rtt', at: 2, from: 'a', to: 'c', rttMs: 3 },
      { type: 'lag', at: 1000, node: null, meanMs: 2, maxMs: 9 },
      { type: 'lag', at: 9000, node: 'b', meanMs: 1, maxMs: 1 },
    ]);
    expect(model.roundTrips().map((trip) => [trip.to, trip.rttMs])).toEqual([
      ['b', 7],
      ['c', 3],
    ]);
    // A former leader's links age out once newer measurements come in.
    model.apply({ type: 'rtt', at: 9000, from: 'b', to: 'a', rttMs: 4 });
    expect(model.roundTrips().map((trip) => `${trip.from}>${trip.to}`)).toEqual(['b>a']);
    model.sample(10_000);
    expect(model.series().at(-1)?.lagMs).toEqual({ b: 1 });
    expect(model.eventLoopLag().get(PAGE)).toEqual({ meanMs: 2, maxMs: 9, at: 1000 });
  });

  it('merges ledger blocks by height, newest first, and numbers log lines', () => {
    const block = (height: number, summary: string) => ({ height, hash: `h${height}`, index: height + 1, term: 1, transactions: [{ type: 'recordCarbon', signer: 'a', nonce: height, summary }] });
    const model = feed(new DashboardModel({ blocks: 3, logLines: 2 }), [
      { type: 'blocks', at: 1, blocks: [block(1, 'one'), block(2, 'two')] },
      { type: 'blocks', at: 2, blocks: [block(2, 'two again'), block(3, 'three'), block(4, 'four')] },
      { type: 'log', at: 1, level: 'info', text: 'first' },
      { type: 'log', at: 2, level: 'warn', text: 'second' },
      { type: 'log', at: 3, level: 'info', text: 'third' },
      { type: 'ledgerHead', at: 4, head: { height: 4, hash: 'h4', index: 5, term: 1, appliedIndex: 6 } },
    ]);
    expect(model.market().blocks.map((b) => [b.height, b.transactions[0]!.summary])).toEqual([
      [4, 'four'],
      [3, 'three'],
      [2, 'two again'],
    ]);
    expect(model.log().map((line) => [line.seq, line.text])).toEqual([
      [3, 'third'],
      [2, 'second'],
    ]);
    expect(model.market().head?.appliedIndex).toBe(6);
  });

  it('tells its views when something changed', () => {
    const model = new DashboardModel();
    let changes = 0;
    model.on('change', () => changes++);
    feed(model, [status('a', 'leader', 1, 1), { type: 'scores', at: 1, strategy: 'paper', scores: { a: { credit: 80, volume: 50, participation: 0, greenCertificates: 0, carbon: 50, lineFaults: 100, total: 48 } } }]);
    model.sample(5000);
    expect(changes).toBe(3);
    expect(model.node('a')?.scores?.total).toBe(48);
    expect(model.strategy()).toBe('paper');
  });
});
