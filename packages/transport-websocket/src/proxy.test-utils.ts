// A user-space TCP proxy between two nodes: the test's stand-in for a network that can be cut,
// black-holed, slowed down or made to stop reading (what a SIGSTOPped peer looks like from outside).
import { type Server, type Socket, createServer, connect } from 'node:net';

export type ProxyMode =
  /** Bytes flow both ways. */
  | 'pass'
  /** Every connection is reset and new ones are reset on arrival (a partition: dials fail fast). */
  | 'cut'
  /** Nothing is read any more, from either side, and new connections are accepted but never forwarded. */
  | 'stall';

export interface TcpProxy {
  /** `ws://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Every byte the dialler sent through, when `capture` was set. */
  readonly captured: Buffer[];
  setMode(mode: ProxyMode): void;
  /** Limits dialler → target bytes per second on every connection, or lifts the limit. */
  throttle(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export async function tcpProxy(targetPort: number, options: { capture?: boolean; scheme?: 'ws' | 'wss' } = {}): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let rate: number | undefined;
  let accepted = 0;
  const captured: Buffer[] = [];
  const pairs = new Set<Pair>();

  const forward = (from: Socket, to: Socket, throttled: boolean): void => {
    from.on('data', (chunk: Buffer) => {
      if (throttled && options.capture) captured.push(Buffer.from(chunk));
      if (throttled && rate !== undefined) {
        // Hold the source until this chunk's share of the bandwidth has passed.
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          if (mode === 'pass' && !from.destroyed) from.resume();
        }, (chunk.byteLength / rate) * 1000);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (mode === 'pass') from.resume();
        });
      }
    });
  };

  const server: Server = createServer((client) => {
    accepted++;
    client.on('error', () => {});
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (mode === 'stall') {
      client.pause();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => client.destroy());
    forward(client, upstream, true);
    forward(upstream, client, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    url: `${options.scheme ?? 'ws'}://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    captured,
    setMode(next: ProxyMode) {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'cut') {
          pair.client.resetAndDestroy();
          pair.upstream?.resetAndDestroy();
        } else if (next === 'stall') {
          pair.client.pause();
          pair.upstream?.pause();
        } else {
          pair.client.resume();
          pair.upstream?.resume();
        }
      }
    },
    throttle(bytesPerSecond: number | undefined) {
      rate = bytesPerSecond;
    },
    close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream?.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
