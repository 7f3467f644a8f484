import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NodeId } from '@greenraft/consensus';
import { decodeValue, encodeValue } from './codec.js';

/*
 * Peer authentication: an HMAC-SHA256 challenge–response on the cluster secret, four frames on a
 * fresh WebSocket before any Raft message.
 *
 *   dialer   → acceptor   hello     [HELLO, version, clusterId, dialerId, acceptorId, lane, dialerNonce, session]
 *   acceptor → dialer     challenge [CHALLENGE, acceptorNonce, acceptorMac]
 *   dialer   → acceptor   auth      [AUTH, dialerMac]
 *   acceptor → dialer     welcome   [WELCOME]
 *
 * Each MAC covers the protocol label, the role that computes it, the cluster id, both node ids,
 * the lane, the dialler's session (one per dial round, shared by its two lanes) and both 32-byte
 * nonces, so a MAC proves knowledge of the secret for this one
 * connection only: the secret never travels, a MAC cannot be reflected back (the role differs),
 * replayed frames fail against fresh nonces, and the acceptor also refuses a dialer nonce it has
 * already seen within the replay window. Both sides authenticate each other: the dialer checks
 * the acceptor's MAC before it sends its own, so an impostor learns nothing and delivers nothing.
 */

/** The handshake protocol version in `hello`. */
export const PROTOCOL_VERSION = 1;
/** Bytes of each side's nonce. */
export const NONCE_BYTES = 32;
/** Bytes of a dial round's session id. */
export const SESSION_BYTES = 16;
/** Handshake frames are small: anything larger before authentication is a protocol error. */
export const MAX_HANDSHAKE_FRAME_BYTES = 4096;

const HELLO = 'greenraft/hello';
const CHALLENGE = 'greenraft/challenge';
const AUTH = 'greenraft/auth';
const WELCOME = 'greenraft/welcome';
const MAC_LABEL = 'greenraft peer handshake v1';

/** The two connections between a pair of nodes: votes and heartbeats never wait behind bulk data. */
export type Lane = 'control' | 'bulk';
const LANES: readonly Lane[] = ['control', 'bulk'];

/** What a `hello` frame says. */
export interface Hello {
  readonly version: number;
  readonly clusterId: string;
  readonly dialerId: NodeId;
  readonly acceptorId: NodeId;
  readonly lane: Lane;
  readonly dialerNonce: Uint8Array;
  /** The dial round: both lanes of one round carry the same one, so the acceptor can tell a new round from a stale one. */
  readonly session: Uint8Array;
}

/** Everything both MACs cover. */
export interface HandshakeBinding {
  readonly clusterId: string;
  readonly dialerId: NodeId;
  readonly acceptorId: NodeId;
  readonly lane: Lane;
  readonly dialerNonce: Uint8Array;
  readonly acceptorNonce: Uint8Array;
  readonly session: Uint8Array;
}

/** A fresh random nonce. */
export function nonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

/** Length-prefixed fields, so no two different bindings produce the same MAC input. */
function macInput(role: 'acceptor' | 'dialer', binding: HandshakeBinding): Buffer {
  const fields = [
    Buffer.from(MAC_LABEL),
    Buffer.from(role),
    Buffer.from(binding.clusterId),
    Buffer.from(binding.dialerId),
    Buffer.from(binding.acceptorId),
    Buffer.from(binding.lane),
    Buffer.from(binding.dialerNonce),
    Buffer.from(binding.acceptorNonce),
    Buffer.from(binding.session),
  ];
  const parts: Buffer[] = [];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.byteLength);
    parts.push(length, field);
  }
  return Buffer.concat(parts);
}

/** The MAC `role` sends for this connection. */
export function handshakeMac(secret: Uint8Array, role: 'acceptor' | 'dialer', binding: HandshakeBinding): Uint8Array {
  return new Uint8Array(createHmac('sha256', secret).update(macInput(role, binding)).digest());
}

/** Constant-time check of a received MAC. */
export function macMatches(expected: Uint8Array, received: unknown): boolean {
  return received instanceof Uint8Array && received.byteLength === expected.byteLength && timingSafeEqual(expected, received);
}

export function encodeHello(hello: Hello): Buffer {
  return encodeValue([HELLO, hello.version, hello.clusterId, hello.dialerId, hello.acceptorId, hello.lane, hello.dialerNonce, hello.session]);
}

