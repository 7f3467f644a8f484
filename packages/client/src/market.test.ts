/**
 * `@greenraft/client/market` on a real 3-node market cluster: a participant's transactions
 * signed and submitted in one call, a trading round from registration to settlement, queries,
 * a forged signature refused with its reason, and a submission retried after a dropped connection
 * applied once (one transaction in the ledger).
 */
import { generateParticipantKeys, marketClient, toYuan } from '@greenraft/power-market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './cluster.test-utils.js';
import { type CutLog, cuttingWebSocket } from './cutting-websocket.test-utils.js';
import { createClient, type GreenraftClient, RejectedError } from './index.js';
import { tradingClient, transactionIdempotencyKey } from './market.js';

let cluster: Cluster;
let client: GreenraftClient;

beforeAll(async () => {
  cluster = await startCluster({ config: { stateMachine: 'market' } });
  await cluster.leader();
  client = createClient({ endpoints: cluster.urls() });
});

afterAll(async () => {
  await client?.close();
  await cluster?.close();
});

const day = Date.UTC(2024, 0, 2);

describe('tradingClient', () => {
  it('runs a trading round: register, contract, delivery, settlement; balances move by the contract', async () => {
    const solar = tradingClient({ client, id: 'solar-farm', keys: generateParticipantKeys() });
    const mill = tradingClient({ client, id: 'paper-mill', keys: generateParticipantKeys() });
    const registered = await solar.register({ kind: 'generation', renewable: true });
    expect(registered.receipt).toMatchObject({ type: 'registerNode', signer: 'solar-farm', nonce: 1 });
    await mill.register({ kind: 'consumption' });
    const { contractId, receipt } = await solar.proposeContract({ counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: day, deliveryEnd: day + 86_400_000 });
    expect(contractId).toBe('solar-farm/2');
    expect(receipt).toMatchObject({ contractId: 'solar-farm/2' });
    await mill.acceptContract(contractId);
    await solar.reportDelivery(contractId, 1200);
    await mill.reportDelivery(contractId, 1200);
    const settled = await mill.settleRound([contractId]);
    expect(settled.receipt).toMatchObject({ type: 'settleRound', round: { round: 1 } });

    const balances = (await client.market.query('balances')) as { unit: string; nodes: Record<string, number>; grid: number };
    expect(balances.unit).toBe('milli-yuan');
    expect(toYuan(balances.nodes['solar-farm']!)).toBeCloseTo(720, 3); // 1200 kWh × 0.60
    expect(toYuan(balances.nodes['paper-mill']!)).toBeLessThan(0);
    const ledger = (await client.market.query('ledger', { from: 1, limit: 100 })) as { height: number; blocks: unknown[] };
    expect(ledger.height).toBe(7);
    expect(ledger.blocks).toHaveLength(7);
    expect(await client.market.query('head')).toMatchObject({ height: 7 });
  });

  it('a forged signature is refused with its reason, and changes nothing', async () => {
    const keys = generateParticipantKeys();
    const impostor = marketClient({ id: 'impostor', keys: generateParticipantKeys() });
    const forged = impostor.register({ kind: 'generation' });
    const tampered = { ...forged, transaction: { ...forged.transaction, publicKey: keys.publicKey } };
    const before = (await client.market.query('head')) as { height: number };
    const error = await client.market.submit(tampered).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedError);
    expect((error as RejectedError).reason).toBe('INVALID_SIGNATURE');
    expect(await client.market.query('head')).toMatchObject({ height: before.height });
  });

  it('a submission whose answer is lost with the connection is retried with its hash as key and lands once', async () => {
    const log: CutLog = { sent: [], cut: 0 };
    const cutting = cuttingWebSocket((frame) => frame.includes('"receipt"'), log);
    const flaky = createClient({ endpoints: cluster.urls(), WebSocket: cutting, retry: { initialDelayMs: 1 } });
    try {
      const before = (await client.market.query('head')) as { height: number };
      const grid = tradingClient({ client: flaky, id: 'grid-battery', keys: generateParticipantKeys() });
      const signed = grid.signer.register({ kind: 'generation' });
      expect(transactionIdempotencyKey(signed)).toMatch(/^tx-[0-9a-f]{64}$/);
      const result = await grid.submit(signed);
      expect(log.cut).toBe(1);
      expect(result.receipt).toMatchObject({ type: 'registerNode', signer: 'grid-battery' });
      // One block more, not two, and no replayed-nonce refusal: the retry got the first answer.
      expect(await client.market.query('head')).toMatchObject({ height: before.height + 1 });
    } finally {
      await flaky.close();
    }
  });
});
