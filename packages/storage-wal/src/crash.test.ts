/**
 * Crash tests: a writer process (test/crash-writer.mjs, on the built dist/) saves batches as fast
 * as it can and prints each acknowledged one; the test kills it with SIGKILL at a random moment
 * or lets a failpoint kill it at a random write, fsync or rename, reopens the directory and
 * checks that every acknowledged batch is there, intact, and that what else is there is whole
 * batches in the order they were issued. Three modes take turns:
 * - kill: SIGKILL alone (the page cache survives, so unsynced writes usually do too);
 * - lost-write: stops the writer at a failpoint between a write and the report of its fsync, then
 *   truncates each file to a random point after what the writer reported fsynced, as a power cut
 *   would lose unsynced writes: must recover;
 * - corruption: flips one random bit in a fsynced region: must be refused with a
 *   StorageCorruptionError naming the file; the bit is then flipped back and the cycle goes on.
 * GREENRAFT_WAL_CRASH_CYCLES sets the number of kills (CI: 45; full: a few hundred, e.g. 600).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PersistentState, StorageBatch } from '@greenraft/consensus';
import { memoryStorage } from '@greenraft/raft';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module shared with the writer process, without type declarations.
import { batchFrom, prng } from '../test/workload.mjs';
import { StorageCorruptionError, walStorage } from './index.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const writer = join(packageRoot, 'test', 'crash-writer.mjs');
const CYCLES = Number(process.env.GREENRAFT_WAL_CRASH_CYCLES ?? 45);
const CYCLES_PER_SEED = 15;
const SEED = Number(process.env.GREENRAFT_WAL_CRASH_SEED ?? 20_251_201);
const SEGMENT_BYTES = 16_384;
const MODES = ['kill', 'lost-write', 'corruption'] as const;
type Mode = (typeof MODES)[number];
const FAILPOINTS = ['beforeWrite', 'afterWrite', 'beforeFsync', 'afterFsync', 'beforeRename', 'afterRename'] as const;
const UNSYNCED_FAILPOINTS = ['afterWrite', 'beforeFsync', 'afterFsync'] as const;

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-crash-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

type Operation = { readonly id: number; readonly batch: StorageBatch } | { readonly id: number; readonly compact: number };

interface WriterRun {
  readonly operations: Operation[];
  readonly acked: Set<number>;
  /** Bytes of each file the writer reported durable. */
  readonly synced: Map<string, number>;
  readonly stderr: string;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
}

/** Runs the writer until it is killed (after `killAfterMs`, or by its failpoint) and collects what it printed. */
function runWriter(directory: string, seed: number, killAfterMs: number, failpoint: string | undefined): Promise<WriterRun> {
  const env = { ...process.env };
  if (failpoint === undefined) delete env.GREENRAFT_WAL_FAILPOINT;
  else env.GREENRAFT_WAL_FAILPOINT = failpoint;
  const child = spawn(process.execPath, [writer, directory, String(seed), String(SEGMENT_BYTES)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const ready = !stdout.includes('ready') && (stdout + chunk).includes('ready');
    stdout += chunk;
    // The kill timer starts once the store is open, so the kill lands among the writes.
    if (ready) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // Bounded: a writer that never prints `ready` (or a failpoint that never strikes) is killed anyway.
  const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      children.delete(child);
      const operations: Operation[] = [];
      const acked = new Set<number>();
      const synced = new Map<string, number>();
      for (const line of stdout.split('\n')) {
        const [word, first, ...rest] = line.split(' ');
        if (word === 'save') operations.push({ id: Number(first), batch: batchFrom(JSON.parse(rest.join(' '))) as StorageBatch });
        else if (word === 'compact') operations.push({ id: Number(first), compact: Number(rest[0]) });
        else if (word === 'ack') acked.add(Number(first));
        else if (word === 'sync') synced.set(first!, Math.max(synced.get(first!) ?? 0, Number(rest[0])));
      }
      resolve({ operations, acked, synced, stderr, signal, code });
    });
  });
}

function fingerprint(state: PersistentState): string {
  const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
  return JSON.stringify({
    hardState: state.hardState,
    snapshot: state.snapshot && { metadata: state.snapshot.metadata, data: hex(state.snapshot.data) },
    entries: state.entries.map((entry) => (entry.type === 'normal' ? [entry.index, entry.term, hex(entry.data)] : [entry.index, entry.term, entry.config])),
  }, (_key, value: unknown) => (value instanceof Map ? [...value] : value instanceof Set ? [...value] : value));
}

/**
 * The states the directory may hold after the crash: the state before the cycle with the
 * operations applied in issue order, from the last acknowledged one (everything acknowledged
 * is durable) up to every one issued (an unacknowledged batch may have reached the disk).
 */
async function acceptableStates(before: PersistentState, run: WriterRun): Promise<{ lowest: number; states: Map<string, number> }> {
  const model = memoryStorage({ state: before });
  let lowest = 0;
  run.operations.forEach((operation, position) => {
    if (run.acked.has(operation.id)) lowest = position + 1;
  });
  const states = new Map<string, number>();
  if (lowest === 0) states.set(fingerprint(await model.load()), 0);
  for (let position = 0; position < run.operations.length; position++) {
    const operation = run.operations[position]!;
    if ('batch' in operation) await model.save(operation.batch);
    else await model.compact(operation.compact);
    if (position + 1 >= lowest) states.set(fingerprint(await model.load()), position + 1);
  }
  return { lowest, states };
}

