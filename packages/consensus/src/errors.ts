/**
 * Every condition a caller can handle differently, as a literal union.
 * Packages that add their own conditions widen it through the `Code` type parameter
 * of {@link GreenraftError}.
 */
export type GreenraftErrorCode =
  | 'NOT_LEADER'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'STOPPED'
  | 'STORAGE'
  | 'TRANSPORT'
  | 'CONFIGURATION'
  | 'PROPOSAL_DROPPED'
  | 'INVALID_MESSAGE'
  | 'INVALID_ARGUMENT'
  | 'STATE_MACHINE';

/** Options accepted by every error constructor. */
export interface GreenraftErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The brand every {@link GreenraftError} carries. `Symbol.for` returns the same symbol in every
 * copy of this package (ESM and CommonJS builds, several installed versions), which is what lets
 * {@link isGreenraftError} recognise an error made by any of them.
 */
const GREENRAFT_ERROR_BRAND = Symbol.for('greenraft.error');

/**
 * The base class of every error greenraft throws or rejects with.
 *
 * `instanceof` works within one copy of the package. An application that loads both builds
 * (ESM `import` and CommonJS `require`, the dual package hazard) gets two copies of every class,
 * and an error made by one fails `instanceof` against the other: use {@link isGreenraftError},
 * which checks a brand every `GreenraftError` carries.
 *
 * @example
 * ```ts
 * try {
 *   await node.propose(data);
 * } catch (err) {
 *   if (isGreenraftError(err, 'NOT_LEADER')) console.log('ask', err.leader);
 *   else if (isGreenraftError(err)) console.log(err.code);
 * }
 * ```
 */
export class GreenraftError<Code extends string = GreenraftErrorCode> extends Error {
  /** What went wrong, as a stable machine-readable code. */
  readonly code: Code;

  constructor(code: Code, message: string, options: GreenraftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = 'GreenraftError';
    // Non-enumerable, so errors print and serialise as before.
    Object.defineProperty(this, GREENRAFT_ERROR_BRAND, { value: true });
  }
}

/** The error class of each code of {@link GreenraftErrorCode}, as {@link isGreenraftError} narrows to. */
export interface GreenraftErrorByCode {
  NOT_LEADER: NotLeaderError;
  TIMEOUT: TimeoutError;
  ABORTED: AbortError;
  STOPPED: StoppedError;
  STORAGE: StorageError;
  TRANSPORT: TransportError;
  CONFIGURATION: ConfigurationError;
  PROPOSAL_DROPPED: ProposalDroppedError;
  INVALID_MESSAGE: InvalidMessageError;
  INVALID_ARGUMENT: InvalidArgumentError;
  STATE_MACHINE: StateMachineError;
}

/**
 * Whether `error` is a {@link GreenraftError} (of the given `code`, when one is given), whichever
 * copy of greenraft made it: it holds for errors thrown by the ESM build and the CommonJS build
 * alike, where `instanceof` holds only for the copy the class came from. Codes of other packages
 * (`MarketError`'s, `ScoringError`'s, ...) work too: the error is narrowed to `GreenraftError` of
 * that code.
 *
 * @param error - anything caught.
 * @param code - the code to match; any code when left out.
 * @returns `true` when `error` carries the greenraft brand and, if given, `code`.
 *
 * @example
 * ```ts
 * import { isGreenraftError } from '@greenraft/consensus';
 *
 * try {
 *   await node.propose(data);
 * } catch (err) {
 *   if (isGreenraftError(err, 'NOT_LEADER')) retryOn(err.leader); // narrowed to NotLeaderError
 *   else if (isGreenraftError(err)) console.error(err.code, err.message);
 *   else throw err;
 * }
 * ```
 */
export function isGreenraftError<Code extends keyof GreenraftErrorByCode>(error: unknown, code: Code): error is GreenraftErrorByCode[Code];
export function isGreenraftError<Code extends string>(error: unknown, code: Code): error is GreenraftError<Code>;
export function isGreenraftError(error: unknown): error is GreenraftError<string>;
export function isGreenraftError(error: unknown, code?: string): boolean {
  if (typeof error !== 'object' || error === null || (error as Record<symbol, unknown>)[GREENRAFT_ERROR_BRAND] !== true) return false;
  return code === undefined || (error as { code?: unknown }).code === code;
}

/** The node is not the leader; {@link NotLeaderError.leader} names the leader it knows of, if any. */
export class NotLeaderError extends GreenraftError<'NOT_LEADER'> {
  /** The leader this node currently knows of, or `undefined` when there is none. */
  readonly leader: string | undefined;

  constructor(leader: string | undefined, options: GreenraftErrorOptions = {}) {
    super('NOT_LEADER', leader === undefined ? 'not the leader; no leader is known' : `not the leader; the leader is ${leader}`, options);
    this.name = 'NotLeaderError';
    this.leader = leader;
  }
}

