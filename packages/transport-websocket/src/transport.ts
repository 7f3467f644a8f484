import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError, TransportError, messageEnvelopeProblem, messageProblem } from '@greenraft/consensus';
import type { Message, MessageHandler, NodeId, Transport, TransportEvents } from '@greenraft/consensus';
import { type ClientOptions, type WebSocket, WebSocketServer } from 'ws';
import { MessageEncoder, ValueProblem, decodeFrameInto } from './codec.js';
import { CloseCode, type Lane, NonceCache } from './handshake.js';
import { Inbound, type InboundHost } from './inbound.js';
import { type LinkHost, PeerLink, describe } from './link.js';
import { type ResolvedOptions, type TlsInit, type WebSocketTransportInit, resolveOptions, validatePeers, validateTls } from './options.js';
import { type DropReason, type HandshakeFailureReason, type PeerStats, type WebSocketTransportStats, zeroDrops, zeroHandshakeFailures } from './stats.js';
import { type TlsMaterial, loadTls, secureContextOptions } from './tls.js';

/**
 * A greenraft {@link Transport} over WebSocket, with the operations a server needs around it.
 * Create it with {@link websocketTransport}.
 */
export interface WebSocketTransport extends Transport {
  /**
   * Opens the peer endpoint (idempotent) and resolves with its URL, e.g. `ws://127.0.0.1:41235`.
   * `start` calls it; call it first when peers need this node's URL before it starts (port 0).
   * Rejects with `TransportError` when the port cannot be bound.
   */
  listen(): Promise<string>;
  /** The endpoint's URL once listening (with the port the OS picked for port 0), else `undefined`. */
  readonly url: string | undefined;
  /**
   * Replaces the peer map (node id → URL). New peers are connected, removed ones disconnected and
   * their queues dropped, peers whose URL changed are dialled again. This node's own id is ignored.
   * Throws `InvalidArgumentError` for a bad map, and then changes nothing.
   */
  setPeers(peers: Readonly<Record<NodeId, string>> | ReadonlyMap<NodeId, string>): void;
  /** The peer map in effect (without this node). */
  peers(): ReadonlyMap<NodeId, string>;
  /**
   * Reads the TLS certificate, key and CA again (from their files, or from `tls` when given) and
   * uses them for every connection from now on, without a restart; connections already open keep
   * the session they have. Rejects with `TransportError` (and keeps the old material) when the new
   * material does not load or does not fit together, with `InvalidArgumentError` when `tls` is
   * malformed, when the transport has no TLS, or when `tls.mutual` differs.
   */
  reloadTls(tls?: TlsInit): Promise<void>;
  /** A snapshot of every counter (a new object on each call). */
  stats(): WebSocketTransportStats;
  /**
   * The node's flow-control options that fit this transport's limits, to spread into
   * `createRaftNode` (or the weighted node): appends of at most a quarter of `maxPayload` (entry
   * data only is counted by the node; the rest is room for msgpack framing of small entries), at
   * most half of `maxQueuedBytes` of them in flight per follower (so a healthy follower's queue
   * never overflows), and the snapshot chunk size checked against `maxPayload`.
   */
  nodeLimits(): NodeLimits;
}

/** Flow-control options of a Raft node, sized for a {@link WebSocketTransport}. */
export interface NodeLimits {
  /** Bytes of entry data in one AppendEntries. */
  readonly maxMessageBytes: number;
  /** Bytes of entry data in flight to one follower. */
  readonly maxInflightBytes: number;
  /** Bytes of snapshot data in one InstallSnapshot chunk. */
  readonly snapshotChunkBytes: number;
}

