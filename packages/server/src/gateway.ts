/**
 * What both protocols share in front of the handler: bearer tokens, the client id a request's
 * idempotency keys are scoped to, the in-flight bounds (per connection and per node), metrics,
 * and draining on shutdown (requests in flight finish, or fail with UNAVAILABLE).
 */
import { createHash } from 'node:crypto';
import { ApiError, outcomeUnknown } from './errors.js';
import type { ApiHandler, RequestContext } from './handler.js';
import type { ServerMetrics } from './metrics.js';
import type { ApiRequest } from './protocol.js';

/** A connection's share of the in-flight bound. */
export interface ConnectionBudget {
  inFlight: number;
  /** This connection's own bound. @default maxInFlightPerConnection */
  limit?: number;
}

interface InFlight {
  reject(error: ApiError): void;
  settled: Promise<unknown>;
}

/** Options of {@link Gateway}. */
export interface GatewayInit {
  readonly handler: ApiHandler;
  readonly metrics: ServerMetrics;
  /** token → subject. */
  readonly tokens: ReadonlyMap<string, string>;
  readonly maxInFlightPerConnection: number;
  readonly maxInFlightPerNode: number;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The shared front of the client API. */
export class Gateway {
  readonly #init: GatewayInit;
  /** sha256(token) → subject: looking up a digest leaks nothing useful about the tokens through timing. */
  readonly #tokens = new Map<string, string>();
  readonly #inFlight = new Set<InFlight>();

  constructor(init: GatewayInit) {
    this.#init = init;
    for (const [token, subject] of init.tokens) this.#tokens.set(digest(token), subject);
  }

  /** Whether requests need a bearer token. */
  get tokensRequired(): boolean {
    return this.#tokens.size > 0;
  }

  /** The bound of requests in flight over every connection of this node. */
  get maxInFlightPerNode(): number {
    return this.#init.maxInFlightPerNode;
  }

  /** Requests in flight on this node. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * The client id requests are scoped to: without tokens the client's own id (or `anonymous`);
   * with tokens the token's subject, divided further by the client's id when it gives one, so a
   * client can never reach another subject's session.
   * @throws {@link ApiError} `UNAUTHENTICATED` when a token is required and missing or wrong.
   */
  clientScope(token: string | undefined, clientId: string | undefined): string {
    if (clientId !== undefined && (clientId.length === 0 || clientId.length > 128)) throw new ApiError('BAD_REQUEST', 'clientId: expected 1 to 128 characters');
    if (!this.tokensRequired) return clientId ?? 'anonymous';
    const subject = token === undefined ? undefined : this.#tokens.get(digest(token));
    if (subject === undefined) throw new ApiError('UNAUTHENTICATED', token === undefined ? 'a bearer token is required' : 'the bearer token is not valid');
    return clientId === undefined ? subject : `${subject}/${clientId}`;
  }

  /**
   * Runs one request through the handler within the in-flight bounds.
   * @throws {@link ApiError} `TOO_MANY_REQUESTS` beyond a bound, and whatever the handler throws.
   */
  async run(request: ApiRequest, context: RequestContext, connection: ConnectionBudget): Promise<unknown> {
    const limit = connection.limit ?? this.#init.maxInFlightPerConnection;
    if (connection.inFlight >= limit) {
      this.#count(request.op, 'TOO_MANY_REQUESTS');
      throw new ApiError('TOO_MANY_REQUESTS', `more than ${limit} requests in flight on this connection`, { retryAfterMs: 100 });
    }
    if (this.#inFlight.size >= this.#init.maxInFlightPerNode) {
      this.#count(request.op, 'TOO_MANY_REQUESTS');
      throw new ApiError('TOO_MANY_REQUESTS', `more than ${this.#init.maxInFlightPerNode} requests in flight on this node`, { retryAfterMs: 100 });
    }
    let reject!: (error: ApiError) => void;
    const failed = new Promise<never>((_, rejectFailed) => {
      reject = rejectFailed;
    });
    const work = this.#init.handler.handle(request, context);
    const entry: InFlight = { reject, settled: work.catch(() => undefined) };
    this.#inFlight.add(entry);
    connection.inFlight++;
    this.#init.metrics.clientInFlight.inc();
    try {
      const result = await Promise.race([work, failed]);
      this.#count(request.op, 'OK');
      return result;
    } catch (error) {
      this.#count(request.op, error instanceof ApiError ? error.code : 'INTERNAL');
      throw error;
    } finally {
      this.#inFlight.delete(entry);
      connection.inFlight--;
      this.#init.metrics.clientInFlight.dec();
    }
  }

  /** Counts an answer that did not go through {@link Gateway.run} (refused before it). */
  count(op: string, code: string): void {
    this.#count(op, code);
  }

  #count(op: string, code: string): void {
    this.#init.metrics.clientRequests.inc({ op, code });
  }

  /** Waits for the requests in flight to finish, at most `timeoutMs`; then fails those left with TIMEOUT (their outcome unknown). */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref?.());
    await Promise.race([Promise.all([...this.#inFlight].map((entry) => entry.settled)), deadline]);
    for (const entry of this.#inFlight) entry.reject(outcomeUnknown('the node stopped before the request finished'));
  }
}
