import { createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalDecode, canonicalEncode, fromBase64Url, sha256Hex, toBase64Url } from './canonical.js';
import { InvalidQuantityError, InvalidSignatureError, InvalidTransactionError } from './errors.js';
import type { NodeKind } from './settlement.js';

/** Fields every transaction carries. */
export interface TransactionBase {
  /** The participant that signs: its node id (trading address A_i). */
  readonly signer: string;
  /** Strictly increasing per signer (1, 2, ...; gaps allowed): a replayed transaction is refused. */
  readonly nonce: number;
}

/** N_i = [A_i, T_i, B_i, W_i] (eq. 1): registers `signer` as a node, self-signed with the enclosed key. */
export interface RegisterNodeTransaction extends TransactionBase {
  readonly type: 'registerNode';
  readonly kind: NodeKind;
  /** Whether the node generates renewable power (it earns green certificates, eq. 6). */
  readonly renewable: boolean;
  /** The node's ed25519 public key: its 32 raw bytes as base64url. */
  readonly publicKey: string;
}

/**
 * A day-ahead contract offered by `signer` to `counterparty` (one generation node and one
 * consumption node). Its id is `"<signer>/<nonce>"`. The counterparty accepts it to make it binding.
 */
export interface ProposeContractTransaction extends TransactionBase {
  readonly type: 'proposeContract';
  readonly counterparty: string;
  /** U, yuan/kWh, within the market's price range. */
  readonly unitPrice: number;
  /** C_e, kWh (> 0). */
  readonly contractedKWh: number;
  /** Start of the delivery window, ms since the Unix epoch. */
  readonly deliveryStart: number;
  /** End of the delivery window, ms since the Unix epoch (after the start). */
  readonly deliveryEnd: number;
  /** The handling fee each party pays the grid operator when the contract becomes binding, yuan (≥ 0). */
  readonly handlingFee: number;
}

/** The counterparty accepts a proposed contract; both parties pay the handling fee. */
export interface AcceptContractTransaction extends TransactionBase {
  readonly type: 'acceptContract';
  readonly contractId: string;
}

/** A party's metered volume under a contract: generation when the signer is the generator, consumption when the consumer. */
export interface ReportDeliveryTransaction extends TransactionBase {
  readonly type: 'reportDelivery';
  readonly contractId: string;
  /** E_a, kWh (≥ 0). */
  readonly meteredKWh: number;
}

/**
 * Settles the listed accepted contracts as one trading round (eq. 14–17, 26–34). A party that
 * reported no metered volume is settled as having delivered or consumed nothing.
 */
export interface SettleRoundTransaction extends TransactionBase {
  readonly type: 'settleRound';
  readonly contractIds: readonly string[];
}

/** Offers `count` green certificates to `buyer` at `unitPrice` yuan each. Its id is `"<signer>/<nonce>"`. */
export interface OfferCertificatesTransaction extends TransactionBase {
  readonly type: 'offerCertificates';
  readonly buyer: string;
  /** A positive integer. */
  readonly count: number;
  /** Yuan per certificate (≥ 0). */
  readonly unitPrice: number;
}

/** The buyer takes an offer: certificates move to it (they count for it now, eq. 20) and it pays the seller. */
export interface AcceptCertificatesTransaction extends TransactionBase {
  readonly type: 'acceptCertificates';
  readonly offerId: string;
}

/** Adds to the signer's carbon account of the current cycle (eq. 22), in tonnes of CO2. */
export interface RecordCarbonTransaction extends TransactionBase {
  readonly type: 'recordCarbon';
  /** A^q: quota issued to the node. */
  readonly quota: number;
  /** A^b: emission rights bought. */
  readonly purchased: number;
  /** A^e: actual emissions. */
  readonly emitted: number;
}

/** A party reports that the transmission of a settled contract failed on the line (eq. 23's C_b). */
export interface ReportLineFaultTransaction extends TransactionBase {
  readonly type: 'reportLineFault';
  readonly contractId: string;
}

/**
 * Records which voters' acknowledgements formed a commit quorum (eq. 19's valid replies), as the
 * leader's `commitQuorum` event reports them. Every listed id must be a registered node.
 */
export interface RecordParticipationTransaction extends TransactionBase {
  readonly type: 'recordParticipation';
  readonly acknowledgements: readonly string[];
}

/** Every transaction the market accepts. */
export type MarketTransaction =
  | RegisterNodeTransaction
  | ProposeContractTransaction
  | AcceptContractTransaction
  | ReportDeliveryTransaction
  | SettleRoundTransaction
  | OfferCertificatesTransaction
  | AcceptCertificatesTransaction
  | RecordCarbonTransaction
  | ReportLineFaultTransaction
  | RecordParticipationTransaction;

