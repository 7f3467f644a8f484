import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { InvalidArgumentError, TransportError } from '@greenraft/consensus';
import type { Message } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_ID, SECRET } from './cluster.test-utils.js';
import { type CertificateFactory, type Pem, certificateFactory } from './certs.test-utils.js';
import type { TlsInit } from './options.js';
import { tcpProxy } from './proxy.test-utils.js';
import { type WebSocketTransport, websocketTransport } from './transport.js';

let certs: CertificateFactory;
let caA: Pem;
let caB: Pem;

beforeAll(() => {
  certs = certificateFactory();
  caA = certs.ca('ca-a');
  caB = certs.ca('ca-b');
});

afterAll(() => certs.remove());

const opened: WebSocketTransport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.stop()));
});

const heartbeat = (from: string, to: string, context?: string): Message => ({ type: 'heartbeat', from, to, term: 1, commitIndex: 0, ...(context === undefined ? {} : { context }) });

function node(id: string, tls: TlsInit, received: Message[] = []): { transport: WebSocketTransport; received: Message[] } {
  const transport = websocketTransport({ id, clusterId: CLUSTER_ID, secret: SECRET, tls, handshakeTimeoutMs: 2000, reconnect: { initialDelayMs: 100, maxDelayMs: 200 } });
  opened.push(transport);
  return { transport, received };
}

