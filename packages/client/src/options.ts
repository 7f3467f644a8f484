import { InvalidArgumentError, integerOption } from '@greenraft/consensus';
import { websocketUrl } from './protocol.js';
import type { WebSocketConstructor } from './websocket.js';

/** How the client waits between attempts: `min(maxDelayMs, initialDelayMs · multiplier^(n-1)) · (1 + jitter · u)`, u uniform in [0, 1). */
export interface RetryInit {
  /**
   * Attempts per call, counting every request sent and every connection that failed to open;
   * the call fails once they are spent (or its `timeoutMs` passes, whichever comes first).
   * @default 10
   */
  maxAttempts?: number;
  /** @default 25 */
  initialDelayMs?: number;
  /** @default 1000 */
  maxDelayMs?: number;
  /** @default 2 */
  multiplier?: number;
  /** @default 0.5 */
  jitter?: number;
}

/** Options of {@link createClient}. */
export interface ClientInit {
  /**
   * Nodes to connect to: client URLs (`http://host:port`, as `greenraft cluster` prints them) or
   * WebSocket URLs (`ws://host:port/v1/ws`). The client tries them in order and follows the leader
   * they name; one is enough, more make failover possible before a leader is known.
   */
  endpoints: readonly string[] | string;
  /**
   * Scopes idempotency keys on the nodes. Give a stable one (a meter gateway's name) so keys you
   * choose stay valid across restarts; two live clients must not share one.
   * @default a random id, `client-` and 16 hex digits
   */
  clientId?: string;
  /** The bearer token, when the nodes require one (sent in `hello`). */
  token?: string;
  /**
   * Deadline of each call, across its retries; a call's own `timeoutMs` overrides it.
   * @default 15000
   */
  timeoutMs?: number;
  /**
   * How long one attempt waits for its answer before the client retries it (with the same
   * idempotency key) on another node, taking the connection for stuck. Keep it above the nodes'
   * own `requestTimeoutMs` (5000 by default), after which a node answers `TIMEOUT` itself.
   * @default 6000
   */
  attemptTimeoutMs?: number;
  /**
   * For a socket to open and the node to answer `hello`.
   * @default 3000
   */
  connectTimeoutMs?: number;
  /** Backoff between attempts. */
  retry?: RetryInit;
  /**
   * Requests in flight at once; more wait in a queue (FIFO) for a slot, within their own deadline.
   * Keep it at most the node's per-connection bound (1024 by default).
   * @default 1024
   */
  maxInFlight?: number;
  /**
   * Calls waiting for a slot; one more is refused at once with `TooManyRequestsError`.
   * @default 16384
   */
  maxQueued?: number;
  /**
   * Largest value `put` and `cas` send, in UTF-8 bytes (the nodes' `maxValueBytes`); larger is
   * refused before sending with `TooLargeError`.
   * @default 1048576
   */
  maxValueBytes?: number;
  /**
   * Largest frame accepted from a node (`ws` only; browsers have their own limit).
   * @default 67108864
   */
  maxResponseBytes?: number;
  /**
   * Whether to move to the leader a node names (in `hello` and in errors). Followers forward
   * writes, so this saves a hop rather than being needed.
   * @default true
   */
  followLeader?: boolean;
  /**
   * The WebSocket constructor to use.
   * @default the `ws` package in Node, the global `WebSocket` elsewhere
   */
  WebSocket?: WebSocketConstructor;
}

/** {@link ClientInit} with every default filled in and every value checked. */
export interface ResolvedClientInit {
  readonly endpoints: readonly string[];
  readonly clientId: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retry: Required<RetryInit>;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly maxValueBytes: number;
  readonly maxResponseBytes: number;
  readonly followLeader: boolean;
  readonly WebSocket: WebSocketConstructor | undefined;
}

const KNOWN = new Set([
  'endpoints',
  'clientId',
  'token',
  'timeoutMs',
  'attemptTimeoutMs',
  'connectTimeoutMs',
  'retry',
  'maxInFlight',
  'maxQueued',
  'maxValueBytes',
  'maxResponseBytes',
  'followLeader',
  'WebSocket',
]);
const KNOWN_RETRY = new Set(['maxAttempts', 'initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter']);

