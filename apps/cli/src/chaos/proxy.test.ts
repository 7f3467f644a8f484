/**
 * The chaos proxy on real loopback sockets: what each fault does to bytes and connections. The
 * target behind each link is a TCP server that records what it receives and echoes it back.
 * Timing assertions are lower bounds only (a loaded machine makes things slower, never faster).
 */
import { createHash } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { seededRandom } from '@greenraft/consensus';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChaosNetwork, chaosNetwork, MAX_HELD_BYTES, passThroughProxy } from './proxy.js';

interface Target {
  readonly server: Server;
  readonly port: number;
  /** Connections the target accepted. */
  readonly sockets: Socket[];
  /** Bytes received, per connection. */
  readonly received: Buffer[][];
  /** Connections whose close the target saw. */
  closed: number;
}

async function target(echo = true): Promise<Target> {
  const state: Omit<Target, 'server' | 'port'> & { closed: number } = { sockets: [], received: [], closed: 0 };
  const server = createServer((socket) => {
    const chunks: Buffer[] = [];
    state.sockets.push(socket);
    state.received.push(chunks);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (echo) socket.write(chunk);
    });
    socket.on('close', () => state.closed++);
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return Object.assign(state, { server, port: (server.address() as { port: number }).port });
}

function dial(url: string): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Collects what `socket` receives until `bytes` have arrived (or rejects after `timeoutMs`). */
function receive(socket: Socket, bytes: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => reject(new Error(`received ${total} of ${bytes} bytes`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on('data', onData);
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const total = (chunks: readonly Buffer[] | undefined) => (chunks ?? []).reduce((sum, chunk) => sum + chunk.length, 0);

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function twoNodes(): Promise<{ network: ChaosNetwork; a: Target; b: Target }> {
  const a = await target();
  const b = await target();
  const network = await chaosNetwork({
    targets: new Map([
      ['a', { host: '127.0.0.1', port: a.port }],
      ['b', { host: '127.0.0.1', port: b.port }],
    ]),
    random: seededRandom(7),
  });
  cleanups.push(
    () => network.close(),
    () => new Promise<void>((resolve) => a.server.close(() => resolve())),
    () => new Promise<void>((resolve) => b.server.close(() => resolve())),
    () => {
      for (const socket of [...a.sockets, ...b.sockets]) socket.destroy();
    },
  );
  return { network, a, b };
}

async function open(network: ChaosNetwork, from: string, to: string): Promise<Socket> {
  const socket = await dial(network.url(from, to));
  socket.on('error', () => {});
  cleanups.push(() => {
    socket.destroy();
  });
  return socket;
}

describe('chaos proxy', () => {
  it('gives every directed link its own listener, forwarding both ways to the target', async () => {
    const { network, a, b } = await twoNodes();
    expect(network.url('a', 'b')).not.toBe(network.url('b', 'a'));
    const socket = await open(network, 'a', 'b');
    socket.write('hello');
    expect((await receive(socket, 5)).toString()).toBe('hello');
    expect(b.received[0]?.map(String).join('')).toBe('hello');
    expect(a.sockets).toHaveLength(0);
    expect(() => network.url('a', 'a')).toThrow(RangeError);
    expect(network.stats().forwarded).toBe(1);
  });

  it('delays one direction by at least the delay, in order, jitter or not', async () => {
    const { network } = await twoNodes();
    const socket = await open(network, 'a', 'b');
    network.delay('a', 'b', 150, 40);
    expect(network.faulty()).toEqual(['a\u2192b']);
    const started = performance.now();
    const numbers = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')};`);
    for (const text of numbers) socket.write(text);
    const echoed = await receive(socket, numbers.join('').length);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(echoed.toString()).toBe(numbers.join(''));
    network.heal('a', 'b');
    expect(network.faulty()).toEqual([]);
  });

  it('blackholes: holds the bytes of one direction until the fault lifts, then delivers them in order', async () => {
    const { network, b } = await twoNodes();
    const socket = await open(network, 'a', 'b');
    socket.write('before;');
    await receive(socket, 7);
    network.blackhole('a', 'b');
    socket.write('held-1;');
    socket.write('held-2;');
    await sleep(300);
    expect(b.received[0]?.map(String).join('')).toBe('before;');
    network.healAll();
    expect((await receive(socket, 14)).toString()).toBe('held-1;held-2;');
    expect(b.received[0]?.map(String).join('')).toBe('before;held-1;held-2;');
  });

  it('blackholes new connections: accepted, never forwarded (half-open), and they stay dead after the fault lifts', async () => {
    const { network, b } = await twoNodes();
    network.blackhole('b', 'a');
    // The reverse direction is enough: the answer to a SYN lost is no connection either.
    const socket = await open(network, 'a', 'b');
    socket.write('anyone?');
    await sleep(300);
    expect(b.sockets).toHaveLength(0);
    expect(socket.destroyed).toBe(false);
    expect(network.stats().heldOpen).toBe(1);
    network.healAll();
    await sleep(200);
    expect(b.sockets).toHaveLength(0);
  });

  it('refuses new connections with a reset, either direction, while open ones go on', async () => {
    const { network, b } = await twoNodes();
    const old = await open(network, 'a', 'b');
    network.refuse('b', 'a');
    const closed = new Promise<void>((resolve) => {
      void dial(network.url('a', 'b')).then(
        (fresh) => {
          fresh.on('error', () => {});
          fresh.on('close', () => resolve());
        },
        () => resolve(),
      );
    });
    await closed;
    expect(network.stats().refused).toBe(1);
    old.write('still');
    expect((await receive(old, 5)).toString()).toBe('still');
    expect(b.sockets).toHaveLength(1);
  });

  it('cuts: resets every open connection between two nodes at once', async () => {
    const { network, b } = await twoNodes();
    const socket = await open(network, 'a', 'b');
    socket.write('x');
    await receive(socket, 1);
    const reset = new Promise<string | undefined>((resolve) => {
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.once('close', () => resolve(undefined));
    });
    expect(network.cut('b', 'a')).toBe(1);
    expect(await reset).toBe('ECONNRESET');
    await sleep(100);
    expect(b.closed).toBe(1);
    expect(network.stats().reset).toBe(1);
  });

  it('keeps a close behind a blackhole from the other end, which must notice the dead link itself', async () => {
    const { network, b } = await twoNodes();
    const socket = await open(network, 'a', 'b');
    socket.write('x');
    await receive(socket, 1);
    network.blackhole('a', 'b');
    socket.destroy();
    await sleep(300);
    expect(b.closed).toBe(0);
    network.healAll();
    await sleep(200);
    expect(b.closed).toBe(1);
  });

  it('forwards to where a node listens now: refused before it listens, the new port after a restart', async () => {
    const first = await target();
    const second = await target();
    const network = await chaosNetwork({ targets: new Map([['a', undefined], ['b', undefined]]), random: seededRandom(3) });
    cleanups.push(
      () => network.close(),
      () => new Promise<void>((resolve) => first.server.close(() => resolve())),
      () => new Promise<void>((resolve) => second.server.close(() => resolve())),
    );
    // Reset on arrival: the dial fails, or its connection closes at once.
    await dial(network.url('a', 'b')).then(
      (early) => {
        early.on('error', () => {});
        return new Promise((resolve) => early.once('close', resolve));
      },
      (error: NodeJS.ErrnoException) => expect(error.code).toBe('ECONNRESET'),
    );
    network.retarget('b', { host: '127.0.0.1', port: first.port });
    const before = await open(network, 'a', 'b');
    before.write('one');
    expect((await receive(before, 3)).toString()).toBe('one');
    network.retarget('b', { host: '127.0.0.1', port: second.port });
    const after = await open(network, 'a', 'b');
    after.write('two');
    expect((await receive(after, 3)).toString()).toBe('two');
    expect([first.sockets.length, second.sockets.length]).toEqual([1, 1]);
    expect(() => network.retarget('c', { host: '127.0.0.1', port: 1 })).toThrow(RangeError);
  });

  it('gives a client API a pass-through proxy that follows its port', async () => {
    const first = await target();
    const second = await target();
    const proxy = await passThroughProxy();
    cleanups.push(
      () => proxy.close(),
      () => new Promise<void>((resolve) => first.server.close(() => resolve())),
      () => new Promise<void>((resolve) => second.server.close(() => resolve())),
    );
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    proxy.retarget({ host: '127.0.0.1', port: first.port });
    const one = await open({ url: () => proxy.url } as unknown as ChaosNetwork, 'x', 'y');
    one.write('hello');
    expect((await receive(one, 5)).toString()).toBe('hello');
    proxy.retarget({ host: '127.0.0.1', port: second.port });
    const two = await open({ url: () => proxy.url } as unknown as ChaosNetwork, 'x', 'y');
    two.write('again');
    expect((await receive(two, 5)).toString()).toBe('again');
    expect(second.received[0]?.map(String).join('')).toBe('again');
  });

  it('bounds what it holds: a blackholed direction stops reading its source, then delivers every byte once healed', async () => {
    const b = await target(false);
    const network = await chaosNetwork({ targets: new Map([['a', { host: '127.0.0.1', port: b.port }], ['b', { host: '127.0.0.1', port: b.port }]]), random: seededRandom(1) });
    cleanups.push(
      () => network.close(),
      () => new Promise<void>((resolve) => b.server.close(() => resolve())),
      () => {
        for (const socket of b.sockets) socket.destroy();
      },
    );
    const socket = await open(network, 'a', 'b');
    socket.write('!');
    while (total(b.received[0]) < 1) await sleep(10);
    network.blackhole('a', 'b');
    const payload = Buffer.alloc(4 * MAX_HELD_BYTES);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    socket.write(payload);
    await sleep(500);
    expect(network.stats().backpressure).toBeGreaterThanOrEqual(1);
    expect(total(b.received[0])).toBe(1);
    network.healAll();
    const deadline = performance.now() + 20_000;
    while (total(b.received[0]) < payload.length + 1 && performance.now() < deadline) await sleep(20);
    const arrived = Buffer.concat(b.received[0]!).subarray(1);
    expect(createHash('sha256').update(arrived).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  });
});
