import type { NodeId } from '@greenraft/consensus';
import type { WebSocket } from 'ws';
import { CloseCode, type HandshakeBinding, type Lane, MAX_HANDSHAKE_FRAME_BYTES, encodeChallenge, encodeWelcome, handshakeMac, macMatches, nonce, parseAuth, parseHello } from './handshake.js';
import { SEND_OPTIONS } from './lane.js';
import type { ResolvedOptions } from './options.js';
import type { HandshakeFailureReason } from './stats.js';

/** What an inbound handshake needs from its transport. */
export interface InboundHost {
  readonly options: ResolvedOptions;
  hasPeer(peer: NodeId): boolean;
  /** Records a dialler nonce; false when it was already seen (a replay). */
  rememberNonce(value: Uint8Array): boolean;
  handshakeFailed(reason: HandshakeFailureReason): void;
  /** The handshake phase of `inbound` ended (authenticated, refused or closed). */
  handshakeSettled(inbound: Inbound): void;
  /** `socket` authenticated as `peer` on `lane`, in the dialler's round `session`. */
  authenticated(peer: NodeId, lane: Lane, socket: WebSocket, session: Uint8Array): void;
  log(level: 'warn' | 'info' | 'debug', key: string, fields: Record<string, unknown>, message: string): void;
}

/** An inbound connection until it authenticates. */
export class Inbound {
  readonly #timer: NodeJS.Timeout;
  #stage: 'hello' | 'auth' | 'done' = 'hello';
  #binding: HandshakeBinding | undefined;

  constructor(
    private readonly transport: InboundHost,
    readonly socket: WebSocket,
    private readonly remote: string,
  ) {
    this.#timer = setTimeout(() => this.refuse('timeout', 'no complete handshake in time'), transport.options.handshakeTimeoutMs);
    this.#timer.unref();
    socket.on('message', this.#message);
    socket.on('error', () => {});
    socket.on('close', () => this.#settle());
  }

  readonly #message = (data: Buffer, isBinary: boolean): void => {
    if (this.#stage === 'done') return;
    const frame = isBinary && data.byteLength <= MAX_HANDSHAKE_FRAME_BYTES ? data : undefined;
    const { options } = this.transport;
    if (this.#stage === 'hello') {
      const hello = frame === undefined ? 'the first frame is not a hello' : parseHello(frame);
      if (typeof hello === 'string') {
        this.refuse('protocol', hello);
        return;
      }
      const claimed = { peer: hello.dialerId, lane: hello.lane };
      if (hello.clusterId !== options.clusterId) {
        this.refuse('wrongCluster', `the dialer belongs to cluster ${hello.clusterId}`, claimed);
        return;
      }
      if (hello.acceptorId !== options.id) {
        this.refuse('wrongPeer', `the dialer expected node ${hello.acceptorId} here`, claimed);
        return;
      }
      if (!this.transport.hasPeer(hello.dialerId)) {
        this.refuse('unknownPeer', `${hello.dialerId} is not in the peer map`, claimed);
        return;
      }
      if (!(hello.dialerId < options.id)) {
        this.refuse('wrongDialer', `${hello.dialerId} has the larger id; this node dials it`, claimed);
        return;
      }
      if (!this.transport.rememberNonce(hello.dialerNonce)) {
        this.refuse('replay', 'the hello was already used', claimed);
        return;
      }
      const acceptorNonce = nonce();
      this.#binding = { clusterId: options.clusterId, dialerId: hello.dialerId, acceptorId: options.id, lane: hello.lane, dialerNonce: hello.dialerNonce, acceptorNonce, session: hello.session };
      this.#stage = 'auth';
      this.socket.send(encodeChallenge(acceptorNonce, handshakeMac(options.secret, 'acceptor', this.#binding)), SEND_OPTIONS);
      return;
    }
    const binding = this.#binding!;
    const mac = frame === undefined ? undefined : parseAuth(frame);
    const claimed = { peer: binding.dialerId, lane: binding.lane };
    if (mac === undefined) {
      this.refuse('protocol', 'the second frame is not an auth', claimed);
      return;
    }
    // The acceptor nonce is used once: a wrong MAC ends the connection, there is no second try.
    if (!macMatches(handshakeMac(options.secret, 'dialer', binding), mac)) {
      this.refuse('badMac', 'the dialer does not know the cluster secret', claimed);
      return;
    }
    this.#settle();
    this.socket.removeListener('message', this.#message);
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.socket.send(encodeWelcome(), SEND_OPTIONS);
    this.transport.authenticated(binding.dialerId, binding.lane, this.socket, binding.session);
  };

  refuse(reason: HandshakeFailureReason, detail: string, claimed: { peer?: string; lane?: string } = {}): void {
    if (this.#stage === 'done') return;
    this.#settle();
    this.transport.handshakeFailed(reason);
    // One line per reason and address per interval: a flood of refused connections is one line with a count.
    this.transport.log('warn', `refused:${reason}:${this.remote.slice(0, this.remote.lastIndexOf(':'))}`, { reason, ...claimed, remoteAddress: this.remote, detail }, 'refused a peer connection');
    this.socket.close(CloseCode[reason as keyof typeof CloseCode] ?? CloseCode.protocol, reason);
    setTimeout(() => this.socket.terminate(), 1000).unref();
  }

  /** Ends the handshake phase (authenticated, refused or closed). */
  #settle(): void {
    if (this.#stage === 'done') return;
    this.#stage = 'done';
    clearTimeout(this.#timer);
    this.transport.handshakeSettled(this);
  }

  terminate(): void {
    this.#settle();
    this.socket.terminate();
  }
}

