import { type Message, configuration } from '@greenraft/consensus';
import { RaftCore } from '@greenraft/raft';
import { describe, expect, it } from 'vitest';
import { KvStore, encodeStateSnapshot } from './kv-store.js';
import { type KvNode, KvWorkload } from './kv-workload.js';
import { rng } from './random.js';

interface TestNode extends KvNode {
  core: RaftCore;
  state: 'up' | 'down' | 'paused';
  appliedIndex: number;
}

/** One real engine, driven as the simulator drives it: persist nothing, apply, serve reads, advance. */
function singleNode(voters: readonly string[] = ['a']): TestNode {
  const core = new RaftCore({ id: 'a', bootstrap: configuration(voters) });
  core.campaign();
  return { id: 'a', position: 0, core, state: 'up', incarnation: 0, appliedIndex: 0, dirty: true };
}

function drive(workload: KvWorkload, node: TestNode): void {
  while (node.core.hasReady()) {
    const rd = node.core.ready();
    for (const entry of rd.committedEntries) {
      node.appliedIndex = entry.index;
      workload.applied(node, entry);
    }
    if (rd.readStates.length > 0) workload.readStates(node, rd.readStates);
    if (rd.droppedReads.length > 0) workload.droppedReads(node, rd.droppedReads);
    workload.serveReads(node);
    node.core.advance(rd);
  }
}

function workloadFor(node: TestNode, init: { clients?: number; historyLimit?: number; seed?: number } = {}) {
  let step = 0;
  const workload = new KvWorkload({
    clients: init.clients ?? 3,
    nodes: 1,
    random: rng(init.seed ?? 7),
    timeoutSteps: 60,
    historyLimit: init.historyLimit ?? 600,
    currentStep: () => step,
    onEngineError: (detail) => {
      throw new Error(detail);
    },
  });
  const run = (steps: number, drives = true) => {
    for (let i = 0; i < steps; i++, step++) {
      workload.runClients(step, [node], () => node);
      if (drives) drive(workload, node);
    }
  };
  return { workload, run };
}

describe('KvWorkload', () => {
  it('completes writes when applied and reads through ReadIndex, and the history is linearizable', () => {
    const node = singleNode();
    const { workload, run } = workloadFor(node);
    run(400);
    expect(workload.proposals).toBeGreaterThan(50);
    expect(workload.acknowledged).toBe(workload.proposals);
    expect(workload.reads).toBeGreaterThan(50);
    const history = workload.history();
    expect(history.length).toBeGreaterThan(150);
    expect(history.filter((op) => op.output === undefined).length).toBeLessThanOrEqual(3); // only the last ones can be open
    expect(history.some((op) => op.input.kind === 'cas' && op.output?.kind === 'cas' && op.output.swapped)).toBe(true);
    expect(workload.check(5000)).toEqual({ verdict: 'ok', operations: history.length });
  });

  it('stops recording at the history limit but keeps the load on an unchecked key', () => {
    const node = singleNode();
    const { workload, run } = workloadFor(node, { historyLimit: 40 });
    run(400);
    expect(workload.history()).toHaveLength(40);
    expect(workload.proposals + workload.reads).toBeGreaterThan(150);
    expect(node.core.commitIndex).toBeGreaterThan(60);
  });

  it('finds a stale read: a node whose store lost its writes serves an impossible value', () => {
    const node = singleNode();
    const { workload, run } = workloadFor(node);
    run(200);
    // The store goes back to empty while the log says otherwise: later reads see "" where a value was read before.
    expect(workload.restored(node, node.appliedIndex, encodeStateSnapshot(0, new KvStore()))).toBe(true);
    run(60);
    const outcome = workload.check(5000);
    expect(outcome.verdict).toBe('illegal');
    expect(outcome.step).toBeGreaterThanOrEqual(200);
    expect(outcome.detail).toMatch(/^the client history of key k\d+\.\d is not linearizable: client \d got get\("k\d+\.\d"\) -> ""/);
  });

  it('leaves writes to a crashed node indefinite and drops its reads', () => {
    const node = singleNode();
    const { workload, run } = workloadFor(node, { clients: 5 });
    run(50);
    run(10, false); // requests go out, the node does not get round to them
    const open = workload.history().filter((op) => op.output === undefined);
    expect(open.length).toBeGreaterThan(0);
    node.state = 'down';
    workload.nodeDown(node);
    const after = workload.history();
    const openAfter = after.filter((op) => op.output === undefined);
    expect(openAfter.every((op) => op.input.kind !== 'get')).toBe(true);
    expect(openAfter.length).toBe(open.filter((op) => op.input.kind !== 'get').length);
    expect(workload.check(5000).verdict).toBe('ok');
  });

  it('discards what a node without a leader refuses: nothing was appended', () => {
    const node = singleNode(['a', 'b', 'c']); // campaigning, never elected: no leader known
    const { workload, run } = workloadFor(node);
    run(200);
    expect(workload.proposals).toBe(0);
    expect(workload.history()).toEqual([]);
  });

  it('rejects snapshot data that is not its state machine', () => {
    const node = singleNode();
    const { workload } = workloadFor(node);
    workload.store(0).apply({ kind: 'put', key: 'x', value: '1' });
    expect(workload.restored(node, 3, new Uint8Array([9]))).toBe(false);
    expect(workload.store(0).get('x')).toBe('1');
    // No snapshot at all (a node restarting from an empty disk): an empty store.
    expect(workload.restored(node, 0, undefined)).toBe(true);
    expect(workload.store(0).entries()).toEqual([]);
  });
});

