import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { weightEpochScheduler } from './epoch-scheduler.js';

describe('weightEpochScheduler: what a commit round is', () => {
  it('counts a commit quorum as a round only when it committed a client entry not counted before', () => {
    const schedule = weightEpochScheduler({ epoch: 5 });
    schedule.leadership('a@1');
    expect(schedule.quorum(1)).toBe(false); // the leader's no-op
    schedule.committed(2);
    schedule.committed(3);
    expect(schedule.quorum(3)).toBe(true); // one quorum, two entries: one round
    expect(schedule.quorum(4)).toBe(false); // a configuration entry
    schedule.committed(5);
    expect(schedule.quorum(5)).toBe(true);
    expect(schedule.rounds).toBe(2);
    expect(schedule.roundsSinceEpoch).toBe(2);
  });

  it('counts an entry reported after its quorum at the next quorum, once', () => {
    const schedule = weightEpochScheduler();
    schedule.leadership('a@1');
    // A quorum reported before the entry it committed: the entry is counted by the next quorum.
    expect(schedule.quorum(2)).toBe(false);
    schedule.committed(2);
    schedule.committed(3);
    expect(schedule.quorum(3)).toBe(true);
    // An entry already below a counted quorum is counted by the next quorum, once.
    schedule.committed(4);
    expect(schedule.quorum(4)).toBe(true);
    expect(schedule.quorum(4)).toBe(false);
    expect(schedule.rounds).toBe(2);
  });

  it('leaves out entries above the quorum: they belong to a later round', () => {
    const schedule = weightEpochScheduler();
    schedule.leadership('a@1');
    schedule.committed(2);
    schedule.committed(3);
    expect(schedule.quorum(2)).toBe(true);
    expect(schedule.quorum(3)).toBe(true);
    expect(schedule.rounds).toBe(2);
  });
});

describe('weightEpochScheduler: when an epoch is due', () => {
  it('falls due every `epoch` rounds and stays due until it ran', () => {
    const schedule = weightEpochScheduler({ epoch: 2 });
    schedule.leadership('a@1');
    const round = (index: number) => {
      schedule.committed(index);
      return schedule.quorum(index);
    };
    round(2);
    expect(schedule.due).toBe(false);
    round(3);
    expect(schedule.due).toBe(true);
    // Skipped (a change in flight): still due at the next round, not two rounds later.
    round(4);
    expect(schedule.due).toBe(true);
    schedule.ran();
    expect(schedule.due).toBe(false);
    expect(schedule.roundsSinceEpoch).toBe(0);
    round(5);
    round(6);
    expect(schedule.due).toBe(true);
    expect(schedule.rounds).toBe(5);
  });

  it('never falls due with epoch 0 (weights on demand only)', () => {
    const schedule = weightEpochScheduler({ epoch: 0 });
    schedule.leadership('a@1');
    for (let index = 2; index < 50; index++) {
      schedule.committed(index);
      schedule.quorum(index);
    }
    expect(schedule.rounds).toBe(48);
    expect(schedule.due).toBe(false);
  });

  it('defaults to an epoch after every round, as the paper updates weights after each round', () => {
    const schedule = weightEpochScheduler();
    expect(schedule.epoch).toBe(1);
    schedule.leadership('a@1');
    schedule.committed(2);
    schedule.quorum(2);
    expect(schedule.due).toBe(true);
  });
});

describe('weightEpochScheduler: leadership', () => {
  it('counts only while leading, and starts afresh with every new leadership', () => {
    const schedule = weightEpochScheduler({ epoch: 3 });
    schedule.committed(1);
    expect(schedule.quorum(1)).toBe(false); // not leading
    schedule.leadership('a@1');
    schedule.committed(2);
    schedule.quorum(2);
    schedule.committed(3);
    schedule.leadership('a@1'); // the same leadership again: nothing changes
    expect(schedule.quorum(3)).toBe(true);
    expect(schedule.rounds).toBe(2);
    schedule.leadership(undefined);
    schedule.committed(4);
    expect(schedule.quorum(4)).toBe(false);
    schedule.leadership('b@2');
    expect(schedule.rounds).toBe(0);
    // Entries the old leader saw committed do not count for the new one.
    expect(schedule.quorum(4)).toBe(false);
  });

  it('rejects a bad epoch with InvalidArgumentError', () => {
    expect(() => weightEpochScheduler({ epoch: -1 })).toThrow(InvalidArgumentError);
    expect(() => weightEpochScheduler({ epoch: 1.5 })).toThrow('epoch must be an integer ≥ 0, got 1.5');
    expect(() => weightEpochScheduler(null as never)).toThrow(InvalidArgumentError);
    expect(() => weightEpochScheduler({ epochs: 2 } as never)).toThrow('weightEpochScheduler: unknown option "epochs"; known options: epoch');
  });
});
