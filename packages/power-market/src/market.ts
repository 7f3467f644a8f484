import { type KeyObject, verify } from 'node:crypto';
import { type ApplyInput, InvalidArgumentError, type StateMachine } from '@greenraft/consensus';
import {
  type NodeScoreInput,
  type PaperParameters,
  type ScoringStrategy,
  type VoteWeightsInit,
  carbonSettlement,
  paperParameters,
  paperScoring,
  participationAfterCommit,
  toVoteWeights,
  weightBeforeNextRound,
} from '@greenraft/weight-scoring';
import { sha256Hex } from './canonical.js';
import {
  asMarketError,
  ContractAlreadySettledError,
  describeValue,
  InsufficientCertificatesError,
  InvalidContractStateError,
  InvalidCounterpartyError,
  InvalidSignatureError,
  InvalidTransactionError,
  LimitExceededError,
  type MarketError,
  NodeAlreadyRegisteredError,
  NotAPartyError,
  PriceOutOfRangeError,
  ReplayedNonceError,
  TransactionAbortedError,
  UnknownContractError,
  UnknownNodeError,
  UnknownOfferError,
} from './errors.js';
import { type Block, createBlock, type LedgerHead, ledgerHeadOf } from './ledger.js';
import { MARKET_LIMITS } from './limits.js';
import { toMilliYuan } from './money.js';
import {
  type MarketPrices,
  type MilliYuan,
  type NodeKind,
  PAPER_PRICES,
  type RoundSettlement,
  fairPriceRange,
  settleRound,
  validatePrices,
} from './settlement.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { CommittedState, type ContractRecord, copyNode, Draft, type NodeRecord, type StateView } from './state.js';
import {
  DEFAULT_MARKET_ID,
  type MarketTransaction,
  type SignedTransaction,
  decodeEntry,
  encodeSignedTransaction,
  importPublicKey,
  parseSignedTransaction,
  signedTransactionFromData,
  signingBytes,
} from './transactions.js';

export interface CarbonCycleAccount {
  readonly quota: number;
  readonly purchased: number;
  readonly emitted: number;
}

/** A registered node as the market holds it: N_i = [A_i, T_i, B_i, W_i] (eq. 1) and what its scores need. */
export interface MarketNode {
  /** A_i: the node's id and trading address. */
  readonly id: string;
  readonly kind: NodeKind;
  readonly renewable: boolean;
  /** The ed25519 public key its transactions are signed with (base64url raw bytes). */
  readonly publicKey: string;
  /** T_i: the node's status. */
  readonly status: 'active';
  /** B_i: the balance, milli-yuan. May go negative: delivered power is settled whatever the balance. */
  readonly balance: MilliYuan;
  /** W_a: the credit weight (eq. 14–17, decayed by eq. 24 every l rounds). */
  readonly creditWeight: number;
  /** W_g: the consensus-participation score (eq. 19, decayed by eq. 25 every l rounds). */
  readonly participation: number;
  /** The last nonce accepted from the node. */
  readonly lastNonce: number;
  /** Renewable generation metered so far, kWh (eq. 6). */
  readonly renewableKWh: number;
  /** Green certificates issued to the node so far: ⌊renewableKWh / 1000⌋ (eq. 6). */
  readonly certificatesIssued: number;
  readonly certificatesSold: number;
  readonly certificatesBought: number;
  /** The carbon account of the cycle in progress. */
  readonly carbonCycle: CarbonCycleAccount;
  /** A_ce (eq. 22) of the last completed cycle; 0 before the first cycle ends. */
  readonly carbonSettlement: number;
  /** C_t (eq. 23): settled contracts under which the node (a generator) delivered power. */
  readonly transmissions: number;
  /** C_b (eq. 23): those transmissions reported as faulted on the line. */
  readonly transmissionFaults: number;
  /** The node's contracted volume in the last settled round, kWh (eq. 18). */
  readonly lastRoundContractedKWh: number;
  /** The node's actual volume in the last settled round, kWh (eq. 18). */
  readonly lastRoundActualKWh: number;
}

/** A day-ahead contract as the market holds it. Money in milli-yuan. */
export interface MarketContract {
  /** `"<proposer>/<nonce>"`. */
  readonly id: string;
  readonly generator: string;
  readonly consumer: string;
  readonly proposer: string;
  readonly unitPrice: number;
  readonly contractedKWh: number;
  readonly deliveryStart: number;
  readonly deliveryEnd: number;
  /** Paid by each party to the grid operator on acceptance. */
  readonly handlingFee: MilliYuan;
  readonly status: 'proposed' | 'accepted' | 'settled';
  /** The generator's metered generation, once reported. */
  readonly generatedKWh: number | null;
  /** The consumer's metered consumption, once reported. */
  readonly consumedKWh: number | null;
  /** The round that settled it. */
  readonly settledInRound: number | null;
  /** Whether its transmission was reported faulted (eq. 23). */
  readonly lineFault: boolean;
}

