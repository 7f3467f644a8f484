/**
 * An in-process greenraft `Transport` (from `@greenraft/consensus`) with fault injection: per-link latency, loss,
 * duplication and reordering, symmetric partitions, one-way cuts and isolation, on the host's
 * timers or a virtual clock. Under a virtual clock and a seed the whole network is
 * deterministic, which is what the simulator and the driver tests build on.
 *
 * @example
 * ```ts
 * import { memoryNetwork, virtualClock } from '@greenraft/transport-memory';
 * import type { Message } from '@greenraft/consensus';
 *
 * const clock = virtualClock();
 * const network = memoryNetwork({ clock, seed: 42, defaultLink: { latency: 2 } });
 * const received: string[] = [];
 * const nodes = ['a', 'b', 'c'].map((id) => network.transport(id));
 * for (const node of nodes) {
 *   await node.start((m: Message) => received.push(`${m.from}→${m.to} ${m.type}`));
 * }
 * const heartbeat = (from: string, to: string): Message => ({ type: 'heartbeat', from, to, term: 1, commitIndex: 0 });
 *
 * nodes[0]!.send(heartbeat('a', 'b'));
 * nodes[0]!.send(heartbeat('a', 'c'));
 * clock.advance(10);
 * console.log(received); // ['a→b heartbeat', 'a→c heartbeat']
 *
 * network.partition(['a'], ['b', 'c']); // a is cut off from b and c, both ways
 * nodes[0]!.send(heartbeat('a', 'b'));
 * nodes[1]!.send(heartbeat('b', 'c'));
 * clock.advance(10);
 * console.log(received.at(-1), network.stats.dropped); // 'b→c heartbeat' 1
 * network.heal();
 * ```
 *
 * @packageDocumentation
 */
export { realClock, virtualClock } from './clock.js';
export type { Clock, VirtualClock, VirtualClockInit } from './clock.js';
export { memoryNetwork } from './network.js';
export type { DropReason, MemoryNetwork, MemoryNetworkEvents, MemoryNetworkInit, MemoryNetworkStats } from './network.js';
export type { Latency, LinkFaults } from './faults.js';
export { seededRandom } from '@greenraft/consensus';
