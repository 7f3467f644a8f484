import { crc32 } from 'node:zlib';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, StorageError, configuration, type ClusterConfig, type LogEntry, type StateMachine } from '@greenraft/consensus';
import { createRaftNode } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Failpoints } from './failpoints.js';
import { nodeFileSystem } from './fs.js';
import { FAILPOINT_ENV, StorageCorruptionError, StorageVersionError, restoreSnapshot, walStorage } from './index.js';
import { writeSnapshotFile } from './snapshot-file.js';

const root = mkdtempSync(join(tmpdir(), 'greenraft-wal-restore-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[FAILPOINT_ENV];
});
let directories = 0;
const freshDirectory = (): string => join(root, `d${++directories}`);

const entry = (index: number, term: number): LogEntry => ({ type: 'normal', index, term, data: Uint8Array.from({ length: 40 }, (_, i) => (index + i) & 0xff) });
const snapshotFiles = (directory: string): string[] => readdirSync(directory).filter((name) => name.endsWith('.snap'));
/** A weighted configuration in the middle of a joint change, with a learner: every field of the metadata. */
const jointConfig: ClusterConfig = { incoming: configuration({ a: 3, b: 1, c: 1 }, ['d']), outgoing: configuration(['a', 'b', 'c']) };
const stateBytes = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) & 0xff);

/** A snapshot written by a real store (an old log, then a snapshot at 7/3 and a compaction): the path of its file. */
async function writtenSnapshot(): Promise<string> {
  const directory = freshDirectory();
  const storage = await walStorage({ directory });
  await storage.save({ entries: [entry(1, 1), entry(2, 1), entry(3, 2)], hardState: { term: 2, vote: 'a', commit: 2 } });
  await storage.save({ entries: [4, 5, 6, 7, 8].map((index) => entry(index, 3)), hardState: { term: 3, vote: 'b', commit: 8 } });
  await storage.save({ snapshot: { metadata: { index: 7, term: 3, config: jointConfig }, data: stateBytes } });
  await storage.compact(7);
  await storage.close();
  const [name] = snapshotFiles(directory);
  return join(directory, name!);
}

