import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Message, NodeId } from '@greenraft/consensus';
import { type ClientOptions, WebSocket } from 'ws';
import type { MessageEncoder } from './codec.js';
import { CloseCode, type HandshakeBinding, type Lane, MAX_HANDSHAKE_FRAME_BYTES, PROTOCOL_VERSION, SESSION_BYTES, encodeAuth, encodeHello, handshakeMac, isWelcome, macMatches, nonce, parseChallenge } from './handshake.js';
import { LaneQueue, SEND_OPTIONS } from './lane.js';
import { type ResolvedOptions, reconnectDelay } from './options.js';
import { type DropReason, type HandshakeFailureReason, type PeerStats, zeroDrops } from './stats.js';

/** An AppendEntries or snapshot chunk this large always takes the bulk lane. */
const LARGE_MESSAGE_BYTES = 16 * 1024;
/** Bytes of AppendEntries the control lane may carry that the peer has not yet read (a pong says so). */
const CONTROL_BULK_BUDGET = 64 * 1024;

type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'waiting' | 'down' | 'closed';

/** What a link needs from its transport. */
export interface LinkHost {
  readonly options: ResolvedOptions;
  /** Whether the transport is started (a lost link recovers only then). */
  isRunning(): boolean;
  /** Options of an outgoing WebSocket, with the TLS material in effect now. */
  clientOptions(): ClientOptions;
  /** A frame from the peer, on one of the link's authenticated sockets. */
  receive(link: PeerLink, data: Buffer, isBinary: boolean): void;
  drop(reason: DropReason, link: PeerLink | undefined, count?: number): void;
  handshakeFailed(reason: HandshakeFailureReason): void;
  reconnected(): void;
  log(level: 'warn' | 'info' | 'debug', key: string, fields: Record<string, unknown>, message: string): void;
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const TLS_ERROR = /CERT|SSL|TLS|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|HOSTNAME|ALTNAME/i;

function isTlsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return (typeof code === 'string' && TLS_ERROR.test(code)) || (error instanceof Error && /certificate|ssl|tls alert/i.test(error.message));
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.compare(a, b) === 0;

export interface PeerCounters {
  messagesSent: number;
  bulkMessagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  drops: Record<DropReason, number>;
  reconnects: number;
  connections: number;
  dialFailures: number;
  rttMs: number | undefined;
  smoothedRttMs: number | undefined;
}

/** An outgoing connection on one lane, from dial to welcome. */
class Dial {
  readonly socket: WebSocket;
  readonly #timer: NodeJS.Timeout;
  #dialerNonce = nonce();
  #stage: 'opening' | 'challenge' | 'welcome' | 'done' = 'opening';

