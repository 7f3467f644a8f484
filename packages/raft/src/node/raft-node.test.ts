import {
  ConfigurationError,
  GreenraftError,
  InvalidArgumentError,
  InvalidMessageError,
  NotLeaderError,
  ProposalDroppedError,
  StateMachineError,
  StoppedError,
  StorageError,
  configuration,
} from '@greenraft/consensus';
import type { ClusterConfig, CommitQuorum, Message, NodeId, PersistentState, Role, Storage, StorageBatch, Transport } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { memoryNetwork } from '@greenraft/transport-memory';
import { EventEmitter } from 'eventemitter3';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../storage/index.js';
import type { MemoryStorage } from '../storage/index.js';
import { createRaftNode } from './raft-node.js';
import { ReadingLedger, TestCluster, reading } from './test-cluster.js';

const ids: readonly NodeId[] = ['a', 'b', 'c'];
let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A disk that takes a moment to sync: saves become durable (and resolve) one timer turn later. */
function slowDisk(): MemoryStorage {
  const inner = memoryStorage({ sync: 'deferred' });
  const save = inner.save.bind(inner);
  inner.save = (batch: StorageBatch) => {
    const saving = save(batch);
    setTimeout(() => void inner.flush().catch(() => {}), 1);
    return saving;
  };
  return inner;
}

/** Checks, at the moment a message leaves, that what it depends on is already durable. */
function durabilityViolation(message: Message, durable: PersistentState): string | undefined {
  const { hardState, entries, snapshot } = durable;
  const isPreVote = (message.type === 'voteRequest' || message.type === 'voteResponse') && message.preVote;
  if (!isPreVote && hardState.term < message.term) return `${message.type} in term ${message.term} sent while the durable term is ${hardState.term}`;
  if (message.type === 'voteResponse' && !message.preVote && message.granted && hardState.vote !== message.to) {
    return `granted a vote to ${message.to} before persisting it`;
  }
  const termAt = (index: number) => (index === (snapshot?.metadata.index ?? 0) ? (snapshot?.metadata.term ?? 0) : entries.find((entry) => entry.index === index)?.term);
  // A leader may send entries before its own write of them (Raft thesis §10.2.1), but never
  // announce a commit index past what it holds durably: nothing is committed on its word alone.
  if (message.type === 'appendRequest' || message.type === 'heartbeat') {
    const durableLast = Math.max(snapshot?.metadata.index ?? 0, ...entries.map((entry) => entry.index));
    if (message.commitIndex > durableLast) return `announced commit ${message.commitIndex} while only ${durableLast} is durable`;
  }
  if (message.type === 'appendResponse' && message.success && termAt(message.index) === undefined) return `acknowledged index ${message.index} before persisting it`;
  return undefined;
}

