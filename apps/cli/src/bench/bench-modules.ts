/**
 * The per-package benchmarks the `limits` suite runs rather than copies: the storage-wal bench
 * (raw fdatasync, grouped writes, classic-level synced batches, the WAL itself) and the
 * transport-websocket bench (raw ws, the msgpack floor, the transport). They live in the
 * repository beside their packages (`packages/<name>/bench/*.mjs`) and run from the packages'
 * builds, each in a child process of its own, as their READMEs document.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of the greenraft repository this command runs from, or `undefined` outside one (an npm install). */
export function repositoryRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let directory = dirname(from);
  for (;;) {
    if (existsSync(join(directory, 'packages', 'storage-wal', 'bench', 'wal.mjs'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** Runs `node <script> <args>`; resolves with its stdout, rejects with its stderr's last lines on a failure or after `timeoutMs`. */
export function runNodeScript(script: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else {
        const why = signal === 'SIGKILL' ? `timed out after ${Math.round(timeoutMs / 1000)} s` : `exited with ${code ?? signal}`;
        const last = stderr.trim().split('\n').slice(-3).join(' / ');
        reject(new Error(`${script} ${why}${last === '' ? '' : `: ${last}`}`));
      }
    });
  });
}

/** One row of the storage-wal bench's `--json` output. */
export interface WalBenchRow {
  readonly system: 'raw' | 'wal' | 'leveldb' | 'walGroup';
  readonly batch: number;
  readonly entriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly entriesPerFsync: number;
}

/** Runs `packages/storage-wal/bench/wal.mjs --json` (it needs the package built). */
export async function runWalBench(root: string, init: { seconds: number; dir: string }): Promise<WalBenchRow[]> {
  const script = join(root, 'packages', 'storage-wal', 'bench', 'wal.mjs');
  const rounds = Math.max(2, Math.round(init.seconds * 4));
  const out = await runNodeScript(script, ['--json', '--seconds', String(init.seconds), '--rounds', String(rounds), '--dir', init.dir], 60_000 + init.seconds * 20_000);
  const parsed = JSON.parse(out) as { rows?: WalBenchRow[] };
  if (!Array.isArray(parsed.rows)) throw new Error(`${script} printed no rows`);
  return parsed.rows;
}

/** One line of the transport-websocket bench: a message rate and a round trip. */
export interface WsBenchLine {
  readonly label: 'raw' | 'floor' | 'transport';
  readonly messagesPerSecond: number;
  readonly rttMeanMs: number;
  readonly rttP50Ms: number;
  readonly rttP99Ms: number;
}

/** What the transport-websocket bench measured, and the AppendEntries it sent. */
export interface WsBenchResult {
  readonly lines: readonly WsBenchLine[];
  /** Encoded bytes of one AppendEntries of the bench (32 entries of 128 bytes). */
  readonly appendBytes: number | undefined;
  readonly entriesPerMessage: number | undefined;
}

const WS_LABELS: readonly [RegExp, WsBenchLine['label']][] = [
  [/^raw ws/, 'raw'],
  [/^ws \+ msgpack/, 'floor'],
  [/^websocket transport/, 'transport'],
];

/**
 * Reads the transport-websocket bench's text output: the figures of its "median of N runs"
 * block when it prints one, else its last line per system.
 */
export function parseWsBench(text: string): WsBenchResult {
  const all = text.split('\n');
  const median = all.findIndex((line) => /^median of/.test(line));
  const lines = median === -1 ? all : all.slice(median + 1);
  const found = new Map<WsBenchLine['label'], WsBenchLine>();
  for (const raw of lines) {
    const line = raw.replace(/^\s*run \d+:\s*/, '').trim();
    const label = WS_LABELS.find(([pattern]) => pattern.test(line))?.[1];
    if (label === undefined) continue;
    const rate = /([\d.]+) k msg\/s/.exec(line);
    const mean = /mean\s+([\d.]+) µs/.exec(line);
    const p50 = /p50\s+([\d.]+) µs/.exec(line);
    const p99 = /p99\s+([\d.]+) µs/.exec(line);
    if (rate === null || p50 === null) continue;
    found.set(label, {
      label,
      messagesPerSecond: Number(rate[1]) * 1000,
      rttMeanMs: mean === null ? Number.NaN : Number(mean[1]) / 1000,
      rttP50Ms: Number(p50[1]) / 1000,
      rttP99Ms: p99 === null ? Number.NaN : Number(p99[1]) / 1000,
    });
  }
  const payload = /AppendEntries of (\d+) × \d+ B entries = (\d+) B/.exec(text);
  return {
    lines: [...found.values()],
    appendBytes: payload === null ? undefined : Number(payload[2]),
    entriesPerMessage: payload === null ? undefined : Number(payload[1]),
  };
}

/** Runs `packages/transport-websocket/bench/ws.mjs` (it needs the package built). */
export async function runWsBench(root: string, init: { seconds: number }): Promise<WsBenchResult> {
  const script = join(root, 'packages', 'transport-websocket', 'bench', 'ws.mjs');
  const messages = Math.max(5000, Math.round(init.seconds * 20_000));
  const roundTrips = Math.max(500, Math.round(init.seconds * 1000));
  const out = await runNodeScript(script, ['--messages', String(messages), '--round-trips', String(roundTrips), '--runs', '3'], 120_000 + init.seconds * 60_000);
  const parsed = parseWsBench(out);
  if (parsed.lines.length === 0) throw new Error(`${script} printed no figures this command can read`);
  return parsed;
}
