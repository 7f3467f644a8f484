/**
 * `market.submitOwn` and `admin.setScoring` on a real 3-node weighted market cluster whose nodes
 * hold their own participant keys: a node signs and submits its own transactions (a whole
 * trading round, settled with its settlement in the receipt), a retried submission lands once,
 * the strategy in force changes through the log, and bad input is refused before it is sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@greenraft/consensus';
import { generateParticipantKeys } from '@greenraft/power-market';
import { createServer, type GreenraftServer } from '@greenraft/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './cluster.test-utils.js';
import { BadRequestError, createClient, type GreenraftClient } from './index.js';

const IDS = ['g1', 'g2', 'c1'] as const;
let dir: string;
let servers: GreenraftServer[] = [];
const clients = new Map<string, GreenraftClient>();
/** A client of one node only: the node that answers a submitOwn is the one that signs. */
const own = (id: string) => clients.get(id)!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'greenraft-client-own-'));
  const any = { peerUrl: 'ws://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' };
  servers = IDS.map((id) => {
    const keyFile = join(dir, `${id}.pem`);
    writeFileSync(keyFile, generateParticipantKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    return createServer({
      id,
      clusterId: 'client-own',
      dataDir: join(dir, id),
      clusterSecret: 'a cluster secret for the client tests',
      peers: { [id]: any },
      stateMachine: 'market',
      policy: 'weighted',
      weighted: { electionTimeout: { baseMs: 300, stepMs: 30 } },
      market: { participantKeyFile: keyFile },
      raft: { tickMs: 15, electionTicks: 20, heartbeatTicks: 2 },
      log: { level: 'silent' },
      shutdown: { transferTimeoutMs: 1000, drainTimeoutMs: 1000 },
    });
  });
  const addresses = await Promise.all(servers.map((server) => server.listen()));
  for (const server of servers) server.setPeers(Object.fromEntries(IDS.map((id, i) => [id, addresses[i]!])));
  await Promise.all(servers.map((server) => server.start()));
  for (const [i, id] of IDS.entries()) clients.set(id, createClient({ endpoints: addresses[i]!.clientUrl, followLeader: false }));
  await until(() => servers.some((server) => server.status().role === 'leader'), 'a leader');
}, 60_000);

