/**
 * Live mode against real `@greenraft/server` nodes (a weighted market cluster of three, in this
 * process, on loopback with OS-picked ports): every node's status, the leader, commit quorums,
 * the market's head, holdings, scores and blocks arrive through the subscriptions; leadership
 * transfer goes through the client API; every new term counts as an election, however briefly a
 * candidate was one; a stopped node shows as down; the controls that need a supervisor go to the
 * backend, or are refused with a typed error; and the page's runner logs each control's outcome
 * once, saying what was done to which node.
 */
import { createClient } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { controlRunner, controlRuns } from '../../control-runs.js';
import { generateParticipantKeys, signTransaction } from '@greenraft/power-market';
import type { GreenraftServer } from '@greenraft/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MarketCluster, startMarketCluster } from '../../../test/live-cluster.js';
import type { DashboardEvent } from '../../model/events.js';
import { DashboardModel } from '../../model/model.js';
import { ControlFailedError, UnsupportedControlError } from '../source.js';
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

/** The runner the page uses, logging into `model`; `status()` is the status line's latest text. */
function pageRunner(model: DashboardModel) {
  let line = '';
  const run = controlRunner(
    (text) => {
      line = text;
    },
    (level, text) => model.apply({ type: 'log', at: Date.now(), level, text }),
  );
  return { run, status: () => line };
}

/** The activity log, oldest first, as `level text`. */
const logLines = (model: DashboardModel) => [...model.log()].reverse().map((line) => `${line.level} ${line.text}`);

