import { join } from 'node:path';
import { StorageError } from '@greenraft/consensus';
import { StorageLockedError } from './errors.js';
import { type WalFileSystem, errorCode } from './fs.js';
import { LOCK_FILE, TEMP_SUFFIX } from './format.js';

/** Directories this process has open, so a second open in the same process is refused too. */
const heldHere = new Set<string>();

/** True if a process with this id exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** The lock on one data directory, held from open to close. */
export interface DirectoryLock {
  /** Removes the lock file. */
  release(): Promise<void>;
  /** Forgets the lock without removing its file, as a crashed process would: the next open finds it stale. */
  abandon(): void;
}

/**
 * Takes the data directory's lock: a `LOCK` file holding this process id, created atomically
 * (written under a temporary name, then hard-linked into place, which fails if a lock exists).
 * A lock whose process is gone, or that this process left behind without closing, is stale and
 * taken over. PID reuse can make a stale lock look live: the error then says how to clear it.
 */
export async function acquireLock(fileSystem: WalFileSystem, directory: string): Promise<DirectoryLock> {
  if (heldHere.has(directory)) throw new StorageLockedError(directory, process.pid);
  // Claimed before the first await, so two opens in this process cannot race each other.
  heldHere.add(directory);
  const lockPath = join(directory, LOCK_FILE);
  const tempPath = join(directory, `${LOCK_FILE}.${process.pid}${TEMP_SUFFIX}`);
  try {
    await fileSystem.writeFile(tempPath, Buffer.from(`${process.pid}\n`));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fileSystem.link(tempPath, lockPath);
        let held = true;
        return {
          release: async () => {
            if (!held) return;
            held = false;
            heldHere.delete(directory);
            await fileSystem.unlink(lockPath);
          },
          abandon: () => {
            held = false;
            heldHere.delete(directory);
          },
        };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      let owner: number;
      try {
        owner = Number.parseInt((await fileSystem.readFile(lockPath)).toString('utf8'), 10);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        throw error;
      }
      // Our own pid can only be a lock this process abandoned: a live store here would hold the claim.
      const stale = !Number.isSafeInteger(owner) || owner <= 0 || owner === process.pid || !processAlive(owner);
      if (!stale) throw new StorageLockedError(directory, owner);
      try {
        await fileSystem.unlink(lockPath);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
    throw new StorageError(`could not take the lock of ${directory}: it keeps changing hands`);
  } catch (error) {
    heldHere.delete(directory);
    throw error;
  } finally {
    await fileSystem.unlink(tempPath).catch(() => undefined);
  }
}
