/**
 * Forwarding from a follower to the leader: one WebSocket connection to the leader's client API
 * (`/v1/ws`), authenticated as a member by a token derived from the cluster secret, carrying
 * each forwarded request with the client id it belongs to, so the leader applies the client's
 * idempotency keys in the client's own session.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import WebSocket from 'ws';
import { ApiError, type ApiErrorBody, type ApiErrorCode, RETRY_AFTER_MS, outcomeUnknown } from './errors.js';
import { type ApiRequest, WRITE_OPS } from './protocol.js';

/** The token a member presents to forward requests: HMAC-SHA256 of its id under the cluster secret. */
export function forwardToken(secret: string, clusterId: string, nodeId: string): string {
  return createHmac('sha256', secret).update(`greenraft-forward\0${clusterId}\0${nodeId}`).digest('base64url');
}

/** Whether `token` is `nodeId`'s forwarding token (constant-time). */
export function verifyForwardToken(secret: string, clusterId: string, nodeId: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const expected = Buffer.from(forwardToken(secret, clusterId, nodeId));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The WebSocket URL of a node's client API. */
export function clientWebSocketUrl(clientUrl: string): string {
  const url = new URL(clientUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = '/v1/ws';
  return url.toString();
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  /** A write (or a cluster change) the leader may have applied once it was sent: its outcome is unknown if the link breaks. */
  readonly changes?: boolean;
}


/** Options of {@link Forwarder}. */
export interface ForwarderInit {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly secret: string;
  /** Longest wait for the forwarding handshake with the leader. */
  readonly timeoutMs: number;
  readonly maxPayload: number;
  /** CA of the leader's client TLS certificate, when it is not a public one. */
  readonly ca?: string;
}

class LeaderLink {
  readonly url: string;
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  #closed = false;
  #retiring = false;

  constructor(url: string, init: ForwarderInit) {
    this.url = url;
    this.#socket = new WebSocket(clientWebSocketUrl(url), { perMessageDeflate: false, maxPayload: init.maxPayload, handshakeTimeout: init.timeoutMs, ...(init.ca === undefined ? {} : { ca: init.ca }) });
    this.#ready = new Promise<void>((resolve, reject) => {
      const hello = { id: 0, op: 'hello', clientId: `node:${init.nodeId}`, forwarder: init.nodeId, forwardToken: forwardToken(init.secret, init.clusterId, init.nodeId) };
      // A leader that does not answer the handshake in time: the link closes, so the next request opens a new one.
      this.#pending.set(0, { resolve: () => resolve(), reject, timer: setTimeout(() => this.close(unavailable('the leader did not answer the forwarding handshake')), init.timeoutMs) });
      this.#socket.once('open', () => this.#socket.send(JSON.stringify(hello)));
    });
    this.#ready.catch(() => undefined);
    this.#socket.on('message', (data) => this.#answer(data.toString()));
    this.#socket.on('error', () => this.close(unavailable('the connection to the leader failed')));
    this.#socket.on('close', () => this.close(unavailable('the connection to the leader closed')));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Requests in flight on this link. */
  get pending(): number {
    return this.#pending.size - (this.#pending.has(0) ? 1 : 0);
  }

  /**
   * Sends one frame (an `op` and its fields) and resolves with its result. `changes`: the request
   * may change the cluster's state, so once sent its outcome is unknown if the link breaks.
   */
  async call(fields: Record<string, unknown>, timeoutMs: number, changes = false): Promise<unknown> {
    await this.#ready;
    if (this.#closed) throw unavailable('the connection to the leader closed');
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ApiError('TIMEOUT', 'the leader did not answer in time; the outcome is unknown: retry with the same idempotency key'));
        this.#maybeRetire();
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, changes });
      this.#socket.send(JSON.stringify({ id, ...fields }));
    });
  }

  /** Closes the link once its requests in flight are answered (the leader moved: new requests go elsewhere). */
  retire(): void {
    this.#retiring = true;
    this.#maybeRetire();
  }

  #maybeRetire(): void {
    if (this.#retiring && this.pending === 0) this.close();
  }

  #answer(text: string): void {
    let frame: { id?: unknown; ok?: unknown; result?: unknown; error?: ApiErrorBody };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    if (typeof frame.id !== 'number') return;
    const pending = this.#pending.get(frame.id);
    if (pending === undefined) return;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.ok === true) pending.resolve(frame.result);
    else pending.reject(errorFromBody(frame.error));
    this.#maybeRetire();
  }

  close(reason: Error = unavailable('the connection to the leader closed')): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      // A write the leader received may still commit: "changed nothing" would be a lie.
      pending.reject(pending.changes === true ? outcomeUnknown(`${reason.message} before it answered`) : reason);
    }
    this.#pending.clear();
    this.#socket.terminate();
  }
}

