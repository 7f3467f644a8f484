import { InvalidArgumentError, integerOption, rejectUnknownOptions } from '@greenraft/consensus';
import type { NodeId } from '@greenraft/consensus';

/**
 * Where PEM data comes from: a file path, or the PEM itself (a string that starts with
 * `-----BEGIN`, or bytes). Paths are read again by {@link WebSocketTransport.reloadTls}, which is
 * how a rotated certificate is picked up without a restart.
 */
export type PemSource = string | Uint8Array;

/** TLS, and optionally mutual TLS, for the peer endpoint and for the connections this node dials. */
export interface TlsInit {
  /** This node's certificate chain (PEM), presented as a server and, with `mutual`, as a client. */
  cert: PemSource;
  /** The private key of `cert` (PEM). */
  key: PemSource;
  /**
   * The certificate authorities peers' certificates must chain to (one PEM bundle or several).
   * @default Node's built-in root certificates
   */
  ca?: PemSource | readonly PemSource[];
  /**
   * Passphrase of an encrypted `key`.
   * @default undefined (the key is not encrypted)
   */
  passphrase?: string;
  /**
   * Mutual TLS: the endpoint requires a client certificate that chains to `ca`, and this node
   * presents `cert` when it dials. Cannot change on reload.
   * @default false
   */
  mutual?: boolean;
}

/** Reconnection with jittered exponential backoff: attempt n waits `min(maxDelayMs, initialDelayMs · multiplier^n) · (1 + jitter · u)`, u uniform in [0, 1). */
export interface ReconnectInit {
  /**
   * Wait before the first retry; at least 100 ms, so a cluster that loses a link never spins.
   * @default 100
   */
  initialDelayMs?: number;
  /**
   * The cap of the exponential part of the wait.
   * @default 5000
   */
  maxDelayMs?: number;
  /**
   * Growth of the wait per failed attempt (≥ 1).
   * @default 2
   */
  multiplier?: number;
  /**
   * Random extra wait, as a fraction of the wait (0–1): nodes cut off together do not retry together.
   * @default 0.5
   */
  jitter?: number;
}

/**
 * A minimal logger, compatible with pino (`logger.warn({ peer }, 'refused')`): refused peers,
 * failed handshakes and dropped frames are reported to it.
 */
export interface TransportLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

/** Options of {@link websocketTransport}. */
export interface WebSocketTransportInit {
  /** This node's id, the transport's `localId`. */
  id: NodeId;
  /** The cluster's name; a peer of another cluster is refused even with the right secret. */
  clusterId: string;
  /**
   * The cluster secret every member shares (at least 16 bytes; a string counts its UTF-8 bytes).
   * It keys the HMAC of the handshake and never goes on the wire.
   */
  secret: string | Uint8Array;
  /**
   * The interface the peer endpoint listens on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The port the peer endpoint listens on; 0 lets the OS pick one (read it back from `url`).
   * @default 0
   */
  port?: number;
  /**
   * Every member's peer URL by node id (`ws://host:port`, or `wss://` with `tls`). This node's
   * own entry is ignored, so every node can be given the same map. Change it at run time with
   * {@link WebSocketTransport.setPeers}.
   * @default {} (no peers yet)
   */
  peers?: Readonly<Record<NodeId, string>> | ReadonlyMap<NodeId, string>;
  /**
   * TLS for the endpoint and for dialled connections; every peer URL must then be `wss://`.
   * @default undefined (plain WebSocket; the HMAC handshake still authenticates every peer)
   */
  tls?: TlsInit;
  /**
   * The largest frame, in bytes, this node sends or accepts (WebSocket `maxPayload`). A message
   * that encodes larger is dropped and counted as `oversized`; a peer that sends a larger frame is
   * disconnected. Must leave 64 KiB beside `snapshotChunkBytes` for the message around a chunk.
   * @default 4 MiB
   */
  maxPayload?: number;
  /**
   * The snapshot chunk size the node uses (give the node the same `snapshotChunkBytes`); it is
   * checked against `maxPayload` so that every chunk fits in a frame.
   * @default 256 KiB (the node's default)
   */
  snapshotChunkBytes?: number;
  /**
   * Messages queued per peer and lane before new ones are dropped (`queueFull`) and the peer is
   * reported unreachable.
   * @default 4096
   */
  maxQueuedMessages?: number;
  /**
   * Bytes queued per peer and lane before new messages are dropped (`queueFull`); at least
   * `maxPayload`. The socket's own buffer is kept under 1 MiB on top of it.
   * @default 16 MiB
   */
  maxQueuedBytes?: number;
  /**
   * The time a connection has to open, pass TLS and complete the HMAC handshake; also how long
   * messages wait for a peer that is expected to connect before they are dropped as `unreachable`.
   * @default 5000
   */
  handshakeTimeoutMs?: number;
  /**
   * How often each connected peer is pinged (WebSocket ping) to measure round-trip time and to find half-open connections.
   * @default 1000
   */
  pingIntervalMs?: number;
  /**
   * A connection whose pong does not come back within this time is closed and dialled again.
   * @default 5000
   */
  pongTimeoutMs?: number;
  /**
   * Backoff of reconnection attempts.
   * @default { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 }
   */
  reconnect?: ReconnectInit;
  /**
   * Where refused peers, failed handshakes and dropped frames are reported.
   * @default a silent logger
   */
  logger?: TransportLogger;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly secret: Uint8Array;
  readonly host: string;
  readonly port: number;
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly tls: TlsInit | undefined;
  readonly maxPayload: number;
  readonly snapshotChunkBytes: number;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly reconnect: Required<ReconnectInit>;
  readonly logger: TransportLogger;
}

