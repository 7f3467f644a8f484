import { GreenraftError, type GreenraftErrorOptions } from '@greenraft/consensus';

/** Every condition under which the power market refuses a transaction or a round, as a literal union. */
export type MarketErrorCode =
  | 'INVALID_TRANSACTION'
  | 'INVALID_SIGNATURE'
  | 'REPLAYED_NONCE'
  | 'UNKNOWN_NODE'
  | 'NODE_ALREADY_REGISTERED'
  | 'INVALID_COUNTERPARTY'
  | 'INVALID_QUANTITY'
  | 'PRICE_OUT_OF_RANGE'
  | 'UNKNOWN_CONTRACT'
  | 'CONTRACT_ALREADY_SETTLED'
  | 'INVALID_CONTRACT_STATE'
  | 'NOT_A_PARTY'
  | 'INSUFFICIENT_CERTIFICATES'
  | 'UNKNOWN_OFFER'
  | 'INVALID_ROUND'
  | 'INVALID_LEDGER'
  | 'INVALID_ENCODING'
  | 'INVALID_SNAPSHOT'
  | 'LIMIT_EXCEEDED'
  | 'TRANSACTION_ABORTED';

/**
 * The base class of every error the power market throws. A refused transaction or round never
 * changes any state: the market stages each transaction's changes and keeps them only when the
 * whole transaction succeeds.
 *
 * @example
 * ```ts
 * try {
 *   market.execute(signed);
 * } catch (err) {
 *   if (err instanceof ReplayedNonceError) console.log('already applied, last nonce', err.lastNonce);
 *   else if (err instanceof MarketError) console.log(err.code, err.message);
 * }
 * ```
 */
export class MarketError extends GreenraftError<MarketErrorCode> {
  constructor(code: MarketErrorCode, message: string, options: GreenraftErrorOptions = {}) {
    super(code, message, options);
    this.name = 'MarketError';
  }
}

/** The transaction is malformed: not canonical JSON, an unknown type, a missing or mistyped field. */
export class InvalidTransactionError extends MarketError {
  declare readonly code: 'INVALID_TRANSACTION';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_TRANSACTION', message, options);
    this.name = 'InvalidTransactionError';
  }
}

/** The signature does not verify under the signer's registered (or, for registration, enclosed) public key. */
export class InvalidSignatureError extends MarketError {
  declare readonly code: 'INVALID_SIGNATURE';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_SIGNATURE', message, options);
    this.name = 'InvalidSignatureError';
  }
}

/** The nonce is not greater than the signer's last accepted nonce: a replay or a stale transaction. */
export class ReplayedNonceError extends MarketError {
  declare readonly code: 'REPLAYED_NONCE';
  /** The signer's last accepted nonce; the next transaction needs a larger one. */
  readonly lastNonce: number;
  constructor(signer: string, nonce: number, lastNonce: number, options: GreenraftErrorOptions = {}) {
    super('REPLAYED_NONCE', `nonce ${nonce} of ${signer} is not above its last accepted nonce ${lastNonce}`, options);
    this.name = 'ReplayedNonceError';
    this.lastNonce = lastNonce;
  }
}

/** A transaction or round names a node that is not registered. */
export class UnknownNodeError extends MarketError {
  declare readonly code: 'UNKNOWN_NODE';
  /** The unknown node id. */
  readonly nodeId: string;
  constructor(nodeId: string, options: GreenraftErrorOptions = {}) {
    super('UNKNOWN_NODE', `node ${nodeId} is not registered`, options);
    this.name = 'UnknownNodeError';
    this.nodeId = nodeId;
  }
}

/** A registration names a node id (trading address) that is already taken. */
export class NodeAlreadyRegisteredError extends MarketError {
  declare readonly code: 'NODE_ALREADY_REGISTERED';
  constructor(nodeId: string, options: GreenraftErrorOptions = {}) {
    super('NODE_ALREADY_REGISTERED', `node ${nodeId} is already registered`, options);
    this.name = 'NodeAlreadyRegisteredError';
  }
}

/** A contract is not between one generation node and one consumption node (two generators, two consumers, or a node with itself). */
export class InvalidCounterpartyError extends MarketError {
  declare readonly code: 'INVALID_COUNTERPARTY';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_COUNTERPARTY', message, options);
    this.name = 'InvalidCounterpartyError';
  }
}

/** A quantity (energy, money, count, time) is negative, not finite, not an integer where one is needed, or above its limit ({@link MARKET_LIMITS}). */
export class InvalidQuantityError extends MarketError {
  declare readonly code: 'INVALID_QUANTITY';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_QUANTITY', message, options);
    this.name = 'InvalidQuantityError';
  }
}

/** A unit price lies outside the market's configured range. */
export class PriceOutOfRangeError extends MarketError {
  declare readonly code: 'PRICE_OUT_OF_RANGE';
  /** The smallest accepted unit price, yuan/kWh. */
  readonly min: number;
  /** The largest accepted unit price, yuan/kWh. */
  readonly max: number;
  constructor(price: number, min: number, max: number, options: GreenraftErrorOptions = {}) {
    super('PRICE_OUT_OF_RANGE', `unit price ${price} yuan/kWh is outside [${min}, ${max}]`, options);
    this.name = 'PriceOutOfRangeError';
    this.min = min;
    this.max = max;
  }
}

/** A transaction names a contract that does not exist. */
export class UnknownContractError extends MarketError {
  declare readonly code: 'UNKNOWN_CONTRACT';
  /** The unknown contract id. */
  readonly contractId: string;
  constructor(contractId: string, options: GreenraftErrorOptions = {}) {
    super('UNKNOWN_CONTRACT', `contract ${contractId} does not exist`, options);
    this.name = 'UnknownContractError';
    this.contractId = contractId;
  }
}

