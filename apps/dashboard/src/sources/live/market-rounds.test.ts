/**
 * Trading through the client API alone, on real `@greenraft/server` nodes that hold their own
 * participant keys: the participants register (each signed by its own node), the live source's
 * "Run a trading round" settles a round whose settlement reaches the model from the receipt, a
 * proposed trade shows in the ledger and is settled by the next round, the scoring strategy
 * changes through the log, and bad input is refused with typed errors.
 */
import { createClient, type GreenraftClient } from '@greenraft/client';
import { InvalidArgumentError } from '@greenraft/consensus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MarketCluster, startMarketCluster } from '../../../test/live-cluster.js';
import { controlRunner, controlRuns } from '../../control-runs.js';
import { DashboardModel } from '../../model/model.js';
import type { DataSource } from '../source.js';
import { liveSource } from './live-source.js';
import { marketRoster, marketRounds } from './market-rounds.js';

const IDS = ['g1', 'g2', 'c1'] as const;

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
let model: DashboardModel;
let source: DataSource;
const clients = new Map<string, GreenraftClient>();

beforeAll(async () => {
  cluster = await startMarketCluster(IDS, { participantKeys: true });
  for (const [i, id] of IDS.entries()) clients.set(id, createClient({ endpoints: cluster.urls[i]!, followLeader: false }));
  // The participants register as a supervisor registers them: each node signs its own registration.
  const registrar = marketRounds({ nodeClient: (id) => clients.get(id), reader: () => clients.get('g1') });
  expect(await registrar.register(marketRoster(IDS))).toBe(3);
  expect(await registrar.register(marketRoster(IDS))).toBe(0);
  expect(await registrar.participants()).toEqual([
    { id: 'c1', kind: 'consumption', renewable: false },
    { id: 'g1', kind: 'generation', renewable: true },
    { id: 'g2', kind: 'generation', renewable: false },
  ]);
  model = new DashboardModel();
  source = liveSource({ endpoints: cluster.urls, reconnectMs: 100, marketDebounceMs: 50 });
  await source.start((event) => model.apply(event));
  await until(() => model.nodes().filter((node) => node.up).length === 3 && model.leader(), 'three nodes and a leader');
}, 60_000);

afterAll(async () => {
  await source?.stop();
  await Promise.all([...clients.values()].map((client) => client.close()));
  await cluster?.close();
});

