import { InvalidArgumentError, TransportError } from '@greenraft/consensus';
import type { HeartbeatRequest, Message, NodeId, Transport } from '@greenraft/consensus';
import * as fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type VirtualClock, virtualClock } from './clock.js';
import type { LinkFaults } from './faults.js';
import { type DropReason, type MemoryNetwork, type MemoryNetworkInit, memoryNetwork } from './network.js';

const heartbeat = (from: NodeId, to: NodeId, commitIndex: number): HeartbeatRequest => ({ type: 'heartbeat', from, to, term: 1, commitIndex });
const commitIndexOf = (message: Message): number => (message as HeartbeatRequest).commitIndex;

interface TestCluster {
  readonly clock: VirtualClock;
  readonly network: MemoryNetwork;
  readonly nodes: Record<NodeId, Transport>;
  /** What each node received, in arrival order. */
  readonly inbox: Record<NodeId, Message[]>;
  /** Every delivery as `time from→to commitIndex`, in arrival order. */
  readonly log: string[];
  /** Every drop's reason, in order. */
  readonly drops: DropReason[];
}

/** Starts `ids` on one network over a virtual clock and records what happens. */
async function cluster(ids: NodeId[], init: Omit<MemoryNetworkInit, 'clock'> = {}): Promise<TestCluster> {
  const clock = virtualClock();
  const network = memoryNetwork({ clock, ...init });
  const nodes: Record<NodeId, Transport> = {};
  const inbox: Record<NodeId, Message[]> = {};
  const log: string[] = [];
  const drops: DropReason[] = [];
  for (const id of ids) {
    nodes[id] = network.transport(id);
    inbox[id] = [];
    await nodes[id].start((message) => {
      inbox[id]!.push(message);
      log.push(`${clock.now()} ${message.from}→${message.to} ${commitIndexOf(message)}`);
    });
  }
  network.on('drop', ({ reason }) => drops.push(reason));
  return { clock, network, nodes, inbox, log, drops };
}

/** Runs the clock until nothing is in flight. */
function drain({ clock, network }: TestCluster): void {
  while (network.inFlight() > 0 && clock.runNext());
}

describe('memoryNetwork: determinism', () => {
  /** A scripted faulty run: interleaved sends, clock moves and a partition that comes and goes. */
  async function faultyRun(seed: number): Promise<{ log: string[]; stats: MemoryNetwork['stats'] }> {
    const c = await cluster(['a', 'b', 'c'], {
      seed,
      defaultLink: { latency: { min: 1, max: 20 }, loss: 0.1, duplicate: 0.1, reorder: 0.2 },
    });
    const ids = ['a', 'b', 'c'];
    for (let round = 0; round < 300; round++) {
      const from = ids[round % 3]!;
      const to = ids[(round + 1 + (round % 2)) % 3]!;
      c.nodes[from]!.send(heartbeat(from, to, round));
      if (round === 100) c.network.partition(['a'], ['b', 'c']);
      if (round === 200) c.network.heal();
      c.clock.advance(round % 7);
    }
    drain(c);
    return { log: c.log, stats: c.network.stats };
  }

  it('gives identical delivery logs for the same seed, and different ones for another seed', async () => {
    const first = await faultyRun(5);
    const second = await faultyRun(5);
    expect(first.log.length).toBeGreaterThan(200);
    expect(second.log).toEqual(first.log);
    expect(second.stats).toEqual(first.stats);
    const other = await faultyRun(6);
    expect(other.log).not.toEqual(first.log);
  });
});