export function encodeChallenge(acceptorNonce: Uint8Array, acceptorMac: Uint8Array): Buffer {
  return encodeValue([CHALLENGE, acceptorNonce, acceptorMac]);
}

export function encodeAuth(dialerMac: Uint8Array): Buffer {
  return encodeValue([AUTH, dialerMac]);
}

export function encodeWelcome(): Buffer {
  return encodeValue([WELCOME]);
}

/** Decodes a handshake frame into its tuple, or `undefined` when it is not one of `kind`. */
function handshakeTuple(frame: Uint8Array, kind: string, arity: number): unknown[] | undefined {
  if (frame.byteLength > MAX_HANDSHAKE_FRAME_BYTES) return undefined;
  let value: unknown;
  try {
    value = decodeValue(frame);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== arity || value[0] !== kind) return undefined;
  return value;
}

const isNonce = (value: unknown): value is Uint8Array => value instanceof Uint8Array && value.byteLength === NONCE_BYTES;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 1024;

/** A `hello`, or why the frame is not a well-formed one. */
export function parseHello(frame: Uint8Array): Hello | string {
  const t = handshakeTuple(frame, HELLO, 8);
  if (t === undefined) return 'the first frame is not a hello';
  const [, version, clusterId, dialerId, acceptorId, lane, dialerNonce, session] = t;
  if (version !== PROTOCOL_VERSION) return `unsupported protocol version ${String(version)}`;
  if (!isText(clusterId) || !isText(dialerId) || !isText(acceptorId)) return 'hello carries an invalid cluster or node id';
  if (!LANES.includes(lane as Lane)) return `unknown lane ${String(lane)}`;
  if (!isNonce(dialerNonce)) return 'hello carries an invalid nonce';
  if (!(session instanceof Uint8Array) || session.byteLength !== SESSION_BYTES) return 'hello carries an invalid session';
  return { version, clusterId, dialerId, acceptorId, lane: lane as Lane, dialerNonce: new Uint8Array(dialerNonce), session: new Uint8Array(session) };
}

/** A `challenge`'s nonce and MAC, or `undefined` when the frame is not a well-formed one. */
export function parseChallenge(frame: Uint8Array): { acceptorNonce: Uint8Array; acceptorMac: Uint8Array } | undefined {
  const t = handshakeTuple(frame, CHALLENGE, 3);
  if (t === undefined || !isNonce(t[1]) || !(t[2] instanceof Uint8Array)) return undefined;
  return { acceptorNonce: new Uint8Array(t[1]), acceptorMac: new Uint8Array(t[2]) };
}

/** An `auth`'s MAC, or `undefined` when the frame is not a well-formed one. */
export function parseAuth(frame: Uint8Array): Uint8Array | undefined {
  const t = handshakeTuple(frame, AUTH, 2);
  return t !== undefined && t[1] instanceof Uint8Array ? new Uint8Array(t[1]) : undefined;
}

export function isWelcome(frame: Uint8Array): boolean {
  return handshakeTuple(frame, WELCOME, 1) !== undefined;
}

/**
 * Dialer nonces seen recently, so a replayed `hello` is refused outright. Bounded in time (a
 * nonce is forgotten after `windowMs`) and in size (the oldest go first past `capacity`); a hello
 * replayed after that still fails, on the fresh acceptor nonce its MAC cannot cover.
 */
export class NonceCache {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly capacity: number,
  ) {}

  /** Records `value`; false when it was already seen within the window. */
  remember(value: Uint8Array, now: number): boolean {
    this.#expire(now);
    const key = Buffer.from(value).toString('base64');
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, now);
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  #expire(now: number): void {
    // Insertion order is time order: stop at the first nonce still inside the window.
    for (const [key, at] of this.#seen) {
      if (now - at < this.windowMs) break;
      this.#seen.delete(key);
    }
  }
}

/** WebSocket close codes the transport uses (4000–4999 are for applications). */
export const CloseCode = {
  protocol: 4400,
  badMac: 4401,
  wrongCluster: 4403,
  unknownPeer: 4404,
  wrongPeer: 4406,
  wrongDialer: 4407,
  timeout: 4408,
  replaced: 4409,
  replay: 4410,
  removed: 4411,
  stopping: 4412,
  busy: 4429,
} as const;
