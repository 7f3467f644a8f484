/**
 * The driver's path from propose to apply, which every commit takes: the leader's appends leave
 * before its own write (Raft thesis §10.2.1) yet nothing is answered before a quorum, the leader
 * included, holds the entry durably; a hard state that only moved the commit index is not written
 * on its own; state machines that answer synchronously are applied without a turn of the event
 * loop per entry, asynchronous ones still in order; operations with the default deadline share
 * one timer.
 */
import { StateMachineError, StoppedError, TimeoutError, configuration } from '@greenraft/consensus';
import type { ApplyInput, NodeId, StateMachine, StorageBatch } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryNetwork } from '@greenraft/transport-memory';
import { memoryStorage } from '../storage/index.js';
import type { MemoryStorage } from '../storage/index.js';
import { DeadlineQueue, PendingOperation } from './operations.js';
import { type RaftNode, createRaftNode } from './raft-node.js';
import { TestCluster, reading } from './test-cluster.js';

const ids = ['a', 'b', 'c'];
let cluster: TestCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

/** A memory storage whose saves wait at a gate while it is closed (a slow disk held still). */
function gatedDisk(): { storage: MemoryStorage; close(): void; open(): void; saves: StorageBatch[] } {
  const storage = memoryStorage();
  const save = storage.save.bind(storage);
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => {};
  const saves: StorageBatch[] = [];
  storage.save = (batch: StorageBatch) => {
    saves.push(batch);
    return gate.then(() => save(batch));
  };
  return {
    storage,
    saves,
    close: () => {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

const durablyHolds = (storage: MemoryStorage, index: number) => storage.durableState().entries.some((entry) => entry.index === index);

describe('the leader writes in parallel with its followers', () => {
  it('sends its appends before its own write, and answers only once it holds the entry too', async () => {
    cluster = new TestCluster(ids);
    const disks = new Map(ids.map((id) => [id, gatedDisk()]));
    await cluster.start((id) => disks.get(id)!.storage);
    const leader = await cluster.leader();
    await cluster.node(leader).propose(reading('warm-up'));
    const followers = ids.filter((id) => id !== leader);

    disks.get(leader)!.close();
    let answered = false;
    const proposal = cluster.node(leader).propose(reading('meter-7: 12.5 kWh'));
    void proposal.then(() => (answered = true));
    const index = cluster.node(leader).status().lastIndex;
    // Both followers write the entry while the leader's own write is held.
    await eventually(() => followers.every((id) => durablyHolds(cluster!.memoryStorage(id), index)), { what: 'the followers to hold the entry' });
    expect(durablyHolds(cluster.memoryStorage(leader), index)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // A quorum of followers holds it, but the leader does not act on a commit it cannot vouch for.
    expect(answered).toBe(false);
    expect(cluster.node(leader).status().appliedIndex).toBeLessThan(index);
    disks.get(leader)!.open();
    const { index: committed } = await proposal;
    expect(committed).toBe(index);
    expect(durablyHolds(cluster.memoryStorage(leader), index)).toBe(true);
  });

  it('announces no commit before its own write when its own weight is a quorum', async () => {
    // One voter and a learner: the leader commits on append, so its appends carry that commit.
    const network = memoryNetwork();
    const disks = new Map(['a', 'l'].map((id) => [id, gatedDisk()]));
    const nodes = ['a', 'l'].map((id) =>
      createRaftNode({ id, transport: network.transport(id), storage: disks.get(id)!.storage, stateMachine: new AsyncLedger(), bootstrap: configuration(['a'], ['l']), tickMs: 5 }),
    );
    const [leader, learner] = nodes as [RaftNode<string>, RaftNode<string>];
    try {
      await Promise.all(nodes.map((node) => node.start()));
      await eventually(() => leader.status().role === 'leader', { what: 'a leader' });
      await leader.propose(reading('warm-up'));
      const early: string[] = [];
      network.on('send', ({ message }) => {
        if ((message.type === 'appendRequest' || message.type === 'heartbeat') && !durablyHolds(disks.get('a')!.storage, message.commitIndex)) {
          early.push(`${message.type} announcing commit ${message.commitIndex}`);
        }
      });
      disks.get('a')!.close();
      const proposal = leader.propose(reading('meter-7: 12.5 kWh'));
      const index = leader.status().lastIndex;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(early).toEqual([]);
      expect(learner.status().commitIndex).toBeLessThan(index);
      disks.get('a')!.open();
      expect((await proposal).index).toBe(index);
      await eventually(() => learner.status().appliedIndex >= index, { what: 'the learner to apply the entry' });
      expect(early).toEqual([]);
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
      network.close();
    }
  });

  it('still writes a new term and vote before asking for, or granting, a vote', async () => {
    cluster = new TestCluster(ids);
    const disks = new Map(ids.map((id) => [id, gatedDisk()]));
    await cluster.start((id) => disks.get(id)!.storage);
    const leader = await cluster.leader();
    const candidate = ids.find((id) => id !== leader)!;
    // Hold the candidate's disk, then make it campaign: its vote requests must wait for the write.
    disks.get(candidate)!.close();
    const sent: string[] = [];
    cluster.network.on('send', ({ message }) => {
      if (message.from === candidate && message.type === 'voteRequest' && !message.preVote) sent.push(message.type);
    });
    await cluster.node(leader).transferLeadership(candidate, { timeoutMs: 300 }).catch(() => undefined);
    expect(sent).toEqual([]);
    disks.get(candidate)!.open();
    await eventually(() => sent.length > 0, { what: 'the vote requests after the write' });
  });
});

describe('the commit index', () => {
  it('is not written on its own: it goes with the next batch that must be written', async () => {
    cluster = new TestCluster(ids);
    const disks = new Map(ids.map((id) => [id, gatedDisk()]));
    await cluster.start((id) => disks.get(id)!.storage);
    const leader = await cluster.leader();
    for (let i = 1; i <= 10; i++) await cluster.node(leader).propose(reading(`meter-${i}`));
    await cluster.applied(cluster.node(leader).status().commitIndex);
    for (const id of ids) {
      const saves = disks.get(id)!.saves;
      let term = 0;
      let vote: NodeId | undefined;
      for (const batch of saves) {
        const alone = batch.entries === undefined && batch.snapshot === undefined;
        // A batch of a hard state alone changes the term or the vote, never only the commit index.
        if (alone) expect(batch.hardState!.term !== term || batch.hardState!.vote !== vote, `${id}: ${JSON.stringify(batch.hardState)}`).toBe(true);
        if (batch.hardState !== undefined) ({ term, vote } = batch.hardState);
      }
      // The commit index still reaches the disk, with later entries.
      expect(cluster.memoryStorage(id).durableState().hardState.commit).toBeGreaterThan(1);
    }
  });
});

class AsyncLedger implements StateMachine<string> {
  readonly applied: string[] = [];
  async apply({ data }: ApplyInput): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    const text = new TextDecoder().decode(data);
    this.applied.push(text);
    return `applied ${text}`;
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.applied));
  }
  restore(): void {}
}

/** Nodes of `ids` on one memory network, each with its own state machine. */
async function machines<Result>(nodeIds: readonly NodeId[], stateMachine: (id: NodeId) => StateMachine<Result>) {
  const network = memoryNetwork();
  const nodes = nodeIds.map((id) =>
    createRaftNode<Result>({ id, transport: network.transport(id), storage: memoryStorage(), stateMachine: stateMachine(id), bootstrap: configuration(nodeIds), tickMs: 5 }),
  );
  await Promise.all(nodes.map((node) => node.start()));
  let leader: RaftNode<Result> | undefined;
  await eventually(() => (leader = nodes.find((node) => node.status().role === 'leader')) !== undefined && nodes.every((node) => node.status().leader === leader!.id), {
    what: 'a leader',
  });
  return {
    nodes,
    leader: leader!,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      network.close();
    },
  };
}

