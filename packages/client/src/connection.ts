/**
 * One WebSocket connection to one node: `hello` first, then requests pipelined and multiplexed by
 * id, each answered once (a second answer to an id, or an answer to an id not in flight, is
 * ignored and counted). Everything that ends an attempt is an {@link AttemptFailure} saying whether
 * the request reached the socket, which is what decides if a write's outcome is unknown.
 */
import type { LeaderHint, WireError } from './errors.js';
import { decodeFrame, type HelloResult, parseHello } from './protocol.js';
import { OPEN, type SocketFactory, type WebSocketLike } from './websocket.js';

/** Why an attempt ended without a result. */
export type AttemptFailureKind =
  /** The node answered with an error. */
  | 'answer'
  /** The connection closed or could not be opened. */
  | 'lost'
  /** No answer within the attempt's time. */
  | 'timeout'
  /** The caller's signal fired. */
  | 'aborted'
  /** The node closed the connection as if the client broke the protocol (1007, 1009), or sent something that is not the protocol. */
  | 'protocol';

/** An attempt that ended without a result. Internal: the client turns it into a typed error or a retry. */
export class AttemptFailure extends Error {
  constructor(
    readonly kind: AttemptFailureKind,
    /** Whether the request was handed to the socket: the node may have received it. */
    readonly sent: boolean,
    message: string,
    readonly wire?: WireError,
  ) {
    super(message);
    this.name = 'AttemptFailure';
  }
}

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (failure: AttemptFailure) => void;
}

/** What a connection tells its client. */
export interface ConnectionEvents {
  /** An event frame (`{ event, data }`) arrived. */
  event(connection: Connection, event: string, data: unknown): void;
  /** The connection closed; every request in flight on it has been rejected. */
  closed(connection: Connection, reason: string): void;
}

/** Options of {@link Connection.open}. */
export interface ConnectionInit {
  readonly factory: SocketFactory;
  readonly url: string;
  readonly clientId: string;
  readonly token: string | undefined;
  /** For the socket to open and `hello` to be answered. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly events: ConnectionEvents;
  /** Called for every frame that was not a protocol frame, or answered nothing in flight. */
  readonly onStray: () => void;
}

/** Closes that say the node refused what the client sent: retrying the same frames elsewhere would not help. */
const PROTOCOL_CLOSE_CODES = new Set([1002, 1003, 1007, 1009]);

/** One open, greeted connection to a node. */
export class Connection {
  readonly url: string;
  /** What the node said in `hello`. */
  hello: HelloResult = { node: '', leader: undefined, protocol: 0 };
  /** Set once the client stops giving it new requests; it closes when the last one is answered. */
  retiring = false;
  private readonly socket: WebSocketLike;
  private readonly pending = new Map<number, Pending>();
  private readonly events: ConnectionEvents;
  private readonly onStray: () => void;
  private nextId = 1;
  private closedReason: string | undefined;
  private socketClosedResolve: () => void = () => {};
  /** Resolves once the socket itself reported its close (the close handshake is over or the TCP connection gone). */
  readonly socketClosed = new Promise<void>((resolve) => {
    this.socketClosedResolve = resolve;
  });

  private constructor(socket: WebSocketLike, init: ConnectionInit) {
    this.socket = socket;
    this.url = init.url;
    this.events = init.events;
    this.onStray = init.onStray;
  }

  /** Whether the connection can take a request now. */
  get open(): boolean {
    return this.closedReason === undefined && this.socket.readyState === OPEN;
  }

