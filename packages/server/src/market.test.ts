/** A weighted market cluster in this process: weights from the replicated market, the replicated strategy, replicated participation. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blocksFromJson, generateParticipantKeys, type LedgerHead, marketClient, verifyLedger } from '@greenraft/power-market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, type TestCluster, http, startCluster, until } from './cluster.test-utils.js';

/** A custom strategy module: weight by green certificates, self-contained so it loads from any directory. */
const GREEN_FIRST = `export default {
  name: 'green-first',
  version: '1',
  create(params) {
    const floor = params?.floor ?? 10;
    return {
      name: 'green-first',
      score(nodes) {
        const most = Math.max(1, ...nodes.map((node) => node.greenCertificates));
        return new Map(nodes.map((node) => [node.id, floor + ((100 - floor) * node.greenCertificates) / most]));
      },
    };
  },
};
`;

const IDS = ['n1', 'n2', 'n3'];
let cluster: TestCluster;
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  http(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
/** Signs `body` with node `id`'s own participant key and submits it through that node. */
const own = (id: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => post(`${cluster.url(id)}/v1/market/own-transactions`, body, headers);
const inForce = (id: string) => (cluster.server(id).status().config as { voters: Record<string, number> }).voters;
const heaviest = (weights: Record<string, number>) => Math.max(...Object.values(weights));

beforeAll(async () => {
  cluster = await startCluster({
    ids: IDS,
    prepare: (dir) => {
      for (const id of IDS) writeFileSync(join(dir, `${id}.pem`), generateParticipantKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
      writeFileSync(join(dir, 'green-first.mjs'), GREEN_FIRST);
    },
    overrides: (id, dir) => ({
      stateMachine: 'market',
      policy: 'weighted',
      weighted: { electionTimeout: { baseMs: 300, stepMs: 30 } },
      market: {
        participantKeyFile: join(dir, `${id}.pem`),
        participation: { intervalMs: 100 },
        // n3 is not given the custom strategy: it must refuse to lead while that strategy is in force.
        strategies: id === 'n3' ? [] : [{ module: join(dir, 'green-first.mjs') }],
      },
    }),
  });
  await cluster.leader();
});
afterAll(() => cluster?.close());

describe('a weighted market cluster', () => {
  it('checks signatures before proposing, and follows the market with its weights and its leader', async () => {
    // Every node registers itself, signing with its own key.
    const r1 = await own('n1', { type: 'registerNode', kind: 'generation', renewable: true });
    expect(r1.status).toBe(200);
    expect((await own('n2', { type: 'registerNode', kind: 'consumption' })).status).toBe(200);
    expect((await own('n3', { type: 'registerNode', kind: 'generation' })).status).toBe(200);
    const leader = await cluster.leader();

    // A transaction signed with the wrong key: 422 before anything reaches the log. Every market
    // entry the leader applies is a `market` event: none may carry the forged transaction.
    const watcher = await RawClient.connect(cluster.url(leader.id));
    await watcher.request({ op: 'hello' });
    await watcher.request({ op: 'subscribe', topics: ['market'] });
    const impostor = marketClient({ id: 'n2', keys: generateParticipantKeys(), lastNonce: 10 ** 13 });
    const forged = await post(`${cluster.url(leader.id)}/v1/market/transactions`, impostor.recordCarbon({ quota: 1 }));
    expect(forged).toMatchObject({ status: 422, body: { error: { code: 'REJECTED', reason: 'INVALID_SIGNATURE' } } });
    const malformed = await post(`${cluster.url(leader.id)}/v1/market/transactions`, { transaction: { type: 'mint' }, signature: 'x' });
    expect(malformed.status).toBe(400);
    // A control transaction after them does reach the log, and is seen.
    const control = await own('n2', { type: 'recordCarbon', quota: 2 });
    await until(() => watcher.events.some((event) => (event.data as { index: number }).index === control.body.index), 'the control entry\u2019s event');
    expect(JSON.stringify(watcher.events)).not.toContain('INVALID_SIGNATURE');
    watcher.close();

    // A trading round: n1 and n3 sell to n2; n1 delivers, n3 delivers nothing and defaults.
    const day = { deliveryStart: Date.UTC(2025, 0, 2), deliveryEnd: Date.UTC(2025, 0, 3) };
    const c1 = await own('n1', { type: 'proposeContract', counterparty: 'n2', unitPrice: 0.6, contractedKWh: 1200, handlingFee: 0, ...day });
    const c2 = await own('n3', { type: 'proposeContract', counterparty: 'n2', unitPrice: 0.6, contractedKWh: 300, handlingFee: 0, ...day });
    const ids = [c1, c2].map((answer) => (answer.body.receipt as { contractId: string }).contractId);
    for (const contractId of ids) expect((await own('n2', { type: 'acceptContract', contractId })).status).toBe(200);
    await own('n1', { type: 'reportDelivery', contractId: ids[0], meteredKWh: 1200 });
    await own('n2', { type: 'reportDelivery', contractId: ids[0], meteredKWh: 1200 });
    await own('n2', { type: 'reportDelivery', contractId: ids[1], meteredKWh: 300 });
    // Retried with its idempotency key: settled once, the first receipt back.
    const settleHeaders = { 'idempotency-key': 'settle-round-1', 'client-id': 'n2-operator' };
    const settled = await own('n2', { type: 'settleRound', contractIds: ids }, settleHeaders);
    expect(settled.body.receipt).toMatchObject({ type: 'settleRound', round: { round: 1 } });
    expect((await own('n2', { type: 'settleRound', contractIds: ids }, settleHeaders)).body).toEqual(settled.body);

    // The leader proposes the market's weights; every node ends with the same configuration, and the heaviest node leads.
    const weights = await until(async () => {
      const answer = await http(`${cluster.url('n1')}/v1/market/weights`);
      const derived = answer.body.derived as Record<string, number>;
      return IDS.every((id) => JSON.stringify(inForce(id)) === JSON.stringify(derived)) ? derived : undefined;
    }, 'the market\u2019s weights in force on every node');
    expect(new Set(Object.values(weights)).size).toBeGreaterThan(1);
    // n3 defaulted: it weighs least.
    expect(weights.n3).toBeLessThan(weights.n1!);
    const newLeader = await until(async () => {
      const current = await cluster.leader();
      return inForce(current.id)[current.id] === heaviest(weights) ? current : undefined;
    }, 'the heaviest node to lead');
    expect(weights[newLeader.id]).toBe(heaviest(weights));

    // Identical ledgers everywhere (once the leader's participation records settle, every head is the same).
    const heads = await until(async () => {
      const all = await Promise.all(IDS.map(async (id) => (await http(`${cluster.url(id)}/v1/market/head`)).body));
      return new Set(all.map((head) => `${head.height}/${head.hash}/${head.index}/${head.term}`)).size === 1 ? all : undefined;
    }, 'the same ledger head on every node');
    expect(heads[0]?.height).toBeGreaterThanOrEqual(9);
    const ledger = await http(`${cluster.url('n3')}/v1/market/ledger?from=1&limit=2`);
    expect(ledger.body).toMatchObject({ blocks: [{ header: { height: 1 } }, { header: { height: 2 } }] });
    const contract = await http(`${cluster.url('n2')}/v1/market/contracts/${encodeURIComponent(ids[1]!)}`);
    expect(contract.body).toMatchObject({ contract: { status: 'settled', generatedKWh: null } });
    expect((await http(`${cluster.url('n2')}/v1/market/contracts/nope%2F1`)).status).toBe(404);
  });

  it('serves a ledger that verifies against the head every node reports, and a tampered copy does not', async () => {
    // Each node's own head (stale: from its own state, never forwarded); the leader keeps
    // recording participation, so ask until all three report the same one.
    const head = await until(async () => {
      const all = await Promise.all(IDS.map(async (id) => (await http(`${cluster.url(id)}/v1/market/head?consistency=stale`)).body as unknown as LedgerHead));
      return new Set(all.map((h) => `${h.height}/${h.hash}/${h.index}/${h.term}`)).size === 1 ? all[0] : undefined;
    }, 'the same ledger head on every node');
    expect(head.height).toBeGreaterThanOrEqual(9);
    // Every page of one node's copy, three blocks at a time, up to the head.
    const served: unknown[] = [];
    while (served.length < head.height) {
      const page = await http(`${cluster.url('n2')}/v1/market/ledger?from=${served.length + 1}&limit=3`);
      expect(page.status).toBe(200);
      const blocks = page.body.blocks as unknown[];
      expect(blocks.length).toBeGreaterThan(0);
      served.push(...blocks);
    }
    const copy = served.slice(0, head.height);
    expect(verifyLedger(blocksFromJson(copy), { head })).toEqual({ valid: true, height: head.height });
    // One served transaction with its amount changed: refused at its block.
    type Served = { transactions: { transaction: Record<string, unknown> }[] };
    const tampered = JSON.parse(JSON.stringify(copy)) as Served[];
    const position = tampered.findIndex((block) => block.transactions.some((tx) => tx.transaction.type === 'proposeContract'));
    expect(position).toBeGreaterThanOrEqual(0);
    const proposal = tampered[position]!.transactions.find((tx) => tx.transaction.type === 'proposeContract')!;
    proposal.transaction.contractedKWh = (proposal.transaction.contractedKWh as number) + 1;
    expect(verifyLedger(blocksFromJson(tampered), { head })).toMatchObject({ valid: false, position, reason: 'merkle-root' });
    // The copy cut short: consistent in itself, refused against the head.
    expect(verifyLedger(blocksFromJson(copy.slice(0, -1)), { head })).toMatchObject({ valid: false, reason: 'head' });
  });

  it('replicates participation (eq. 19): the leader records its commit quorums in the log', async () => {
    const participation = await until(async () => {
      const answers = await Promise.all(IDS.map(async (id) => (await http(`${cluster.url(id)}/v1/market/nodes`)).body.nodes as { id: string; participation: number }[]));
      const views = answers.map((nodes) => JSON.stringify(nodes.map((node) => [node.id, node.participation])));
      const someone = answers[0]!.some((node) => node.participation > 0);
      return someone && new Set(views).size === 1 ? answers[0] : undefined;
    }, 'participation recorded and identical on every node');
    expect(participation.some((node) => node.participation > 0)).toBe(true);
  });

  it('changes the strategy in force through the log; a node without it refuses to lead', async () => {
    await http(`${cluster.url('n1')}/v1/cluster/transfer-leader`, { method: 'POST', body: JSON.stringify({ to: 'n1' }) });
    const unknown = await post(`${cluster.url('n1')}/v1/cluster/scoring`, { name: 'no-such', version: '1' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('no scoring strategy no-such@1') } } });
    // Uniform scoring: every weight equal (classic Raft, by weights).
    expect((await post(`${cluster.url('n2')}/v1/cluster/scoring`, { name: 'uniform', version: '1' })).status).toBe(200);
    await until(() => IDS.every((id) => Object.values(inForce(id)).every((weight) => weight === 1)), 'uniform weights');
    // A custom strategy that n3 lacks.
    await until(async () => (await post(`${cluster.url('n1')}/v1/cluster/scoring`, { name: 'green-first', version: '1', params: { floor: 20 } })).status === 200, 'the custom strategy');
    for (const id of IDS) await until(() => (cluster.server(id).status().scoring as { name: string }).name === 'green-first', `${id} to have the new strategy`);
    expect(cluster.server('n3').status().scoring).toEqual({ name: 'green-first', version: '1', params: { floor: 20 }, available: false });
    expect(cluster.server('n1').status().scoring).toMatchObject({ available: true });
    // n1 holds the only green certificate: it becomes the heaviest.
    await until(() => inForce('n1').n1! > inForce('n1').n2!, 'green-first weights');
    // Handed leadership, n3 gives it away rather than score differently.
    let n3Led = false;
    cluster.server('n3').on('leaderChange', ({ leader }) => {
      if (leader === 'n3') n3Led = true;
    });
    await http(`${cluster.url('n1')}/v1/cluster/transfer-leader`, { method: 'POST', body: JSON.stringify({ to: 'n3' }) });
    await until(() => n3Led, 'n3 to be handed leadership');
    await until(async () => {
      const leader = await cluster.leader();
      return leader.id !== 'n3' ? leader : undefined;
    }, 'n3 to hand leadership away');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(cluster.server('n3').status().role).not.toBe('leader');
  });
});
