import { StorageError } from '@greenraft/consensus';
import type { GreenraftErrorOptions } from '@greenraft/consensus';

/**
 * A checksum, a header or the structure of a file in the data directory is wrong where the
 * write-ahead log was already durable (not a torn tail, which is truncated and reported in
 * `recovery`). The store refuses to open (or fails, when found while reading) rather than serve
 * a wrong log: recover the node from its peers (see the package README).
 *
 * @example
 * ```ts
 * try {
 *   await walStorage({ directory: './data/n1' });
 * } catch (err) {
 *   if (err instanceof StorageCorruptionError) console.error(`corrupt ${err.file} at byte ${err.offset}`);
 * }
 * ```
 */
export class StorageCorruptionError extends StorageError {
  /** The corrupt file (absolute path). */
  readonly file: string;
  /** Byte offset in {@link StorageCorruptionError.file} of the record, header or batch that failed. */
  readonly offset: number;

  constructor(file: string, offset: number, problem: string, options: GreenraftErrorOptions = {}) {
    super(`corrupt write-ahead log: ${file} at byte ${offset}: ${problem}`, options);
    this.name = 'StorageCorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/**
 * Another live process (or another open store in this process) holds the data directory's lock:
 * two nodes must never write one directory.
 *
 * @example
 * ```ts
 * try {
 *   await walStorage({ directory: './data/n1' });
 * } catch (err) {
 *   if (err instanceof StorageLockedError) console.error(`${err.directory} is in use by process ${err.pid}`);
 * }
 * ```
 */
export class StorageLockedError extends StorageError {
  /** The locked data directory. */
  readonly directory: string;
  /** The process id recorded in the lock file. */
  readonly pid: number;

  constructor(directory: string, pid: number, options: GreenraftErrorOptions = {}) {
    super(
      `the data directory ${directory} is locked by process ${pid}${pid === process.pid ? ' (this process)' : ''}; ` +
        'one node per directory (remove its LOCK file only if no node runs there)',
      options,
    );
    this.name = 'StorageLockedError';
    this.directory = directory;
    this.pid = pid;
  }
}

/**
 * A file of the data directory was written in a format version this release cannot read
 * (written by a newer release): upgrade, or restore the node from its peers.
 *
 * @example
 * ```ts
 * try {
 *   await walStorage({ directory: './data/n1' });
 * } catch (err) {
 *   if (err instanceof StorageVersionError) console.error(`${err.file} has format version ${err.version}`);
 * }
 * ```
 */
export class StorageVersionError extends StorageError {
  /** The file whose version is unknown. */
  readonly file: string;
  /** The format version found in its header. */
  readonly version: number;

  constructor(file: string, version: number, supported: number, options: GreenraftErrorOptions = {}) {
    super(`${file} has format version ${version}; this release reads version ${supported}`, options);
    this.name = 'StorageVersionError';
    this.file = file;
    this.version = version;
  }
}
