/**
 * The state machine each in-page node replicates: the power market, and the scoring strategy in
 * force (replicated too, so any leader scores as the last one did). An entry is either a list
 * of signed market transactions (`encodeTransactions`, the leader's empty no-op included) or a
 * scoring selection, tagged by a first byte that canonical JSON never starts with.
 */
import type { ApplyInput, StateMachine } from '@greenraft/consensus';
import { type ApplyResult, type PowerMarket, type PowerMarketInit, type RoundSummary, powerMarket } from '@greenraft/power-market';
import { type ScoringStrategy, paperScoring, uniformScoring } from '@greenraft/weight-scoring';
import type { ScoringChoice } from '../source.js';

/** The scoring strategy in force: a name, a version and its parameters. */
export type ScoringSelection = ScoringChoice['selection'];

/** What a cluster starts with: the paper's strategy with its leader-election parameters. */
export const DEFAULT_SELECTION: ScoringSelection = { name: 'paper', version: '1' };

const SCORING_TAG = 0x01;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An entry that puts `selection` in force. */
export function encodeScoringEntry(selection: ScoringSelection): Uint8Array {
  const json = encoder.encode(JSON.stringify(selection));
  const entry = new Uint8Array(json.length + 1);
  entry[0] = SCORING_TAG;
  entry.set(json, 1);
  return entry;
}

/**
 * The strategy of a selection, as the server's built-in strategies build it: `paper` v1 with its
 * parameters, `uniform` v1. @throws Error for any other.
 */
export function strategyOf(selection: ScoringSelection): ScoringStrategy {
  if (selection.version === '1' && selection.name === 'paper') return paperScoring(selection.params ?? {});
  if (selection.version === '1' && selection.name === 'uniform') return uniformScoring();
  throw new Error(`no scoring strategy ${selection.name}@${selection.version} in this page`);
}

/** What applying an entry gave. */
export type ReplicaResult =
  | { readonly kind: 'market'; readonly result: ApplyResult }
  | { readonly kind: 'scoring'; readonly selection: ScoringSelection; readonly accepted: boolean };

/** Hooks a replica calls while applying (they must not throw). */
export interface ReplicaHooks {
  /** A round settled on this replica. */
  onRound?(summary: RoundSummary): void;
  /** The strategy in force changed on this replica. */
  onScoring?(selection: ScoringSelection): void;
}

function parseSelection(bytes: Uint8Array): ScoringSelection | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Partial<ScoringSelection>;
    if (typeof value?.name !== 'string' || typeof value.version !== 'string') return undefined;
    const selection: ScoringSelection = value.params === undefined ? { name: value.name, version: value.version } : { name: value.name, version: value.version, params: value.params };
    strategyOf(selection); // a selection no replica can compute is refused by all alike
    return selection;
  } catch {
    return undefined;
  }
}

/** One node's replica: the market and the strategy in force. */
export class MarketReplica implements StateMachine<ReplicaResult> {
  market: PowerMarket;
  #selection: ScoringSelection = DEFAULT_SELECTION;
  readonly #marketInit: Omit<PowerMarketInit, 'onRound'>;
  readonly #hooks: ReplicaHooks;

  constructor(marketInit: Omit<PowerMarketInit, 'onRound'>, hooks: ReplicaHooks = {}) {
    this.#marketInit = marketInit;
    this.#hooks = hooks;
    this.market = this.#newMarket();
  }

  /** The scoring strategy in force. */
  get selection(): ScoringSelection {
    return this.#selection;
  }

  /** The strategy the weighted node scores with: always the one in force on this replica. */
  readonly strategy: ScoringStrategy = {
    name: 'in force',
    score: (nodes) => strategyOf(this.#selection).score(nodes),
  };

  apply(input: ApplyInput): ReplicaResult {
    if (input.data[0] !== SCORING_TAG) return { kind: 'market', result: this.market.apply(input) };
    // The market must still see every index, so its applied index and ledger head stay exact.
    this.market.apply({ ...input, data: new Uint8Array(0) });
    const selection = parseSelection(input.data.subarray(1));
    if (selection === undefined) return { kind: 'scoring', selection: this.#selection, accepted: false };
    this.#selection = selection;
    this.#hooks.onScoring?.(selection);
    return { kind: 'scoring', selection, accepted: true };
  }

  snapshot(): Uint8Array {
    const header = encoder.encode(`${JSON.stringify(this.#selection)}\n`);
    const market = this.market.snapshot();
    const bytes = new Uint8Array(header.length + market.length);
    bytes.set(header);
    bytes.set(market, header.length);
    return bytes;
  }

  restore(data: Uint8Array): void {
    const cut = data.indexOf(0x0a);
    const selection = cut < 0 ? undefined : parseSelection(data.subarray(0, cut));
    if (selection === undefined) throw new Error('not a snapshot of the in-page market replica');
    const market = this.#newMarket();
    market.restore(data.subarray(cut + 1));
    this.market = market;
    this.#selection = selection;
  }

  #newMarket(): PowerMarket {
    return powerMarket({ ...this.#marketInit, onRound: (summary) => this.#hooks.onRound?.(summary) });
  }
}
