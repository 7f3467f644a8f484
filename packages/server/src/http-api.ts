/**
 * The client API's HTTP/JSON gateway: routes to the same requests the WebSocket protocol
 * carries, answered by the same handler; plus `/metrics`, `/livez` and `/readyz`. Bodies are
 * bounded (413 before they are read past the bound), errors are `{"error":{…}}` with the status
 * of their code and, when the client should come back later, `Retry-After`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApiError } from './errors.js';
import type { ConnectionBudget, Gateway } from './gateway.js';
import { type ApiOp, type ApiRequest, parseRequest } from './protocol.js';

/** Options of {@link HttpApi}. */
export interface HttpApiInit {
  readonly gateway: Gateway;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly maxRequestBytes: number;
  /** `/readyz`: whether the node is ready, and each check. */
  readonly readiness: () => { ready: boolean; checks: Record<string, unknown> };
}

interface Route {
  readonly op: ApiOp;
  /** The request's fields, from the path parameters, the query and the body. */
  readonly fields: (params: readonly string[], query: URLSearchParams, body: () => Promise<Buffer>) => Promise<Record<string, unknown>>;
}

const KV = /^\/v1\/kv\/([^/]+)$/;
const KV_CAS = /^\/v1\/kv\/([^/]+)\/cas$/;
const MARKET_QUERY = /^\/v1\/market\/(balances|nodes|contracts|certificates|weights|carbon|ledger|head)$/;
const MARKET_CONTRACT = /^\/v1\/market\/contracts\/([^/]+)$/;
const MEMBER = /^\/v1\/cluster\/members\/([^/]+)$/;

const budgets = new WeakMap<object, ConnectionBudget>();

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('BAD_REQUEST', 'the path is not valid percent-encoded UTF-8');
  }
}

async function json(body: () => Promise<Buffer>): Promise<Record<string, unknown>> {
  const bytes = await body();
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ApiError('BAD_REQUEST', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('BAD_REQUEST', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

async function utf8(body: () => Promise<Buffer>): Promise<string> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await body());
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('BAD_REQUEST', 'the value is not UTF-8');
  }
}

/** A query parameter as a request field: integers become numbers, so the schema checks them like any field. */
function queryNumber(query: URLSearchParams, name: string): Record<string, unknown> {
  const text = query.get(name);
  if (text === null) return {};
  return { [name]: /^-?\d+$/.test(text) ? Number(text) : text };
}

function consistency(query: URLSearchParams): Record<string, unknown> {
  const level = query.get('consistency');
  return level === null ? {} : { consistency: level };
}

function route(method: string, path: string, idempotencyKey: Record<string, unknown>): { route: Route; params: string[] } | undefined {
  let match: RegExpExecArray | null;
  if ((match = KV_CAS.exec(path)) && method === 'POST') {
    return { route: { op: 'cas', fields: async ([key], _q, body) => ({ key, ...(await json(body)), ...idempotencyKey }) }, params: [decodeSegment(match[1]!)] };
  }
  if ((match = KV.exec(path))) {
    const params = [decodeSegment(match[1]!)];
    if (method === 'PUT') return { route: { op: 'put', fields: async ([key], _q, body) => ({ key, value: await utf8(body), ...idempotencyKey }) }, params };
    if (method === 'GET') return { route: { op: 'get', fields: async ([key], query) => ({ key, ...consistency(query) }) }, params };
    if (method === 'DELETE') return { route: { op: 'delete', fields: async ([key]) => ({ key, ...idempotencyKey }) }, params };
    return undefined;
  }
  if (path === '/v1/propose' && method === 'POST') {
    return { route: { op: 'propose', fields: async (_p, _q, body) => ({ ...(await json(body)), ...idempotencyKey }) }, params: [] };
  }
  if (path === '/v1/market/transactions' && method === 'POST') {
    return { route: { op: 'market.submit', fields: async (_p, _q, body) => ({ transaction: await json(body), ...idempotencyKey }) }, params: [] };
  }
  if (path === '/v1/market/own-transactions' && method === 'POST') {
    return { route: { op: 'market.submitOwn', fields: async (_p, _q, body) => ({ transaction: await json(body), ...idempotencyKey }) }, params: [] };
  }
  if ((match = MARKET_CONTRACT.exec(path)) && method === 'GET') {
    return { route: { op: 'market.query', fields: async ([id], query) => ({ what: 'contracts', id, ...consistency(query) }) }, params: [decodeSegment(match[1]!)] };
  }
  if ((match = MARKET_QUERY.exec(path)) && method === 'GET') {
    const what = match[1]!;
    return { route: { op: 'market.query', fields: async (_p, query) => ({ what, ...consistency(query), ...queryNumber(query, 'from'), ...queryNumber(query, 'limit') }) }, params: [] };
  }
  if (path === '/v1/cluster/status' && method === 'GET') return { route: { op: 'cluster.status', fields: async () => ({}) }, params: [] };
  if (path === '/v1/cluster/members' && method === 'POST') return { route: { op: 'cluster.addMember', fields: async (_p, _q, body) => json(body) }, params: [] };
  if ((match = MEMBER.exec(path)) && method === 'DELETE') {
    return { route: { op: 'cluster.removeMember', fields: async ([member]) => ({ member }) }, params: [decodeSegment(match[1]!)] };
  }
  if (path === '/v1/cluster/weights' && method === 'POST') return { route: { op: 'cluster.setWeights', fields: async (_p, _q, body) => json(body) }, params: [] };
  if (path === '/v1/cluster/transfer-leader' && method === 'POST') return { route: { op: 'cluster.transferLeader', fields: async (_p, _q, body) => json(body) }, params: [] };
  if (path === '/v1/cluster/scoring' && method === 'POST') return { route: { op: 'cluster.setScoring', fields: async (_p, _q, body) => json(body) }, params: [] };
  return undefined;
}

