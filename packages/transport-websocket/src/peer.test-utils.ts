// A hand-driven peer for tests: it speaks the handshake frame by frame (or replays, or breaks it),
// then sends whatever bytes a test wants on an authenticated connection.
import { WebSocket } from 'ws';
import {
  type HandshakeBinding,
  type Lane,
  PROTOCOL_VERSION,
  SESSION_BYTES,
  encodeAuth,
  encodeHello,
  handshakeMac,
  isWelcome,
  macMatches,
  nonce,
  parseChallenge,
} from './handshake.js';

export interface RawPeerInit {
  readonly url: string;
  readonly id: string;
  readonly acceptorId: string;
  readonly clusterId: string;
  readonly secret: string | Uint8Array;
  readonly lane?: Lane;
  readonly session?: Uint8Array;
  /** Sent as the auth MAC instead of the right one. */
  readonly forgeMac?: Uint8Array;
}

/** What a handshake attempt ended with. */
export interface RawHandshake {
  readonly socket: WebSocket;
  readonly welcomed: boolean;
  readonly closeCode: number | undefined;
  /** The frames this peer sent, in order (for replays). */
  readonly sent: Buffer[];
}

export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the close code, or undefined if the socket is still open after `timeoutMs`. */
export function closed(socket: WebSocket, timeoutMs = 3000): Promise<number | undefined> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(1006);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function nextFrame(socket: WebSocket, timeoutMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (frame: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      resolve(frame);
    };
    const onMessage = (data: Buffer): void => done(data);
    const onClose = (): void => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
  });
}

/** Runs the dialler's side of the handshake; on a welcome the socket is an authenticated lane. */
export async function rawHandshake(init: RawPeerInit): Promise<RawHandshake> {
  const secret = typeof init.secret === 'string' ? new TextEncoder().encode(init.secret) : init.secret;
  const socket = await openSocket(init.url);
  let closeCode: number | undefined;
  socket.on('close', (code) => {
    closeCode = code;
  });
  socket.on('error', () => {});
  const sent: Buffer[] = [];
  const send = (frame: Buffer): void => {
    sent.push(frame);
    socket.send(frame);
  };
  const dialerNonce = nonce();
  const session = init.session ?? nonce().subarray(0, SESSION_BYTES);
  const lane = init.lane ?? 'control';
  send(encodeHello({ version: PROTOCOL_VERSION, clusterId: init.clusterId, dialerId: init.id, acceptorId: init.acceptorId, lane, dialerNonce, session }));
  const challengeFrame = await nextFrame(socket);
  const challenge = challengeFrame === undefined ? undefined : parseChallenge(challengeFrame);
  if (challenge === undefined) return { socket, welcomed: false, closeCode: closeCode ?? (await closed(socket)), sent };
  const binding: HandshakeBinding = { clusterId: init.clusterId, dialerId: init.id, acceptorId: init.acceptorId, lane, dialerNonce, acceptorNonce: challenge.acceptorNonce, session };
  if (init.forgeMac === undefined && !macMatches(handshakeMac(secret, 'acceptor', binding), challenge.acceptorMac)) {
    throw new Error('the acceptor does not know the secret');
  }
  send(encodeAuth(init.forgeMac ?? handshakeMac(secret, 'dialer', binding)));
  const welcome = await nextFrame(socket);
  const welcomed = welcome !== undefined && isWelcome(welcome);
  return { socket, welcomed, closeCode: welcomed ? undefined : (closeCode ?? (await closed(socket))), sent };
}

/** Sends raw frames on a fresh connection, in order, and reports how it was closed. */
export async function replayFrames(url: string, frames: readonly Buffer[]): Promise<number | undefined> {
  const socket = await openSocket(url);
  socket.on('error', () => {});
  for (const frame of frames) socket.send(frame);
  return closed(socket);
}
