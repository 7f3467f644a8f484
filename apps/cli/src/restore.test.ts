/**
 * `greenraft restore`: a node's data directory from one snapshot file. In this process against
 * snapshots a real write-ahead log wrote (output, exit codes, what is left on disk), then end to
 * end: a 3-node cluster of real processes writes until it has a snapshot, loses every data
 * directory, is restored from that one file, and serves what the snapshot held.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuration } from '@greenraft/consensus';
import { walStorage } from '@greenraft/storage-wal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { RunningCluster, alive, allReady, getJson, greenraft, initCluster, requireBuilt, until } from './local-cluster.test-utils.js';
import { capture } from './test-support.js';

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-restore-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const fresh = (): string => join(scratch, `f${++folders}`);

const snapshotFiles = (directory: string): string[] => (existsSync(directory) ? readdirSync(directory).filter((name) => name.endsWith('.snap')) : []);

/** A snapshot of voters n1..n3 (n1 weighing 2) and learner n4 at 42/5, written by a real store: the path of its file. */
async function writtenSnapshot(data: Uint8Array = Uint8Array.of(7, 7, 7)): Promise<string> {
  const directory = fresh();
  const storage = await walStorage({ directory });
  await storage.save({ snapshot: { metadata: { index: 42, term: 5, config: { incoming: configuration({ n1: 2, n2: 1, n3: 1 }, ['n4']) } }, data }, hardState: { term: 6, vote: 'n2', commit: 42 } });
  await storage.close();
  return join(directory, snapshotFiles(directory)[0]!);
}

describe('greenraft restore', () => {
  it('--data-dir: writes the directory a node opens at that snapshot, and says so in JSON', async () => {
    const snapshot = await writtenSnapshot();
    const directory = join(fresh(), 'data', 'n2');
    const run = await capture(() => runCli(['restore', '--snapshot', snapshot, '--data-dir', directory, '--json']));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      directory,
      node: null,
      index: 42,
      term: 5,
      bytes: 3,
      config: { voters: { n1: 2, n2: 1, n3: 1 }, learners: ['n4'], outgoing: null },
    });
    const storage = await walStorage({ directory });
    try {
      const state = await storage.load();
      expect(state.snapshot?.metadata).toEqual({ index: 42, term: 5, config: { incoming: configuration({ n1: 2, n2: 1, n3: 1 }, ['n4']) } });
      expect([...state.snapshot!.data]).toEqual([7, 7, 7]);
      expect(state.hardState).toEqual({ term: 5, vote: undefined, commit: 42 });
    } finally {
      await storage.close();
    }
  });

  it('--config: restores the dataDir of the node file, for its id, and refuses a node the snapshot does not name', async () => {
    const snapshot = await writtenSnapshot();
    const dir = fresh();
    expect((await capture(() => runCli(['cluster', 'init', '--nodes', '3', '--dir', dir]))).code).toBe(0);
    const run = await capture(() => runCli(['restore', '--snapshot', snapshot, '--config', join(dir, 'n3.json')]));
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `restored n3 in ${join(dir, 'data', 'n3')} from ${snapshot}: index 42, term 5, 3 bytes of state, voters n1=2 n2=1 n3=1 (learners: n4); start the node to run from it\n`,
    );
    expect(snapshotFiles(join(dir, 'data', 'n3'))).toHaveLength(1);

    // A node outside the snapshot's configuration would start as a removed member.
    const outsider = fresh();
    expect((await capture(() => runCli(['cluster', 'init', '--nodes', '5', '--dir', outsider]))).code).toBe(0);
    const refused = await capture(() => runCli(['restore', '--snapshot', snapshot, '--config', join(outsider, 'n5.json')]));
    expect(refused).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/^greenraft restore: node n5 is not a member of the snapshot's configuration \(n1, n2, n3, n4\)/) });
    expect(existsSync(join(outsider, 'data', 'n5'))).toBe(false);
  });

  it('exits 1 on a corrupt or cut file and 2 on a directory that is not empty, leaving both as they were', async () => {
    const snapshot = await writtenSnapshot(Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff));
    const whole = readFileSync(snapshot);
    const flipped = Buffer.from(whole);
    flipped[whole.length - 100]! ^= 1;
    for (const [what, bytes] of [
      ['cut', whole.subarray(0, whole.length - 10)],
      ['flipped', flipped],
    ] as const) {
      const file = join(scratch, `${what}.snap`);
      writeFileSync(file, bytes);
      const directory = join(fresh(), 'n1');
      const run = await capture(() => runCli(['restore', '--snapshot', file, '--data-dir', directory]));
      expect(run.code, what).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr, what).toMatch(new RegExp(`^greenraft restore: corrupt write-ahead log: ${file} at byte \\d+: `));
      expect(existsSync(directory), what).toBe(false);
    }

    const occupied = fresh();
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'wal-0000000000000001.log'), 'the old log');
    const run = await capture(() => runCli(['restore', '--snapshot', snapshot, '--data-dir', occupied]));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^greenraft restore: \S+ already holds a write-ahead log; a restore never writes over data/);
    expect(readdirSync(occupied)).toEqual(['wal-0000000000000001.log']);
    expect(readFileSync(join(occupied, 'wal-0000000000000001.log'), 'utf8')).toBe('the old log');
  });

  it('exits 2 naming the mistake: no target, two targets, no snapshot, a missing file', async () => {
    const snapshot = await writtenSnapshot();
    const cases: [string[], RegExp][] = [
      [['restore', '--snapshot', snapshot], /--config or --data-dir is required/],
      [['restore', '--snapshot', snapshot, '--config', 'a.json', '--data-dir', 'b'], /give --config or --data-dir, not both/],
      [['restore', '--data-dir', fresh()], /--snapshot is required/],
      [['restore', '--snapshot', join(scratch, 'none.snap'), '--data-dir', fresh()], /the snapshot file \S+none\.snap does not exist/],
      [['restore', '--snapshot', snapshot, '--config', join(scratch, 'none.json')], /cannot read the file/],
    ];
    for (const [argv, message] of cases) {
      const run = await capture(() => runCli(argv));
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr, argv.join(' ')).toMatch(message);
    }
  });
});

