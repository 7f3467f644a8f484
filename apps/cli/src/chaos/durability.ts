/**
 * What a node process made durable, and the lost-write crash that throws the rest away.
 *
 * kill -9 alone never loses a byte the process wrote: the kernel's page cache survives the
 * process. A power cut loses what was written but not fsynced. To model it, every node process
 * runs with a preload module (`node --import`) that wraps `fs.fsync` and `fs.fdatasync`: when one
 * of them returns, it appends the file's path and the size the file had when the call began (the
 * bytes that call made durable) to a side log. After a kill, {@link truncateToSynced} cuts each
 * write-ahead log segment back to its last such size, as Jepsen's lazyfs does below a real file
 * system. The write-ahead log's own `onSync` report says the same from inside the process, but a
 * node process does not export it; the preload watches the system calls the log makes.
 *
 * The same preload can also break durability on purpose ({@link SKIP_FDATASYNC_ENV}): segment
 * fdatasyncs then return at once without syncing and without being recorded, so the node
 * acknowledges writes that a lost-write crash loses. That is the bug the chaos checks must catch.
 */
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The environment variable naming the side log of a node process's fsyncs. */
export const SYNC_LOG_ENV = 'GREENRAFT_CHAOS_SYNC_LOG';
/** Set to `1`, segment fdatasyncs return without syncing: acknowledgement before durability (the injected bug). */
export const SKIP_FDATASYNC_ENV = 'GREENRAFT_CHAOS_SKIP_FDATASYNC';

const SEGMENT = /^wal-\d+\.log$/;
const TEMP_SUFFIX = '.tmp';

/**
 * The preload module. Plain JavaScript, since node runs it as it is. It changes node:fs's
 * exports (and, with syncBuiltinESMExports, what `import * as fs from 'node:fs'` sees) before
 * the CLI is loaded.
 */
const PRELOAD = `// Written by greenraft chaos: records what each fsync and fdatasync of this process made durable.
import { createRequire, syncBuiltinESMExports } from 'node:module';
const fs = createRequire(import.meta.url)('node:fs');
const logPath = process.env.${SYNC_LOG_ENV};
const skip = process.env.${SKIP_FDATASYNC_ENV} === '1';
if (logPath) {
  const out = fs.openSync(logPath, 'a');
  const describe = (fd) => {
    try {
      return { path: fs.readlinkSync('/proc/self/fd/' + fd), size: fs.fstatSync(fd).size };
    } catch {
      return undefined;
    }
  };
  const segment = (path) => /\\/wal-\\d+\\.log$/.test(path);
  const wrap = (real, name) =>
    function (fd, callback) {
      // The size before the call: bytes written after it began are not covered by it.
      const file = describe(fd);
      if (skip && name === 'fdatasync' && file !== undefined && segment(file.path)) {
        process.nextTick(callback, null);
        return;
      }
      real.call(fs, fd, (error) => {
        // Recorded before the caller hears of it, so nothing it acknowledges precedes the record.
        if (!error && file !== undefined) fs.writeSync(out, file.path + '\\t' + file.size + '\\n');
        callback(error);
      });
    };
  fs.fsync = wrap(fs.fsync, 'fsync');
  fs.fdatasync = wrap(fs.fdatasync, 'fdatasync');
  syncBuiltinESMExports();
}
`;

/** Writes the preload module into `dir` and returns the `--import` argument for it. */
export function writeSyncPreload(dir: string): string {
  const file = join(dir, 'sync-preload.mjs');
  writeFileSync(file, PRELOAD);
  return pathToFileURL(file).href;
}

/**
 * The durable size of each file the side log names, by file name: the last record wins (a file
 * only grows while a process has it open, and a name reused after a crash starts a new history).
 * A temporary segment (`wal-N.log.tmp`) counts for the segment it is renamed to.
 */
export function syncedSizes(logFile: string): Map<string, number> {
  const sizes = new Map<string, number>();
  if (!existsSync(logFile)) return sizes;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab <= 0) continue;
    const size = Number(line.slice(tab + 1));
    if (!Number.isSafeInteger(size) || size < 0) continue;
    let name = basename(line.slice(0, tab).replace(/ \(deleted\)$/, ''));
    if (name.endsWith(TEMP_SUFFIX)) name = name.slice(0, -TEMP_SUFFIX.length);
    sizes.set(name, size);
  }
  return sizes;
}

/** What {@link truncateToSynced} did. */
export interface LostWrite {
  /** Segments cut back, with the bytes each lost. */
  readonly truncated: { readonly file: string; readonly from: number; readonly to: number }[];
  /** Segments the side log never mentions: left as they are (nothing says what of them is durable). */
  readonly unknown: string[];
}

/**
 * The power cut after a kill -9: every write-ahead log segment in `dataDir` is truncated to the
 * size its last fsync made durable, per the side log `logFile`. Call it only once the process is
 * gone.
 */
export function truncateToSynced(dataDir: string, logFile: string): LostWrite {
  const synced = syncedSizes(logFile);
  const truncated: { file: string; from: number; to: number }[] = [];
  const unknown: string[] = [];
  if (!existsSync(dataDir)) return { truncated, unknown };
  for (const name of readdirSync(dataDir).sort()) {
    if (!SEGMENT.test(name)) continue;
    const path = join(dataDir, name);
    const durable = synced.get(name);
    if (durable === undefined) {
      unknown.push(name);
      continue;
    }
    const size = statSync(path).size;
    if (size > durable) {
      truncateSync(path, durable);
      truncated.push({ file: name, from: size, to: durable });
    }
  }
  return { truncated, unknown };
}
