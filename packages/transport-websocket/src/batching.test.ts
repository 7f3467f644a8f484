import type { AppendRequest, LogEntry, Message } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET, settle } from './cluster.test-utils.js';
import { type TcpProxy, tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

/** Entry bytes that tell where they belong: a byte out of place (a reused buffer, a shifted copy) shows. */
const pattern = (index: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, k) => (index * 31 + k * 7) & 0xff);

function append(firstIndex: number, sizes: readonly number[]): AppendRequest {
  const entries: LogEntry[] = sizes.map((size, i) => ({ type: 'normal', term: 2, index: firstIndex + i, data: pattern(firstIndex + i, size) }));
  return { type: 'appendRequest', from: 'b', to: 'a', term: 2, prevLogIndex: firstIndex - 1, prevLogTerm: firstIndex > 1 ? 2 : 0, commitIndex: 0, entries };
}

let transports: WebSocketTransport[] = [];
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await Promise.all(transports.map((t) => t.stop()));
  transports = [];
  await proxy?.close();
  proxy = undefined;
});

describe('batches', () => {
  it('deliver every message intact and in order while the socket holds earlier frames (messages encoded meanwhile never overwrite them)', async () => {
    // b accepts a's connections, so what b sends is not masked: the socket keeps b's own frame bytes until it has written them.
    const init = { clusterId: CLUSTER_ID, secret: SECRET, pongTimeoutMs: 30_000 };
    const a = websocketTransport({ id: 'a', ...init });
    const b = websocketTransport({ id: 'b', ...init });
    transports = [a, b];
    proxy = await tcpProxy(Number(new URL(await b.listen()).port));
    a.setPeers({ b: proxy.url });
    b.setPeers({ a: await a.listen() });
    const received: Message[] = [];
    await a.start((m) => received.push(m));
    await b.start(() => {});
    await eventually(() => a.stats().peers['b']!.connected && b.stats().peers['a']!.connected, { what: 'the link' });

    // Small, batch-filling, bulk-lane and larger-than-a-batch messages, heartbeats between them.
    const shapes = [[1, 2, 3], [100], [4000, 4000], [60_000], [20_000], [70_000], [0, 5], [300, 300, 300, 300]];
    const sent: Message[] = [];
    let index = 1;
    const sendSome = (rounds: number): void => {
      for (let round = 0; round < rounds; round++) {
        for (const sizes of shapes) {
          const m = append(index, sizes);
          index += sizes.length;
          sent.push(m);
          b.send(m);
          const heartbeat: Message = { type: 'heartbeat', from: 'b', to: 'a', term: 2, commitIndex: index };
          sent.push(heartbeat);
          b.send(heartbeat);
        }
      }
    };
    // A large message moves AppendEntries to the bulk lane; once that lane has taken them, stall it.
    sendSome(5);
    await eventually(() => b.stats().peers['a']!.queuedMessages === 0 && b.stats().peers['a']!.bulkMessagesSent > 0, { what: 'the bulk lane in use' });
    proxy.setMode('stall');
    // The socket's buffer fills past its mark, the queues fill behind it, batches keep being encoded.
    for (let i = 0; i < 40 && !(b.stats().peers['a']!.bufferedBytes > 0 && b.stats().peers['a']!.queuedMessages > 0); i++) {
      sendSome(2);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const stalled = b.stats().peers['a']!;
    expect(stalled.bufferedBytes).toBeGreaterThan(0);
    expect(stalled.queuedMessages).toBeGreaterThan(0);
    sendSome(3);
    proxy.setMode('pass');
    await eventually(() => received.length === sent.length, { what: 'every message at a', timeoutMs: 20_000 });
    await settle([a, b]);

    const appends = (list: readonly Message[]) => list.filter((m): m is AppendRequest => m.type === 'appendRequest');
    expect(appends(received).map((m) => m.prevLogIndex)).toEqual(appends(sent).map((m) => m.prevLogIndex));
    for (const m of appends(received)) {
      for (const entry of m.entries) {
        if (entry.type !== 'normal') throw new Error('expected normal entries');
        expect(Buffer.compare(entry.data, pattern(entry.index, entry.data.byteLength)), `entry ${entry.index}`).toBe(0);
      }
    }
    expect(received.filter((m) => m.type === 'heartbeat')).toHaveLength(sent.length / 2);
    const after = b.stats().peers['a']!;
    expect(Object.values(after.drops).reduce((sum, n) => sum + n, 0)).toBe(0);
    expect(after.queuedMessages).toBe(0);
    expect(after.queuedBytes).toBe(0);
    expect(after.messagesSent).toBe(sent.length);
  });
});
