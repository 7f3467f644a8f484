import { configuration } from '@greenraft/consensus';
import type { AppendRequest, Message, NodeId, Transport } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET, settle, sleep, totalDrops } from './cluster.test-utils.js';
import { type TcpProxy, tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const MiB = 1024 * 1024;
/** Small bounds so that a test overflows them quickly. */
const bounds = { maxPayload: 512 * 1024, maxQueuedBytes: 1 * MiB, maxQueuedMessages: 256 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function append(from: string, to: string, index: number, bytes: number): AppendRequest {
  return { type: 'appendRequest', from, to, term: 1, prevLogIndex: index - 1, prevLogTerm: index > 1 ? 1 : 0, commitIndex: 0, entries: [{ type: 'normal', term: 1, index, data: new Uint8Array(bytes) }] };
}

/** Heap and off-heap (Buffer) memory after a full collection, when the runtime allows one. */
async function memory(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(10);
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('a peer that never reads', () => {
  it('fills only its own bounded queue; the other peer gets everything, and the node hears it is unreachable', async () => {
    const unreachable: NodeId[] = [];
    const make = (id: string) => websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, ...bounds, pongTimeoutMs: 400, pingIntervalMs: 100, handshakeTimeoutMs: 500 });
    const [a, slow, fast] = [make('a'), make('s'), make('f')];
    cleanups.push(async () => {
      await Promise.all([a, slow, fast].map((t) => t.stop()));
    });
    const slowUrl = await slow.listen();
    const proxy = await tcpProxy(Number(new URL(slowUrl).port));
    cleanups.push(() => proxy.close());
    a.setPeers({ s: proxy.url, f: await fast.listen() });
    slow.setPeers({ a: await a.listen() });
    fast.setPeers({ a: a.url! });
    const atFast: Message[] = [];
    await slow.start(() => {});
    await fast.start((m) => atFast.push(m));
    await a.start(() => {}, { unreachable: (peer) => unreachable.push(peer) });
    await eventually(() => a.stats().peers['s']!.connected && a.stats().peers['f']!.connected, { what: 'both links' });

    proxy.setMode('stall'); // s stops reading: from a's side its sockets simply stop draining
    const before = await memory();
    const total = 400; // 400 × 256 KiB = 100 MiB offered to s
    for (let i = 1; i <= total; i++) {
      a.send(append('a', 's', i, 256 * 1024));
      a.send({ type: 'heartbeat', from: 'a', to: 'f', term: 1, commitIndex: i });
      if (i % 20 === 0) await sleep(5);
    }
    await settle([a, fast]);
    const stats = a.stats();
    const toSlow = stats.peers['s']!;
    // Every heartbeat reached f, none was dropped or held back by s's backlog.
    expect(atFast).toHaveLength(total);
    expect(totalDrops(stats.peers['f']!.drops)).toBe(0);
    // s's queue never held more than its bound; the rest was dropped and counted.
    expect(toSlow.peakQueuedBytes).toBeLessThanOrEqual(bounds.maxQueuedBytes);
    expect(toSlow.queuedBytes).toBeLessThanOrEqual(bounds.maxQueuedBytes);
    expect(toSlow.bufferedBytes).toBeLessThanOrEqual(MiB + bounds.maxPayload);
    const dropped = toSlow.drops.queueFull + toSlow.drops.unreachable + toSlow.drops.disconnected;
    expect(dropped).toBeGreaterThan(total / 2);
    expect(toSlow.messagesSent + toSlow.queuedMessages + dropped).toBe(total);
    expect(unreachable).toContain('s');
    expect(unreachable).not.toContain('f');
    // 100 MiB were offered; far less stayed anywhere in this process.
    expect((await memory()) - before).toBeLessThan(48 * MiB);

    // A peer that stays silent past the pong timeout is disconnected and dialled again.
    await eventually(() => a.stats().peers['s']!.reconnects >= 1, { what: 'a to give up on the stalled connections' });
    proxy.setMode('pass');
    await eventually(() => a.stats().peers['s']!.connected, { what: 'the link to s to come back', timeoutMs: 15_000 });
  });
});

/** Wraps a transport so a test sees every message delivered to the node, with its arrival time. */
function observed(transport: WebSocketTransport, seen: { at: number; message: Message }[]): Transport {
  return {
    localId: transport.localId,
    start: (handler, events) => transport.start((message) => {
      seen.push({ at: performance.now(), message });
      handler(message);
    }, events),
    send: (message) => transport.send(message),
    stop: () => transport.stop(),
  };
}

describe('a stopped follower in a RaftNode cluster', () => {
  it('does not delay the leader\'s heartbeats to the other follower, and its queue stays within bounds', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const transports = new Map<string, WebSocketTransport>();
    for (const id of ids) transports.set(id, websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, ...bounds, pingIntervalMs: 100, pongTimeoutMs: 500, handshakeTimeoutMs: 500, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } }));
    cleanups.push(async () => {
      await Promise.all([...transports.values()].map((t) => t.stop()));
    });
    const urls = new Map<string, string>();
    for (const [id, t] of transports) urls.set(id, await t.listen());
    // Both links into n3 pass through proxies that can stop reading, as a SIGSTOPped n3 would.
    const proxies: TcpProxy[] = [];
    for (const dialler of ['n1', 'n2']) {
      const proxy = await tcpProxy(Number(new URL(urls.get('n3')!).port));
      proxies.push(proxy);
      cleanups.push(() => proxy.close());
      transports.get(dialler)!.setPeers({ ...Object.fromEntries(urls), n3: proxy.url });
    }
    transports.get('n3')!.setPeers(Object.fromEntries(urls));
    const atN2: { at: number; message: Message }[] = [];
    const nodes = new Map<string, RaftNode<undefined>>();
    for (const id of ids) {
      const transport = id === 'n2' ? observed(transports.get(id)!, atN2) : transports.get(id)!;
      nodes.set(id, createRaftNode({ id, transport, storage: memoryStorage(), stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(), restore: () => {} }, bootstrap: configuration(ids), tickMs: 10, ...transports.get(id)!.nodeLimits() }));
    }
    cleanups.push(async () => {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
    });
    await Promise.all([...nodes.values()].map((node) => node.start()));
    const leaderOf = () => [...nodes.values()].find((node) => node.status().role === 'leader');
    await eventually(() => leaderOf() !== undefined, { what: 'a leader' });
    // n1 leads, n2 is the follower that must keep hearing from it, n3 the one that stops.
    if (leaderOf()!.id !== 'n1') await leaderOf()!.transferLeadership('n1');
    await eventually(() => leaderOf()?.id === 'n1' && nodes.get('n2')!.status().leader === 'n1', { what: 'n1 to lead' });
    const leader = leaderOf()!;
    const { term } = leader.status();

    for (const proxy of proxies) proxy.setMode('stall');
    const stalledAt = performance.now();
    // 40 MiB of proposals, 20 in flight at a time: far more than n3's queues can hold.
    const payload = new Uint8Array(128 * 1024);
    let committed = 0;
    for (let round = 0; round < 16; round++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => leader.propose(payload)));
      committed += results.length;
    }
    const stalledFor = performance.now() - stalledAt;

    expect(committed).toBe(320);
    // n2 never missed its leader: no election, the same leader in the same term.
    expect(leader.status()).toMatchObject({ role: 'leader', term });
    expect(nodes.get('n2')!.status()).toMatchObject({ leader: leader.id, term });
    const stats = transports.get(leader.id)!.stats();
    const toN3 = stats.peers['n3']!;
    expect(toN3.peakQueuedBytes).toBeLessThanOrEqual(bounds.maxQueuedBytes);
    expect(toN3.bufferedBytes).toBeLessThanOrEqual(MiB + bounds.maxPayload);
    // Once the stalled connections miss their pongs they are dropped; what the leader sends n3 then is dropped and counted.
    const leaderStats = () => transports.get(leader.id)!.stats();
    await eventually(() => totalDrops(leaderStats().peers['n3']!.drops) > 0, { what: 'drops towards the stopped n3' });
    expect(leaderStats().peers['n3']!.peakQueuedBytes).toBeLessThanOrEqual(bounds.maxQueuedBytes);
    expect(leaderStats().peers['n2']!.drops).toMatchObject({ queueFull: 0, unreachable: 0, disconnected: 0 });
    expect(leader.status()).toMatchObject({ role: 'leader', term });
    // n2 kept hearing from the leader while n3 was stopped.
    const fromLeader = atN2.filter(({ at, message }) => at >= stalledAt && message.from === leader.id);
    expect(fromLeader.length).toBeGreaterThan(100);
    const gaps = fromLeader.slice(1).map(({ at }, i) => at - fromLeader[i]!.at);
    // Informational: the longest silence n2 saw, against the election timeout (10 ticks of 10 ms at least).
    console.info(`stalled for ${Math.round(stalledFor)} ms; longest gap between messages from the leader at n2: ${Math.round(Math.max(...gaps))} ms`);

    for (const proxy of proxies) proxy.setMode('pass');
    const last = leader.status().lastIndex;
    await eventually(() => nodes.get('n3')!.status().appliedIndex >= last, { what: 'n3 to catch up', timeoutMs: 30_000 });
  });
});
