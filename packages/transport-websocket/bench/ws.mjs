// Raw `ws` against the WebSocket transport, side by side, on loopback, with the receiver in a
// worker thread (its own event loop, as a separate node would have):
//  - round trip: an AppendEntries of 32 × 128-byte entries out, an AppendEntries response back,
//    one at a time;
//  - message rate: AppendEntries sent in bursts of 64 (as a node hands a Ready's messages to its
//    transport) as fast as a window of 1024 unacknowledged messages allows, the receiver
//    acknowledging every 128.
// Four senders and receivers, each pair on one WebSocket (the transport's appends all take one of
// its lanes), in frames of as many whole messages as fit in 64 KiB (the transport's batching):
//  - raw ws (the limit): byte strings of exactly the sizes the transport puts on the wire, never
//    encoded, never decoded, never looked at; the targets (a message rate of at least 0.8× this,
//    a round trip of at most 1.2× this) are against it;
//  - ws + msgpack codec (the serialisation floor): the same bytes as the transport's, made by
//    msgpackr packing each message's tuple and rebuilt on the other side by msgpackr unpacking it
//    into message objects whose entries' data are Uint8Array views, and nothing else: what any
//    transport that carries these messages with msgpackr must at least do (no schema check, no
//    sender binding, no queue);
//  - ws + entry copies (the per-entry minimum): raw ws's bytes, but the sender copies each of a
//    message's 32 entries' data into its frame and the receiver copies each frame once and makes
//    one entry object with a Uint8Array view per entry, as a transport that hands the node
//    `LogEntry` objects must; no other encoding, no decoding, no schema check;
//  - the transport: encoded, queued, decoded, checked with `messageProblem`, bound to the
//    authenticated sender, handed to the node.
// Each run alternates the four, starting with another each time, so a machine loaded by other
// work slows them alike; with --runs N the figures are the median of N runs. "cpu µs/msg" is the CPU time of both threads
// (and the kernel work they do) per message of the rate run: the wall clock of a loaded machine
// varies far more than the work done.
// Run: npx turbo run build --filter=@greenraft/transport-websocket && node packages/transport-websocket/bench/ws.mjs
//   [--messages 200000] [--round-trips 5000] [--runs 3] [--only raw|floor|entries|transport] [--module path/to/dist/index.js]
//   [--entries 32] [--entry-bytes 128]
import { createRequire } from 'node:module';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Packr, Unpackr } from 'msgpackr';
import { WebSocket, WebSocketServer } from 'ws';

const SECRET = 'benchmark secret, 32 bytes long.';
const argument = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
};
const numberArgument = (name, fallback) => {
  const value = argument(name);
  return value === undefined ? fallback : Number(value);
};

// The payload: 32 entries of 128 bytes unless --entries / --entry-bytes say otherwise (workers get the main thread's).
const ENTRIES = isMainThread ? numberArgument('entries', 32) : workerData.entries;
const ENTRY_BYTES = isMainThread ? numberArgument('entry-bytes', 128) : workerData.entryBytes;
const WINDOW = 1024;
const ACK_EVERY = 128;
const BURST = 64;
const BATCH_BYTES = 64 * 1024;
const WARMUP_ROUND_TRIPS = 200;
const MODES = ['raw', 'floor', 'entries', 'transport'];

/** How `ws` masks and unmasks frames here (as ws/lib/buffer-util.js picks): native code, or JavaScript. */
function masking() {
  const require = createRequire(import.meta.url);
  if (require('node:http').websocketMask) return 'node:http (native)';
  if (process.env.WS_NO_BUFFER_UTIL) return 'JavaScript (WS_NO_BUFFER_UTIL is set)';
  try {
    require('bufferutil');
    return 'bufferutil (native)';
  } catch {
    return 'JavaScript (bufferutil did not load)';
  }
}

/** The transport under test: this package's build, or another build given with --module (an older one, to compare). */
async function loadTransport(path) {
  const url = path === undefined ? new URL('../dist/index.js', import.meta.url) : pathToFileURL(isAbsolute(path) ? path : resolvePath(path));
  return (await import(url.href)).websocketTransport;
}

