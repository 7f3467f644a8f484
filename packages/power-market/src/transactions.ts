import { createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';
import * as z from 'zod';
import { canonicalDecode, canonicalEncode, fromBase64Url, plainData, sha256Hex, toBase64Url } from './canonical.js';
import { describeValue, InvalidQuantityError, InvalidSignatureError, InvalidTransactionError, type MarketError } from './errors.js';
import { MARKET_LIMITS } from './limits.js';
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

/** The longest id of a contract or an offer: `"<node id>/<nonce>"`. */
const MAX_SUBJECT_ID_LENGTH = MARKET_LIMITS.maxIdLength + 17;

// Ids are printable: no whitespace, no control characters, no lone surrogates (the `u` flag reads
// a surrogate pair as one code point, so only unpaired halves fall in the range).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class names the control characters an id may not hold.
export const ID_CHARACTERS = /^[^\u0000-\u0020\u007f-\u009f\ud800-\udfff]+$/u;

const nodeId = z.string().min(1).max(MARKET_LIMITS.maxIdLength).regex(ID_CHARACTERS);
const subjectId = z.string().min(1).max(MAX_SUBJECT_ID_LENGTH).regex(ID_CHARACTERS);
const kWh = (max: number) => z.number().min(0).max(max);
const time = z.int().min(0).max(MARKET_LIMITS.maxTime);
const base = { signer: nodeId, nonce: z.int().min(1) };

const transactionSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('registerNode'),
    ...base,
    kind: z.enum(['generation', 'consumption']),
    renewable: z.boolean(),
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  }),
  z.strictObject({
    type: z.literal('proposeContract'),
    ...base,
    counterparty: nodeId,
    unitPrice: z.number().min(0).max(MARKET_LIMITS.maxPrice),
    contractedKWh: z.number().gt(0).max(MARKET_LIMITS.maxContractKWh),
    deliveryStart: time,
    deliveryEnd: time,
    handlingFee: z.number().min(0).max(MARKET_LIMITS.maxHandlingFee),
  }),
  z.strictObject({ type: z.literal('acceptContract'), ...base, contractId: subjectId }),
  z.strictObject({ type: z.literal('reportDelivery'), ...base, contractId: subjectId, meteredKWh: kWh(MARKET_LIMITS.maxMeteredKWh) }),
  z.strictObject({ type: z.literal('settleRound'), ...base, contractIds: z.array(subjectId).min(1).max(MARKET_LIMITS.maxRoundContracts) }),
  z.strictObject({
    type: z.literal('offerCertificates'),
    ...base,
    buyer: nodeId,
    count: z.int().min(1).max(MARKET_LIMITS.maxCertificateCount),
    unitPrice: z.number().min(0).max(MARKET_LIMITS.maxCertificatePrice),
  }),
  z.strictObject({ type: z.literal('acceptCertificates'), ...base, offerId: subjectId }),
  z.strictObject({
    type: z.literal('recordCarbon'),
    ...base,
    quota: kWh(MARKET_LIMITS.maxCarbonTonnes),
    purchased: kWh(MARKET_LIMITS.maxCarbonTonnes),
    emitted: kWh(MARKET_LIMITS.maxCarbonTonnes),
  }),
  z.strictObject({ type: z.literal('reportLineFault'), ...base, contractId: subjectId }),
  z.strictObject({
    type: z.literal('recordParticipation'),
    ...base,
    acknowledgements: z.array(nodeId).min(1).max(MARKET_LIMITS.maxAcknowledgements),
  }),
]);

const signedSchema = z.strictObject({ transaction: transactionSchema, signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/) });

