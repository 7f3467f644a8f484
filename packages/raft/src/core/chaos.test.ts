/**
 * Randomised, seeded runs of five cores through partitions, message loss, crashes, restarts,
 * compaction, weight changes and transfers, checking Raft's safety properties after every step.
 * (The simulator package runs this at scale; this is the core's own smoke alarm.)
 */
import { configuration, type Message, type NodeId } from '@greenraft/consensus';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classic } from './helpers.test-utils.js';
import { RaftCore } from './raft-core.js';
import { seededRandom } from '@greenraft/consensus';
import { type CoreNetwork, coreNetwork, utf8 } from '../testing.js';

const ids = ['1', '2', '3', '4', '5'];

function checkSafety(net: CoreNetwork, leaders: Map<number, NodeId>): void {
  for (const id of net.ids) {
    const core = net.core(id);
    if (core.role !== 'leader') continue;
    // Election Safety: at most one leader per term.
    const known = leaders.get(core.term);
    if (known !== undefined) expect(known, `two leaders in term ${core.term}`).toBe(id);
    leaders.set(core.term, id);
  }
  // State Machine Safety: every node applied a prefix of the same sequence.
  const applied = net.ids.map((id) => net.record(id).applied);
  const longest = applied.reduce((a, b) => (b.length > a.length ? b : a));
  for (const sequence of applied) expect(sequence).toEqual(longest.slice(0, sequence.length));
}

function run(seed: number, steps: number): { leaders: number; applied: number } {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const net = coreNetwork({ bootstrap: classic(ids), options: { snapshotChunkBytes: 32 } });
  const leaders = new Map<number, NodeId>();
  const down = new Set<NodeId>();
  let lossRate = 0;
  net.drop(() => random() < lossRate);
  let proposals = 0;
  for (let step = 0; step < steps; step++) {
    const roll = random();
    const leader = net.ids.find((id) => !down.has(id) && net.core(id).role === 'leader');
    if (roll < 0.5) {
      for (const id of net.ids) if (!down.has(id)) net.tick(id);
    } else if (roll < 0.75 && leader !== undefined) {
      try {
        net.core(leader).propose(utf8(`p${proposals++}`));
      } catch {
        // NotLeader / ProposalDropped are expected mid-transfer or while leaving.
      }
    } else if (roll < 0.8) {
      const cut = ids.filter(() => random() < 0.4);
      net.heal();
      net.drop(() => random() < lossRate);
      if (cut.length > 0) net.partition(cut, ids.filter((id) => !cut.includes(id)));
    } else if (roll < 0.84) {
      net.heal();
      lossRate = pick([0, 0, 0.1, 0.3]);
      net.drop(() => random() < lossRate);
    } else if (roll < 0.87) {
      const id = pick(ids);
      if (down.has(id)) {
        net.restart(id);
        down.delete(id);
      } else if (down.size < 2) {
        net.crash(id);
        down.add(id);
      }
    } else if (roll < 0.9) {
      const id = pick(ids.filter((i) => !down.has(i)));
      if (net.record(id).appliedIndex > net.core(id).firstIndex + 3) net.compact(id);
    } else if (roll < 0.92 && leader !== undefined) {
      const weights = new Map(ids.map((id) => [id, 1 + Math.floor(random() * 3)] as const));
      try {
        net.core(leader).proposeConfigChange(configuration(weights));
      } catch {
        // A change in flight or an own-term entry not yet committed: refused, nothing changed.
      }
    } else if (roll < 0.94 && leader !== undefined) {
      try {
        net.core(leader).transferLeadership(pick(ids));
      } catch {
        // Not a voter: refused.
      }
    }
    net.stabilize();
    checkSafety(net, leaders);
  }
  // Heal everything and let the cluster converge: every live node applies the same entries.
  net.heal();
  for (const id of [...down]) net.restart(id);
  for (let i = 0; i < 100; i++) {
    for (const id of net.ids) net.tick(id);
    net.stabilize();
  }
  checkSafety(net, leaders);
  const lengths = net.ids.map((id) => net.record(id).applied.length);
  expect(new Set(lengths).size, `seed ${seed} did not converge: ${lengths.join(',')}`).toBe(1);
  return { leaders: leaders.size, applied: lengths[0]! };
}

describe('randomised safety runs', () => {
  it.each(Array.from({ length: 24 }, (_, i) => i + 1))('seed %i keeps Election Safety and State Machine Safety, and converges', (seed) => {
    const outcome = run(seed, 300);
    expect(outcome.leaders).toBeGreaterThan(0);
    expect(outcome.applied).toBeGreaterThan(0);
  });
});

describe('step never throws', () => {
  const message: fc.Arbitrary<Message> = fc.oneof(
    fc.record({ type: fc.constant('voteRequest' as const), preVote: fc.boolean(), lastLogIndex: fc.nat(20), lastLogTerm: fc.nat(5), transfer: fc.boolean() }),
    fc.record({ type: fc.constant('voteResponse' as const), preVote: fc.boolean(), granted: fc.boolean() }),
    fc.record({
      type: fc.constant('appendRequest' as const),
      prevLogIndex: fc.nat(6),
      prevLogTerm: fc.nat(4),
      commitIndex: fc.nat(8),
      entries: fc.array(fc.nat(4), { maxLength: 3 }),
    }).map(({ entries, ...rest }) => ({
      ...rest,
      // Entries follow prevLogIndex with non-decreasing terms, as any leader's would.
      entries: entries.sort().map((t, i) => ({ type: 'normal' as const, term: Math.max(t, rest.prevLogTerm), index: rest.prevLogIndex + 1 + i, data: new Uint8Array([i]) })),
      commitIndex: Math.min(rest.commitIndex, rest.prevLogIndex + entries.length),
    })),
    fc.record({ type: fc.constant('appendResponse' as const), success: fc.boolean(), index: fc.nat(10), hintIndex: fc.nat(10), hintTerm: fc.nat(5) }),
    fc.record({ type: fc.constant('heartbeat' as const), commitIndex: fc.nat(3), context: fc.option(fc.string(), { nil: undefined }) }),
    fc.record({ type: fc.constant('heartbeatResponse' as const), context: fc.option(fc.constantFrom('1.1', '2.1', 'x'), { nil: undefined }) }),
    fc.record({ type: fc.constant('snapshotResponse' as const), index: fc.nat(10), offset: fc.integer({ min: -1, max: 64 }), done: fc.boolean() }),
    fc.record({ type: fc.constant('timeoutNow' as const) }),
    fc.record({ type: fc.constant('readIndexRequest' as const), context: fc.string() }),
    fc.record({ type: fc.constant('readIndexResponse' as const), context: fc.string(), index: fc.integer({ min: -1, max: 10 }) }),
  ).chain((body) =>
    fc.record({ from: fc.constantFrom('2', '3', 'stranger'), term: fc.nat(4) }).map((head) => ({ ...head, to: '1', ...body }) as unknown as Message),
  );

  it('on any well-typed message from any term or sender (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(message, fc.constant('tick' as const)), { maxLength: 40 }), fc.boolean(), (inputs, startAsLeader) => {
        const core = new RaftCore({ id: '1', bootstrap: classic(), preVote: false });
        if (startAsLeader) {
          core.campaign();
          core.step({ type: 'voteResponse', from: '2', to: '1', term: 1, preVote: false, granted: true });
        }
        for (const input of inputs) {
          if (input === 'tick') core.tick();
          else core.step(input);
          if (core.hasReady()) core.advance(core.ready());
          expect(core.commitIndex).toBeLessThanOrEqual(core.lastIndex);
        }
      }),
      { numRuns: 300 },
    );
  });
});