/** The `type` tag of a {@link MarketTransaction}. */
export type MarketTransactionType = MarketTransaction['type'];

/** A transaction with its signer's ed25519 signature (base64url) over its canonical signing bytes. */
export interface SignedTransaction {
  readonly transaction: MarketTransaction;
  readonly signature: string;
}

/** Options of signing and verification. */
export interface SigningOptions {
  /**
   * Names the market: signatures for one market do not verify in another.
   * @default 'greenraft'
   */
  marketId?: string;
}

/** The default market id. */
export const DEFAULT_MARKET_ID = 'greenraft';

const SIGNING_DOMAIN = 'greenraft-market/v1';

type FieldKind = 'string' | 'number' | 'boolean' | 'strings';
const SCHEMAS: Record<MarketTransactionType, Record<string, FieldKind>> = {
  registerNode: { kind: 'string', renewable: 'boolean', publicKey: 'string' },
  proposeContract: {
    counterparty: 'string',
    unitPrice: 'number',
    contractedKWh: 'number',
    deliveryStart: 'number',
    deliveryEnd: 'number',
    handlingFee: 'number',
  },
  acceptContract: { contractId: 'string' },
  reportDelivery: { contractId: 'string', meteredKWh: 'number' },
  settleRound: { contractIds: 'strings' },
  offerCertificates: { buyer: 'string', count: 'number', unitPrice: 'number' },
  acceptCertificates: { offerId: 'string' },
  recordCarbon: { quota: 'number', purchased: 'number', emitted: 'number' },
  reportLineFault: { contractId: 'string' },
  recordParticipation: { acknowledgements: 'strings' },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegative(tx: MarketTransaction, name: string, value: number, positive = false): void {
  if (!Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new InvalidQuantityError(`${tx.type}: ${name} must be a finite number ${positive ? '> 0' : '≥ 0'}, got ${String(value)}`);
  }
}

/**
 * Checks a transaction's shape (known type, exactly the expected fields with the right types, a
 * positive integer nonce) and its quantities (finite, non-negative, ...). Checks that need the
 * market's state (known nodes, price range, contract status) are the market's.
 *
 * @throws {@link InvalidTransactionError} on a malformed transaction, {@link InvalidQuantityError}
 *   on a negative or non-finite quantity.
 *
 * @example
 * ```ts
 * import { InvalidQuantityError, validateTransaction } from '@greenraft/power-market';
 *
 * const untrusted: unknown = JSON.parse('{"type":"reportDelivery","signer":"c1","nonce":3,"contractId":"g1/2","meteredKWh":-5}');
 * try {
 *   validateTransaction(untrusted); // narrows `untrusted` to MarketTransaction when it returns
 * } catch (err) {
 *   if (err instanceof InvalidQuantityError) console.log(err.message); // reportDelivery: meteredKWh must be a finite number ≥ 0, got -5
 * }
 * ```
 */
export function validateTransaction(value: unknown): asserts value is MarketTransaction {
  if (!isRecord(value)) throw new InvalidTransactionError('a transaction must be an object');
  const type = value['type'];
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMAS, type)) throw new InvalidTransactionError(`unknown transaction type ${JSON.stringify(type)}`);
  const schema = SCHEMAS[type as MarketTransactionType];
  const expected = new Set(['type', 'signer', 'nonce', ...Object.keys(schema)]);
  for (const key of Object.keys(value)) if (!expected.has(key)) throw new InvalidTransactionError(`${type}: unexpected field ${key}`);
  if (typeof value['signer'] !== 'string' || value['signer'].length === 0) throw new InvalidTransactionError(`${type}: signer must be a non-empty string`);
  const nonce = value['nonce'];
  if (typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 1) {
    throw new InvalidTransactionError(`${type}: nonce must be a positive integer, got ${String(nonce)}`);
  }
  for (const [key, kind] of Object.entries(schema)) {
    const field = value[key];
    const ok =
      kind === 'strings'
        ? Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'string' && item.length > 0) && new Set(field).size === field.length
        : kind === 'string'
          ? typeof field === 'string' && field.length > 0
          : typeof field === kind;
    if (!ok) {
      const wanted = kind === 'strings' ? 'a non-empty list of distinct non-empty strings' : kind === 'string' ? 'a non-empty string' : `a ${kind}`;
      throw new InvalidTransactionError(`${type}: ${key} must be ${wanted}`);
    }
  }
  const tx = value as unknown as MarketTransaction;
  switch (tx.type) {
    case 'registerNode':
      if (tx.kind !== 'generation' && tx.kind !== 'consumption') throw new InvalidTransactionError(`registerNode: kind must be 'generation' or 'consumption'`);
      if (fromBase64Url(tx.publicKey)?.length !== 32) throw new InvalidTransactionError('registerNode: publicKey must be 32 bytes of base64url');
      break;
    case 'proposeContract':
      if (tx.signer === tx.counterparty) throw new InvalidTransactionError('proposeContract: a node cannot contract with itself');
      if (!Number.isFinite(tx.unitPrice)) throw new InvalidQuantityError(`proposeContract: unitPrice must be finite, got ${tx.unitPrice}`);
      nonNegative(tx, 'contractedKWh', tx.contractedKWh, true);
      nonNegative(tx, 'handlingFee', tx.handlingFee);
      nonNegative(tx, 'deliveryStart', tx.deliveryStart);
      nonNegative(tx, 'deliveryEnd', tx.deliveryEnd);
      if (!(tx.deliveryEnd > tx.deliveryStart)) throw new InvalidQuantityError('proposeContract: deliveryEnd must be after deliveryStart');
      break;
    case 'reportDelivery':
      nonNegative(tx, 'meteredKWh', tx.meteredKWh);
      break;
    case 'offerCertificates':
      if (!Number.isSafeInteger(tx.count) || tx.count < 1) throw new InvalidQuantityError(`offerCertificates: count must be a positive integer, got ${tx.count}`);
      nonNegative(tx, 'unitPrice', tx.unitPrice);
      if (tx.buyer === tx.signer) throw new InvalidTransactionError('offerCertificates: a node cannot sell to itself');
      break;
    case 'recordCarbon':
      nonNegative(tx, 'quota', tx.quota);
      nonNegative(tx, 'purchased', tx.purchased);
      nonNegative(tx, 'emitted', tx.emitted);
      break;
    default:
      break;
  }
}

