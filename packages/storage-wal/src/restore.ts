/**
 * Disaster recovery: a new data directory from one snapshot file. The file is checked whole
 * before anything is written; the directory is written by the store's own save (snapshot file
 * fsynced and renamed, then a batch with the snapshot reference and the hard state, fdatasynced),
 * so it is exactly what a node that had installed that snapshot would hold.
 */
import { dirname, join, resolve } from 'node:path';
import { ConfigurationError, InvalidArgumentError, StorageError, members, rejectUnknownOptions, validateConfiguration } from '@greenraft/consensus';
import type { HardState, NodeId, SnapshotMetadata } from '@greenraft/consensus';
import { StorageCorruptionError, StorageLockedError } from './errors.js';
import { type WalFileSystem, errorCode, nodeFileSystem } from './fs.js';
import { TEMP_SUFFIX, parseSegmentFileName, parseSnapshotFileName } from './format.js';
import { SNAPSHOT_METADATA_OFFSET, type SnapshotContents, readSnapshotContents } from './snapshot-file.js';
import { type WalStorage, openWalStorage } from './wal.js';

/** Options of {@link restoreSnapshot}. */
export interface RestoreSnapshotInit {
  /**
   * The snapshot file to restore from: a `snapshot-<index>-<id>.snap` of any node of the cluster,
   * under any name (its contents, not its name, say which snapshot it is).
   */
  snapshotFile: string;
  /** The data directory to write. It must not exist (it is created) or be empty: a directory holding anything is refused. */
  directory: string;
  /**
   * The id of the node that will run on `directory`. When given, the restore is refused unless
   * the snapshot's configuration names it as a voter or a learner: a node outside it would start
   * as a removed member.
   * @default undefined (not checked)
   */
  nodeId?: NodeId;
}

/** What {@link restoreSnapshot} wrote. */
export interface RestoredSnapshot {
  /** The data directory (its real path). */
  readonly directory: string;
  /** Index, term and configuration of the restored snapshot, as its file holds them. */
  readonly metadata: SnapshotMetadata;
  /** Bytes of state machine data. */
  readonly bytes: number;
  /** The hard state written with it: the snapshot's term, no vote, commit at the snapshot's index. */
  readonly hardState: HardState;
}

const RESTORE_OPTIONS = Object.keys({ snapshotFile: true, directory: true, nodeId: true } satisfies Record<keyof RestoreSnapshotInit, true>);

function checkInit(init: RestoreSnapshotInit): void {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('restoreSnapshot needs an options object with a snapshotFile and a directory');
  rejectUnknownOptions('restoreSnapshot', init, RESTORE_OPTIONS);
  if (typeof init.snapshotFile !== 'string' || init.snapshotFile.length === 0) throw new InvalidArgumentError('restoreSnapshot: snapshotFile must be a non-empty path');
  if (typeof init.directory !== 'string' || init.directory.length === 0) throw new InvalidArgumentError('restoreSnapshot: directory must be a non-empty path');
  if (init.nodeId !== undefined && (typeof init.nodeId !== 'string' || init.nodeId.length === 0)) throw new InvalidArgumentError('restoreSnapshot: nodeId must be a non-empty node id');
}

/**
 * The directories from `directory` up to (not including) its first ancestor that exists, deepest
 * first: what opening the store will create. Throws InvalidArgumentError unless `directory` is
 * missing or an empty directory.
 */
