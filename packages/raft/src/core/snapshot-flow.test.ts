/**
 * Flow control of InstallSnapshot: one chunk in flight per follower, the next one only when the
 * follower's answer moves past what it had confirmed, a resend only once an answer is overdue (a
 * timeout in ticks), and a transfer that resumes from the follower's offset after a break.
 */
import type { Message, NodeId, Snapshot, SnapshotRequest, SnapshotResponse } from '@greenraft/consensus';
import { seededRandom } from '@greenraft/consensus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { type CoreNetwork, coreNetwork, utf8 } from '../testing.js';

type SnapshotMessage = SnapshotRequest | SnapshotResponse;

/** When each copy of a message arrives, in ticks from now; no copies: the message is lost. */
type Fate = (message: SnapshotMessage, tick: number) => readonly number[];

/** The link leader 1 ↔ follower 3 as the test sets it up; heartbeats and appends are never delayed. */
interface Transfer {
  readonly net: CoreNetwork;
  readonly snapshot: Snapshot;
  /** Distinct chunks of the snapshot. */
  readonly distinct: number;
  /** Every chunk the leader sent to 3, with the tick it left at. */
  readonly chunks: { readonly tick: number; readonly offset: number }[];
  /** Snapshot messages the link lost (either way). */
  lost: number;
  /** Ticks so far. */
  now: number;
  /** How the link treats each snapshot message (default: delivered at once). */
  fate: Fate;
  /** While true, every message between 1 and 3 is lost, and so is everything on the delay line. */
  cut: boolean;
  /** One tick of the leader, then the messages due, until the network is quiet. */
  step(): void;
  /** Steps until 3 installed the snapshot; returns the ticks it took. */
  runUntilInstalled(limit?: number): number;
  installed(): boolean;
  /** The offset of every answer of the follower that reached the leader, in order. */
  readonly followerOffsets: number[];
}

/** Leader 1 with a snapshot of `words` entries that follower 3, cut off meanwhile, must catch up with. */
function transfer(init: { chunkBytes?: number; words?: number } = {}): Transfer {
  const chunkBytes = init.chunkBytes ?? 16;
  const net = coreNetwork({ bootstrap: classic(), options: { snapshotChunkBytes: chunkBytes } });
  net.core('1').campaign();
  net.stabilize();
  net.partition(['1', '2'], ['3']);
  for (let i = 0; i < (init.words ?? 40); i++) net.core('1').propose(utf8(`meter-${i}: ${i * 1.5} kWh`));
  net.stabilize();
  const snapshot = net.compact('1');
  net.heal();

  const line: { at: number; message: SnapshotMessage }[] = [];
  const state: Transfer = {
    net,
    snapshot,
    distinct: Math.ceil(snapshot.data.byteLength / chunkBytes),
    chunks: [],
    lost: 0,
    now: 0,
    fate: () => [0],
    cut: false,
    followerOffsets: [],
    step() {
      state.now++;
      net.tick('1');
      net.stabilize();
      for (;;) {
        const due = line.filter((item) => item.at <= state.now);
        if (due.length === 0) break;
        for (const item of due) line.splice(line.indexOf(item), 1);
        for (const { message } of due) {
          if (message.type === 'snapshotResponse') state.followerOffsets.push(message.offset);
          net.core(message.to).step(message);
        }
        net.stabilize();
      }
    },
    runUntilInstalled(limit = 2000) {
      const start = state.now;
      while (!state.installed()) {
        if (state.now - start >= limit) throw new Error(`the snapshot was not installed within ${limit} ticks`);
        state.step();
      }
      return state.now - start;
    },
    installed: () => net.record('3').storage.snapshot?.metadata.index === snapshot.metadata.index,
  };
  const between = (m: Message, a: NodeId, b: NodeId) => (m.from === a && m.to === b) || (m.from === b && m.to === a);
  net.drop((m) => {
    if (!between(m, '1', '3')) return false;
    if (m.type === 'snapshotRequest') {
      state.chunks.push({ tick: state.now, offset: m.offset });
      // A runaway transfer fails the test instead of hanging it.
      if (state.chunks.length > 20 * state.distinct) throw new Error(`${state.chunks.length} chunks sent for ${state.distinct} distinct ones`);
    }
    if (state.cut) {
      if (m.type === 'snapshotRequest' || m.type === 'snapshotResponse') state.lost++;
      // The break loses what was on its way too.
      state.lost += line.splice(0).length;
      return true;
    }
    if (m.type !== 'snapshotRequest' && m.type !== 'snapshotResponse') return false;
    const copies = state.fate(m, state.now);
    if (copies.length === 0) state.lost++;
    for (const delay of copies) line.push({ at: state.now + delay, message: m });
    return true;
  });
  return state;
}

const offsetsSent = (t: Transfer): number[] => t.chunks.map((c) => c.offset);

