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