  /** Requests sent on it and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Opens a socket to `init.url` and greets the node. Rejects with an {@link AttemptFailure}:
   * `lost` when the socket does not open, `answer` when `hello` is refused, `timeout`, `aborted`.
   */
  static open(init: ConnectionInit): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = init.factory(init.url);
      } catch (error) {
        reject(new AttemptFailure('lost', false, `cannot open ${init.url}: ${(error as Error).message}`));
        return;
      }
      const connection = new Connection(socket, init);
      let settled = false;
      const finish = (outcome: Connection | AttemptFailure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof Connection) resolve(outcome);
        else {
          connection.shutdown(1000, outcome.message);
          reject(outcome);
        }
      };
      const timer = setTimeout(() => finish(new AttemptFailure('timeout', false, `${init.url} did not answer hello within ${init.timeoutMs} ms`)), init.timeoutMs);
      const onAbort = () => finish(new AttemptFailure('aborted', false, 'aborted while connecting'));
      init.signal?.addEventListener('abort', onAbort, { once: true });
      socket.onmessage = (event) => connection.receive(event.data);
      let socketError = '';
      // The close that follows says what happened; `ws` gives the cause here (ECONNREFUSED, ...), browsers do not.
      socket.onerror = (event) => {
        const message = (event as { message?: unknown }).message;
        if (typeof message === 'string' && message !== '') socketError = `: ${message}`;
      };
      socket.onclose = (event) => {
        connection.socketClosedResolve();
        const code = `${event.code}${event.reason === '' ? '' : `: ${event.reason}`}`;
        const reason = `connection to ${init.url} closed (${code})`;
        connection.closedBy(reason, PROTOCOL_CLOSE_CODES.has(event.code));
        finish(new AttemptFailure('lost', false, `cannot connect to ${init.url} (${code})${socketError}`));
      };
      socket.onopen = () => {
        const hello = { op: 'hello', clientId: init.clientId, ...(init.token === undefined ? {} : { token: init.token }) };
        connection.request(hello, init.timeoutMs).then(
          (result) => {
            const parsed = parseHello(result);
            if (typeof parsed === 'string') return finish(new AttemptFailure('protocol', true, `${init.url}: ${parsed}`));
            if (parsed.protocol !== 1) return finish(new AttemptFailure('protocol', true, `${init.url} speaks client protocol ${parsed.protocol}; this client speaks 1`));
            connection.hello = parsed;
            finish(connection);
          },
          (failure: AttemptFailure) => finish(failure),
        );
      };
    });
  }

  /**
   * Sends one request and resolves with its result, or rejects with an {@link AttemptFailure}.
   * `timeoutMs` bounds this attempt only.
   */
  request(fields: Readonly<Record<string, unknown>>, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (signal?.aborted) return reject(new AttemptFailure('aborted', false, 'aborted'));
      if (!this.open) return reject(new AttemptFailure('lost', false, this.closedReason ?? `connection to ${this.url} is not open`));
      const id = this.nextId++;
      let text: string;
      try {
        text = JSON.stringify({ id, ...fields });
      } catch (error) {
        return reject(new AttemptFailure('protocol', false, `the request cannot be encoded as JSON: ${(error as Error).message}`));
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (this.retiring && this.pending.size === 0) this.shutdown(1000, 'retired');
      };
      const timer = setTimeout(() => {
        done();
        reject(new AttemptFailure('timeout', true, `no answer from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => {
        done();
        reject(new AttemptFailure('aborted', true, 'aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (failure) => {
          done();
          reject(failure);
        },
      });
      try {
        this.socket.send(text);
      } catch (error) {
        // `ws` throws when the socket closed between the check and the send: nothing went out.
        this.pending.get(id)?.reject(new AttemptFailure('lost', false, `cannot send to ${this.url}: ${(error as Error).message}`));
      }
    });
  }

  /** Stops giving it requests; it closes once the last in-flight one is answered (now, if none is). */
  retire(): void {
    this.retiring = true;
    if (this.pending.size === 0) this.shutdown(1000, 'retired');
  }

  /** Closes the socket now; requests in flight fail as `lost`. */
  shutdown(code: number, reason: string): void {
    if (this.closedReason !== undefined) return;
    try {
      this.socket.close(code, reason.slice(0, 120));
    } catch {
      // A socket still connecting may refuse close() in some implementations; it is dropped anyway.
    }
    this.closedBy(`connection to ${this.url} closed by the client: ${reason}`, false);
  }

  private closedBy(reason: string, protocol: boolean): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const failures = [...this.pending.values()];
    this.pending.clear();
    for (const pending of failures) pending.reject(new AttemptFailure(protocol ? 'protocol' : 'lost', true, reason));
    this.socket.onmessage = null;
    this.events.closed(this, reason);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') {
      this.broken('the node sent a binary frame; the protocol is JSON text');
      return;
    }
    const frame = decodeFrame(data);
    if (typeof frame === 'string') {
      this.broken(frame);
      return;
    }
    if (frame.kind === 'event') {
      this.events.event(this, frame.event, frame.data);
      return;
    }
    const pending = this.pending.get(frame.id);
    if (pending === undefined) {
      this.onStray();
      return;
    }
    if (frame.ok) pending.resolve(frame.result);
    else pending.reject(new AttemptFailure('answer', true, frame.error.message, frame.error));
  }

  /** The node sent something that is not the protocol: close, and let the requests retry elsewhere. */
  private broken(problem: string): void {
    this.onStray();
    this.shutdown(1002, `protocol error: ${problem}`);
  }
}

/** The leader hint of a greeted connection when it names another node. */
export function otherLeader(connection: Connection): LeaderHint | undefined {
  const { leader, node } = connection.hello;
  return leader !== undefined && leader.id !== node ? leader : undefined;
}
