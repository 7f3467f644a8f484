// Raw `ws` against the WebSocket transport, side by side, on loopback, with the receiver in a
// worker thread (its own event loop, as a separate node would have):
//  - round trip: an AppendEntries of 32 × 128-byte entries out, an AppendEntries response back,
//    one at a time; raw ws moves byte strings of exactly the same sizes;
//  - message rate: AppendEntries sent as fast as a window of 1024 unacknowledged messages allows,
//    the receiver acknowledging every 128. Raw ws sends the same bytes in frames of the same
//    batching the transport uses (as many whole messages as fit in 64 KiB).
// Run: npx turbo run build --filter=@greenraft/transport-websocket && node packages/transport-websocket/bench/ws.mjs [--messages 200000] [--round-trips 5000]
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { WebSocket, WebSocketServer } from 'ws';
import { websocketTransport } from '../dist/index.js';

const SECRET = 'benchmark secret, 32 bytes long.';
const ENTRIES = 32;
const ENTRY_BYTES = 128;
const WINDOW = 1024;
const ACK_EVERY = 128;
const BATCH_BYTES = 64 * 1024;

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};

function append(index) {
  const entries = [];
  for (let i = 0; i < ENTRIES; i++) entries.push({ type: 'normal', term: 3, index: index * ENTRIES + i + 1, data: new Uint8Array(ENTRY_BYTES).fill(i) });
  return { type: 'appendRequest', from: 'a', to: 'b', term: 3, prevLogIndex: index * ENTRIES, prevLogTerm: index === 0 ? 0 : 3, commitIndex: index * ENTRIES, entries };
}
const response = (index) => ({ type: 'appendResponse', from: 'b', to: 'a', term: 3, success: true, index, hintIndex: 0, hintTerm: 0 });

// ------------------------------------------------------------------ receiver (worker)

async function receiver({ mode, appendBytes, responseBytes }) {
  if (mode === 'raw') {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
    await new Promise((resolve) => server.once('listening', resolve));
    const reply = Buffer.alloc(responseBytes, 7);
    server.on('connection', (socket) => {
      let received = 0;
      let acked = 0;
      socket.on('message', (frame) => {
        const count = frame.byteLength / appendBytes; // whole messages per frame
        if (count === 1 && frame[0] === 0x01) {
          socket.send(reply); // round trip: marked by the first byte
          return;
        }
        received += count;
        if (received - acked >= ACK_EVERY) {
          acked = received;
          const ack = Buffer.alloc(8);
          ack.writeDoubleBE(received);
          socket.send(ack);
        }
      });
    });
    parentPort.postMessage({ url: `ws://127.0.0.1:${server.address().port}` });
    parentPort.once('message', () => server.close());
    return;
  }
  const b = websocketTransport({ id: 'b', clusterId: 'bench', secret: SECRET });
  const url = await b.listen();
  let received = 0;
  let acked = 0;
  parentPort.postMessage({ url });
  const { aUrl } = await new Promise((resolve) => parentPort.once('message', resolve));
  b.setPeers({ a: aUrl });
  await b.start((message) => {
    if (message.type !== 'appendRequest') return;
    if (message.commitIndex === -1 || message.prevLogTerm === 99) {
      b.send(response(message.prevLogIndex + message.entries.length)); // round trip
      return;
    }
    received++;
    if (received - acked >= ACK_EVERY) {
      acked = received;
      b.send({ type: 'heartbeatResponse', from: 'b', to: 'a', term: 3, context: String(received) });
    }
  });
  parentPort.postMessage({ started: true });
  parentPort.once('message', () => b.stop().then(() => parentPort.postMessage({ stopped: true })));
}

// ------------------------------------------------------------------ sender (main thread)

