import { configuration } from '@greenraft/consensus';
import type { NodeId } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage } from '@greenraft/raft';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET, sleep } from './cluster.test-utils.js';
import { reconnectDelay } from './options.js';
import { type TcpProxy, tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
const minority = new Set(['n1', 'n2']);
const reconnect = { initialDelayMs: 100, maxDelayMs: 800, multiplier: 2, jitter: 0.5 };
const encoder = new TextEncoder();

/**
 * The most connection attempts one link can make in `periodMs` after it went down: each attempt
 * k waits at least min(maxDelayMs, initialDelayMs · multiplier^k) after the previous one fails,
 * whatever the jitter draws.
 */
function attemptsAllowed(periodMs: number): number {
  let elapsed = 0;
  let attempts = 0;
  for (;;) {
    elapsed += reconnectDelay(attempts, reconnect, () => 0);
    if (elapsed > periodMs) return attempts;
    attempts++;
  }
}

const transports = new Map<NodeId, WebSocketTransport>();
const nodes = new Map<NodeId, RaftNode<undefined>>();
/** One proxy per pair, on the dialler's (smaller id's) way to the acceptor. */
const proxies = new Map<string, TcpProxy>();
const pairKey = (a: NodeId, b: NodeId): string => (a < b ? `${a}-${b}` : `${b}-${a}`);
const crossing = (key: string): boolean => {
  const [a, b] = key.split('-') as [NodeId, NodeId];
  return minority.has(a) !== minority.has(b);
};

beforeAll(async () => {
  for (const id of ids) {
    transports.set(id, websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, reconnect, pingIntervalMs: 100, pongTimeoutMs: 500, handshakeTimeoutMs: 500 }));
  }
  const urls = new Map<NodeId, string>();
  for (const [id, t] of transports) urls.set(id, await t.listen());
  for (const dialler of ids) {
    const peers: Record<NodeId, string> = {};
    for (const peer of ids) {
      if (peer === dialler) continue;
      if (dialler < peer) {
        const proxy = await tcpProxy(Number(new URL(urls.get(peer)!).port));
        proxies.set(pairKey(dialler, peer), proxy);
        peers[peer] = proxy.url;
      } else peers[peer] = urls.get(peer)!;
    }
    transports.get(dialler)!.setPeers(peers);
  }
  for (const id of ids) {
    nodes.set(id, createRaftNode({ id, transport: transports.get(id)!, storage: memoryStorage(), stateMachine: { apply: () => undefined, snapshot: () => new Uint8Array(), restore: () => {} }, bootstrap: configuration(ids), tickMs: 10 }));
  }
  await Promise.all([...nodes.values()].map((node) => node.start()));
});

afterAll(async () => {
  await Promise.all([...nodes.values()].map((node) => node.stop()));
  await Promise.all([...transports.values()].map((t) => t.stop()));
  await Promise.all([...proxies.values()].map((p) => p.close()));
});

/** Per pair: the dialler's reconnect attempts and the times its link came up. */
function linkCounters(): Map<string, { reconnects: number; connections: number; connected: boolean }> {
  const counters = new Map<string, { reconnects: number; connections: number; connected: boolean }>();
  for (const [id, t] of transports) {
    for (const [peer, stats] of Object.entries(t.stats().peers)) {
      if (stats.role !== 'dialer') {
        // Acceptors never dial: nothing to storm with.
        expect(stats.reconnects, `${id} → ${peer}`).toBe(0);
        continue;
      }
      counters.set(pairKey(id, peer), { reconnects: stats.reconnects, connections: stats.connections, connected: stats.connected });
    }
  }
  return counters;
}

const leaders = (group: Iterable<NodeId>): NodeId[] => [...group].filter((id) => nodes.get(id)!.status().role === 'leader');

describe('a 5-node cluster over WebSocket, partitioned and healed', () => {
  it('reconnects within the backoff law, with no storm, and converges on one log', async () => {
    await eventually(() => [...linkCounters().values()].every((link) => link.connected), { what: 'all 10 links' });
    await eventually(() => leaders(ids).length === 1, { what: 'a leader' });
    const firstLeader = nodes.get(leaders(ids)[0]!)!;
    await firstLeader.propose(encoder.encode('before the partition'));

    // {n1, n2} | {n3, n4, n5}: six links cut, both ways, existing connections reset.
    const before = linkCounters();
    const cutAt = performance.now();
    for (const [key, proxy] of proxies) if (crossing(key)) proxy.setMode('cut');
    const majority = ids.filter((id) => !minority.has(id));
    await eventually(() => leaders(majority).length === 1 && nodes.get(leaders(majority)[0]!)!.status().term >= firstLeader.status().term, { what: 'a leader in the majority' });
    const majorityLeader = nodes.get(leaders(majority)[0]!)!;
    for (let i = 0; i < 5; i++) await majorityLeader.propose(encoder.encode(`during the partition ${i}`));
    await sleep(Math.max(0, 2500 - (performance.now() - cutAt)));

    const during = linkCounters();
    const partitionMs = performance.now() - cutAt;
    const allowed = attemptsAllowed(partitionMs);
    let attemptsWhileCut = 0;
    for (const [key, link] of during) {
      const attempts = link.reconnects - before.get(key)!.reconnects;
      if (crossing(key)) {
        expect(link.connected, key).toBe(false);
        expect(attempts, `${key} attempts in ${Math.round(partitionMs)} ms`).toBeLessThanOrEqual(allowed);
        expect(attempts, key).toBeGreaterThanOrEqual(1);
        attemptsWhileCut += attempts;
      } else {
        // Links inside a side were never touched.
        expect(attempts, key).toBe(0);
        expect(link.connections, key).toBe(before.get(key)!.connections);
      }
    }
    expect(attemptsWhileCut).toBeLessThanOrEqual(6 * allowed);

    for (const proxy of proxies.values()) proxy.setMode('pass');
    await eventually(() => [...linkCounters().values()].every((link) => link.connected), { what: 'every link to come back', timeoutMs: 15_000 });
    const healedMs = performance.now() - cutAt;
    const after = linkCounters();
    for (const [key, link] of after) {
      const attempts = link.reconnects - before.get(key)!.reconnects;
      expect(attempts, key).toBeLessThanOrEqual(attemptsAllowed(healedMs));
      // Each cut link came back exactly once: no flapping.
      expect(link.connections - before.get(key)!.connections, key).toBe(crossing(key) ? 1 : 0);
    }
    // And stays quiet: a second later nothing has dialled again.
    await sleep(1000);
    for (const [key, link] of linkCounters()) {
      expect(link.reconnects, key).toBe(after.get(key)!.reconnects);
      expect(link.connections, key).toBe(after.get(key)!.connections);
    }

    // The minority rejoins under the majority's leader (pre-vote keeps it from disrupting), and every log agrees.
    const final = await majorityLeader.propose(encoder.encode('after the heal'));
    await eventually(() => ids.every((id) => nodes.get(id)!.status().appliedIndex >= final.index), { what: 'every node to apply the last entry' });
    expect(leaders(ids)).toHaveLength(1);
    const terms = new Set(ids.map((id) => nodes.get(id)!.status().term));
    expect(terms.size).toBe(1);
    const lastIndexes = new Set(ids.map((id) => nodes.get(id)!.status().lastIndex));
    expect(lastIndexes.size).toBe(1);
  });
});
