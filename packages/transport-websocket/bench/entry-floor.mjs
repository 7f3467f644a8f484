// What one entry costs a transport that hands the node `LogEntry` objects, measured alone: making
// a `Uint8Array` view into a received frame and the entry object around it (the receiver), and
// copying 128 bytes of entry data into a frame (the sender). Multiplied by the 32 entries of
// bench/ws.mjs's AppendEntries, it is the per-message floor the README compares with raw ws.
// Run: node packages/transport-websocket/bench/entry-floor.mjs [--entry-bytes 128] [--count 2000000]
const argument = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const ENTRY_BYTES = argument('entry-bytes', 128);
const COUNT = argument('count', 2_000_000);
const SLOTS = 2000;
const frame = new Uint8Array(ENTRY_BYTES * SLOTS);
const data = new Uint8Array(ENTRY_BYTES).fill(7);

function measure(label, body) {
  for (let i = 0; i < COUNT / 10; i++) body(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < COUNT; i++) body(i);
  const ns = ((performance.now() - start) * 1e6) / COUNT;
  console.log(`${label.padEnd(48)} ${ns.toFixed(1).padStart(6)} ns`);
  return ns;
}

let kept;
const view = measure('receiver: Uint8Array view + entry object', (i) => {
  kept = { type: 'normal', term: 3, index: i, data: new Uint8Array(frame.buffer, (i % SLOTS) * ENTRY_BYTES, ENTRY_BYTES) };
});
const copy = measure(`sender: copy ${ENTRY_BYTES} bytes into the frame`, (i) => {
  frame.set(data, (i % SLOTS) * ENTRY_BYTES);
});
if (kept === undefined) throw new Error('unreachable');
console.log(`per entry ${(view + copy).toFixed(1)} ns; per AppendEntries of 32 entries ${((32 * (view + copy)) / 1000).toFixed(2)} µs`);