describe('memoryNetwork: loss and duplication', () => {
  const count = 10_000;
  /** a sends `total` heartbeats to b, 100 per millisecond, then the network drains. */
  const sendInBatches = (c: TestCluster, total: number) => {
    for (let i = 0; i < total; i++) {
      c.nodes.a!.send(heartbeat('a', 'b', i));
      if (i % 100 === 99) c.clock.advance(1);
    }
    drain(c);
  };

  it('drops about `loss` of the messages, exactly the same ones for a fixed seed', async () => {
    const c = await cluster(['a', 'b'], { seed: 1, defaultLink: { loss: 0.2 } });
    sendInBatches(c, count);
    const { sent, delivered, dropped, duplicated } = c.network.stats;
    expect({ sent, delivered, dropped, duplicated }).toEqual({ sent: count, delivered: 7954, dropped: 2046, duplicated: 0 });
    expect(dropped / count).toBeGreaterThan(0.18);
    expect(dropped / count).toBeLessThan(0.22);
    expect(c.drops.every((reason) => reason === 'loss')).toBe(true);
    // What survives still arrives in order.
    const received = c.inbox.b!.map(commitIndexOf);
    expect(received).toEqual([...received].sort((x, y) => x - y));
  });

  it('delivers about `duplicate` of the messages twice, each at most twice', async () => {
    const c = await cluster(['a', 'b'], { seed: 1, defaultLink: { duplicate: 0.1 } });
    sendInBatches(c, count);
    const { delivered, dropped, duplicated } = c.network.stats;
    expect({ delivered, dropped, duplicated }).toEqual({ delivered: count + 1005, dropped: 0, duplicated: 1005 });
    expect(duplicated / count).toBeGreaterThan(0.08);
    expect(duplicated / count).toBeLessThan(0.12);
    const copies = new Map<number, number>();
    for (const message of c.inbox.b!) copies.set(commitIndexOf(message), (copies.get(commitIndexOf(message)) ?? 0) + 1);
    expect(copies.size).toBe(count);
    expect([...copies.values()].filter((n) => n === 2).length).toBe(duplicated);
    expect(Math.max(...copies.values())).toBe(2);
  });

  it('keeps every counter consistent: sent + duplicated = delivered + dropped + in flight', async () => {
    const c = await cluster(['a', 'b'], { seed: 3, defaultLink: { latency: 5, loss: 0.3, duplicate: 0.3 } });
    for (let i = 0; i < 500; i++) c.nodes.a!.send(heartbeat('a', 'b', i));
    c.clock.advance(2);
    const mid = c.network.stats;
    expect(c.network.inFlight()).toBeGreaterThan(0);
    expect(mid.sent + mid.duplicated).toBe(mid.delivered + mid.dropped + c.network.inFlight());
    drain(c);
    const end = c.network.stats;
    expect(c.network.inFlight()).toBe(0);
    expect(end.sent + end.duplicated).toBe(end.delivered + end.dropped);
  });
});

