import type { NormalEntry } from '@greenraft/consensus';
import { type ApplyResult, type PowerMarket, powerMarket } from '@greenraft/power-market';
import type { PaperParameters } from '@greenraft/weight-scoring';

/** Options of a {@link MarketReplica}: the market's genesis, the same on every replica. */
export interface MarketReplicaInit {
  readonly parameters: Readonly<PaperParameters>;
  readonly carbonCycle: number;
}

/**
 * One node's copy of the power market, the cluster's replicated state machine. It takes every
 * committed entry in log order and applies them to a real `powerMarket()` when its state is read:
 * the state is the same as if each entry were applied on commit (the market is deterministic), and
 * replicas whose state nobody reads (followers, classic runs) cost nothing. Every transaction the
 * market refuses is kept for the run to report: a scripted market must not have any.
 */
export class MarketReplica {
  readonly #market: PowerMarket;
  readonly #pending: NormalEntry[] = [];
  readonly refused: string[] = [];
  #lastIndex = 0;

  constructor(init: MarketReplicaInit) {
    this.#market = powerMarket({ parameters: init.parameters, carbonCycleRounds: init.carbonCycle, initialCreditWeight: 0 });
  }

  /** Takes the next committed normal entry (in log order). */
  committed(entry: NormalEntry): void {
    if (entry.index <= this.#lastIndex) return;
    this.#lastIndex = entry.index;
    if (entry.data.byteLength > 0) this.#pending.push(entry);
  }

  /** The index of the last entry taken. */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** The market with every committed entry applied. */
  market(): PowerMarket {
    for (const entry of this.#pending) this.#record(this.#market.apply({ index: entry.index, term: entry.term, data: entry.data }));
    this.#pending.length = 0;
    return this.#market;
  }

  #record(result: ApplyResult): void {
    for (const outcome of result.outcomes) {
      if (!outcome.accepted) this.refused.push(`entry ${result.index}: ${outcome.error.code}: ${outcome.error.message}`);
    }
  }
}