function spawn(data) {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const next = () => new Promise((resolve) => worker.once('message', resolve));
  return { worker, next };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
function summarise(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { mean, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

async function rawRun({ appendBytes, responseBytes, roundTrips, messages }) {
  const { worker, next } = spawn({ mode: 'raw', appendBytes, responseBytes });
  const { url } = await next();
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve) => socket.once('open', resolve));
  const payload = Buffer.alloc(appendBytes, 3);
  const marked = Buffer.from(payload);
  marked[0] = 0x01;
  payload[0] = 0x02;
  // Round trips, one at a time.
  const rtts = [];
  for (let i = 0; i < roundTrips + 200; i++) {
    const started = performance.now();
    await new Promise((resolve) => {
      socket.once('message', resolve);
      socket.send(marked);
    });
    if (i >= 200) rtts.push((performance.now() - started) * 1000);
  }
  // Rate: windowed, in frames of as many whole messages as fit in 64 KiB.
  const perFrame = Math.max(1, Math.floor(BATCH_BYTES / appendBytes));
  const frame = Buffer.concat(Array.from({ length: perFrame }, () => payload));
  let acked = 0;
  let wake;
  socket.on('message', (data) => {
    acked = data.readDoubleBE(0);
    wake?.();
  });
  const started = performance.now();
  let sent = 0;
  while (sent < messages) {
    while (sent - acked >= WINDOW) await new Promise((resolve) => (wake = resolve));
    // A burst of 64 messages, as a node hands a Ready's messages to its transport.
    const burst = Math.min(64, messages - sent, WINDOW - (sent - acked));
    let left = burst;
    while (left >= perFrame) {
      socket.send(frame);
      left -= perFrame;
    }
    if (left > 0) socket.send(frame.subarray(0, left * appendBytes));
    sent += burst;
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (acked < messages - (messages % ACK_EVERY)) await new Promise((resolve) => (wake = resolve));
  const seconds = (performance.now() - started) / 1000;
  socket.close();
  worker.postMessage('stop');
  await worker.terminate();
  return { rtt: summarise(rtts), rate: (messages - (messages % ACK_EVERY)) / seconds };
}

async function transportRun({ roundTrips, messages }) {
  const { worker, next } = spawn({ mode: 'transport' });
  const { url } = await next();
  const a = websocketTransport({ id: 'a', clusterId: 'bench', secret: SECRET });
  const aUrl = await a.listen();
  a.setPeers({ b: url });
  let onMessage = () => {};
  await a.start((message) => onMessage(message));
  worker.postMessage({ aUrl });
  await next();
  const probe = { ...append(0), prevLogTerm: 99 };
  const rtts = [];
  for (let i = 0; i < roundTrips + 200; i++) {
    const started = performance.now();
    await new Promise((resolve) => {
      onMessage = resolve;
      a.send(probe);
    });
    if (i >= 200) rtts.push((performance.now() - started) * 1000);
  }
  const messagesToSend = Array.from({ length: 64 }, (_, i) => append(i + 1));
  let acked = 0;
  let wake;
  onMessage = (message) => {
    if (message.type === 'heartbeatResponse') {
      acked = Number(message.context);
      wake?.();
    }
  };
  const started = performance.now();
  let sent = 0;
  while (sent < messages) {
    while (sent - acked >= WINDOW) await new Promise((resolve) => (wake = resolve));
    const burst = Math.min(64, messages - sent, WINDOW - (sent - acked));
    for (let i = 0; i < burst; i++) a.send(messagesToSend[i]);
    sent += burst;
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (acked < messages - (messages % ACK_EVERY)) await new Promise((resolve) => (wake = resolve));
  const seconds = (performance.now() - started) / 1000;
  const stats = a.stats().peers['b'];
  await a.stop();
  worker.postMessage('stop');
  await next();
  await worker.terminate();
  return { rtt: summarise(rtts), rate: (messages - (messages % ACK_EVERY)) / seconds, bytesPerMessage: stats.bytesSent / stats.messagesSent, drops: Object.values(stats.drops).reduce((s, x) => s + x, 0), bulkShare: stats.bulkMessagesSent / stats.messagesSent };
}

async function main() {
  const messages = arg('messages', 200_000);
  const roundTrips = arg('round-trips', 5000);
  // The exact byte sizes the transport puts on the wire for these two messages.
  const sizer = websocketTransport({ id: 'a', clusterId: 'bench', secret: SECRET });
  const sizes = await measureSizes(sizer);
  console.log(`payloads: AppendEntries of ${ENTRIES} × ${ENTRY_BYTES} B entries = ${sizes.appendBytes} B encoded; response ${sizes.responseBytes} B`);
  console.log(`${messages} messages in bursts of 64, window ${WINDOW}; ${roundTrips} round trips; receiver in a worker thread; node ${process.version}`);
  const raw = await rawRun({ ...sizes, roundTrips, messages });
  const transport = await transportRun({ roundTrips, messages });
  const row = (name, r) => `${name.padEnd(22)} ${(r.rate / 1000).toFixed(1).padStart(8)} k msg/s ${((r.rate * sizes.appendBytes) / 1e6).toFixed(0).padStart(6)} MB/s   rtt mean ${r.rtt.mean.toFixed(0).padStart(5)} µs  p50 ${r.rtt.p50.toFixed(0).padStart(5)} µs  p99 ${r.rtt.p99.toFixed(0).padStart(6)} µs`;
  console.log(row('raw ws (the limit)', raw));
  console.log(row('websocket transport', transport));
  console.log(`transport / raw: message rate ${(transport.rate / raw.rate).toFixed(2)}× (target ≥ 0.80), round trip p50 ${(transport.rtt.p50 / raw.rtt.p50).toFixed(2)}× mean ${(transport.rtt.mean / raw.rtt.mean).toFixed(2)}× (target ≤ 1.20)`);
  console.log(`transport: ${transport.drops} drops, ${(transport.bulkShare * 100).toFixed(0)} % of messages on the bulk lane`);
}

async function measureSizes(a) {
  // Two throwaway endpoints: the counters say how many bytes each message took.
  const b = websocketTransport({ id: 'b', clusterId: 'bench', secret: SECRET });
  const peers = { a: await a.listen(), b: await b.listen() };
  a.setPeers(peers);
  b.setPeers(peers);
  let arrived = 0;
  await b.start(() => arrived++);
  await a.start(() => arrived++);
  while (!a.stats().peers['b'].connected || !b.stats().peers['a'].connected) await new Promise((resolve) => setTimeout(resolve, 5));
  a.send(append(1));
  b.send(response(32));
  while (arrived < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  const appendBytes = a.stats().peers['b'].bytesSent;
  const responseBytes = b.stats().peers['a'].bytesSent;
  await a.stop();
  await b.stop();
  return { appendBytes, responseBytes };
}

if (isMainThread) await main();
else await receiver(workerData);
