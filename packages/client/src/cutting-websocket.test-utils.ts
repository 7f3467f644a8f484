/**
 * A `WebSocket` for the client (`createClient({ WebSocket })`) over a real `ws` socket that cuts
 * the connection instead of delivering a frame the test picks: the node has applied the write
 * and answered, and the client never sees the answer, which is how a connection dropped
 * mid-request looks from the client.
 */
import { WebSocket as NodeWebSocket } from 'ws';
import type { WebSocketConstructor, WebSocketLike } from './websocket.js';

/** What the test sees: every request frame sent, and how many answers were cut. */
export interface CutLog {
  readonly sent: string[];
  cut: number;
}

/** A WebSocket class whose sockets cut the connection on the first received frame `cutOn` picks (once per `log`). */
export function cuttingWebSocket(cutOn: (frame: string) => boolean, log: CutLog): WebSocketConstructor {
  return class CuttingWebSocket implements WebSocketLike {
    onopen: WebSocketLike['onopen'] = null;
    onmessage: WebSocketLike['onmessage'] = null;
    onclose: WebSocketLike['onclose'] = null;
    onerror: WebSocketLike['onerror'] = null;
    readonly #socket: NodeWebSocket;

    constructor(url: string) {
      this.#socket = new NodeWebSocket(url, { perMessageDeflate: false });
      this.#socket.onopen = (event) => this.onopen?.(event);
      this.#socket.onclose = (event) => this.onclose?.(event);
      this.#socket.onerror = (event) => this.onerror?.(event);
      this.#socket.onmessage = (event) => {
        const text = String(event.data);
        if (log.cut === 0 && cutOn(text)) {
          log.cut++;
          this.#socket.terminate();
          return;
        }
        this.onmessage?.({ data: text });
      };
    }

    get readyState(): number {
      return this.#socket.readyState;
    }

    get bufferedAmount(): number {
      return this.#socket.bufferedAmount;
    }

    send(data: string): void {
      log.sent.push(data);
      this.#socket.send(data);
    }

    close(code?: number, reason?: string): void {
      this.#socket.close(code, reason);
    }
  };
}
