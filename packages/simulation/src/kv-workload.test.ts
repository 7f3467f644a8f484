import { configuration } from '@greenraft/consensus';
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
