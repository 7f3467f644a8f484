import { InvalidArgumentError, integerOption, rejectUnknownOptions } from '@greenraft/consensus';
import type { Index } from '@greenraft/consensus';

/** Options of {@link weightEpochScheduler}. */
export interface WeightEpochSchedulerInit {
  /**
   * Commit rounds between two weight epochs, as the paper updates weights after each round of
   * consensus; 0 schedules none (weights change only on demand).
   * @default 1
   */
  epoch?: number;
}

/**
 * When a leader runs its next weight epoch: the one schedule of greenraft, shared by the weighted
 * node and the simulator, so that both count the same rounds.
 *
 * A **commit round** is a commit quorum of the leader that committed at least one client entry
 * (a normal entry with data) not counted before. The leader's no-op and configuration entries never
 * make a round, so a weight change never triggers the next one by itself. Counting starts afresh
 * with every leadership: rounds a previous leader saw are not this leader's. An epoch falls due
 * every `epoch` rounds and stays due until {@link WeightEpochScheduler.ran} says it ran: an epoch
 * that cannot run yet (a configuration change still in flight) is skipped, not lost, and tried
 * again at the next round.
 *
 * Feed it, on the leader, every committed client entry ({@link WeightEpochScheduler.committed}),
 * then the commit quorums of the same batch ({@link WeightEpochScheduler.quorum}); an entry
 * reported after its quorum is counted by the next one.
 */
export interface WeightEpochScheduler {
  /** Commit rounds between two epochs; 0: epochs only on demand. */
  readonly epoch: number;
  /** Commit rounds counted under the current leadership. */
  readonly rounds: number;
  /** Commit rounds counted since the last epoch ran, or since the leadership began. */
  readonly roundsSinceEpoch: number;
  /** True when a scheduled epoch is due: `epoch` > 0 and at least `epoch` rounds since the last one ran. */
  readonly due: boolean;
  /**
   * Says who leads: a key naming this leadership (the leader's id and term, say) while this node
   * leads, `undefined` while it does not. A new key starts the count from zero; the same key again
   * changes nothing.
   */
  leadership(key: string | undefined): void;
  /** A client entry committed at `index` on the leader; ignored while not leading. */
  committed(index: Index): void;
  /**
   * A commit quorum of the leader at `index`. Returns true when it made a commit round: it
   * committed a client entry, at or below `index`, that no earlier quorum did. Ignored (false)
   * while not leading.
   */
  quorum(index: Index): boolean;
  /** The due epoch ran to an outcome (new weights, the same weights, or a real failure): the count restarts. */
  ran(): void;
}

/**
 * Creates a {@link WeightEpochScheduler}.
 *
 * @throws InvalidArgumentError when `epoch` is not an integer ≥ 0.
 *
 * @example
 * ```ts
 * import { weightEpochScheduler } from '@greenraft/weighted-raft';
 *
 * const schedule = weightEpochScheduler({ epoch: 2 });
 * schedule.leadership('n1@3'); // n1 leads term 3
 * schedule.quorum(1); // false: the no-op at index 1 is not a round
 * schedule.committed(2);
 * schedule.quorum(2); // true: round 1
 * schedule.committed(3);
 * schedule.quorum(3); // true: round 2
 * schedule.due; // true: score the voters, propose the weights, then:
 * schedule.ran();
 * ```
 */
export function weightEpochScheduler(init: WeightEpochSchedulerInit = {}): WeightEpochScheduler {
  if (init === null || typeof init !== 'object') throw new InvalidArgumentError('weightEpochScheduler needs an options object');
  rejectUnknownOptions('weightEpochScheduler', init, Object.keys({ epoch: true } satisfies Record<keyof WeightEpochSchedulerInit, true>));
  const epoch = integerOption('epoch', init.epoch ?? 1, { min: 0 });
  let leader: string | undefined;
  let rounds = 0;
  let roundsSinceEpoch = 0;
  // Client entries committed but not yet covered by a quorum, in commit (index) order.
  let uncounted: Index[] = [];

  return {
    epoch,
    get rounds() {
      return rounds;
    },
    get roundsSinceEpoch() {
      return roundsSinceEpoch;
    },
    get due() {
      return epoch > 0 && roundsSinceEpoch >= epoch;
    },
    leadership(key) {
      if (key === leader) return;
      leader = key;
      rounds = 0;
      roundsSinceEpoch = 0;
      uncounted = [];
    },
    committed(index) {
      if (leader !== undefined) uncounted.push(index);
    },
    quorum(index) {
      if (leader === undefined || uncounted.length === 0) return false;
      let covered = 0;
      while (covered < uncounted.length && (uncounted[covered] as Index) <= index) covered++;
      if (covered === 0) return false;
      uncounted = covered === uncounted.length ? [] : uncounted.slice(covered);
      rounds++;
      roundsSinceEpoch++;
      return true;
    },
    ran() {
      roundsSinceEpoch = 0;
    },
  };
}