/** What each quantity field must be, for the message of an {@link InvalidQuantityError}. */
const QUANTITY_RULES: Readonly<Record<string, string>> = {
  unitPrice: `a finite number in [0, ${MARKET_LIMITS.maxPrice}] (yuan/kWh), or [0, ${MARKET_LIMITS.maxCertificatePrice}] (yuan per certificate)`,
  contractedKWh: `a finite number in (0, ${MARKET_LIMITS.maxContractKWh}]`,
  deliveryStart: `an integer in [0, ${MARKET_LIMITS.maxTime}] (ms since the epoch)`,
  deliveryEnd: `an integer in [0, ${MARKET_LIMITS.maxTime}] (ms since the epoch)`,
  handlingFee: `a finite number in [0, ${MARKET_LIMITS.maxHandlingFee}]`,
  meteredKWh: `a finite number in [0, ${MARKET_LIMITS.maxMeteredKWh}]`,
  count: `an integer in [1, ${MARKET_LIMITS.maxCertificateCount}]`,
  quota: `a finite number in [0, ${MARKET_LIMITS.maxCarbonTonnes}]`,
  purchased: `a finite number in [0, ${MARKET_LIMITS.maxCarbonTonnes}]`,
  emitted: `a finite number in [0, ${MARKET_LIMITS.maxCarbonTonnes}]`,
};

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || typeof key === 'symbol') return undefined;
    // Own properties only: the value is plain data (canonicalDecode or plainData made it).
    current = Object.hasOwn(current, key) ? (current as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return current;
}