/** UTF-8 length of a string. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  return value === undefined ? fallback : integerOption(name, value, { min, max });
}

function real(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}, not ${String(value)}`);
  }
  return value;
}

/** A random id of `bytes` bytes in hex, from the platform's CSPRNG (Node 20 and browsers both have `crypto.getRandomValues`). */
export function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return Array.from(buffer, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Checks `init` and fills in the defaults; throws {@link InvalidArgumentError} naming the option. */
export function resolveClientInit(init: ClientInit): ResolvedClientInit {
  if (typeof init !== 'object' || init === null) throw new InvalidArgumentError('createClient takes an options object with endpoints');
  for (const key of Object.keys(init)) if (!KNOWN.has(key)) throw new InvalidArgumentError(`unknown option '${key}'`);
  const list = typeof init.endpoints === 'string' ? init.endpoints.split(',') : init.endpoints;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidArgumentError('endpoints must name at least one node (a URL or a list of URLs)');
  const endpoints: string[] = [];
  for (const endpoint of list) {
    const url = typeof endpoint === 'string' ? websocketUrl(endpoint.trim()) : undefined;
    if (url === undefined) throw new InvalidArgumentError(`endpoints: '${String(endpoint)}' is not a node URL (http://host:port, https://, ws://host:port/v1/ws or wss://)`);
    if (!endpoints.includes(url)) endpoints.push(url);
  }
  const clientId = init.clientId ?? `client-${randomHex(8)}`;
  if (typeof clientId !== 'string' || clientId === '' || utf8Length(clientId) > 128) throw new InvalidArgumentError('clientId must be a string of 1 to 128 bytes');
  if (init.token !== undefined && (typeof init.token !== 'string' || init.token === '')) throw new InvalidArgumentError('token must be a non-empty string');
  const retry = init.retry ?? {};
  if (typeof retry !== 'object' || retry === null) throw new InvalidArgumentError('retry must be an object');
  for (const key of Object.keys(retry)) if (!KNOWN_RETRY.has(key)) throw new InvalidArgumentError(`unknown option 'retry.${key}'`);
  const initialDelayMs = integer(retry.initialDelayMs, 'retry.initialDelayMs', 0, 60_000, 25);
  const resolvedRetry: Required<RetryInit> = {
    maxAttempts: integer(retry.maxAttempts, 'retry.maxAttempts', 1, 1000, 10),
    initialDelayMs,
    maxDelayMs: integer(retry.maxDelayMs, 'retry.maxDelayMs', initialDelayMs, 600_000, Math.max(1000, initialDelayMs)),
    multiplier: real(retry.multiplier, 'retry.multiplier', 1, 10, 2),
    jitter: real(retry.jitter, 'retry.jitter', 0, 1, 0.5),
  };
  if (init.followLeader !== undefined && typeof init.followLeader !== 'boolean') throw new InvalidArgumentError('followLeader must be a boolean');
  if (init.WebSocket !== undefined && typeof init.WebSocket !== 'function') throw new InvalidArgumentError('WebSocket must be a constructor');
  return {
    endpoints,
    clientId,
    token: init.token,
    timeoutMs: integer(init.timeoutMs, 'timeoutMs', 1, 3_600_000, 15_000),
    attemptTimeoutMs: integer(init.attemptTimeoutMs, 'attemptTimeoutMs', 1, 3_600_000, 6000),
    connectTimeoutMs: integer(init.connectTimeoutMs, 'connectTimeoutMs', 1, 3_600_000, 3000),
    retry: resolvedRetry,
    maxInFlight: integer(init.maxInFlight, 'maxInFlight', 1, 1_000_000, 1024),
    maxQueued: integer(init.maxQueued, 'maxQueued', 0, 10_000_000, 16_384),
    maxValueBytes: integer(init.maxValueBytes, 'maxValueBytes', 0, 1 << 30, 1 << 20),
    maxResponseBytes: integer(init.maxResponseBytes, 'maxResponseBytes', 1024, 1 << 30, 64 << 20),
    followLeader: init.followLeader ?? true,
    WebSocket: init.WebSocket,
  };
}