describe('trading rounds through the client API', () => {
  it('offers trades, rounds and scoring without a supervisor, but not processes or links', () => {
    expect([...source.controls.supported].sort()).toEqual(['proposeTrade', 'runRound', 'setScoring', 'transferLeadership']);
  });

  it('settles a round whose settlement reaches the model from the receipt', async () => {
    const result = await source.controls.runRound();
    expect(result.round).toBe(1);
    expect(result.contracts).toBe(2); // one per generator
    const round = await until(() => model.market().round, 'the round in the model');
    expect(round.round).toBe(1);
    expect(round.contracts.map((contract) => contract.generator).sort()).toEqual(['g1', 'g2']);
    expect(round.totalContractedKWh).toBe(round.contracts.reduce((sum, contract) => sum + contract.contractedKWh, 0));
    for (const contract of round.contracts) {
      expect(contract.consumer).toBe('c1');
      expect(contract.generatedKWh).toBeGreaterThan(0);
      expect(contract.generatorRevenue).toBeGreaterThan(0);
    }
    expect(round.nodes.map((node) => node.id).sort()).toEqual(['c1', 'g1', 'g2']);
    // Each node's net change is its revenue or expense, less penalties, plus compensations and allocations (eq. 26–34).
    for (const node of round.nodes) {
      const own = round.contracts.filter((contract) => contract.generator === node.id || contract.consumer === node.id);
      const trade = own.reduce((sum, contract) => sum + (contract.generator === node.id ? contract.generatorRevenue : -contract.consumerExpense), 0);
      expect(node.balanceChange, node.id).toBe(trade - node.penalty + node.compensation + node.allocation);
    }
    // The ledger holds the round's transactions, each signed by its own node.
    await until(() => model.market().blocks.some((block) => block.transactions.some((tx) => tx.type === 'settleRound')), 'the settlement in the ledger');
    const types = new Set(model.market().blocks.flatMap((block) => block.transactions.map((tx) => `${tx.signer}:${tx.type}`)));
    for (const expected of ['g1:proposeContract', 'c1:acceptContract', 'g2:reportDelivery', 'c1:reportDelivery', 'c1:settleRound', 'g1:recordCarbon']) expect(types).toContain(expected);
  });

  it('shows a proposed trade in the ledger, and the next round settles it', async () => {
    const trade = await source.controls.proposeTrade({ seller: 'g2', buyer: 'c1', kWh: 321, unitPrice: 0.61 });
    expect(trade.contractId).toMatch(/^g2\/\d+$/);
    expect(trade.blockHeight).toBeGreaterThan(0);
    await until(() => model.market().blocks.some((block) => block.transactions.some((tx) => tx.summary === `g2 offers c1 321 kWh at 0.61 ¥/kWh (contract ${trade.contractId})`)), 'the offer in the ledger');
    const next = await source.controls.runRound();
    expect(next).toMatchObject({ round: 2, contracts: 3 });
    const round = await until(() => (model.market().round?.round === 2 ? model.market().round : undefined), 'round 2 in the model');
    expect(round.contracts.find((contract) => contract.id === trade.contractId)).toMatchObject({ contractedKWh: 321, generatedKWh: 321, consumedKWh: 321, generatorPenalty: 0, consumerPenalty: 0 });
  });

  it('changes the scoring strategy through the log, on every node', async () => {
    await source.controls.setScoring('uniform');
    for (const server of cluster.servers) await until(() => (server.status().scoring as { name: string }).name === 'uniform', `${server.id} to score uniformly`);
    await until(() => model.strategy() === 'Uniform (classic Raft)', 'the page to show the strategy');
    await source.controls.setScoring('paper-election');
  });

  it('logs each trading control\u2019s outcome once, through the page\u2019s runner', async () => {
    const from = model.log().length;
    const run = controlRunner(
      () => undefined,
      (level, text) => model.apply({ type: 'log', at: Date.now(), level, text }),
    );
    const lines = () => model.log().slice(0, model.log().length - from).reverse().map((line) => `${line.level} ${line.text}`);
    expect(from).toBe(0); // the controls above logged nothing by themselves
    expect(await run(controlRuns.proposeTrade(source.controls, { seller: 'g1', buyer: 'c1', kWh: 123, unitPrice: 0.5 }))).toBe(true);
    expect(await run(controlRuns.runRound(source.controls))).toBe(true);
    expect(await run(controlRuns.setScoring(source.controls, 'paper-consensus'))).toBe(true);
    expect(await run(controlRuns.proposeTrade(source.controls, { seller: 'c1', buyer: 'g1', kWh: 10, unitPrice: 0.5 }))).toBe(false);
    const [trade, round, scoring, refused, ...more] = lines();
    expect(trade).toMatch(/^info Trade g1\/\d+ is in block \d+ \(index \d+\): g1 sells c1 123 kWh at 0.5 ¥\/kWh\.$/);
    expect(round).toMatch(/^info Round 3 settled: 3 contracts \(index \d+\)\.$/);
    expect(scoring).toBe('info Strategy Paper, consensus-time study (γ = 0.3) is in force; the next epoch scores with it.');
    expect(refused).toMatch(/^warn Proposing 10 kWh from c1 to g1 failed \(INVALID_ARGUMENT\): proposeTrade: /);
    expect(more).toEqual([]);
    await run(controlRuns.setScoring(source.controls, 'paper-election'));
  });

  it('refuses bad trades and strategies with typed errors, and changes nothing', async () => {
    // The nodes keep recording participation, so the ledger grows meanwhile: what must not change
    // is what the refused controls would have changed, the contracts and the strategy in force.
    const reader = clients.get('g1')!;
    const state = async () => {
      const [contracts, status] = await Promise.all([reader.market.query('contracts', { consistency: 'linearizable' }), reader.status()]);
      return JSON.stringify({ contracts, scoring: (status as { scoring?: unknown }).scoring });
    };
    const before = await state();
    expect(before).toContain('g1/');
    await expect(source.controls.proposeTrade({ seller: 'c1', buyer: 'g1', kWh: 10, unitPrice: 0.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(source.controls.proposeTrade({ seller: 'g1', buyer: 'c1', kWh: 10, unitPrice: 0.9 })).rejects.toThrow(/unit price must lie in \[0.4, 0.71\]/);
    await expect(source.controls.proposeTrade({ seller: 'g1', buyer: 'c1', kWh: 0, unitPrice: 0.5 })).rejects.toThrow(/kWh must be a number/);
    await expect(source.controls.setScoring('nope')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(source.controls.crash('g1')).rejects.toThrow(/needs a supervisor/);
    expect(await state()).toBe(before);
  });
});

describe('marketRoster', () => {
  it('makes about three in five generators (the last a fossil plant) and the rest consumers', () => {
    const kinds = (n: number) => marketRoster(Array.from({ length: n }, (_, i) => `n${i + 1}`)).map((p) => (p.kind === 'consumption' ? 'C' : p.renewable ? 'R' : 'G')).join('');
    expect([1, 2, 3, 4, 5, 7, 10].map(kinds)).toEqual(['R', 'RC', 'RGC', 'RRGC', 'RRGCC', 'RRRRGCC', 'RRRRRGCCCC']);
  });
});
