/**
 * Market helpers of `@greenraft/client`: a participant's transactions signed with its ed25519 key
 * (by `@greenraft/power-market`'s `marketClient`) and submitted through a {@link GreenraftClient}
 * in one call. Each submission's idempotency key is the transaction's hash, so a retried
 * submission, even from a restarted process, is applied once. Needs `@greenraft/power-market`
 * (an optional peer dependency of `@greenraft/client`) and Node's `node:crypto`; the main entry
 * of `@greenraft/client` needs neither.
 *
 * @example
 * ```ts
 * import { createClient } from '@greenraft/client';
 * import { tradingClient } from '@greenraft/client/market';
 * import { generateParticipantKeys } from '@greenraft/power-market';
 *
 * const client = createClient({ endpoints: 'http://127.0.0.1:7001' }); // a market cluster
 * const solar = tradingClient({ client, id: 'solar-farm', keys: generateParticipantKeys() });
 * await solar.register({ kind: 'generation', renewable: true });
 * const { contractId } = await solar.proposeContract({
 *   counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3),
 * });
 * console.log(contractId); // 'solar-farm/2'
 * await client.close();
 * ```
 *
 * @packageDocumentation
 */
import { InvalidArgumentError } from '@greenraft/consensus';
import {
  type ContractProposal,
  type MarketClient,
  type MarketClientInit,
  marketClient,
  type NodeKind,
  type SignedTransaction,
  transactionHash,
  transactionSubjectId,
} from '@greenraft/power-market';
import type { CallOptions, GreenraftClient, SubmitResult } from './types.js';

/** Options of {@link tradingClient}: the client to submit through, and the participant's identity. */
export interface TradingClientInit extends MarketClientInit {
  /** The client of the market cluster. */
  client: GreenraftClient;
}

/** A contract proposal's submission: also the contract's id. */
export interface ProposedContract extends SubmitResult {
  /** `"<proposer>/<nonce>"`. */
  contractId: string;
}

/** A certificate offer's submission: also the offer's id. */
export interface OfferedCertificates extends SubmitResult {
  /** `"<seller>/<nonce>"`. */
  offerId: string;
}

/** One participant's market calls: each signs the next transaction and submits it. */
export interface TradingClient {
  /** The participant's node id. */
  readonly id: string;
  /** Its public key (base64url raw ed25519). */
  readonly publicKey: string;
  /** The signer, for transactions built by hand (its nonce is shared with these calls). */
  readonly signer: MarketClient;
  /** Submits an already signed transaction, with its hash as idempotency key. */
  submit(signed: SignedTransaction, options?: CallOptions): Promise<SubmitResult>;
  register(node: { kind: NodeKind; renewable?: boolean }, options?: CallOptions): Promise<SubmitResult>;
  proposeContract(proposal: ContractProposal, options?: CallOptions): Promise<ProposedContract>;
  acceptContract(contractId: string, options?: CallOptions): Promise<SubmitResult>;
  reportDelivery(contractId: string, meteredKWh: number, options?: CallOptions): Promise<SubmitResult>;
  settleRound(contractIds: readonly string[], options?: CallOptions): Promise<SubmitResult>;
  offerCertificates(offer: { buyer: string; count: number; unitPrice: number }, options?: CallOptions): Promise<OfferedCertificates>;
  acceptCertificates(offerId: string, options?: CallOptions): Promise<SubmitResult>;
  recordCarbon(account: { quota?: number; purchased?: number; emitted?: number }, options?: CallOptions): Promise<SubmitResult>;
  reportLineFault(contractId: string, options?: CallOptions): Promise<SubmitResult>;
}

/** The idempotency key of a signed transaction: its hash, unique per signer and nonce. */
export function transactionIdempotencyKey(signed: SignedTransaction): string {
  return `tx-${transactionHash(signed)}`;
}

/**
 * A participant's trading client: signs each transaction with `keys` (nonces from `lastNonce + 1`)
 * and submits it through `client`. A refused transaction rejects with `RejectedError` (its
 * `reason` is the market's error code) and changes nothing; its nonce is skipped, which the
 * market allows (a nonce need only be greater than the last one accepted).
 *
 * @example
 * ```ts
 * const mill = tradingClient({ client, id: 'paper-mill', keys });
 * await mill.register({ kind: 'consumption' });
 * await mill.acceptContract('solar-farm/2');
 * ```
 */
export function tradingClient(init: TradingClientInit): TradingClient {
  if (typeof init !== 'object' || init === null || typeof init.client !== 'object' || init.client === null) {
    throw new InvalidArgumentError('tradingClient takes { client, id, keys }');
  }
  const { client, ...participant } = init;
  const signer = marketClient(participant);
  const submit = (signed: SignedTransaction, options?: CallOptions) => client.market.submit(signed, { ...options, idempotencyKey: transactionIdempotencyKey(signed) });
  const created = async (signed: SignedTransaction, options?: CallOptions) => ({ ...(await submit(signed, options)), id: transactionSubjectId(signed) });
  return {
    id: signer.id,
    publicKey: signer.publicKey,
    signer,
    submit,
    register: (node, options) => submit(signer.register(node), options),
    proposeContract: async (proposal, options) => {
      const { id, ...result } = await created(signer.proposeContract(proposal), options);
      return { ...result, contractId: id };
    },
    acceptContract: (contractId, options) => submit(signer.acceptContract(contractId), options),
    reportDelivery: (contractId, meteredKWh, options) => submit(signer.reportDelivery(contractId, meteredKWh), options),
    settleRound: (contractIds, options) => submit(signer.settleRound(contractIds), options),
    offerCertificates: async (offer, options) => {
      const { id, ...result } = await created(signer.offerCertificates(offer), options);
      return { ...result, offerId: id };
    },
    acceptCertificates: (offerId, options) => submit(signer.acceptCertificates(offerId), options),
    recordCarbon: (account, options) => submit(signer.recordCarbon(account), options),
    reportLineFault: (contractId, options) => submit(signer.reportLineFault(contractId), options),
  };
}