describe('RaftNode driver', () => {
  it('persists what a message depends on before sending it, and answers a proposal once a quorum holds it durably', async () => {
    cluster = new TestCluster(ids);
    const violations: string[] = [];
    let checked = 0;
    const storages = new Map<NodeId, MemoryStorage>(ids.map((id) => [id, slowDisk()]));
    for (const id of ids) {
      const endpoint = cluster.network.transport(id);
      const watched: Transport = {
        localId: id,
        start: (handler) => endpoint.start(handler),
        stop: () => endpoint.stop(),
        send: (message) => {
          checked++;
          const problem = durabilityViolation(message, storages.get(id)!.durableState());
          if (problem !== undefined) violations.push(`${id}: ${problem}`);
          endpoint.send(message);
        },
      };
      cluster.create(id, storages.get(id)!, { transport: watched });
    }
    await Promise.all(ids.map((id) => cluster!.node(id).start()));
    const leader = await cluster.leader();
    for (let i = 1; i <= 5; i++) {
      const { index, term } = await cluster.node(leader).propose(reading(`meter-${i}`));
      // Answered only once the entry is durable on the leader and on a quorum.
      const holders = ids.filter((id) => storages.get(id)!.durableState().entries.some((entry) => entry.index === index && entry.term === term));
      expect(holders).toContain(leader);
      expect(holders.length).toBeGreaterThanOrEqual(2);
    }
    expect(checked).toBeGreaterThan(10);
    expect(violations).toEqual([]);
  });

  it('recovers every committed entry after all nodes crash and restart on their durable state', async () => {
    cluster = new TestCluster(ids);
    await cluster.start();
    const leader = await cluster.leader();
    const results: number[] = [];
    for (let i = 1; i <= 4; i++) results.push((await cluster.node(leader).propose(reading(`before-crash-${i}`))).result);
    expect(results).toEqual([1, 2, 3, 4]);
    const survivors = new Map(ids.map((id) => [id, cluster!.memoryStorage(id)]));
    await Promise.all(ids.map((id) => cluster!.node(id).stop()));
    const restarted = new TestCluster(ids);
    const previous = cluster;
    cluster = restarted;
    previous.network.close();
    await restarted.start((id) => survivors.get(id)!.crash());
    const newLeader = await restarted.leader();
    const { result, index } = await restarted.node(newLeader).propose(reading('after-restart'));
    expect(result).toBe(5);
    await restarted.applied(index);
    for (const id of ids) {
      expect(restarted.ledger(id).readings).toEqual(['before-crash-1', 'before-crash-2', 'before-crash-3', 'before-crash-4', 'after-restart']);
      expect(restarted.node(id).status().term).toBeGreaterThan(0);
    }
  });

  it('takes a snapshot every snapshotThreshold applied entries, compacts storage, and restores from it on restart', async () => {
    cluster = new TestCluster(ids, { snapshotThreshold: 4 });
    await cluster.start();
    const snapshots = new Map<NodeId, { index: number; installed: boolean }[]>(ids.map((id) => [id, []]));
    for (const id of ids) cluster.node(id).on('snapshot', ({ index, installed }) => snapshots.get(id)!.push({ index, installed }));
    const leader = await cluster.leader();
    let last = 0;
    for (let i = 1; i <= 10; i++) last = (await cluster.node(leader).propose(reading(`reading-${i}`))).index;
    await cluster.applied(last);
    for (const id of ids) {
      const taken = snapshots.get(id)!;
      expect(taken.length).toBeGreaterThanOrEqual(2);
      expect(taken.every((snapshot) => !snapshot.installed)).toBe(true);
      // Each snapshot comes at least snapshotThreshold entries after the one before it.
      for (let i = 1; i < taken.length; i++) expect(taken[i]!.index - taken[i - 1]!.index).toBeGreaterThanOrEqual(4);
      const storage = cluster.memoryStorage(id);
      const stored = storage.durableState();
      expect(stored.snapshot?.metadata.index).toBe(taken.at(-1)!.index);
      expect(storage.firstIndex).toBe(taken.at(-1)!.index + 1);
      expect(JSON.parse(new TextDecoder().decode(stored.snapshot!.data))).toEqual(cluster.ledger(id).readings.slice(0, JSON.parse(new TextDecoder().decode(stored.snapshot!.data)).length));
    }
    // A node restarted on its storage restores the snapshot, then replays only the entries after it.
    const follower = ids.find((id) => id !== leader)!;
    await cluster.node(follower).stop();
    const ledgerBefore = [...cluster.ledger(follower).readings];
    const restarted = cluster.create(follower, cluster.memoryStorage(follower).crash());
    await restarted.start();
    await cluster.applied(last, [follower]);
    expect(cluster.ledger(follower).restores).toBe(1);
    expect(cluster.ledger(follower).readings).toEqual(ledgerBefore);
  });

  it('brings a node that joins after compaction up to date with an installed snapshot', async () => {
    cluster = new TestCluster(ids, { snapshotThreshold: 3 });
    await cluster.start();
    const leader = await cluster.leader();
    for (let i = 1; i <= 8; i++) await cluster.node(leader).propose(reading(`early-${i}`));
    const installed: number[] = [];
    const joiner = cluster.create('d');
    joiner.on('snapshot', ({ index, installed: fromLeader }) => fromLeader && installed.push(index));
    await joiner.start();
    const config = await cluster.node(leader).changeConfiguration(configuration(['a', 'b', 'c', 'd']));
    expect([...config.incoming.voters.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    const { index } = await cluster.node(leader).propose(reading('late'));
    await cluster.applied(index, ['a', 'b', 'c', 'd']);
    expect(installed.length).toBeGreaterThanOrEqual(1);
    expect(cluster.ledger('d').readings).toEqual([...Array.from({ length: 8 }, (_, i) => `early-${i + 1}`), 'late']);
  });

  it('emits role, leader, commit, apply, commitQuorum and configChange events with their payloads', async () => {
    cluster = new TestCluster(ids);
    for (const id of ids) cluster.create(id);
    const roles = new Map<NodeId, Role[]>(ids.map((id) => [id, []]));
    const leaders = new Map<NodeId, (NodeId | undefined)[]>(ids.map((id) => [id, []]));
    const commits: { index: number; term: number }[] = [];
    const applies: { index: number; result: number }[] = [];
    const quorums: CommitQuorum[] = [];
    const configs: { index: number; voters: string }[] = [];
    for (const id of ids) {
      const node = cluster.node(id);
      node.on('stateChange', ({ to }) => roles.get(id)!.push(to));
      node.on('leaderChange', ({ leader }) => leaders.get(id)!.push(leader));
    }
    await Promise.all(ids.map((id) => cluster!.node(id).start()));
    const leaderId = await cluster.leader();
    const leader = cluster.node(leaderId);
    leader.on('commit', (event) => commits.push(event));
    leader.on('apply', ({ index, result }) => applies.push({ index, result }));
    leader.on('commitQuorum', (event) => quorums.push(event));
    leader.on('configChange', ({ index, config }) => configs.push({ index, voters: JSON.stringify([...config.incoming.voters]) }));

    expect(roles.get(leaderId)!.at(-1)).toBe('leader');
    expect(roles.get(leaderId)).toContain('candidate');
    for (const id of ids) expect(leaders.get(id)!.at(-1)).toBe(leaderId);

    const first = await leader.propose(reading('x'));
    const proposedAt = performance.now();
    const second = await leader.propose(reading('y'));
    const answeredAfter = performance.now() - proposedAt;
    expect(applies).toEqual([
      { index: first.index, result: 1 },
      { index: second.index, result: 2 },
    ]);
    expect(commits.at(-1)).toEqual({ index: second.index, term: second.term });
    const quorum = quorums.find((event) => event.index === second.index)!;
    expect(quorum.term).toBe(second.term);
    expect(quorum.acks[0]!.id).toBe(leaderId);
    expect(quorum.acks).toHaveLength(2);
    for (const ack of quorum.acks) {
      expect(ack.weight).toBe(1);
      expect(Number.isFinite(ack.latencyMs) && ack.latencyMs >= 0).toBe(true);
      // Handed on after the proposal, acknowledged before it was answered.
      expect(ack.latencyMs).toBeLessThanOrEqual(answeredAfter);
    }

    const target = configuration({ a: 2, b: 1, c: 1 });
    const final = await leader.changeConfiguration(target);
    expect(final.incoming.voters.get('a')).toBe(2);
    // C(old,new) then C(new), each reported when appended.
    expect(configs).toHaveLength(2);
    expect(configs[1]!.index).toBeGreaterThan(configs[0]!.index);
    expect(configs[1]!.voters).toBe(JSON.stringify([...target.voters]));
  });

  it('rejects a proposal whose entry a new leader overwrote with ProposalDroppedError', async () => {
    cluster = new TestCluster(ids, { checkQuorum: false });
    await cluster.start();
    const oldLeader = await cluster.leader();
    await cluster.node(oldLeader).propose(reading('committed'));
    cluster.network.isolate(oldLeader);
    const stranded = cluster.node(oldLeader).propose(reading('stranded'), { timeoutMs: 10_000 });
    const others = ids.filter((id) => id !== oldLeader);
    const newLeader = await cluster.leader(others);
    const { index } = await cluster.node(newLeader).propose(reading('winner'));
    cluster.network.heal();
    await expect(stranded).rejects.toBeInstanceOf(ProposalDroppedError);
    // Dropped when the new leader's entries truncated it, not only later when its index applied.
    await expect(stranded).rejects.toThrow(/overwritten by a new leader/);
    await expect(stranded).rejects.toMatchObject({ code: 'PROPOSAL_DROPPED', reason: 'superseded' });
    await cluster.applied(index);
    for (const id of ids) expect(cluster.ledger(id).readings).toEqual(['committed', 'winner']);
  });

  it('reports an invalid message as InvalidMessageError and keeps working', async () => {
    cluster = new TestCluster(ids);
    // The follower's transport hands us the node's message handler, as a buggy or hostile transport could misuse it.
    let deliver: ((message: unknown) => void) | undefined;
    for (const id of ids) {
      const endpoint = cluster.network.transport(id);
      const transport: Transport = id !== 'c' ? endpoint : {
        localId: id,
        start: (handler) => {
          deliver = handler as (message: unknown) => void;
          return endpoint.start(handler);
        },
        send: (message) => endpoint.send(message),
        stop: () => endpoint.stop(),
      };
      cluster.create(id, memoryStorage(), { transport });
    }
    await Promise.all(ids.map((id) => cluster!.node(id).start()));
    const leader = await cluster.leader();
    const errors: Error[] = [];
    cluster.node('c').on('error', (error) => errors.push(error));
    deliver!({ type: 'appendRequest', from: leader, to: 'c', term: 1, prevLogIndex: -3, prevLogTerm: 0, entries: 'not entries', commitIndex: 0 });
    deliver!({ type: 'gossip', from: leader, to: 'c', term: 1 });
    deliver!({ type: 'heartbeat', from: leader, to: 'someone-else', term: 1, commitIndex: 0 });
    deliver!(null);
    expect(errors.map((error) => error.constructor)).toEqual([InvalidMessageError, InvalidMessageError, InvalidMessageError, InvalidMessageError]);
    expect(errors[0]!.message).toMatch(/invalid field prevLogIndex/);
    const { index } = await cluster.node(leader).propose(reading('still fine'));
    await cluster.applied(index);
    expect(cluster.ledger('c').readings).toEqual(['still fine']);
  });

  it('holds a configuration change asked of a brand-new leader until it has committed an entry of its term', async () => {
    cluster = new TestCluster(ids);
    for (const id of ids) cluster.create(id);
    let uncommittedAtElection: boolean | undefined;
    const change = new Promise<unknown>((resolve) => {
      for (const id of ids) {
        const node = cluster!.node(id);
        node.once('stateChange', function onRole({ to }) {
          if (to !== 'leader') return void node.once('stateChange', onRole);
          // The leader's no-op is appended but cannot have committed yet: no follower has acknowledged it.
          uncommittedAtElection = node.status().commitIndex < node.status().lastIndex;
          node.changeConfiguration(configuration(['a', 'b', 'c'], ['observer'])).then(resolve, resolve);
        });
      }
    });
    await Promise.all(ids.map((id) => cluster!.node(id).start()));
    const outcome = await change;
    expect(uncommittedAtElection).toBe(true);
    expect(outcome).not.toBeInstanceOf(Error);
    const config = outcome as ClusterConfig;
    expect(config.outgoing).toBeUndefined();
    expect([...config.incoming.learners]).toEqual(['observer']);
  });

  it('refuses a second configuration change while one is in flight, and transfers only from the leader', async () => {
    cluster = new TestCluster(ids);
    await cluster.start();
    const leaderId = await cluster.leader();
    const leader = cluster.node(leaderId);
    await leader.propose(reading('settled'));
    const first = leader.changeConfiguration(configuration({ a: 2, b: 1, c: 1 }));
    await expect(leader.changeConfiguration(configuration({ a: 1, b: 2, c: 1 }))).rejects.toBeInstanceOf(ConfigurationError);
    expect((await first).incoming.voters.get('a')).toBe(2);

    const follower = ids.find((id) => id !== leaderId)!;
    const notLeader = await cluster.node(follower).transferLeadership(follower).catch((error: unknown) => error);
    expect(notLeader).toBeInstanceOf(NotLeaderError);
    expect((notLeader as NotLeaderError).leader).toBe(leaderId);
    await expect(leader.transferLeadership('stranger')).rejects.toBeInstanceOf(ConfigurationError);
    await leader.transferLeadership(leaderId);
    expect(leader.status().role).toBe('leader');
  });

  it('reports a throwing event listener as an error event and keeps working', async () => {
    cluster = new TestCluster(['solo']);
    await cluster.start();
    await cluster.leader();
    const node = cluster.node('solo');
    const errors: Error[] = [];
    node.on('error', (error) => errors.push(error));
    node.on('apply', ({ index }) => {
      throw new Error(`listener bug at ${index}`);
    });
    const first = await node.propose(reading('one'));
    const second = await node.propose(reading('two'));
    expect([first.result, second.result]).toEqual([1, 2]);
    expect(errors.map((error) => error.message)).toEqual([`listener bug at ${first.index}`, `listener bug at ${second.index}`]);
    expect(node.status().role).toBe('leader');
  });

  it('stops on a storage failure, reports StorageError and rejects pending proposals with StoppedError', async () => {
    cluster = new TestCluster(['solo']);
    const inner = memoryStorage();
    let failing = false;
    const flaky: Storage = {
      load: () => inner.load(),
      save: (batch) => (failing ? Promise.reject(new Error('disk full')) : inner.save(batch)),
      compact: (index) => inner.compact(index),
      close: () => inner.close(),
    };
    await cluster.start(() => flaky);
    await cluster.leader();
    const node = cluster.node('solo');
    expect((await node.propose(reading('ok'))).result).toBe(1);
    const errors: Error[] = [];
    node.on('error', (error) => errors.push(error));
    failing = true;
    const doomed = node.propose(reading('lost'));
    await expect(doomed).rejects.toBeInstanceOf(StoppedError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StorageError);
    expect((errors[0] as StorageError).cause).toEqual(new Error('disk full'));
    await expect(node.propose(reading('after'))).rejects.toBeInstanceOf(StoppedError);
  });

  it('stops when the state machine throws from apply, reporting StateMachineError with the thrown error as its cause', async () => {
    cluster = new TestCluster(['solo']);
    await cluster.start();
    await cluster.leader();
    const node = cluster.node('solo');
    expect((await node.propose(reading('ok'))).result).toBe(1);
    const errors: Error[] = [];
    node.on('error', (error) => errors.push(error));
    const bug = new RangeError('meter id out of range');
    cluster.ledger('solo').apply = () => {
      throw bug;
    };
    const doomed = node.propose(reading('boom'));
    await expect(doomed).rejects.toBeInstanceOf(StoppedError);
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(StateMachineError);
    expect(error).toBeInstanceOf(GreenraftError);
    expect((error as StateMachineError).code).toBe('STATE_MACHINE');
    expect((error as StateMachineError).operation).toBe('apply');
    expect((error as StateMachineError).cause).toBe(bug);
    // Callers see the same typed error as the cause of their StoppedError.
    expect(((await doomed.catch((stopped: unknown) => stopped)) as StoppedError).cause).toBe(error);
    await expect(node.propose(reading('after'))).rejects.toBeInstanceOf(StoppedError);
  });

  it('wraps snapshot and restore failures too, and keeps a GreenraftError the state machine threw as it is', async () => {
    // snapshot: taken after snapshotThreshold applied entries.
    cluster = new TestCluster(['solo'], { snapshotThreshold: 2 });
    await cluster.start();
    await cluster.leader();
    const node = cluster.node('solo');
    const errors: Error[] = [];
    node.on('error', (error) => errors.push(error));
    cluster.ledger('solo').snapshot = () => {
      throw new Error('cannot serialise');
    };
    await node.propose(reading('one')).catch(() => {});
    await node.propose(reading('two')).catch(() => {});
    await eventually(() => errors.length > 0, { what: 'the snapshot failure to be reported' });
    expect(errors[0]).toBeInstanceOf(StateMachineError);
    expect(errors[0]).toMatchObject({ code: 'STATE_MACHINE', operation: 'snapshot', cause: new Error('cannot serialise') });
    await cluster.stop();

    // restore at start: start() rejects with the typed error.
    cluster = new TestCluster(['solo'], { snapshotThreshold: 2 });
    await cluster.start();
    await cluster.leader();
    let last = 0;
    for (let i = 1; i <= 3; i++) last = (await cluster.node('solo').propose(reading(`reading-${i}`))).index;
    await cluster.applied(last);
    await cluster.node('solo').stop();
    const durable = cluster.memoryStorage('solo').crash();
    expect(durable.durableState().snapshot?.metadata.index).toBeGreaterThan(0);
    const restarted = cluster.create('solo', durable);
    const corrupt = new SyntaxError('Unexpected end of JSON input');
    cluster.ledger('solo').restore = () => {
      throw corrupt;
    };
    const failed = (await restarted.start().catch((error: unknown) => error)) as StateMachineError;
    expect(failed).toBeInstanceOf(StateMachineError);
    expect(failed.code).toBe('STATE_MACHINE');
    expect(failed.operation).toBe('restore');
    expect(failed.cause).toBe(corrupt);

    // A typed error of the state machine's own is reported unchanged.
    await cluster.stop();
    cluster = new TestCluster(['solo']);
    await cluster.start();
    await cluster.leader();
    const own = new InvalidArgumentError('reading refused');
    const typedErrors: Error[] = [];
    cluster.node('solo').on('error', (error) => typedErrors.push(error));
    cluster.ledger('solo').apply = () => {
      throw own;
    };
    await expect(cluster.node('solo').propose(reading('x'))).rejects.toBeInstanceOf(StoppedError);
    expect(typedErrors).toEqual([own]);
  });

  it('is an eventemitter3 EventEmitter: once fires once, off removes, a listener context is kept', async () => {
    cluster = new TestCluster(['solo']);
    await cluster.start();
    const node = cluster.node('solo');
    expect(node).toBeInstanceOf(EventEmitter);
    const every: number[] = [];
    const first: number[] = [];
    const owner = { seen: [] as number[] };
    const onCommit = ({ index }: { index: number }) => every.push(index);
    node.on('commit', onCommit);
    node.once('commit', ({ index }) => first.push(index));
    node.on('apply', function (this: typeof owner, { index }) {
      this.seen.push(index);
    }, owner);
    await cluster.leader();
    const { index } = await node.propose(reading('x'));
    expect(node.listeners('commit')).toEqual([onCommit]);
    node.off('commit', onCommit);
    await node.propose(reading('y'));
    expect(first).toEqual([1]);
    expect(every).toEqual([1, index]);
    expect(owner.seen).toEqual([index, index + 1]);
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const network = memoryNetwork();
    const base = { id: 'a', transport: network.transport('a'), storage: memoryStorage(), stateMachine: new ReadingLedger() };
    expect(() => createRaftNode({ ...base, transport: network.transport('b') })).toThrow(InvalidArgumentError);
    expect(() => createRaftNode({ ...base, tickMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => createRaftNode({ ...base, snapshotThreshold: 1.5 })).toThrow(InvalidArgumentError);
    // Core options are checked by the core, at creation.
    expect(() => createRaftNode({ ...base, electionTicks: 3, heartbeatTicks: 3 })).toThrow(InvalidArgumentError);
    expect(() => createRaftNode({ ...base, readOnly: 'lease', checkQuorum: false })).toThrow(InvalidArgumentError);
    expect(() => createRaftNode({ ...base, bootstrap: { voters: new Map([['a', -1]]), learners: new Set() } })).toThrow(ConfigurationError);
    // A misspelt option, as JavaScript or a spread passes it, is named instead of ignored.
    const unknown = (extra: Record<string, unknown>) => () => createRaftNode({ ...base, ...extra });
    expect(unknown({ snapshotTreshold: 10 })).toThrow(InvalidArgumentError);
    expect(unknown({ snapshotTreshold: 10 })).toThrow(/^createRaftNode: unknown option "snapshotTreshold"; known options: id, transport, storage, /);
    expect(unknown({ electionTick: 5 })).toThrow('createRaftNode: unknown option "electionTick"');
    // The core's persisted state and applied index come from storage, never from the options.
    expect(unknown({ state: undefined })).toThrow('createRaftNode: unknown option "state"');
    expect(unknown({ applied: 3 })).toThrow('createRaftNode: unknown option "applied"');
    expect(() => createRaftNode(null as never)).toThrow(InvalidArgumentError);
    // Core options pass through.
    expect(createRaftNode({ ...base, electionTicks: 20, heartbeatTicks: 2, maxInflightMessages: 4, readOnly: 'lease' }).status().role).toBe('follower');
    network.close();

    cluster = new TestCluster(['solo']);
    await cluster.start();
    await cluster.leader();
    const node = cluster.node('solo');
    const before = node.status().lastIndex;
    await expect(node.propose(new Uint8Array(0))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(node.propose('text' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(node.changeConfiguration({ voters: new Map(), learners: new Set() })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(node.propose(reading('x'), { timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(node.status().lastIndex).toBe(before);
    await eventually(() => node.status().appliedIndex === before, { what: 'nothing new applied' });
    expect(cluster.ledger('solo').readings).toEqual([]);
  });

  it('is stopped before start and after stop, and stop is idempotent', async () => {
    cluster = new TestCluster(['solo']);
    const node = cluster.create('solo');
    await expect(node.propose(reading('early'))).rejects.toBeInstanceOf(StoppedError);
    expect(node.status()).toMatchObject({ id: 'solo', role: 'follower', term: 0, appliedIndex: 0 });
    await node.start();
    await node.stop();
    await node.stop();
    await expect(node.start()).rejects.toBeInstanceOf(StoppedError);
  });
});
