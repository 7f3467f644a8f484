/**
 * The client API's WebSocket protocol at `/v1/ws`: text frames of JSON, requests with ids,
 * pipelined and multiplexed, answered exactly once each in any order; `hello` first; topics a
 * connection subscribes to arrive as event frames, bounded in rate and by the socket's buffer.
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import * as z from 'zod';
import { ApiError } from './errors.js';
import type { ConnectionBudget, Gateway } from './gateway.js';
import type { ServerMetrics } from './metrics.js';
import { type ApiRequest, type Topic, TOPICS, isApiOp, parseRequest } from './protocol.js';
import { formatIssues } from './validation.js';

/** The protocol version `hello` reports. */
export const PROTOCOL_VERSION = 1;
/** Bytes a socket may have unsent before event frames for it are dropped. */
const MAX_BUFFERED_EVENT_BYTES = 4 * 1024 * 1024;

const helloSchema = z.strictObject({
  clientId: z.string().min(1).max(128).optional(),
  token: z.string().max(4096).optional(),
  /** Set by a member that forwards requests to this node, with its token. */
  forwarder: z.string().min(1).max(128).optional(),
  forwardToken: z.string().max(256).optional(),
});
const topicsSchema = z.strictObject({ topics: z.array(z.enum(TOPICS)).min(1).max(TOPICS.length) });
const forwardSchema = z.strictObject({
  clientId: z.string().min(1).max(512),
  request: z.record(z.string(), z.unknown()),
  /** What is left of the client's deadline, which the leader keeps to (else its own `requestTimeoutMs`). */
  timeoutMs: z.int().min(1).max(86_400_000).optional(),
});

/** Options of {@link WebSocketApi}. */
export interface WebSocketApiInit {
  readonly gateway: Gateway;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly maxRequestBytes: number;
  readonly maxEventsPerSecond: number;
  /** `hello`'s answer besides the protocol version. */
  readonly helloResult: () => Record<string, unknown>;
  /** Whether `id` is a member that may forward, and its token is right. */
  readonly verifyForwarder: (id: string, token: string | undefined) => boolean;
  /** Member `from` says this node was removed; whether this node's own log agrees. */
  readonly removalNotice: (from: string) => boolean;
}

interface Connection extends ConnectionBudget {
  readonly socket: WebSocket;
  readonly abort: AbortController;
  clientId: string | undefined;
  forwarder: string | undefined;
  readonly topics: Set<Topic>;
  /** Token bucket of rate-bounded events. */
  tokens: number;
  refilledAt: number;
}

/** The WebSocket endpoint of one server. */
export class WebSocketApi {
  readonly #init: WebSocketApiInit;
  readonly #server: WebSocketServer;
  readonly #connections = new Set<Connection>();

