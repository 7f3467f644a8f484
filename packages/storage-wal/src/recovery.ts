/**
 * Opening a data directory: replay the segments, check every checksum, tell a torn tail (the
 * last write cut short, dropped and reported) from corruption (anything else, refused), verify
 * the snapshot the log refers to, then clean up what a crash left behind.
 */
import { join } from 'node:path';
import { StorageError } from '@greenraft/consensus';
import { DecodeError, Decoder, decodeEntry, decodeHardState, peekEntryIndexTerm } from './codec.js';
import { StorageCorruptionError, StorageVersionError } from './errors.js';
import { type WalFileSystem, readFully } from './fs.js';
import {
  BEGIN_RECORD_BYTES,
  FORMAT_VERSION,
  type ParsedRecord,
  RecordType,
  SEGMENT_HEADER_BYTES,
  TEMP_SUFFIX,
  UNWRITTEN_RUN_BYTES,
  parseBatch,
  parseBegin,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
  segmentHeaderProblem,
  snapshotFileName,
} from './format.js';
import { InconsistentLogError, LogIndex } from './log-index.js';
import { decodeCompactRecord, decodeSnapshotRecord, decodeStateRecord, sameStartState } from './records.js';
import { readSnapshotFile } from './snapshot-file.js';

/** What opening a data directory found and did. */
export interface WalRecovery {
  /** True when the directory held no log and a new one was created. */
  readonly created: boolean;
  /** Segment files replayed. */
  readonly segments: number;
  /** Batches replayed, each segment's start state included. */
  readonly batches: number;
  /**
   * The torn tail that was dropped: a last write cut short by a crash, never acknowledged.
   * `file` was truncated to `offset`, dropping `bytes` bytes. `undefined` after a clean shutdown.
   */
  readonly tornTail: { readonly file: string; readonly offset: number; readonly bytes: number } | undefined;
  /**
   * Files removed: temporary files of interrupted writes, snapshots that were superseded or never
   * committed, segments no longer needed, a segment whose creation a crash cut short.
   */
  readonly removedFiles: readonly string[];
}

/** The store as recovery leaves it. */
export interface RecoveredLog {
  readonly index: LogIndex;
  /** Sequence numbers of the segments kept, ascending; the last is the active one. */
  readonly segments: number[];
  /** The active segment, open for reading and writing. */
  readonly activeFd: number;
  /** Where the next batch goes in the active segment. */
  readonly activeEnd: number;
  /** Where the active segment's start state ends: a segment is never cut before it holds more. */
  readonly activeStartEnd: number;
  readonly nextSnapshotId: number;
  readonly report: WalRecovery;
}

/** Segments are read in windows of this size (a larger batch is read whole). */
const WINDOW_BYTES = 1 << 20;

/** Sequential reads of one file through a reused window. A returned view is valid until the next call. */
class FileWindow {
  #window: Buffer = Buffer.alloc(0);
  #start = 0;
  #length = 0;

  constructor(
    readonly fileSystem: WalFileSystem,
    readonly fd: number,
    readonly size: number,
  ) {}

  async view(position: number, length: number): Promise<Buffer> {
    if (position >= this.#start && position + length <= this.#start + this.#length) {
      return this.#window.subarray(position - this.#start, position - this.#start + length);
    }
    const want = Math.min(this.size - position, Math.max(WINDOW_BYTES, length));
    if (this.#window.length < want) this.#window = Buffer.allocUnsafe(want);
    this.#start = position;
    this.#length = await readFully(this.fileSystem, this.fd, this.#window, 0, want, position);
    return this.#window.subarray(0, Math.min(length, this.#length));
  }

  /** Where the run of zero bytes that ends the file starts (the file size when its last byte is not zero). */
  async trailingZerosFrom(): Promise<number> {
    for (let end = this.size; end > 0; ) {
      const start = Math.max(0, end - WINDOW_BYTES);
      const bytes = await this.view(start, end - start);
      for (let i = bytes.length - 1; i >= 0; i--) if (bytes[i] !== 0) return start + i + 1;
      end = start;
    }
    return 0;
  }

  /**
   * True when a check that failed in [.., failedEnd) is explained by space never written: the
   * file ends in a long run of zeros that starts no later than the failing record ends.
   */
  async unwritten(failedEnd: number): Promise<boolean> {
    const zeros = await this.trailingZerosFrom();
    return zeros <= failedEnd && this.size - zeros >= UNWRITTEN_RUN_BYTES;
  }
}

interface SegmentScan {
  /** Where the valid log ends in this segment. */
  readonly end: number;
  /** Where its start state ends (0 when it has none). */
  readonly startEnd: number;
  readonly batches: number;
  /** Set when a torn tail starts at `end`. */
  readonly tornBytes: number;
}

class Replay {
  index: LogIndex | undefined;
  batches = 0;

  constructor(
    readonly fileSystem: WalFileSystem,
    readonly directory: string,
  ) {}

