/**
 * How the driver reacts to what its core and its transport report: an invariant violation stops the
 * node, a read the leader cannot serve fails at once, an unreachable peer is probed.
 */
import { NotLeaderError, StoppedError, TimeoutError } from '@greenraft/consensus';
import type { Message, MessageHandler, NodeId, Transport, TransportEvents } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftPolicy } from '../core/api.js';
import { InvariantViolationError } from '../core/errors.js';
import { memoryStorage } from '../storage/index.js';
import { TestCluster, reading } from './test-cluster.js';

const ids: readonly NodeId[] = ['a', 'b', 'c'];
let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** The endpoint of `id`, with what the node handed it and a say over what it sends. */
interface Tapped {
  readonly transport: Transport;
  deliver(message: Message): void;
  events(): TransportEvents | undefined;
  readonly sent: Message[];
  stops: number;
  /** Messages for which it returns true are not sent. */
  drop: (message: Message) => boolean;
}

function tap(cluster: TestCluster, id: NodeId): Tapped {
  const endpoint = cluster.network.transport(id);
  let handler: MessageHandler | undefined;
  let events: TransportEvents | undefined;
  const tapped: Tapped = {
    transport: {
      localId: id,
      start: (received, reported) => {
        handler = received;
        events = reported;
        return endpoint.start(received, reported);
      },
      send: (message) => {
        tapped.sent.push(message);
        if (!tapped.drop(message)) endpoint.send(message);
      },
      stop: () => {
        tapped.stops++;
        return endpoint.stop();
      },
    },
    deliver: (message) => handler!(message),
    events: () => events,
    sent: [],
    stops: 0,
    drop: () => false,
  };
  return tapped;
}

/** Starts every node of `cluster` on a tapped endpoint; resolves with the taps and the leader. */
async function startTapped(cluster: TestCluster): Promise<{ taps: Map<NodeId, Tapped>; leader: NodeId }> {
  const taps = new Map(ids.map((id) => [id, tap(cluster, id)] as const));
  for (const id of ids) cluster.create(id, memoryStorage(), { transport: taps.get(id)!.transport });
  await Promise.all(ids.map((id) => cluster.node(id).start()));
  return { taps, leader: await cluster.leader() };
}

describe('RaftNode: an invariant violation from the core', () => {
  it('stops the node: a fatal error event, pending operations rejected with StoppedError caused by it, timers and transport stopped', async () => {
    cluster = new TestCluster(ids);
    const c = tap(cluster, 'c');
    // The fault: the core finds itself breaking an invariant while it handles a message.
    const violation = new InvariantViolationError('entry 3 conflicts with the leader\u2019s log but is already committed');
    let armed = false;
    const policy: RaftPolicy = {
      electionTimeoutTicks: ({ electionTicks, random }) => {
        if (armed) throw violation;
        return electionTicks + Math.floor(random() * electionTicks);
      },
    };
    for (const id of ids) cluster.create(id, memoryStorage(), id === 'c' ? { transport: c.transport, policy } : {});
    await Promise.all(ids.map((id) => cluster!.node(id).start()));
    const leader = await cluster.leader();
    const node = cluster.node('c');
    const errors: Error[] = [];
    node.on('error', (error) => errors.push(error));
    // A read that cannot complete: neither its request (on a follower) nor its heartbeat round (on the leader) leaves.
    c.drop = (message) => message.type === 'readIndexRequest' || message.type === 'heartbeat';
    const pending = node.readBarrier({ timeoutMs: 30_000 });
    armed = true;
    const term = node.status().term;
    // A well-typed message at a newer term: the core resets its election timer and throws.
    c.deliver({ type: 'heartbeat', from: leader === 'c' ? 'a' : leader, to: 'c', term: term + 1, commitIndex: 0 });

    const stopped = (await pending.then(
      () => undefined,
      (error: unknown) => error,
    )) as StoppedError;
    expect(stopped).toBeInstanceOf(StoppedError);
    expect(stopped.cause).toBe(violation);
    expect(errors).toEqual([violation]);
    await eventually(() => c.stops === 1, { what: 'the transport to be stopped' });
    await expect(node.propose(reading('after'))).rejects.toBeInstanceOf(StoppedError);
    await expect(node.readBarrier()).rejects.toBeInstanceOf(StoppedError);
    // No tick runs any more: the node sends nothing, however long we wait.
    const sentBefore = c.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(c.sent.length).toBe(sentBefore);
  });
});