function append(index) {
  const entries = [];
  for (let i = 0; i < ENTRIES; i++) entries.push({ type: 'normal', term: 3, index: index * ENTRIES + i + 1, data: new Uint8Array(ENTRY_BYTES).fill(i) });
  return { type: 'appendRequest', from: 'a', to: 'b', term: 3, prevLogIndex: index * ENTRIES, prevLogTerm: index === 0 ? 0 : 3, commitIndex: index * ENTRIES, entries };
}
const response = (index) => ({ type: 'appendResponse', from: 'b', to: 'a', term: 3, success: true, index, hintIndex: 0, hintTerm: 0 });
/** The round-trip probe: an AppendEntries the receiver tells from the stream by its prevLogTerm. */
const probe = () => ({ ...append(0), prevLogTerm: 99 });

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

// The floor's codec: the transport's wire tuples (`[type, from, to, term, ...]`, AppendEntries'
// entries flat with their data in one bin), written and read by msgpackr alone.
function packMessage(m) {
  if (m.type === 'appendResponse') return packr.pack([4, m.from, m.to, m.term, m.success, m.index, m.hintIndex, m.hintTerm]);
  const flat = [];
  for (const e of m.entries) flat.push(0, e.term, e.index, e.data.byteLength);
  return packr.pack([3, m.from, m.to, m.term, m.prevLogIndex, m.prevLogTerm, m.commitIndex, flat, Buffer.concat(m.entries.map((e) => e.data))]);
}
function unpackMessage(t) {
  if (t[0] === 4) return { type: 'appendResponse', from: t[1], to: t[2], term: t[3], success: t[4], index: t[5], hintIndex: t[6], hintTerm: t[7] };
  const flat = t[7];
  const data = t[8];
  const entries = [];
  for (let i = 0, offset = 0; i < flat.length; i += 4) {
    entries.push({ type: 'normal', term: flat[i + 1], index: flat[i + 2], data: data.subarray(offset, offset + flat[i + 3]) });
    offset += flat[i + 3];
  }
  return { type: 'appendRequest', from: t[1], to: t[2], term: t[3], prevLogIndex: t[4], prevLogTerm: t[5], commitIndex: t[6], entries };
}

/** Packs each message and sends them in frames of as many whole messages as fit in 64 KiB, as the transport batches. */
function sendPacked(socket, messages, count) {
  let batch = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const packed = packMessage(messages[i]);
    if (bytes + packed.byteLength > BATCH_BYTES && batch.length > 0) {
      socket.send(Buffer.concat(batch, bytes));
      batch = [];
      bytes = 0;
    }
    batch.push(packed);
    bytes += packed.byteLength;
  }
  if (batch.length > 0) socket.send(batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes));
}

// ------------------------------------------------------------------ receiver (worker)

async function rawReceiver({ mode, appendBytes, responseBytes }) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  await new Promise((resolve) => server.once('listening', resolve));
  const reply = Buffer.alloc(responseBytes, 7);
  server.on('connection', (socket) => {
    let received = 0;
    let acked = 0;
    const acknowledge = () => {
      if (received - acked < ACK_EVERY) return;
      acked = received;
      const ack = Buffer.alloc(8);
      ack.writeDoubleBE(received);
      socket.send(ack);
    };
    socket.on(
      'message',
      mode === 'raw'
        ? (frame) => {
            const count = frame.byteLength / appendBytes; // whole messages per frame
            if (count === 1 && frame[0] === 0x01) {
              socket.send(reply); // round trip: marked by the first byte
              return;
            }
            received += count;
            acknowledge();
          }
        : mode === 'entries'
          ? (frame) => {
              // One copy of the frame, then an entry object and a view per entry; the data are a message's last bytes.
              const owned = Buffer.allocUnsafeSlow(frame.byteLength);
              owned.set(frame);
              const count = frame.byteLength / appendBytes;
              for (let m = 0; m < count; m++) {
                const entries = [];
                let offset = (m + 1) * appendBytes - ENTRIES * ENTRY_BYTES;
                for (let i = 0; i < ENTRIES; i++, offset += ENTRY_BYTES) entries.push({ type: 'normal', term: 3, index: i + 1, data: new Uint8Array(owned.buffer, offset, ENTRY_BYTES) });
                if (entries[0].data[0] === 0x01) {
                  socket.send(reply);
                  return;
                }
              }
              received += count;
              acknowledge();
            }
          : (frame) => {
            // The floor: every message decoded into an object, as a transport must, and nothing more.
            unpackr.unpackMultiple(frame, (value) => {
              const message = unpackMessage(value);
              if (message.prevLogTerm === 99) {
                socket.send(packMessage(response(message.prevLogIndex + message.entries.length)));
                return;
              }
              received++;
            });
            acknowledge();
          },
    );
  });
  parentPort.postMessage({ url: `ws://127.0.0.1:${server.address().port}` });
  parentPort.once('message', () => server.close());
}