/** The certificate a fresh TLS connection to `port` is shown. */
function servedFingerprint(port: number, ca: Buffer, client?: Pem): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...(client ? { cert: client.cert, key: client.key } : {}) }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('TLS', () => {
  it('carries peer traffic over wss, encrypted on the wire', async () => {
    const a = node('a', { cert: certs.node('tls-a', caA).certFile, key: join(certs.dir, 'tls-a.key'), ca: caA.certFile });
    const bPem = certs.node('tls-b', caA);
    const b = node('b', { cert: bPem.cert, key: bPem.key, ca: caA.cert }); // PEM bytes work as well as paths
    const bUrl = await b.transport.listen();
    expect(bUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const proxy = await tcpProxy(Number(new URL(bUrl).port), { capture: true, scheme: 'wss' });
    try {
      a.transport.setPeers({ b: proxy.url });
      b.transport.setPeers({ a: await a.transport.listen() });
      await b.transport.start((m) => b.received.push(m));
      await a.transport.start(() => {});
      a.transport.send(heartbeat('a', 'b', 'meter reading in plain text'));
      await eventually(() => b.received.length === 1, { what: 'the heartbeat over TLS' });
      expect(b.received).toEqual([heartbeat('a', 'b', 'meter reading in plain text')]);
      const wire = Buffer.concat(proxy.captured);
      expect(wire.includes(Buffer.from('meter reading in plain text'))).toBe(false);
      expect(wire.includes(Buffer.from('greenraft/hello'))).toBe(false);
    } finally {
      await a.transport.stop();
      await proxy.close();
    }
  });

  it('refuses, with mutual TLS, a client certificate from another CA and a client without one', async () => {
    const bPem = certs.node('mtls-b', caA);
    const b = node('b', { cert: bPem.certFile, key: bPem.keyFile, ca: caA.certFile, mutual: true });
    const bUrl = await b.transport.listen();
    b.transport.setPeers({ a: 'wss://127.0.0.1:9', aa: 'wss://127.0.0.1:9' });
    await b.transport.start((m) => b.received.push(m));
    // a's certificate is signed by CA B, which b does not trust.
    const outsider = certs.node('mtls-outsider', caB);
    const a = node('a', { cert: outsider.certFile, key: outsider.keyFile, ca: caA.certFile, mutual: true });
    a.transport.setPeers({ b: bUrl });
    await a.transport.start(() => {});
    a.transport.send(heartbeat('a', 'b'));
    await eventually(() => b.transport.stats().handshakeFailures.tls >= 1 && a.transport.stats().peers['b']!.dialFailures + a.transport.stats().handshakeFailures.tls >= 1, {
      what: 'both sides to see the refusal',
    });
    // A TLS client with no certificate at all never gets to the WebSocket.
    const before = b.transport.stats().handshakeFailures.tls;
    await expect(
      new Promise((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(bUrl).port), ca: caA.cert, servername: 'localhost' }, () => {
          socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
        });
        socket.on('data', resolve);
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('closed')));
      }),
    ).rejects.toBeDefined();
    await eventually(() => b.transport.stats().handshakeFailures.tls > before, { what: 'the certificate-less client to be counted' });
    // aa, with a certificate from the right CA, gets through.
    const goodPem = certs.node('mtls-aa', caA);
    const aa = node('aa', { cert: goodPem.certFile, key: goodPem.keyFile, ca: caA.certFile, mutual: true });
    aa.transport.setPeers({ b: bUrl });
    await aa.transport.start(() => {});
    aa.transport.send(heartbeat('aa', 'b'));
    await eventually(() => b.received.length === 1, { what: 'aa\'s heartbeat' });
    expect(b.received).toEqual([heartbeat('aa', 'b')]);
  });

  it('refuses, as a client, a server whose certificate does not chain to its CA', async () => {
    const bPem = certs.node('ca-check-b', caA);
    const b = node('b', { cert: bPem.certFile, key: bPem.keyFile, ca: caA.certFile });
    const bUrl = await b.transport.listen();
    b.transport.setPeers({ a: 'wss://127.0.0.1:9' });
    await b.transport.start((m) => b.received.push(m));
    const aPem = certs.node('ca-check-a', caB);
    const a = node('a', { cert: aPem.certFile, key: aPem.keyFile, ca: caB.certFile }); // trusts only CA B
    a.transport.setPeers({ b: bUrl });
    await a.transport.start(() => {});
    a.transport.send(heartbeat('a', 'b'));
    await eventually(() => a.transport.stats().handshakeFailures.tls >= 1, { what: 'a to refuse b\'s certificate' });
    expect(a.transport.stats().peers['b']!.connected).toBe(false);
    expect(b.received).toEqual([]);
  });

  it('picks up a rotated certificate, key and CA from the same files without a restart', async () => {
    const first = certs.node('rotate-b1', caA);
    const certFile = join(certs.dir, 'live-b.crt');
    const keyFile = join(certs.dir, 'live-b.key');
    const caFile = join(certs.dir, 'live-ca.crt');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    copyFileSync(caA.certFile, caFile);
    const b = node('b', { cert: certFile, key: keyFile, ca: caFile, mutual: true });
    const bUrl = await b.transport.listen();
    const port = Number(new URL(bUrl).port);
    const aPem = certs.node('rotate-a', caA);
    const a = node('a', { cert: aPem.certFile, key: aPem.keyFile, ca: caA.certFile, mutual: true });
    a.transport.setPeers({ b: bUrl });
    b.transport.setPeers({ a: await a.transport.listen() });
    await b.transport.start((m) => b.received.push(m));
    await a.transport.start(() => {});
    expect(await servedFingerprint(port, caA.cert, aPem)).toBe(first.fingerprint256);

    // Same CA, new key and certificate, written over the files b was started with.
    const second = certs.node('rotate-b2', caA);
    copyFileSync(second.certFile, certFile);
    copyFileSync(second.keyFile, keyFile);
    await b.transport.reloadTls();
    expect(await servedFingerprint(port, caA.cert, aPem)).toBe(second.fingerprint256);

    // A new CA: b now serves a certificate from CA B and trusts both; a must learn CA B to dial it.
    const third = certs.node('rotate-b3', caB);
    copyFileSync(third.certFile, certFile);
    copyFileSync(third.keyFile, keyFile);
    writeFileSync(caFile, Buffer.concat([caA.cert, caB.cert]));
    await b.transport.reloadTls();
    expect(await servedFingerprint(port, caB.cert, aPem)).toBe(third.fingerprint256);
    await a.transport.reloadTls({ cert: aPem.certFile, key: aPem.keyFile, ca: [caA.certFile, caB.certFile], mutual: true });
    // Connections made before the rotation stay up; a new one (the link is reset) uses the new material.
    const connectionsBefore = b.transport.stats().peers['a']!.connections;
    a.transport.setPeers({ b: bUrl.replace('127.0.0.1', 'localhost') });
    await eventually(() => b.transport.stats().peers['a']!.connections > connectionsBefore && a.transport.stats().peers['b']!.connected, { what: 'a to reconnect after the rotation' });
    a.transport.send(heartbeat('a', 'b', 'after rotation'));
    await eventually(() => b.received.some((m) => m.type === 'heartbeat' && m.context === 'after rotation'), { what: 'traffic after the rotation' });
  });

  it('keeps the old material when a reload fails, and refuses reloads it cannot honour', async () => {
    const good = certs.node('reload-good', caA);
    const keyFile = join(certs.dir, 'reload-live.key');
    copyFileSync(good.keyFile, keyFile);
    const b = node('b', { cert: good.certFile, key: keyFile, ca: caA.certFile });
    const port = Number(new URL(await b.transport.listen()).port);
    writeFileSync(keyFile, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    const failed = await b.transport.reloadTls().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(TransportError);
    expect((failed as TransportError).code).toBe('TRANSPORT');
    // A key that parses but belongs to another certificate is refused as well.
    const other = certs.node('reload-other', caA);
    await expect(b.transport.reloadTls({ cert: good.certFile, key: other.keyFile, ca: caA.certFile })).rejects.toBeInstanceOf(TransportError);
    await expect(b.transport.reloadTls({ cert: join(certs.dir, 'missing.crt'), key: other.keyFile })).rejects.toThrow(/could not read the TLS certificate/);
    expect(await servedFingerprint(port, caA.cert)).toBe(good.fingerprint256);
    await expect(b.transport.reloadTls({ cert: good.certFile, key: good.keyFile, mutual: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    const plain = websocketTransport({ id: 'p', clusterId: CLUSTER_ID, secret: SECRET });
    await expect(plain.reloadTls()).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
