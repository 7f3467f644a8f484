import { InvalidArgumentError } from '@greenraft/consensus';
import { participationAfterCommit } from '@greenraft/weight-scoring';
import { describe, expect, it } from 'vitest';
import { participationTracker } from './participation.js';

describe('participationTracker (eq. 19)', () => {
  it('credits the replies that formed each quorum with ω·(k + 1)/k, not the leader', () => {
    const tracker = participationTracker();
    tracker.record({ acks: [{ id: 'a' }, { id: 'c' }] });
    tracker.record({ acks: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] });
    const report = tracker.participation();
    // round 1: c += 2; round 2: b += 1.5, c += 1.5
    expect(report.get('c')!.score).toBeCloseTo(3.5);
    expect(report.get('b')!.score).toBeCloseTo(1.5);
    expect(report.get('a')!.score).toBe(0);
    expect(tracker.rounds).toBe(2);
  });

  it('agrees with participationAfterCommit round by round', () => {
    const quorums = [['a', 'b'], ['a', 'c', 'b'], ['a', 'b'], ['a', 'd', 'c']].map((ids) => ({ acks: ids.map((id) => ({ id })) }));
    const tracker = participationTracker({ participationStep: 2 });
    let expected = new Map<string, number>();
    quorums.forEach((quorum, position) => {
      tracker.record(quorum);
      expected = participationAfterCommit(expected, quorum, position + 1, { participationStep: 2 });
    });
    const report = tracker.participation();
    for (const [id, score] of expected) expect(report.get(id)!.score).toBeCloseTo(score);
  });

  it('counts quorum acknowledgements, completions and arrival positions', () => {
    const tracker = participationTracker();
    tracker.record({ acks: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] });
    tracker.record({ acks: [{ id: 'a' }, { id: 'c' }, { id: 'b' }] });
    tracker.record({ acks: [{ id: 'a' }, { id: 'b' }, { id: 'd' }] });
    const report = tracker.participation();
    expect(report.get('b')).toMatchObject({ quorumAcks: 3, completedQuorums: 1, meanPosition: (2 + 3 + 2) / 3 });
    expect(report.get('c')).toMatchObject({ quorumAcks: 2, completedQuorums: 1, meanPosition: 2.5 });
    expect(report.get('d')).toMatchObject({ quorumAcks: 1, completedQuorums: 1, meanPosition: 3 });
    expect(report.get('a')).toMatchObject({ quorumAcks: 3, completedQuorums: 0, meanPosition: 1 });
  });

  it('smooths acknowledgement latency and leaves unmeasured nodes without one', () => {
    const tracker = participationTracker({ latencySmoothing: 0.5 });
    tracker.record({ acks: [{ id: 'a', latencyMs: 0 }, { id: 'b', latencyMs: 10 }] });
    tracker.record({ acks: [{ id: 'a', latencyMs: 0 }, { id: 'b', latencyMs: 20 }] });
    tracker.record({ acks: [{ id: 'a', latencyMs: 0 }, { id: 'c' }] });
    const report = tracker.participation();
    expect(report.get('b')!.latencyMs).toBe(15);
    expect(report.get('a')!.latencyMs).toBe(0);
    expect(report.get('c')!.latencyMs).toBeUndefined();
  });

  it('rejects an empty quorum and bad options, and forgets everything on reset', () => {
    expect(() => participationTracker({ latencySmoothing: 0 })).toThrow(InvalidArgumentError);
    expect(() => participationTracker({ participationStep: -1 })).toThrow(InvalidArgumentError);
    expect(() => participationTracker({ step: 2 } as never)).toThrow('participationTracker: unknown option "step"; known options: participationStep, includeLeader, latencySmoothing');
    const tracker = participationTracker();
    expect(() => tracker.record({ acks: [] })).toThrow(InvalidArgumentError);
    expect(tracker.rounds).toBe(0);
    tracker.record({ acks: [{ id: 'a' }, { id: 'b' }] });
    tracker.reset();
    expect(tracker.rounds).toBe(0);
    expect(tracker.participation().size).toBe(0);
  });
});
