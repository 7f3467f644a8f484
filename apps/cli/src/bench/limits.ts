/**
 * The `limits` suite: what the machine allows before any Raft runs, measured in the same run as
 * the Raft suites so their ratios compare like with like. Loopback ws round trip and message rate
 * and the data disk's fdatasync, grouped-write and classic-level rates come from the packages' own
 * benches (see ./bench-modules.ts); the state machine's apply rate and the memory transport's
 * round trip are measured here.
 */
import type { Message } from '@greenraft/consensus';
import { memoryNetwork } from '@greenraft/transport-memory';
import { repositoryRoot, runWalBench, runWsBench, type WalBenchRow, type WsBenchResult } from './bench-modules.js';
import { type BenchResult, machine, result, type SuiteReport } from './report.js';
import { LatencySamples } from './stats.js';
import { BenchKvStore, payloadPool } from './workload.js';

/** The limits the Raft suites divide by; absent when not measured (or not measurable here). */
export interface Limits {
  /** The bench state machine's applies per second, one thread, no replication. */
  applyPerSec?: number;
  /** The memory transport's round trip between two endpoints (p50), in ms. */
  memoryRttMs?: number;
  /** Raw ws round trip on loopback (p50), in ms: the client and the peer round trip. */
  wsRttMs?: number;
  /** Raw ws AppendEntries per second on loopback, with the transport's batching. */
  wsMessagesPerSec?: number;
  /** Entries per AppendEntries in the ws bench. */
  wsEntriesPerMessage?: number;
  /** One 128-byte write + fdatasync (p50), in ms. */
  fsyncMs?: number;
  /** Writes per second with one fdatasync each. */
  fsyncPerSec?: number;
  /** Writes per second with 64 writes per fdatasync. */
  groupedWritesPerSec?: number;
}

/** Which limits a run needs: the in-process ones are quick, the disk and ws ones take a while. */
export type LimitNeeds = 'in-process' | 'all';

/** Options of {@link measureLimits}. */
export interface LimitsInit {
  readonly needs: LimitNeeds;
  /** Seconds per measurement. */
  readonly seconds: number;
  /** Where the disk measurements write (the data disk). */
  readonly dataDir: string;
  /** Progress lines (on stderr). */
  readonly log: (line: string) => void;
}

/** Applies of the bench state machine for `seconds`, in batches, one thread. */
export function measureApplyRate(seconds: number): number {
  const store = new BenchKvStore();
  const pool = payloadPool();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let applied = 0;
  let index = 1;
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) {
      store.apply({ index, term: 1, data: pool[index % pool.length]! });
      index++;
    }
    applied += 1000;
  }
  return applied / ((performance.now() - started) / 1000);
}

/** Round trips between two memory-transport endpoints (a heartbeat out, its response back), one at a time. */
export async function measureMemoryRoundTrip(seconds: number): Promise<LatencySamples> {
  const network = memoryNetwork();
  const a = network.transport('a');
  const b = network.transport('b');
  let arrived: (() => void) | undefined;
  await b.start((message) => {
    if (message.type === 'heartbeat') b.send({ type: 'heartbeatResponse', from: 'b', to: 'a', term: 1 });
  });
  await a.start(() => arrived?.());
  const heartbeat: Message = { type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex: 0 };
  const samples = new LatencySamples();
  const deadline = performance.now() + seconds * 1000;
  let warmUp = 200;
  try {
    while (performance.now() < deadline) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        arrived = resolve;
        a.send(heartbeat);
      });
      if (warmUp > 0) warmUp--;
      else samples.add(performance.now() - started);
    }
  } finally {
    network.close();
  }
  return samples;
}

function walRow(rows: readonly WalBenchRow[], system: WalBenchRow['system'], batch: number): WalBenchRow | undefined {
  return rows.find((row) => row.system === system && row.batch === batch);
}

/** A limit that could not be measured, with the reason. */
function unavailable(name: string, reason: string): BenchResult {
  return result({ name, nodes: null, policy: null, concurrency: null, opsPerSec: null, p50Ms: null, p99Ms: null, note: `not measured: ${reason}` });
}

/** Measures the limits `init.needs` asks for; returns them and the `limits` suite's report. */
export async function measureLimits(init: LimitsInit): Promise<{ limits: Limits; report: SuiteReport }> {
  const limits: Limits = {};
  const rows: BenchResult[] = [];

  init.log('limits: state machine apply rate');
  // The in-process limits are quick and steady: a fixed short time, long enough for any --seconds.
  const quick = Math.min(Math.max(init.seconds, 0.25), 1);
  limits.applyPerSec = measureApplyRate(quick);
  rows.push(
    result({
      name: 'state machine apply, no replication',
      nodes: 1,
      policy: null,
      concurrency: 1,
      opsPerSec: limits.applyPerSec,
      p50Ms: null,
      p99Ms: null,
      note: '128-byte puts into the bench KV map',
    }),
  );

  init.log('limits: memory transport round trip');
  const memory = await measureMemoryRoundTrip(quick);
  limits.memoryRttMs = memory.quantile(0.5);
  rows.push(
    result({
      name: 'memory transport round trip',
      nodes: 2,
      policy: null,
      concurrency: 1,
      opsPerSec: 1000 / memory.mean(),
      p50Ms: memory.quantile(0.5),
      p99Ms: memory.quantile(0.99),
      note: 'one zero-latency hop each way, messages copied',
    }),
  );

  if (init.needs === 'all') {
    const root = repositoryRoot();
    if (root === undefined) {
      const reason = 'the disk and ws limits run the benches of a greenraft repository checkout';
      rows.push(unavailable('ws round trip and message rate', reason), unavailable('fdatasync and grouped writes', reason));
    } else {
      rows.push(...(await wsRows(root, init, limits)));
      rows.push(...(await diskRows(root, init, limits)));
    }
  }
  return { limits, report: { suite: 'limits', machine: machine(), results: rows } };
}