/**
 * Creates a WebSocket transport for node `init.id`. Nothing opens until `listen()` or `start()`.
 *
 * - **Connections.** Between two nodes the one with the smaller id dials (string order) and the
 *   other accepts, so there is exactly one link per pair and no duplicate to settle. A link has
 *   two lanes, each its own WebSocket. Votes, heartbeats, TimeoutNow, ReadIndex and every
 *   response always take the `control` lane; AppendEntries and snapshot chunks take it too while
 *   it is light (so an idle link keeps every message in order), and move to the `bulk` lane when
 *   one is 16 KiB or more or 64 KiB of them are unread on the control lane. So a vote or a
 *   heartbeat never waits behind megabytes of log in a TCP buffer; a ping barrier at each move
 *   keeps AppendEntries from overtaking each other.
 * - **Authentication.** Every connection runs a mutual HMAC-SHA256 challenge–response on the
 *   cluster secret with nonces from both sides, binding the cluster id, both node ids and the
 *   lane; replayed handshakes are refused. Once authenticated, a message whose `from` is not the
 *   connection's node is dropped (`wrongSender`). Optional TLS or mutual TLS, reloadable.
 * - **Validation.** Every frame is decoded (msgpack) and every message checked with
 *   `messageProblem` before the node sees it; anything else is dropped and counted, never thrown.
 * - **Backpressure.** `send` never blocks and never throws: each peer and lane has a bounded
 *   queue (messages and bytes, with the socket's buffer kept small); past the bound messages are
 *   dropped, counted, and the peer is reported through `events.unreachable`.
 * - **Liveness.** Pings measure round-trip time and close half-open connections; the dialler
 *   reconnects with jittered exponential backoff from 100 ms.
 *
 * Throws {@link InvalidArgumentError} for a bad or unknown option.
 *
 * @example
 * ```ts
 * import { websocketTransport } from '@greenraft/transport-websocket';
 *
 * const secret = 'a long random cluster secret, shared by every member';
 * const a = websocketTransport({ id: 'a', clusterId: 'grid-east', secret });
 * const b = websocketTransport({ id: 'b', clusterId: 'grid-east', secret });
 * const peers = { a: await a.listen(), b: await b.listen() }; // port 0: the OS picks
 * a.setPeers(peers);
 * b.setPeers(peers);
 * await b.start((message) => console.log(`b got ${message.type} from ${message.from}`));
 * await a.start(() => {});
 * a.send({ type: 'timeoutNow', from: 'a', to: 'b', term: 1 }); // b got timeoutNow from a
 * ```
 */
export function websocketTransport(init: WebSocketTransportInit): WebSocketTransport {
  return new WebSocketPeerTransport(resolveOptions(init));
}


type TransportState = 'idle' | 'listening' | 'started' | 'stopped';

/** Connections allowed in their handshake at once; more are turned away (HTTP 503). */
const MAX_PENDING_HANDSHAKES = 128;
/** How long a dialler nonce is remembered, and how many at most. */
const NONCE_WINDOW_MS = 10 * 60 * 1000;
const NONCE_CAPACITY = 65_536;
/** At most one warning per key in this period; the rest are counted in the next one. */
const LOG_INTERVAL_MS = 10_000;

const silentHandler: MessageHandler = () => {};

