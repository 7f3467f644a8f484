import { configuration } from '@greenraft/consensus';
import type { AppendRequest, LogEntry, Message, SnapshotRequest } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET, settle, sleep } from './cluster.test-utils.js';
import { type TcpProxy, tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const heartbeat = (commitIndex: number): Message => ({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex });
const vote = (lastLogIndex: number): Message => ({ type: 'voteRequest', from: 'a', to: 'b', term: 2, preVote: true, lastLogIndex, lastLogTerm: 1, transfer: false });

function append(firstIndex: number, count: number, entryBytes: number): AppendRequest {
  const entries: LogEntry[] = Array.from({ length: count }, (_, i) => ({ type: 'normal', term: 1, index: firstIndex + i, data: new Uint8Array(entryBytes).fill(i % 256) }));
  return { type: 'appendRequest', from: 'a', to: 'b', term: 1, prevLogIndex: firstIndex - 1, prevLogTerm: firstIndex > 1 ? 1 : 0, commitIndex: 0, entries };
}

const label = (m: Message): string => (m.type === 'appendRequest' ? `append@${m.prevLogIndex + 1}` : m.type === 'snapshotRequest' ? `chunk@${m.offset}` : `${m.type}#${m.type === 'heartbeat' ? m.commitIndex : m.type === 'voteRequest' ? m.lastLogIndex : ''}`);

let transports: WebSocketTransport[] = [];
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await Promise.all(transports.map((t) => t.stop()));
  transports = [];
  await proxy?.close();
  proxy = undefined;
});

/** a dials b through a proxy whose dialler → b direction can be throttled; b records arrivals. */
async function pair(): Promise<{ a: WebSocketTransport; b: WebSocketTransport; arrivals: string[]; aReceived: Message[] }> {
  const init = { clusterId: CLUSTER_ID, secret: SECRET, maxPayload: 8 * 1024 * 1024, maxQueuedBytes: 32 * 1024 * 1024, pongTimeoutMs: 30_000 };
  const a = websocketTransport({ id: 'a', ...init });
  const b = websocketTransport({ id: 'b', ...init });
  transports = [a, b];
  const bUrl = await b.listen();
  proxy = await tcpProxy(Number(new URL(bUrl).port));
  a.setPeers({ b: proxy.url });
  b.setPeers({ a: await a.listen() });
  const arrivals: string[] = [];
  const aReceived: Message[] = [];
  await b.start((m) => arrivals.push(label(m)));
  await a.start((m) => aReceived.push(m));
  await eventually(() => a.stats().peers['b']!.connected && b.stats().peers['a']!.connected, { what: 'the link' });
  return { a, b, arrivals, aReceived };
}