describe('InstallSnapshot flow control', () => {
  it('on a slow link that duplicates answers, sends each chunk once (not once per heartbeat or per duplicate)', () => {
    const t = transfer();
    // Chunks take 3 ticks; every answer takes 3 ticks and arrives three times.
    t.fate = (m) => (m.type === 'snapshotRequest' ? [3] : [3, 4, 6]);
    t.runUntilInstalled();
    expect(t.distinct).toBeGreaterThanOrEqual(30);
    expect(t.chunks.length).toBe(t.distinct);
    expect(offsetsSent(t)).toEqual(Array.from({ length: t.distinct }, (_, i) => i * 16));
    expect(t.net.record('3').applied).toEqual(t.net.record('1').applied);
  });

  it('on a link that duplicates and reorders both ways, stays within a small factor of the distinct chunks', () => {
    const t = transfer();
    const random = seededRandom(7);
    const delays = () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * 5));
    t.fate = () => delays();
    t.runUntilInstalled();
    expect(t.lost).toBe(0);
    expect(t.chunks.length).toBeLessThanOrEqual(Math.ceil(1.5 * t.distinct));
    expect(t.net.record('3').applied).toEqual(t.net.record('1').applied);
  });

  it('on a link much slower than the first timeout, the timeout grows to fit: a couple of needless copies, not one per chunk', () => {
    const t = transfer();
    // One chunk crosses every 25 ticks, in order (a bandwidth-bound link); answers take a tick.
    let busyUntil = 0;
    t.fate = (m, now) => {
      if (m.type === 'snapshotResponse') return [1];
      busyUntil = Math.max(busyUntil, now) + 25;
      return [busyUntil - now];
    };
    const ticks = t.runUntilInstalled(10_000);
    expect(t.chunks.length).toBeLessThanOrEqual(t.distinct + 3);
    // Needless copies hold the link; few of them, so the transfer takes about distinct × 25 ticks.
    expect(ticks).toBeLessThanOrEqual((t.distinct + 4) * 25);
    expect(t.net.record('3').applied).toEqual(t.net.record('1').applied);
  });

  it('resends a lost chunk once its answer is overdue by a timeout in ticks, not at the next heartbeat answer', () => {
    const t = transfer();
    t.fate = (m) => (m.type === 'snapshotRequest' && m.offset === 5 * 16 && t.lost === 0 ? [] : [1]);
    t.runUntilInstalled();
    expect(t.lost).toBe(1);
    expect(t.chunks.length).toBe(t.distinct + 1);
    const copies = t.chunks.filter((c) => c.offset === 5 * 16);
    expect(copies).toHaveLength(2);
    // Heartbeats were answered every tick meanwhile; the resend waited for the retransmission timeout.
    expect(copies[1]!.tick - copies[0]!.tick).toBeGreaterThanOrEqual(2);
  });

  it('when an answer is lost, resumes from the offset the follower reports instead of starting over', () => {
    const t = transfer();
    let dropped = false;
    t.fate = (m) => {
      if (m.type === 'snapshotResponse' && m.offset === 4 * 16 && !dropped) {
        dropped = true;
        return [];
      }
      return [1];
    };
    t.runUntilInstalled();
    // Chunk 3 went again (its answer was lost); the follower said it holds 4 chunks, so chunk 4 came next.
    const sent = offsetsSent(t);
    const at = sent.indexOf(3 * 16);
    expect(sent.slice(at, at + 3)).toEqual([3 * 16, 3 * 16, 4 * 16]);
    expect(t.chunks.length).toBe(t.distinct + 1);
  });

  it('sends nothing while the follower is silent during a break, and resumes from its offset as soon as it answers', () => {
    const t = transfer();
    t.fate = () => [1];
    while (t.chunks.length < 6) t.step();
    t.cut = true;
    const sentBefore = t.chunks.length;
    for (let i = 0; i < 60; i++) t.step(); // many retransmission timeouts and election timeouts
    expect(t.chunks.length).toBe(sentBefore);
    expect(t.net.core('1').progress().get('3')?.state).toBe('snapshot');
    const held = Math.max(...t.followerOffsets);
    expect(held).toBeGreaterThan(0);
    t.cut = false;
    const healedAt = t.now;
    t.runUntilInstalled();
    const after = t.chunks.slice(sentBefore);
    // The first answer after the break (a heartbeat's) brings the chunk the follower needs, not chunk 0.
    expect(after[0]!.offset).toBe(held);
    expect(after[0]!.tick - healedAt).toBeLessThanOrEqual(2);
    expect(t.chunks.length).toBe(t.distinct + 1);
  });

  it('a follower that restarts mid-transfer (its partial snapshot lost) is sent the snapshot again from offset 0', () => {
    const t = transfer();
    t.fate = () => [1];
    while (t.chunks.length < 5) t.step();
    t.net.crash('3');
    t.net.restart('3');
    t.runUntilInstalled();
    // Five chunks before the restart (the restarted follower answered the fifth with offset 0), then every chunk from 0.
    const sent = offsetsSent(t);
    const before = sent.lastIndexOf(0);
    expect(before).toBe(5);
    expect(sent.slice(before)).toEqual(Array.from({ length: t.distinct }, (_, i) => i * 16));
    expect(t.net.record('3').applied).toEqual(t.net.record('1').applied);
  });

  it('reportUnreachable during a transfer sends the chunk again at the next answer, once', () => {
    const t = transfer();
    const held: SnapshotMessage[] = [];
    let holding = false;
    t.fate = (m) => {
      if (holding && m.type === 'snapshotRequest') {
        held.push(m);
        return [];
      }
      return [1];
    };
    while (t.chunks.length < 3) t.step();
    holding = true;
    while (held.length === 0) t.step();
    holding = false;
    // The transport could not deliver the chunk it was given.
    t.net.core('1').reportUnreachable('3');
    const before = t.chunks.length;
    t.step(); // a heartbeat answered: the chunk goes again
    expect(t.chunks.length).toBe(before + 1);
    expect(t.chunks.at(-1)!.offset).toBe(held[0]!.offset);
    t.runUntilInstalled();
    expect(t.chunks.length).toBe(t.distinct + 1);
  });

  it('completes with a bounded number of chunks under random delay, duplication, loss and breaks (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          maxDelay: fc.integer({ min: 0, max: 6 }),
          duplicate: fc.double({ min: 0, max: 0.6, noNaN: true }),
          loss: fc.double({ min: 0, max: 0.25, noNaN: true }),
          breakAt: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
          breakTicks: fc.integer({ min: 1, max: 40 }),
          chunkBytes: fc.constantFrom(7, 16, 64),
        }),
        ({ seed, maxDelay, duplicate, loss, breakAt, breakTicks, chunkBytes }) => {
          const t = transfer({ chunkBytes, words: 30 });
          const random = seededRandom(seed);
          t.fate = () => {
            if (random() < loss) return [];
            const copies = [Math.floor(random() * (maxDelay + 1))];
            while (random() < duplicate) copies.push(Math.floor(random() * (maxDelay + 1)));
            return copies;
          };
          if (breakAt !== undefined) {
            while (t.chunks.length < breakAt && !t.installed()) t.step();
            t.cut = true;
            for (let i = 0; i < breakTicks; i++) t.step();
            t.cut = false;
          }
          t.runUntilInstalled(5000);
          expect(t.net.record('3').applied).toEqual(t.net.record('1').applied);
          // Each loss costs a few resends at most; duplicates and delays cost none beyond a small factor.
          expect(t.chunks.length).toBeLessThanOrEqual(2 * t.distinct + 3 * t.lost + 2);
        },
      ),
      { numRuns: 60, seed: 20_240_611 },
    );
  });
});