/** An open green-certificate offer. */
export interface CertificateOffer {
  /** `"<seller>/<nonce>"`. */
  readonly id: string;
  readonly seller: string;
  readonly buyer: string;
  readonly count: number;
  /** Milli-yuan per certificate. */
  readonly unitPrice: MilliYuan;
}

/** What one settled round produced: the settlement, the score inputs and the resulting weights. */
export interface RoundSummary {
  /** The round's number, from 1. */
  readonly round: number;
  readonly settlement: RoundSettlement;
  /** Every registered node's score inputs after the round (after decay). */
  readonly scoreInputs: readonly NodeScoreInput[];
  /** The market's scoring strategy's scores; `undefined` if the strategy threw. */
  readonly scores: ReadonlyMap<string, number> | undefined;
  /** Integer vote weights from the scores ({@link PowerMarketInit.voteWeights}); `undefined` when the fault-tolerance guard cannot hold yet (too few nodes). */
  readonly voteWeights: ReadonlyMap<string, number> | undefined;
}

/** What the market did with one accepted transaction. */
export interface TransactionReceipt {
  /** sha256 of the signed transaction's canonical bytes. */
  readonly hash: string;
  readonly type: MarketTransaction['type'];
  readonly signer: string;
  readonly nonce: number;
  /** The contract a `proposeContract` created. */
  readonly contractId?: string;
  /** The offer an `offerCertificates` created. */
  readonly offerId?: string;
  /** The round a `settleRound` settled. */
  readonly round?: RoundSummary;
}

/**
 * The outcome of one transaction of an entry: accepted with a receipt, or refused with its typed
 * error. Every replica reaches the same outcome for the same entry.
 */
export type TransactionOutcome =
  | { readonly accepted: true; readonly receipt: TransactionReceipt }
  | { readonly accepted: false; readonly error: MarketError };

/** What {@link PowerMarket.apply} returns for one committed entry (the proposer's `propose()` resolves with it). */
export interface ApplyResult {
  readonly index: number;
  /** The block the accepted transactions formed, or `undefined` (no-op entry, all refused, or already applied). */
  readonly block: { readonly height: number; readonly hash: string } | undefined;
  /**
   * One outcome per transaction in the entry, in order; empty for a no-op or an already-applied
   * entry. An entry that is not a list of transactions at all has one refused outcome.
   */
  readonly outcomes: readonly TransactionOutcome[];
}

/** Options of {@link powerMarket}. Every replica must use the same values: they are the market's genesis. */
export interface PowerMarketInit {
  /**
   * Names the market; transactions signed for another market do not verify here.
   * @default 'greenraft'
   */
  marketId?: string;
  /**
   * The grid's prices S, B and G, yuan/kWh, each at most {@link MARKET_LIMITS}.maxPrice.
   * @default PAPER_PRICES (S = 0.4, B = 0.75, G = 0.04)
   */
  prices?: MarketPrices;
  /**
   * The accepted range of a contract's unit price U, yuan/kWh; must lie within [S, B − G] so that
   * both parties' losses in eq. 32–33 are non-negative.
   * @default [S, B − G]
   */
  priceRange?: { readonly min: number; readonly max: number };
  /**
   * A new node's credit weight W_a.
   * @default 0 (the paper's §5.2)
   */
  initialCreditWeight?: number;
  /**
   * The paper's parameters: W_a^max (at most {@link MARKET_LIMITS}.maxCreditWeight), decay δ and
   * interval l (eq. 24–25), participation step ω (eq. 19), and the factors of the default scoring
   * strategy.
   * @default PAPER_ELECTION_PARAMETERS
   */
  parameters?: Partial<PaperParameters>;
  /**
   * How scores are computed from the score inputs after each round. Scores only feed the round's
   * summary and {@link PowerMarket.voteWeights}: they are not part of the replicated state, and a
   * strategy that throws only leaves the summary without scores.
   * @default paperScoring(parameters)
   */
  scoring?: ScoringStrategy;
  /**
   * How scores become integer vote weights.
   * @default { tolerateFailures: 1 }
   */
  voteWeights?: VoteWeightsInit;
  /**
   * Rounds per carbon-trading cycle: at the end of each, every node's cycle account is settled by
   * eq. 22 and becomes the carbon input of its score (eq. 21).
   * @default 365 (a year of daily rounds)
   */
  carbonCycleRounds?: number;
  /**
   * Called after every settled round, on every replica, with the round's summary (after the
   * entry's block is appended, or at once for `execute`). It must not throw: an error it throws
   * is caught and dropped, since the round is already part of the replicated state.
   * @default undefined (no callback; a settling transaction's receipt still carries its `round`)
   */
  onRound?: (summary: RoundSummary) => void;
}

/**
 * The power market: a deterministic replicated state machine (apply / snapshot / restore) over
 * signed transactions, with a hash-chained ledger and the weights the market's rounds produce.
 */
