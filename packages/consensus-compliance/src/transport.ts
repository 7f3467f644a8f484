import { InvalidArgumentError, TransportError } from '@greenraft/consensus';
import type { HeartbeatRequest, Message, NodeId, Transport } from '@greenraft/consensus';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGE_TYPES } from '@greenraft/consensus';
import { everyMessageType } from './transport-messages.js';

export { everyMessageType } from './transport-messages.js';

/** What a transport implementation hands the suite for each test. */
export interface TransportComplianceHarness {
  /** At least two endpoints with distinct ids that can reach each other, none started yet. */
  readonly endpoints: readonly Transport[];
  /** Resolves once every message sent so far has arrived or been dropped (e.g. advance a virtual clock, or wait for queues to drain). */
  flush(): Promise<void>;
  /** Releases what `setup` made (sockets, servers, timers). Called after every endpoint is stopped. */
  close?(): Promise<void> | void;
}

/** Options of {@link transportCompliance}. */
export interface TransportComplianceInit {
  /** Builds fresh, unstarted endpoints for one test. */
  setup(): Promise<TransportComplianceHarness> | TransportComplianceHarness;
  /**
   * Runs after each test, once the suite has stopped every endpoint and called `close`.
   * @default undefined (nothing to release beyond the harness's `close`)
   */
  teardown?(harness: TransportComplianceHarness): Promise<void> | void;
  /**
   * Names the implementation in the suite's title.
   * @default 'transport'
   */
  name?: string;
}

/**
 * Registers the vitest suite every greenraft {@link Transport} must pass: every message type
 * arrives with its fields intact, per-peer order on a fault-free link, delivery only to the
 * addressee and never inside `send`, no throw for an unknown peer, nothing delivered after
 * `stop()`, `send` a no-op once stopped, and a second `start` rejecting with `TransportError`.
 *
 * @example
 * ```ts
 * // memory.spec.test.ts
 * import { transportCompliance } from '@greenraft/consensus-compliance';
 * import { memoryNetwork, virtualClock } from '@greenraft/transport-memory';
 *
 * transportCompliance({
 *   name: 'memory transport',
 *   setup: () => {
 *     const clock = virtualClock();
 *     const network = memoryNetwork({ clock });
 *     return {
 *       endpoints: ['a', 'b', 'c'].map((id) => network.transport(id)),
 *       flush: async () => { while (clock.runNext()); },
 *       close: () => network.close(),
 *     };
 *   },
 * });
 * ```
 */
