import { AbortError, GreenraftError, type GreenraftErrorOptions, NotLeaderError, TimeoutError } from '@greenraft/consensus';

/**
 * The error codes of the client protocol (docs/client-protocol.md), as a node sends them in an
 * error answer.
 */
export type ProtocolErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REJECTED'
  | 'TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'INTERNAL'
  | 'NOT_LEADER';

/** The codes of the errors this package defines (the others are `@greenraft/consensus`'s `TIMEOUT`, `ABORTED`, `NOT_LEADER`). */
export type ClientErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REJECTED'
  | 'TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'PROTOCOL'
  | 'CLIENT_CLOSED';

/** The leader a node named in an answer: its id and, when the node knows it, its client URL. */
export interface LeaderHint {
  readonly id: string;
  readonly url: string | undefined;
}

/** What every error the client rejects with may add: whether a write may have been applied. */
interface OutcomeInfo {
  /**
   * `true` when the request was a write that was sent at least once and no answer said whether
   * it was applied: it may have been. Retrying with the same idempotency key is safe.
   */
  readonly outcomeUnknown?: boolean;
  /** The idempotency key the write carried, to retry it with. */
  readonly idempotencyKey?: string;
}

/** Options of the client's error constructors. */
export interface ClientErrorOptions extends GreenraftErrorOptions {
  /** The leader the node named, if any. */
  leader?: LeaderHint;
}

/**
 * The base of the client's errors that can end a write without saying whether it was applied:
 * each carries {@link OutcomeError.outcomeUnknown} and the write's idempotency key, as
 * {@link isOutcomeUnknown} and {@link idempotencyKeyOf} read them.
 */
export abstract class OutcomeError<Code extends ClientErrorCode> extends GreenraftError<Code> implements OutcomeInfo {
  /** Whether the request was a write that may have been applied (see {@link isOutcomeUnknown}). */
  readonly outcomeUnknown: boolean;
  /** The idempotency key the write carried, to retry it with. */
  readonly idempotencyKey: string | undefined;

  constructor(code: Code, message: string, options: ClientErrorOptions & OutcomeInfo = {}) {
    super(code, message, options);
    this.outcomeUnknown = options.outcomeUnknown ?? false;
    this.idempotencyKey = options.idempotencyKey;
  }
}

/**
 * The node refused the request as malformed or out of range (`BAD_REQUEST`): the message names
 * the field. Nothing was applied; the same request fails again.
 */
export class BadRequestError extends GreenraftError<'BAD_REQUEST'> {
  constructor(message: string, options: ClientErrorOptions = {}) {
    super('BAD_REQUEST', message, options);
    this.name = 'BadRequestError';
  }
}

/** The node requires a bearer token and the client gave none or a wrong one (`UNAUTHENTICATED`). */
export class UnauthenticatedError extends GreenraftError<'UNAUTHENTICATED'> {
  constructor(message: string, options: ClientErrorOptions = {}) {
    super('UNAUTHENTICATED', message, options);
    this.name = 'UnauthenticatedError';
  }
}

/** No such contract, block or route (`NOT_FOUND`). A missing key is not an error: `get` answers `value: null`. */
export class NotFoundError extends GreenraftError<'NOT_FOUND'> {
  constructor(message: string, options: ClientErrorOptions = {}) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

/**
 * `CONFLICT`: an idempotency key reused with a different request, or a configuration change while
 * another is in flight. Nothing was applied.
 */
export class ConflictError extends GreenraftError<'CONFLICT'> {
  constructor(message: string, options: ClientErrorOptions = {}) {
    super('CONFLICT', message, options);
    this.name = 'ConflictError';
  }
}

/**
 * The state machine refused the entry (`REJECTED`): a market transaction with a bad signature, an
 * unknown node, a replayed nonce, ... Nothing changed. {@link RejectedError.reason} carries the
 * state machine's own code when the node sends one (a `MarketErrorCode` of `@greenraft/power-market`).
 */
export class RejectedError extends GreenraftError<'REJECTED'> {
  /** The state machine's code for the refusal (`INVALID_SIGNATURE`, `UNKNOWN_NODE`, ...), when given. */
  readonly reason: string | undefined;

  constructor(message: string, options: ClientErrorOptions & { reason?: string } = {}) {
    super('REJECTED', message, options);
    this.name = 'RejectedError';
    this.reason = options.reason;
  }
}

/** The request or a value is over its bound (`TOO_LARGE`), on the node or already in the client. */
export class TooLargeError extends GreenraftError<'TOO_LARGE'> {
  constructor(message: string, options: ClientErrorOptions = {}) {
    super('TOO_LARGE', message, options);
    this.name = 'TooLargeError';
  }
}

/**
 * Over an in-flight bound (`TOO_MANY_REQUESTS`): the node's, after the client's retries ran out,
 * or the client's own queue ({@link ClientInit.maxQueued}). Retry later.
 */
export class TooManyRequestsError extends OutcomeError<'TOO_MANY_REQUESTS'> {
  constructor(message: string, options: ClientErrorOptions & OutcomeInfo = {}) {
    super('TOO_MANY_REQUESTS', message, options);
    this.name = 'TooManyRequestsError';
  }
}

/**
 * No node could serve the request within its attempts (`UNAVAILABLE`): every endpoint refused the
 * connection, closed it, or answered that it has no leader or is starting or stopping.
 * {@link UnavailableError.outcomeUnknown} says whether a write may have been applied anyway
 * (a connection dropped after it was sent).
 */
export class UnavailableError extends OutcomeError<'UNAVAILABLE'> {
  /** The leader last named by a node, if any. */
  readonly leader: LeaderHint | undefined;