export interface PowerMarket extends StateMachine<ApplyResult> {
  /**
   * Applies one committed log entry: its `data` is a list of signed transactions
   * ({@link encodeTransactions}). It never throws, and always advances
   * {@link PowerMarket.lastAppliedIndex} to the entry's index. Each transaction is decoded from the entry's bytes through a schema,
   * authenticated and executed in order, on a staged copy of what it changes: a refused one
   * (whatever the reason) leaves nothing behind and is reported in the result with its typed
   * error. The accepted ones are committed together and form one ledger block with the entry's
   * term and index. An entry that is not a list of signed transactions is refused as a whole. An
   * empty entry (the leader's no-op) forms no block. Entries at or below the last applied index
   * are skipped, so replaying after a restore is harmless.
   */
  apply(input: ApplyInput): ApplyResult;
  /**
   * The whole state (nodes, contracts, offers, balances, ledger) as bytes: canonical JSON lines.
   * Never throws: every value the state can hold is bounded ({@link MARKET_LIMITS}).
   */
  snapshot(): Uint8Array;
  /**
   * Replaces the whole state with a snapshot's, after checking it fully: the format and market
   * id, every record's shape and bounds, every reference between records, that money sums to
   * zero, and that the ledger verifies. It does not re-check signatures or re-run the history:
   * {@link replayLedger} does.
   * @throws {@link InvalidSnapshotError} on bytes that are not a valid snapshot of this market;
   *   the state is then unchanged.
   */
  restore(data: Uint8Array): void;
  /**
   * Executes one signed transaction directly, as its own block at the next index (for a market
   * that is not replicated, and for tests). Do not mix with `apply()` on a replica.
   * @throws a {@link MarketError} subclass when the transaction is refused; the state is then
   *   unchanged, byte for byte.
   */
  execute(signed: SignedTransaction): TransactionReceipt;
  /** The market's id. */
  readonly marketId: string;
  /** The grid's prices. */
  readonly prices: MarketPrices;
  /** The accepted unit-price range. */
  readonly priceRange: { readonly min: number; readonly max: number };
  /** Rounds settled so far. */
  round(): number;
  /** The last log index applied (0 before any). */
  lastAppliedIndex(): number;
  /**
   * The head of the ledger: its height, the last block's hash, the index and term of the log
   * entry that produced that block, and the last applied index. Replicas that applied the same
   * entries report the same head, so a head served by a quorum of them anchors a copy of the
   * ledger ({@link verifyLedger}, {@link replayLedger}).
   *
   * @example
   * ```ts
   * const head = market.ledgerHead(); // { height: 12, hash: '9f…', index: 40, term: 3, appliedIndex: 41 }
   * verifyLedger(blocksFromAnArchive, { head }).valid; // false if the archive dropped, edited or cut anything
   * ```
   */
  ledgerHead(): LedgerHead;
  /** A copy of a registered node, or `undefined`. */
  node(id: string): MarketNode | undefined;
  /** Copies of every registered node, by id. */
  nodes(): MarketNode[];
  /** A node's balance in milli-yuan. @throws {@link UnknownNodeError} */
  balance(id: string): MilliYuan;
  /** The grid operator's balance in milli-yuan: fees, grid revenue, and allocations nobody could take. */
  gridBalance(): MilliYuan;
  /** A node's green certificates that count for it (eq. 20): issued − sold + bought. @throws {@link UnknownNodeError} */
  greenCertificates(id: string): number;
  /** A copy of a contract, or `undefined`. */
  contract(id: string): MarketContract | undefined;
  /** Copies of the open certificate offers, by id. */
  offers(): CertificateOffer[];
  /** The ledger's blocks, oldest first (copies). */
  ledger(): Block[];
  /** The summary of the last round settled since this instance started or restored, if any. */
  lastRound(): RoundSummary | undefined;
  /** Every registered node's score inputs now (by id): what a {@link ScoringStrategy} takes. */
  scoreInputs(): NodeScoreInput[];
  /** Scores of every registered node under `strategy` (default: the market's). */
  scores(strategy?: ScoringStrategy): Map<string, number>;
  /**
   * Integer vote weights for the weighted Raft configuration, from the scores.
   * @throws `FaultToleranceError` (from `@greenraft/weight-scoring`) when fewer than 2f + 1 nodes have a positive weight.
   */
  voteWeights(options?: VoteWeightsInit & { strategy?: ScoringStrategy }): Map<string, number>;
}

const GREEN_CERTIFICATE_KWH = 1000; // eq. 6: one certificate per MWh

function held(node: Readonly<NodeRecord>): number {
  return node.certificatesIssued - node.certificatesSold + node.certificatesBought;
}

function within(value: number, min: number, max: number): boolean {
  return value >= min && value <= max; // false for NaN
}