/** Room a snapshot chunk's message needs besides the chunk (metadata with its configuration, envelope). */
export const SNAPSHOT_FRAME_HEADROOM = 64 * 1024;
const MIN_SECRET_BYTES = 16;
const MAX_PAYLOAD_LIMIT = 256 * 1024 * 1024;
const MIN_RECONNECT_DELAY_MS = 100;

const KNOWN_OPTIONS = [
  'id', 'clusterId', 'secret', 'host', 'port', 'peers', 'tls', 'maxPayload', 'snapshotChunkBytes', 'maxQueuedMessages',
  'maxQueuedBytes', 'handshakeTimeoutMs', 'pingIntervalMs', 'pongTimeoutMs', 'reconnect', 'logger',
];
const KNOWN_TLS_OPTIONS = ['cert', 'key', 'ca', 'passphrase', 'mutual'];
const KNOWN_RECONNECT_OPTIONS = ['initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter'];
const WHERE = 'websocketTransport';

const silentLogger: TransportLogger = { warn() {}, info() {}, debug() {} };

function fail(message: string): never {
  throw new InvalidArgumentError(`${WHERE}: ${message}`);
}

function integer(value: unknown, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return integerOption(`${WHERE}: ${name}`, value ?? fallback, { min, max });
}

function nodeId(value: unknown, what: string): NodeId {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) fail(`${what} must be a non-empty string of at most 1024 characters, got ${String(value)}`);
  return value;
}

function isPemSource(value: unknown): value is PemSource {
  return (typeof value === 'string' && value.length > 0) || value instanceof Uint8Array;
}

/** Checks a TLS option (at start and on reload). */
export function validateTls(tls: unknown, where = 'tls'): TlsInit {
  if (typeof tls !== 'object' || tls === null) fail(`${where} must be an object`);
  rejectUnknownOptions(`${WHERE} ${where}`, tls, KNOWN_TLS_OPTIONS);
  const { cert, key, ca, passphrase, mutual } = tls as TlsInit;
  if (!isPemSource(cert)) fail(`${where}.cert must be a file path or PEM data`);
  if (!isPemSource(key)) fail(`${where}.key must be a file path or PEM data`);
  if (ca !== undefined && !isPemSource(ca) && !(Array.isArray(ca) && ca.length > 0 && ca.every(isPemSource))) {
    fail(`${where}.ca must be a file path, PEM data, or a non-empty list of them`);
  }
  if (passphrase !== undefined && typeof passphrase !== 'string') fail(`${where}.passphrase must be a string`);
  if (mutual !== undefined && typeof mutual !== 'boolean') fail(`${where}.mutual must be a boolean`);
  return { ...(tls as TlsInit) };
}

