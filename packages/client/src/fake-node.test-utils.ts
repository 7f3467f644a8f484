/**
 * A protocol-level fake of a greenraft node, for the cases a real node cannot produce on demand:
 * a connection dropped after a write was applied and before its answer, an answer sent twice, an
 * answer that comes too late, frames that are not the protocol. Everything else is tested on real
 * servers. It speaks docs/client-protocol.md over `ws` on loopback (port 0) and keeps a KV map
 * with idempotency keys per client (a write retried with its key is applied once).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

/** A request as the fake received it. */
export interface FakeRequest {
  readonly id: number;
  readonly op: string;
  readonly [field: string]: unknown;
}

/** What a handler may do with a request. */
export interface FakeExchange {
  readonly request: FakeRequest;
  /** The client id given in hello on this connection. */
  readonly clientId: string;
  /** Which connection of this node (1, 2, ...). */
  readonly connection: number;
  /** Applies the request to the fake's KV (once per idempotency key) and returns the result. */
  apply(): unknown;
  answer(result: unknown): void;
  fail(code: string, message: string, extra?: Record<string, unknown>): void;
  /** Closes the TCP connection without a close frame. */
  drop(): void;
  /** Sends raw text. */
  send(text: string): void;
}

/** Handles a request; returning `'default'` (or a promise of it) lets the default answer it (apply, then answer). */
export type FakeHandler = (exchange: FakeExchange) => unknown;

/** Options of {@link fakeNode}. */
export interface FakeNodeInit {
  id: string;
  /** The leader `hello` names: `{ id, url }` or undefined. */
  leader?: () => { id: string; url: string } | undefined;
  handle?: FakeHandler;
  /** Shared state, so several fake nodes look like one replicated store. */
  store?: FakeStore;
}

/** The replicated state the fakes share: values, the log index, remembered results by client and key. */
export class FakeStore {
  readonly values = new Map<string, string>();
  readonly results = new Map<string, unknown>();
  index = 0;
  applied = 0;

  apply(clientId: string, request: FakeRequest): unknown {
    const key = typeof request.idempotencyKey === 'string' ? `${clientId}\u0000${request.idempotencyKey}` : undefined;
    if (key !== undefined && this.results.has(key)) return this.results.get(key);
    let result: unknown;
    const name = String(request.key);
    switch (request.op) {
      case 'get':
        return { value: this.values.get(name) ?? null, index: this.index };
      case 'put':
        this.values.set(name, String(request.value));
        result = { index: ++this.index };
        break;
      case 'cas': {
        const swapped = (this.values.get(name) ?? null) === request.from;
        if (swapped) this.values.set(name, String(request.to));
        result = { swapped, index: ++this.index };
        break;
      }
      case 'delete':
        result = { deleted: this.values.delete(name), index: ++this.index };
        break;
      case 'cluster.status':
        return { node: 'fake', role: 'leader', term: 1, leader: 'fake', commitIndex: this.index, appliedIndex: this.index, config: { voters: {}, learners: [], outgoing: null }, members: {} };
      case 'subscribe':
        return { subscribed: request.topics };
      case 'unsubscribe':
        return { unsubscribed: request.topics };
      default:
        throw new Error(`the fake does not know ${request.op}`);
    }
    this.applied++;
    if (key !== undefined) this.results.set(key, result);
    return result;
  }
}

/** A running fake node. */
export interface FakeNode {
  readonly id: string;
  /** Its client URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly store: FakeStore;
  /** Every request received (hello included), in order. */
  readonly requests: FakeRequest[];
  /** Connections accepted so far. */
  connections(): number;
  /** Open sockets now. */
  readonly sockets: Set<WebSocket>;
  /** Sends an event frame to every open connection. */
  broadcast(event: string, data: unknown): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts a fake node on loopback, port 0. */
export async function fakeNode(init: FakeNodeInit): Promise<FakeNode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/ws' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = init.store ?? new FakeStore();
  const requests: FakeRequest[] = [];
  const sockets = new Set<WebSocket>();
  let accepted = 0;
  server.on('connection', (socket) => {
    const connection = ++accepted;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let clientId = '';
    socket.on('message', async (data) => {
      const request = JSON.parse(String(data)) as FakeRequest;
      requests.push(request);
      const send = (text: string) => socket.readyState === WebSocket.OPEN && socket.send(text);
      const answer = (result: unknown) => send(JSON.stringify({ id: request.id, ok: true, result }));
      const fail = (code: string, message: string, extra: Record<string, unknown> = {}) => send(JSON.stringify({ id: request.id, ok: false, error: { code, message, ...extra } }));
      if (request.op === 'hello') {
        clientId = String(request.clientId);
        const leader = init.leader?.();
        answer({ node: init.id, leader: leader?.id ?? null, leaderUrl: leader?.url ?? null, protocol: 1 });
        return;
      }
      const exchange: FakeExchange = {
        request,
        clientId,
        connection,
        apply: () => store.apply(clientId, request),
        answer,
        fail,
        drop: () => socket.terminate(),
        send,
      };
      const outcome = init.handle === undefined ? 'default' : await init.handle(exchange);
      if (outcome !== 'default') return;
      try {
        answer(exchange.apply());
      } catch (error) {
        fail('BAD_REQUEST', (error as Error).message);
      }
    });
  });
  return {
    id: init.id,
    url,
    store,
    requests,
    sockets,
    connections: () => accepted,
    broadcast: (event, data) => {
      for (const socket of sockets) socket.send(JSON.stringify({ event, data }));
    },
    close: async () => {
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