describe('the live source', () => {
  it('shows every node, the leader, commit quorums and the market, from the subscriptions', async () => {
    const model = new DashboardModel();
    const source = liveSource({ endpoints: urls, reconnectMs: 100 });
    // Without a supervisor: what the nodes' client API offers.
    expect(source.controls.supported).toEqual(new Set(['transferLeadership', 'setScoring', 'proposeTrade', 'runRound']));
    // Every term any node reported, the count the model's elections must match.
    const terms = new Set<number>();
    const noteTerm = (event: DashboardEvent) => {
      if ((event.type === 'status' || event.type === 'leader' || event.type === 'commitQuorum' || event.type === 'election') && event.term > 0) terms.add(event.term);
    };
    await source.start((event) => {
      noteTerm(event);
      model.apply(event);
    });
    const { run, status } = pageRunner(model);
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

      // Leadership moves through the client API, and every node says so; the outcome is logged once.
      const before = model.elections();
      expect(before.elections).toBe(terms.size);
      const target = IDS.find((id) => id !== leader.id)!;
      expect(await run(controlRuns.transferLeadership(source.controls, target))).toBe(true);
      expect(logLines(model)).toEqual([`info Leadership handed to ${target}.`]);
      expect(status()).toBe(`Leadership handed to ${target}.`);
      await until(() => model.leader()?.id === target, `${target} to lead`);
      expect(model.leaderHistory().map((entry) => entry.leader)).toContain(target);
      // The target campaigned in a new term: an election, caught as a candidate or not.
      const handed = await until(() => (model.elections().elections > before.elections ? model.elections() : undefined), 'the election to count');
      expect(handed.elections).toBe(terms.size);
      expect(handed.led).toBeGreaterThan(before.led);

      // A leader that goes away shows as down, and the others elect one of themselves in a later term.
      const stopped = servers.find((server) => server.id === target)!;
      const termBefore = model.term();
      await stopped.stop();
      await until(() => model.node(stopped.id)?.role === 'down', `${stopped.id} down`);
      const successor = await until(() => {
        const now = model.leader();
        return now !== undefined && now.id !== stopped.id && now.term > termBefore ? now : undefined;
      }, 'a new leader');
      const after = model.elections();
      expect(after.elections).toBeGreaterThan(handed.elections);
      expect(after.elections).toBe(terms.size);
      expect(model.leaderHistory().at(-1)).toMatchObject({ term: successor.term, leader: successor.id });
      // Nothing else was logged: the source logs no control of its own.
      expect(logLines(model)).toEqual([`info Leadership handed to ${target}.`]);
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

  it('logs every control\u2019s outcome once, success or failure, with what was done to which node', async () => {
    const calls: string[] = [];
    const source = liveSource({
      endpoints: urls,
      reconnectMs: 100,
      backend: {
        crash: async (node) => void calls.push(`crash ${node}`),
        restart: async (node) => {
          calls.push(`restart ${node}`);
          throw new ControlFailedError('restart', `${node} is running`);
        },
        partition: async (a, b) => void calls.push(`partition ${a} ${b}`),
        heal: async (a, b) => void calls.push(a === undefined ? 'heal' : `heal ${a} ${b}`),
        proposeTrade: async (trade) => {
          calls.push(`trade ${trade.seller} ${trade.buyer}`);
          return { contractId: `${trade.seller}/4`, index: 41, blockHeight: 9 };
        },
        runRound: async () => {
          calls.push('round');
          return { round: 3, contracts: 2, index: 57, dropped: 1 };
        },
        setScoring: async (choice) => void calls.push(`scoring ${choice}`),
      },
    });
    const model = new DashboardModel();
    // Started, so a line the source logged itself would show here too.
    await source.start((event) => model.apply(event));
    try {
      const { run, status } = pageRunner(model);
      const { controls } = source;
      const steps = [
        [controlRuns.crash(controls, 'n1'), 'info n1 crashed; its storage is kept.'],
        [controlRuns.restart(controls, 'n1'), 'warn Restarting n1 failed (CONTROL_FAILED): n1 is running'],
        [controlRuns.partition(controls, 'n1', 'n3'), 'info The link n1 ↔ n3 is cut.'],
        [controlRuns.heal(controls, 'n1', 'n3'), 'info The link n1 ↔ n3 is healed.'],
        [controlRuns.partition(controls, 'n2', 'n3'), 'info The link n2 ↔ n3 is cut.'],
        [controlRuns.heal(controls), 'info Every link is healed.'],
        [controlRuns.proposeTrade(controls, { seller: 'n2', buyer: 'n1', kWh: 120, unitPrice: 0.55 }), 'info Trade n2/4 is in block 9 (index 41): n2 sells n1 120 kWh at 0.55 ¥/kWh.'],
        [controlRuns.runRound(controls), 'info Round 3 settled: 2 contracts (index 57); 1 planned could not be made.'],
        [controlRuns.setScoring(controls, 'uniform'), 'info Strategy Uniform (classic Raft) is in force; the next epoch scores with it.'],
      ] as const;
      const expected: string[] = [];
      for (const [step, line] of steps) {
        expect(await run(step)).toBe(line.startsWith('info'));
        expected.push(line);
        expect(logLines(model)).toEqual(expected);
        expect(status()).toBe(line.slice(5));
      }
      // The nodes refuse to hand leadership to a node they do not have.
      expect(await run(controlRuns.transferLeadership(controls, 'n9'))).toBe(false);
      expect(logLines(model).slice(0, -1)).toEqual(expected);
      expect(logLines(model).at(-1)).toMatch(/^warn Handing leadership to n9 failed \(CONTROL_FAILED\): the cluster could not hand leadership to n9: ./);
      expect(calls).toEqual(['crash n1', 'restart n1', 'partition n1 n3', 'heal n1 n3', 'partition n2 n3', 'heal', 'trade n2 n1', 'round', 'scoring uniform']);
    } finally {
      await source.stop();
    }

    // Without a supervisor the process controls are refused, and the refusal is logged.
    const bare = new DashboardModel();
    const { run } = pageRunner(bare);
    expect(await run(controlRuns.crash(liveSource({ endpoints: urls }).controls, 'n2'))).toBe(false);
    expect(logLines(bare)).toEqual(["warn Crashing n2 failed (UNSUPPORTED_CONTROL): crash needs a supervisor of the node processes; this page talks to the nodes' client API only"]);
  });
});