/** Checks a peer map: node ids to `ws://` or `wss://` URLs (`wss://` only, with TLS). The local id is left out. */
export function validatePeers(peers: unknown, localId: NodeId, tls: boolean): Map<NodeId, string> {
  const entries: [unknown, unknown][] =
    peers instanceof Map ? [...peers.entries()] : typeof peers === 'object' && peers !== null ? Object.entries(peers) : fail('peers must be a Map or a record of node id → URL');
  const result = new Map<NodeId, string>();
  for (const [id, url] of entries) {
    nodeId(id, 'a peer id');
    if (typeof url !== 'string') fail(`peer ${String(id)} has no URL`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      fail(`peer ${String(id)} has an invalid URL ${url}`);
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') fail(`peer ${String(id)} URL must be ws:// or wss://, got ${url}`);
    if (tls && parsed.protocol !== 'wss:') fail(`peer ${String(id)} URL must be wss:// when tls is set, got ${url}`);
    if (parsed.username !== '' || parsed.password !== '') fail(`peer ${String(id)} URL must not carry credentials`);
    if (id === localId) continue;
    result.set(id as NodeId, url);
  }
  return result;
}

/** Applies defaults and checks every option; throws {@link InvalidArgumentError} naming the first bad one. */
export function resolveOptions(init: unknown): ResolvedOptions {
  if (typeof init !== 'object' || init === null) fail('init must be an object');
  rejectUnknownOptions(WHERE, init, KNOWN_OPTIONS);
  const o = init as WebSocketTransportInit;
  const id = nodeId(o.id, 'id');
  if (typeof o.clusterId !== 'string' || o.clusterId.length === 0 || o.clusterId.length > 1024) fail('clusterId must be a non-empty string of at most 1024 characters');
  let secret: Uint8Array;
  if (typeof o.secret === 'string') secret = new TextEncoder().encode(o.secret);
  else if (o.secret instanceof Uint8Array) secret = new Uint8Array(o.secret);
  else fail('secret must be a string or a Uint8Array');
  if (secret.byteLength < MIN_SECRET_BYTES) fail(`secret must be at least ${MIN_SECRET_BYTES} bytes, got ${secret.byteLength}`);
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) fail('host must be a non-empty string');
  const port = integer(o.port, 'port', 0, 0, 65_535);
  const tls = o.tls === undefined ? undefined : validateTls(o.tls);
  const peers = validatePeers(o.peers ?? {}, id, tls !== undefined);
  const maxPayload = integer(o.maxPayload, 'maxPayload', 4 * 1024 * 1024, SNAPSHOT_FRAME_HEADROOM + 1, MAX_PAYLOAD_LIMIT);
  const snapshotChunkBytes = integer(o.snapshotChunkBytes, 'snapshotChunkBytes', 256 * 1024, 1);
  if (snapshotChunkBytes + SNAPSHOT_FRAME_HEADROOM > maxPayload) {
    fail(`snapshotChunkBytes (${snapshotChunkBytes}) plus ${SNAPSHOT_FRAME_HEADROOM} bytes of headroom must fit in maxPayload (${maxPayload})`);
  }
  const maxQueuedMessages = integer(o.maxQueuedMessages, 'maxQueuedMessages', 4096, 1);
  const maxQueuedBytes = integer(o.maxQueuedBytes, 'maxQueuedBytes', 16 * 1024 * 1024, 1);
  if (maxQueuedBytes < maxPayload) fail(`maxQueuedBytes (${maxQueuedBytes}) must be at least maxPayload (${maxPayload}), or a largest message could never be queued`);
  const handshakeTimeoutMs = integer(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 5000, 10);
  const pingIntervalMs = integer(o.pingIntervalMs, 'pingIntervalMs', 1000, 10);
  const pongTimeoutMs = integer(o.pongTimeoutMs, 'pongTimeoutMs', 5000, 10);
  const reconnectInit = o.reconnect ?? {};
  if (typeof reconnectInit !== 'object' || reconnectInit === null) fail('reconnect must be an object');
  rejectUnknownOptions(`${WHERE} reconnect`, reconnectInit, KNOWN_RECONNECT_OPTIONS);
  const initialDelayMs = integer(reconnectInit.initialDelayMs, 'reconnect.initialDelayMs', 100, MIN_RECONNECT_DELAY_MS);
  const maxDelayMs = integer(reconnectInit.maxDelayMs, 'reconnect.maxDelayMs', Math.max(5000, initialDelayMs), initialDelayMs);
  const multiplier = reconnectInit.multiplier ?? 2;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1 || multiplier > 10) fail('reconnect.multiplier must be a number in [1, 10]');
  const jitter = reconnectInit.jitter ?? 0.5;
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) fail('reconnect.jitter must be a number in [0, 1]');
  const logger = o.logger ?? silentLogger;
  if (typeof logger !== 'object' || logger === null || ['warn', 'info', 'debug'].some((level) => typeof (logger as unknown as Record<string, unknown>)[level] !== 'function')) {
    fail('logger must have warn, info and debug methods');
  }
  return {
    id,
    clusterId: o.clusterId,
    secret,
    host,
    port,
    peers,
    tls,
    maxPayload,
    snapshotChunkBytes,
    maxQueuedMessages,
    maxQueuedBytes,
    handshakeTimeoutMs,
    pingIntervalMs,
    pongTimeoutMs,
    reconnect: { initialDelayMs, maxDelayMs, multiplier, jitter },
    logger,
  };
}

/**
 * The wait before reconnection attempt `attempt` (0 for the first retry):
 * `min(maxDelayMs, initialDelayMs · multiplier^attempt) · (1 + jitter · random())`.
 * Never less than `min(maxDelayMs, initialDelayMs · multiplier^attempt)`, which is what bounds
 * the number of attempts in any period.
 */
export function reconnectDelay(attempt: number, reconnect: Required<ReconnectInit>, random: () => number = Math.random): number {
  const base = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * reconnect.multiplier ** attempt);
  return base * (1 + reconnect.jitter * random());
}