/**
 * Three real engines on a lossless in-order network, driven step by step as the simulator drives
 * them, with a say over which messages are lost. Clients read from every member, so most reads are
 * follower reads through the leader.
 */
function threeNodes(timeoutSteps: number) {
  const ids = ['a', 'b', 'c'];
  const nodes: TestNode[] = ids.map((id, position) => ({
    id,
    position,
    core: new RaftCore({ id, bootstrap: configuration(ids), seed: position + 1 }),
    state: 'up',
    incarnation: 0,
    appliedIndex: 0,
    dirty: true,
  }));
  let step = 0;
  const workload = new KvWorkload({
    clients: 3,
    nodes: 3,
    random: rng(11),
    timeoutSteps,
    historyLimit: 2000,
    currentStep: () => step,
    onEngineError: (detail) => {
      throw new Error(detail);
    },
  });
  const harness = {
    workload,
    nodes,
    /** Messages for which it returns true are lost. */
    lose: (_message: Message): boolean => false,
    run(steps: number): void {
      for (let i = 0; i < steps; i++, step++) {
        for (const node of nodes) node.core.tick();
        workload.runClients(step, nodes, (id) => nodes.find((node) => node.id === id));
        for (let round = 0; round < 50; round++) {
          const outbox: Message[] = [];
          for (const node of nodes) {
            while (node.core.hasReady()) {
              const rd = node.core.ready();
              outbox.push(...rd.messages);
              for (const entry of rd.committedEntries) {
                node.appliedIndex = entry.index;
                workload.applied(node, entry);
              }
              if (rd.readStates.length > 0) workload.readStates(node, rd.readStates);
              if (rd.droppedReads.length > 0) workload.droppedReads(node, rd.droppedReads);
              workload.serveReads(node);
              node.core.advance(rd);
            }
          }
          if (outbox.length === 0) break;
          for (const message of outbox) if (!harness.lose(message)) nodes.find((node) => node.id === message.to)!.core.step(message);
        }
      }
    },
  };
  return harness;
}

describe('KvWorkload: reads the engine drops', () => {
  it('fails a dropped read at once: the client moves on, and the read is no observation in the history', () => {
    const node = singleNode();
    const { workload, run } = workloadFor(node, { clients: 6 });
    const contexts: string[] = [];
    const readIndex = node.core.readIndex.bind(node.core);
    node.core.readIndex = (context: string) => {
      contexts.push(context);
      readIndex(context);
    };
    run(100);
    // Reads go out, and before the node serves them its store loses every write: serving them now would be stale.
    const issued = contexts.length;
    for (let i = 0; i < 20 && contexts.length === issued; i++) run(1, false);
    const pending = contexts.slice(issued);
    expect(pending.length).toBeGreaterThan(0);
    const openBefore = workload.history().filter((op) => op.output === undefined && op.input.kind === 'get').length;
    expect(openBefore).toBe(pending.length);
    expect(workload.restored(node, node.appliedIndex, encodeStateSnapshot(0, new KvStore()))).toBe(true);
    const failedBefore = workload.failedReads;
    workload.droppedReads(node, pending);
    expect(workload.failedReads - failedBefore).toBe(pending.length);
    // Left out of the history (a failed read observed nothing), and not left open either.
    expect(workload.history().filter((op) => op.output === undefined && op.input.kind === 'get')).toEqual([]);
    expect(workload.check(5000).verdict).toBe('ok');
    // A context of no pending read, or a read already ended, changes nothing.
    const operations = workload.history().length;
    workload.droppedReads(node, [...pending, 'r-unknown']);
    expect(workload.failedReads - failedBefore).toBe(pending.length);
    expect(workload.history()).toHaveLength(operations);
  });

  it('follower reads whose answers are lost end within an election timeout, not at the client timeout, and the history stays linearizable', () => {
    // The client timeout is far beyond the run: only the engine's dropped reads can free a client.
    const cluster = threeNodes(100_000);
    cluster.run(60);
    const leader = cluster.nodes.find((node) => node.core.role === 'leader');
    expect(leader).toBeDefined();
    // The leader's answers to follower reads are lost for a while.
    cluster.lose = (message) => message.type === 'readIndexResponse';
    cluster.run(120);
    expect(cluster.workload.failedReads).toBeGreaterThan(0);
    cluster.lose = () => false;
    const readsBefore = cluster.workload.reads;
    const acknowledgedBefore = cluster.workload.acknowledged;
    cluster.run(300);
    expect(cluster.workload.reads - readsBefore).toBeGreaterThan(30);
    expect(cluster.workload.acknowledged - acknowledgedBefore).toBeGreaterThan(30);
    const history = cluster.workload.history();
    expect(history.filter((op) => op.output === undefined).length).toBeLessThanOrEqual(3);
    expect(cluster.workload.check(10_000)).toEqual({ verdict: 'ok', operations: history.length });
  });
});