describe('a cluster restored from one snapshot file', () => {
  beforeAll(requireBuilt);

  it('loses every data directory, is restored from the newest snapshot, elects a leader, serves what it held and takes new writes', async () => {
    const dir = join(scratch, 'site');
    initCluster(['cluster', 'init', '--nodes', '3', '--dir', dir]);
    const ids = ['n1', 'n2', 'n3'];
    // Snapshots every 20 applied entries, so that a few dozen writes leave one.
    for (const id of ids) {
      const file = join(dir, `${id}.json`);
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), raft: { snapshotThreshold: 20 } }, null, 2));
    }
    const dataDir = (id: string) => join(dir, 'data', id);
    const newest = (): { file: string; index: number } | undefined =>
      ids
        .flatMap((id) => snapshotFiles(dataDir(id)).map((name) => ({ file: join(dataDir(id), name), index: Number(name.split('-')[1]) })))
        .filter((found) => found.index > 0)
        .sort((a, b) => b.index - a.index)[0];

    const written = new Map<string, { value: string; index: number }>();
    const first = new RunningCluster(dir);
    try {
      const nodes = await first.started();
      await allReady(nodes);
      for (let i = 1; newest() === undefined || i <= 35; i++) {
        if (i > 200) throw new Error('no snapshot after 200 writes');
        const key = `meter-${i}`;
        const put = await getJson(`${nodes[i % 3]!.http}/v1/kv/${key}`, { method: 'PUT', body: `${i}.5`, headers: { 'idempotency-key': `reading-${i}` } });
        expect(put.status, key).toBe(200);
        written.set(key, { value: `${i}.5`, index: put.body.index as number });
      }
      expect((await first.stop()).code).toBe(0);
      for (const node of nodes) expect(alive(node.pid)).toBe(false);
    } finally {
      first.killAll();
    }

    // The site is lost: one snapshot file is all that is left.
    const kept = newest()!;
    const backup = join(scratch, 'backup.snap');
    copyFileSync(kept.file, backup);
    for (const id of ids) rmSync(dataDir(id), { recursive: true, force: true });
    for (const id of ids) {
      const run = greenraft(['restore', '--snapshot', backup, '--config', join(dir, `${id}.json`), '--json']);
      expect(run.stderr, id).toBe('');
      expect(run.code, id).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ directory: dataDir(id), node: id, index: kept.index, config: { voters: { n1: 1, n2: 1, n3: 1 }, learners: [], outgoing: null } });
    }
    const held = [...written].filter(([, { index }]) => index <= kept.index);
    const lost = [...written].filter(([, { index }]) => index > kept.index);
    expect(held.length).toBeGreaterThan(0);
    expect(lost.length).toBeGreaterThan(0);

    const second = new RunningCluster(dir);
    try {
      const nodes = await second.started();
      await allReady(nodes);
      const leader = await until(async () => {
        const status = await getJson(`${nodes[0]!.http}/v1/cluster/status`);
        return typeof status.body.leader === 'string' ? status.body : undefined;
      }, 'a leader');
      expect(leader.term as number).toBeGreaterThan(0);
      for (const [key, { value, index }] of held) {
        const read = await getJson(`${nodes[index % 3]!.http}/v1/kv/${key}`);
        expect(read, key).toMatchObject({ status: 200, body: { value, index } });
      }
      // What was written after the snapshot's index is gone with the directories.
      for (const [key] of lost) expect((await getJson(`${nodes[0]!.http}/v1/kv/${key}`)).status, key).toBe(404);
      const put = await getJson(`${nodes[1]!.http}/v1/kv/after-restore`, { method: 'PUT', body: 'ok' });
      expect(put.status).toBe(200);
      expect(put.body.index as number).toBeGreaterThan(kept.index);
      expect((await getJson(`${nodes[2]!.http}/v1/kv/after-restore`)).body.value).toBe('ok');
      expect((await second.stop()).code).toBe(0);
      for (const node of nodes) expect(alive(node.pid)).toBe(false);
    } finally {
      second.killAll();
    }
  });
});