export function transportCompliance(init: TransportComplianceInit): void {
  if (typeof init?.setup !== 'function') throw new InvalidArgumentError('transportCompliance: setup must be a function');
  describe(`Transport compliance: ${init.name ?? 'transport'}`, () => {
    let harness: TransportComplianceHarness;
    /** What each endpoint's handler received, by endpoint index. */
    let inboxes: Message[][];

    beforeEach(async () => {
      harness = await init.setup();
      if (harness.endpoints.length < 2) throw new InvalidArgumentError('transportCompliance: setup must return at least two endpoints');
      inboxes = harness.endpoints.map(() => []);
    });

    afterEach(async () => {
      for (const endpoint of harness.endpoints) await endpoint.stop();
      await harness.close?.();
      await init.teardown?.(harness);
    });

    const startAll = async (): Promise<void> => {
      for (const [i, endpoint] of harness.endpoints.entries()) await endpoint.start((message) => inboxes[i]!.push(message));
    };
    const heartbeat = (from: NodeId, to: NodeId, commitIndex: number): HeartbeatRequest => ({ type: 'heartbeat', from, to, term: 1, commitIndex });
    const ids = (): NodeId[] => harness.endpoints.map((endpoint) => endpoint.localId);

    it('gives every endpoint a distinct, non-empty id', () => {
      const localIds = ids();
      for (const id of localIds) expect(typeof id === 'string' && id.length > 0).toBe(true);
      expect(new Set(localIds).size).toBe(localIds.length);
    });

    it('delivers every message type with every field intact', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      const sent = everyMessageType(a.localId, b.localId);
      expect(sent.map((message) => message.type)).toEqual(MESSAGE_TYPES);
      for (const message of sent) a.send(message);
      await harness.flush();
      expect(inboxes[1]).toEqual(everyMessageType(a.localId, b.localId));
      expect(inboxes[0]).toEqual([]);
    });

    it('keeps per-peer order on a fault-free link', async () => {
      await startAll();
      const [a, ...peers] = harness.endpoints as [Transport, ...Transport[]];
      const count = 200;
      // Interleave sends to every peer: order must hold per peer, whatever the order across peers.
      for (let i = 1; i <= count; i++) for (const peer of peers) a.send(heartbeat(a.localId, peer.localId, i));
      await harness.flush();
      const expected = Array.from({ length: count }, (_, i) => i + 1);
      for (const [p, peer] of peers.entries()) {
        const received = inboxes[p + 1]!.map((message) => {
          expect(message.from).toBe(a.localId);
          expect(message.to).toBe(peer.localId);
          return (message as HeartbeatRequest).commitIndex;
        });
        expect(received).toEqual(expected);
      }
    });

    it('delivers each message only to its addressee, never back to the sender', async () => {
      await startAll();
      const endpoints = harness.endpoints;
      for (const [s, sender] of endpoints.entries()) {
        for (const [r, receiver] of endpoints.entries()) if (r !== s) sender.send(heartbeat(sender.localId, receiver.localId, 100 * s + r));
      }
      await harness.flush();
      for (const [r, receiver] of endpoints.entries()) {
        const expected = endpoints.flatMap((sender, s) => (s === r ? [] : [heartbeat(sender.localId, receiver.localId, 100 * s + r)]));
        const byCommitIndex = (x: Message, y: Message) => (x as HeartbeatRequest).commitIndex - (y as HeartbeatRequest).commitIndex;
        expect([...inboxes[r]!].sort(byCommitIndex)).toEqual(expected);
      }
    });

    it('never delivers inside send', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      a.send(heartbeat(a.localId, b.localId, 1));
      // A transport that calls the handler synchronously would re-enter the node mid-step.
      expect(inboxes[1]).toEqual([]);
      await harness.flush();
      expect(inboxes[1]).toEqual([heartbeat(a.localId, b.localId, 1)]);
    });

    it('does not throw when sending to an unknown peer, and keeps working', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      const unknown = `${a.localId}-no-such-peer`;
      expect(() => a.send(heartbeat(a.localId, unknown, 1))).not.toThrow();
      a.send(heartbeat(a.localId, b.localId, 2));
      await harness.flush();
      expect(inboxes[1]).toEqual([heartbeat(a.localId, b.localId, 2)]);
      expect(inboxes[0]).toEqual([]);
    });

    it('delivers nothing to an endpoint once its stop() has resolved', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      for (let i = 1; i <= 10; i++) a.send(heartbeat(a.localId, b.localId, i));
      await b.stop();
      // Messages in flight at stop may have arrived before it resolved, never after.
      const receivedBeforeStop = inboxes[1]!.length;
      for (let i = 11; i <= 20; i++) a.send(heartbeat(a.localId, b.localId, i));
      await harness.flush();
      expect(inboxes[1]!.length).toBe(receivedBeforeStop);
      expect(receivedBeforeStop).toBeLessThanOrEqual(10);
    });

    it('makes send a no-op on a stopped endpoint', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      await a.stop();
      expect(() => a.send(heartbeat(a.localId, b.localId, 1))).not.toThrow();
      await harness.flush();
      expect(inboxes[1]).toEqual([]);
      // A stopped endpoint does not receive either.
      b.send(heartbeat(b.localId, a.localId, 2));
      await harness.flush();
      expect(inboxes[0]).toEqual([]);
    });

    it('rejects a second start with TransportError and keeps the first handler', async () => {
      await startAll();
      const [a, b] = harness.endpoints as [Transport, Transport];
      const intruder: Message[] = [];
      const second = b.start((message) => intruder.push(message));
      await expect(second).rejects.toBeInstanceOf(TransportError);
      await expect(second).rejects.toMatchObject({ code: 'TRANSPORT' });
      a.send(heartbeat(a.localId, b.localId, 1));
      await harness.flush();
      expect(inboxes[1]).toEqual([heartbeat(a.localId, b.localId, 1)]);
      expect(intruder).toEqual([]);
    });

    it('lets stop() be called twice', async () => {
      await startAll();
      const [a] = harness.endpoints as [Transport];
      await expect(a.stop()).resolves.toBeUndefined();
      await expect(a.stop()).resolves.toBeUndefined();
    });
  });
}