afterAll(async () => {
  await Promise.all([...clients.values()].map((client) => client.close()));
  await Promise.all(servers.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const day = { deliveryStart: Date.UTC(2025, 0, 2), deliveryEnd: Date.UTC(2025, 0, 3) };

describe('market.submitOwn', () => {
  it('has each node sign its own transactions, through a whole round whose receipt carries the settlement', async () => {
    const registered = await own('g1').market.submitOwn({ type: 'registerNode', kind: 'generation', renewable: true });
    expect(registered.receipt).toMatchObject({ type: 'registerNode', signer: 'g1' });
    await own('g2').market.submitOwn({ type: 'registerNode', kind: 'generation' });
    await own('c1').market.submitOwn({ type: 'registerNode', kind: 'consumption' });

    const full = await own('g1').market.submitOwn({ type: 'proposeContract', counterparty: 'c1', unitPrice: 0.6, contractedKWh: 1200, ...day });
    const short = await own('g2').market.submitOwn({ type: 'proposeContract', counterparty: 'c1', unitPrice: 0.6, contractedKWh: 300, ...day });
    const [a, b] = [full, short].map((answer) => (answer.receipt as { contractId: string }).contractId) as [string, string];
    expect(a).toMatch(/^g1\/\d+$/);
    for (const contractId of [a, b]) await own('c1').market.submitOwn({ type: 'acceptContract', contractId });
    await own('g1').market.submitOwn({ type: 'reportDelivery', contractId: a, meteredKWh: 1200 });
    await own('c1').market.submitOwn({ type: 'reportDelivery', contractId: a, meteredKWh: 1200 });
    await own('c1').market.submitOwn({ type: 'reportDelivery', contractId: b, meteredKWh: 300 });
    // g2 reports nothing on b: it defaults (eq. 32), c1 is compensated, g1 gets the rest (eq. 34).
    const settled = await own('c1').market.submitOwn({ type: 'settleRound', contractIds: [a, b] }, { idempotencyKey: 'settle-1' });
    const round = (settled.receipt as unknown as { round: { round: number; settlement: Settlement } }).round;
    expect(round.round).toBe(1);
    const { settlement } = round;
    expect(settlement.totalContractedKWh).toBe(1500);
    const [first, second] = settlement.contracts;
    // Metered in full on both sides: the seller gets 1200 kWh × U = 0.60 ¥ (eq. 26), the buyer pays U + G = 0.64 ¥ a kWh (eq. 27); milli-yuan.
    expect(first).toMatchObject({ id: a, generator: 'g1', consumer: 'c1', contractedKWh: 1200, generatedKWh: 1200, consumedKWh: 1200, generatorRevenue: 720_000, consumerExpense: 768_000, generatorPenalty: 0 });
    expect(second).toMatchObject({ id: b, generatorDefaulted: true, consumerDefaulted: false, generatedKWh: null, consumedKWh: 300 });
    expect(second!.generatorPenalty).toBeGreaterThan(0);
    expect(second!.compensationToConsumer + second!.allocatedToOthers).toBe(second!.generatorPenalty);
    const byNode = Object.fromEntries(settlement.nodes.map((node) => [node.id, node]));
    expect(byNode.g2!.penalty).toBe(second!.generatorPenalty);
    expect(byNode.c1!.compensation).toBe(second!.compensationToConsumer);
    expect(byNode.g1!.allocation).toBe(second!.allocatedToOthers);
    // Money is conserved: the nodes' changes and the grid's sum to zero.
    expect(settlement.nodes.reduce((sum, node) => sum + node.balanceChange, 0) + settlement.gridBalanceChange).toBe(0);

    // Retried with its idempotency key: the first receipt back, one settlement.
    const again = await own('c1').market.submitOwn({ type: 'settleRound', contractIds: [a, b] }, { idempotencyKey: 'settle-1' });
    expect(again).toEqual(settled);
    expect(await own('g1').market.query('head', { consistency: 'linearizable' })).toMatchObject({ round: 1 });
  });

  it('refuses a transaction that names its signer or nonce, or has no type, before sending it', async () => {
    await expect(own('g1').market.submitOwn({ type: 'recordCarbon', signer: 'c1' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(own('g1').market.submitOwn({ type: 'recordCarbon', nonce: 5 })).rejects.toThrow(/must not carry signer or nonce/);
    await expect(own('g1').market.submitOwn({ kind: 'generation' })).rejects.toThrow(/transaction.type/);
    await expect(own('g1').market.submitOwn([] as unknown as Record<string, unknown>)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('admin.setScoring', () => {
  it('puts a strategy in force through the log, on every node, and refuses an unknown one', async () => {
    const answer = (await own('g2').admin.setScoring('paper', '1', { participationFactorGeneration: 0.3, participationFactorConsumption: 0.3 })) as { scoring: unknown; index: number };
    expect(answer.scoring).toEqual({ name: 'paper', version: '1', params: { participationFactorGeneration: 0.3, participationFactorConsumption: 0.3 } });
    expect(answer.index).toBeGreaterThan(0);
    await until(() => servers.every((server) => JSON.stringify((server.status().scoring as { params?: unknown }).params) === JSON.stringify({ participationFactorGeneration: 0.3, participationFactorConsumption: 0.3 })), 'the strategy on every node');
    await own('c1').admin.setScoring('uniform', '1');
    await until(() => servers.every((server) => (server.status().scoring as { name: string }).name === 'uniform'), 'uniform on every node');
    await expect(own('g1').admin.setScoring('no-such', '1')).rejects.toBeInstanceOf(BadRequestError);
    await expect(own('g1').admin.setScoring('', '1')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(own('g1').admin.setScoring('paper', '1', [] as unknown as Record<string, unknown>)).rejects.toThrow(/params must be an object/);
  });
});

interface Settlement {
  totalContractedKWh: number;
  gridBalanceChange: number;
  contracts: {
    id: string;
    generatorPenalty: number;
    compensationToConsumer: number;
    allocatedToOthers: number;
    [field: string]: unknown;
  }[];
  nodes: { id: string; penalty: number; compensation: number; allocation: number; balanceChange: number }[];
}
