import { TransportError } from '@greenraft/consensus';
import type { Message, NodeId } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET, loopbackTransports, settle } from './cluster.test-utils.js';
import { tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const heartbeat = (from: string, to: string, commitIndex = 1): Message => ({ type: 'heartbeat', from, to, term: 1, commitIndex });

let opened: WebSocketTransport[] = [];
afterEach(async () => {
  await Promise.all(opened.map((t) => t.stop()));
  opened = [];
});

async function started(ids: readonly NodeId[]): Promise<{ transports: Map<NodeId, WebSocketTransport>; inboxes: Map<NodeId, Message[]> }> {
  const transports = await loopbackTransports(ids, { handshakeTimeoutMs: 500 });
  opened.push(...transports.values());
  const inboxes = new Map<NodeId, Message[]>();
  for (const [id, t] of transports) {
    const inbox: Message[] = [];
    inboxes.set(id, inbox);
    await t.start((m) => inbox.push(m));
  }
  return { transports, inboxes };
}

describe('the peer map at run time', () => {
  it('dials a peer added after start, and drops (and reports) messages to an unknown one', async () => {
    const { transports, inboxes } = await started(['a', 'b']);
    const a = transports.get('a')!;
    const unreachable: NodeId[] = [];
    await a.stop();
    await a.start((m) => inboxes.get('a')!.push(m), { unreachable: (peer) => unreachable.push(peer) });
    a.send(heartbeat('a', 'c'));
    expect(a.stats().drops.unknownPeer).toBe(1);
    await eventually(() => unreachable.includes('c'), { what: 'c to be reported unreachable' });

    const c = websocketTransport({ id: 'c', clusterId: CLUSTER_ID, secret: SECRET });
    opened.push(c);
    const cInbox: Message[] = [];
    const cUrl = await c.listen();
    c.setPeers({ a: a.url!, b: transports.get('b')!.url! });
    await c.start((m) => cInbox.push(m));
    a.setPeers({ b: transports.get('b')!.url!, c: cUrl });
    a.send(heartbeat('a', 'c', 2));
    await eventually(() => cInbox.length === 1, { what: 'the heartbeat at c' });
    expect(cInbox).toEqual([heartbeat('a', 'c', 2)]);
    expect(a.peers()).toEqual(new Map([['b', transports.get('b')!.url!], ['c', cUrl]]));
  });

  it('closes a removed peer\'s connections and forgets it; the peer stops receiving', async () => {
    const { transports, inboxes } = await started(['a', 'b', 'c']);
    const a = transports.get('a')!;
    await eventually(() => a.stats().peers['b']!.connected && a.stats().peers['c']!.connected, { what: 'the links' });
    a.setPeers({ c: transports.get('c')!.url! });
    expect(Object.keys(a.stats().peers)).toEqual(['c']);
    a.send(heartbeat('a', 'b'));
    a.send(heartbeat('a', 'c'));
    await settle(transports.values());
    expect(inboxes.get('b')).toEqual([]);
    expect(inboxes.get('c')).toEqual([heartbeat('a', 'c')]);
    expect(a.stats().drops.unknownPeer).toBe(1);
    await eventually(() => !transports.get('b')!.stats().peers['a']!.connected, { what: 'b to see a go' });
  });

  it('dials a peer at its new URL when the map moves it', async () => {
    const { transports, inboxes } = await started(['a', 'b']);
    const a = transports.get('a')!;
    await eventually(() => a.stats().peers['b']!.connected, { what: 'the link' });
    const proxy = await tcpProxy(Number(new URL(transports.get('b')!.url!).port));
    try {
      a.setPeers({ b: proxy.url });
      await eventually(() => a.stats().peers['b']!.connected && proxy.accepted === 2, { what: 'both lanes through the new address' });
      a.send(heartbeat('a', 'b', 9));
      await eventually(() => inboxes.get('b')!.length === 1, { what: 'the heartbeat' });
      expect(a.stats().peers['b']!.url).toBe(proxy.url);
      expect(a.stats().peers['b']!.connections).toBe(2);
    } finally {
      await a.stop();
      await proxy.close();
    }
  });

  it('refuses a bad map and keeps the old one', async () => {
    const { transports } = await started(['a', 'b']);
    const a = transports.get('a')!;
    const before = a.peers();
    expect(() => a.setPeers({ b: 'ftp://127.0.0.1:1' })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(a.peers()).toEqual(before);
  });
});

describe('lifecycle', () => {
  it('can start again after stop, on the same port, and the peers reconnect', async () => {
    const { transports, inboxes } = await started(['a', 'b']);
    const b = transports.get('b')!;
    const url = b.url!;
    await b.stop();
    expect(b.url).toBeUndefined();
    expect(b.stats().state).toBe('stopped');
    inboxes.get('b')!.length = 0;
    await b.start((m) => inboxes.get('b')!.push(m));
    expect(b.url).toBe(url);
    const a = transports.get('a')!;
    await eventually(() => a.stats().peers['b']!.connected, { what: 'a to reconnect', timeoutMs: 10_000 });
    a.send(heartbeat('a', 'b', 3));
    await eventually(() => inboxes.get('b')!.length === 1, { what: 'the heartbeat after the restart' });
    expect(a.stats().peers['b']!.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('settles a start and a stop that race: the start fails, the transport stays stopped and can start later', async () => {
    const t = websocketTransport({ id: 'a', clusterId: CLUSTER_ID, secret: SECRET });
    opened.push(t);
    const starting = t.start(() => {});
    const stopping = t.stop();
    await expect(starting).rejects.toBeInstanceOf(TransportError);
    await stopping;
    expect(t.stats().state).toBe('stopped');
    expect(t.url).toBeUndefined();
    await t.start(() => {});
    expect(t.stats().state).toBe('started');
    expect(t.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('rejects start with TransportError when the port is taken', async () => {
    const { transports } = await started(['a']);
    const port = Number(new URL(transports.get('a')!.url!).port);
    const squatter = websocketTransport({ id: 'z', clusterId: CLUSTER_ID, secret: SECRET, port });
    await expect(squatter.start(() => {})).rejects.toBeInstanceOf(TransportError);
    await expect(squatter.stop()).resolves.toBeUndefined();
  });

  it('measures round-trip time per peer with pings', async () => {
    const { transports } = await started(['a', 'b']);
    const a = transports.get('a')!;
    await eventually(() => a.stats().peers['b']!.smoothedRttMs !== undefined && transports.get('b')!.stats().peers['a']!.rttMs !== undefined, { what: 'a pong each way' });
    const { rttMs, smoothedRttMs } = a.stats().peers['b']!;
    expect(rttMs).toBeGreaterThan(0);
    expect(smoothedRttMs).toBeGreaterThan(0);
    expect(rttMs).toBeLessThan(5000);
  });

  it('keeps working when the handler throws, and counts it', async () => {
    const transports = await loopbackTransports(['a', 'b']);
    opened.push(...transports.values());
    const seen: number[] = [];
    await transports.get('b')!.start((m) => {
      seen.push((m as { commitIndex: number }).commitIndex);
      if (seen.length === 1) throw new Error('a buggy handler');
    });
    await transports.get('a')!.start(() => {});
    transports.get('a')!.send(heartbeat('a', 'b', 1));
    transports.get('a')!.send(heartbeat('a', 'b', 2));
    await eventually(() => seen.length === 2, { what: 'both heartbeats' });
    expect(transports.get('b')!.stats().handlerErrors).toBe(1);
  });

  it('drops malformed outgoing messages instead of throwing', async () => {
    const { transports } = await started(['a', 'b']);
    const a = transports.get('a')!;
    expect(() => a.send({ type: 'heartbeat', from: 'b', to: 'a', term: 1, commitIndex: 0 })).not.toThrow();
    expect(() => a.send({ type: 'gossip', from: 'a', to: 'b', term: 1 } as unknown as Message)).not.toThrow();
    expect(() => a.send({ type: 'appendRequest', from: 'a', to: 'b', term: 1 } as unknown as Message)).not.toThrow();
    expect(() => a.send(null as unknown as Message)).not.toThrow();
    expect(a.stats().drops.invalidMessage).toBe(4);
  });

  it('drops a message that encodes larger than maxPayload, and says so', async () => {
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message), info() {}, debug() {} };
    const transports = await loopbackTransports(['a', 'b'], (id) => ({ maxPayload: 320 * 1024, ...(id === 'a' ? { logger } : {}) }));
    opened.push(...transports.values());
    for (const t of transports.values()) await t.start(() => {});
    const a = transports.get('a')!;
    a.send({ type: 'appendRequest', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0, entries: [{ type: 'normal', term: 1, index: 1, data: new Uint8Array(400 * 1024) }] });
    expect(a.stats().peers['b']!.drops.oversized).toBe(1);
    expect(warnings.some((w) => w.includes('larger than maxPayload'))).toBe(true);
  });
});