  /** Replays one segment. `last` segments may end in a torn tail; sealed ones may not. */
  async segment(seq: number, fd: number, last: boolean): Promise<SegmentScan> {
    const path = join(this.directory, segmentFileName(seq));
    const corrupt = (offset: number, problem: string): StorageCorruptionError => new StorageCorruptionError(path, offset, problem);
    const size = await this.fileSystem.fileSize(fd);
    const file = new FileWindow(this.fileSystem, fd, size);
    const problem = segmentHeaderProblem(await file.view(0, Math.min(size, SEGMENT_HEADER_BYTES)), seq);
    if (problem?.kind === 'version') throw new StorageVersionError(path, problem.version, FORMAT_VERSION);
    if (problem?.kind === 'corrupt') throw corrupt(0, problem.problem);
    let position = SEGMENT_HEADER_BYTES;
    let startEnd = 0;
    let batches = 0;
    const torn = (what: string): SegmentScan => {
      if (!last) throw corrupt(position, `${what} in a sealed segment`);
      return { end: position, startEnd, batches, tornBytes: size - position };
    };
    if (problem?.kind === 'short') {
      position = 0;
      return torn('the header is cut short');
    }
    while (position < size) {
      if (position + BEGIN_RECORD_BYTES > size) return torn('a batch header is cut short');
      const begin = parseBegin(await file.view(position, BEGIN_RECORD_BYTES), 0);
      if (begin.kind === 'corrupt') {
        // Zeros to the end of the file are space the file system extended but never wrote.
        if (last && (await file.unwritten(position + BEGIN_RECORD_BYTES))) return torn('unwritten space');
        throw corrupt(position, begin.problem);
      }
      if (position + begin.length > size) return torn('a batch is cut short');
      const bytes = await file.view(position, begin.length);
      const parsed = parseBatch(bytes, 0, begin.length, begin.records);
      if (parsed.kind === 'corrupt') {
        if (last && parsed.recordEnd !== undefined && (await file.unwritten(position + parsed.recordEnd))) return torn('unwritten space');
        throw corrupt(position + parsed.offset, parsed.problem);
      }
      try {
        if (batches === 0) this.#start(parsed.records, bytes, position, corrupt);
        else this.#apply(parsed.records, bytes, position, seq, corrupt);
      } catch (error) {
        if (error instanceof DecodeError || error instanceof InconsistentLogError) throw corrupt(position, error.message);
        throw error;
      }
      batches++;
      this.batches++;
      position += begin.length;
      if (batches === 1) startEnd = position;
    }
    if (batches === 0) return torn('the segment has no start state');
    return { end: position, startEnd, batches, tornBytes: 0 };
  }

  /** A segment's first batch: its start state, which founds the log or must agree with it. */
  #start(records: readonly ParsedRecord[], bytes: Buffer, base: number, corrupt: (offset: number, problem: string) => StorageCorruptionError): void {
    const record = records[0];
    if (records.length !== 1 || record?.type !== RecordType.state) throw corrupt(base, 'a segment must start with its start state');
    const state = decodeStateRecord(new Decoder(bytes, record.payloadStart, record.payloadEnd));
    if (this.index === undefined) this.index = LogIndex.fromStartState(state);
    else if (!sameStartState(this.index.startState(), state)) throw corrupt(base, 'the start state disagrees with the log of the segments before');
  }

  #apply(records: readonly ParsedRecord[], bytes: Buffer, base: number, seq: number, corrupt: (offset: number, problem: string) => StorageCorruptionError): void {
    const index = this.index!;
    for (const record of records) {
      const decoder = new Decoder(bytes, record.payloadStart, record.payloadEnd);
      switch (record.type) {
        case RecordType.entry: {
          const { index: entryIndex, term } = peekEntryIndexTerm(decoder);
          const kind = bytes[record.payloadStart + 16];
          if (kind === 2) decodeEntry(decoder);
          else if (kind !== 1) throw corrupt(base + record.start, `unknown entry kind ${String(kind)}`);
          index.applyEntry(entryIndex, term, seq, base + record.start, record.payloadEnd - record.start);
          break;
        }
        case RecordType.hardState: {
          const hardState = decodeHardState(decoder);
          decoder.done('hard state record');
          index.applyHardState(hardState);
          break;
        }
        case RecordType.snapshot: {
          const { ref, keepLog } = decodeSnapshotRecord(decoder);
          if (ref.metadata.index < index.snapshotIndex) throw corrupt(base + record.start, 'a snapshot older than the one before it');
          index.applySnapshot(ref, keepLog);
          break;
        }
        case RecordType.compact:
          index.compact(decodeCompactRecord(decoder));
          break;
        default:
          throw corrupt(base + record.start, `unexpected record type ${record.type}`);
      }
    }
  }
}

/** A directory that holds no log yet, and the leftovers removed from it. */
export interface EmptyDirectory {
  readonly empty: true;
  readonly removedFiles: readonly string[];
}

/**
 * Replays the data directory (already locked). Everything is checked before anything is
 * removed or truncated.
 */
