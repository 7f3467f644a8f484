/**
 * Which WebSocket the client opens: the `ws` package in Node (20 has no stable global
 * WebSocket), the platform's own elsewhere. Bundled for a browser, `ws` resolves to its browser
 * stub (its package.json says so), which is never called: the global WebSocket is.
 */
import NodeWebSocket from 'ws';

/** The part of the WHATWG `WebSocket` the client uses; browsers' and `ws`'s both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A `WebSocket` constructor: the global one of a browser, `ws`'s, or any with the same shape. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` of an open socket, as the WHATWG API numbers it. */
export const OPEN = 1;

/** Opens sockets: `url` → a socket in state CONNECTING. */
export type SocketFactory = (url: string) => WebSocketLike;

/** The socket factory the client uses: `given` if any, else `ws` in Node, else the global `WebSocket`. */
export function socketFactory(given: WebSocketConstructor | undefined, maxPayload: number): SocketFactory {
  if (given !== undefined) return (url) => new given(url);
  // The browser stub of `ws` is a plain function; the real class has the readyState constants.
  const nodeClass = NodeWebSocket as unknown as { CONNECTING?: number } & (new (url: string, options: object) => WebSocketLike);
  if (typeof nodeClass === 'function' && typeof nodeClass.CONNECTING === 'number') {
    // Compression off: client frames are small JSON, and inflating costs more than it saves.
    return (url) => new nodeClass(url, { perMessageDeflate: false, maxPayload });
  }
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return (url) => new global(url);
  return () => {
    throw new Error('no WebSocket implementation: pass one as the WebSocket option');
  };
}
