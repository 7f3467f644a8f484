import { describe, expect, it } from 'vitest';
import type { CoreCommitQuorum } from '../core/api.js';
import { AckClock } from './ack-clock.js';

const quorum = (index: number, term: number, acks: [id: string, step: number][]): CoreCommitQuorum => ({
  index,
  term,
  proposedTick: 0,
  acks: acks.map(([id, step]) => ({ id, weight: 1, tick: 0, step })),
});

describe('AckClock', () => {
  it('measures from the hand-off of the write holding the index: own ack to durable, followers to the response the core counted', () => {
    const clock = new AckClock();
    clock.written(2, 1, 4, 100, 103.5);
    clock.written(2, 5, 6, 110, 112);
    clock.acked(2, 'b', 7, 6, 111.25);
    // A duplicate answer for the same index, later: not the one the core counted (step 7).
    clock.acked(2, 'b', 9, 6, 140);
    clock.acked(2, 'c', 8, 6, 131);
    expect(clock.latencies(quorum(5, 2, [['a', 0], ['b', 7], ['c', 8]]), 'a', 500)).toEqual([
      { id: 'a', weight: 1, latencyMs: 2 },
      { id: 'b', weight: 1, latencyMs: 1.25 },
      { id: 'c', weight: 1, latencyMs: 21 },
    ]);
  });

  it('forgets what a report passed, so memory is bounded by what is not committed', () => {
    const clock = new AckClock();
    for (let index = 1; index <= 1000; index++) {
      clock.written(3, index, index, index, index + 0.5);
      clock.acked(3, 'b', 2 * index, index, index + 1);
      clock.acked(3, 'c', 2 * index + 1, index, index + 2);
      clock.passed(index - 1);
      expect(clock.size).toBe(3);
    }
    clock.passed(1000);
    expect(clock.size).toBe(0);
  });

  it('keeps a late, smaller acknowledgement only until the larger one before it is passed', () => {
    const clock = new AckClock();
    clock.acked(1, 'b', 1, 5, 10);
    clock.acked(1, 'b', 2, 3, 11);
    clock.passed(4);
    expect(clock.size).toBe(2);
    clock.passed(5);
    expect(clock.size).toBe(0);
  });

  it('starts afresh in a new term and never reports a negative figure, nor one with nothing to measure from', () => {
    const clock = new AckClock();
    clock.written(1, 1, 2, 50, 51);
    clock.acked(1, 'b', 3, 2, 52);
    clock.written(2, 3, 3, 60, 61);
    expect(clock.size).toBe(1);
    // b's step-3 answer belonged to term 1: unknown now, so the report's time stands in for it.
    expect(clock.latencies(quorum(3, 2, [['a', 0], ['b', 3]]), 'a', 75)!.map((ack) => ack.latencyMs)).toEqual([1, 15]);
    // A clock that went back gives 0, not a negative figure.
    clock.acked(2, 'c', 4, 3, 59);
    expect(clock.latencies(quorum(3, 2, [['c', 4]]), 'a', 75)![0]!.latencyMs).toBe(0);
    // Index 2 was written before the first write this clock holds in term 2: no report, rather than a made-up one.
    expect(clock.latencies(quorum(2, 2, [['a', 0]]), 'a', 75)).toBeUndefined();
    clock.clear();
    expect(clock.size).toBe(0);
    expect(clock.latencies(quorum(9, 2, [['a', 0]]), 'a', 80)).toBeUndefined();
  });
});