  constructor(init: WebSocketApiInit) {
    this.#init = init;
    this.#server = new WebSocketServer({ noServer: true, maxPayload: init.maxRequestBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** Connections subscribed to `topic` now. */
  subscribers(topic: Topic): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.topics.has(topic)) count++;
    return count;
  }

  /** Takes the HTTP server's upgrades for `/v1/ws`; any other path is refused. */
  attach(http: HttpServer): void {
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (request.url ?? '').split('?')[0];
      if (path !== '/v1/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.#server.handleUpgrade(request, socket, head, (ws) => this.#open(ws));
    });
  }

  #open(socket: WebSocket): void {
    const connection: Connection = { socket, abort: new AbortController(), clientId: undefined, forwarder: undefined, topics: new Set(), inFlight: 0, tokens: this.#init.maxEventsPerSecond, refilledAt: Date.now() };
    // Every request in flight listens to the connection's signal; the in-flight bound already bounds them.
    setMaxListeners(0, connection.abort.signal);
    this.#connections.add(connection);
    this.#init.metrics.clientConnections.inc({ protocol: 'ws' });
    socket.on('message', (data, isBinary) => this.#frame(connection, data as Buffer, isBinary));
    socket.on('close', () => {
      this.#connections.delete(connection);
      this.#init.metrics.clientConnections.dec({ protocol: 'ws' });
      connection.abort.abort();
    });
    socket.on('error', () => socket.terminate());
  }

  #frame(connection: Connection, data: Buffer, isBinary: boolean): void {
    let frame: unknown;
    try {
      if (isBinary) throw new Error('binary frame');
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      connection.socket.close(1007, 'expected a text frame of JSON');
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      connection.socket.close(1007, 'expected a request object');
      return;
    }
    const { id, op, ...fields } = frame as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      connection.socket.close(1007, 'expected a request with a non-negative integer id');
      return;
    }
    void this.#request(connection, id, op, fields);
  }

  async #request(connection: Connection, id: number, op: unknown, fields: Record<string, unknown>): Promise<void> {
    const gateway = this.#init.gateway;
    try {
      if (op === 'hello') return this.#answer(connection, id, this.#hello(connection, fields));
      if (connection.clientId === undefined) {
        throw gateway.tokensRequired ? new ApiError('UNAUTHENTICATED', 'the first request must be hello, with a token') : new ApiError('BAD_REQUEST', 'the first request must be hello');
      }
      if (op === 'subscribe' || op === 'unsubscribe') {
        const { topics } = parseFields(topicsSchema, fields, String(op));
        for (const topic of topics) op === 'subscribe' ? connection.topics.add(topic) : connection.topics.delete(topic);
        return this.#answer(connection, id, op === 'subscribe' ? { subscribed: [...connection.topics] } : { unsubscribed: topics });
      }
      if (op === 'member.removed') {
        if (connection.forwarder === undefined) throw new ApiError('BAD_REQUEST', 'member.removed: only members send it');
        return this.#answer(connection, id, { removed: this.#init.removalNotice(connection.forwarder) });
      }
      let request: ApiRequest;
      let clientId = connection.clientId;
      let forwarded = false;
      let deadline: number | undefined;
      if (op === 'forward') {
        if (connection.forwarder === undefined) throw new ApiError('BAD_REQUEST', 'forward: only members forward requests');
        const parsed = parseFields(forwardSchema, fields, 'forward');
        const { op: innerOp, ...innerFields } = parsed.request;
        if (!isApiOp(innerOp)) throw new ApiError('BAD_REQUEST', `forward: unknown operation ${JSON.stringify(innerOp)}`);
        request = parseRequest(innerOp, innerFields);
        clientId = parsed.clientId;
        forwarded = true;
        if (parsed.timeoutMs !== undefined) deadline = performance.now() + parsed.timeoutMs;
      } else {
        if (!isApiOp(op)) throw new ApiError('BAD_REQUEST', `op: unknown operation ${JSON.stringify(op)}`);
        request = parseRequest(op, fields);
      }
      const result = await gateway.run(request, { clientId, forwarded, signal: connection.abort.signal, ...(deadline === undefined ? {} : { deadline }) }, connection);
      this.#answer(connection, id, result);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError('INTERNAL', `unexpected error: ${(error as Error).message}`);
      if (!(error instanceof ApiError)) this.#init.logger.error({ err: error }, 'unexpected error in a WebSocket request');
      if (apiError.code === 'BAD_REQUEST' || apiError.code === 'UNAUTHENTICATED') gateway.count(String(op), apiError.code);
      this.#send(connection, { id, ok: false, error: apiError.toJSON() });
    }
  }

  #hello(connection: Connection, fields: Record<string, unknown>): Record<string, unknown> {
    const hello = parseFields(helloSchema, fields, 'hello');
    if (hello.forwarder !== undefined) {
      if (!this.#init.verifyForwarder(hello.forwarder, hello.forwardToken)) throw new ApiError('UNAUTHENTICATED', 'hello: not a member, or a wrong forwarding token');
      connection.forwarder = hello.forwarder;
      connection.clientId = `node:${hello.forwarder}`;
      // A member forwards for all its clients at once: only the node's own bound applies.
      connection.limit = this.#init.gateway.maxInFlightPerNode;
    } else {
      connection.clientId = this.#init.gateway.clientScope(hello.token, hello.clientId);
    }
    return { ...this.#init.helloResult(), protocol: PROTOCOL_VERSION };
  }

  #answer(connection: Connection, id: number, result: unknown): void {
    this.#send(connection, { id, ok: true, result });
  }

  #send(connection: Connection, frame: unknown): void {
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    connection.socket.send(JSON.stringify(frame));
  }

  /**
   * Sends an event to every connection subscribed to `topic`. `commitQuorum` and `market`
   * events are bounded per connection (`maxEventsPerSecond`); any event is dropped, and
   * counted, for a connection whose socket already holds 4 MiB unsent.
   */
  publish(topic: Topic, data: unknown): void {
    let text: string | undefined;
    const now = Date.now();
    for (const connection of this.#connections) {
      if (!connection.topics.has(topic) || connection.socket.readyState !== WebSocket.OPEN) continue;
      if (topic === 'commitQuorum' || topic === 'market') {
        const rate = this.#init.maxEventsPerSecond;
        connection.tokens = Math.min(rate, connection.tokens + ((now - connection.refilledAt) * rate) / 1000);
        connection.refilledAt = now;
        if (connection.tokens < 1) {
          this.#init.metrics.eventsDropped.inc({ topic });
          continue;
        }
        connection.tokens -= 1;
      }
      if (connection.socket.bufferedAmount > MAX_BUFFERED_EVENT_BYTES) {
        this.#init.metrics.eventsDropped.inc({ topic });
        continue;
      }
      text ??= JSON.stringify({ event: topic, data });
      connection.socket.send(text);
    }
  }

  /** Closes every connection (1001, going away). */
  close(): void {
    for (const connection of this.#connections) connection.socket.close(1001, 'the node is stopping');
    const deadline = setTimeout(() => {
      for (const connection of this.#connections) connection.socket.terminate();
    }, 1000);
    deadline.unref?.();
    this.#server.close();
  }
}

function parseFields<T extends z.ZodType>(schema: T, fields: unknown, op: string): z.output<T> {
  const result = schema.safeParse(fields, { reportInput: true });
  if (!result.success) {
    const issue = formatIssues(result.error.issues)[0]!;
    throw new ApiError('BAD_REQUEST', `${op}: ${issue.path}: ${issue.message}`);
  }
  return result.data;
}

