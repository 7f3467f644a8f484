/**
 * Live mode against real `@greenraft/server` nodes (a weighted market cluster of three, in this
 * process, on loopback with OS-picked ports): every node's status, the leader, commit quorums,
 * the market's head, holdings, scores and blocks arrive through the subscriptions; leadership
 * transfer goes through the client API; a stopped node shows as down; the controls that need a
 * supervisor go to the backend, or are refused with a typed error.
 */
import { createClient } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { generateParticipantKeys, signTransaction } from '@greenraft/power-market';
import type { GreenraftServer } from '@greenraft/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MarketCluster, startMarketCluster } from '../../../test/live-cluster.js';
import { DashboardModel } from '../../model/model.js';
import { UnsupportedControlError } from '../source.js';
import { liveSource } from './live-source.js';

const IDS = ['n1', 'n2', 'n3'] as const;

async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let cluster: MarketCluster;
let servers: readonly GreenraftServer[] = [];
let urls: readonly string[] = [];

beforeAll(async () => {
  cluster = await startMarketCluster(IDS);
  servers = cluster.servers;
  urls = cluster.urls;
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

describe('the live source', () => {
  it('shows every node, the leader, commit quorums and the market, from the subscriptions', async () => {
    const model = new DashboardModel();
    const source = liveSource({ endpoints: urls, reconnectMs: 100 });
    // Without a supervisor: what the nodes' client API offers.
    expect(source.controls.supported).toEqual(new Set(['transferLeadership', 'setScoring', 'proposeTrade', 'runRound']));
    await source.start((event) => model.apply(event));
    try {
      const leader = await until(() => model.leader(), 'a leader');
      await until(() => model.nodes().filter((node) => node.up).length === 3, 'three nodes reporting');
      expect(model.nodes().map((node) => node.id).sort()).toEqual([...IDS]);
      expect(Object.keys(model.configInForce()!.voters).sort()).toEqual([...IDS]);

      // The market: registrations signed by each participant, submitted through any node.
      const client = createClient({ endpoints: urls });
      try {
        for (const [position, id] of IDS.entries()) {
          const keys = generateParticipantKeys();
          const kind = position === 0 ? 'consumption' : 'generation';
          await client.market.submit(signTransaction({ type: 'registerNode', signer: id, nonce: 1, kind, renewable: position === 1, publicKey: keys.publicKey }, keys.privateKey));
        }
      } finally {
        await client.close();
      }
      const blocks = await until(() => (model.market().blocks.length >= 3 ? model.market().blocks : undefined), 'three blocks');
      expect(blocks.flatMap((block) => block.transactions.map((tx) => tx.type))).toEqual(['registerNode', 'registerNode', 'registerNode']);
      expect(blocks.map((block) => block.transactions[0]!.summary)).toContain('n2 registers as a renewable generation node');
      expect(model.market().head?.height).toBe(3);
      await until(() => Object.keys(model.market().holdings).length === 3, 'holdings');
      expect(model.node('n1')?.kind).toBe('consumption');
      expect(model.node('n2')).toMatchObject({ kind: 'generation', renewable: true });
      await until(() => model.node('n3')?.scores !== undefined, 'scores');
      expect(model.node('n3')!.scores!.lineFaults).toBe(100);
      expect(model.strategy()).toBe('Paper, leader-election study (γ = 0)');
      const quorum = await until(() => model.quorums()[0], 'a commit quorum');
      expect(quorum.leader).toBe(model.leader()!.id);
      expect(quorum.acks[0]!.id).toBe(quorum.leader);
      expect(quorum.total).toBe(Object.values(model.configInForce()!.voters).reduce((a, b) => a + b, 0));
      await until(() => model.roundTrips().length > 0, 'round trips');
      await until(() => model.eventLoopLag().size > 0, 'event-loop lag');

      // Leadership moves through the client API, and every node says so.
      const target = IDS.find((id) => id !== leader.id)!;
      await source.controls.transferLeadership(target);
      await until(() => model.leader()?.id === target, `${target} to lead`);
      expect(model.leaderHistory().map((entry) => entry.leader)).toContain(target);

      // A node that goes away shows as down.
      const stopped = servers.find((server) => server.id !== target)!;
      await stopped.stop();
      await until(() => model.node(stopped.id)?.role === 'down', `${stopped.id} down`);
    } finally {
      await source.stop();
    }
  });

  it('hands process controls to a backend, and refuses them without one', async () => {
    const bare = liveSource({ endpoints: urls });
    await expect(bare.controls.crash('n1')).rejects.toBeInstanceOf(UnsupportedControlError);
    await expect(bare.controls.partition('n1', 'n2')).rejects.toThrow(/needs a supervisor/);
    // Not started: no node is up to trade through.
    await expect(bare.controls.runRound()).rejects.toThrow(/no node is up/);
    const calls: string[] = [];
    const supervised = liveSource({
      endpoints: urls,
      backend: {
        crash: async (node) => void calls.push(`crash ${node}`),
        heal: async () => void calls.push('heal'),
        runRound: async () => {
          calls.push('round');
          return { round: 7, contracts: 3, index: 99 };
        },
      },
    });
    expect([...supervised.controls.supported].sort()).toEqual(['crash', 'heal', 'proposeTrade', 'runRound', 'setScoring', 'transferLeadership']);
    await supervised.controls.crash('n2');
    await supervised.controls.heal();
    // The supervisor runs the rounds when it offers to.
    expect(await supervised.controls.runRound()).toEqual({ round: 7, contracts: 3, index: 99 });
    expect(calls).toEqual(['crash n2', 'heal', 'round']);
    expect(() => liveSource({ endpoints: [] })).toThrow(InvalidArgumentError);
    expect(() => liveSource({ endpoints: ['ftp://node'] })).toThrow(/http\(s\):\/\/ or ws\(s\):\/\//);
  });
});