/** The bytes a signature covers: the canonical encoding of the domain, the market id and the transaction. */
export function signingBytes(transaction: MarketTransaction, options: SigningOptions = {}): Uint8Array {
  return canonicalEncode({ domain: SIGNING_DOMAIN, marketId: options.marketId ?? DEFAULT_MARKET_ID, transaction });
}

/** A participant's ed25519 key pair: the public key as base64url raw bytes, the private key as a `KeyObject`. */
export interface ParticipantKeys {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/**
 * Generates an ed25519 key pair for a participant.
 *
 * @example
 * ```ts
 * const keys = generateParticipantKeys();
 * const tx = signTransaction({ type: 'registerNode', signer: 'g1', nonce: 1, kind: 'generation', renewable: true, publicKey: keys.publicKey }, keys.privateKey);
 * ```
 */
export function generateParticipantKeys(): ParticipantKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKeyToBase64Url(publicKey), privateKey };
}

/** The raw 32-byte ed25519 public key of `key` (a public or private `KeyObject`) as base64url. */
export function publicKeyToBase64Url(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new InvalidSignatureError('the key is not an ed25519 key');
  return jwk.x;
}

/** Imports a base64url raw ed25519 public key; `undefined` when it is not one. */
export function importPublicKey(publicKey: string): KeyObject | undefined {
  if (fromBase64Url(publicKey)?.length !== 32) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * Validates and signs a transaction with the participant's ed25519 private key.
 *
 * @throws {@link InvalidTransactionError} or {@link InvalidQuantityError} when the transaction is
 *   malformed (the market would refuse it anyway).
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, signTransaction, verifyTransactionSignature } from '@greenraft/power-market';
 *
 * const keys = generateParticipantKeys();
 * const signed = signTransaction(
 *   { type: 'registerNode', signer: 'g1', nonce: 1, kind: 'generation', renewable: true, publicKey: keys.publicKey },
 *   keys.privateKey,
 * );
 * verifyTransactionSignature(signed, keys.publicKey); // true
 * ```
 */
export function signTransaction(transaction: MarketTransaction, privateKey: KeyObject, options: SigningOptions = {}): SignedTransaction {
  validateTransaction(transaction);
  const signature = sign(null, signingBytes(transaction, options), privateKey);
  return { transaction, signature: toBase64Url(signature) };
}

/**
 * True when `signed.signature` is `publicKey`'s (a base64url raw key or a `KeyObject`) over the
 * transaction, for the same market id. Never throws: a malformed key or signature is `false`.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, signTransaction, verifyTransactionSignature } from '@greenraft/power-market';
 *
 * const keys = generateParticipantKeys();
 * const signed = signTransaction({ type: 'recordCarbon', signer: 'g1', nonce: 2, quota: 100, purchased: 0, emitted: 80 }, keys.privateKey);
 * verifyTransactionSignature(signed, keys.publicKey); // true
 * verifyTransactionSignature(signed, generateParticipantKeys().publicKey); // false: another key
 * verifyTransactionSignature(signed, keys.publicKey, { marketId: 'other-market' }); // false: signed for 'greenraft'
 * ```
 */