async function missingDirectories(fileSystem: WalFileSystem, directory: string): Promise<string[]> {
  const missing: string[] = [];
  for (let path = directory; ; path = dirname(path)) {
    let names: string[];
    try {
      names = await fileSystem.readdir(path);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' && dirname(path) !== path) {
        missing.push(path);
        continue;
      }
      if (code === 'ENOTDIR') throw new InvalidArgumentError(`restoreSnapshot: ${path} is not a directory`);
      throw new StorageError(`could not read ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (path === directory && names.length > 0) {
      const log = names.some((name) => parseSegmentFileName(name) !== undefined);
      throw new InvalidArgumentError(
        `restoreSnapshot: ${directory} ${log ? 'already holds a write-ahead log' : `is not empty (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`}; ` +
          'a restore never writes over data: move the directory aside, or restore into a new one',
      );
    }
    return missing;
  }
}

/** Reads and checks the whole snapshot file; returns its metadata and data. */
async function readSnapshotToRestore(fileSystem: WalFileSystem, path: string): Promise<{ metadata: SnapshotMetadata; data: Uint8Array }> {
  let fd: number;
  try {
    fd = await fileSystem.open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new InvalidArgumentError(`restoreSnapshot: the snapshot file ${path} does not exist`);
    throw new StorageError(`could not open the snapshot file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let contents: SnapshotContents;
  try {
    contents = await readSnapshotContents(fileSystem, fd, path, undefined, true);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    // Opening a directory for reading succeeds; reading it is what fails.
    if (errorCode(error) === 'EISDIR') throw new InvalidArgumentError(`restoreSnapshot: ${path} is a directory, not a snapshot file`);
    throw new StorageError(`the snapshot file ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  } finally {
    await fileSystem.close(fd).catch(() => undefined);
  }
  const { metadata, data } = contents;
  // The checksums prove the bytes are as written; a configuration no node could run on was never a node's snapshot.
  try {
    validateConfiguration(metadata.config.incoming);
    if (metadata.config.outgoing !== undefined) validateConfiguration(metadata.config.outgoing);
  } catch (error) {
    if (error instanceof ConfigurationError) throw new StorageCorruptionError(path, SNAPSHOT_METADATA_OFFSET, `the snapshot's configuration is invalid: ${error.message}`, { cause: error });
    throw error;
  }
  if (metadata.index === 0) {
    throw new InvalidArgumentError(
      `restoreSnapshot: ${path} is the founding snapshot at index 0, which holds a configuration and no state machine data; restore from a snapshot a node took (index ≥ 1)`,
    );
  }
  return { metadata, data: data! };
}

/**
 * Removes what a failed restore wrote into `directory` (which was empty or missing, and whose lock
 * the store has released), and the directories it created.
 */
async function undoRestore(fileSystem: WalFileSystem, directory: string, created: readonly string[]): Promise<void> {
  let names: string[] = [];
  try {
    names = await fileSystem.readdir(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const ours = parseSegmentFileName(name) !== undefined || parseSnapshotFileName(name) !== undefined || name.endsWith(TEMP_SUFFIX);
    if (ours) await fileSystem.unlink(join(directory, name)).catch(() => undefined);
  }
  await fileSystem.syncDirectory(directory).catch(() => undefined);
  // Deepest first; a directory something else wrote into stays.
  for (const path of created) {
    try {
      await fileSystem.rmdir(path);
    } catch {
      return;
    }
  }
}

/**
 * Writes a new data directory whose first state is the snapshot in `init.snapshotFile`: the
 * snapshot at its index and term with its configuration, and the hard state (term = the
 * snapshot's term, no vote, commit = its index). A node started on the directory loads the
 * snapshot into its state machine and takes part in elections from there, as if it had installed
 * that snapshot from a leader. Disaster recovery: when a cluster lost a quorum's data, restore
 * every node from the same file (see the operations guide for when this is safe).
 *
 * Everything is checked before anything is written: the file's header, format version, lengths,
 * metadata and both CRC32s, and that the directory is new or empty. The directory is written
 * through the store's own durable path; if that fails, what was written is removed again.
 *
 * @throws {@link StorageCorruptionError} when the file is not a whole, valid snapshot (cut short,
 * a checksum mismatch, unreadable metadata, an invalid configuration).
 * @throws {@link StorageVersionError} when the file was written by a newer format.
 * @throws InvalidArgumentError when the directory exists and is not empty, the file does not exist,
 * the snapshot is the founding one at index 0, `nodeId` is not in its configuration, or an option
 * is bad.
 * @throws StorageError when the directory cannot be written (the disk failed or is full).
 *
 * @example
 * ```ts
 * import { restoreSnapshot } from '@greenraft/storage-wal';
 *
 * const { metadata } = await restoreSnapshot({
 *   snapshotFile: './backup/snapshot-0000000000000412-0000000000000003.snap',
 *   directory: './data/n1',
 *   nodeId: 'n1',
 * });
 * console.log(`restored index ${metadata.index} of term ${metadata.term}`);
 * ```
 */
export async function restoreSnapshot(init: RestoreSnapshotInit): Promise<RestoredSnapshot> {
  checkInit(init);
  const fileSystem = nodeFileSystem;
  const snapshotFile = resolve(init.snapshotFile);
  const target = resolve(init.directory);
  // Refused before a large file is read; a log written there meanwhile is caught under the store's lock.
  const created = await missingDirectories(fileSystem, target);
  const snapshot = await readSnapshotToRestore(fileSystem, snapshotFile);
  const { metadata } = snapshot;
  if (init.nodeId !== undefined && !members(metadata.config).has(init.nodeId)) {
    const named = [...members(metadata.config)].join(', ');
    throw new InvalidArgumentError(`restoreSnapshot: node ${init.nodeId} is not a member of the snapshot's configuration (${named}); it would start as a removed node`);
  }
  let storage: WalStorage;
  try {
    storage = await openWalStorage({ directory: target }, fileSystem);
  } catch (error) {
    // Another process holds the directory: what is in it is that process's.
    if (!(error instanceof StorageLockedError)) await undoRestore(fileSystem, target, created);
    throw error;
  }
  if (!storage.recovery.created) {
    // Another process wrote a log there meanwhile: it is not ours to touch.
    await storage.close();
    throw new InvalidArgumentError(`restoreSnapshot: ${storage.directory} gained a write-ahead log while the snapshot was read; nothing was written`);
  }
  const hardState: HardState = { term: metadata.term, vote: undefined, commit: metadata.index };
  try {
    await storage.save({ snapshot, hardState });
  } catch (error) {
    await storage.close().catch(() => undefined);
    await undoRestore(fileSystem, storage.directory, created);
    throw error;
  }
  await storage.close();
  return { directory: storage.directory, metadata, bytes: snapshot.data.length, hardState };
}