describe('memoryNetwork: partitions and cuts', () => {
  it('partitions symmetrically; unlisted nodes form one group of their own', async () => {
    const c = await cluster(['a', 'b', 'c', 'd']);
    c.network.partition(['a'], ['b']);
    for (const [from, to] of [['a', 'b'], ['b', 'a'], ['a', 'c'], ['c', 'b'], ['c', 'd'], ['d', 'c']] as const) {
      c.nodes[from]!.send(heartbeat(from, to, 0));
    }
    drain(c);
    expect(c.log).toEqual(['0 c→d 0', '0 d→c 0']);
    expect(c.drops).toEqual(['partition', 'partition', 'partition', 'partition']);
  });

  it('cuts one direction with block, and unblock restores it', async () => {
    const c = await cluster(['a', 'b']);
    c.network.block('a', 'b');
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.b!.send(heartbeat('b', 'a', 2));
    drain(c);
    expect(c.log).toEqual(['0 b→a 2']);
    c.network.unblock('a', 'b');
    c.nodes.a!.send(heartbeat('a', 'b', 3));
    drain(c);
    expect(c.log).toEqual(['0 b→a 2', '0 a→b 3']);
    expect(c.drops).toEqual(['partition']);
  });

  it('isolates a node in both directions while the others keep talking', async () => {
    const c = await cluster(['a', 'b', 'c']);
    c.network.isolate('a');
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.b!.send(heartbeat('b', 'a', 2));
    c.nodes.b!.send(heartbeat('b', 'c', 3));
    drain(c);
    expect(c.log).toEqual(['0 b→c 3']);
  });

  it('drops a message in flight when a partition starts before it arrives', async () => {
    const c = await cluster(['a', 'b'], { defaultLink: { latency: 10 } });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.clock.advance(5);
    c.network.partition(['a'], ['b']);
    c.clock.advance(10);
    expect(c.log).toEqual([]);
    expect(c.drops).toEqual(['partition']);
    expect(c.network.inFlight()).toBe(0);
  });

  it('still delivers a message whose partition healed before it arrived', async () => {
    const c = await cluster(['a', 'b'], { defaultLink: { latency: 10 } });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.clock.advance(3);
    c.network.partition(['a'], ['b']);
    c.clock.advance(3);
    c.network.heal();
    c.clock.advance(10);
    expect(c.log).toEqual(['10 a→b 1']);
  });

  it('heal removes partitions, cuts and isolation but keeps link faults', async () => {
    const c = await cluster(['a', 'b', 'c']);
    c.network.partition(['a', 'b'], ['c']);
    c.network.block('a', 'b');
    c.network.isolate('b');
    c.network.setLink('c', 'a', { loss: 1 });
    c.network.heal();
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.b!.send(heartbeat('b', 'c', 2));
    c.nodes.c!.send(heartbeat('c', 'b', 3));
    c.nodes.c!.send(heartbeat('c', 'a', 4));
    drain(c);
    expect(c.log).toEqual(['0 a→b 1', '0 b→c 2', '0 c→b 3']);
    expect(c.drops).toEqual(['loss']);
    c.network.clearLinkFaults();
    c.nodes.c!.send(heartbeat('c', 'a', 5));
    drain(c);
    expect(c.log.at(-1)).toBe('0 c→a 5');
  });

  it('replaces an earlier partition with a new one; partition() with no group joins everyone', async () => {
    const c = await cluster(['a', 'b', 'c']);
    c.network.partition(['a'], ['b', 'c']);
    c.network.partition(['a', 'b'], ['c']);
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.b!.send(heartbeat('b', 'c', 2));
    drain(c);
    expect(c.log).toEqual(['0 a→b 1']);
    c.network.partition();
    c.nodes.b!.send(heartbeat('b', 'c', 3));
    drain(c);
    expect(c.log).toEqual(['0 a→b 1', '0 b→c 3']);
  });
});