describe('the follower side of a chunked snapshot', () => {
  const metadata = { index: 10, term: 1, config: { incoming: classic() } };
  const chunk = (offset: number, text: string, done = false): SnapshotRequest => ({
    type: 'snapshotRequest',
    from: '1',
    to: '3',
    term: 1,
    metadata,
    offset,
    chunk: utf8(text),
    done,
  });
  const answers = (core: RaftCore) => drain(core).messages.filter((m): m is SnapshotResponse => m.type === 'snapshotResponse');

  it('a late duplicate of the first chunk does not restart the assembly', () => {
    const follower = new RaftCore({ id: '3', bootstrap: classic() });
    follower.step(chunk(0, '["a",'));
    follower.step(chunk(5, '"b",'));
    follower.step(chunk(0, '["a",'));
    expect(answers(follower).map((m) => m.offset)).toEqual([5, 9, 9]);
    follower.step(chunk(9, '"c"]', true));
    const rd = drain(follower);
    expect(rd.snapshot?.data).toEqual(utf8('["a","b","c"]'));
  });

  it('a follower that campaigns and hears from its leader again in the same term keeps the chunks it has', () => {
    const follower = new RaftCore({ id: '3', bootstrap: classic(), state: { hardState: { term: 1, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] } });
    follower.step(chunk(0, '["a",'));
    follower.step(chunk(5, '"b",'));
    drain(follower);
    for (let i = 0; i < 100 && follower.role === 'follower'; i++) follower.tick();
    expect(follower.role).toBe('preCandidate');
    expect(follower.term).toBe(1);
    follower.step(chunk(9, '"c"]', true));
    expect(follower.role).toBe('follower');
    const rd = drain(follower);
    expect(rd.snapshot?.data).toEqual(utf8('["a","b","c"]'));
  });
});
