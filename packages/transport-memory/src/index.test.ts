import type { Message } from '@greenraft/consensus';
import { expect, it, vi } from 'vitest';
import { memoryNetwork, virtualClock } from './index.js';

// The @packageDocumentation example of index.ts and the README, run as written.
it('runs the package example and prints what its comments say', async () => {
  const printed: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(structuredClone(args)));
  try {
    const clock = virtualClock();
    const network = memoryNetwork({ clock, seed: 42, defaultLink: { latency: 2 } });
    const received: string[] = [];
    const nodes = ['a', 'b', 'c'].map((id) => network.transport(id));
    for (const node of nodes) {
      await node.start((m: Message) => received.push(`${m.from}→${m.to} ${m.type}`));
    }
    const heartbeat = (from: string, to: string): Message => ({ type: 'heartbeat', from, to, term: 1, commitIndex: 0 });

    nodes[0]!.send(heartbeat('a', 'b'));
    nodes[0]!.send(heartbeat('a', 'c'));
    clock.advance(10);
    console.log(received);

    network.partition(['a'], ['b', 'c']);
    nodes[0]!.send(heartbeat('a', 'b'));
    nodes[1]!.send(heartbeat('b', 'c'));
    clock.advance(10);
    console.log(received.at(-1), network.stats.dropped);
    network.heal();
  } finally {
    log.mockRestore();
  }
  expect(printed).toEqual([[['a→b heartbeat', 'a→c heartbeat']], ['b→c heartbeat', 1]]);
});