/** Refuses a transaction whose staged changes leave an account or a total outside its bounds. */
function checkBounds(draft: Draft, maxCreditWeight: number): void {
  const { maxBalance, maxLifetimeKWh, maxCarbonAccountTonnes: carbon, maxRoundKWh } = MARKET_LIMITS;
  if (!Number.isSafeInteger(draft.gridBalance)) throw new LimitExceededError(`the grid's account would leave ±${maxBalance} milli-yuan`);
  for (const node of draft.nodes.values()) {
    const problem = !Number.isSafeInteger(node.balance)
      ? `the balance would leave ±${maxBalance} milli-yuan`
      : !within(node.renewableKWh, 0, maxLifetimeKWh)
        ? `renewable generation would pass ${maxLifetimeKWh} kWh`
        : !(within(node.carbonCycle.quota, 0, carbon) && within(node.carbonCycle.purchased, 0, carbon) && within(node.carbonCycle.emitted, 0, carbon))
          ? `a carbon account field would pass ${carbon} tonnes this cycle`
          : !(within(node.creditWeight, 0, maxCreditWeight) && within(node.participation, 0, 100))
            ? 'a weight would leave its range'
            : !(within(node.lastRoundContractedKWh, 0, maxRoundKWh) && within(node.lastRoundActualKWh, 0, maxRoundKWh) && Number.isFinite(node.carbonSettlement))
              ? 'a round total would leave its range'
              : undefined;
    if (problem !== undefined) throw new LimitExceededError(`node ${node.id}: ${problem}`);
  }
}

class Market implements PowerMarket {
  readonly marketId: string;
  readonly prices: MarketPrices;
  readonly priceRange: { readonly min: number; readonly max: number };
  readonly #initialCreditWeight: number;
  readonly #parameters: Readonly<PaperParameters>;
  readonly #scoring: ScoringStrategy;
  readonly #voteWeightsInit: VoteWeightsInit;
  readonly #carbonCycleRounds: number;
  readonly #onRound: ((summary: RoundSummary) => void) | undefined;
  #state: CommittedState;
  #lastRound: RoundSummary | undefined;
  /**
   * Imported public keys by the key's own base64url text, never by node id: an entry refused
   * after a registration must not leave a node id bound to a key the state does not hold.
   */
  readonly #keys = new Map<string, KeyObject>();

