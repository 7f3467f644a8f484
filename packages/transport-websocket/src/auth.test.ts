import type { Message } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { CLUSTER_ID, SECRET, sleep } from './cluster.test-utils.js';
import { encodeMessage, encodeValue } from './codec.js';
import { CloseCode, NONCE_BYTES, encodeChallenge, parseHello } from './handshake.js';
import { closed, openSocket, rawHandshake, replayFrames } from './peer.test-utils.js';
import { tcpProxy } from './proxy.test-utils.js';
import type { TransportLogger } from './options.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

const heartbeat = (from: string, to: string, commitIndex = 1): Message => ({ type: 'heartbeat', from, to, term: 1, commitIndex });

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLogger(lines: Logged[]): TransportLogger {
  return {
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    debug: (fields, message) => lines.push({ level: 'debug', fields, message }),
  };
}

const opened: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.stop()));
});

/** A started acceptor `n2` that knows peers n1 and the given extra ids, and records what it delivers. */
async function acceptor(extra: Record<string, string> = {}, logger?: TransportLogger) {
  const received: Message[] = [];
  const transport = websocketTransport({
    id: 'n2', clusterId: CLUSTER_ID, secret: SECRET, handshakeTimeoutMs: 300, peers: { n1: 'ws://127.0.0.1:9', ...extra }, ...(logger ? { logger } : {}),
  });
  opened.push(transport);
  const url = await transport.listen();
  await transport.start((message) => received.push(message));
  return { transport, url, received };
}

function dialer(id: string, peers: Record<string, string>, overrides: Partial<Parameters<typeof websocketTransport>[0]> = {}): WebSocketTransport {
  const transport = websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, handshakeTimeoutMs: 300, peers, ...overrides });
  opened.push(transport);
  return transport;
}