describe('memoryNetwork: latency and ordering', () => {
  it('delivers after each link’s latency, so a faster link overtakes a slower one', async () => {
    const c = await cluster(['a', 'b', 'c']);
    c.network.setLink('a', 'b', { latency: 10 });
    c.network.setLink('c', 'b', { latency: 2 });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.c!.send(heartbeat('c', 'b', 2));
    c.clock.advance(1);
    expect(c.log).toEqual([]);
    c.clock.advance(20);
    expect(c.log).toEqual(['2 c→b 2', '10 a→b 1']);
  });

  it('keeps a link in order under varying latency when reorder is 0', async () => {
    const c = await cluster(['a', 'b'], { seed: 11, defaultLink: { latency: { min: 0, max: 50 } } });
    for (let i = 0; i < 500; i++) {
      c.nodes.a!.send(heartbeat('a', 'b', i));
      c.clock.advance(1);
    }
    drain(c);
    expect(c.inbox.b!.map(commitIndexOf)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // The latency really varied: arrival gaps are not all one millisecond.
    const arrivals = c.log.map((line) => Number(line.split(' ')[0]));
    expect(new Set(arrivals.slice(1).map((t, i) => t - arrivals[i]!)).size).toBeGreaterThan(3);
  });

  it('reorders about `reorder` of the messages, losing none', async () => {
    const c = await cluster(['a', 'b'], { seed: 4, defaultLink: { latency: 1, reorder: 0.3, reorderDelay: 20 } });
    for (let i = 0; i < 1000; i++) {
      c.nodes.a!.send(heartbeat('a', 'b', i));
      if (i % 4 === 0) c.clock.advance(1);
    }
    drain(c);
    const received = c.inbox.b!.map(commitIndexOf);
    expect([...received].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // A message is out of place when a later-sent one arrived before it.
    let overtaken = 0;
    let highest = -1;
    for (const index of received) {
      if (index < highest) overtaken++;
      highest = Math.max(highest, index);
    }
    expect(overtaken).toBe(283);
    expect(overtaken / 1000).toBeGreaterThan(0.2);
    expect(overtaken / 1000).toBeLessThan(0.4);
  });

  it('never delivers inside send, even at zero latency', async () => {
    const c = await cluster(['a', 'b']);
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    expect(c.log).toEqual([]);
    expect(c.network.inFlight()).toBe(1);
    expect(c.clock.pendingTimers()).toBe(1);
    c.clock.advance(0);
    expect(c.log).toEqual(['0 a→b 1']);
  });

  it('lets a link’s own faults fall back to the default link field by field', async () => {
    const c = await cluster(['a', 'b', 'c'], { defaultLink: { latency: 5 } });
    c.network.setLink('a', 'b', { loss: 0 });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.a!.send(heartbeat('a', 'c', 2));
    drain(c);
    expect(c.log).toEqual(['5 a→b 1', '5 a→c 2']);
    c.network.setDefaultLink({ latency: 1 });
    c.nodes.a!.send(heartbeat('a', 'b', 3));
    drain(c);
    expect(c.log.at(-1)).toBe('6 a→b 3');
  });

  it('hands each latency function the seeded PRNG', async () => {
    const c = await cluster(['a', 'b'], { seed: 8 });
    const draws: number[] = [];
    c.network.setLink('a', 'b', {
      latency: (random) => {
        const x = random();
        draws.push(x);
        return Math.round(x * 100);
      },
    });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    drain(c);
    expect(draws).toHaveLength(1);
    expect(c.log).toEqual([`${Math.round(draws[0]! * 100)} a→b 1`]);
  });
});

describe('memoryNetwork: endpoints', () => {
  it('returns one endpoint per id', () => {
    const network = memoryNetwork({ clock: virtualClock() });
    expect(network.transport('a')).toBe(network.transport('a'));
    expect(network.transport('a').localId).toBe('a');
    expect(network.transport('b')).not.toBe(network.transport('a'));
  });

  it('drops messages to an unknown or unstarted peer without throwing', async () => {
    const c = await cluster(['a']);
    c.network.transport('idle');
    expect(() => c.nodes.a!.send(heartbeat('a', 'nobody', 1))).not.toThrow();
    c.nodes.a!.send(heartbeat('a', 'idle', 2));
    drain(c);
    expect(c.drops).toEqual(['unknownPeer', 'stopped']);
    expect(c.network.stats).toEqual({ sent: 2, delivered: 0, dropped: 2, duplicated: 0 });
  });

  it('drops what is in flight to an endpoint when it stops, and clears the timers', async () => {
    const c = await cluster(['a', 'b'], { defaultLink: { latency: 10 } });
    for (let i = 0; i < 5; i++) c.nodes.a!.send(heartbeat('a', 'b', i));
    expect(c.network.inFlight()).toBe(5);
    await c.nodes.b!.stop();
    expect(c.network.inFlight()).toBe(0);
    expect(c.clock.pendingTimers()).toBe(0);
    expect(c.drops).toEqual(['stopped', 'stopped', 'stopped', 'stopped', 'stopped']);
    c.clock.advance(20);
    expect(c.log).toEqual([]);
  });

  it('sends nothing from a stopped endpoint and counts nothing', async () => {
    const c = await cluster(['a', 'b']);
    await c.nodes.a!.stop();
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    drain(c);
    expect(c.network.stats).toEqual({ sent: 0, delivered: 0, dropped: 0, duplicated: 0 });
  });

  it('restarts after stop with a new handler (a node restart), but never starts twice', async () => {
    const c = await cluster(['a', 'b']);
    await expect(c.nodes.b!.start(() => {})).rejects.toBeInstanceOf(TransportError);
    await c.nodes.b!.stop();
    const afterRestart: number[] = [];
    await c.nodes.b!.start((message) => afterRestart.push(commitIndexOf(message)));
    await expect(c.nodes.b!.start(() => {})).rejects.toThrow(/already started/);
    c.nodes.a!.send(heartbeat('a', 'b', 7));
    drain(c);
    expect(afterRestart).toEqual([7]);
    expect(c.inbox.b).toEqual([]);
  });

  it('rejects a start without a handler with InvalidArgumentError and stays unstarted', async () => {
    const network = memoryNetwork({ clock: virtualClock() });
    const a = network.transport('a');
    await expect(a.start(undefined as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(a.start(() => {})).resolves.toBeUndefined();
  });

  it('close stops every endpoint and drops everything in flight', async () => {
    const c = await cluster(['a', 'b'], { defaultLink: { latency: 3 } });
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.b!.send(heartbeat('b', 'a', 2));
    c.network.close();
    expect(c.network.inFlight()).toBe(0);
    expect(c.clock.pendingTimers()).toBe(0);
    c.nodes.a!.send(heartbeat('a', 'b', 3));
    c.clock.advance(10);
    expect(c.log).toEqual([]);
    expect(c.network.stats).toEqual({ sent: 2, delivered: 0, dropped: 2, duplicated: 0 });
  });

  it('applies backpressure per link once maxQueuedPerLink messages are in flight', async () => {
    const c = await cluster(['a', 'b', 'c'], { maxQueuedPerLink: 3, defaultLink: { latency: 10 } });
    for (let i = 0; i < 5; i++) c.nodes.a!.send(heartbeat('a', 'b', i));
    c.nodes.a!.send(heartbeat('a', 'c', 9));
    drain(c);
    expect(c.log).toEqual(['10 a→b 0', '10 a→b 1', '10 a→b 2', '10 a→c 9']);
    expect(c.drops).toEqual(['backpressure', 'backpressure']);
    // Once the link drains it accepts messages again.
    c.nodes.a!.send(heartbeat('a', 'b', 5));
    drain(c);
    expect(c.log.at(-1)).toBe('20 a→b 5');
  });
});

describe('memoryNetwork: message hygiene', () => {
  it('clones each message, so sender and receiver share no objects', async () => {
    const c = await cluster(['a', 'b']);
    const data = new Uint8Array([1, 2, 3]);
    const message: Message = { type: 'appendRequest', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, commitIndex: 0, entries: [{ type: 'normal', term: 2, index: 1, data }] };
    c.nodes.a!.send(message);
    data[0] = 99; // the sender reuses its buffer after send
    drain(c);
    const received = c.inbox.b![0] as Extract<Message, { type: 'appendRequest' }>;
    expect(received).not.toBe(message);
    expect(received.entries[0]).toEqual({ type: 'normal', term: 2, index: 1, data: new Uint8Array([1, 2, 3]) });
  });

  it('hands over the very object when clone is false', async () => {
    const c = await cluster(['a', 'b'], { clone: false });
    const message = heartbeat('a', 'b', 1);
    c.nodes.a!.send(message);
    drain(c);
    expect(c.inbox.b![0]).toBe(message);
  });

  it.each([
    ['null', null, 'the message is not an object'],
    ['a string', 'heartbeat', 'the message is not an object'],
    ['no type', { from: 'a', to: 'b', term: 1 }, 'unknown message type undefined'],
    ['a spoofed sender', { type: 'heartbeat', from: 'c', to: 'b', term: 1, commitIndex: 0 }, 'from is "c" but the sending endpoint is "a"'],
    ['no addressee', { type: 'heartbeat', from: 'a', term: 1, commitIndex: 0 }, 'heartbeat: from and to must be node ids'],
    ['a string term', { type: 'heartbeat', from: 'a', to: 'b', term: '1', commitIndex: 0 }, 'heartbeat: term must be an integer ≥ 0'],
    ['a negative term', { type: 'heartbeat', from: 'a', to: 'b', term: -1, commitIndex: 0 }, 'heartbeat: term must be an integer ≥ 0'],
    ['a function inside', { type: 'heartbeat', from: 'a', to: 'b', term: 1, commitIndex: () => 0 }, 'not structured-cloneable'],
  ])('drops and counts a malformed message: %s', async (_, value, problem) => {
    const c = await cluster(['a', 'b']);
    const problems: string[] = [];
    c.network.on('malformed', (event) => problems.push(`${event.endpoint}: ${event.problem}`));
    expect(() => c.nodes.a!.send(value as never)).not.toThrow();
    drain(c);
    expect(c.inbox.b).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`a: ${problem}`);
    expect(c.network.stats).toEqual({ sent: 1, delivered: 0, dropped: 1, duplicated: 0 });
  });

  it('reports a throwing handler through handlerError and keeps delivering', async () => {
    const clock = virtualClock();
    const network = memoryNetwork({ clock });
    const errors: unknown[] = [];
    network.on('handlerError', ({ error }) => errors.push(error));
    const received: number[] = [];
    await network.transport('b').start((message) => {
      received.push(commitIndexOf(message));
      if (commitIndexOf(message) === 1) throw new Error('handler bug');
    });
    const a = network.transport('a');
    await a.start(() => {});
    for (let i = 0; i < 3; i++) a.send(heartbeat('a', 'b', i));
    clock.advance(0);
    expect(received).toEqual([0, 1, 2]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('handler bug');
  });

  it('rethrows a handler error from a microtask when nobody listens for handlerError', async () => {
    const scheduled: (() => void)[] = [];
    vi.stubGlobal('queueMicrotask', (task: () => void) => scheduled.push(task));
    try {
      const clock = virtualClock();
      const network = memoryNetwork({ clock });
      await network.transport('b').start(() => {
        throw new Error('unobserved handler bug');
      });
      const a = network.transport('a');
      await a.start(() => {});
      a.send(heartbeat('a', 'b', 1));
      a.send(heartbeat('a', 'b', 2));
      expect(() => clock.advance(0)).not.toThrow();
      expect(network.stats.delivered).toBe(2);
      expect(scheduled).toHaveLength(2);
      expect(scheduled[0]).toThrow('unobserved handler bug');
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('survives a throwing latency function or event listener, reporting both', async () => {
    const c = await cluster(['a', 'b']);
    const errors: string[] = [];
    c.network.on('handlerError', ({ error }) => errors.push((error as Error).message));
    c.network.setLink('a', 'b', {
      latency: () => {
        throw new Error('latency bug');
      },
    });
    c.network.once('deliver', () => {
      throw new Error('listener bug');
    });
    expect(() => c.nodes.a!.send(heartbeat('a', 'b', 1))).not.toThrow();
    drain(c);
    expect(c.log).toEqual(['0 a→b 1']);
    expect(errors).toEqual(['latency bug', 'listener bug']);
  });

  it('reports deliveries with their send and arrival times', async () => {
    const c = await cluster(['a', 'b'], { defaultLink: { latency: 4 } });
    const deliveries: string[] = [];
    c.network.on('deliver', ({ at, sentAt, message }) => deliveries.push(`${sentAt}→${at} ${message.type}`));
    c.clock.advance(3);
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    drain(c);
    expect(deliveries).toEqual(['3→7 heartbeat']);
  });
});

describe('memoryNetwork: bad input', () => {
  it('rejects bad options with InvalidArgumentError', () => {
    expect(() => memoryNetwork({ maxQueuedPerLink: 0 })).toThrow(InvalidArgumentError);
    expect(() => memoryNetwork({ seed: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => memoryNetwork({ defaultLink: { loss: 2 } })).toThrow(InvalidArgumentError);
    expect(() => memoryNetwork({ clock: {} as never })).toThrow(InvalidArgumentError);
  });

  it('rejects an unknown option by name, as a JavaScript caller would pass it', () => {
    // `latency` belongs in defaultLink: silently ignoring it gave a fault-free network.
    const fromJavaScript = (init: unknown) => () => memoryNetwork(init as MemoryNetworkInit);
    expect(fromJavaScript({ latency: 5 })).toThrow(InvalidArgumentError);
    expect(fromJavaScript({ latency: 5 })).toThrow('memoryNetwork: unknown option "latency"; link faults go in defaultLink: { latency } or setLink()');
    expect(fromJavaScript({ seed: 3, loss: 0.1 })).toThrow('unknown option "loss"');
    expect(fromJavaScript({ maxQueued: 10 })).toThrow(
      'memoryNetwork: unknown option "maxQueued"; known options: clock, seed, defaultLink, clone, maxQueuedPerLink',
    );
    expect(fromJavaScript({ defaultLink: { lag: 2 } })).toThrow('unknown link fault "lag"');
    expect(() => virtualClock({ begin: 5 } as never)).toThrow('virtualClock: unknown option "begin"; known options: start');
    // Every documented option is still accepted.
    expect(memoryNetwork({ clock: virtualClock(), seed: 2, defaultLink: {}, clone: false, maxQueuedPerLink: 5 }).inFlight()).toBe(0);
  });

  it('leaves faults and partitions unchanged when given bad ones', async () => {
    const c = await cluster(['a', 'b', 'c'], { defaultLink: { latency: 2 } });
    c.network.setLink('a', 'b', { latency: 7 });
    c.network.partition(['a', 'b'], ['c']);
    expect(() => c.network.setLink('a', 'b', { latency: 1, loss: 3 })).toThrow(InvalidArgumentError);
    expect(() => c.network.setDefaultLink({ reorder: -1 })).toThrow(InvalidArgumentError);
    expect(() => c.network.partition(['a'], ['a', 'c'])).toThrow(/listed in two groups/);
    expect(() => c.network.partition(['a', ''])).toThrow(InvalidArgumentError);
    expect(() => c.network.transport('')).toThrow(InvalidArgumentError);
    expect(() => c.network.block('a', 7 as never)).toThrow(InvalidArgumentError);
    c.nodes.a!.send(heartbeat('a', 'b', 1));
    c.nodes.a!.send(heartbeat('a', 'c', 2));
    c.nodes.c!.send(heartbeat('c', 'a', 3));
    drain(c);
    expect(c.log).toEqual(['7 a→b 1']);
  });
});

describe('memoryNetwork: properties', () => {
  type Op =
    | { kind: 'send'; from: number; to: number }
    | { kind: 'advance'; ms: number }
    | { kind: 'partition'; split: number }
    | { kind: 'heal' }
    | { kind: 'restart'; node: number }
    | { kind: 'faults'; from: number; to: number; faults: LinkFaults };
  const ids = ['a', 'b', 'c'];
  const node = fc.integer({ min: 0, max: 2 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), from: node, to: fc.integer({ min: 0, max: 3 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 15 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), split: node }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('heal' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('faults' as const),
        from: node,
        to: node,
        faults: fc.record({
          latency: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant({ min: 0, max: 30 })),
          loss: fc.double({ min: 0, max: 0.5, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.5, noNaN: true }),
        }),
      }),
    },
  );

  it('keeps counters consistent and every link in send order, whatever happens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), fc.integer(), async (ops, seed) => {
        const clock = virtualClock();
        const network = memoryNetwork({ clock, seed });
        /** Highest sequence number each receiver has seen per sender: links are FIFO without reorder. */
        const highest = new Map<string, number>();
        let outOfOrder = 0;
        const handlerFor = (to: NodeId) => (message: Message) => {
          const key = `${message.from}→${to}`;
          if (commitIndexOf(message) < (highest.get(key) ?? -1)) outOfOrder++;
          highest.set(key, Math.max(highest.get(key) ?? -1, commitIndexOf(message)));
          if (message.to !== to) outOfOrder += 1000;
        };
        for (const id of ids) await network.transport(id).start(handlerFor(id));
        let sequence = 0;
        const invariant = () => {
          const s = network.stats;
          return s.sent + s.duplicated === s.delivered + s.dropped + network.inFlight();
        };
        for (const step of ops) {
          if (step.kind === 'send') {
            const from = ids[step.from]!;
            network.transport(from).send(heartbeat(from, ids[step.to] ?? 'ghost', sequence++));
          } else if (step.kind === 'advance') clock.advance(step.ms);
          else if (step.kind === 'partition') network.partition([ids[step.split]!]);
          else if (step.kind === 'heal') network.heal();
          else if (step.kind === 'restart') {
            const endpoint = network.transport(ids[step.node]!);
            await endpoint.stop();
            await endpoint.start(handlerFor(ids[step.node]!));
          } else network.setLink(ids[step.from]!, ids[step.to]!, step.faults);
          if (!invariant()) return false;
        }
        while (clock.runNext());
        return invariant() && network.inFlight() === 0 && outOfOrder === 0;
      }),
      { numRuns: 150, seed: 20231 },
    );
  });
});

describe('memoryNetwork: zero latency on the host clock', () => {
  /** Starts `ids` on the host's timers and records arrivals as `from→to commitIndex`. */
  async function realCluster(ids: NodeId[], init: MemoryNetworkInit = {}) {
    const network = memoryNetwork(init);
    const log: string[] = [];
    const nodes: Record<NodeId, Transport> = {};
    for (const id of ids) {
      nodes[id] = network.transport(id);
      await nodes[id].start((message) => log.push(`${message.from}→${message.to} ${commitIndexOf(message)}`));
    }
    return { network, nodes, log };
  }

  it('delivers on the next turn of the event loop (setImmediate, no 1 ms timer), in send order per link', async () => {
    const { network, nodes, log } = await realCluster(['a', 'b', 'c']);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const immediates = vi.spyOn(globalThis, 'setImmediate');
    try {
      for (let i = 1; i <= 3; i++) nodes.a!.send(heartbeat('a', 'b', i));
      nodes.c!.send(heartbeat('c', 'b', 9));
      expect(log).toEqual([]);
      expect(immediates).toHaveBeenCalledTimes(4);
      expect(timers).not.toHaveBeenCalled();
    } finally {
      timers.mockRestore();
      immediates.mockRestore();
    }
    // Immediates run in the order they were queued: this one runs after the four deliveries.
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a→b 1', 'a→b 2', 'a→b 3', 'c→b 9']);
    network.close();
  });

  it('relays 200 hops in a row without a single host timer', async () => {
    const network = memoryNetwork();
    const ping = network.transport('ping');
    const pong = network.transport('pong');
    let hops = 0;
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    await pong.start((message) => pong.send(heartbeat('pong', 'ping', commitIndexOf(message) + 1)));
    await ping.start((message) => {
      hops = commitIndexOf(message);
      if (hops >= 200) done();
      else ping.send(heartbeat('ping', 'pong', hops + 1));
    });
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      ping.send(heartbeat('ping', 'pong', 1));
      await finished;
      // With a timer per hop (the old 1 ms floor) this relay took 200 timer turns.
      expect(timers).not.toHaveBeenCalled();
    } finally {
      timers.mockRestore();
    }
    expect(hops).toBe(200);
    expect(network.stats).toMatchObject({ sent: 200, delivered: 200, dropped: 0 });
    network.close();
  });

  it('keeps a link in order when a zero-latency message follows a slower one', async () => {
    let draw = 0;
    // The first message takes 5 ms, the rest 0 ms: they must wait for it, not overtake it.
    const { network, nodes, log } = await realCluster(['a', 'b'], { defaultLink: { latency: () => (draw++ === 0 ? 5 : 0) } });
    for (let i = 1; i <= 3; i++) nodes.a!.send(heartbeat('a', 'b', i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['a→b 1', 'a→b 2', 'a→b 3']);
    network.close();
  });

  it('cancels zero-latency deliveries when the receiver stops or the network closes', async () => {
    const { network, nodes, log } = await realCluster(['a', 'b', 'c']);
    nodes.a!.send(heartbeat('a', 'b', 1));
    nodes.a!.send(heartbeat('a', 'c', 2));
    await nodes.b!.stop();
    network.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(log).toEqual([]);
    expect(network.stats).toMatchObject({ sent: 2, delivered: 0, dropped: 2 });
    expect(network.inFlight()).toBe(0);
  });
});