  constructor(
    private readonly link: PeerLink,
    readonly lane: Lane,
    private readonly session: Uint8Array,
  ) {
    const transport = link.transport;
    this.socket = new WebSocket(link.url, transport.clientOptions());
    this.#timer = setTimeout(() => this.#fail('timeout', 'the connection did not authenticate in time'), transport.options.handshakeTimeoutMs);
    this.#timer.unref();
    this.socket.on('open', this.#opened);
    this.socket.on('message', this.#message);
    this.socket.on('error', this.#error);
    this.socket.on('close', this.#closed);
  }

  /** Stops the attempt without reporting anything (the link gave up on it). */
  abandon(): void {
    if (this.#stage === 'done') return;
    this.#stage = 'done';
    clearTimeout(this.#timer);
    this.socket.removeAllListeners();
    this.socket.on('error', () => {});
    this.socket.terminate();
  }

  readonly #opened = (): void => {
    const { options } = this.link.transport;
    this.#stage = 'challenge';
    this.socket.send(
      encodeHello({
        version: PROTOCOL_VERSION,
        clusterId: options.clusterId,
        dialerId: options.id,
        acceptorId: this.link.peer,
        lane: this.lane,
        dialerNonce: this.#dialerNonce,
        session: this.session,
      }),
      SEND_OPTIONS,
    );
  };

  readonly #message = (data: Buffer, isBinary: boolean): void => {
    const frame = isBinary && data.byteLength <= MAX_HANDSHAKE_FRAME_BYTES ? data : undefined;
    if (this.#stage === 'challenge') {
      const challenge = frame === undefined ? undefined : parseChallenge(frame);
      if (challenge === undefined) {
        this.#fail('protocol', 'the acceptor did not send a well-formed challenge');
        return;
      }
      const binding = this.#binding(challenge.acceptorNonce);
      const secret = this.link.transport.options.secret;
      // The acceptor proves it knows the secret first: an impostor gets nothing from us.
      if (!macMatches(handshakeMac(secret, 'acceptor', binding), challenge.acceptorMac)) {
        this.#fail('badMac', 'the acceptor does not know the cluster secret');
        return;
      }
      this.#stage = 'welcome';
      this.socket.send(encodeAuth(handshakeMac(secret, 'dialer', binding)), SEND_OPTIONS);
      return;
    }
    if (this.#stage === 'welcome') {
      if (frame === undefined || !isWelcome(frame)) {
        this.#fail('protocol', 'the acceptor did not send a welcome');
        return;
      }
      this.#stage = 'done';
      clearTimeout(this.#timer);
      this.socket.removeListener('open', this.#opened);
      this.socket.removeListener('message', this.#message);
      this.socket.removeListener('error', this.#error);
      this.socket.removeListener('close', this.#closed);
      this.link.dialSucceeded(this, this.session);
      return;
    }
    this.#fail('protocol', 'a frame arrived before the connection opened');
  };

  #binding(acceptorNonce: Uint8Array): HandshakeBinding {
    const { options } = this.link.transport;
    return { clusterId: options.clusterId, dialerId: options.id, acceptorId: this.link.peer, lane: this.lane, dialerNonce: this.#dialerNonce, acceptorNonce, session: this.session };
  }

  readonly #error = (error: Error): void => {
    if (this.#stage === 'done') return;
    if (isTlsError(error)) {
      this.#fail('tls', describe(error));
      return;
    }
    if (this.#stage === 'opening') {
      this.#fail(undefined, describe(error));
      return;
    }
    this.#fail('protocol', describe(error));
  };

  readonly #closed = (code: number, reason: Buffer): void => {
    if (this.#stage === 'done') return;
    if (code >= 4000 && code < 5000) {
      this.#fail('refused', `the acceptor refused the handshake (${code} ${reason.toString()})`);
      return;
    }
    this.#fail(this.#stage === 'opening' ? undefined : 'protocol', `the connection closed during the handshake (${code})`);
  };

  /** `reason` undefined: the dial itself failed (refused, reset, unreachable), not a handshake. */
  #fail(reason: HandshakeFailureReason | undefined, detail: string): void {
    if (this.#stage === 'done') return;
    this.abandon();
    this.link.dialFailed(this, reason, detail);
  }
}

/** Everything about one peer: its URL, the two lanes, the connection state, its counters. */
export class PeerLink {
  state: LinkState = 'idle';
  readonly role: 'dialer' | 'acceptor';
  readonly lanes: { readonly control: LaneQueue; readonly bulk: LaneQueue };
  readonly counters: PeerCounters = {
    messagesSent: 0,
    bulkMessagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    drops: zeroDrops(),
    reconnects: 0,
    connections: 0,
    dialFailures: 0,
    rttMs: undefined,
    smoothedRttMs: undefined,
  };
  #dials = new Set<Dial>();
  #attempt = 0;
  #openedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #pinger: NodeJS.Timeout | undefined;
  /** The dial round (dialer) or the dialler's round (acceptor) the attached lanes belong to. */
  #session: Uint8Array | undefined;
  /**
   * The lane AppendEntries and snapshot chunks take now. They ride the control lane while it is
   * light (so an idle link keeps every message in order), move to the bulk lane when one is large
   * or too many bytes of them are unread on the control lane, and come back once the bulk lane has
   * been read to the end. Each move waits for a ping barrier on the lane it leaves, so those
   * messages never overtake each other.
   */
  #bulkRoute: 'control' | 'switching' | 'bulk' = 'control';
  #returning = false;

  constructor(
    readonly transport: LinkHost,
    readonly peer: NodeId,
    public url: string,
  ) {
    this.role = transport.options.id < peer ? 'dialer' : 'acceptor';
    this.lanes = { control: new LaneQueue(this, 'control'), bulk: new LaneQueue(this, 'bulk') };
  }

  get options(): ResolvedOptions {
    return this.transport.options;
  }

  get connected(): boolean {
    return this.lanes.control.socket !== undefined && this.lanes.bulk.socket !== undefined;
  }

  /** The transport started: diallers dial, acceptors expect the dialler. */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'closed') return;
    if (this.role === 'dialer') this.#connect();
    else if (!this.connected) this.#wait();
    else this.state = 'open';
  }

  /** Queues the message `encoder` has prepared on its lane, or says why it cannot be. */
  enqueue(type: Message['type'], encoder: MessageEncoder): DropReason | undefined {
    const { control, bulk } = this.lanes;
    const bulkType = type === 'appendRequest' || type === 'snapshotRequest';
    if (bulkType && this.#bulkRoute === 'control') {
      const light = encoder.length < LARGE_MESSAGE_BYTES && control.bulkBytesInFlight + encoder.length <= CONTROL_BULK_BUDGET;
      if (!light) this.#switchToBulk();
    }
    const lane = bulkType && this.#bulkRoute !== 'control' ? bulk : control;
    if (lane.socket === undefined && this.state !== 'connecting' && this.state !== 'waiting') return 'unreachable';
    return lane.enqueue(encoder, bulkType);
  }

  #switchToBulk(): void {
    const { control, bulk } = this.lanes;
    this.#bulkRoute = 'switching';
    bulk.held = true;
    control.awaitBarrier(() => {
      if (this.#bulkRoute !== 'switching') return;
      this.#bulkRoute = 'bulk';
      bulk.release();
    });
  }

  /** A lane wrote what it could: keep the control lane's unread bulk bytes known, and leave the bulk lane once it is read. */
  flushed(lane: LaneQueue): void {
    const { control, bulk } = this.lanes;
    if (lane === control) {
      // Past half the budget, ask for a pong: it tells how much the peer has read, before the budget runs out.
      if (control.bulkBytesInFlight > CONTROL_BULK_BUDGET / 2) control.ping();
      return;
    }
    if (this.#bulkRoute !== 'bulk' || this.#returning || bulk.queuedMessages > 0) return;
    this.#returning = true;
    const mark = bulk.written;
    bulk.awaitBarrier(() => {
      this.#returning = false;
      if (this.#bulkRoute !== 'bulk') return;
      if (bulk.written === mark && bulk.queuedMessages === 0) this.#bulkRoute = 'control';
      else this.flushed(bulk);
    });
  }

  /** The peer map gave this peer a new URL: dial it there from now on. */
  changeUrl(url: string): void {
    this.url = url;
    if (this.role !== 'dialer' || this.state === 'idle' || this.state === 'closed') return;
    this.#teardown(CloseCode.removed, 'the peer moved', 'disconnected');
    this.#attempt = 0;
    this.#connect();
  }

  /** Stops everything for good (transport stopped, or peer removed from the map). */
  close(code: number, why: string): void {
    this.#teardown(code, why, 'stopped', code === CloseCode.stopping);
    this.state = 'closed';
  }

  // ------------------------------------------------------------------ dialer

  #connect(): void {
    this.state = 'connecting';
    const session = new Uint8Array(randomBytes(SESSION_BYTES));
    for (const lane of ['control', 'bulk'] as const) this.#dials.add(new Dial(this, lane, session));
  }

  dialSucceeded(dial: Dial, session: Uint8Array): void {
    if (!this.#dials.delete(dial)) {
      dial.socket.terminate();
      return;
    }
    this.#attach(dial.lane, dial.socket, session);
  }

  dialFailed(dial: Dial, reason: HandshakeFailureReason | undefined, detail: string): void {
    if (!this.#dials.delete(dial)) return;
    const transport = this.transport;
    if (reason === undefined) {
      this.counters.dialFailures++;
      transport.log('debug', `dial:${this.peer}`, { peer: this.peer, url: this.url, lane: dial.lane, error: detail }, 'could not connect to peer');
    } else {
      transport.handshakeFailed(reason);
      transport.log('warn', `dial:${this.peer}:${reason}`, { peer: this.peer, url: this.url, lane: dial.lane, reason, error: detail }, 'peer handshake failed');
    }
    this.#lost('unreachable');
  }

  // ------------------------------------------------------------------ acceptor

  /** An inbound connection authenticated as this peer on `lane`, in the dialler's round `session`. */
  attachInbound(lane: Lane, socket: WebSocket, session: Uint8Array): void {
    if (this.state === 'closed') {
      socket.on('error', () => {});
      socket.close(CloseCode.removed, 'not a peer any more');
      return;
    }
    if (!sameBytes(this.#session, session)) {
      // A new round from the dialler: whatever the old round left is stale (it may be half-open).
      this.#detachLanes(CloseCode.replaced, 'replaced by a newer connection');
      if (this.transport.isRunning()) this.#wait();
    }
    const old = this.lanes[lane].socket;
    if (old !== undefined) {
      this.lanes[lane].detach();
      PeerLink.#quiet(old);
      old.close(CloseCode.replaced, 'replaced by a newer connection');
    }
    this.#attach(lane, socket, session);
  }

  #wait(): void {
    this.state = 'waiting';
    this.#clearTimer();
    // The dialler is expected back (after its backoff); past this, messages for it are dropped.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.state !== 'waiting') return;
      this.state = 'down';
      this.#dropQueued('unreachable');
    }, this.options.handshakeTimeoutMs);
    this.#timer.unref();
  }

  // ------------------------------------------------------------------ both roles

  #attach(lane: Lane, socket: WebSocket, session: Uint8Array): void {
    this.#session = session;
    const queue = this.lanes[lane];
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (queue.socket === socket) this.transport.receive(this, data, isBinary);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.transport.drop('oversizedFrame', this);
      this.transport.log('debug', `socket:${this.peer}`, { peer: this.peer, lane, error: describe(error) }, 'peer connection error');
    });
    socket.on('close', () => {
      if (queue.socket === socket) this.#lost('disconnected');
    });
    queue.attach(socket);
    if (this.#pinger === undefined) {
      this.#pinger = setInterval(() => this.#tick(), Math.min(this.options.pingIntervalMs, this.options.pongTimeoutMs));
      this.#pinger.unref();
    }
    queue.ping();
    if (this.connected) {
      this.#clearTimer();
      this.state = 'open';
      this.#openedAt = performance.now();
      this.counters.connections++;
      this.transport.log('info', `open:${this.peer}`, { peer: this.peer, role: this.role }, 'peer connected');
    }
  }

  /** Pings both lanes; a lane whose pong is overdue takes the link down (a half-open connection). */
  #tick(): void {
    const now = performance.now();
    for (const queue of [this.lanes.control, this.lanes.bulk]) {
      if (queue.socket === undefined) continue;
      // The bulk lane's pong can wait behind megabytes a slow link is still carrying: more patience there.
      const timeout = queue.name === 'control' ? this.options.pongTimeoutMs : 4 * this.options.pongTimeoutMs;
      const age = queue.pingAge(now);
      if (age >= timeout) {
        this.transport.log('warn', `pong:${this.peer}`, { peer: this.peer, lane: queue.name, waitedMs: Math.round(age) }, 'peer stopped answering pings; reconnecting');
        this.#lost('disconnected');
        return;
      }
      if (age === 0) queue.ping();
    }
  }

  roundTrip(rtt: number): void {
    this.counters.rttMs = rtt;
    const smoothed = this.counters.smoothedRttMs;
    this.counters.smoothedRttMs = smoothed === undefined ? rtt : smoothed + (rtt - smoothed) / 8;
  }

  /** A lane closed, a dial failed, or a pong is overdue: take the whole link down, then recover. */
  #lost(reason: 'unreachable' | 'disconnected'): void {
    if (this.state === 'closed' || this.state === 'idle') return;
    const wasOpen = this.state === 'open';
    this.#teardown(CloseCode.replaced, 'link reset', reason);
    if (wasOpen) this.transport.log('info', `lost:${this.peer}`, { peer: this.peer }, 'peer disconnected');
    if (!this.transport.isRunning()) {
      this.state = 'idle';
      return;
    }
    if (this.role === 'acceptor') {
      this.#wait();
      return;
    }
    // A link that stayed up for a while starts over at the shortest wait; a flapping one keeps growing.
    if (wasOpen && performance.now() - this.#openedAt >= this.options.reconnect.maxDelayMs) this.#attempt = 0;
    this.state = 'backoff';
    const delay = reconnectDelay(this.#attempt, this.options.reconnect);
    this.#attempt++;
    this.transport.log('debug', `backoff:${this.peer}`, { peer: this.peer, delayMs: Math.round(delay) }, 'reconnecting to peer after backoff');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.state !== 'backoff') return;
      this.counters.reconnects++;
      this.transport.reconnected();
      this.#connect();
    }, delay);
    this.#timer.unref();
  }

  #teardown(code: number, why: string, dropReason: DropReason, immediate = false): void {
    this.#clearTimer();
    for (const dial of this.#dials) dial.abandon();
    this.#dials.clear();
    this.#detachLanes(code, why, immediate);
    this.#dropQueued(dropReason);
  }

  /** `immediate`: the node is stopping, so its sockets go at once rather than after a close handshake. */
  #detachLanes(code: number, why: string, immediate = false): void {
    if (this.#pinger !== undefined) clearInterval(this.#pinger);
    this.#pinger = undefined;
    this.#session = undefined;
    // Barriers belonged to the old sockets: start the next connection with every message on the control lane.
    this.#bulkRoute = 'control';
    this.#returning = false;
    for (const queue of [this.lanes.control, this.lanes.bulk]) {
      const socket = queue.detach();
      if (socket === undefined) continue;
      PeerLink.#quiet(socket);
      if (socket.readyState === WebSocket.OPEN && !immediate) socket.close(code, why);
      else socket.terminate();
      // A peer that never reads never completes a close handshake: do not wait for it.
      setTimeout(() => socket.terminate(), 1000).unref();
    }
  }

  #dropQueued(reason: DropReason): void {
    const dropped = this.lanes.control.clear() + this.lanes.bulk.clear();
    if (dropped > 0) this.transport.drop(reason, this, dropped);
  }

  /** Keeps a socket from reporting anything once the link let go of it. */
  static #quiet(socket: WebSocket): void {
    socket.removeAllListeners();
    socket.on('error', () => {});
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  stats(): PeerStats {
    const { control, bulk } = this.lanes;
    return {
      url: this.url,
      role: this.role,
      connected: this.connected,
      ...this.counters,
      drops: { ...this.counters.drops },
      queuedMessages: control.queuedMessages + bulk.queuedMessages,
      queuedBytes: control.queuedBytes + bulk.queuedBytes,
      bufferedBytes: control.bufferedBytes + bulk.bufferedBytes,
      peakQueuedBytes: Math.max(control.peakQueuedBytes, bulk.peakQueuedBytes),
    };
  }
}