describe('state machines', () => {
  it('that answer with promises are applied in order, each result to its proposer', async () => {
    const ledgers = new Map(ids.map((id) => [id, new AsyncLedger()]));
    const running = await machines(ids, (id) => ledgers.get(id)!);
    try {
      const texts = Array.from({ length: 20 }, (_, i) => `meter-${i}`);
      const results = await Promise.all(texts.map((text) => running.leader.propose(reading(text))));
      expect(results.map(({ result }) => result)).toEqual(texts.map((text) => `applied ${text}`));
      // A read after them sees them all, on a follower too.
      const follower = running.nodes.find((node) => node !== running.leader)!;
      await follower.readBarrier();
      expect(ledgers.get(follower.id)!.applied).toEqual(texts);
      expect(ledgers.get(running.leader.id)!.applied).toEqual(texts);
    } finally {
      await running.stop();
    }
  });

  for (const how of ['throws', 'rejects'] as const) {
    it(`that ${how} stop the node with a StateMachineError, and its proposers with StoppedError`, async () => {
      const failing: StateMachine<number> = {
        apply: ({ index }) => {
          if (how === 'throws') throw new Error(`disk full at ${index}`);
          return Promise.reject(new Error(`disk full at ${index}`));
        },
        snapshot: () => new Uint8Array(),
        restore: () => {},
      };
      const running = await machines(['solo'], () => failing);
      try {
        const errors: unknown[] = [];
        running.leader.on('error', (error) => errors.push(error));
        const failure = await running.leader.propose(reading('meter-1')).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(StoppedError);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toBeInstanceOf(StateMachineError);
        expect((errors[0] as StateMachineError).operation).toBe('apply');
        expect(((errors[0] as StateMachineError).cause as Error).message).toMatch(/^disk full at \d+$/);
      } finally {
        await running.stop();
      }
    });
  }
});