describe('peer authentication', () => {
  it('connects peers that share the cluster id and secret, and delivers their messages', async () => {
    const { transport, url, received } = await acceptor();
    const n1 = dialer('n1', { n2: url });
    await n1.start(() => {});
    await eventually(() => n1.stats().peers['n2']!.connected && transport.stats().peers['n1']!.connected, { what: 'the link' });
    n1.send(heartbeat('n1', 'n2', 7));
    await eventually(() => received.length === 1, { what: 'the heartbeat' });
    expect(received).toEqual([heartbeat('n1', 'n2', 7)]);
    expect(transport.stats().handshakeFailures).toMatchObject({ badMac: 0, replay: 0, protocol: 0 });
  });

  it('refuses a dialler with the wrong secret, and logs it', async () => {
    const lines: Logged[] = [];
    const { transport, url, received } = await acceptor({}, recordingLogger(lines));
    const forged = await rawHandshake({ url, id: 'n1', acceptorId: 'n2', clusterId: CLUSTER_ID, secret: SECRET, forgeMac: new Uint8Array(32).fill(7) });
    expect(forged.welcomed).toBe(false);
    expect(forged.closeCode).toBe(CloseCode.badMac);
    expect(transport.stats().handshakeFailures.badMac).toBe(1);
    const warning = lines.find((line) => line.level === 'warn' && line.fields['reason'] === 'badMac');
    expect(warning).toMatchObject({ message: 'refused a peer connection', fields: { peer: 'n1', reason: 'badMac' } });
    // A real transport with another secret: the acceptor's MAC fails first, on the dialler's side.
    const impostor = dialer('n1', { n2: url }, { secret: 'not the cluster secret at all!!' });
    await impostor.start(() => {});
    impostor.send(heartbeat('n1', 'n2'));
    await eventually(() => impostor.stats().handshakeFailures.badMac >= 1, { what: 'the impostor to give up' });
    expect(impostor.stats().peers['n2']!.connected).toBe(false);
    expect(received).toEqual([]);
  });

  it('refuses a dialler of another cluster, an unknown id, the wrong target, the wrong dialling direction', async () => {
    const { transport, url, received } = await acceptor({ z9: 'ws://127.0.0.1:9' });
    const attempt = (id: string, acceptorId: string, clusterId = CLUSTER_ID) => rawHandshake({ url, id, acceptorId, clusterId, secret: SECRET });
    expect((await attempt('n1', 'n2', 'grid-west')).closeCode).toBe(CloseCode.wrongCluster);
    expect((await attempt('m1', 'n2')).closeCode).toBe(CloseCode.unknownPeer);
    expect((await attempt('n1', 'n3')).closeCode).toBe(CloseCode.wrongPeer);
    // z9 is a peer, but its id is larger than n2's: n2 is the one that dials z9.
    expect((await attempt('z9', 'n2')).closeCode).toBe(CloseCode.wrongDialer);
    expect(transport.stats().handshakeFailures).toMatchObject({ wrongCluster: 1, unknownPeer: 1, wrongPeer: 1, wrongDialer: 1 });
    // A transport whose map points n3 at n2's address is refused and counts the refusal.
    const misdirected = dialer('n1', { n3: url });
    await misdirected.start(() => {});
    await eventually(() => misdirected.stats().handshakeFailures.refused >= 1, { what: 'the refusal' });
    expect(received).toEqual([]);
  });

  it('refuses a replayed hello, and a replayed auth on a fresh hello', async () => {
    const { transport, url } = await acceptor();
    const genuine = await rawHandshake({ url, id: 'n1', acceptorId: 'n2', clusterId: CLUSTER_ID, secret: SECRET });
    expect(genuine.welcomed).toBe(true);
    const [hello, auth] = genuine.sent as [Buffer, Buffer];
    genuine.socket.close();
    // The same hello again: its nonce was used.
    expect(await replayFrames(url, [hello, auth])).toBe(CloseCode.replay);
    expect(transport.stats().handshakeFailures.replay).toBe(1);
    // A fresh hello with the old auth: the MAC was for another acceptor nonce.
    const fresh = await rawHandshake({ url, id: 'n1', acceptorId: 'n2', clusterId: CLUSTER_ID, secret: SECRET, forgeMac: parseAuthMac(auth) });
    expect(fresh.closeCode).toBe(CloseCode.badMac);
    expect(transport.stats().handshakeFailures.badMac).toBe(1);
  });

  it('refuses garbage and text before the handshake, and cuts a silent connection after the timeout', async () => {
    const { transport, url } = await acceptor();
    expect(await replayFrames(url, [Buffer.from([0xc1, 0x00, 0xff])])).toBe(CloseCode.protocol);
    // A valid Raft message is no substitute for a hello.
    expect(await replayFrames(url, [encodeMessage(heartbeat('n1', 'n2'))])).toBe(CloseCode.protocol);
    const text = await openSocket(url);
    text.send('hello?');
    expect(await closed(text)).toBe(CloseCode.protocol);
    const silent = await openSocket(url);
    expect(await closed(silent)).toBe(CloseCode.timeout);
    expect(transport.stats().handshakeFailures).toMatchObject({ protocol: 3, timeout: 1 });
    expect(transport.stats().pendingHandshakes).toBe(0);
  });

  it('binds the node id to the connection: other senders and other addressees are dropped', async () => {
    const { transport, url, received } = await acceptor({ n0: 'ws://127.0.0.1:9' });
    const peer = await rawHandshake({ url, id: 'n1', acceptorId: 'n2', clusterId: CLUSTER_ID, secret: SECRET });
    expect(peer.welcomed).toBe(true);
    peer.socket.send(encodeMessage(heartbeat('n0', 'n2', 1))); // n0 is a member, but this is n1's connection
    peer.socket.send(encodeMessage(heartbeat('n1', 'n3', 2)));
    peer.socket.send(Buffer.concat([encodeMessage(heartbeat('n1', 'n2', 3)), encodeValue([5, 'n1', 'n2', -1, 0, null])]));
    await eventually(() => received.length === 1 && transport.stats().drops.invalid === 1, { what: 'the frames' });
    expect(received).toEqual([heartbeat('n1', 'n2', 3)]);
    const stats = transport.stats();
    expect(stats.peers['n1']!.drops).toMatchObject({ wrongSender: 1, wrongAddressee: 1, invalid: 1 });
    expect(stats.peers['n1']!.messagesReceived).toBe(1);
    expect(stats.peers['n0']!.messagesReceived).toBe(0);
    peer.socket.close();
  });

  it('never sends the secret, and an acceptor that cannot prove it knows it never gets the dialler\'s MAC', async () => {
    // An impostor acceptor: it answers every hello with a challenge it cannot sign.
    const impostor = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => impostor.once('listening', () => resolve()));
    const frames: Buffer[] = [];
    impostor.on('connection', (socket: WebSocket) => {
      socket.on('message', (data: Buffer) => {
        frames.push(data);
        if (typeof parseHello(data) !== 'string') socket.send(encodeChallenge(new Uint8Array(NONCE_BYTES), new Uint8Array(32)));
      });
    });
    try {
      const port = (impostor.address() as { port: number }).port;
      const proxy = await tcpProxy(port, { capture: true });
      const n1 = dialer('n1', { n2: proxy.url });
      await n1.start(() => {});
      await eventually(() => n1.stats().handshakeFailures.badMac >= 2, { what: 'both lanes to refuse the impostor' });
      await n1.stop();
      // Only hellos reached the impostor: no auth frame, so no MAC to attack offline.
      expect(frames.length).toBeGreaterThanOrEqual(2);
      for (const frame of frames) expect(typeof parseHello(frame)).toBe('object');
      expect(Buffer.concat(proxy.captured).includes(Buffer.from(SECRET))).toBe(false);
      await proxy.close();
    } finally {
      impostor.close();
    }
  });

  it('never puts the secret on the wire during a genuine exchange', async () => {
    const { url, received } = await acceptor();
    const port = Number(new URL(url).port);
    const proxy = await tcpProxy(port, { capture: true });
    const n1 = dialer('n1', { n2: proxy.url });
    await n1.start(() => {});
    n1.send(heartbeat('n1', 'n2', 42));
    await eventually(() => received.length === 1, { what: 'the heartbeat through the proxy' });
    await sleep(10);
    const wire = Buffer.concat(proxy.captured);
    expect(wire.byteLength).toBeGreaterThan(200);
    expect(wire.includes(Buffer.from(SECRET))).toBe(false);
    await n1.stop();
    await proxy.close();
  });
});

function parseAuthMac(frame: Buffer): Uint8Array {
  // ['greenraft/auth', mac]: the MAC is the last 32 bytes of the frame.
  return new Uint8Array(frame.subarray(frame.byteLength - 32));
}