describe('lanes', () => {
  it('keeps every message in send order on an idle link, small AppendEntries included', async () => {
    const { a, b, arrivals } = await pair();
    const sent: Message[] = [];
    for (let i = 1; i <= 50; i++) sent.push(heartbeat(i), append(i, 2, 100), vote(i));
    for (const m of sent) a.send(m);
    await settle([a, b]);
    expect(arrivals).toEqual(sent.map(label));
    expect(a.stats().peers['b']!.bulkMessagesSent).toBe(0);
  });

  it('delivers votes and heartbeats ahead of a large AppendEntries still crossing a slow link, and the answers come back meanwhile', async () => {
    const { a, b, arrivals, aReceived } = await pair();
    proxy!.throttle(1024 * 1024); // 1 MiB/s from a to b
    a.send(append(1, 32, 64 * 1024)); // 2 MiB: two seconds on this link
    for (let i = 1; i <= 5; i++) {
      a.send(heartbeat(i));
      a.send(vote(i));
    }
    // b answers each vote while the append is still on its way.
    const answered = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (arrivals.filter((x) => x.startsWith('voteRequest')).length === 5) {
          for (let i = 1; i <= 5; i++) b.send({ type: 'voteResponse', from: 'b', to: 'a', term: 2, preVote: true, granted: true });
          clearInterval(check);
          resolve();
        }
      }, 1);
    });
    await answered;
    await eventually(() => aReceived.length === 5, { what: 'the vote responses at a' });
    expect(arrivals).not.toContain('append@1');
    await eventually(() => arrivals.includes('append@1'), { what: 'the large append', timeoutMs: 20_000 });
    const appendAt = arrivals.indexOf('append@1');
    expect(arrivals.slice(0, appendAt).sort()).toEqual([1, 2, 3, 4, 5].flatMap((i) => [`heartbeat#${i}`, `voteRequest#${i}`]).sort());
    expect(a.stats().peers['b']!.drops.queueFull).toBe(0);
    expect(a.stats().peers['b']!.bulkMessagesSent).toBe(1);
  });

  it('delivers heartbeats ahead of snapshot chunks still crossing a slow link, and the chunks in order', async () => {
    const { a, arrivals } = await pair();
    proxy!.throttle(1024 * 1024);
    const metadata = { index: 100, term: 1, config: { incoming: configuration(['a', 'b']) } };
    const chunkBytes = 256 * 1024;
    for (let offset = 0; offset < 4 * chunkBytes; offset += chunkBytes) {
      const chunk: SnapshotRequest = { type: 'snapshotRequest', from: 'a', to: 'b', term: 1, metadata, offset, chunk: new Uint8Array(chunkBytes), done: offset === 3 * chunkBytes };
      a.send(chunk);
    }
    a.send(heartbeat(1));
    await eventually(() => arrivals.includes('heartbeat#1'), { what: 'the heartbeat' });
    expect(arrivals.filter((x) => x.startsWith('chunk')).length).toBeLessThan(4);
    await eventually(() => arrivals.length === 5, { what: 'every chunk', timeoutMs: 20_000 });
    expect(arrivals.filter((x) => x.startsWith('chunk'))).toEqual([0, 1, 2, 3].map((i) => `chunk@${i * chunkBytes}`));
  });

  it('never lets AppendEntries overtake each other when they move between lanes', async () => {
    const { a, b, arrivals } = await pair();
    proxy!.throttle(256 * 1024);
    const order: string[] = [];
    let index = 1;
    const sendAppends = (times: number, count: number, bytes: number): void => {
      for (let i = 0; i < times; i++) {
        const m = append(index, count, bytes);
        order.push(label(m));
        a.send(m);
        a.send(heartbeat(index));
        index += count;
      }
    };
    const stats = () => a.stats().peers['b']!;
    // About 50 KiB of small appends: they stay on the control lane and take ~200 ms to cross.
    sendAppends(40, 4, 300);
    // A large one moves the appends to the bulk lane, which is idle and would deliver it first
    // if the move did not wait until the control lane had been read.
    sendAppends(1, 1, 20 * 1024);
    // Once a has handed everything to its sockets, small appends follow while the large one is
    // still crossing: going back to the control lane now would let them overtake it.
    await eventually(() => stats().queuedMessages === 0 && stats().bufferedBytes === 0, { what: 'a to drain its queues' });
    sendAppends(10, 2, 100);
    await settle([a, b], 20_000);
    expect(arrivals.filter((x) => x.startsWith('append'))).toEqual(order);
    expect(arrivals.filter((x) => x.startsWith('heartbeat'))).toHaveLength(51);
    expect(stats().bulkMessagesSent).toBe(11);
    // Once the bulk lane has been read to the end (its pong is back), small appends ride the control lane again.
    let bulkBefore = stats().bulkMessagesSent;
    let returned = false;
    for (let attempt = 0; attempt < 50 && !returned; attempt++) {
      sendAppends(1, 1, 100);
      await settle([a, b], 20_000);
      await sleep(20); // let the bulk lane's pong come back after the last append
      returned = stats().bulkMessagesSent === bulkBefore;
      bulkBefore = stats().bulkMessagesSent;
    }
    expect(returned).toBe(true);
    expect(arrivals.filter((x) => x.startsWith('append'))).toEqual(order);
  });
});
