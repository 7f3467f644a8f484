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
import { canonicalDecode, canonicalEncode, fromBase64Url, toBase64Url } from './canonical.js';
import {
  ContractAlreadySettledError,
  InsufficientCertificatesError,
  InvalidContractStateError,
  InvalidCounterpartyError,
  InvalidSignatureError,
  InvalidTransactionError,
  MarketError,
  NodeAlreadyRegisteredError,
  NotAPartyError,
  PriceOutOfRangeError,
  ReplayedNonceError,
  UnknownContractError,
  UnknownNodeError,
  UnknownOfferError,
} from './errors.js';
import { type Block, createBlock } from './ledger.js';
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
import {
  DEFAULT_MARKET_ID,
  type MarketTransaction,
  type SignedTransaction,
  encodeSignedTransaction,
  importPublicKey,
  transactionHash,
  validateSignedTransaction,
  verifyTransactionSignature,
} from './transactions.js';

/** A node's carbon account for the cycle in progress, tonnes of CO2 (eq. 22's terms). */
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

interface MarketState {
  version: 1;
  marketId: string;
  /** Rounds settled so far. */
  round: number;
  lastAppliedIndex: number;
  gridBalance: number;
  nodes: Record<string, Mutable<MarketNode>>;
  contracts: Record<string, Mutable<MarketContract>>;
  offers: Record<string, CertificateOffer>;
  blocks: Block[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

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

/** The outcome of one transaction of an entry: accepted with a receipt, or refused with its typed error. */
export type TransactionOutcome =
  | { readonly accepted: true; readonly receipt: TransactionReceipt }
  | { readonly accepted: false; readonly error: MarketError };

/** What {@link PowerMarket.apply} returns for one committed entry (the proposer's `propose()` resolves with it). */
export interface ApplyResult {
  readonly index: number;
  /** The block the accepted transactions formed, or `undefined` (no-op entry, all refused, or already applied). */
  readonly block: { readonly height: number; readonly hash: string } | undefined;
  /** One outcome per transaction in the entry, in order; empty for a no-op or an already-applied entry. */
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
   * The grid's prices S, B and G, yuan/kWh.
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
   * The paper's parameters: W_a^max, decay δ and interval l (eq. 24–25), participation step ω
   * (eq. 19), and the factors of the default scoring strategy.
   * @default PAPER_ELECTION_PARAMETERS
   */
  parameters?: Partial<PaperParameters>;
  /**
   * How scores are computed from the score inputs after each round.
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
   * entry's block is appended, or at once for `execute`).
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
   * ({@link encodeTransactions}). Each is executed in order; refused ones change nothing and are
   * reported in the result; the accepted ones form one ledger block with the entry's term and
   * index. An empty entry (the leader's no-op) forms no block. Entries at or below the last
   * applied index are skipped, so replaying after a restore is harmless.
   */
  apply(input: ApplyInput): ApplyResult;
  /** The whole state (nodes, contracts, offers, balances, ledger) as canonical JSON bytes. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's. @throws {@link InvalidTransactionError} on bytes that are not a market snapshot. */
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

function emptyState(marketId: string): MarketState {
  return { version: 1, marketId, round: 0, lastAppliedIndex: 0, gridBalance: 0, nodes: {}, contracts: {}, offers: {}, blocks: [] };
}

function held(node: MarketNode): number {
  return node.certificatesIssued - node.certificatesSold + node.certificatesBought;
}

function copy<T>(value: T): T {
  return structuredClone(value);
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
  #state: MarketState;
  #lastRound: RoundSummary | undefined;

  constructor(init: PowerMarketInit) {
    this.marketId = init.marketId ?? DEFAULT_MARKET_ID;
    if (typeof this.marketId !== 'string' || this.marketId.length === 0) throw new InvalidArgumentError('marketId must be a non-empty string');
    this.prices = Object.freeze({ ...(init.prices ?? PAPER_PRICES) });
    try {
      validatePrices(this.prices);
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
    this.#state = emptyState(this.marketId);
  }

  // ───────────── StateMachine ─────────────

  apply(input: ApplyInput): ApplyResult {
    const state = this.#state;
    if (input.index <= state.lastAppliedIndex) return { index: input.index, block: undefined, outcomes: [] };
    const outcomes: TransactionOutcome[] = [];
    const accepted: Uint8Array[] = [];
    const summaries: RoundSummary[] = [];
    if (input.data.length > 0) {
      let items: unknown[];
      try {
        const decoded = canonicalDecode(input.data);
        if (!Array.isArray(decoded)) throw new SyntaxError('not a list');
        items = decoded;
      } catch (cause) {
        items = [];
        outcomes.push({ accepted: false, error: new InvalidTransactionError('the entry is not a canonical list of signed transactions', { cause }) });
      }
      for (const item of items) {
        try {
          validateSignedTransaction(item);
          const receipt = this.#execute(item);
          accepted.push(encodeSignedTransaction(item));
          if (receipt.round) summaries.push(receipt.round);
          outcomes.push({ accepted: true, receipt });
        } catch (error) {
          if (!(error instanceof MarketError)) throw error;
          outcomes.push({ accepted: false, error });
        }
      }
    }
    state.lastAppliedIndex = input.index;
    let block: ApplyResult['block'];
    if (accepted.length > 0) {
      const created = createBlock(state.blocks.at(-1), { term: input.term, index: input.index }, accepted);
      state.blocks.push(created);
      block = { height: created.header.height, hash: created.hash };
    }
    for (const summary of summaries) this.#onRound?.(summary);
    return { index: input.index, block, outcomes };
  }

  snapshot(): Uint8Array {
    const { blocks, ...rest } = this.#state;
    return canonicalEncode({
      ...rest,
      blocks: blocks.map((block) => ({ header: block.header, hash: block.hash, transactions: block.transactions.map(toBase64Url) })),
    });
  }

  restore(data: Uint8Array): void {
    let decoded: unknown;
    try {
      decoded = canonicalDecode(data);
    } catch (cause) {
      throw new InvalidTransactionError('the snapshot is not canonical JSON', { cause });
    }
    const value = decoded as Omit<MarketState, 'blocks'> & { blocks: { header: Block['header']; hash: string; transactions: string[] }[] };
    if (typeof value !== 'object' || value === null || value.version !== 1 || !Array.isArray(value.blocks)) {
      throw new InvalidTransactionError('the snapshot is not a power-market snapshot (version 1)');
    }
    if (value.marketId !== this.marketId) throw new InvalidTransactionError(`the snapshot is of market ${String(value.marketId)}, not ${this.marketId}`);
    const blocks: Block[] = value.blocks.map((block) => ({
      header: block.header,
      hash: block.hash,
      transactions: block.transactions.map((tx) => {
        const bytes = fromBase64Url(tx);
        if (bytes === undefined) throw new InvalidTransactionError('the snapshot holds a transaction that is not base64url');
        return bytes;
      }),
    }));
    this.#state = { ...value, blocks };
    this.#lastRound = undefined;
  }

  execute(signed: SignedTransaction): TransactionReceipt {
    validateSignedTransaction(signed);
    const receipt = this.#execute(signed);
    const state = this.#state;
    const index = state.lastAppliedIndex + 1;
    state.blocks.push(createBlock(state.blocks.at(-1), { term: state.blocks.at(-1)?.header.term ?? 0, index }, [encodeSignedTransaction(signed)]));
    state.lastAppliedIndex = index;
    if (receipt.round) this.#onRound?.(receipt.round);
    return receipt;
  }

  // ───────────── transactions ─────────────

  #execute(signed: SignedTransaction): TransactionReceipt {
    const tx = signed.transaction;
    const state = this.#state;
    const signer = state.nodes[tx.signer];
    // Authenticate first: nothing about the state is revealed to an unsigned request.
    if (tx.type === 'registerNode') {
      if (signer) throw new NodeAlreadyRegisteredError(tx.signer);
      if (!importPublicKey(tx.publicKey)) throw new InvalidTransactionError('registerNode: publicKey is not an ed25519 key');
      if (!verifyTransactionSignature(signed, tx.publicKey, { marketId: this.marketId })) {
        throw new InvalidSignatureError(`the registration of ${tx.signer} is not signed by the enclosed key`);
      }
    } else {
      if (!signer) throw new UnknownNodeError(tx.signer);
      if (!verifyTransactionSignature(signed, signer.publicKey, { marketId: this.marketId })) {
        throw new InvalidSignatureError(`the signature does not verify under ${tx.signer}'s registered key`);
      }
      if (tx.nonce <= signer.lastNonce) throw new ReplayedNonceError(tx.signer, tx.nonce, signer.lastNonce);
    }
    const receipt: Mutable<TransactionReceipt> = { hash: transactionHash(signed), type: tx.type, signer: tx.signer, nonce: tx.nonce };
    // Each handler validates everything, then mutates; nothing after its first write can throw.
    switch (tx.type) {
      case 'registerNode':
        state.nodes[tx.signer] = {
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
        };
        return receipt;
      case 'proposeContract': {
        const counterparty = state.nodes[tx.counterparty];
        if (!counterparty) throw new UnknownNodeError(tx.counterparty);
        if (counterparty.kind === signer!.kind) {
          throw new InvalidCounterpartyError(`a contract needs one generation and one consumption node; ${tx.signer} and ${tx.counterparty} are both ${counterparty.kind} nodes`);
        }
        if (tx.unitPrice < this.priceRange.min || tx.unitPrice > this.priceRange.max) {
          throw new PriceOutOfRangeError(tx.unitPrice, this.priceRange.min, this.priceRange.max);
        }
        const id = `${tx.signer}/${tx.nonce}`;
        const generator = signer!.kind === 'generation' ? tx.signer : tx.counterparty;
        const consumer = generator === tx.signer ? tx.counterparty : tx.signer;
        signer!.lastNonce = tx.nonce;
        state.contracts[id] = {
          id,
          generator,
          consumer,
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
        };
        receipt.contractId = id;
        return receipt;
      }
      case 'acceptContract': {
        const contract = this.#contractFor(tx.contractId, tx.signer);
        if (contract.proposer === tx.signer) throw new NotAPartyError(`contract ${contract.id} must be accepted by the counterparty, not its proposer`);
        if (contract.status === 'settled') throw new ContractAlreadySettledError(contract.id);
        if (contract.status !== 'proposed') throw new InvalidContractStateError(`contract ${contract.id} is already accepted`);
        signer!.lastNonce = tx.nonce;
        contract.status = 'accepted';
        // Both parties pay the handling fee to the grid operator (§2.2 (2)).
        state.nodes[contract.generator]!.balance -= contract.handlingFee;
        state.nodes[contract.consumer]!.balance -= contract.handlingFee;
        state.gridBalance += 2 * contract.handlingFee;
        return receipt;
      }
      case 'reportDelivery': {
        const contract = this.#contractFor(tx.contractId, tx.signer);
        if (contract.status === 'settled') throw new ContractAlreadySettledError(contract.id);
        if (contract.status !== 'accepted') throw new InvalidContractStateError(`contract ${contract.id} is not accepted yet`);
        const field = tx.signer === contract.generator ? 'generatedKWh' : 'consumedKWh';
        if (contract[field] !== null) throw new InvalidContractStateError(`${tx.signer} already reported its metered volume for contract ${contract.id}`);
        signer!.lastNonce = tx.nonce;
        contract[field] = tx.meteredKWh;
        return receipt;
      }
      case 'settleRound': {
        const contracts = tx.contractIds.map((id) => {
          const contract = state.contracts[id];
          if (!contract) throw new UnknownContractError(id);
          if (contract.status === 'settled') throw new ContractAlreadySettledError(id);
          if (contract.status !== 'accepted') throw new InvalidContractStateError(`contract ${id} is not accepted, so it cannot be settled`);
          return contract;
        });
        const nodes = this.#nodesById();
        const settlement = settleRound({
          prices: this.prices,
          maxCreditWeight: this.#parameters.maxCreditWeight,
          nodes: nodes.map((node) => ({ id: node.id, kind: node.kind, creditWeight: node.creditWeight })),
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
        signer!.lastNonce = tx.nonce;
        this.#commitRound(contracts, settlement);
        receipt.round = this.#summarise(settlement);
        this.#lastRound = receipt.round;
        return receipt;
      }
      case 'offerCertificates': {
        const buyer = state.nodes[tx.buyer];
        if (!buyer) throw new UnknownNodeError(tx.buyer);
        if (held(signer!) < tx.count) throw new InsufficientCertificatesError(tx.signer, tx.count, held(signer!));
        const id = `${tx.signer}/${tx.nonce}`;
        signer!.lastNonce = tx.nonce;
        state.offers[id] = { id, seller: tx.signer, buyer: tx.buyer, count: tx.count, unitPrice: toMilliYuan(tx.unitPrice) };
        receipt.offerId = id;
        return receipt;
      }
      case 'acceptCertificates': {
        const offer = state.offers[tx.offerId];
        if (!offer) throw new UnknownOfferError(tx.offerId);
        if (offer.buyer !== tx.signer) throw new NotAPartyError(`offer ${offer.id} is addressed to ${offer.buyer}, not ${tx.signer}`);
        const seller = state.nodes[offer.seller]!;
        if (held(seller) < offer.count) throw new InsufficientCertificatesError(seller.id, offer.count, held(seller));
        signer!.lastNonce = tx.nonce;
        // eq. 20: sold certificates stop counting for the seller, bought ones count for the buyer.
        seller.certificatesSold += offer.count;
        signer!.certificatesBought += offer.count;
        const price = offer.count * offer.unitPrice;
        signer!.balance -= price;
        seller.balance += price;
        delete state.offers[offer.id];
        return receipt;
      }
      case 'recordCarbon': {
        signer!.lastNonce = tx.nonce;
        signer!.carbonCycle.quota += tx.quota;
        signer!.carbonCycle.purchased += tx.purchased;
        signer!.carbonCycle.emitted += tx.emitted;
        return receipt;
      }
      case 'reportLineFault': {
        const contract = this.#contractFor(tx.contractId, tx.signer);
        if (contract.status !== 'settled') throw new InvalidContractStateError(`contract ${contract.id} is not settled: no transmission to report on yet`);
        if (!((contract.generatedKWh ?? 0) > 0)) throw new InvalidContractStateError(`nothing was transmitted under contract ${contract.id}`);
        if (contract.lineFault) throw new InvalidContractStateError(`a line fault is already recorded for contract ${contract.id}`);
        signer!.lastNonce = tx.nonce;
        contract.lineFault = true;
        state.nodes[contract.generator]!.transmissionFaults += 1;
        return receipt;
      }
      case 'recordParticipation': {
        for (const id of tx.acknowledgements) if (!state.nodes[id]) throw new UnknownNodeError(id);
        signer!.lastNonce = tx.nonce;
        const before = new Map(Object.values(state.nodes).map((node) => [node.id, node.participation]));
        // eq. 19 for the round in progress; the first acknowledgement is the leader's own.
        const after = participationAfterCommit(before, { acks: tx.acknowledgements.map((id) => ({ id })) }, state.round + 1, this.#parameters);
        for (const [id, participation] of after) state.nodes[id]!.participation = participation;
        return receipt;
      }
    }
  }

  /** The contract, checked to exist and to have `signer` as a party. */
  #contractFor(contractId: string, signer: string): Mutable<MarketContract> {
    const contract = this.#state.contracts[contractId];
    if (!contract) throw new UnknownContractError(contractId);
    if (signer !== contract.generator && signer !== contract.consumer) throw new NotAPartyError(`${signer} is not a party to contract ${contractId}`);
    return contract;
  }

  #commitRound(contracts: Mutable<MarketContract>[], settlement: RoundSettlement): void {
    const state = this.#state;
    state.round += 1;
    const round = state.round;
    for (const result of settlement.nodes) {
      const node = state.nodes[result.id]!;
      node.balance += result.balanceChange;
      // eq. 24–25: credit and participation decay once every l rounds.
      node.creditWeight = weightBeforeNextRound(result.creditWeightAfter, round, this.#parameters);
      node.participation = weightBeforeNextRound(node.participation, round, this.#parameters);
      node.lastRoundContractedKWh = result.contractedKWh;
      node.lastRoundActualKWh = result.actualKWh;
    }
    state.gridBalance += settlement.gridBalanceChange;
    for (const contract of contracts) {
      contract.status = 'settled';
      contract.settledInRound = round;
      const generated = contract.generatedKWh ?? 0;
      const generator = state.nodes[contract.generator]!;
      if (generated > 0) generator.transmissions += 1; // eq. 23: C_t counts transmissions
      if (generator.renewable) {
        // eq. 6: one certificate per MWh, kWh accumulating across rounds.
        generator.renewableKWh += generated;
        generator.certificatesIssued = Math.floor(generator.renewableKWh / GREEN_CERTIFICATE_KWH);
      }
    }
    if (round % this.#carbonCycleRounds === 0) {
      for (const node of Object.values(state.nodes)) {
        node.carbonSettlement = carbonSettlement(node.carbonCycle); // eq. 22
        node.carbonCycle = { quota: 0, purchased: 0, emitted: 0 };
      }
    }
  }

  #summarise(settlement: RoundSettlement): RoundSummary {
    const scoreInputs = this.scoreInputs();
    // The round is committed by now: a strategy that throws (a custom one) only loses the summary's scores.
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
    return { round: this.#state.round, settlement, scoreInputs, scores, voteWeights };
  }

  // ───────────── queries ─────────────

  round(): number {
    return this.#state.round;
  }

  lastAppliedIndex(): number {
    return this.#state.lastAppliedIndex;
  }

  node(id: string): MarketNode | undefined {
    const node = this.#state.nodes[id];
    return node === undefined ? undefined : copy(node);
  }

  /** The live node records, ordered by id (the order of every list the market hands out). */
  #nodesById(): Mutable<MarketNode>[] {
    return Object.keys(this.#state.nodes)
      .sort()
      .map((id) => this.#state.nodes[id]!);
  }

  nodes(): MarketNode[] {
    return this.#nodesById().map(copy);
  }

  balance(id: string): MilliYuan {
    const node = this.#state.nodes[id];
    if (!node) throw new UnknownNodeError(id);
    return node.balance;
  }

  gridBalance(): MilliYuan {
    return this.#state.gridBalance;
  }

  greenCertificates(id: string): number {
    const node = this.#state.nodes[id];
    if (!node) throw new UnknownNodeError(id);
    return held(node);
  }

  contract(id: string): MarketContract | undefined {
    const contract = this.#state.contracts[id];
    return contract === undefined ? undefined : copy(contract);
  }

  offers(): CertificateOffer[] {
    return Object.keys(this.#state.offers)
      .sort()
      .map((id) => copy(this.#state.offers[id]!));
  }

  ledger(): Block[] {
    return this.#state.blocks.map((block) => ({ header: { ...block.header }, hash: block.hash, transactions: block.transactions.map((tx) => Uint8Array.from(tx)) }));
  }

  lastRound(): RoundSummary | undefined {
    return this.#lastRound;
  }

  scoreInputs(): NodeScoreInput[] {
    // Reads primitives only, so the live records serve: no copy per node on every settled round.
    return this.#nodesById().map((node) => ({
      id: node.id,
      kind: node.kind,
      creditWeight: node.creditWeight,
      contracted: node.lastRoundContractedKWh,
      actual: node.lastRoundActualKWh,
      participation: node.participation,
      greenCertificates: held(node),
      carbonSettlement: node.carbonSettlement,
      ...(node.kind === 'generation' ? { transmissions: node.transmissions, transmissionFaults: node.transmissionFaults } : {}),
    }));
  }

  scores(strategy: ScoringStrategy = this.#scoring): Map<string, number> {
    return strategy.score(this.scoreInputs());
  }

  voteWeights(options: VoteWeightsInit & { strategy?: ScoringStrategy } = {}): Map<string, number> {
    const { strategy, ...init } = options;
    return toVoteWeights(this.scores(strategy), { ...this.#voteWeightsInit, ...init });
  }
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