/** A settlement names a contract that an earlier round already settled. */
export class ContractAlreadySettledError extends MarketError {
  declare readonly code: 'CONTRACT_ALREADY_SETTLED';
  /** The contract id. */
  readonly contractId: string;
  constructor(contractId: string, options: GreenraftErrorOptions = {}) {
    super('CONTRACT_ALREADY_SETTLED', `contract ${contractId} is already settled`, options);
    this.name = 'ContractAlreadySettledError';
    this.contractId = contractId;
  }
}

/** The contract is not in a state that allows this step (accepting twice, reporting before acceptance, ...). */
export class InvalidContractStateError extends MarketError {
  declare readonly code: 'INVALID_CONTRACT_STATE';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_CONTRACT_STATE', message, options);
    this.name = 'InvalidContractStateError';
  }
}

/** The signer is not the party entitled to this step (only the counterparty accepts, only a party reports). */
export class NotAPartyError extends MarketError {
  declare readonly code: 'NOT_A_PARTY';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('NOT_A_PARTY', message, options);
    this.name = 'NotAPartyError';
  }
}

/** A node offers or sells more green certificates than it holds. */
export class InsufficientCertificatesError extends MarketError {
  declare readonly code: 'INSUFFICIENT_CERTIFICATES';
  /** How many certificates the node holds. */
  readonly held: number;
  constructor(nodeId: string, wanted: number, held: number, options: GreenraftErrorOptions = {}) {
    super('INSUFFICIENT_CERTIFICATES', `node ${nodeId} holds ${held} green certificates, not ${wanted}`, options);
    this.name = 'InsufficientCertificatesError';
    this.held = held;
  }
}

/** A transaction names a green-certificate offer that does not exist or is already closed. */
export class UnknownOfferError extends MarketError {
  declare readonly code: 'UNKNOWN_OFFER';
  constructor(offerId: string, options: GreenraftErrorOptions = {}) {
    super('UNKNOWN_OFFER', `green-certificate offer ${offerId} does not exist or is closed`, options);
    this.name = 'UnknownOfferError';
  }
}

/** A round given to `settleRound` is structurally invalid (missing fields, duplicate ids, no contracts, bad prices). */
export class InvalidRoundError extends MarketError {
  declare readonly code: 'INVALID_ROUND';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_ROUND', message, options);
    this.name = 'InvalidRoundError';
  }
}

/** A ledger fails verification or does not replay to itself (a tampered or foreign chain), or a served ledger is not of the shape a server serves. */
export class InvalidLedgerError extends MarketError {
  declare readonly code: 'INVALID_LEDGER';
  /** The height of the first block at fault. */
  readonly height: number;
  constructor(height: number, message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_LEDGER', message, options);
    this.name = 'InvalidLedgerError';
    this.height = height;
  }
}

/**
 * A value has no canonical JSON encoding (`undefined`, a function, a bigint, a typed array, a
 * non-finite number, nesting deeper than {@link MARKET_LIMITS}.maxDepth, a cycle, or a property
 * that cannot be read), or bytes are not the canonical JSON encoding of any value (not UTF-8, not
 * JSON, or JSON in another form: unsorted keys, whitespace, `1.0` for `1`, a byte-order mark).
 */
export class InvalidEncodingError extends MarketError {
  declare readonly code: 'INVALID_ENCODING';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_ENCODING', message, options);
    this.name = 'InvalidEncodingError';
  }
}

/**
 * Bytes given to `restore()` are not a snapshot of this market: not the snapshot format, another
 * market's, or a state that breaks one of the market's invariants (a dangling reference, a value
 * out of its bounds, money that does not sum to zero, a ledger that does not verify). The market
 * is left as it was.
 */
export class InvalidSnapshotError extends MarketError {
  declare readonly code: 'INVALID_SNAPSHOT';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_SNAPSHOT', message, options);
    this.name = 'InvalidSnapshotError';
  }
}

/**
 * A well-formed transaction would take an account or a table past its bound: a balance or the
 * grid's account beyond ±(2^53 − 1) milli-yuan, a carbon account or a generator's lifetime
 * generation past its limit, or more nodes than the market registers ({@link MARKET_LIMITS}).
 */
export class LimitExceededError extends MarketError {
  declare readonly code: 'LIMIT_EXCEEDED';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('LIMIT_EXCEEDED', message, options);
    this.name = 'LimitExceededError';
  }
}

/**
 * The market could not complete a transaction because of an error that is not a refusal (its
 * `cause`, for example an exception from a dependency). Nothing of the transaction was applied,
 * and every replica refuses it the same way, so the replicas stay identical and keep applying.
 */
export class TransactionAbortedError extends MarketError {
  declare readonly code: 'TRANSACTION_ABORTED';
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('TRANSACTION_ABORTED', message, options);
    this.name = 'TransactionAbortedError';
  }
}

/** `error` as a {@link MarketError}: itself, or a {@link TransactionAbortedError} with it as the cause. */
export function asMarketError(error: unknown): MarketError {
  return error instanceof MarketError ? error : new TransactionAbortedError('the transaction failed unexpectedly and was not applied', { cause: error });
}

/**
 * A short description of an untrusted value for an error message. It never calls the value's
 * methods (a `toString` of the sender's choosing could throw) and keeps long strings short.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'boolean':
      return String(value);
    case 'string':
      return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
    case 'undefined':
      return 'nothing';
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      try {
        return Array.isArray(value) ? 'a list' : 'an object';
      } catch {
        return 'an object'; // a revoked proxy
      }
  }
}
