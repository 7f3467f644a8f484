/**
 * The power-trading market of the weighted Raft paper (Xiong, Liu, Qu and Cai, 2023, §2–§4.3)
 * as a deterministic replicated state machine: node registration, day-ahead contracts signed
 * with ed25519, metered delivery, settlement (eq. 26–31), credit weights (eq. 14–17), penalties
 * and their allocation (eq. 32–34), green certificates (eq. 6, 20), carbon settlement
 * (eq. 21–22), line faults (eq. 23), a hash-chained ledger of blocks, and, after every round,
 * the score inputs and vote weights that `@greenraft/weight-scoring` computes from them.
 * {@link settleRound} is the pure settlement of one round; {@link powerMarket} is the state
 * machine to hand to any `ConsensusNode`. Its `apply()` never throws: every committed entry is
 * decoded through a schema and applied, or refused the same way on every replica, and every
 * quantity stays within {@link MARKET_LIMITS}, so money is exact.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, toYuan } from '@greenraft/power-market';
 *
 * const market = powerMarket({ initialCreditWeight: 80 });
 * const solar = marketClient({ id: 'solar-farm', keys: generateParticipantKeys() });
 * const mill = marketClient({ id: 'paper-mill', keys: generateParticipantKeys() });
 * market.execute(solar.register({ kind: 'generation', renewable: true }));
 * market.execute(mill.register({ kind: 'consumption' }));
 *
 * // A day-ahead contract: 1200 kWh at 0.60 yuan/kWh, proposed by the farm, accepted by the mill.
 * const { contractId } = market.execute(
 *   solar.proposeContract({ counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) }),
 * );
 * market.execute(mill.acceptContract(contractId!));
 *
 * // Metered delivery: the mill used only 1100 kWh, so it defaults on 100 kWh.
 * market.execute(solar.reportDelivery(contractId!, 1200));
 * market.execute(mill.reportDelivery(contractId!, 1100));
 * const { round } = market.execute(mill.settleRound([contractId!]));
 *
 * console.log(toYuan(market.balance('solar-farm')), toYuan(market.balance('paper-mill')), toYuan(market.gridBalance()));
 * // 720 -857.333 137.333
 * console.log(market.node('paper-mill')?.creditWeight, market.greenCertificates('solar-farm'));
 * // 73.33… 1
 * console.log(round?.scores, market.voteWeights({ tolerateFailures: 0 }));
 * ```
 *
 * @packageDocumentation
 */
export {
  ContractAlreadySettledError,
  InsufficientCertificatesError,
  InvalidContractStateError,
  InvalidCounterpartyError,
  InvalidEncodingError,
  InvalidLedgerError,
  InvalidQuantityError,
  InvalidRoundError,
  InvalidSignatureError,
  InvalidSnapshotError,
  InvalidTransactionError,
  LimitExceededError,
  MarketError,
  type MarketErrorCode,
  NodeAlreadyRegisteredError,
  NotAPartyError,
  PriceOutOfRangeError,
  ReplayedNonceError,
  TransactionAbortedError,
  UnknownContractError,
  UnknownNodeError,
  UnknownOfferError,
} from './errors.js';
export { MARKET_LIMITS } from './limits.js';
export { toMilliYuan, toYuan } from './money.js';
export {
  type ContractSettlement,
  type MarketPrices,
  type MilliYuan,
  type NodeKind,
  type NodeSettlement,
  PAPER_PRICES,
  type RoundContract,
  type RoundInput,
  type RoundNode,
  type RoundSettlement,
  settleRound,
} from './settlement.js';
export { type ParsedRoundDocument, parseRoundDocument } from './round-document.js';
export {
  type AcceptCertificatesTransaction,
  type AcceptContractTransaction,
  decodeSignedTransaction,
  decodeTransactions,
  encodeTransactions,
  generateParticipantKeys,
  type MarketTransaction,
  type MarketTransactionType,
  type OfferCertificatesTransaction,
  type ParticipantKeys,
  parseSignedTransaction,
  parseTransaction,
  type ProposeContractTransaction,
  publicKeyToBase64Url,
  type RecordCarbonTransaction,
  type RecordParticipationTransaction,
  type RegisterNodeTransaction,
  type ReportDeliveryTransaction,
  type ReportLineFaultTransaction,
  type SettleRoundTransaction,
  type SignedTransaction,
  type SigningOptions,
  signingBytes,
  signTransaction,
  type TransactionBase,
  transactionHash,
  verifyTransactionSignature,
} from './transactions.js';
export { type ContractProposal, type MarketClient, type MarketClientInit, marketClient, transactionSubjectId } from './client.js';
export {
  type Block,
  type BlockHeader,
  GENESIS_HASH,
  type LedgerHead,
  type LedgerVerification,
  type VerifyLedgerOptions,
  verifyLedger,
} from './ledger.js';
export {
  type ApplyResult,
  type CarbonCycleAccount,
  type CertificateOffer,
  type MarketContract,
  type MarketNode,
  type PowerMarket,
  type PowerMarketInit,
  powerMarket,
  type RoundSummary,
  type TransactionOutcome,
  type TransactionReceipt,
} from './market.js';
export { type ReplayLedgerOptions, replayLedger } from './replay.js';
export { blocksFromJson } from './ledger-json.js';