/** The HTTP side of one server's client API. */
export class HttpApi {
  readonly #init: HttpApiInit;

  constructor(init: HttpApiInit) {
    this.#init = init;
  }

  /** The `request` listener of the HTTP server. */
  readonly listener = (request: IncomingMessage, response: ServerResponse): void => {
    this.#serve(request, response).catch((error) => {
      this.#init.logger.error({ err: error }, 'unexpected error in an HTTP request');
      if (!response.headersSent) this.#error(response, new ApiError('INTERNAL', `unexpected error: ${(error as Error).message}`));
      else response.destroy();
    });
  };

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/livez') return this.#json(response, 200, { status: 'ok' });
    if (method === 'GET' && url.pathname === '/readyz') {
      const readiness = this.#init.readiness();
      return this.#json(response, readiness.ready ? 200 : 503, readiness);
    }
    if (method === 'GET' && url.pathname === '/metrics') {
      const text = await this.#init.registry.metrics();
      response.writeHead(200, { 'content-type': this.#init.registry.contentType });
      response.end(text);
      return;
    }
    const gateway = this.#init.gateway;
    const idempotencyHeader = request.headers['idempotency-key'];
    const idempotencyKey = typeof idempotencyHeader === 'string' ? { idempotencyKey: idempotencyHeader } : {};
    const found = route(method, url.pathname, idempotencyKey);
    if (found === undefined) {
      gateway.count('unknown', 'NOT_FOUND');
      return this.#error(response, new ApiError('NOT_FOUND', `no route ${method} ${url.pathname}`));
    }
    const op = found.route.op;
    try {
      const authorization = request.headers.authorization;
      const token = typeof authorization === 'string' && /^Bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
      const clientIdHeader = request.headers['client-id'];
      const clientId = gateway.clientScope(token, typeof clientIdHeader === 'string' ? clientIdHeader : undefined);
      const fields = await found.route.fields(found.params, url.searchParams, () => this.#body(request));
      const parsed: ApiRequest = parseRequest(op, fields);
      const abort = new AbortController();
      response.once('close', () => {
        if (!response.writableFinished) abort.abort();
      });
      const budget = this.#budget(request);
      const result = (await gateway.run(parsed, { clientId, forwarded: false, signal: abort.signal }, budget)) as Record<string, unknown>;
      if (op === 'get' && result.value === null) throw new ApiError('NOT_FOUND', `no key ${JSON.stringify(parsed.op === 'get' ? parsed.key : '')}`);
      this.#json(response, 200, result);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError('INTERNAL', `unexpected error: ${(error as Error).message}`);
      if (!(error instanceof ApiError)) this.#init.logger.error({ err: error }, 'unexpected error in an HTTP request');
      if (['BAD_REQUEST', 'UNAUTHENTICATED', 'TOO_LARGE'].includes(apiError.code)) gateway.count(op, apiError.code);
      this.#error(response, apiError);
      // A body we refused to read is still arriving: close the connection rather than read it.
      if (apiError.code === 'TOO_LARGE') response.once('finish', () => request.socket.destroy());
    }
  }

  /** The in-flight share of the request's connection (keep-alive connections carry several requests). */
  #budget(request: IncomingMessage): ConnectionBudget {
    let budget = budgets.get(request.socket);
    if (budget === undefined) budgets.set(request.socket, (budget = { inFlight: 0 }));
    return budget;
  }

  /** Reads the body, refusing it with TOO_LARGE as soon as it passes `maxRequestBytes`. */
  #body(request: IncomingMessage): Promise<Buffer> {
    const max = this.#init.maxRequestBytes;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > max) return Promise.reject(new ApiError('TOO_LARGE', `the body is ${declared} bytes, above maxRequestBytes (${max})`));
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const onData = (chunk: Buffer) => {
        length += chunk.length;
        if (length > max) {
          request.off('data', onData);
          request.pause();
          reject(new ApiError('TOO_LARGE', `the body is over maxRequestBytes (${max})`));
          return;
        }
        chunks.push(chunk);
      };
      request.on('data', onData);
      request.once('end', () => resolve(Buffer.concat(chunks, length)));
      request.once('error', (error) => reject(new ApiError('BAD_REQUEST', `the body could not be read: ${error.message}`)));
    });
  }

  #json(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }

  #error(response: ServerResponse, error: ApiError): void {
    if (error.retryAfterMs !== undefined) response.setHeader('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    if (error.code === 'UNAUTHENTICATED') response.setHeader('www-authenticate', 'Bearer');
    this.#json(response, error.status, { error: error.toJSON() });
  }
}
