import type { NodeId } from '@greenraft/consensus';

/** Why the transport dropped a message or a frame. */
export type DropReason =
  // outgoing
  /** The node handed `send` something that is not a message from this node (bad envelope, wrong `from`, not encodable). */
  | 'invalidMessage'
  /** The message encodes larger than `maxPayload`. */
  | 'oversized'
  /** `to` is not in the peer map. */
  | 'unknownPeer'
  /** No connection to the peer, and none is being made or expected now. */
  | 'unreachable'
  /** The peer's queue for the message's lane held `maxQueuedMessages` messages or `maxQueuedBytes` bytes. */
  | 'queueFull'
  /** Queued for a connection that closed before the message was written to it. */
  | 'disconnected'
  /** Queued when the transport stopped, or the peer was removed from the map. */
  | 'stopped'
  // incoming
  /** A frame that is not a sequence of msgpack values (truncated, bad lengths, empty, text). Counted once per frame. */
  | 'undecodable'
  /** A decoded value that fails the message schema (`messageProblem`): wrong shape, type, field or range. */
  | 'invalid'
  /** A well-formed message whose `from` is not the authenticated id of the connection it came on. */
  | 'wrongSender'
  /** A well-formed message addressed to another node. */
  | 'wrongAddressee'
  /** A frame larger than `maxPayload`; the connection is closed. */
  | 'oversizedFrame'
  /** A message that arrived while the transport was not started (no handler to give it to). */
  | 'notStarted';

/** Every {@link DropReason}, in a fixed order. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'invalidMessage', 'oversized', 'unknownPeer', 'unreachable', 'queueFull', 'disconnected', 'stopped',
  'undecodable', 'invalid', 'wrongSender', 'wrongAddressee', 'oversizedFrame', 'notStarted',
]);

/** Why a connection was refused during TLS or the HMAC handshake, on either side. */
export type HandshakeFailureReason =
  /** The other side's MAC is wrong: it does not know the cluster secret (or replayed an old MAC). */
  | 'badMac'
  /** The dialer names another cluster. */
  | 'wrongCluster'
  /** The dialer's id is not in this node's peer map. */
  | 'unknownPeer'
  /** The dialer expected another node at this address. */
  | 'wrongPeer'
  /** The dialer has the larger id: by this transport's rule the smaller id dials. */
  | 'wrongDialer'
  /** The dialer's nonce was already used: a replayed hello. */
  | 'replay'
  /** A frame out of order, malformed or too large for the handshake. */
  | 'protocol'
  /** The connection did not finish TLS and the handshake within `handshakeTimeoutMs`. */
  | 'timeout'
  /** TLS failed: an untrusted, expired or mismatched certificate, or none where mutual TLS requires one. */
  | 'tls'
  /** The acceptor refused this node's handshake (its reason is logged). */
  | 'refused'
  /** Too many connections were in their handshake at once; the newest was turned away. */
  | 'busy';

/** Every {@link HandshakeFailureReason}, in a fixed order. */
export const HANDSHAKE_FAILURE_REASONS: readonly HandshakeFailureReason[] = Object.freeze([
  'badMac', 'wrongCluster', 'unknownPeer', 'wrongPeer', 'wrongDialer', 'replay', 'protocol', 'timeout', 'tls', 'refused', 'busy',
]);

/** Counters of one peer. Message and byte counts are of Raft messages (encoded), not of WebSocket or TLS overhead. */
export interface PeerStats {
  /** The peer's URL in the map. */
  readonly url: string;
  /** `dialer` when this node opens the connections (it has the smaller id), `acceptor` otherwise. */
  readonly role: 'dialer' | 'acceptor';
  /** Both lanes (control and bulk) are connected and authenticated. */
  readonly connected: boolean;
  /** Messages written to the peer's connections. */
  readonly messagesSent: number;
  /**
   * Of those, messages written to the bulk lane: AppendEntries and snapshot chunks that were large,
   * or sent while too many bytes of them were unread on the control lane.
   */
  readonly bulkMessagesSent: number;
  /** Bytes of those messages. */
  readonly bytesSent: number;
  /** Messages from the peer delivered to the node. */
  readonly messagesReceived: number;
  /** Bytes of every frame received from the peer, dropped ones included. */
  readonly bytesReceived: number;
  /** Messages to or from this peer dropped, by reason. */
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Messages waiting in this peer's queues now (both lanes). */
  readonly queuedMessages: number;
  /** Bytes waiting in this peer's queues now (both lanes). */
  readonly queuedBytes: number;
  /** Bytes handed to the sockets but not yet to the kernel (WebSocket `bufferedAmount`, both lanes). */
  readonly bufferedBytes: number;
  /** The most bytes one lane's queue has held since the transport was created (bounded by `maxQueuedBytes`). */
  readonly peakQueuedBytes: number;
  /** Connection attempts after the first (dialer only), each after a backoff wait. */
  readonly reconnects: number;
  /** Times the link came up (both lanes authenticated). */
  readonly connections: number;
  /** Dial attempts that failed before a handshake could start (refused, reset, unreachable host). */
  readonly dialFailures: number;
  /** The last ping round trip on the control lane, in milliseconds; `undefined` before the first pong. */
  readonly rttMs: number | undefined;
  /** Smoothed round trip (exponentially weighted, 1/8 per sample, as TCP's SRTT), in milliseconds. */
  readonly smoothedRttMs: number | undefined;
}

/**
 * A snapshot of the transport's counters (a new object on every call), shaped for export: for
 * example to prom-client counters `greenraft_network_peer_sent_bytes_total{To}` from
 * `peers[id].bytesSent`, and a gauge of round-trip time from `peers[id].smoothedRttMs / 1000`.
 */
export interface WebSocketTransportStats {
  readonly localId: NodeId;
  /** `idle` (created), `listening` (endpoint up, not started), `started`, `stopped`. */
  readonly state: 'idle' | 'listening' | 'started' | 'stopped';
  /** Per peer in the map. */
  readonly peers: Readonly<Record<NodeId, PeerStats>>;
  /** Every drop, by reason, including those of no known peer. */
  readonly drops: Readonly<Record<DropReason, number>>;
  /** Connection attempts after the first, over every peer. */
  readonly reconnects: number;
  /** Refused or failed handshakes, by reason, inbound and outbound. */
  readonly handshakeFailures: Readonly<Record<HandshakeFailureReason, number>>;
  /** Connections in their handshake now (bounded). */
  readonly pendingHandshakes: number;
  /** Times the node's message handler threw (the message was delivered; the error was logged). */
  readonly handlerErrors: number;
}

export function zeroDrops(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
}

export function zeroHandshakeFailures(): Record<HandshakeFailureReason, number> {
  return Object.fromEntries(HANDSHAKE_FAILURE_REASONS.map((reason) => [reason, 0])) as Record<HandshakeFailureReason, number>;
}