class WebSocketPeerTransport implements WebSocketTransport, LinkHost, InboundHost {
  readonly localId: NodeId;
  readonly options: ResolvedOptions;
  #state: TransportState = 'idle';
  #handler: MessageHandler = silentHandler;
  #events: TransportEvents = {};
  #server: HttpServer | HttpsServer | undefined;
  #wss: WebSocketServer | undefined;
  #listening: Promise<string> | undefined;
  #stopping: Promise<void> | undefined;
  #port: number;
  #url: string | undefined;
  #tls: TlsMaterial | undefined;
  #tlsInit: TlsInit | undefined;
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #pending = new Set<Inbound>();
  readonly #nonces = new NonceCache(NONCE_WINDOW_MS, NONCE_CAPACITY);
  readonly #drops = zeroDrops();
  readonly #handshakeFailures = zeroHandshakeFailures();
  #reconnects = 0;
  #handlerErrors = 0;
  readonly #unreachablePending = new Set<NodeId>();
  readonly #logTimes = new Map<string, { at: number; suppressed: number }>();
  /** Measures and writes each outgoing message (one per transport: `send` never re-enters it). */
  readonly #encoder = new MessageEncoder();

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.localId = options.id;
    this.#port = options.port;
    this.#tlsInit = options.tls;
    for (const [peer, url] of options.peers) this.#links.set(peer, new PeerLink(this, peer, url));
  }

  get url(): string | undefined {
    return this.#url;
  }

  // ------------------------------------------------------------------ lifecycle

  listen(): Promise<string> {
    if (this.#stopping !== undefined) return this.#stopping.then(() => this.listen());
    this.#listening ??= this.#listen().catch((error: unknown) => {
      this.#listening = undefined;
      throw error;
    });
    return this.#listening;
  }

  async #listen(): Promise<string> {
    if (this.#tlsInit !== undefined) this.#tls = await loadTls(this.#tlsInit);
    const tls = this.#tls;
    const refuseHttp = (_request: IncomingMessage, response: ServerResponse): void => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('greenraft peer endpoint: WebSocket only\n');
    };
    // Node checks request timeouts every connectionsCheckingInterval: as often as a handshake may last.
    const http = { connectionsCheckingInterval: Math.min(this.options.handshakeTimeoutMs, 30_000) };
    const server =
      tls === undefined
        ? createHttpServer(http, refuseHttp)
        : createHttpsServer({ ...http, ...secureContextOptions(tls), requestCert: tls.mutual, rejectUnauthorized: tls.mutual }, refuseHttp);
    // Connections that never finish their HTTP upgrade are cut as fast as unauthenticated ones.
    server.headersTimeout = this.options.handshakeTimeoutMs;
    server.requestTimeout = this.options.handshakeTimeoutMs;
    server.on('tlsClientError', (error: Error, socket: { remoteAddress?: string }) => {
      this.handshakeFailed('tls');
      this.log('warn', `tls:${socket.remoteAddress ?? '?'}`, { reason: 'tls', remoteAddress: socket.remoteAddress, detail: describe(error) }, 'refused a peer connection');
    });
    const wss = new WebSocketServer({
      server,
      maxPayload: this.options.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      skipUTF8Validation: true,
      verifyClient: (_info, callback) => {
        if (this.#state === 'stopped') return callback(false, 503, 'stopping');
        if (this.#pending.size >= MAX_PENDING_HANDSHAKES) {
          this.handshakeFailed('busy');
          return callback(false, 503, 'busy');
        }
        callback(true);
      },
    });
    wss.on('connection', (socket, request) => this.#accept(socket, request));
    wss.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => reject(new TransportError(`${this.localId}: cannot listen on ${this.options.host}:${this.#port}: ${error.message}`, { cause: error }));
      server.once('error', failed);
      server.listen({ host: this.options.host, port: this.#port }, () => {
        server.removeListener('error', failed);
        resolve();
      });
    });
    server.on('error', (error) => this.log('warn', 'server', { error: describe(error) }, 'peer endpoint error'));
    const address = server.address() as AddressInfo;
    // Restarts bind the same port, so the URL peers hold stays right.
    this.#port = address.port;
    this.#server = server;
    this.#wss = wss;
    // A stop that began while this was binding keeps the transport stopped (it closes this server).
    if (this.#stopping === undefined && (this.#state === 'idle' || this.#state === 'stopped')) this.#state = 'listening';
    const host = this.options.host === '0.0.0.0' ? '127.0.0.1' : this.options.host === '::' ? '::1' : this.options.host;
    this.#url = `${tls === undefined ? 'ws' : 'wss'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    return this.#url;
  }

  async start(handler: MessageHandler, events: TransportEvents = {}): Promise<void> {
    if (typeof handler !== 'function') throw new InvalidArgumentError(`transport ${this.localId}: start needs a message handler function`);
    if (typeof events !== 'object' || events === null) throw new InvalidArgumentError(`transport ${this.localId}: events must be an object`);
    if (this.#state === 'started') throw new TransportError(`transport ${this.localId} is already started`);
    await this.listen();
    // Another start may have won the race while this one waited for the endpoint, or a stop.
    if (this.isRunning()) throw new TransportError(`transport ${this.localId} is already started`);
    if (this.#stopping !== undefined || this.#server === undefined) throw new TransportError(`transport ${this.localId} was stopped while it started`);
    this.#handler = handler;
    this.#events = events;
    this.#state = 'started';
    for (const link of this.#links.values()) link.start();
  }

  send(message: Message): void {
    if (this.#state !== 'started') return;
    const envelope = messageEnvelopeProblem(message);
    if (envelope !== undefined || message.from !== this.localId) {
      this.drop('invalidMessage', undefined);
      this.log('debug', 'send:invalid', { problem: envelope ?? `from is ${String(message.from)}, not ${this.localId}` }, 'dropped an invalid outgoing message');
      return;
    }
    const link = this.#links.get(message.to);
    if (link === undefined) {
      this.drop('unknownPeer', undefined);
      this.#reportUnreachable(message.to);
      return;
    }
    const encoder = this.#encoder;
    let refused: DropReason | undefined;
    try {
      const length = encoder.prepare(message);
      if (length > this.options.maxPayload) {
        this.drop('oversized', link);
        this.log('warn', `oversized:${link.peer}`, { peer: link.peer, type: message.type, bytes: length, maxPayload: this.options.maxPayload }, 'dropped a message larger than maxPayload; lower the node\'s maxMessageBytes or raise maxPayload');
        return;
      }
      // The lane writes the message straight into its open batch.
      refused = link.enqueue(message.type, encoder);
    } catch (error) {
      this.drop('invalidMessage', link);
      this.log('debug', 'send:invalid', { peer: link.peer, type: message.type, problem: describe(error) }, 'dropped an invalid outgoing message');
      return;
    }
    if (refused !== undefined) this.drop(refused, link);
  }

  stop(): Promise<void> {
    if (this.#state !== 'started' && this.#state !== 'listening' && this.#listening === undefined) return this.#stopping ?? Promise.resolve();
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#handler = silentHandler;
    this.#events = {};
    try {
      await this.#listening;
    } catch {
      // It never listened: nothing to close.
    }
    for (const link of this.#links.values()) link.close(CloseCode.stopping, 'the node is stopping');
    for (const inbound of [...this.#pending]) inbound.terminate();
    this.#pending.clear();
    const server = this.#server;
    const wss = this.#wss;
    this.#server = undefined;
    this.#wss = undefined;
    this.#listening = undefined;
    this.#url = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        wss?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    for (const link of this.#links.values()) link.state = 'idle';
  }

  isRunning(): boolean {
    return this.#state === 'started';
  }

  // ------------------------------------------------------------------ peers

  setPeers(peers: Readonly<Record<NodeId, string>> | ReadonlyMap<NodeId, string>): void {
    const next = validatePeers(peers, this.localId, this.#tlsInit !== undefined);
    for (const [peer, link] of this.#links) {
      if (next.has(peer)) continue;
      link.close(CloseCode.removed, 'removed from the peer map');
      this.#links.delete(peer);
    }
    for (const [peer, url] of next) {
      const link = this.#links.get(peer);
      if (link === undefined) {
        const added = new PeerLink(this, peer, url);
        this.#links.set(peer, added);
        if (this.#state === 'started') added.start();
      } else if (link.url !== url) link.changeUrl(url);
    }
  }

  peers(): ReadonlyMap<NodeId, string> {
    return new Map([...this.#links].map(([peer, link]) => [peer, link.url]));
  }

  hasPeer(peer: NodeId): boolean {
    return this.#links.has(peer);
  }

  // ------------------------------------------------------------------ TLS

  async reloadTls(tls?: TlsInit): Promise<void> {
    if (this.#tlsInit === undefined) throw new InvalidArgumentError(`transport ${this.localId}: reloadTls needs a transport created with tls`);
    const next = tls === undefined ? this.#tlsInit : validateTls(tls);
    if ((next.mutual ?? false) !== (this.#tlsInit.mutual ?? false)) {
      throw new InvalidArgumentError(`transport ${this.localId}: tls.mutual cannot change without a restart`);
    }
    const material = await loadTls(next);
    const server = this.#server as HttpsServer | undefined;
    server?.setSecureContext(secureContextOptions(material));
    this.#tls = material;
    this.#tlsInit = next;
    this.log('info', 'tls:reload', {}, 'reloaded the TLS certificate, key and CA');
  }

  /** Options of an outgoing WebSocket, with the TLS material in effect now. */
  clientOptions(): ClientOptions {
    const tls = this.#tls;
    const base: ClientOptions = {
      perMessageDeflate: false,
      maxPayload: this.options.maxPayload,
      handshakeTimeout: this.options.handshakeTimeoutMs,
      followRedirects: false,
      skipUTF8Validation: true,
    };
    if (tls === undefined) return base;
    return {
      ...base,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.mutual ? { cert: tls.cert, key: tls.key, ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }) } : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
    };
  }

  // ------------------------------------------------------------------ inbound

  #accept(socket: WebSocket, request: IncomingMessage): void {
    if (this.#state === 'stopped' || this.#state === 'idle') {
      socket.terminate();
      return;
    }
    const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
    this.#pending.add(new Inbound(this, socket, remote));
  }

  handshakeSettled(inbound: Inbound): void {
    this.#pending.delete(inbound);
  }

  rememberNonce(value: Uint8Array): boolean {
    return this.#nonces.remember(value, performance.now());
  }

  authenticated(peer: NodeId, lane: Lane, socket: WebSocket, session: Uint8Array): void {
    const link = this.#links.get(peer);
    if (link === undefined || this.#state === 'stopped') {
      socket.on('error', () => {});
      socket.close(CloseCode.removed, 'not a peer');
      return;
    }
    link.attachInbound(lane, socket, session);
  }

  /** A frame from an authenticated peer: decode, check, deliver. Never throws. */
  receive(link: PeerLink, data: Buffer, isBinary: boolean): void {
    link.counters.bytesReceived += data.byteLength;
    if (!isBinary) {
      this.#dropIncoming('undecodable', link, 'a text frame');
      return;
    }
    const values: unknown[] = [];
    const undecodable = decodeFrameInto(data, values);
    if (undecodable !== undefined) {
      this.#dropIncoming('undecodable', link, undecodable);
      return;
    }
    for (const value of values) {
      if (value instanceof ValueProblem) {
        this.#dropIncoming('invalid', link, value.problem);
        continue;
      }
      const problem = messageProblem(value);
      if (problem !== undefined) {
        this.#dropIncoming('invalid', link, problem);
        continue;
      }
      const message = value as Message;
      if (message.to !== this.localId) {
        this.#dropIncoming('wrongAddressee', link, `addressed to ${message.to}`);
        continue;
      }
      if (message.from !== link.peer) {
        this.#dropIncoming('wrongSender', link, `from ${message.from} on ${link.peer}'s connection`);
        continue;
      }
      if (this.#state !== 'started') {
        this.drop('notStarted', link);
        continue;
      }
      link.counters.messagesReceived++;
      try {
        this.#handler(message);
      } catch (error) {
        this.#handlerErrors++;
        this.log('warn', 'handler', { peer: link.peer, type: message.type, error: describe(error) }, 'the message handler threw');
      }
    }
  }

  #dropIncoming(reason: DropReason, link: PeerLink, detail: string): void {
    this.drop(reason, link);
    this.log('warn', `incoming:${link.peer}:${reason}`, { peer: link.peer, reason, detail }, 'dropped a frame from a peer');
  }

  // ------------------------------------------------------------------ counters and reports

  drop(reason: DropReason, link: PeerLink | undefined, count = 1): void {
    this.#drops[reason] += count;
    if (link === undefined) return;
    link.counters.drops[reason] += count;
    if (reason === 'unreachable' || reason === 'queueFull' || reason === 'disconnected') this.#reportUnreachable(link.peer);
  }

  handshakeFailed(reason: HandshakeFailureReason): void {
    this.#handshakeFailures[reason]++;
  }

  reconnected(): void {
    this.#reconnects++;
  }

  /** Tells the node once per turn of the event loop, outside `send`, that `peer` lost messages. */
  #reportUnreachable(peer: NodeId): void {
    const unreachable = this.#events.unreachable;
    if (unreachable === undefined || this.#unreachablePending.has(peer)) return;
    this.#unreachablePending.add(peer);
    queueMicrotask(() => {
      this.#unreachablePending.delete(peer);
      if (this.#state !== 'started') return;
      try {
        this.#events.unreachable?.(peer);
      } catch (error) {
        this.log('warn', 'events', { peer, error: describe(error) }, 'the unreachable callback threw');
      }
    });
  }

  /** Logs at most once per key per interval (a flood of bad frames is one line with a count). */
  log(level: 'warn' | 'info' | 'debug', key: string, fields: Record<string, unknown>, message: string): void {
    const now = performance.now();
    const last = this.#logTimes.get(key);
    if (last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    if (this.#logTimes.size > 1024) this.#logTimes.clear();
    this.#logTimes.set(key, { at: now, suppressed: 0 });
    const entry = { node: this.localId, ...fields, ...(last !== undefined && last.suppressed > 0 ? { suppressed: last.suppressed } : {}) };
    try {
      this.options.logger[level](entry, message);
    } catch {
      // A failing logger must not take the transport down.
    }
  }

  nodeLimits(): NodeLimits {
    const { maxPayload, maxQueuedBytes, snapshotChunkBytes } = this.options;
    return { maxMessageBytes: Math.floor(maxPayload / 4), maxInflightBytes: Math.floor(maxQueuedBytes / 2), snapshotChunkBytes };
  }

  stats(): WebSocketTransportStats {
    const peers: Record<NodeId, PeerStats> = {};
    for (const [peer, link] of this.#links) peers[peer] = link.stats();
    return {
      localId: this.localId,
      state: this.#state,
      peers,
      drops: { ...this.#drops },
      reconnects: this.#reconnects,
      handshakeFailures: { ...this.#handshakeFailures },
      pendingHandshakes: this.#pending.size,
      handlerErrors: this.#handlerErrors,
    };
  }
}