const listing = (directory: string): Record<string, string> =>
  Object.fromEntries(readdirSync(directory).map((name) => [name, crc32(readFileSync(join(directory, name))).toString(16)]));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('restoreSnapshot', () => {
  it('writes a directory that walStorage opens to exactly that snapshot: metadata, data, hard state', async () => {
    const snapshotFile = await writtenSnapshot();
    // A new directory two levels deep, created.
    const directory = join(freshDirectory(), 'data', 'n2');
    const restored = await restoreSnapshot({ snapshotFile, directory, nodeId: 'd' });
    expect(restored).toEqual({ directory, metadata: { index: 7, term: 3, config: jointConfig }, bytes: stateBytes.length, hardState: { term: 3, vote: undefined, commit: 7 } });
    expect(readdirSync(directory).sort()).toEqual(['snapshot-0000000000000007-0000000000000001.snap', 'wal-0000000000000001.log']);

    const storage = await walStorage({ directory });
    try {
      expect(storage.recovery).toMatchObject({ created: false, tornTail: undefined, removedFiles: [] });
      const state = await storage.load();
      expect(state.hardState).toEqual({ term: 3, vote: undefined, commit: 7 });
      expect(state.entries).toEqual([]);
      expect(state.snapshot?.metadata).toEqual({ index: 7, term: 3, config: jointConfig });
      expect(Buffer.from(state.snapshot!.data).equals(Buffer.from(stateBytes))).toBe(true);
      expect([storage.firstIndex, storage.lastIndex, storage.term(7), storage.term(6)]).toEqual([8, 7, 3, undefined]);
      // The log goes on after the snapshot, as on a node that installed it.
      await storage.save({ entries: [entry(8, 4)], hardState: { term: 4, vote: 'a', commit: 7 } });
    } finally {
      await storage.close();
    }
    const again = await walStorage({ directory });
    try {
      expect((await again.load()).entries.map((e) => [e.index, e.term])).toEqual([[8, 4]]);
    } finally {
      await again.close();
    }
  });

  it('restores into an existing empty directory, under any name of the file', async () => {
    const original = await writtenSnapshot();
    const snapshotFile = join(freshDirectory(), 'site-b-backup.snap');
    mkdirSync(join(snapshotFile, '..'));
    writeFileSync(snapshotFile, readFileSync(original));
    const directory = freshDirectory();
    mkdirSync(directory);
    const restored = await restoreSnapshot({ snapshotFile, directory });
    expect(restored.metadata.index).toBe(7);
    expect(snapshotFiles(directory)).toEqual(['snapshot-0000000000000007-0000000000000001.snap']);
  });

  it('a node started on restored directories loads the state, elects a leader of a later term and goes on', async () => {
    // Three nodes of a meter ledger: snapshots every 5 applied entries.
    const ids = ['n1', 'n2', 'n3'];
    const ledgers = new Map<string, string[]>();
    const ledger = (id: string): StateMachine<number> => ({
      apply: ({ data }) => {
        const readings = ledgers.get(id) ?? [];
        ledgers.set(id, readings);
        return readings.push(new TextDecoder().decode(data));
      },
      snapshot: () => new TextEncoder().encode(JSON.stringify(ledgers.get(id) ?? [])),
      restore: (data) => void ledgers.set(id, JSON.parse(new TextDecoder().decode(data)) as string[]),
    });
    const cluster = async (directories: Map<string, string>, bootstrap: boolean) => {
      const network = memoryNetwork();
      const stores = await Promise.all(ids.map((id) => walStorage({ directory: directories.get(id)! })));
      const nodes = ids.map((id, i) =>
        createRaftNode({
          id,
          transport: network.transport(id),
          storage: stores[i]!,
          stateMachine: ledger(id),
          tickMs: 5,
          electionTicks: 10,
          heartbeatTicks: 1,
          snapshotThreshold: 5,
          ...(bootstrap ? { bootstrap: configuration(ids) } : {}),
        }),
      );
      await Promise.all(nodes.map((node) => node.start()));
      const leader = async () => {
        for (let attempt = 0; attempt < 400; attempt++) {
          const found = nodes.find((node) => node.status().role === 'leader');
          if (found !== undefined) return found;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error('no leader elected');
      };
      const close = async () => {
        for (const node of nodes) await node.stop();
        for (const store of stores) await store.close();
        network.close();
      };
      return { leader, close };
    };

    const first = new Map(ids.map((id) => [id, join(freshDirectory(), id)]));
    const before = await cluster(first, true);
    let snapshotFile: string;
    let term: number;
    try {
      const leader = await before.leader();
      for (let i = 1; i <= 12; i++) await leader.propose(new TextEncoder().encode(`reading-${i}`));
      term = leader.status().term;
      const taken = snapshotFiles(first.get(leader.id)!).sort().at(-1)!;
      expect(taken).not.toMatch(/^snapshot-0{16}-/);
      snapshotFile = join(root, `from-${leader.id}.snap`);
      writeFileSync(snapshotFile, readFileSync(join(first.get(leader.id)!, taken)));
    } finally {
      await before.close();
    }

    const second = new Map(ids.map((id) => [id, join(freshDirectory(), id)]));
    let index = 0;
    let snapshotTerm = 0;
    for (const id of ids) {
      const restored = await restoreSnapshot({ snapshotFile, directory: second.get(id)!, nodeId: id });
      ({ index, term: snapshotTerm } = restored.metadata);
      expect(restored.metadata.config).toEqual({ incoming: configuration(ids) });
    }
    expect(index).toBeGreaterThanOrEqual(5);
    expect(snapshotTerm).toBeLessThanOrEqual(term);
    ledgers.clear();
    const after = await cluster(second, false);
    try {
      const leader = await after.leader();
      expect(leader.status().term).toBeGreaterThan(snapshotTerm);
      // Every node holds the readings up to the snapshot, and none after it.
      const restored = [...ledgers.get('n1')!];
      expect(restored.length).toBeGreaterThanOrEqual(4);
      expect(restored.length).toBeLessThan(12);
      expect(restored).toEqual(Array.from({ length: restored.length }, (_, i) => `reading-${i + 1}`));
      for (const id of ids) expect(ledgers.get(id)).toEqual(restored);
      const { index: next } = await leader.propose(new TextEncoder().encode('after-restore'));
      expect(next).toBeGreaterThanOrEqual(index + 2); // after the new leader's no-op
      await leader.readBarrier();
      expect(ledgers.get(leader.id)).toEqual([...restored, 'after-restore']);
    } finally {
      await after.close();
    }
  });

  it('refuses a cut or corrupt file with StorageCorruptionError naming it, and leaves the target as it was', async () => {
    const whole = readFileSync(await writtenSnapshot());
    const dataStart = whole.length - 4 - stateBytes.length;
    const flip = (at: number): Buffer => {
      const bytes = Buffer.from(whole);
      bytes[at]! ^= 0x40;
      return bytes;
    };
    const variants: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ...[10, 31, 32, 40, dataStart, dataStart + 100_000, whole.length - 1].map((cut): [string, Buffer] => [`cut at ${cut}`, whole.subarray(0, cut)]),
      ['one byte more', Buffer.concat([whole, Buffer.of(0)])],
      ['bad magic', flip(0)],
      ['header byte', flip(20)],
      ['metadata byte', flip(40)],
      ['data byte', flip(dataStart + 2_000_000)],
      ['checksum byte', flip(whole.length - 2)],
      ['not a snapshot', Buffer.from('{"index":7,"term":3}\n')],
    ];
    for (const [what, bytes] of variants) {
      const snapshotFile = join(root, `corrupt-${++directories}.snap`);
      writeFileSync(snapshotFile, bytes);
      const missing = join(freshDirectory(), 'n1');
      const error = await rejection(restoreSnapshot({ snapshotFile, directory: missing }));
      expect(error, what).toBeInstanceOf(StorageCorruptionError);
      expect((error as StorageCorruptionError).file, what).toBe(snapshotFile);
      expect((error as StorageCorruptionError).code).toBe('STORAGE');
      expect(existsSync(missing), what).toBe(false);
      const empty = freshDirectory();
      mkdirSync(empty);
      expect(await rejection(restoreSnapshot({ snapshotFile, directory: empty })), what).toBeInstanceOf(StorageCorruptionError);
      expect(readdirSync(empty), what).toEqual([]);
    }
  });

  it('refuses a file of a newer format with StorageVersionError', async () => {
    const bytes = Buffer.from(readFileSync(await writtenSnapshot()));
    bytes.writeUInt32LE(2, 8);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 28)), 28);
    const snapshotFile = join(root, 'newer.snap');
    writeFileSync(snapshotFile, bytes);
    const directory = freshDirectory();
    const error = await rejection(restoreSnapshot({ snapshotFile, directory }));
    expect(error).toBeInstanceOf(StorageVersionError);
    expect(error).toMatchObject({ file: snapshotFile, version: 2 });
    expect(existsSync(directory)).toBe(false);
  });

  it('refuses a file whose checksums hold but whose configuration no node could run on', async () => {
    const directory = freshDirectory();
    mkdirSync(directory);
    const noWeight = { incoming: { voters: new Map([['a', 0]]), learners: new Set<string>() } };
    const name = await writeSnapshotFile(nodeFileSystem, directory, { metadata: { index: 9, term: 2, config: noWeight }, data: Uint8Array.of(1) }, 1, new Failpoints(undefined));
    const target = freshDirectory();
    const error = await rejection(restoreSnapshot({ snapshotFile: join(directory, name), directory: target }));
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as Error).message).toMatch(/configuration is invalid: the voters’ total weight must be positive/);
    expect(existsSync(target)).toBe(false);
  });

  it('never writes over data: a directory holding a log, or anything, is refused and left untouched', async () => {
    const snapshotFile = await writtenSnapshot();
    const withLog = freshDirectory();
    const storage = await walStorage({ directory: withLog });
    await storage.save({ entries: [entry(1, 1)], hardState: { term: 1, vote: 'a', commit: 1 } });
    await storage.close();
    const before = listing(withLog);
    const error = await rejection(restoreSnapshot({ snapshotFile, directory: withLog }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/already holds a write-ahead log/);
    expect(listing(withLog)).toEqual(before);

    const other = freshDirectory();
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    expect(await rejection(restoreSnapshot({ snapshotFile, directory: other }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is not empty \(notes\.txt\)/) });
    expect(readdirSync(other)).toEqual(['notes.txt']);

    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(await rejection(restoreSnapshot({ snapshotFile, directory: file }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is not a directory/) });
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('refuses a founding snapshot, a node outside the configuration, a missing file and bad options, writing nothing', async () => {
    // A bootstrapped node's first file: the configuration at index 0, no data.
    const fresh = freshDirectory();
    const storage = await walStorage({ directory: fresh });
    await storage.save({ snapshot: { metadata: { index: 0, term: 0, config: { incoming: configuration(['a']) } }, data: new Uint8Array(0) } });
    await storage.close();
    const target = freshDirectory();
    const founding = await rejection(restoreSnapshot({ snapshotFile: join(fresh, snapshotFiles(fresh)[0]!), directory: target }));
    expect(founding).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/founding snapshot at index 0/) });

    const snapshotFile = await writtenSnapshot();
    const outsider = await rejection(restoreSnapshot({ snapshotFile, directory: target, nodeId: 'e' }));
    expect(outsider).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/node e is not a member of the snapshot's configuration \(a, b, c, d\)/) });
    const missing = await rejection(restoreSnapshot({ snapshotFile: join(root, 'no-such.snap'), directory: target }));
    expect(missing).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/does not exist/) });
    const folder = await rejection(restoreSnapshot({ snapshotFile: root, directory: target }));
    expect(folder).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is a directory, not a snapshot file/) });
    for (const init of [undefined, { snapshotFile, directory: '' }, { snapshotFile: '', directory: target }, { snapshotFile, directory: target, nodeId: '' }, { snapshotFile, directory: target, force: true }]) {
      await expect(restoreSnapshot(init as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(existsSync(target)).toBe(false);
  });

  it('removes what it wrote when a write, an fsync or a rename fails, and creates no directory', async () => {
    const snapshotFile = await writtenSnapshot();
    // Opening a new directory installs its first segment (hit 1); saving writes the snapshot file (hit 2), then the batch (hit 3).
    for (const failpoint of ['beforeRename:1:error', 'beforeWrite:2:error', 'beforeRename:2:error', 'afterRename:2:error', 'beforeFsync:3:error']) {
      process.env[FAILPOINT_ENV] = failpoint;
      const missing = join(freshDirectory(), 'n1');
      const error = await rejection(restoreSnapshot({ snapshotFile, directory: missing }));
      expect(error, failpoint).toBeInstanceOf(StorageError);
      expect((error as Error).message, failpoint).toMatch(/injected failure/);
      expect(existsSync(join(missing, '..')), failpoint).toBe(false);
      const empty = freshDirectory();
      mkdirSync(empty);
      await expect(restoreSnapshot({ snapshotFile, directory: empty }), failpoint).rejects.toBeInstanceOf(StorageError);
      expect(readdirSync(empty), failpoint).toEqual([]);
      delete process.env[FAILPOINT_ENV];
      // The same directory takes a restore once the disk works again.
      expect((await restoreSnapshot({ snapshotFile, directory: empty })).metadata.index, failpoint).toBe(7);
    }
  });
});
