// Why votes and heartbeats get a connection of their own: heartbeat round trips while a stream of
// 1 MiB AppendEntries crosses a link limited to --rate bytes/s (a user-space proxy on loopback), for
//  - one socket with a strict priority queue: heartbeats jump every queued append, but the append
//    data already handed to the socket (its buffer kept under 1 MiB) and to the kernel goes first;
//  - two sockets, one for heartbeats, one for appends (raw ws);
//  - this transport (its control and bulk lanes).
// Run: npx turbo run build --filter=@greenraft/transport-websocket && node packages/transport-websocket/bench/lanes.mjs [--rate 10000000] [--seconds 3]
import { createServer, connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { websocketTransport } from '../dist/index.js';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const RATE = arg('rate', 10_000_000);
const SECONDS = arg('seconds', 3);
const BULK = 1024 * 1024;
const HIGH_WATER = 1024 * 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP proxy that passes dialler → target bytes at `rate` bytes/s per connection. */
async function throttledProxy(targetPort, rate) {
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('data', (chunk) => {
      client.pause();
      setTimeout(() => {
        upstream.write(chunk);
        client.resume();
      }, (chunk.byteLength / rate) * 1000);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function summary(rtts) {
  const sorted = [...rtts].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return `heartbeat rtt p50 ${at(0.5).toFixed(1).padStart(7)} ms  p99 ${at(0.99).toFixed(1).padStart(7)} ms  max ${sorted.at(-1).toFixed(1).padStart(7)} ms  (${rtts.length} beats)`;
}

/** Heartbeats every 20 ms while `pump` keeps the link full of bulk data. */
async function measure(beat, pump) {
  const rtts = [];
  const deadline = performance.now() + SECONDS * 1000;
  let running = true;
  const pumping = (async () => {
    while (running) await pump();
  })();
  await sleep(200); // let the bulk stream fill the buffers first
  while (performance.now() < deadline) {
    const started = performance.now();
    await beat();
    rtts.push(performance.now() - started);
    await sleep(20);
  }
  running = false;
  await pumping;
  return rtts;
}

async function rawServer() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * BULK });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (frame) => frame.byteLength < 64 && socket.send(frame)));
  return server;
}

async function rawMode(lanes) {
  const server = await rawServer();
  const proxy = await throttledProxy(server.address().port, RATE);
  const open = () =>
    new Promise((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}`, { perMessageDeflate: false });
      socket.once('open', () => resolve(socket));
    });
  const bulkSocket = await open();
  const beatSocket = lanes === 2 ? await open() : bulkSocket;
  const chunk = Buffer.alloc(BULK, 2);
  // The strict priority queue: bulk goes to the socket only below its high-water mark; a
  // heartbeat is written at once, ahead of every append still queued here.
  const pump = async () => {
    if (bulkSocket.bufferedAmount < HIGH_WATER) bulkSocket.send(chunk);
    else await sleep(1);
  };
  const beat = () =>
    new Promise((resolve) => {
      beatSocket.once('message', resolve);
      beatSocket.send(Buffer.from([1, 2, 3]));
    });
  const rtts = await measure(beat, pump);
  bulkSocket.terminate();
  beatSocket.terminate();
  await proxy.close();
  server.close();
  return rtts;
}

async function transportMode() {
  const secret = 'benchmark secret, 32 bytes long.';
  const a = websocketTransport({ id: 'a', clusterId: 'bench', secret, maxQueuedBytes: 8 * BULK });
  const b = websocketTransport({ id: 'b', clusterId: 'bench', secret, maxQueuedBytes: 8 * BULK });
  const proxy = await throttledProxy(Number(new URL(await b.listen()).port), RATE);
  a.setPeers({ b: `ws://127.0.0.1:${proxy.port}` });
  b.setPeers({ a: await a.listen() });
  await b.start((message) => {
    if (message.type === 'heartbeat') b.send({ type: 'heartbeatResponse', from: 'b', to: 'a', term: 1, context: message.context });
  });
  let onBeat = () => {};
  await a.start((message) => message.type === 'heartbeatResponse' && onBeat());
  while (!a.stats().peers.b.connected) await sleep(5);
  const entries = Array.from({ length: 16 }, (_, i) => ({ type: 'normal', term: 1, index: i + 1, data: new Uint8Array(BULK / 16) }));
  const append = { type: 'appendRequest', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0, entries };
  const pump = async () => {
    const { queuedBytes } = a.stats().peers.b;
    if (queuedBytes < 2 * BULK) a.send(append);
    else await sleep(1);
  };
  let n = 0;
  const beat = () =>
    new Promise((resolve) => {
      onBeat = resolve;
      a.send({ type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex: 0, context: String(n++) });
    });
  const rtts = await measure(beat, pump);
  const { drops } = a.stats().peers.b;
  await a.stop();
  await b.stop();
  await proxy.close();
  return { rtts, drops: Object.values(drops).reduce((s, x) => s + x, 0) };
}

console.log(`a stream of 1 MiB appends through a link of ${(RATE / 1e6).toFixed(1)} MB/s for ${SECONDS} s, a heartbeat every 20 ms; node ${process.version}`);
console.log(`one socket, strict priority queue   ${summary(await rawMode(1))}`);
console.log(`two sockets (raw ws)                ${summary(await rawMode(2))}`);
const transport = await transportMode();
console.log(`websocket transport, two lanes      ${summary(transport.rtts)}  (${transport.drops} drops)`);
