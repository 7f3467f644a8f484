import type { NodeKind } from './settlement.js';
import {
  type MarketTransaction,
  type ParticipantKeys,
  type SignedTransaction,
  DEFAULT_MARKET_ID,
  signTransaction,
} from './transactions.js';

/** Options of {@link marketClient}. */
export interface MarketClientInit {
  /** The participant's node id (trading address). */
  id: string;
  /** Its ed25519 keys ({@link generateParticipantKeys}). */
  keys: ParticipantKeys;
  /**
   * The market the transactions are for.
   * @default 'greenraft'
   */
  marketId?: string;
  /**
   * The last nonce the market accepted from this participant; the next transaction uses the one after.
   * @default 0
   */
  lastNonce?: number;
}

/** Fields of a contract proposal (see {@link ProposeContractTransaction}). */
export interface ContractProposal {
  counterparty: string;
  unitPrice: number;
  contractedKWh: number;
  deliveryStart: number;
  deliveryEnd: number;
  /** @default 0 */
  handlingFee?: number;
}

/** Builds and signs one participant's transactions, numbering nonces 1, 2, 3, ... */
export interface MarketClient {
  readonly id: string;
  /** The participant's public key (base64url raw ed25519). */
  readonly publicKey: string;
  /** The nonce the next transaction will carry. */
  readonly nextNonce: number;
  /** Registers the participant (self-signed). */
  register(node: { kind: NodeKind; renewable?: boolean }): SignedTransaction;
  /** Proposes a day-ahead contract; its id is {@link transactionSubjectId} of the result. */
  proposeContract(proposal: ContractProposal): SignedTransaction;
  acceptContract(contractId: string): SignedTransaction;
  reportDelivery(contractId: string, meteredKWh: number): SignedTransaction;
  settleRound(contractIds: readonly string[]): SignedTransaction;
  /** Offers green certificates; the offer's id is {@link transactionSubjectId} of the result. */
  offerCertificates(offer: { buyer: string; count: number; unitPrice: number }): SignedTransaction;
  acceptCertificates(offerId: string): SignedTransaction;
  recordCarbon(account: { quota?: number; purchased?: number; emitted?: number }): SignedTransaction;
  reportLineFault(contractId: string): SignedTransaction;
  recordParticipation(acknowledgements: readonly string[]): SignedTransaction;
}

/**
 * The id the market gives what a `proposeContract` or `offerCertificates` creates:
 * `"<signer>/<nonce>"`.
 */
export function transactionSubjectId(signed: SignedTransaction): string {
  return `${signed.transaction.signer}/${signed.transaction.nonce}`;
}

type Body<T extends MarketTransaction> = T extends MarketTransaction ? Omit<T, 'signer' | 'nonce'> : never;

/**
 * A participant's transaction builder: each method returns a signed transaction with the next
 * nonce, ready for `market.execute()` or, encoded with {@link encodeTransactions}, for
 * `node.propose()`.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, transactionSubjectId } from '@greenraft/power-market';
 *
 * const g1 = marketClient({ id: 'g1', keys: generateParticipantKeys() });
 * const register = g1.register({ kind: 'generation', renewable: true });
 * const offer = g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 100, deliveryStart: 0, deliveryEnd: 86_400_000 });
 * transactionSubjectId(offer); // 'g1/2'
 * ```
 */
export function marketClient(init: MarketClientInit): MarketClient {
  const options = { marketId: init.marketId ?? DEFAULT_MARKET_ID };
  let nonce = init.lastNonce ?? 0;
  const signed = (body: Body<MarketTransaction>): SignedTransaction => {
    const transaction = { ...body, signer: init.id, nonce: nonce + 1 } as MarketTransaction;
    const result = signTransaction(transaction, init.keys.privateKey, options);
    nonce += 1; // only once signing succeeded, so a refused build does not skip a nonce
    return result;
  };
  return {
    id: init.id,
    publicKey: init.keys.publicKey,
    get nextNonce() {
      return nonce + 1;
    },
    register: ({ kind, renewable = false }) => signed({ type: 'registerNode', kind, renewable, publicKey: init.keys.publicKey }),
    proposeContract: ({ handlingFee = 0, ...proposal }) => signed({ type: 'proposeContract', handlingFee, ...proposal }),
    acceptContract: (contractId) => signed({ type: 'acceptContract', contractId }),
    reportDelivery: (contractId, meteredKWh) => signed({ type: 'reportDelivery', contractId, meteredKWh }),
    settleRound: (contractIds) => signed({ type: 'settleRound', contractIds: [...contractIds] }),
    offerCertificates: (offer) => signed({ type: 'offerCertificates', ...offer }),
    acceptCertificates: (offerId) => signed({ type: 'acceptCertificates', offerId }),
    recordCarbon: ({ quota = 0, purchased = 0, emitted = 0 }) => signed({ type: 'recordCarbon', quota, purchased, emitted }),
    reportLineFault: (contractId) => signed({ type: 'reportLineFault', contractId }),
    recordParticipation: (acknowledgements) => signed({ type: 'recordParticipation', acknowledgements: [...acknowledgements] }),
  };
}
