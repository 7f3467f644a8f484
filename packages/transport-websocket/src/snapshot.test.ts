import { configuration } from '@greenraft/consensus';
import type { Message, NodeId, Transport } from '@greenraft/consensus';
import { AppendOnlyJournal, eventually } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET } from './cluster.test-utils.js';
import { type TcpProxy, tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts the snapshot chunks a node is handed, by offset. */
function counting(transport: WebSocketTransport, offsets: number[]): Transport {
  return {
    localId: transport.localId,
    start: (handler, events) => transport.start((message: Message) => {
      if (message.type === 'snapshotRequest') offsets.push(message.offset);
      handler(message);
    }, events),
    send: (message) => transport.send(message),
    stop: () => transport.stop(),
  };
}

/** The size of the snapshot the leader sends: the journal's serialised records. */
const leaderSnapshotBytes = (journal: AppendOnlyJournal): number => journal.snapshot().byteLength;

describe('snapshots over WebSocket', () => {
  it('sends a snapshot in chunks that fit maxPayload, and completes it after the link breaks mid-transfer', async () => {
    const ids = ['n1', 'n2', 'n3'];
    const chunk = 16 * 1024;
    const make = (id: NodeId) =>
      websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, maxPayload: chunk + 128 * 1024, snapshotChunkBytes: chunk, pingIntervalMs: 100, pongTimeoutMs: 1000, reconnect: { initialDelayMs: 100, maxDelayMs: 200 } });
    const transports = new Map(ids.map((id) => [id, make(id)]));
    cleanups.push(async () => {
      await Promise.all([...transports.values()].map((t) => t.stop()));
    });
    const urls = new Map<NodeId, string>();
    for (const [id, t] of transports) urls.set(id, await t.listen());
    // n3's inbound links go through proxies that are slowed down, then cut, while the snapshot crosses.
    const proxies: TcpProxy[] = [];
    for (const dialler of ['n1', 'n2']) {
      const proxy = await tcpProxy(Number(new URL(urls.get('n3')!).port));
      proxies.push(proxy);
      cleanups.push(() => proxy.close());
      transports.get(dialler)!.setPeers({ ...Object.fromEntries(urls), n3: proxy.url });
    }
    transports.get('n3')!.setPeers(Object.fromEntries(urls));

    const journals = new Map(ids.map((id) => [id, new AppendOnlyJournal()]));
    const offsets: number[] = [];
    const nodes = new Map<NodeId, RaftNode<string>>();
    const create = (id: NodeId) => {
      const transport = transports.get(id)!;
      const node = createRaftNode({
        id, transport: id === 'n3' ? counting(transport, offsets) : transport, storage: memoryStorage(), stateMachine: journals.get(id)!,
        bootstrap: configuration(ids), tickMs: 10, snapshotThreshold: 50, ...transport.nodeLimits(),
      });
      nodes.set(id, node);
      return node;
    };
    cleanups.push(async () => {
      await Promise.all([...nodes.values()].map((node) => node.stop()));
    });
    await Promise.all(['n1', 'n2'].map((id) => create(id).start()));
    await eventually(() => [...nodes.values()].some((node) => node.status().role === 'leader'), { what: 'a leader of n1, n2' });
    const leader = [...nodes.values()].find((node) => node.status().role === 'leader')!;
    // 120 entries of 2 KiB while n3 is away: the leader snapshots and compacts past them.
    const payload = new Uint8Array(2048).fill(7);
    for (let i = 0; i < 120; i++) await leader.propose(payload);
    await eventually(() => leader.status().appliedIndex >= 100, { what: 'the proposals' });

    for (const proxy of proxies) proxy.throttle(64 * 1024); // a snapshot of ~200 KiB now takes seconds
    await create('n3').start();
    await eventually(() => offsets.length >= 2, { what: 'the first chunks at n3', timeoutMs: 20_000 });
    for (const proxy of proxies) proxy.setMode('cut');
    await eventually(() => !transports.get(leader.id)!.stats().peers['n3']!.connected, { what: 'the link to n3 to break' });
    const beforeHeal = offsets.length;
    for (const proxy of proxies) {
      proxy.throttle(undefined);
      proxy.setMode('pass');
    }
    const last = leader.status().lastIndex;
    await eventually(() => nodes.get('n3')!.status().appliedIndex >= last, { what: 'n3 to install the snapshot and catch up', timeoutMs: 30_000 });

    // Every chunk fitted in a frame: nothing was dropped as oversized on either side.
    expect(transports.get(leader.id)!.stats().peers['n3']!.drops.oversized).toBe(0);
    expect(transports.get('n3')!.stats().peers[leader.id]!.drops.oversizedFrame).toBe(0);
    // The transfer spanned the break: chunks before it, the rest after it, many distinct chunks in all.
    expect(beforeHeal).toBeGreaterThanOrEqual(2);
    expect(offsets.length).toBeGreaterThan(beforeHeal);
    expect(new Set(offsets).size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...offsets)).toBeLessThan(leaderSnapshotBytes(journals.get(leader.id)!));
    expect(journals.get('n3')!.records.slice(-10)).toEqual(journals.get(leader.id)!.records.slice(-10));
    expect(nodes.get('n3')!.status().lastIndex).toBe(leader.status().lastIndex);
  });
});