function clip(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

/** The typed error for the first problem the schema found in `value` (plain data). */
function schemaError(error: z.ZodError, value: unknown, transactionPath: readonly PropertyKey[]): MarketError {
  const issue = error.issues[0]!;
  const type = at(value, [...transactionPath, 'type']);
  const label = typeof type === 'string' && TRANSACTION_TYPES.has(type) ? type : 'transaction';
  const field = issue.path.at(-1);
  const found = at(value, issue.path);
  if (typeof field === 'string' && Object.hasOwn(QUANTITY_RULES, field) && typeof found === 'number') {
    return new InvalidQuantityError(`${label}: ${field} must be ${QUANTITY_RULES[field]}, got ${describeValue(found)}`);
  }
  if (issue.code === 'invalid_union' && field === 'type') return new InvalidTransactionError(`unknown transaction type ${describeValue(found)}`);
  const where = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `;
  return new InvalidTransactionError(clip(`${label === 'transaction' ? '' : `${label}: `}${where}${issue.message}`));
}

const TRANSACTION_TYPES: ReadonlySet<string> = new Set([
  'registerNode',
  'proposeContract',
  'acceptContract',
  'reportDelivery',
  'settleRound',
  'offerCertificates',
  'acceptCertificates',
  'recordCarbon',
  'reportLineFault',
  'recordParticipation',
]);

/** The rules that relate two fields, checked once the schema holds. */
function checkFields(tx: MarketTransaction): void {
  switch (tx.type) {
    case 'registerNode':
      if (fromBase64Url(tx.publicKey)?.length !== 32) throw new InvalidTransactionError('registerNode: publicKey must be 32 bytes of canonical base64url');
      break;
    case 'proposeContract':
      if (tx.signer === tx.counterparty) throw new InvalidTransactionError('proposeContract: a node cannot contract with itself');
      if (!(tx.deliveryEnd > tx.deliveryStart)) throw new InvalidQuantityError('proposeContract: deliveryEnd must be after deliveryStart');
      break;
    case 'offerCertificates':
      if (tx.buyer === tx.signer) throw new InvalidTransactionError('offerCertificates: a node cannot sell to itself');
      break;
    case 'settleRound':
      if (new Set(tx.contractIds).size !== tx.contractIds.length) throw new InvalidTransactionError('settleRound: contractIds must be distinct');
      break;
    case 'recordParticipation':
      if (new Set(tx.acknowledgements).size !== tx.acknowledgements.length) {
        throw new InvalidTransactionError('recordParticipation: acknowledgements must be distinct');
      }
      break;
    default:
      break;
  }
}

/** Checks fresh plain data (from {@link canonicalDecode} or {@link plainData}) against the transaction schema. */
function transactionFromData(data: unknown): MarketTransaction {
  const result = transactionSchema.safeParse(data);
  if (!result.success) throw schemaError(result.error, data, []);
  checkFields(result.data);
  return result.data;
}

/** Checks fresh plain data against the signed-transaction schema. */
export function signedTransactionFromData(data: unknown): SignedTransaction {
  const result = signedSchema.safeParse(data);
  if (!result.success) throw schemaError(result.error, data, ['transaction']);
  checkFields(result.data.transaction);
  // Canonical base64url only: one signature, one encoding, one transaction hash.
  if (fromBase64Url(result.data.signature)?.length !== 64) throw new InvalidTransactionError('signature must be 64 bytes of canonical base64url');
  return result.data;
}

function readPlain(value: unknown, what: string): unknown {
  try {
    return plainData(value);
  } catch (cause) {
    throw new InvalidTransactionError(`the ${what} could not be read as plain data`, { cause });
  }
}

/**
 * Decodes an untrusted value into a fresh, checked transaction: own properties only (nothing
 * inherited through a prototype), exactly the fields of its type, each of its exact type, strings
 * and lists within their lengths and every quantity within {@link MARKET_LIMITS}. Checks that need
 * the market's state (known nodes, price range, contract status) are the market's.
 *
 * @throws {@link InvalidTransactionError} on a malformed transaction, {@link InvalidQuantityError}
 *   on a quantity out of its range. The message never calls the value's own methods.
 *
 * @example
 * ```ts
 * import { InvalidQuantityError, parseTransaction } from '@greenraft/power-market';
 *
 * const untrusted: unknown = JSON.parse('{"type":"reportDelivery","signer":"c1","nonce":3,"contractId":"g1/2","meteredKWh":-5}');
 * try {
 *   const tx = parseTransaction(untrusted); // a fresh MarketTransaction
 * } catch (err) {
 *   if (err instanceof InvalidQuantityError) console.log(err.message); // reportDelivery: meteredKWh must be a finite number in [0, 1000000000], got -5
 * }
 * ```
 */
export function parseTransaction(value: unknown): MarketTransaction {
  return transactionFromData(readPlain(value, 'transaction'));
}

/**
 * Decodes an untrusted signed transaction (an HTTP request body, say) into a fresh, checked one:
 * exactly `transaction` and `signature` (86 characters of base64url), and a transaction as
 * {@link parseTransaction} reads it. It does not check the signature: that needs the signer's
 * registered key ({@link verifyTransactionSignature}), and the market does it.
 *
 * @throws like {@link parseTransaction}.
 *
 * @example
 * ```ts
 * import { generateParticipantKeys, marketClient, parseSignedTransaction } from '@greenraft/power-market';
 *
 * const wire = JSON.stringify(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * const signed = parseSignedTransaction(JSON.parse(wire)); // throws InvalidTransactionError unless well-formed
 * console.log(signed.transaction.signer); // 'g1'
 * ```
 */
export function parseSignedTransaction(value: unknown): SignedTransaction {
  return signedTransactionFromData(readPlain(value, 'signed transaction'));
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

/** The raw 32-byte ed25519 public key of `key` (a public or private `KeyObject`) as base64url. @throws {@link InvalidSignatureError} for any other key. */
export function publicKeyToBase64Url(key: KeyObject): string {
  if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519') throw new InvalidSignatureError('the key is not an ed25519 key');
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
 * Checks and signs a transaction with the participant's ed25519 private key. The result holds a
 * fresh copy of the transaction, as {@link parseTransaction} reads it.
 *
 * @throws {@link InvalidTransactionError} or {@link InvalidQuantityError} when the transaction is
 *   malformed (the market would refuse it anyway), {@link InvalidSignatureError} when the key is
 *   not an ed25519 private key.
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
  const checked = parseTransaction(transaction);
  if (!(privateKey instanceof KeyObject) || privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidSignatureError('transactions are signed with an ed25519 private key');
  }
  const signature = sign(null, signingBytes(checked, options), privateKey);
  return { transaction: checked, signature: toBase64Url(signature) };
}

/**
 * True when `signed.signature` is `publicKey`'s (a base64url raw key or a `KeyObject`) over the
 * transaction, for the same market id. Never throws: a malformed key, signature or transaction is
 * `false`.
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
  try {
    const key = typeof publicKey === 'string' ? importPublicKey(publicKey) : publicKey;
    const signature = typeof signed.signature === 'string' ? fromBase64Url(signed.signature) : undefined;
    if (!(key instanceof KeyObject) || key.asymmetricKeyType !== 'ed25519' || signature?.length !== 64) return false;
    return verify(null, signingBytes(signed.transaction, options), key, signature);
  } catch {
    return false;
  }
}

/** The canonical bytes of one checked signed transaction (what a ledger block stores and hashes). */
export function encodeSignedTransaction(signed: SignedTransaction): Uint8Array {
  return canonicalEncode(signed);
}

/**
 * The id of a signed transaction: sha256 of its canonical bytes, hex (the `hash` of its receipt,
 * and of its bytes in a ledger block).
 *
 * @throws like {@link parseSignedTransaction} when `signed` is malformed.
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
  return sha256Hex(encodeSignedTransaction(parseSignedTransaction(signed)));
}

/**
 * Encodes one signed transaction or a batch (at most {@link MARKET_LIMITS}.maxEntryTransactions,
 * and at most `maxEntryBytes` encoded) as the `data` of a log entry for `ConsensusNode.propose()`.
 * Every transaction of one entry lands in the same ledger block.
 *
 * @throws like {@link parseSignedTransaction} when a transaction is malformed, and
 *   {@link InvalidTransactionError} when the batch is too large.
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
  const list: readonly SignedTransaction[] = Array.isArray(transactions) ? transactions : [transactions as SignedTransaction];
  if (list.length > MARKET_LIMITS.maxEntryTransactions) {
    throw new InvalidTransactionError(`an entry holds at most ${MARKET_LIMITS.maxEntryTransactions} transactions, got ${list.length}`);
  }
  const data = canonicalEncode(list.map((signed) => parseSignedTransaction(signed)));
  if (data.length > MARKET_LIMITS.maxEntryBytes) throw new InvalidTransactionError(`the entry is ${data.length} bytes, above the limit of ${MARKET_LIMITS.maxEntryBytes}`);
  return data;
}

/**
 * A log entry's transactions as fresh plain data, each still to be checked, or the reason the
 * entry as a whole is refused. Never throws. An empty entry (the leader's no-op) holds nothing.
 */
export function decodeEntry(data: Uint8Array): readonly unknown[] | InvalidTransactionError {
  if (!(data instanceof Uint8Array)) return new InvalidTransactionError('the entry is not bytes');
  if (data.length === 0) return [];
  if (data.length > MARKET_LIMITS.maxEntryBytes) {
    return new InvalidTransactionError(`the entry is ${data.length} bytes, above the limit of ${MARKET_LIMITS.maxEntryBytes}`);
  }
  let value: unknown;
  try {
    value = canonicalDecode(data);
  } catch (cause) {
    return new InvalidTransactionError('the entry is not canonical JSON', { cause });
  }
  if (!Array.isArray(value)) return new InvalidTransactionError('the entry must hold a list of signed transactions');
  if (value.length > MARKET_LIMITS.maxEntryTransactions) {
    return new InvalidTransactionError(`an entry holds at most ${MARKET_LIMITS.maxEntryTransactions} transactions, got ${value.length}`);
  }
  return value;
}

/**
 * Decodes a log entry's `data` into fresh, checked signed transactions.
 *
 * @throws {@link InvalidTransactionError} (or {@link InvalidQuantityError}) when the bytes are not
 *   a canonical list of well-formed signed transactions within the entry limits.
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
  const items = decodeEntry(data);
  if (items instanceof InvalidTransactionError) throw items;
  return items.map(signedTransactionFromData);
}

/**
 * Decodes the canonical bytes of one signed transaction (as a ledger block stores it) into a
 * fresh, checked one.
 *
 * @throws {@link InvalidTransactionError} (or {@link InvalidQuantityError}) when the bytes are not
 *   the canonical encoding of a well-formed signed transaction.
 *
 * @example
 * ```ts
 * import { decodeSignedTransaction, generateParticipantKeys, marketClient, powerMarket } from '@greenraft/power-market';
 *
 * const market = powerMarket();
 * market.execute(marketClient({ id: 'g1', keys: generateParticipantKeys() }).register({ kind: 'generation' }));
 * const [block] = market.ledger();
 * decodeSignedTransaction(block!.transactions[0]!).transaction.type; // 'registerNode'
 * ```
 */
export function decodeSignedTransaction(bytes: Uint8Array): SignedTransaction {
  let value: unknown;
  try {
    value = canonicalDecode(bytes);
  } catch (cause) {
    throw new InvalidTransactionError('the bytes are not canonical JSON', { cause });
  }
  return signedTransactionFromData(value);
}
