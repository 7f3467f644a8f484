import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageLockedError, walStorage } from './index.js';
import { abandonWalStorage } from './wal.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-lock-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
let directories = 0;
const freshDirectory = (): string => join(root, `d${++directories}`);

/** A live process that does nothing, to own a lock file. */
function idleProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('error', reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  }).then(() => void children.delete(child));
}

describe('the data directory lock', () => {
  it('holds one store per directory in this process, and is released on close', async () => {
    const directory = freshDirectory();
    const first = await walStorage({ directory });
    expect(readFileSync(join(directory, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    const error = await walStorage({ directory }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect(error).toMatchObject({ code: 'STORAGE', directory: first.directory, pid: process.pid });
    await first.close();
    expect(existsSync(join(directory, 'LOCK'))).toBe(false);
    const second = await walStorage({ directory });
    await second.close();
  });

  it('lets exactly one of two simultaneous opens win', async () => {
    const directory = freshDirectory();
    const results = await Promise.allSettled([walStorage({ directory }), walStorage({ directory }), walStorage({ directory })]);
    const opened = results.filter((result) => result.status === 'fulfilled');
    expect(opened).toHaveLength(1);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(StorageLockedError);
    await (opened[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof walStorage>>>).value.close();
  });

  it('refuses a directory locked by another live process, and takes the lock over once that process is gone', async () => {
    const directory = freshDirectory();
    mkdirSync(directory);
    const owner = await idleProcess();
    writeFileSync(join(directory, 'LOCK'), `${owner.pid}\n`);
    const error = await walStorage({ directory }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageLockedError);
    expect((error as StorageLockedError).pid).toBe(owner.pid);
    expect((error as Error).message).toMatch(/remove its LOCK file only if no node runs there/);
    owner.kill('SIGKILL');
    await exited(owner);
    const storage = await walStorage({ directory });
    expect(readFileSync(join(directory, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    await storage.close();
  });

  it('takes over a lock file that holds no process id', async () => {
    const directory = freshDirectory();
    mkdirSync(directory);
    writeFileSync(join(directory, 'LOCK'), '');
    const storage = await walStorage({ directory });
    await storage.close();
  });

  it('takes over the lock a store of this process left behind when it stopped without closing', async () => {
    const directory = freshDirectory();
    const crashed = await walStorage({ directory });
    await crashed.save({ entries: [{ type: 'normal', index: 1, term: 1, data: Uint8Array.of(1) }] });
    await abandonWalStorage(crashed);
    expect(readFileSync(join(directory, 'LOCK'), 'utf8')).toBe(`${process.pid}\n`);
    const storage = await walStorage({ directory });
    expect(storage.lastIndex).toBe(1);
    await storage.close();
  });
});