async function wsRows(root: string, init: LimitsInit, limits: Limits): Promise<BenchResult[]> {
  init.log('limits: loopback ws (packages/transport-websocket/bench/ws.mjs)');
  let ws: WsBenchResult;
  try {
    ws = await runWsBench(root, { seconds: init.seconds });
  } catch (error) {
    return [unavailable('ws round trip and message rate', error instanceof Error ? error.message : String(error))];
  }
  const raw = ws.lines.find((line) => line.label === 'raw');
  if (raw !== undefined) {
    limits.wsRttMs = raw.rttP50Ms;
    limits.wsMessagesPerSec = raw.messagesPerSecond;
  }
  if (ws.entriesPerMessage !== undefined) limits.wsEntriesPerMessage = ws.entriesPerMessage;
  const payload = `AppendEntries of ${ws.entriesPerMessage ?? '?'} × 128 B (${ws.appendBytes ?? '?'} B)`;
  const names = { raw: 'raw ws', floor: 'ws + msgpack encode/decode (floor)', transport: 'websocket transport' } as const;
  const out: BenchResult[] = [];
  for (const line of ws.lines) {
    const ratio = line.label === 'raw' || raw === undefined ? {} : { throughput: line.messagesPerSecond / raw.messagesPerSecond, latency: line.rttP50Ms / raw.rttP50Ms };
    out.push(
      result({
        name: `${names[line.label]}: round trip`,
        nodes: 2,
        policy: null,
        concurrency: 1,
        opsPerSec: 1000 / line.rttMeanMs,
        p50Ms: line.rttP50Ms,
        p99Ms: line.rttP99Ms,
        ratio: line.label === 'raw' ? {} : { latency: ratio.latency },
        note: payload,
      }),
      result({
        name: `${names[line.label]}: message rate`,
        nodes: 2,
        policy: null,
        concurrency: 1024,
        opsPerSec: line.messagesPerSecond,
        p50Ms: null,
        p99Ms: null,
        ratio: line.label === 'raw' ? {} : { throughput: ratio.throughput },
        note: `${payload}, window 1024, frames ≤ 64 KiB`,
      }),
    );
  }
  return out;
}

async function diskRows(root: string, init: LimitsInit, limits: Limits): Promise<BenchResult[]> {
  init.log(`limits: data disk ${init.dataDir} (packages/storage-wal/bench/wal.mjs)`);
  let rows: WalBenchRow[];
  try {
    rows = await runWalBench(root, { seconds: init.seconds, dir: init.dataDir });
  } catch (error) {
    return [unavailable('fdatasync and grouped writes', error instanceof Error ? error.message : String(error))];
  }
  const single = walRow(rows, 'raw', 1);
  const grouped = walRow(rows, 'raw', 64);
  if (single !== undefined) {
    limits.fsyncMs = single.p50Ms;
    limits.fsyncPerSec = single.entriesPerSecond;
  }
  if (grouped !== undefined) limits.groupedWritesPerSec = grouped.entriesPerSecond;
  const wanted: [WalBenchRow['system'], number, string][] = [
    ['raw', 1, 'fdatasync per write (raw fs)'],
    ['raw', 64, 'grouped writes, 64 per fdatasync (raw fs)'],
    ['leveldb', 64, 'classic-level synced batches of 64'],
    ['wal', 1, 'storage-wal, 1 entry per save'],
    ['wal', 64, 'storage-wal, 64 entries per save'],
    ['walGroup', 64, 'storage-wal, 64 concurrent savers (group commit)'],
  ];
  const out: BenchResult[] = [];
  for (const [system, batch, name] of wanted) {
    const row = walRow(rows, system, batch);
    if (row === undefined) continue;
    const raw = walRow(rows, 'raw', batch);
    const isLimit = system === 'raw';
    out.push(
      result({
        name,
        nodes: 1,
        policy: null,
        concurrency: system === 'walGroup' ? 64 : 1,
        opsPerSec: row.entriesPerSecond,
        p50Ms: row.p50Ms,
        p99Ms: row.p99Ms,
        ratio: isLimit || raw === undefined ? {} : { throughput: row.entriesPerSecond / raw.entriesPerSecond },
        note: `${row.entriesPerFsync.toFixed(0)} entries per fdatasync, 128-byte entries; latency per batch`,
      }),
    );
  }
  return out;
}