  constructor(init: PowerMarketInit) {
    if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('the options must be an object');
    this.marketId = init.marketId ?? DEFAULT_MARKET_ID;
    if (typeof this.marketId !== 'string' || this.marketId.length === 0 || this.marketId.length > 256) {
      throw new InvalidArgumentError('marketId must be a string of 1 to 256 characters');
    }
    try {
      this.prices = Object.freeze(validatePrices(init.prices ?? PAPER_PRICES));
    } catch (cause) {
      throw new InvalidArgumentError(`invalid prices: ${(cause as Error).message}`, { cause });
    }
    const fair = fairPriceRange(this.prices);
    const range = init.priceRange ?? fair;
    if (!(Number.isFinite(range.min) && Number.isFinite(range.max) && fair.min <= range.min && range.min <= range.max && range.max <= fair.max)) {
      throw new InvalidArgumentError(`priceRange must satisfy ${fair.min} ≤ min ≤ max ≤ ${fair.max} (S ≤ U ≤ B − G)`);
    }
    this.priceRange = Object.freeze({ min: range.min, max: range.max });
    try {
      this.#parameters = paperParameters(init.parameters ?? {});
    } catch (cause) {
      throw new InvalidArgumentError(`invalid parameters: ${(cause as Error).message}`, { cause });
    }
    if (!(this.#parameters.maxCreditWeight <= MARKET_LIMITS.maxCreditWeight)) {
      throw new InvalidArgumentError(`parameters.maxCreditWeight must be at most ${MARKET_LIMITS.maxCreditWeight}`);
    }
    this.#initialCreditWeight = init.initialCreditWeight ?? 0;
    if (!(Number.isFinite(this.#initialCreditWeight) && this.#initialCreditWeight >= 0 && this.#initialCreditWeight <= this.#parameters.maxCreditWeight)) {
      throw new InvalidArgumentError(`initialCreditWeight must be in [0, ${this.#parameters.maxCreditWeight}]`);
    }
    this.#scoring = init.scoring ?? paperScoring(this.#parameters);
    this.#voteWeightsInit = { tolerateFailures: 1, ...init.voteWeights };
    this.#carbonCycleRounds = init.carbonCycleRounds ?? 365;
    if (!(Number.isSafeInteger(this.#carbonCycleRounds) && this.#carbonCycleRounds >= 1)) {
      throw new InvalidArgumentError('carbonCycleRounds must be a positive integer');
    }
    this.#onRound = init.onRound;
    this.#state = new CommittedState(this.marketId);
  }

  // ───────────── StateMachine ─────────────

  apply(input: ApplyInput): ApplyResult {
    const state = this.#state;
    const index = input.index;
    if (!(Number.isSafeInteger(index) && index > state.lastAppliedIndex)) return { index, block: undefined, outcomes: [] };
    const entry = new Draft(state);
    let outcomes: TransactionOutcome[] = [];
    const accepted: Uint8Array[] = [];
    const summaries: RoundSummary[] = [];
    let block: Block | undefined;
    try {
      const items = decodeEntry(input.data);
      if (items instanceof InvalidTransactionError) outcomes.push({ accepted: false, error: items });
      else {
        for (const item of items) {
          try {
            const { receipt, bytes } = this.#run(entry, signedTransactionFromData(item));
            accepted.push(bytes);
            if (receipt.round) summaries.push(receipt.round);
            outcomes.push({ accepted: true, receipt });
          } catch (error) {
            outcomes.push({ accepted: false, error: asMarketError(error) });
          }
        }
      }
      if (accepted.length > 0) block = createBlock(state.blocks.at(-1), { term: input.term, index }, accepted);
    } catch (error) {
      // Nothing above is expected to throw; if it does, the entry is refused whole, the same way on every replica.
      const aborted = new TransactionAbortedError('the entry could not be applied; none of it was kept', { cause: error });
      outcomes = outcomes.map(() => ({ accepted: false, error: aborted }));
      if (outcomes.length === 0) outcomes.push({ accepted: false, error: aborted });
      state.commit(new Draft(state), index, undefined);
      return { index, block: undefined, outcomes };
    }
    state.commit(entry, index, block);
    this.#announce(summaries);
    return { index, block: block === undefined ? undefined : { height: block.header.height, hash: block.hash }, outcomes };
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.#state);
  }

  restore(data: Uint8Array): void {
    this.#state = decodeSnapshot(data, { marketId: this.marketId, maxCreditWeight: this.#parameters.maxCreditWeight, priceRange: this.priceRange });
    this.#keys.clear();
    this.#lastRound = undefined;
  }

  execute(signed: SignedTransaction): TransactionReceipt {
    const checked = parseSignedTransaction(signed);
    const state = this.#state;
    const entry = new Draft(state);
    let run: { receipt: TransactionReceipt; bytes: Uint8Array };
    try {
      run = this.#run(entry, checked);
    } catch (error) {
      throw asMarketError(error);
    }
    const index = state.lastAppliedIndex + 1;
    const previous = state.blocks.at(-1);
    state.commit(entry, index, createBlock(previous, { term: previous?.header.term ?? 0, index }, [run.bytes]));
    if (run.receipt.round) this.#announce([run.receipt.round]);
    return run.receipt;
  }

  #announce(summaries: readonly RoundSummary[]): void {
    for (const summary of summaries) {
      this.#lastRound = summary;
      try {
        this.#onRound?.(summary);
      } catch {
        // The round is committed on every replica; a failing callback must not stop this one.
      }
    }
  }

  // ───────────── transactions ─────────────

  /** Runs one checked transaction on a draft of its own over `entry`, and keeps it only if all of it succeeds. */
  #run(entry: Draft, signed: SignedTransaction): { receipt: TransactionReceipt; bytes: Uint8Array } {
    const draft = new Draft(entry);
    const bytes = encodeSignedTransaction(signed);
    const receipt = this.#execute(draft, signed, sha256Hex(bytes));
    checkBounds(draft, this.#parameters.maxCreditWeight);
    draft.mergeInto(entry);
    return { receipt, bytes };
  }

  #key(publicKey: string): KeyObject | undefined {
    let key = this.#keys.get(publicKey);
    if (key === undefined) {
      key = importPublicKey(publicKey);
      if (key === undefined) return undefined;
      // Keys of refused registrations may linger: past one per possible node, start afresh.
      if (this.#keys.size >= MARKET_LIMITS.maxNodes) this.#keys.clear();
      this.#keys.set(publicKey, key);
    }
    return key;
  }

  #verified(signed: SignedTransaction, key: KeyObject | undefined): boolean {
    try {
      return key !== undefined && verify(null, signingBytes(signed.transaction, { marketId: this.marketId }), key, Buffer.from(signed.signature, 'base64url'));
    } catch {
      return false;
    }
  }

  #execute(draft: Draft, signed: SignedTransaction, hash: string): TransactionReceipt {
    const tx = signed.transaction;
    const signer = draft.node(tx.signer);
    // Authenticate first: nothing about the state is revealed to an unsigned request.
    if (tx.type === 'registerNode') {
      if (signer) throw new NodeAlreadyRegisteredError(tx.signer);
      const key = importPublicKey(tx.publicKey);
      if (key === undefined) throw new InvalidTransactionError('registerNode: publicKey is not an ed25519 key');
      if (!this.#verified(signed, key)) throw new InvalidSignatureError(`the registration of ${tx.signer} is not signed by the enclosed key`);
    } else {
      if (!signer) throw new UnknownNodeError(tx.signer);
      if (!this.#verified(signed, this.#key(signer.publicKey))) {
        throw new InvalidSignatureError(`the signature does not verify under ${tx.signer}'s registered key`);
      }
      if (tx.nonce <= signer.lastNonce) throw new ReplayedNonceError(tx.signer, tx.nonce, signer.lastNonce);
    }
    const receipt: { -readonly [K in keyof TransactionReceipt]: TransactionReceipt[K] } = { hash, type: tx.type, signer: tx.signer, nonce: tx.nonce };
    if (tx.type === 'registerNode') {
      if (draft.nodeCount() >= MARKET_LIMITS.maxNodes) throw new LimitExceededError(`the market has ${MARKET_LIMITS.maxNodes} nodes, its limit`);
      draft.addNode({
        id: tx.signer,
        kind: tx.kind,
        renewable: tx.renewable,
        publicKey: tx.publicKey,
        status: 'active',
        balance: 0,
        creditWeight: this.#initialCreditWeight,
        participation: 0,
        lastNonce: tx.nonce,
        renewableKWh: 0,
        certificatesIssued: 0,
        certificatesSold: 0,
        certificatesBought: 0,
        carbonCycle: { quota: 0, purchased: 0, emitted: 0 },
        carbonSettlement: 0,
        transmissions: 0,
        transmissionFaults: 0,
        lastRoundContractedKWh: 0,
        lastRoundActualKWh: 0,
      });
      return receipt;
    }
    // The draft is dropped if anything below throws, so the order of checks and writes is free.
    const me = draft.editNode(tx.signer);
    me.lastNonce = tx.nonce;
    switch (tx.type) {
      case 'proposeContract': {
        const counterparty = draft.node(tx.counterparty);
        if (!counterparty) throw new UnknownNodeError(tx.counterparty);
        if (counterparty.kind === me.kind) {
          throw new InvalidCounterpartyError(`a contract needs one generation and one consumption node; ${tx.signer} and ${tx.counterparty} are both ${counterparty.kind} nodes`);
        }
        if (tx.unitPrice < this.priceRange.min || tx.unitPrice > this.priceRange.max) {
          throw new PriceOutOfRangeError(tx.unitPrice, this.priceRange.min, this.priceRange.max);
        }
        const id = `${tx.signer}/${tx.nonce}`;
        const generator = me.kind === 'generation' ? tx.signer : tx.counterparty;
        draft.addContract({
          id,
          generator,
          consumer: generator === tx.signer ? tx.counterparty : tx.signer,
          proposer: tx.signer,
          unitPrice: tx.unitPrice,
          contractedKWh: tx.contractedKWh,
          deliveryStart: tx.deliveryStart,
          deliveryEnd: tx.deliveryEnd,
          handlingFee: toMilliYuan(tx.handlingFee),
          status: 'proposed',
          generatedKWh: null,
          consumedKWh: null,
          settledInRound: null,
          lineFault: false,
        });
        receipt.contractId = id;
        return receipt;
      }
      case 'acceptContract': {
        const contract = this.#contractFor(draft, tx.contractId, tx.signer);
        if (contract.proposer === tx.signer) throw new NotAPartyError(`contract ${contract.id} must be accepted by the counterparty, not its proposer`);
        if (contract.status === 'settled') throw new ContractAlreadySettledError(contract.id);
        if (contract.status !== 'proposed') throw new InvalidContractStateError(`contract ${contract.id} is already accepted`);
        draft.editContract(contract.id).status = 'accepted';
        // Both parties pay the handling fee to the grid operator (§2.2 (2)).
        draft.editNode(contract.generator).balance -= contract.handlingFee;
        draft.editNode(contract.consumer).balance -= contract.handlingFee;
        draft.gridBalance += 2 * contract.handlingFee;
        return receipt;
      }
      case 'reportDelivery': {
        const contract = this.#contractFor(draft, tx.contractId, tx.signer);
        if (contract.status === 'settled') throw new ContractAlreadySettledError(contract.id);
        if (contract.status !== 'accepted') throw new InvalidContractStateError(`contract ${contract.id} is not accepted yet`);
        const field = tx.signer === contract.generator ? 'generatedKWh' : 'consumedKWh';
        if (contract[field] !== null) throw new InvalidContractStateError(`${tx.signer} already reported its metered volume for contract ${contract.id}`);
        draft.editContract(contract.id)[field] = tx.meteredKWh;
        return receipt;
      }
      case 'settleRound': {
        const contracts = tx.contractIds.map((id) => {
          const contract = draft.contract(id);
          if (!contract) throw new UnknownContractError(id);
          if (contract.status === 'settled') throw new ContractAlreadySettledError(id);
          if (contract.status !== 'accepted') throw new InvalidContractStateError(`contract ${id} is not accepted, so it cannot be settled`);
          return contract;
        });
        const settlement = settleRound({
          prices: this.prices,
          maxCreditWeight: this.#parameters.maxCreditWeight,
          nodes: draft.nodeIds().map((id) => {
            const node = draft.node(id)!;
            return { id, kind: node.kind, creditWeight: node.creditWeight };
          }),
          // A party that reported nothing is settled as having delivered or consumed nothing.
          contracts: contracts.map((contract) => ({
            id: contract.id,
            generator: contract.generator,
            consumer: contract.consumer,
            unitPrice: contract.unitPrice,
            contractedKWh: contract.contractedKWh,
            generatedKWh: contract.generatedKWh ?? 0,
            consumedKWh: contract.consumedKWh ?? 0,
          })),
        });
        this.#commitRound(draft, contracts, settlement);
        receipt.round = this.#summarise(draft, settlement);
        return receipt;
      }
      case 'offerCertificates': {
        if (!draft.node(tx.buyer)) throw new UnknownNodeError(tx.buyer);
        if (held(me) < tx.count) throw new InsufficientCertificatesError(tx.signer, tx.count, held(me));
        const id = `${tx.signer}/${tx.nonce}`;
        draft.addOffer({ id, seller: tx.signer, buyer: tx.buyer, count: tx.count, unitPrice: toMilliYuan(tx.unitPrice) });
        receipt.offerId = id;
        return receipt;
      }
      case 'acceptCertificates': {
        const offer = draft.offer(tx.offerId);
        if (!offer) throw new UnknownOfferError(tx.offerId);
        if (offer.buyer !== tx.signer) throw new NotAPartyError(`offer ${offer.id} is addressed to ${offer.buyer}, not ${tx.signer}`);
        const seller = draft.editNode(offer.seller);
        if (held(seller) < offer.count) throw new InsufficientCertificatesError(seller.id, offer.count, held(seller));
        // eq. 20: sold certificates stop counting for the seller, bought ones count for the buyer.
        seller.certificatesSold += offer.count;
        me.certificatesBought += offer.count;
        const price = offer.count * offer.unitPrice; // ≤ 10^6 · 10^9 milli-yuan: exact
        me.balance -= price;
        seller.balance += price;
        draft.closeOffer(offer.id);
        return receipt;
      }
      case 'recordCarbon': {
        me.carbonCycle.quota += tx.quota;
        me.carbonCycle.purchased += tx.purchased;
        me.carbonCycle.emitted += tx.emitted;
        return receipt;
      }
      case 'reportLineFault': {
        const contract = this.#contractFor(draft, tx.contractId, tx.signer);
        if (contract.status !== 'settled') throw new InvalidContractStateError(`contract ${contract.id} is not settled: no transmission to report on yet`);
        if (!((contract.generatedKWh ?? 0) > 0)) throw new InvalidContractStateError(`nothing was transmitted under contract ${contract.id}`);
        if (contract.lineFault) throw new InvalidContractStateError(`a line fault is already recorded for contract ${contract.id}`);
        draft.editContract(contract.id).lineFault = true;
        draft.editNode(contract.generator).transmissionFaults += 1;
        return receipt;
      }
      case 'recordParticipation': {
        for (const id of tx.acknowledgements) if (!draft.node(id)) throw new UnknownNodeError(id);
        const ids = draft.nodeIds();
        const before = new Map(ids.map((id) => [id, draft.node(id)!.participation]));
        // eq. 19 for the round in progress; the first acknowledgement is the leader's own.
        const after = participationAfterCommit(before, { acks: tx.acknowledgements.map((id) => ({ id })) }, draft.round + 1, this.#parameters);
        for (const [id, participation] of after) if (participation !== before.get(id)) draft.editNode(id).participation = participation;
        return receipt;
      }
      default:
        return unreachable(tx);
    }
  }

  /** The contract, checked to exist and to have `signer` as a party. */
  #contractFor(view: StateView, contractId: string, signer: string): Readonly<ContractRecord> {
    const contract = view.contract(contractId);
    if (!contract) throw new UnknownContractError(contractId);
    if (signer !== contract.generator && signer !== contract.consumer) throw new NotAPartyError(`${signer} is not a party to contract ${contractId}`);
    return contract;
  }

  #commitRound(draft: Draft, contracts: readonly Readonly<ContractRecord>[], settlement: RoundSettlement): void {
    draft.round += 1;
    const round = draft.round;
    for (const result of settlement.nodes) {
      const node = draft.editNode(result.id);
      node.balance += result.balanceChange;
      // eq. 24–25: credit and participation decay once every l rounds.
      node.creditWeight = weightBeforeNextRound(result.creditWeightAfter, round, this.#parameters);
      node.participation = weightBeforeNextRound(node.participation, round, this.#parameters);
      node.lastRoundContractedKWh = result.contractedKWh;
      node.lastRoundActualKWh = result.actualKWh;
    }
    draft.gridBalance += settlement.gridBalanceChange;
    for (const settled of contracts) {
      const contract = draft.editContract(settled.id);
      contract.status = 'settled';
      contract.settledInRound = round;
      const generated = contract.generatedKWh ?? 0;
      const generator = draft.editNode(contract.generator);
      if (generated > 0) generator.transmissions += 1; // eq. 23: C_t counts transmissions
      if (generator.renewable) {
        // eq. 6: one certificate per MWh, kWh accumulating across rounds.
        generator.renewableKWh += generated;
        generator.certificatesIssued = Math.floor(generator.renewableKWh / GREEN_CERTIFICATE_KWH);
      }
    }
    if (round % this.#carbonCycleRounds === 0) {
      for (const id of draft.nodeIds()) {
        const node = draft.editNode(id);
        node.carbonSettlement = carbonSettlement(node.carbonCycle); // eq. 22
        node.carbonCycle = { quota: 0, purchased: 0, emitted: 0 };
      }
    }
  }

  #summarise(view: StateView, settlement: RoundSettlement): RoundSummary {
    const scoreInputs = scoreInputsOf(view);
    // Scores are derived, not replicated: a strategy that throws (a custom one) only loses the summary's scores.
    let scores: Map<string, number> | undefined;
    try {
      scores = this.#scoring.score(scoreInputs);
    } catch {
      scores = undefined;
    }
    let voteWeights: Map<string, number> | undefined;
    try {
      voteWeights = scores === undefined ? undefined : toVoteWeights(scores, this.#voteWeightsInit);
    } catch {
      voteWeights = undefined; // too few nodes for the fault-tolerance guard yet
    }
    return { round: view.round, settlement, scoreInputs, scores, voteWeights };
  }

  // ───────────── queries ─────────────

  round(): number {
    return this.#state.round;
  }

  lastAppliedIndex(): number {
    return this.#state.lastAppliedIndex;
  }

  ledgerHead(): LedgerHead {
    return ledgerHeadOf(this.#state.blocks, this.#state.lastAppliedIndex);
  }

  node(id: string): MarketNode | undefined {
    const node = this.#state.node(id);
    return node === undefined ? undefined : copyNode(node);
  }

  nodes(): MarketNode[] {
    return this.#state.nodeIds().map((id) => copyNode(this.#state.node(id)!));
  }

  balance(id: string): MilliYuan {
    const node = this.#state.node(id);
    if (!node) throw new UnknownNodeError(typeof id === 'string' ? id : describeValue(id));
    return node.balance;
  }

  gridBalance(): MilliYuan {
    return this.#state.gridBalance;
  }

  greenCertificates(id: string): number {
    const node = this.#state.node(id);
    if (!node) throw new UnknownNodeError(typeof id === 'string' ? id : describeValue(id));
    return held(node);
  }

  contract(id: string): MarketContract | undefined {
    const contract = this.#state.contract(id);
    return contract === undefined ? undefined : { ...contract };
  }

  offers(): CertificateOffer[] {
    return [...this.#state.offers.keys()].sort().map((id) => ({ ...this.#state.offers.get(id)! }));
  }

  ledger(): Block[] {
    return this.#state.blocks.map((block) => ({ header: { ...block.header }, hash: block.hash, transactions: block.transactions.map((tx) => Uint8Array.from(tx)) }));
  }

  lastRound(): RoundSummary | undefined {
    return this.#lastRound;
  }

  scoreInputs(): NodeScoreInput[] {
    return scoreInputsOf(this.#state);
  }

  scores(strategy: ScoringStrategy = this.#scoring): Map<string, number> {
    return strategy.score(this.scoreInputs());
  }

  voteWeights(options: VoteWeightsInit & { strategy?: ScoringStrategy } = {}): Map<string, number> {
    const { strategy, ...init } = options;
    return toVoteWeights(this.scores(strategy), { ...this.#voteWeightsInit, ...init });
  }
}

function unreachable(value: never): never {
  throw new TransactionAbortedError(`unhandled transaction ${(value as MarketTransaction).type}`);
}

/** Every registered node's score inputs in `view`, by id. Reads primitives only: no copy per node. */
function scoreInputsOf(view: StateView): NodeScoreInput[] {
  return view.nodeIds().map((id) => {
    const node = view.node(id)!;
    return {
      id: node.id,
      kind: node.kind,
      creditWeight: node.creditWeight,
      contracted: node.lastRoundContractedKWh,
      actual: node.lastRoundActualKWh,
      participation: node.participation,
      greenCertificates: held(node),
      carbonSettlement: node.carbonSettlement,
      ...(node.kind === 'generation' ? { transmissions: node.transmissions, transmissionFaults: node.transmissionFaults } : {}),
    };
  });
}

/**
 * Creates a power market: the replicated state machine of the paper's §2. Hand it to a
 * `ConsensusNode` as its state machine, or call {@link PowerMarket.execute} directly.
 *
 * @throws `InvalidArgumentError` (from `@greenraft/consensus`) on invalid options.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket } from '@greenraft/power-market';
 *
 * const market = powerMarket({ initialCreditWeight: 80, onRound: (round) => console.log('settled', round) });
 * const gen = marketClient({ id: 'g1', keys: generateParticipantKeys() });
 * const receipt = market.execute(gen.register({ kind: 'generation', renewable: true }));
 * market.node('g1')?.creditWeight; // 80
 * // In a cluster: createRaftNode({ ..., stateMachine: powerMarket() }) on every replica.
 * ```
 */
export function powerMarket(init: PowerMarketInit = {}): PowerMarket {
  return new Market(init);
}