async function transportReceiver({ module }) {
  const websocketTransport = await loadTransport(module);
  const b = websocketTransport({ id: 'b', clusterId: 'bench', secret: SECRET });
  const url = await b.listen();
  let received = 0;
  let acked = 0;
  parentPort.postMessage({ url });
  const { aUrl } = await new Promise((resolve) => parentPort.once('message', resolve));
  b.setPeers({ a: aUrl });
  await b.start((message) => {
    if (message.type !== 'appendRequest') return;
    if (message.prevLogTerm === 99) {
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
  const worker = new Worker(new URL(import.meta.url), { workerData: { ...data, entries: ENTRIES, entryBytes: ENTRY_BYTES } });
  const next = () => new Promise((resolve) => worker.once('message', resolve));
  return { worker, next };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
function summarise(samples) {
  const sorted = [...samples].sort((x, y) => x - y);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { mean, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/** Round trips one at a time, then the windowed rate; `send(count)` sends the next `count` messages of a burst. */
async function measure({ roundTrip, onAck, send, messages, roundTrips }) {
  const rtts = [];
  for (let i = 0; i < roundTrips + WARMUP_ROUND_TRIPS; i++) {
    const started = performance.now();
    await roundTrip();
    if (i >= WARMUP_ROUND_TRIPS) rtts.push((performance.now() - started) * 1000);
  }
  let acked = 0;
  let wake;
  onAck((count) => {
    acked = count;
    wake?.();
  });
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let sent = 0;
  while (sent < messages) {
    while (sent - acked >= WINDOW) await new Promise((resolve) => (wake = resolve));
    const burst = Math.min(BURST, messages - sent, WINDOW - (sent - acked));
    send(burst);
    sent += burst;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const counted = messages - (messages % ACK_EVERY);
  while (acked < counted) await new Promise((resolve) => (wake = resolve));
  const seconds = (performance.now() - started) / 1000;
  // Both threads' CPU time (the process's), which a loaded machine inflates far less than the wall clock.
  const cpu = process.cpuUsage(cpuStarted);
  return { rtt: summarise(rtts), rate: counted / seconds, cpuPerMessage: (cpu.user + cpu.system) / counted };
}

async function wsRun(mode, { appendBytes, responseBytes, roundTrips, messages }) {
  const { worker, next } = spawn({ mode, appendBytes, responseBytes });
  const { url } = await next();
  const socket = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve) => socket.once('open', resolve));
  let result;
  if (mode === 'raw') {
    const payload = Buffer.alloc(appendBytes, 3);
    const marked = Buffer.from(payload);
    marked[0] = 0x01;
    payload[0] = 0x02;
    const perFrame = Math.max(1, Math.floor(BATCH_BYTES / appendBytes));
    const frame = Buffer.concat(Array.from({ length: perFrame }, () => payload));
    result = await measure({
      messages,
      roundTrips,
      roundTrip: () =>
        new Promise((resolve) => {
          socket.once('message', resolve);
          socket.send(marked);
        }),
      onAck: (ack) => socket.on('message', (data) => ack(data.readDoubleBE(0))),
      send: (count) => {
        let left = count;
        while (left >= perFrame) {
          socket.send(frame);
          left -= perFrame;
        }
        if (left > 0) socket.send(frame.subarray(0, left * appendBytes));
      },
    });
  } else if (mode === 'entries') {
    // Each message: its bytes, with the data of its entries copied in one by one (the marker rides the first entry's data).
    const template = Buffer.alloc(appendBytes, 3);
    const dataAt = appendBytes - ENTRIES * ENTRY_BYTES;
    const fill = (target, at, message) => {
      target.set(template, at);
      let offset = at + dataAt;
      for (const entry of message.entries) {
        target.set(entry.data, offset);
        offset += entry.data.byteLength;
      }
    };
    const marked = { entries: probe().entries.map((entry, i) => ({ ...entry, data: new Uint8Array(ENTRY_BYTES).fill(i === 0 ? 1 : 2) })) };
    const burst = Array.from({ length: BURST }, (_, i) => ({ entries: append(i + 1).entries.map((entry) => ({ ...entry, data: new Uint8Array(ENTRY_BYTES).fill(2) })) }));
    const perFrame = Math.max(1, Math.floor(BATCH_BYTES / appendBytes));
    result = await measure({
      messages,
      roundTrips,
      roundTrip: () =>
        new Promise((resolve) => {
          socket.once('message', resolve);
          const frame = Buffer.allocUnsafe(appendBytes);
          fill(frame, 0, marked);
          socket.send(frame);
        }),
      onAck: (ack) => socket.on('message', (data) => ack(data.readDoubleBE(0))),
      send: (count) => {
        for (let first = 0; first < count; first += perFrame) {
          const inFrame = Math.min(perFrame, count - first);
          const frame = Buffer.allocUnsafe(inFrame * appendBytes);
          for (let i = 0; i < inFrame; i++) fill(frame, i * appendBytes, burst[first + i]);
          socket.send(frame);
        }
      },
    });
  } else {
    const roundTripMessage = probe();
    const burst = Array.from({ length: BURST }, (_, i) => append(i + 1));
    result = await measure({
      messages,
      roundTrips,
      roundTrip: () =>
        new Promise((resolve) => {
          socket.once('message', (data) => resolve(unpackMessage(unpackr.unpack(data))));
          socket.send(packMessage(roundTripMessage));
        }),
      onAck: (ack) => socket.on('message', (data) => ack(data.readDoubleBE(0))),
      send: (count) => sendPacked(socket, burst, count),
    });
  }
  socket.close();
  worker.postMessage('stop');
  await worker.terminate();
  return result;
}

async function transportRun({ roundTrips, messages, module }) {
  const websocketTransport = await loadTransport(module);
  const { worker, next } = spawn({ mode: 'transport', module });
  const { url } = await next();
  const a = websocketTransport({ id: 'a', clusterId: 'bench', secret: SECRET });
  const aUrl = await a.listen();
  a.setPeers({ b: url });
  let onMessage = () => {};
  await a.start((message) => onMessage(message));
  worker.postMessage({ aUrl });
  await next();
  const roundTripMessage = probe();
  const burst = Array.from({ length: BURST }, (_, i) => append(i + 1));
  const result = await measure({
    messages,
    roundTrips,
    roundTrip: () =>
      new Promise((resolve) => {
        onMessage = resolve;
        a.send(roundTripMessage);
      }),
    onAck: (ack) => {
      onMessage = (message) => {
        if (message.type === 'heartbeatResponse') ack(Number(message.context));
      };
    },
    send: (count) => {
      for (let i = 0; i < count; i++) a.send(burst[i]);
    },
  });
  const stats = a.stats().peers['b'];
  await a.stop();
  worker.postMessage('stop');
  await next();
  await worker.terminate();
  return { ...result, drops: Object.values(stats.drops).reduce((s, x) => s + x, 0), bulkShare: stats.bulkMessagesSent / stats.messagesSent };
}

async function measureSizes(websocketTransport) {
  // Two throwaway endpoints: the counters say how many bytes each message took.
  const a = websocketTransport({ id: 'a', clusterId: 'bench', secret: SECRET });
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

const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const messages = numberArgument('messages', 200_000);
  const roundTrips = numberArgument('round-trips', 5000);
  const runs = numberArgument('runs', 3);
  const only = argument('only');
  const module = argument('module');
  if (only !== undefined && !MODES.includes(only)) throw new Error(`--only takes one of ${MODES.join(', ')}`);
  const modes = only === undefined ? MODES : [only];
  const websocketTransport = await loadTransport(module);
  // The exact byte sizes the transport puts on the wire for these two messages.
  const sizes = await measureSizes(websocketTransport);
  const floorBytes = packMessage(append(1)).byteLength;
  console.log(`payloads: AppendEntries of ${ENTRIES} × ${ENTRY_BYTES} B entries = ${sizes.appendBytes} B encoded by the transport (${floorBytes} B by the floor's msgpackr); response ${sizes.responseBytes} B`);
  console.log(`${messages} messages in bursts of ${BURST}, window ${WINDOW}, frames ≤ 64 KiB; ${roundTrips} round trips; receiver in a worker thread; ${runs} run(s), alternating; node ${process.version}; masking: ${masking()}`);
  const row = (name, r) =>
    `${name.padEnd(26)} ${(r.rate / 1000).toFixed(1).padStart(7)} k msg/s ${((r.rate * sizes.appendBytes) / 1e6).toFixed(0).padStart(5)} MB/s ${r.cpuPerMessage.toFixed(1).padStart(5)} cpu µs/msg   rtt mean ${r.rtt.mean.toFixed(0).padStart(5)} µs  p50 ${r.rtt.p50.toFixed(0).padStart(5)} µs  p99 ${r.rtt.p99.toFixed(0).padStart(6)} µs`;
  const names = { raw: 'raw ws (the limit)', floor: 'ws + msgpack codec (floor)', entries: 'ws + entry copies', transport: 'websocket transport' };
  const results = { raw: [], floor: [], entries: [], transport: [] };
  for (let run = 1; run <= runs; run++) {
    // Each run starts with another mode: whatever the previous one left (garbage, a cold cache) falls on each in turn.
    const order = modes.map((_, i) => modes[(i + run - 1) % modes.length]);
    for (const mode of order) {
      const result = mode === 'transport' ? await transportRun({ roundTrips, messages, module }) : await wsRun(mode, { ...sizes, roundTrips, messages });
      results[mode].push(result);
      if (runs > 1) console.log(`  run ${run}: ${row(names[mode], result)}`);
    }
  }
  const summary = {};
  for (const mode of modes) {
    const list = results[mode];
    summary[mode] = {
      rate: median(list.map((r) => r.rate)),
      cpuPerMessage: median(list.map((r) => r.cpuPerMessage)),
      rtt: { mean: median(list.map((r) => r.rtt.mean)), p50: median(list.map((r) => r.rtt.p50)), p99: median(list.map((r) => r.rtt.p99)) },
    };
  }
  if (runs > 1) console.log(`median of ${runs} runs:`);
  for (const mode of modes) console.log(row(names[mode], summary[mode]));
  const { raw, floor, entries, transport } = summary;
  if (raw !== undefined && transport !== undefined) {
    console.log(`transport / raw: message rate ${(transport.rate / raw.rate).toFixed(2)}× (target ≥ 0.80), round trip p50 ${(transport.rtt.p50 / raw.rtt.p50).toFixed(2)}× mean ${(transport.rtt.mean / raw.rtt.mean).toFixed(2)}× (target ≤ 1.20); cpu per message ${(transport.cpuPerMessage / raw.cpuPerMessage).toFixed(2)}×`);
  }
  if (floor !== undefined && raw !== undefined) {
    console.log(`floor / raw:     message rate ${(floor.rate / raw.rate).toFixed(2)}×, round trip p50 ${(floor.rtt.p50 / raw.rtt.p50).toFixed(2)}× mean ${(floor.rtt.mean / raw.rtt.mean).toFixed(2)}×; cpu per message ${(floor.cpuPerMessage / raw.cpuPerMessage).toFixed(2)}× (what msgpack encode + decode alone costs)`);
  }
  if (entries !== undefined && raw !== undefined) {
    console.log(`entries / raw:   message rate ${(entries.rate / raw.rate).toFixed(2)}×, round trip p50 ${(entries.rtt.p50 / raw.rtt.p50).toFixed(2)}× mean ${(entries.rtt.mean / raw.rtt.mean).toFixed(2)}×; cpu per message ${(entries.cpuPerMessage / raw.cpuPerMessage).toFixed(2)}× (what copying entries in and viewing them out alone costs)`);
  }
  if (floor !== undefined && transport !== undefined) {
    console.log(`transport / floor: message rate ${(transport.rate / floor.rate).toFixed(2)}×, round trip p50 ${(transport.rtt.p50 / floor.rtt.p50).toFixed(2)}× mean ${(transport.rtt.mean / floor.rtt.mean).toFixed(2)}×; cpu per message ${(transport.cpuPerMessage / floor.cpuPerMessage).toFixed(2)}×`);
  }
  if (transport !== undefined) {
    const last = results.transport;
    console.log(`transport: ${last.reduce((s, r) => s + r.drops, 0)} drops, ${((last.reduce((s, r) => s + r.bulkShare, 0) / last.length) * 100).toFixed(0)} % of messages on the bulk lane`);
  }
}

if (isMainThread) await main();
else if (workerData.mode === 'transport') await transportReceiver(workerData);
else await rawReceiver(workerData);