  constructor(message: string, options: ClientErrorOptions & OutcomeInfo = {}) {
    super('UNAVAILABLE', message, options);
    this.name = 'UnavailableError';
    this.leader = options.leader;
  }
}

/** The node failed with a bug of its own (`INTERNAL`); the message says what. */
export class ServerInternalError extends OutcomeError<'INTERNAL'> {
  constructor(message: string, options: ClientErrorOptions & OutcomeInfo = {}) {
    super('INTERNAL', message, options);
    this.name = 'ServerInternalError';
  }
}

/**
 * The node broke the protocol (a frame that is not JSON or not an answer, an unknown protocol
 * version, a result of the wrong shape), or closed the connection as if the client had (close
 * codes 1007, 1009).
 */
export class ProtocolError extends OutcomeError<'PROTOCOL'> {
  constructor(message: string, options: ClientErrorOptions & OutcomeInfo = {}) {
    super('PROTOCOL', message, options);
    this.name = 'ProtocolError';
  }
}

/** The client was closed (`client.close()`) before the call finished, or the call came after. */
export class ClientClosedError extends OutcomeError<'CLIENT_CLOSED'> {
  constructor(message = 'the client is closed', options: ClientErrorOptions & OutcomeInfo = {}) {
    super('CLIENT_CLOSED', message, options);
    this.name = 'ClientClosedError';
  }
}

const OUTCOME = Symbol.for('greenraft.client.outcome');

/**
 * Marks a `TimeoutError`, `AbortError` or `NotLeaderError` of `@greenraft/consensus` with the
 * outcome of the write it ends, so {@link isOutcomeUnknown} reads it like the client's own errors.
 */
function markOutcome<E extends Error>(error: E, info: OutcomeInfo): E {
  Object.defineProperty(error, OUTCOME, { value: { outcomeUnknown: info.outcomeUnknown === true, idempotencyKey: info.idempotencyKey } });
  return error;
}

/**
 * Whether `error`, rejected by a client call, leaves the outcome of a write unknown: the write
 * was sent and may have been applied. A `TimeoutError` or `AbortError` of a write that was sent
 * is; so is an `UnavailableError` after a connection dropped mid-request. Retrying with the same
 * idempotency key ({@link idempotencyKeyOf}) applies it at most once; or read to find out.
 *
 * @example
 * ```ts
 * try {
 *   await client.put('meter-7', '12.5', { idempotencyKey: 'meter-7-reading-42' });
 * } catch (err) {
 *   if (isOutcomeUnknown(err)) await client.put('meter-7', '12.5', { idempotencyKey: idempotencyKeyOf(err) });
 *   else throw err;
 * }
 * ```
 */
export function isOutcomeUnknown(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const marked = (error as Record<symbol, OutcomeInfo | undefined>)[OUTCOME];
  if (marked !== undefined) return marked.outcomeUnknown === true;
  return (error as OutcomeInfo).outcomeUnknown === true;
}

/** The idempotency key of the write that `error` ended, when it was a write (client-generated or given). */
export function idempotencyKeyOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const marked = (error as Record<symbol, OutcomeInfo | undefined>)[OUTCOME];
  if (marked !== undefined) return marked.idempotencyKey;
  const key = (error as OutcomeInfo).idempotencyKey;
  return typeof key === 'string' ? key : undefined;
}

/** A `TimeoutError` that says whether the write it ends may have been applied. */
export function timeoutError(message: string, info: OutcomeInfo, cause?: unknown): TimeoutError {
  return markOutcome(new TimeoutError(message, cause === undefined ? {} : { cause }), info);
}

/** An `AbortError` that says whether the write it ends may have been applied. */
export function abortError(message: string, info: OutcomeInfo, cause?: unknown): AbortError {
  return markOutcome(new AbortError(message, cause === undefined ? {} : { cause }), info);
}

/** What a node sent as `error` in an answer, checked. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly leader: LeaderHint | undefined;
  readonly retryAfterMs: number | undefined;
  readonly reason: string | undefined;
}

/**
 * The typed error for a node's definite error answer (every code but the ones the client retries:
 * those end as {@link UnavailableError}, {@link TooManyRequestsError} or a `TimeoutError` once the
 * retries run out).
 */
export function errorFromAnswer(wire: WireError, context: string, info: OutcomeInfo): Error {
  const message = `${context}: ${wire.message}`;
  const options = { ...(wire.leader === undefined ? {} : { leader: wire.leader }), ...info };
  switch (wire.code) {
    case 'BAD_REQUEST':
      return new BadRequestError(message, options);
    case 'UNAUTHENTICATED':
      return new UnauthenticatedError(message, options);
    case 'NOT_FOUND':
      return new NotFoundError(message, options);
    case 'CONFLICT':
      return new ConflictError(message, options);
    case 'REJECTED':
      return new RejectedError(message, { ...options, ...(wire.reason === undefined ? {} : { reason: wire.reason }) });
    case 'TOO_LARGE':
      return new TooLargeError(message, options);
    case 'TOO_MANY_REQUESTS':
      return new TooManyRequestsError(message, options);
    case 'UNAVAILABLE':
      return new UnavailableError(message, options);
    case 'TIMEOUT':
      return timeoutError(message, info);
    case 'NOT_LEADER':
      return markOutcome(new NotLeaderError(wire.leader?.id), info);
    case 'INTERNAL':
      return new ServerInternalError(message, options);
    default:
      return new ProtocolError(`${context}: the node answered with an unknown error code '${wire.code}': ${wire.message}`, info);
  }
}