/** The link to the leader failed with nothing unknown left behind: leadership is likely moving, so the request may wait for the next leader. */
function unavailable(message: string): ApiError {
  return new ApiError('UNAVAILABLE', message, { retryAfterMs: RETRY_AFTER_MS, reason: 'LEADER_CHANGING' });
}

const CODES = new Set<ApiErrorCode>(['BAD_REQUEST', 'UNAUTHENTICATED', 'NOT_FOUND', 'CONFLICT', 'REJECTED', 'TOO_LARGE', 'TOO_MANY_REQUESTS', 'UNAVAILABLE', 'TIMEOUT', 'INTERNAL']);

/** An error answer from another node, as an {@link ApiError}. */
export function errorFromBody(body: ApiErrorBody | undefined): ApiError {
  const code = body !== undefined && CODES.has(body.code) ? body.code : 'INTERNAL';
  return new ApiError(code, typeof body?.message === 'string' ? body.message : 'the leader answered with a malformed error', {
    ...(typeof body?.retryAfterMs === 'number' ? { retryAfterMs: body.retryAfterMs } : {}),
    ...(body?.leader !== undefined ? { leader: body.leader } : {}),
    ...(typeof body?.reason === 'string' ? { reason: body.reason } : {}),
  });
}

/** Forwards requests to whichever node leads, over one connection per leader. */
export class Forwarder {
  readonly #init: ForwarderInit;
  #link: LeaderLink | undefined;
  /** Every link not closed yet, the retired ones included, so `close()` ends them all. */
  readonly #links = new Set<LeaderLink>();

  constructor(init: ForwarderInit) {
    this.#init = init;
  }

  /**
   * Sends `request` on behalf of `clientId` to the leader at `leaderClientUrl` and resolves with
   * its result, or fails after `timeoutMs`. `leaderTimeoutMs`: the deadline the leader gives the
   * request (what is left of the client's), when not its own.
   */
  forward(leaderClientUrl: string, request: ApiRequest, clientId: string, timeoutMs: number, leaderTimeoutMs?: number): Promise<unknown> {
    if (this.#link === undefined || this.#link.closed || this.#link.url !== leaderClientUrl) {
      // Requests already on the old link still get their answers; only new ones go to the new leader.
      this.#link?.retire();
      this.#link = this.#track(new LeaderLink(leaderClientUrl, this.#init));
    }
    const fields = { op: 'forward', clientId, request, ...(leaderTimeoutMs === undefined ? {} : { timeoutMs: leaderTimeoutMs }) };
    return this.#link.call(fields, timeoutMs, WRITE_OPS.has(request.op));
  }

  /** Tells a member removed from the configuration that it was (it checks its own log before it believes it). */
  async notifyRemoved(clientUrl: string, timeoutMs: number): Promise<void> {
    const link = this.#track(new LeaderLink(clientUrl, { ...this.#init, timeoutMs }));
    try {
      await link.call({ op: 'member.removed' }, timeoutMs);
    } finally {
      link.close();
    }
  }

  #track(link: LeaderLink): LeaderLink {
    for (const known of this.#links) if (known.closed) this.#links.delete(known);
    this.#links.add(link);
    return link;
  }

  close(): void {
    for (const link of this.#links) link.close();
    this.#links.clear();
    this.#link = undefined;
  }
}
