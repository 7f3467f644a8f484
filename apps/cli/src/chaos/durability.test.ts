/**
 * The fsync-recording preload and the lost-write power cut, on a real write-ahead log in a child
 * process (the built @greenraft/storage-wal): the preload records exactly what the log itself
 * reports durable, the cut keeps every acknowledged batch, and with fdatasync skipped (the
 * injected bug) the same cut loses acknowledged batches.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walStorage } from '@greenraft/storage-wal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_FDATASYNC_ENV, SYNC_LOG_ENV, syncedSizes, truncateToSynced, writeSyncPreload } from './durability.js';

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-chaos-durability-'));
const children = new Set<ChildProcess>();
let preload = '';
const walModule = createRequire(import.meta.url).resolve('@greenraft/storage-wal');

beforeAll(() => {
  if (!existsSync(walModule)) throw new Error('build @greenraft/storage-wal first: npx turbo run build --filter=@greenraft/cli...');
  preload = writeSyncPreload(scratch);
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** A writer: saves `batches` one-entry batches, prints each acknowledgement and each onSync report, then appends unsynced bytes and waits to be killed. */
const WRITER = `
const { appendFileSync } = require('node:fs');
const { walStorage } = require(process.env.WAL_MODULE);
(async () => {
  const directory = process.env.WAL_DIR;
  const storage = await walStorage({ directory, onSync: (event) => console.log(JSON.stringify({ sync: event.file, offset: event.offset })) });
  const batches = Number(process.env.BATCHES);
  for (let index = 1; index <= batches; index++) {
    await storage.save({ entries: [{ type: 'normal', term: 1, index, data: Buffer.alloc(64, index) }], hardState: { term: 1, vote: undefined, commit: index - 1 } });
    console.log(JSON.stringify({ ack: index }));
  }
  // Written, never fsynced: what a power cut takes.
  const segment = require('node:fs').readdirSync(directory).find((name) => /^wal-\\d+\\.log$/.test(name));
  appendFileSync(directory + '/' + segment, Buffer.alloc(100, 0xab));
  console.log(JSON.stringify({ done: true }));
  setInterval(() => {}, 1000);
})();
`;

interface WriterRun {
  readonly acks: number[];
  /** The log's own onSync reports: the last offset per file. */
  readonly reported: Map<string, number>;
}

function runWriter(name: string, batches: number, skipFdatasync: boolean): Promise<WriterRun & { dir: string; syncLog: string }> {
  const dir = join(scratch, name);
  const syncLog = join(scratch, `${name}.sync`);
  const script = join(scratch, 'writer.cjs');
  writeFileSync(script, WRITER);
  const env: NodeJS.ProcessEnv = { ...process.env, WAL_MODULE: walModule, WAL_DIR: dir, BATCHES: String(batches), [SYNC_LOG_ENV]: syncLog };
  delete env[SKIP_FDATASYNC_ENV];
  if (skipFdatasync) env[SKIP_FDATASYNC_ENV] = '1';
  const child = spawn(process.execPath, ['--import', preload, script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const acks: number[] = [];
  const reported = new Map<string, number>();
  let buffered = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the writer did not finish within 30 s'));
    }, 30_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, newline)) as { ack?: number; sync?: string; offset?: number; done?: boolean };
        buffered = buffered.slice(newline + 1);
        if (line.ack !== undefined) acks.push(line.ack);
        if (line.sync !== undefined) reported.set(line.sync.split('/').at(-1)!, line.offset!);
        if (line.done) child.kill('SIGKILL');
      }
    });
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (${signal})`));
      else resolve({ acks, reported, dir, syncLog });
    });
  });
}

async function recoveredIndexes(dir: string): Promise<number[]> {
  const storage = await walStorage({ directory: dir });
  try {
    return (await storage.load()).entries.map((entry) => entry.index);
  } finally {
    await storage.close();
  }
}

describe('lost-write crashes', () => {
  it('records what each fsync made durable, as the log reports it, and the cut back to it keeps every acknowledged batch', async () => {
    const run = await runWriter('honest', 6, false);
    expect(run.acks).toEqual([1, 2, 3, 4, 5, 6]);
    const synced = syncedSizes(run.syncLog);
    for (const [file, offset] of run.reported) expect(synced.get(file), file).toBe(offset);
    const segment = readdirSync(run.dir).find((name) => /^wal-\d+\.log$/.test(name))!;
    const before = statSync(join(run.dir, segment)).size;
    expect(before).toBe(run.reported.get(segment)! + 100);

    const cut = truncateToSynced(run.dir, run.syncLog);
    expect(cut.truncated).toEqual([{ file: segment, from: before, to: run.reported.get(segment) }]);
    expect(cut.unknown).toEqual([]);
    expect(statSync(join(run.dir, segment)).size).toBe(run.reported.get(segment));
    expect(await recoveredIndexes(run.dir)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('with fdatasync skipped, acknowledges batches that the same cut loses: the bug the chaos checks must catch', async () => {
    const run = await runWriter('skipping', 6, true);
    expect(run.acks).toEqual([1, 2, 3, 4, 5, 6]);
    const segment = readdirSync(run.dir).find((name) => /^wal-\d+\.log$/.test(name))!;
    // Only the segment's creation was synced for real (an fsync, which the bug leaves alone).
    expect(syncedSizes(run.syncLog).get(segment)).toBeLessThan(run.reported.get(segment)!);
    const cut = truncateToSynced(run.dir, run.syncLog);
    expect(cut.truncated.map((file) => file.file)).toEqual([segment]);
    expect(await recoveredIndexes(run.dir)).toEqual([]);
  });

  it('leaves a segment the side log never mentions as it is, and says so', () => {
    const dir = join(scratch, 'unmentioned');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'wal-0000000000000001.log'), Buffer.alloc(300));
    writeFileSync(join(dir, 'snapshot-0000000000000001-0000000000000001.snap'), Buffer.alloc(10));
    appendFileSync(join(scratch, 'unmentioned.sync'), `${join(dir, 'wal-0000000000000002.log.tmp')}\t120\nnot a record\n`);
    expect(syncedSizes(join(scratch, 'unmentioned.sync'))).toEqual(new Map([['wal-0000000000000002.log', 120]]));
    expect(truncateToSynced(dir, join(scratch, 'unmentioned.sync'))).toEqual({ truncated: [], unknown: ['wal-0000000000000001.log'] });
    expect(statSync(join(dir, 'wal-0000000000000001.log')).size).toBe(300);
  });
});