describe('deadlines', () => {
  it('time proposals out at the node\u2019s default deadline, on one shared timer', async () => {
    cluster = new TestCluster(ids, { proposalTimeoutMs: 150 });
    await cluster.start();
    const leader = await cluster.leader();
    // Cut the leader off: nothing more commits.
    cluster.network.isolate(leader);
    const started = performance.now();
    // A caller's own deadline still applies, with a timer of its own.
    const own = cluster.node(leader).propose(reading('meter-0'), { timeoutMs: 20 }).catch((error: unknown) => error);
    const failures = await Promise.all([1, 2, 3].map((i) => cluster!.node(leader).propose(reading(`meter-${i}`)).catch((error: unknown) => error)));
    const waited = performance.now() - started;
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(TimeoutError);
      expect((failure as Error).message).toMatch(/^the proposal at index \d+ timed out after 150 ms; its outcome is unknown$/);
    }
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(((await own) as Error).message).toMatch(/^the proposal at index \d+ timed out after 20 ms/);
  });
});

describe('DeadlineQueue', () => {
  it('expires operations in order, drops settled ones as they settle, and stops with clear()', async () => {
    const queue = new DeadlineQueue(40);
    const operations = Array.from({ length: 5 }, (_, i) => new PendingOperation<number>(`operation ${i}`, {}, 40, queue));
    const outcomes = operations.map((operation) => operation.promise.then(
      (value) => `resolved ${value}`,
      (error: Error) => error.message,
    ));
    expect(queue.size).toBe(5);
    operations[0]!.resolve(0);
    operations[1]!.resolve(1);
    // The settled head is dropped at once; the middle waits for its turn at the head.
    expect(queue.size).toBe(3);
    operations[3]!.resolve(3);
    expect(queue.size).toBe(3);
    expect(await Promise.all(outcomes)).toEqual([
      'resolved 0',
      'resolved 1',
      'operation 2 timed out after 40 ms; its outcome is unknown',
      'resolved 3',
      'operation 4 timed out after 40 ms; its outcome is unknown',
    ]);
    expect(queue.size).toBe(0);
    // An operation with another timeout keeps a timer of its own.
    const other = new PendingOperation<number>(() => 'the other', {}, 10, queue);
    expect(queue.size).toBe(0);
    await expect(other.promise).rejects.toThrow('the other timed out after 10 ms; its outcome is unknown');
    const late = new PendingOperation<number>('late', {}, 40, queue);
    queue.clear();
    expect(queue.size).toBe(0);
    late.resolve(7);
    expect(await late.promise).toBe(7);
  });
});