export function verifyTransactionSignature(signed: SignedTransaction, publicKey: string | KeyObject, options: SigningOptions = {}): boolean {
  const key = typeof publicKey === 'string' ? importPublicKey(publicKey) : publicKey;
  const signature = typeof signed.signature === 'string' ? fromBase64Url(signed.signature) : undefined;
  if (key === undefined || signature?.length !== 64) return false;
  try {
    return verify(null, signingBytes(signed.transaction, options), key, signature);
  } catch {
    return false;
  }
}

/**
 * Checks the envelope of a signed transaction (exactly `transaction` and a string `signature`)
 * and its transaction. It does not check the signature: that needs the signer's registered key
 * ({@link verifyTransactionSignature}).
 *
 * @throws like {@link validateTransaction}.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, validateSignedTransaction } from '@greenraft/power-market';
 *
 * const wire = JSON.stringify(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * const received: unknown = JSON.parse(wire); // untrusted, e.g. an HTTP request body
 * validateSignedTransaction(received); // throws InvalidTransactionError unless well-formed
 * console.log(received.transaction.signer); // 'g1': typed as SignedTransaction from here on
 * ```
 */
export function validateSignedTransaction(value: unknown): asserts value is SignedTransaction {
  if (!isRecord(value)) throw new InvalidTransactionError('a signed transaction must be an object');
  for (const key of Object.keys(value)) {
    if (key !== 'transaction' && key !== 'signature') throw new InvalidTransactionError(`signed transaction: unexpected field ${key}`);
  }
  if (typeof value['signature'] !== 'string') throw new InvalidTransactionError('signed transaction: signature must be a base64url string');
  validateTransaction(value['transaction']);
}

/** The canonical bytes of one signed transaction (what a ledger block stores and hashes). */
export function encodeSignedTransaction(signed: SignedTransaction): Uint8Array {
  return canonicalEncode(signed);
}

/**
 * The id of a signed transaction: sha256 of its canonical bytes, hex (the `hash` of its receipt).
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, powerMarket, transactionHash } from '@greenraft/power-market';
 *
 * const register = marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' });
 * const market = powerMarket();
 * market.execute(register).hash === transactionHash(register); // true: 64 hex digits
 * ```
 */
export function transactionHash(signed: SignedTransaction): string {
  return sha256Hex(encodeSignedTransaction(signed));
}

/**
 * Encodes one signed transaction or a batch as the `data` of a log entry for
 * `ConsensusNode.propose()`. Every transaction of one entry lands in the same ledger block.
 *
 * @example
 * ```ts
 * import { encodeTransactions, generateParticipantKeys, marketClient } from '@greenraft/power-market';
 *
 * const g1 = marketClient({ id: 'g1', keys: generateParticipantKeys() });
 * const register = g1.register({ kind: 'generation', renewable: true });
 * const contract = g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 100, deliveryStart: 0, deliveryEnd: 86_400_000 });
 * // `node` is a ConsensusNode whose state machine is a powerMarket(): both land in one block.
 * await node.propose(encodeTransactions([register, contract]));
 * ```
 */
export function encodeTransactions(transactions: SignedTransaction | readonly SignedTransaction[]): Uint8Array {
  return canonicalEncode(Array.isArray(transactions) ? transactions : [transactions]);
}

/**
 * Decodes a log entry's `data` into signed transactions, checking each one's shape.
 *
 * @throws {@link InvalidTransactionError} when the bytes are not a canonical list of well-formed
 *   signed transactions.
 *
 * @example
 * ```ts
 * import { decodeTransactions, encodeTransactions, generateParticipantKeys, marketClient } from '@greenraft/power-market';
 *
 * const g1 = marketClient({ id: 'g1', keys: generateParticipantKeys() });
 * const data = encodeTransactions([g1.register({ kind: 'generation' })]); // a log entry's data
 * for (const { transaction } of decodeTransactions(data)) console.log(transaction.type, transaction.signer); // registerNode g1
 * decodeTransactions(new TextEncoder().encode('[{"b": 1}]')); // throws InvalidTransactionError: not canonical JSON
 * ```
 */
export function decodeTransactions(data: Uint8Array): SignedTransaction[] {
  let value: unknown;
  try {
    value = canonicalDecode(data);
  } catch (cause) {
    throw new InvalidTransactionError('the entry is not canonical JSON', { cause });
  }
  if (!Array.isArray(value)) throw new InvalidTransactionError('the entry must hold a list of signed transactions');
  for (const item of value) validateSignedTransaction(item);
  return value as SignedTransaction[];
}
