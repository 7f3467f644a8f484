/**
 * The file-system calls the write-ahead log makes, behind one small interface so tests can make
 * any of them fail (a failed fsync, a short write, a full disk) and check the store's reaction.
 */
import * as fs from 'node:fs';

/** The file-system operations the store uses. */
export interface WalFileSystem {
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  realpath(path: string): Promise<string>;
  open(path: string, flags: 'r' | 'r+' | 'w' | 'wx'): Promise<number>;
  close(fd: number): Promise<void>;
  /** Writes at `position`; may write less than asked (the caller loops). Synchronous: a small append into the page cache costs less than a thread-pool round trip. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes at `position`; may write less than asked (the caller loops). */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fileSize(fd: number): Promise<number>;
  rename(from: string, to: string): Promise<void>;
  /** Creates `to` as a second name of `from`; fails with EEXIST if `to` exists. */
  link(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** fsyncs a directory, so that the files created, renamed or removed in it stay so. */
  syncDirectory(path: string): Promise<void>;
}

const settle =
  <T>(resolve: (value: T) => void, reject: (error: Error) => void) =>
  (error: NodeJS.ErrnoException | null, value: T): void => {
    if (error) reject(error);
    else resolve(value);
  };

const call = <T>(run: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> =>
  new Promise<T>((resolve, reject) => run(settle(resolve, reject)));

/** The real file system, through node:fs callbacks (one thread-pool round trip per call, no extra promise layers). */
export const nodeFileSystem: WalFileSystem = {
  mkdir: (path) => call<string | undefined>((done) => fs.mkdir(path, { recursive: true }, done)).then(() => undefined),
  readdir: (path) => call<string[]>((done) => fs.readdir(path, done)),
  realpath: (path) => call<string>((done) => fs.realpath(path, done)),
  open: (path, flags) => call<number>((done) => fs.open(path, flags, 0o644, done)),
  close: (fd) => call<void>((done) => fs.close(fd, (error) => done(error, undefined))),
  writeSync: (fd, buffer, offset, length, position) => fs.writeSync(fd, buffer, offset, length, position),
  write: (fd, buffer, offset, length, position) => call<number>((done) => fs.write(fd, buffer, offset, length, position, done)),
  read: (fd, buffer, offset, length, position) => call<number>((done) => fs.read(fd, buffer, offset, length, position, done)),
  fdatasync: (fd) => call<void>((done) => fs.fdatasync(fd, (error) => done(error, undefined))),
  fsync: (fd) => call<void>((done) => fs.fsync(fd, (error) => done(error, undefined))),
  ftruncate: (fd, length) => call<void>((done) => fs.ftruncate(fd, length, (error) => done(error, undefined))),
  fileSize: (fd) => call<fs.Stats>((done) => fs.fstat(fd, done)).then((stats) => stats.size),
  rename: (from, to) => call<void>((done) => fs.rename(from, to, (error) => done(error, undefined))),
  link: (from, to) => call<void>((done) => fs.link(from, to, (error) => done(error, undefined))),
  unlink: (path) => call<void>((done) => fs.unlink(path, (error) => done(error, undefined))),
  rmdir: (path) => call<void>((done) => fs.rmdir(path, (error) => done(error, undefined))),
  readFile: (path) => call<Buffer>((done) => fs.readFile(path, done)),
  writeFile: (path, data) => call<void>((done) => fs.writeFile(path, data, (error) => done(error, undefined))),
  syncDirectory: async (path) => {
    const fd = await call<number>((done) => fs.open(path, 'r', done));
    try {
      await call<void>((done) => fs.fsync(fd, (error) => done(error, undefined)));
    } finally {
      await call<void>((done) => fs.close(fd, (error) => done(error, undefined)));
    }
  },
};

/** The error code of a Node.js system error, if it is one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : undefined;
}

/** Writes all of `buffer` at `position` with synchronous writes, looping over short writes. */
export function writeFullySync(fileSystem: WalFileSystem, fd: number, buffer: Uint8Array, position: number): void {
  let done = 0;
  while (done < buffer.length) {
    const written = fileSystem.writeSync(fd, buffer, done, buffer.length - done, position + done);
    if (written <= 0) throw new Error(`wrote ${written} bytes at ${position + done}`);
    done += written;
  }
}

/** Writes all of `buffer` at `position`, looping over short writes. */
export async function writeFully(fileSystem: WalFileSystem, fd: number, buffer: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const written = await fileSystem.write(fd, buffer, done, buffer.length - done, position + done);
    if (written <= 0) throw new Error(`wrote ${written} bytes at ${position + done}`);
    done += written;
  }
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
export async function readFully(fileSystem: WalFileSystem, fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const read = await fileSystem.read(fd, buffer, offset + done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done;
}