function segmentFiles(directory: string): string[] {
  return readdirSync(directory).filter((name) => /^wal-\d+\.log$/.test(name)).sort();
}

function flipBit(path: string, offset: number, bit: number): void {
  const fd = openSync(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0]! ^= 1 << bit;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

describe('crash tests (child processes on dist/)', () => {
  it(`recovers every acknowledged batch across ${CYCLES} kills: SIGKILL, lost writes and flipped bits`, async () => {
    if (!existsSync(join(packageRoot, 'dist', 'index.js'))) {
      throw new Error('the crash tests run the built package: run `npx turbo run build --filter=@greenraft/storage-wal` first');
    }
    const tally = { kill: 0, 'lost-write': 0, corruption: 0, failpoints: 0, acked: 0, tornTails: 0, truncatedFiles: 0 };
    for (let seed = 0; seed * CYCLES_PER_SEED < CYCLES; seed++) {
      const directory = join(root, `seed-${seed}`);
      const random = prng(SEED + seed);
      let before: PersistentState = { hardState: { term: 0, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] };
      for (let cycle = 0; cycle < CYCLES_PER_SEED && seed * CYCLES_PER_SEED + cycle < CYCLES; cycle++) {
        const mode: Mode = MODES[cycle % MODES.length]!;
        const where = `seed ${SEED + seed}, cycle ${cycle}, mode ${mode}`;
        // After the last reopen and close, every file that exists is durable in full.
        const sizesBefore = new Map((existsSync(directory) ? segmentFiles(directory) : []).map((name) => [name, statSync(join(directory, name)).size] as const));
        // Lost-write cycles stop the writer where written bytes are not yet fsynced, so there is a tail to lose.
        const points = mode === 'lost-write' ? UNSYNCED_FAILPOINTS : FAILPOINTS;
        const failpoint = mode === 'lost-write' || random() < 0.5 ? `${points[Math.floor(random() * points.length)]}:${1 + Math.floor(random() * 40)}` : undefined;
        const killAfterMs = mode === 'lost-write' ? 10_000 : 5 + Math.floor(random() * 115);
        const run = await runWriter(directory, Math.floor(random() * 2 ** 31), killAfterMs, failpoint);
        expect(run.signal, `${where}: the writer must die by SIGKILL, not exit (${run.stderr})`).toBe('SIGKILL');
        tally[mode]++;
        if (failpoint !== undefined) tally.failpoints++;
        tally.acked += run.acked.size;

        const files = segmentFiles(directory);
        const durable = (name: string): number | undefined => run.synced.get(name) ?? sizesBefore.get(name);
        if (mode === 'lost-write') {
          for (const name of files) {
            const synced = durable(name);
            const size = statSync(join(directory, name)).size;
            if (synced === undefined || size <= synced) continue;
            truncateSync(join(directory, name), synced + Math.floor(random() * (size - synced + 1)));
            tally.truncatedFiles++;
          }
        }
        if (mode === 'corruption') {
          const candidates = files.filter((name) => (durable(name) ?? 0) > 0);
          const name = candidates[Math.floor(random() * candidates.length)]!;
          const offset = Math.floor(random() * durable(name)!);
          const bit = Math.floor(random() * 8);
          const path = join(directory, name);
          flipBit(path, offset, bit);
          const error = await walStorage({ directory, segmentBytes: SEGMENT_BYTES }).then(
            async (opened) => {
              await opened.close();
              return undefined;
            },
            (caught: unknown) => caught,
          );
          expect(error, `${where}: a flipped bit at ${name}:${offset} must be refused`).toBeInstanceOf(StorageCorruptionError);
          expect((error as StorageCorruptionError).file, where).toBe(path);
          expect((error as StorageCorruptionError).offset, where).toBeLessThanOrEqual(offset);
          flipBit(path, offset, bit);
        }

        const storage = await walStorage({ directory, segmentBytes: SEGMENT_BYTES });
        try {
          if (storage.recovery.tornTail !== undefined) tally.tornTails++;
          const recovered = await storage.load();
          const { lowest, states } = await acceptableStates(before, run);
          const found = states.get(fingerprint(recovered));
          expect(found, `${where}: the recovered log is not the state after operations ${lowest}..${run.operations.length} (failpoint ${failpoint ?? 'none'})`).toBeDefined();
          expect(storage.lastIndex).toBe(Math.max(recovered.entries.at(-1)?.index ?? 0, recovered.snapshot?.metadata.index ?? 0));
          before = recovered;
        } finally {
          await storage.close();
        }
      }
    }
    console.log(`crash tests: ${JSON.stringify(tally)}`);
    expect(tally.kill + tally['lost-write'] + tally.corruption).toBe(CYCLES);
    expect(tally.acked).toBeGreaterThan(CYCLES);
  }, 600_000);
});
