/**
 * A user-space TCP proxy in front of every peer endpoint, one listener per directed link: node A
 * reaches node B at the proxy `A→B`, which forwards to B's real endpoint. `tc netem` needs root
 * and a kernel module; this needs neither, and it knows which node is at each end of a connection
 * (loopback connections all come from 127.0.0.1), so faults can be set per directed link:
 *
 * - delay: bytes from A to B are held `delayMs` plus up to `jitterMs`, in order (TCP keeps order);
 * - blackhole: bytes from A to B are held, not delivered, and a new connection between them is
 *   accepted and never forwarded, the half-open link a ping/pong has to detect; held bytes are
 *   delivered when the fault lifts, as TCP would retransmit them;
 * - refuse: a new connection between them is reset on arrival (dials fail fast);
 * - cut: every open connection between them is reset now.
 *
 * Buffers are bounded: a direction holding more than {@link MAX_HELD_BYTES} stops reading from
 * its source until it drains, so TCP's own flow control pushes back on the sender.
 *
 * Nodes listen on port 0 and may come back from a crash on other ports: a proxy forwards to
 * where its node listens now ({@link ChaosNetwork.retarget}), so the addresses the nodes and the
 * clients know never change. A node's client API sits behind a proxy of its own
 * ({@link passThroughProxy}), without faults.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

/** Bytes one direction of one connection may hold before it stops reading its source. */
export const MAX_HELD_BYTES = 1024 * 1024;

/** The faults of one directed link (bytes from `from` to `to`). */
export interface LinkFault {
  /** Added to every chunk's delivery time, in milliseconds. */
  delayMs: number;
  /** A uniform random extra delay in [0, jitterMs), per chunk, in milliseconds. */
  jitterMs: number;
  /** Hold every byte (and a new connection) until the fault lifts. */
  blackhole: boolean;
  /** Reset new connections on arrival. */
  refuse: boolean;
}

const PASS: LinkFault = Object.freeze({ delayMs: 0, jitterMs: 0, blackhole: false, refuse: false });

/** What the proxies did, summed over every link. */
export interface ProxyStats {
  /** Connections accepted and forwarded. */
  forwarded: number;
  /** Connections reset on arrival (refuse). */
  refused: number;
  /** Connections accepted and never forwarded (blackhole). */
  heldOpen: number;
  /** Open connections reset by a cut. */
  reset: number;
  /** Bytes delivered, both directions. */
  bytes: number;
  /** Times a direction stopped reading its source because it held too much. */
  backpressure: number;
}

/** One direction of a proxied connection. */
class Flow {
  readonly #queue: { chunk: Buffer; releaseAt: number }[] = [];
  #queued = 0;
  #lastRelease = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waitingDrain = false;
  /** The source sent its FIN. */
  ended = false;

