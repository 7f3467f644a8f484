import { GreenraftError, type GreenraftErrorOptions } from '@greenraft/consensus';

/**
 * The error codes of the client API (docs/client-protocol.md), each with one HTTP status. Both
 * protocols answer with them: HTTP as `{"error":{"code","message",…}}` with the status, the
 * WebSocket protocol as `{"id","ok":false,"error":{…}}`.
 */
export type ApiErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REJECTED'
  | 'TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'INTERNAL';

/** The HTTP status of each {@link ApiErrorCode}. */
export const API_ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = Object.freeze({
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REJECTED: 422,
  TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
});

/** The leader an error answer points at, when one is known. */
export interface LeaderHint {
  readonly id: string;
  /** The leader's client URL (`http://HOST:PORT`), when this node knows it. */
  readonly url?: string;
}

/** Options of {@link ApiError}. */
export interface ApiErrorOptions extends GreenraftErrorOptions {
  /** How long the client should wait before retrying (`Retry-After`, `retryAfterMs`). */
  retryAfterMs?: number;
  /** The leader, when known (on `UNAVAILABLE`). */
  leader?: LeaderHint;
  /** A more precise machine-readable reason: the market's refusal code (`INVALID_SIGNATURE`, ...). */
  reason?: string;
}

/** What an error answer carries on the wire, in both protocols. */
export interface ApiErrorBody {
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
  readonly leader?: LeaderHint;
  readonly reason?: string;
}

/**
 * A client request failed: the one error the client API answers with, its `code` one of
 * {@link ApiErrorCode} and its HTTP status in {@link ApiError.status}.
 *
 * @example
 * ```ts
 * import { ApiError } from '@greenraft/server';
 *
 * const error = new ApiError('UNAVAILABLE', 'no leader is known', { retryAfterMs: 200 });
 * console.log(error.status, error.toJSON()); // 503 { code: 'UNAVAILABLE', message: 'no leader is known', retryAfterMs: 200 }
 * ```
 */
export class ApiError extends GreenraftError<ApiErrorCode> {
  /** The HTTP status of {@link ApiError.code}. */
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly leader: LeaderHint | undefined;
  readonly reason: string | undefined;

  constructor(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ApiError';
    this.status = API_ERROR_STATUS[code];
    this.retryAfterMs = options.retryAfterMs;
    this.leader = options.leader;
    this.reason = options.reason;
  }

  /** The error as the wire carries it. */
  toJSON(): ApiErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.leader === undefined ? {} : { leader: this.leader }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }
}

/** How long a client should wait before retrying when no leader is known or one is being elected. */
export const RETRY_AFTER_MS = 200;

/**
 * The `reason`s of an `UNAVAILABLE` answer that mean leadership is moving: no leader is known
 * (`NO_LEADER`), the node asked is not the leader and cannot reach it (`NOT_LEADER`), or the
 * leader dropped the proposal because leadership is being handed over or a new leader
 * superseded it, or the link to the leader broke before a write was sent (`LEADER_CHANGING`).
 * Nothing is in the log: a data request or a one-step cluster change that fails so is tried
 * again once a leader is known, within `client.leaderWaitMs`.
 */
const LEADER_MOVING = new Set(['NO_LEADER', 'NOT_LEADER', 'LEADER_CHANGING']);

/** The answer when no leader is known, or (`leader` given) when this node is not the leader and cannot forward to it. */
export function noLeader(leader: LeaderHint | undefined, options: { message?: string; cause?: unknown } = {}): ApiError {
  return new ApiError('UNAVAILABLE', options.message ?? (leader === undefined ? 'no leader is known' : `not the leader; the leader is ${leader.id}`), {
    retryAfterMs: RETRY_AFTER_MS,
    ...(leader === undefined ? {} : { leader }),
    reason: leader === undefined ? 'NO_LEADER' : 'NOT_LEADER',
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** True for an answer that says leadership is moving (see {@link LEADER_MOVING}). */
export function isLeaderMoving(error: unknown): error is ApiError {
  return error instanceof ApiError && error.code === 'UNAVAILABLE' && error.reason !== undefined && LEADER_MOVING.has(error.reason);
}

/** The answer for a write or a change that was under way when it ended without an outcome (the node stopped, the leader went away). */
export function outcomeUnknown(what: string, cause?: unknown): ApiError {
  return new ApiError('TIMEOUT', `${what}; the outcome is unknown: retry with the same idempotency key`, cause === undefined ? {} : { cause });
}

/** One problem a configuration file has: where (`peers.n2.peerUrl`) and what was expected. */
export interface ConfigIssue {
  /** The field's path, dotted (`client.tls.certFile`); `(root)` for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

/**
 * A node's configuration is invalid: unreadable, not JSON, failing the schema (every issue names
 * the field), or naming a file (secret, key, certificate) that cannot be read.
 *
 * @example
 * ```ts
 * import { ConfigError, parseServerConfig } from '@greenraft/server';
 *
 * try {
 *   parseServerConfig({ id: 'n1' });
 * } catch (err) {
 *   if (err instanceof ConfigError) for (const issue of err.issues) console.log(`${issue.path}: ${issue.message}`);
 * }
 * ```
 */
export class ConfigError extends GreenraftError<'INVALID_CONFIG'> {
  /** Every problem found, each naming its field. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: GreenraftErrorOptions & { source?: string } = {}) {
    const where = options.source === undefined ? 'invalid configuration' : `invalid configuration in ${options.source}`;
    super('INVALID_CONFIG', `${where}: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
