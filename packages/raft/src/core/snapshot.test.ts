/** Log compaction and InstallSnapshot in chunks (Raft paper §7). */
import { InvalidArgumentError, type SnapshotRequest } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { classic, drain } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { type CoreNetwork, coreNetwork, utf8 } from '../testing.js';

function elected(chunkBytes = 16): CoreNetwork {
  const net = coreNetwork({ bootstrap: classic(), options: { snapshotChunkBytes: chunkBytes } });
  net.core('1').campaign();
  net.stabilize();
  return net;
}

describe('snapshots', () => {
  it('"Each server takes snapshots independently, covering just the committed entries in its log": compaction drops the prefix', () => {
    const net = elected();
    for (const word of ['a', 'b', 'c']) net.core('1').propose(utf8(word));
    net.stabilize();
    const leader = net.core('1');
    const snapshot = net.compact('1');
    expect(snapshot.metadata).toMatchObject({ index: 4, term: 1 });
    expect(leader.firstIndex).toBe(5);
    expect(leader.entry(4)).toBeUndefined();
    expect(leader.termAt(4)).toBe(1);
    expect(leader.termAt(3)).toBeUndefined();
    expect(leader.snapshotMetadata).toMatchObject({ index: 4, term: 1 });
    // Replication continues from the compacted log.
    leader.propose(utf8('d'));
    net.stabilize();
    expect(net.record('3').applied).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a snapshot beyond the applied index or with the wrong term, changing nothing', () => {
    const net = elected();
    net.core('1').propose(utf8('a'));
    net.stabilize();
    const leader = net.core('1');
    const metadata = leader.snapshotMetadataAt(2);
    expect(() => leader.snapshotTaken({ metadata: { ...metadata, index: 3 }, data: new Uint8Array() })).toThrow(InvalidArgumentError);
    expect(() => leader.snapshotTaken({ metadata: { ...metadata, term: 7 }, data: new Uint8Array() })).toThrow(InvalidArgumentError);
    expect(leader.firstIndex).toBe(1);
    expect(() => leader.snapshotMetadataAt(3)).toThrow(InvalidArgumentError);
  });

  it('"the leader must occasionally send snapshots to followers that lag behind": a follower catches up by chunked InstallSnapshot', () => {
    const net = elected(8);
    net.partition(['1', '2'], ['3']);
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    for (const word of words) net.core('1').propose(utf8(word));
    net.stabilize();
    const snapshot = net.compact('1');
    expect(snapshot.data.byteLength).toBeGreaterThan(24); // several chunks of 8 bytes
    net.heal();
    net.tick('1');
    net.stabilize();
    const chunks = net.delivered.filter((m): m is SnapshotRequest => m.type === 'snapshotRequest');
    expect(chunks.length).toBe(Math.ceil(snapshot.data.byteLength / 8));
    expect(chunks.map((m) => m.offset)).toEqual(chunks.map((_, i) => i * 8));
    expect(chunks.at(-1)!.done).toBe(true);
    const follower = net.core('3');
    expect(follower.commitIndex).toBe(net.core('1').commitIndex);
    expect(follower.firstIndex).toBe(snapshot.metadata.index + 1);
    expect(net.record('3').applied).toEqual(words);
    expect(net.record('3').storage.snapshot?.metadata.index).toBe(snapshot.metadata.index);
    // Back in ordinary replication afterwards.
    expect(net.core('1').progress().get('3')).toMatchObject({ state: 'replicate', match: net.core('1').lastIndex });
    net.core('1').propose(utf8('golf'));
    net.stabilize();
    expect(net.record('3').applied).toEqual([...words, 'golf']);
  });

  it('resends a lost chunk once its answer is overdue (a timeout in ticks), not at the next heartbeat answer', () => {
    const net = elected(8);
    net.partition(['1', '2'], ['3']);
    for (const word of ['one', 'two', 'three', 'four']) net.core('1').propose(utf8(word));
    net.stabilize();
    net.compact('1');
    net.heal();
    let lost = false;
    net.drop((m) => m.type === 'snapshotRequest' && m.offset === 8 && !lost && (lost = true));
    const secondChunks = () => net.delivered.filter((m) => m.type === 'snapshotRequest' && m.offset === 8).length;
    net.tick('1');
    net.stabilize();
    expect(lost).toBe(true);
    expect(net.core('1').progress().get('3')?.state).toBe('snapshot');
    // The first chunk was answered at once (a round trip under a tick): the timeout is the 2-tick floor.
    net.tick('1');
    net.stabilize();
    expect(secondChunks()).toBe(0); // the heartbeat was answered, and nothing was resent
    net.tick('1');
    net.stabilize();
    expect(secondChunks()).toBe(1);
    expect(net.record('3').applied).toEqual(['one', 'two', 'three', 'four']);
  });

  it('a follower ignores a snapshot from a stale term', () => {
    const follower = new RaftCore({ id: '3', bootstrap: classic(), state: { hardState: { term: 5, vote: undefined, commit: 0 }, snapshot: undefined, entries: [] } });
    follower.step({
      type: 'snapshotRequest',
      from: '1',
      to: '3',
      term: 4,
      metadata: { index: 10, term: 4, config: { incoming: classic() } },
      offset: 0,
      chunk: utf8('[]'),
      done: true,
    });
    expect(follower.commitIndex).toBe(0);
    expect(drain(follower).snapshot).toBeUndefined();
  });

  it('installing keeps a matching suffix of the follower log and re-emits it for storage', () => {
    const entries = [1, 2, 3].map((index) => ({ type: 'normal' as const, term: 1, index, data: utf8(`e${index}`) }));
    const follower = new RaftCore({ id: '3', bootstrap: classic(), state: { hardState: { term: 1, vote: undefined, commit: 0 }, snapshot: undefined, entries } });
    follower.step({
      type: 'snapshotRequest',
      from: '1',
      to: '3',
      term: 1,
      metadata: { index: 2, term: 1, config: { incoming: classic() } },
      offset: 0,
      chunk: utf8('["e1","e2"]'),
      done: true,
    });
    const rd = drain(follower);
    expect(rd.snapshot?.metadata.index).toBe(2);
    expect(rd.entries.map((e) => e.index)).toEqual([3]);
    expect(rd.committedEntries).toEqual([]);
    expect(follower.appliedIndex).toBe(2);
    expect(follower.lastIndex).toBe(3);
    expect(rd.messages).toEqual([expect.objectContaining({ type: 'snapshotResponse', done: true, index: 2 })]);
  });

  it('a node restarts from a snapshot and replays only the entries after it', () => {
    const net = elected();
    for (const word of ['a', 'b']) net.core('1').propose(utf8(word));
    net.stabilize();
    net.compact('2');
    net.core('1').propose(utf8('c'));
    net.stabilize();
    const restarted = net.restart('2');
    expect(restarted.firstIndex).toBe(4);
    expect(restarted.appliedIndex).toBe(3);
    net.stabilize();
    net.tick('1');
    net.stabilize();
    expect(net.record('2').applied).toEqual(['a', 'b', 'c']);
  });
});