export async function recoverDirectory(fileSystem: WalFileSystem, directory: string): Promise<RecoveredLog | EmptyDirectory> {
  const names = await fileSystem.readdir(directory);
  const allSegments: number[] = [];
  const snapshots: { name: string; index: number; id: number }[] = [];
  const removable: string[] = [];
  for (const name of names) {
    const seq = parseSegmentFileName(name);
    if (seq !== undefined) {
      allSegments.push(seq);
      continue;
    }
    const snapshot = parseSnapshotFileName(name);
    if (snapshot !== undefined) snapshots.push({ name, ...snapshot });
    else if (name.endsWith(TEMP_SUFFIX) && (name.startsWith('wal-') || name.startsWith('snapshot-'))) removable.push(name);
  }
  allSegments.sort((a, b) => a - b);
  if (allSegments.length === 0) {
    if (snapshots.length > 0) throw new StorageCorruptionError(join(directory, snapshots[0]!.name), 0, 'snapshot files but no log segment: the log is missing');
    await removeFiles(fileSystem, directory, removable);
    return { empty: true, removedFiles: removable.map((name) => join(directory, name)) };
  }

  // Segments before a gap in the numbering are leftovers of an interrupted removal; replay starts after it.
  let first = 0;
  for (let i = 1; i < allSegments.length; i++) if (allSegments[i] !== allSegments[i - 1]! + 1) first = i;
  const leftovers = allSegments.slice(0, first);
  const segments = allSegments.slice(first);
  const replay = new Replay(fileSystem, directory);
  const opened: number[] = [];
  let activeFd: number | undefined;
  try {
    let scan: SegmentScan | undefined;
    let previous: SegmentScan | undefined;
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1;
      const fd = await fileSystem.open(join(directory, segmentFileName(segments[i]!)), last ? 'r+' : 'r');
      opened.push(fd);
      previous = scan;
      scan = await replay.segment(segments[i]!, fd, last);
    }
    let tornTail: WalRecovery['tornTail'];
    let active = segments.at(-1)!;
    let activeScan = scan!;
    if (activeScan.batches === 0) {
      // The newest segment's creation was cut short: nothing in it was ever acknowledged.
      removable.push(segmentFileName(active));
      segments.pop();
      if (segments.length === 0) {
        if (leftovers.length > 0 || active !== 1) throw new StorageCorruptionError(join(directory, segmentFileName(active)), 0, 'the only segment has no start state');
        for (const fd of opened.splice(0)) await fileSystem.close(fd);
        await removeFiles(fileSystem, directory, removable);
        await fileSystem.syncDirectory(directory);
        return { empty: true, removedFiles: removable.map((name) => join(directory, name)) };
      }
      active = segments.at(-1)!;
      activeScan = previous!;
    } else if (activeScan.tornBytes > 0) {
      tornTail = { file: join(directory, segmentFileName(active)), offset: activeScan.end, bytes: activeScan.tornBytes };
    }
    const index = replay.index!;
    const unlocated = index.firstUnlocated();
    if (unlocated !== undefined) {
      throw new StorageCorruptionError(join(directory, segmentFileName(segments[0]!)), 0, `entry ${unlocated} lies in a segment that is missing`);
    }
    const ref = index.snapshot;
    if (ref !== undefined) await readSnapshotFile(fileSystem, directory, ref, false);
    const replayed = segments.length;
    // Segments before the first one holding a stored entry are no longer needed (a removal a crash interrupted).
    const needed = index.firstSegmentInUse() ?? active;
    while (segments.length > 1 && segments[0]! < needed) removable.push(segmentFileName(segments.shift()!));

    // Everything checked: now clean up and truncate.
    const referenced = ref === undefined ? undefined : snapshotFileName(ref.metadata.index, ref.id);
    for (const snapshot of snapshots) if (snapshot.name !== referenced) removable.push(snapshot.name);
    for (const seq of leftovers) removable.push(segmentFileName(seq));
    for (const fd of opened.splice(0)) await fileSystem.close(fd);
    activeFd = await fileSystem.open(join(directory, segmentFileName(active)), 'r+');
    if (tornTail !== undefined) {
      await fileSystem.ftruncate(activeFd, tornTail.offset);
      await fileSystem.fsync(activeFd);
    }
    await removeFiles(fileSystem, directory, removable);
    if (removable.length > 0) await fileSystem.syncDirectory(directory);
    const nextSnapshotId = Math.max(ref?.id ?? 0, ...snapshots.map((snapshot) => snapshot.id)) + 1;
    return {
      index,
      segments,
      activeFd,
      activeEnd: activeScan.end,
      activeStartEnd: activeScan.startEnd,
      nextSnapshotId,
      report: { created: false, segments: replayed, batches: replay.batches, tornTail, removedFiles: removable.map((name) => join(directory, name)) },
    };
  } catch (error) {
    for (const fd of opened) await fileSystem.close(fd).catch(() => undefined);
    if (activeFd !== undefined) await fileSystem.close(activeFd).catch(() => undefined);
    if (error instanceof StorageError) throw error;
    throw new StorageError(`could not read the write-ahead log in ${directory}`, { cause: error });
  }
}

async function removeFiles(fileSystem: WalFileSystem, directory: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await fileSystem.unlink(join(directory, name));
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
}