describe('RaftNode: reads the leader cannot serve', () => {
  it('a follower read that the leader answers it cannot serve fails at once with NotLeaderError, not by timeout', async () => {
    cluster = new TestCluster(ids);
    const { taps, leader } = await startTapped(cluster);
    const followerId = ids.find((id) => id !== leader)!;
    const follower = taps.get(followerId)!;
    // The request is held back; the leader's answer comes from us: it cannot serve the read.
    follower.drop = (message) => message.type === 'readIndexRequest';
    const started = Date.now();
    const read = cluster.node(followerId).readBarrier({ timeoutMs: 3000 });
    const isRequest = (m: Message): m is Extract<Message, { type: 'readIndexRequest' }> => m.type === 'readIndexRequest';
    await eventually(() => follower.sent.some(isRequest), { what: 'the read request to leave' });
    const request = follower.sent.find(isRequest);
    follower.deliver({ type: 'readIndexResponse', from: leader, to: followerId, term: request!.term, context: request!.context, index: -1 });
    const error = await read.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(NotLeaderError);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(2500);
    // The node goes on serving reads.
    follower.drop = () => false;
    await expect(cluster.node(followerId).readBarrier()).resolves.toBeGreaterThan(0);
  });

  it('a follower read whose request is lost fails within an election timeout with NotLeaderError, not at its deadline', async () => {
    cluster = new TestCluster(ids);
    const { taps, leader } = await startTapped(cluster);
    const followerId = ids.find((id) => id !== leader)!;
    const follower = taps.get(followerId)!;
    follower.drop = (message) => message.type === 'readIndexRequest';
    // Without a bound the read would end by its own deadline, with TimeoutError.
    const error = await cluster
      .node(followerId)
      .readBarrier({ timeoutMs: 4000 })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(NotLeaderError);
    expect(follower.sent.filter((m) => m.type === 'readIndexRequest')).toHaveLength(1);
    follower.drop = () => false;
    await expect(cluster.node(followerId).readBarrier()).resolves.toBeGreaterThan(0);
  });

  it('reads issued on a follower in one turn share one ReadIndex request', async () => {
    cluster = new TestCluster(ids);
    const { taps, leader } = await startTapped(cluster);
    await cluster.node(leader).propose(reading('x'));
    const followerId = ids.find((id) => id !== leader)!;
    const follower = taps.get(followerId)!;
    const sentBefore = follower.sent.length;
    const indexes = await Promise.all(Array.from({ length: 20 }, () => cluster!.node(followerId).readBarrier()));
    expect(new Set(indexes).size).toBe(1);
    expect(indexes[0]).toBeGreaterThanOrEqual(2);
    expect(follower.sent.slice(sentBefore).filter((m) => m.type === 'readIndexRequest')).toHaveLength(1);
  });

  it('a leader that loses its quorum fails its pending read with NotLeaderError when it steps down', async () => {
    cluster = new TestCluster(ids, { electionTicks: 10 });
    await cluster.start();
    const leader = await cluster.leader();
    cluster.network.partition([leader], ids.filter((id) => id !== leader));
    const error = await cluster
      .node(leader)
      .readBarrier({ timeoutMs: 5000 })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(NotLeaderError);
    cluster.network.heal();
  });
});

describe('RaftNode: transport events', () => {
  it('passes TransportEvents to transport.start; an unreachable peer goes from replicate to probe on the leader', async () => {
    cluster = new TestCluster(ids);
    const { taps, leader } = await startTapped(cluster);
    const { index } = await cluster.node(leader).propose(reading('replicated'));
    await cluster.applied(index);
    const peer = ids.find((id) => id !== leader)!;
    const state = () => cluster!.node(leader).status().progress?.get(peer)?.state;
    await eventually(() => state() === 'replicate', { what: `${peer} in replicate state` });
    const events = taps.get(leader)!.events();
    expect(events?.unreachable).toBeTypeOf('function');
    events!.unreachable!(peer);
    expect(state()).toBe('probe');
    // Probing finds the peer again: replication resumes.
    const next = await cluster.node(leader).propose(reading('again'));
    await cluster.applied(next.index);
    await eventually(() => state() === 'replicate', { what: `${peer} back in replicate state` });
  });
});
