/**
 * The latencies of the leader's `commitQuorum` reports are wall-clock milliseconds measured by the
 * driver, from the leader's hand-off of an entry (its write begins, its appends leave) to each
 * acknowledgement: a follower behind a slow link reports that link's round trip, not a whole
 * number of ticks.
 */
import { configuration } from '@greenraft/consensus';
import type { CommitQuorum, NodeId, StorageBatch } from '@greenraft/consensus';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../storage/index.js';
import type { MemoryStorage } from '../storage/index.js';
import { TestCluster, reading } from './test-cluster.js';

const TICK_MS = 50;
/** One way, on each of the slow follower's links: a round trip of 74 ms, 1.48 ticks. */
const ONE_WAY_MS = 37;
const ROUND_TRIP_MS = 2 * ONE_WAY_MS;
/** The slow follower weighs 2 of 4, so every commit needs it: it appears in each report, after the fast one. */
const WEIGHTS = { a: 1, b: 1, c: 2 };
const ids: readonly NodeId[] = ['a', 'b', 'c'];

let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A memory storage whose saves take `delayMs` more before they resolve (a disk's sync time). */
function delayedDisk(): { storage: MemoryStorage; setDelay(ms: number): void } {
  const storage = memoryStorage();
  const save = storage.save.bind(storage);
  let delayMs = 0;
  storage.save = async (batch: StorageBatch) => {
    await save(batch);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  };
  return { storage, setDelay: (ms) => (delayMs = ms) };
}

/** Starts the weighted three-node cluster with `a` as the leader; `a`'s disk can be slowed. */
async function startCluster(): Promise<{ cluster: TestCluster; leaderDisk: ReturnType<typeof delayedDisk> }> {
  const started = new TestCluster(ids, { tickMs: TICK_MS, electionTicks: 6 });
  const leaderDisk = delayedDisk();
  const bootstrap = configuration(WEIGHTS);
  // a draws the shortest election timeout, so it usually wins at once; a transfer makes sure.
  started.create('a', leaderDisk.storage, { bootstrap, electionTicks: 4 });
  for (const id of ['b', 'c']) started.create(id, memoryStorage(), { bootstrap });
  await Promise.all(ids.map((id) => started.node(id).start()));
  cluster = started;
  const leader = await started.leader();
  if (leader !== 'a') {
    await started.node(leader).transferLeadership('a', { timeoutMs: 4000 });
    await started.leader();
  }
  // A new leader probes its followers one append at a time; replication is pipelined after one commit.
  await started.node('a').propose(reading('warm-up'), { timeoutMs: 4000 });
  return { cluster: started, leaderDisk };
}

/** Proposes `count` entries one after another through `a` and returns the report of each. */
async function proposeAll(nodes: TestCluster, count: number): Promise<CommitQuorum[]> {
  const reports = new Map<number, CommitQuorum>();
  const leader = nodes.node('a');
  const listener = (quorum: CommitQuorum) => reports.set(quorum.index, quorum);
  leader.on('commitQuorum', listener);
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push((await leader.propose(reading(`meter-${i}: 1.5 kWh`), { timeoutMs: 4000 })).index);
  leader.off('commitQuorum', listener);
  // One report per commit advance: each proposal, awaited before the next, commits on its own.
  return indexes.map((index) => {
    const report = reports.get(index);
    expect(report, `a report for index ${index}`).toBeDefined();
    return report!;
  });
}

const median = (values: readonly number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function latencyOf(report: CommitQuorum, id: NodeId): number {
  const ack = report.acks.find((candidate) => candidate.id === id);
  expect(ack, `${id}'s acknowledgement in the report of index ${report.index}`).toBeDefined();
  return ack!.latencyMs;
}

describe('commitQuorum latencies', () => {
  it('are wall-clock times: the slow follower reports its round trip, the fast one a few ms', async () => {
    const { cluster: nodes } = await startCluster();
    for (const [from, to] of [
      ['a', 'c'],
      ['c', 'a'],
      ['b', 'c'],
      ['c', 'b'],
    ] as const) {
      nodes.network.setLink(from, to, { latency: ONE_WAY_MS });
    }
    const reports = await proposeAll(nodes, 8);

    for (const report of reports) {
      // Leader first, then the fast follower, then the slow one that completed the quorum.
      expect(report.acks.map((ack) => ack.id)).toEqual(['a', 'b', 'c']);
      for (const ack of report.acks) {
        expect(Number.isFinite(ack.latencyMs)).toBe(true);
        expect(ack.latencyMs).toBeGreaterThanOrEqual(0);
      }
      const slow = latencyOf(report, 'c');
      // A message never arrives before its link's latency (timers fire at most a millisecond early).
      expect(slow).toBeGreaterThan(ROUND_TRIP_MS - 2);
      // Whole ticks would read 50 or 100 here.
      expect(slow % TICK_MS).not.toBe(0);
      expect(slow).toBeLessThan(ROUND_TRIP_MS + 40);
      expect(latencyOf(report, 'b')).toBeLessThan(slow);
    }
    const slow = reports.map((report) => latencyOf(report, 'c'));
    const fast = reports.map((report) => latencyOf(report, 'b'));
    const own = reports.map((report) => latencyOf(report, 'a'));
    // Within a few ms of the injected round trip, taken over the run (a loaded machine delays some timers).
    expect(Math.abs(median(slow) - ROUND_TRIP_MS)).toBeLessThan(8);
    expect(median(fast)).toBeLessThan(8);
    expect(median(own)).toBeLessThan(8);
  });

  it("report the leader's own acknowledgement as the time its write took to become durable", async () => {
    const { cluster: nodes, leaderDisk } = await startCluster();
    const diskMs = 23;
    leaderDisk.setDelay(diskMs);
    const reports = await proposeAll(nodes, 6);

    for (const report of reports) {
      expect(report.acks[0]!.id).toBe('a');
      const own = latencyOf(report, 'a');
      expect(own).toBeGreaterThan(diskMs - 2);
      expect(own % TICK_MS).not.toBe(0);
    }
    expect(Math.abs(median(reports.map((report) => latencyOf(report, 'a'))) - diskMs)).toBeLessThan(8);
    // The appends left before the leader's write: the followers did not wait for it.
    expect(median(reports.map((report) => report.acks.at(-1)!.latencyMs))).toBeLessThan(diskMs / 2);
  });

  it('skip an entry already handed on when the first listener came, rather than report a made-up figure', async () => {
    // No listener until now: the leader has recorded no times.
    const { cluster: nodes, leaderDisk } = await startCluster();
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'a'],
      ['a', 'c'],
      ['c', 'a'],
    ] as const) {
      nodes.network.setLink(from, to, { latency: ONE_WAY_MS });
    }
    const leader = nodes.node('a');
    const reports: CommitQuorum[] = [];
    const listener = (quorum: CommitQuorum) => reports.push(quorum);
    const save = leaderDisk.storage.save;
    // The listener comes while the leader writes the entry: after its hand-off, before any answer.
    leaderDisk.storage.save = async (batch) => {
      if (batch.entries !== undefined && leader.listenerCount('commitQuorum') === 0) leader.on('commitQuorum', listener);
      await save(batch);
    };
    const inFlight = await leader.propose(reading('in flight'), { timeoutMs: 4000 });
    const timed = await leader.propose(reading('timed'), { timeoutMs: 4000 });
    leader.off('commitQuorum', listener);
    expect(reports.map((report) => report.index)).toEqual([timed.index]);
    expect(reports.map((report) => report.index)).not.toContain(inFlight.index);
    const slow = latencyOf(reports[0]!, 'c');
    // Both followers sit behind the slow links: the quorum's last answer took a whole round trip.
    expect(slow).toBeGreaterThan(ROUND_TRIP_MS - 2);
    expect(slow).toBeLessThan(ROUND_TRIP_MS + 40);
  });
});