/** An operation did not finish within its deadline. Its outcome is unknown: it may still take effect. */
export class TimeoutError extends GreenraftError<'TIMEOUT'> {
  constructor(message = 'the operation timed out', options: GreenraftErrorOptions = {}) {
    super('TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

/** The caller aborted the operation through its `AbortSignal`. */
export class AbortError extends GreenraftError<'ABORTED'> {
  constructor(message = 'the operation was aborted', options: GreenraftErrorOptions = {}) {
    super('ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/** The node was stopped before the operation finished. */
export class StoppedError extends GreenraftError<'STOPPED'> {
  constructor(message = 'the node is stopped', options: GreenraftErrorOptions = {}) {
    super('STOPPED', message, options);
    this.name = 'StoppedError';
  }
}

/** Storage failed to read or persist state. The node stops: it cannot keep its promises without durability. */
export class StorageError extends GreenraftError<'STORAGE'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('STORAGE', message, options);
    this.name = 'StorageError';
  }
}

/** The transport failed to deliver or accept a message, or refused a peer. */
export class TransportError extends GreenraftError<'TRANSPORT'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('TRANSPORT', message, options);
    this.name = 'TransportError';
  }
}

/** A configuration (membership or weights) or a configuration change is invalid or not allowed now. */
export class ConfigurationError extends GreenraftError<'CONFIGURATION'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('CONFIGURATION', message, options);
    this.name = 'ConfigurationError';
  }
}

/**
 * Why a proposal was dropped ({@link ProposalDroppedError.reason}):
 * - `overloaded`: the leader's uncommitted log is over its bound; retry later;
 * - `transferring`: the leader is handing leadership over; retry at the new leader;
 * - `leaving`: the leader is leaving the configuration; retry at the next leader;
 * - `superseded`: a new leader overwrote the entry, or committed another one at its index;
 * - `dropped`: any other reason.
 */
export type ProposalDropReason = 'overloaded' | 'transferring' | 'leaving' | 'superseded' | 'dropped';

/** Options of {@link ProposalDroppedError}. */
export interface ProposalDroppedErrorOptions extends GreenraftErrorOptions {
  /** Why the proposal was dropped. @default 'dropped' */
  reason?: ProposalDropReason;
}

/**
 * A proposal was dropped before it could commit: its leader lost leadership and the entry was
 * overwritten, leadership is moving, or the uncommitted log is over its bound. It is not in the
 * log (and will not be): safe to retry. {@link ProposalDroppedError.reason} says why, so a caller
 * can tell a leader change (retry at the next leader) from back-pressure (retry later).
 *
 * @example
 * ```ts
 * import { ProposalDroppedError } from '@greenraft/consensus';
 *
 * const error = new ProposalDroppedError('leadership is being transferred to n2', { reason: 'transferring' });
 * console.log(error.code, error.reason); // PROPOSAL_DROPPED transferring
 * ```
 */
export class ProposalDroppedError extends GreenraftError<'PROPOSAL_DROPPED'> {
  /** Why the proposal was dropped. */
  readonly reason: ProposalDropReason;

  constructor(message = 'the proposal was dropped', options: ProposalDroppedErrorOptions = {}) {
    const { reason = 'dropped', ...rest } = options;
    super('PROPOSAL_DROPPED', message, rest);
    this.name = 'ProposalDroppedError';
    this.reason = reason;
  }
}

/** A message received from a peer is malformed, oversized or fails its schema. */
export class InvalidMessageError extends GreenraftError<'INVALID_MESSAGE'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_MESSAGE', message, options);
    this.name = 'InvalidMessageError';
  }
}

/** An argument is out of range or of the wrong shape. */
export class InvalidArgumentError extends GreenraftError<'INVALID_ARGUMENT'> {
  constructor(message: string, options: GreenraftErrorOptions = {}) {
    super('INVALID_ARGUMENT', message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** The `StateMachine` method that failed, as {@link StateMachineError.operation}. */
export type StateMachineOperation = 'apply' | 'snapshot' | 'restore';

/**
 * The application's state machine threw (or rejected) from `apply`, `snapshot` or `restore`.
 * The node cannot go on without applying its log in order, so it stops: the error is emitted as
 * an `error` event, pending operations reject with a {@link StoppedError} whose `cause` is this
 * error, and `start()` rejects with it when restoring the latest snapshot fails. `cause` holds
 * what the state machine threw. (A state machine that throws a `GreenraftError` of its own
 * keeps it: the node reports that error unchanged.)
 *
 * @example
 * ```ts
 * node.on('error', (err) => {
 *   if (err instanceof StateMachineError) console.error(`state machine failed in ${err.operation}:`, err.cause);
 * });
 * ```
 */
export class StateMachineError extends GreenraftError<'STATE_MACHINE'> {
  /** Which state-machine method failed. */
  readonly operation: StateMachineOperation;

  constructor(operation: StateMachineOperation, message: string, options: GreenraftErrorOptions = {}) {
    super('STATE_MACHINE', message, options);
    this.name = 'StateMachineError';
    this.operation = operation;
  }
}

/** Options with an `AbortSignal`, accepted by every operation that can wait. */
export interface AbortOptions {
  /** Aborts the wait; the promise rejects with {@link AbortError}. */
  signal?: AbortSignal;
}
