// Append-to-durable throughput and latency of the write-ahead log for 128-byte entries, side by
// side with what the same disk allows in the same run: raw writes with one fdatasync per batch
// (batch 1 is "fdatasync per write", batch 64 is "64 writes per fdatasync") and LevelDB
// (classic-level) batches written with sync: true. One batch = one awaited call, one after the
// other, as the RaftNode driver saves one Ready at a time; a last row has 64 callers saving one
// entry each at once, which group commit turns into shared fdatasyncs.
//
// Run: npx turbo run build --filter=@greenraft/storage-wal && node packages/storage-wal/bench/wal.mjs
// Options: --seconds S (per row, default 2), --rounds R (interleaved slices per row, default 10),
//          --dir DIR (where to write, default the OS temp directory), --json.
import { closeSync, fdatasync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClassicLevel } from 'classic-level';
import { walStorage } from '../dist/index.js';

const { values: options } = parseArgs({
  options: { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '10' }, dir: { type: 'string' }, json: { type: 'boolean', default: false } },
});
const SECONDS = Number(options.seconds);
const ROUNDS = Number(options.rounds);
const BATCHES = [1, 16, 64, 256];
const ENTRY_BYTES = 128;
const root = mkdtempSync(join(options.dir ?? tmpdir(), 'greenraft-wal-bench-'));
const payload = new Uint8Array(ENTRY_BYTES).map((_, i) => (i * 31) & 0xff);

/** Calls `step` (one batch) until `seconds` have passed; adds per-batch latencies (ms) and the elapsed time to `into`. */
async function measure(seconds, step, into) {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let now = started;
  while (now < deadline) {
    const before = now;
    await step();
    now = performance.now();
    into.latencies.push(now - before);
  }
  into.elapsed += (now - started) / 1000;
}

/** Each system opens once, then saves batches of `batch` entries per step. */
const systems = {
  async wal(batch, directory) {
    const stats = { fsyncs: 0 };
    const storage = await walStorage({ directory, onSync: ({ batches }) => void (stats.fsyncs += batches > 0 ? 1 : 0) });
    let next = 1;
    return {
      step: () => {
        const entries = [];
        for (let i = 0; i < batch; i++) entries.push({ type: 'normal', index: next++, term: 1, data: payload });
        return storage.save({ entries });
      },
      entries: () => next - 1,
      fsyncs: () => stats.fsyncs,
      close: () => storage.close(),
    };
  },
  // The plain-fs limit: `batch` synchronous writes, then one fdatasync. The fdatasync is the async
  // one, as an event loop that serves peers must use; it is also the faster one on a busy machine,
  // where a thread blocked in fdatasyncSync waits a scheduler tick (~4 ms) to run again.
  async raw(batch, directory) {
    const fd = openSync(join(directory, 'raw.log'), 'w');
    let written = 0;
    let syncs = 0;
    return {
      step: () => {
        for (let i = 0; i < batch; i++) writeSync(fd, payload);
        written += batch;
        syncs++;
        return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
      },
      entries: () => written,
      fsyncs: () => syncs,
      close: () => closeSync(fd),
    };
  },
  async leveldb(batch, directory) {
    const db = new ClassicLevel(join(directory, 'level'), { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    let next = 1;
    let syncs = 0;
    return {
      step: () => {
        const operations = [];
        for (let i = 0; i < batch; i++) operations.push({ type: 'put', key: String(next++).padStart(16, '0'), value: payload });
        syncs++;
        return db.batch(operations, { sync: true });
      },
      entries: () => next - 1,
      fsyncs: () => syncs,
      close: () => db.close(),
    };
  },
  /** 64 callers at once, one entry each, round after round: group commit. */
  async walGroup(_batch, directory) {
    const stats = { fsyncs: 0 };
    const storage = await walStorage({ directory, onSync: ({ batches }) => void (stats.fsyncs += batches > 0 ? 1 : 0) });
    let next = 1;
    return {
      step: () => Promise.all(Array.from({ length: 64 }, () => storage.save({ entries: [{ type: 'normal', index: next++, term: 1, data: payload }] }))),
      entries: () => next - 1,
      fsyncs: () => stats.fsyncs,
      close: () => storage.close(),
    };
  },
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

// Every system and batch size opens once; then they take turns in short slices, round after
// round, so that a busy moment of the machine falls on all of them alike.
const plan = [...BATCHES.flatMap((batch) => ['raw', 'wal', 'leveldb'].map((system) => ({ system, batch }))), { system: 'walGroup', batch: 64 }];
const opened = [];
try {
  for (const { system, batch } of plan) {
    const directory = mkdtempSync(join(root, `${system}-${batch}-`));
    opened.push({ system, batch, store: await systems[system](batch, directory), latencies: [], elapsed: 0 });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of opened) await measure(SECONDS / ROUNDS, run.store.step, run);
  }
} finally {
  for (const run of opened) await run.store.close();
  rmSync(root, { recursive: true, force: true });
}

const rows = opened.map(({ system, batch, store, latencies, elapsed }) => {
  const sorted = latencies.sort((a, b) => a - b);
  return { system, batch, entriesPerSecond: Math.round(store.entries() / elapsed), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), entriesPerFsync: store.entries() / Math.max(1, store.fsyncs()) };
});
const find = (system, batch) => rows.find((row) => row.system === system && row.batch === batch);
const comparisons = BATCHES.map((batch) => ({
  batch,
  walVsRaw: find('wal', batch).entriesPerSecond / find('raw', batch).entriesPerSecond,
  walVsLevelDb: find('wal', batch).entriesPerSecond / find('leveldb', batch).entriesPerSecond,
}));

if (options.json) {
  console.log(JSON.stringify({ entryBytes: ENTRY_BYTES, seconds: SECONDS, rounds: ROUNDS, rows, comparisons }, null, 2));
} else {
  const label = { raw: 'raw fs: writes + 1 fdatasync per batch', wal: 'storage-wal', leveldb: 'classic-level, sync: true', walGroup: 'storage-wal, 64 concurrent callers × 1' };
  console.log(`${ENTRY_BYTES}-byte entries, ${SECONDS} s per row in ${ROUNDS} interleaved rounds, on ${options.dir ?? tmpdir()}\n`);
  console.log(`${'batch'.padStart(5)}  ${'system'.padEnd(40)} ${'entries/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'entries/fsync'.padStart(14)}`);
  for (const row of rows.sort((a, b) => a.batch - b.batch || Object.keys(label).indexOf(a.system) - Object.keys(label).indexOf(b.system))) {
    console.log(
      `${String(row.batch).padStart(5)}  ${label[row.system].padEnd(40)} ${row.entriesPerSecond.toLocaleString('en').padStart(10)} ${row.p50Ms.toFixed(3).padStart(8)} ${row.p99Ms.toFixed(3).padStart(8)} ${row.entriesPerFsync.toFixed(1).padStart(14)}`,
    );
  }
  console.log('\nstorage-wal throughput relative to:');
  for (const { batch, walVsRaw, walVsLevelDb } of comparisons) {
    console.log(`  batch ${String(batch).padStart(3)}: raw fdatasync ${walVsRaw.toFixed(2)}× (target ≥ ${(1 / 1.3).toFixed(2)}×), classic-level ${walVsLevelDb.toFixed(2)}×${batch === 64 ? ' (target ≥ 2×)' : ''}`);
  }
}