  constructor(
    readonly source: Socket,
    readonly sink: Socket,
    readonly fault: () => LinkFault,
    readonly random: () => number,
    readonly stats: ProxyStats,
  ) {
    source.on('data', (chunk: Buffer) => this.#receive(chunk));
    source.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  #receive(chunk: Buffer): void {
    const fault = this.fault();
    const now = performance.now();
    // Delivery times never go backwards: a later chunk never overtakes an earlier one.
    const releaseAt = fault.blackhole ? Number.POSITIVE_INFINITY : Math.max(this.#lastRelease, now + fault.delayMs + fault.jitterMs * this.random());
    if (Number.isFinite(releaseAt)) this.#lastRelease = releaseAt;
    if (this.#queue.length === 0 && releaseAt <= now && !this.#waitingDrain) {
      this.#deliver(chunk);
      return;
    }
    this.#queue.push({ chunk, releaseAt });
    this.#queued += chunk.length;
    if (this.#queued > MAX_HELD_BYTES && !this.source.isPaused()) {
      this.stats.backpressure++;
      this.source.pause();
    }
    this.pump();
  }

  #deliver(chunk: Buffer): void {
    if (this.sink.destroyed) return;
    this.stats.bytes += chunk.length;
    if (!this.sink.write(chunk)) {
      this.#waitingDrain = true;
      this.source.pause();
      this.sink.once('drain', () => {
        this.#waitingDrain = false;
        this.pump();
      });
    }
  }

  /** Delivers what is due; runs again when the next chunk falls due, when the sink drains, or when a fault changes. */
  pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.sink.destroyed) return;
    const fault = this.fault();
    const now = performance.now();
    while (this.#queue.length > 0 && !this.#waitingDrain) {
      // Under a blackhole nothing goes out, not even what was queued before it began.
      if (fault.blackhole) return;
      const head = this.#queue[0]!;
      if (!Number.isFinite(head.releaseAt)) {
        // The blackhole lifted: what it held goes out now (plus the delay in force), in order.
        const base = Math.max(this.#lastRelease, now + fault.delayMs);
        for (const held of this.#queue) if (!Number.isFinite(held.releaseAt)) held.releaseAt = base;
        this.#lastRelease = base;
        continue;
      }
      if (head.releaseAt > now) {
        this.#timer = setTimeout(() => this.pump(), Math.ceil(head.releaseAt - now));
        return;
      }
      this.#queue.shift();
      this.#queued -= head.chunk.length;
      this.#deliver(head.chunk);
    }
    if (this.#waitingDrain) return;
    if (this.#queued <= MAX_HELD_BYTES / 2 && this.source.isPaused() && !this.source.destroyed) this.source.resume();
    // A FIN is a byte like any other: it waits behind the data and behind a blackhole.
    if (this.ended && this.#queue.length === 0 && !fault.blackhole) this.sink.end();
  }

  /** Whether this direction is blackholed now. */
  get blackholed(): boolean {
    return this.fault().blackhole;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    this.#queued = 0;
  }
}

/** A proxied connection: the dialler's socket, the target's, and a flow each way. */
class ProxiedConnection {
  readonly forward: Flow;
  readonly backward: Flow;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    forwardFault: () => LinkFault,
    backwardFault: () => LinkFault,
    random: () => number,
    stats: ProxyStats,
    onClose: () => void,
  ) {
    this.forward = new Flow(client, upstream, forwardFault, random, stats);
    this.backward = new Flow(upstream, client, backwardFault, random, stats);
    const propagate = (side: Socket, flow: Flow, other: Socket) => {
      side.on('close', () => {
        // A graceful close travels as a FIN behind the data (Flow.pump). An abrupt one resets the
        // other end, except behind a blackhole: that end must find out by itself (a ping without a pong).
        if (!flow.ended && !flow.blackholed && !other.destroyed) other.destroy();
        if (client.destroyed && upstream.destroyed) {
          this.forward.close();
          this.backward.close();
          onClose();
        }
      });
    };
    propagate(client, this.forward, upstream);
    propagate(upstream, this.backward, client);
  }

  /** A fault changed: deliver what is now due; an end that closed behind a lifted blackhole closes the other. */
  refresh(): void {
    this.forward.pump();
    this.backward.pump();
    if (!this.forward.blackholed && this.client.destroyed && !this.forward.ended && !this.upstream.destroyed) this.upstream.destroy();
    if (!this.backward.blackholed && this.upstream.destroyed && !this.backward.ended && !this.client.destroyed) this.client.destroy();
  }

  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.resetAndDestroy();
  }
}

interface LinkProxy {
  readonly from: string;
  readonly to: string;
  readonly server: Server;
  readonly port: number;
  readonly connections: Set<ProxiedConnection>;
  /** Sockets accepted under a blackhole, never forwarded. */
  readonly held: Set<Socket>;
}

/** Where a node's real peer endpoint listens. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** Options of {@link chaosNetwork}. */
export interface ChaosNetworkInit {
  /** Every node, with its real peer endpoint if known yet (else set it with `retarget`). */
  readonly targets: ReadonlyMap<string, ProxyTarget | undefined>;
  /** Per-chunk jitter comes from it. */
  readonly random: () => number;
  /**
   * Where the proxies listen.
   * @default '127.0.0.1'
   */
  readonly host?: string;
}

/**
 * The proxies of a cluster, one per directed link, and the faults in force on each link.
 * Links are named `from→to`: the direction bytes flow in.
 */
export interface ChaosNetwork {
  /** The URL node `from` dials to reach node `to` (`ws://host:port`). */
  url(from: string, to: string): string;
  /** Delays bytes from `from` to `to`. */
  delay(from: string, to: string, delayMs: number, jitterMs: number): void;
  /** Holds every byte from `from` to `to`, and new connections between them. */
  blackhole(from: string, to: string): void;
  /** Resets new connections between `a` and `b` (either direction refuses a handshake). */
  refuse(from: string, to: string): void;
  /** Resets every open connection between `a` and `b` now. */
  cut(a: string, b: string): number;
  /** Lifts every fault of the link `from→to`. */
  heal(from: string, to: string): void;
  /** Lifts every fault of every link. */
  healAll(): void;
  /** Where node `id`'s peer endpoint listens from now on (for new connections). */
  retarget(id: string, target: ProxyTarget): void;
  /** The faults of `from→to` now. */
  fault(from: string, to: string): LinkFault;
  /** Links with a fault now, as `from→to`. */
  faulty(): string[];
  stats(): ProxyStats;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

function linkName(from: string, to: string): string {
  return `${from}\u2192${to}`;
}

/**
 * Starts one proxy per directed link between the nodes of `init.targets` (listening on port 0:
 * the OS picks) and resolves once all listen.
 *
 * @example
 * ```ts
 * const network = await chaosNetwork({ targets: new Map([['n1', { host: '127.0.0.1', port: 7001 }], ['n2', { host: '127.0.0.1', port: 7002 }]]), random: Math.random });
 * network.url('n1', 'n2'); // the peerUrl n1's configuration gives n2
 * network.blackhole('n1', 'n2');
 * network.healAll();
 * await network.close();
 * ```
 */
export async function chaosNetwork(init: ChaosNetworkInit): Promise<ChaosNetwork> {
  const host = init.host ?? '127.0.0.1';
  const faults = new Map<string, LinkFault>();
  const stats: ProxyStats = { forwarded: 0, refused: 0, heldOpen: 0, reset: 0, bytes: 0, backpressure: 0 };
  const proxies = new Map<string, LinkProxy>();
  const fault = (from: string, to: string): LinkFault => faults.get(linkName(from, to)) ?? PASS;
  const ids = [...init.targets.keys()];
  const targets = new Map(init.targets);

  const open = (from: string, to: string): Promise<LinkProxy> =>
    new Promise((resolve, reject) => {
      const connections = new Set<ProxiedConnection>();
      const held = new Set<Socket>();
      const server = createServer({ noDelay: true }, (client) => {
        client.on('error', () => {});
        // A connection needs both directions: a SYN or its answer lost either way is no connection.
        const there = fault(from, to);
        const back = fault(to, from);
        if (there.refuse || back.refuse) {
          stats.refused++;
          client.resetAndDestroy();
          return;
        }
        if (there.blackhole || back.blackhole) {
          stats.heldOpen++;
          held.add(client);
          client.pause();
          client.on('close', () => held.delete(client));
          return;
        }
        const target = targets.get(to);
        // Nowhere to go yet (the node has not listened): as a refused dial.
        if (target === undefined) {
          client.resetAndDestroy();
          return;
        }
        const upstream = connect({ host: target.host, port: target.port, noDelay: true });
        upstream.on('error', () => {});
        stats.forwarded++;
        const connection = new ProxiedConnection(
          client,
          upstream,
          () => fault(from, to),
          () => fault(to, from),
          init.random,
          stats,
          () => connections.delete(connection),
        );
        connections.add(connection);
      });
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve({ from, to, server, port: (server.address() as { port: number }).port, connections, held });
      });
    });

  for (const from of ids) {
    for (const to of ids) {
      if (from === to) continue;
      proxies.set(linkName(from, to), await open(from, to));
    }
  }

  const refreshPair = (a: string, b: string): void => {
    for (const name of [linkName(a, b), linkName(b, a)]) {
      const proxy = proxies.get(name);
      if (proxy === undefined) continue;
      for (const connection of proxy.connections) connection.refresh();
    }
  };
  const update = (from: string, to: string, change: Partial<LinkFault>): void => {
    const next = { ...fault(from, to), ...change };
    const name = linkName(from, to);
    if (next.delayMs === 0 && next.jitterMs === 0 && !next.blackhole && !next.refuse) faults.delete(name);
    else faults.set(name, next);
    refreshPair(from, to);
  };
  const known = (id: string): void => {
    if (!init.targets.has(id)) throw new RangeError(`no node ${id} behind the proxies`);
  };

  return {
    url(from, to) {
      const proxy = proxies.get(linkName(from, to));
      if (proxy === undefined) throw new RangeError(`no proxy for ${linkName(from, to)}`);
      return `ws://${host}:${proxy.port}`;
    },
    delay(from, to, delayMs, jitterMs) {
      known(from);
      known(to);
      update(from, to, { delayMs, jitterMs });
    },
    blackhole(from, to) {
      known(from);
      known(to);
      update(from, to, { blackhole: true });
    },
    refuse(from, to) {
      known(from);
      known(to);
      update(from, to, { refuse: true });
    },
    cut(a, b) {
      known(a);
      known(b);
      let count = 0;
      for (const name of [linkName(a, b), linkName(b, a)]) {
        const proxy = proxies.get(name)!;
        for (const connection of [...proxy.connections]) {
          connection.reset();
          count++;
        }
        for (const socket of [...proxy.held]) {
          socket.resetAndDestroy();
          count++;
        }
      }
      stats.reset += count;
      return count;
    },
    heal(from, to) {
      faults.delete(linkName(from, to));
      refreshPair(from, to);
    },
    healAll() {
      const names = [...faults.keys()];
      faults.clear();
      for (const name of names) {
        const [from, to] = name.split('\u2192') as [string, string];
        refreshPair(from, to);
      }
    },
    retarget(id, target) {
      known(id);
      targets.set(id, target);
    },
    fault,
    faulty: () => [...faults.keys()].sort(),
    stats: () => ({ ...stats }),
    async close() {
      faults.clear();
      await Promise.all(
        [...proxies.values()].map(
          (proxy) =>
            new Promise<void>((resolve) => {
              for (const connection of proxy.connections) connection.reset();
              for (const socket of proxy.held) socket.destroy();
              proxy.server.close(() => resolve());
            }),
        ),
      );
    },
  };
}

/** A proxy without faults in front of one endpoint whose port may change: a node's client API. */
export interface PassThroughProxy {
  /** `http://host:port` of the proxy. */
  readonly url: string;
  /** Where it forwards from now on (new connections). */
  retarget(target: ProxyTarget): void;
  close(): Promise<void>;
}

/**
 * Starts a pass-through proxy (port 0) that forwards to `target` once it is set; until then, and
 * while the target refuses, connections are closed as a refused dial would be.
 */
export async function passThroughProxy(init: { target?: ProxyTarget; host?: string } = {}): Promise<PassThroughProxy> {
  const host = init.host ?? '127.0.0.1';
  let target = init.target;
  const connections = new Set<ProxiedConnection>();
  const stats: ProxyStats = { forwarded: 0, refused: 0, heldOpen: 0, reset: 0, bytes: 0, backpressure: 0 };
  const pass = () => PASS;
  const server = createServer({ noDelay: true }, (client) => {
    client.on('error', () => {});
    if (target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    upstream.on('error', () => {});
    stats.forwarded++;
    const connection = new ProxiedConnection(client, upstream, pass, pass, Math.random, stats, () => connections.delete(connection));
    connections.add(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  return {
    url: `http://${host}:${(server.address() as { port: number }).port}`,
    retarget(next) {
      target = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.reset();
        server.close(() => resolve());
      }),
  };
}
