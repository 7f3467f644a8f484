/**
 * The weighted market cluster on 5 node processes (`greenraft cluster init --weighted
 * --state-machine market`, then `cluster start`): each node signs its own market transactions
 * with its participant key; after each settled round the leader proposes the weights the
 * replicated market gives, every node ends with them, the heaviest node leads, and every
 * node's ledger has the same head.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningCluster, type StartedNode, alive, allReady, getJson, initCluster, requireBuilt, until } from './local-cluster.test-utils.js';

const scratch = mkdtempSync(join(tmpdir(), 'greenraft-weighted-market-'));
beforeAll(requireBuilt);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Weights = Record<string, number>;

describe('a weighted market cluster of 5 processes', () => {
  it('moves the weights and the leadership with the market, with identical ledgers everywhere', async () => {
    const dir = join(scratch, 'market');
    initCluster(['cluster', 'init', '--nodes', '5', '--dir', dir, '--weighted', '--state-machine', 'market']);
    const cluster = new RunningCluster(dir);
    try {
      const nodes = await cluster.started();
      await allReady(nodes);
      const byId = new Map(nodes.map((node) => [node.id, node]));
      const url = (id: string) => byId.get(id)!.http;
      /** A transaction signed by node `id` with its own key, submitted through it. */
      let sequence = 0;
      const own = async (id: string, body: Record<string, unknown>): Promise<Record<string, unknown>> => {
        const answer = await getJson(`${url(id)}/v1/market/own-transactions`, { method: 'POST', body: JSON.stringify(body), headers: { 'idempotency-key': `tx-${++sequence}` } });
        expect(answer.status, `${id} ${body.type}: ${JSON.stringify(answer.body)}`).toBe(200);
        return answer.body;
      };
      for (const [id, kind, renewable] of [
        ['n1', 'generation', true],
        ['n2', 'generation', true],
        ['n3', 'generation', false],
        ['n4', 'consumption', false],
        ['n5', 'consumption', false],
      ] as const) {
        await own(id, { type: 'registerNode', kind, renewable });
      }
      const day = { deliveryStart: Date.UTC(2025, 0, 2), deliveryEnd: Date.UTC(2025, 0, 3), unitPrice: 0.6 };
      /** One trading round: contracts [generator, consumer, contracted, generated, consumed], then settlement. */
      const round = async (contracts: readonly (readonly [string, string, number, number, number])[]) => {
        const ids: string[] = [];
        for (const [generator, consumer, contractedKWh, generated, consumed] of contracts) {
          const proposed = await own(generator, { type: 'proposeContract', counterparty: consumer, contractedKWh, ...day });
          const contractId = (proposed.receipt as { contractId: string }).contractId;
          await own(consumer, { type: 'acceptContract', contractId });
          if (generated > 0) await own(generator, { type: 'reportDelivery', contractId, meteredKWh: generated });
          if (consumed > 0) await own(consumer, { type: 'reportDelivery', contractId, meteredKWh: consumed });
          ids.push(contractId);
        }
        await own('n4', { type: 'settleRound', contractIds: ids });
      };
      /** Waits until every node has the weights the market gives in force, and the leader weighs the most. */
      const settled = async (what: string): Promise<{ weights: Weights; leader: string }> => {
        return until(async () => {
          const derived = (await getJson(`${url('n1')}/v1/market/weights`)).body.derived as Weights | null;
          if (derived === null || derived === undefined) return undefined;
          const statuses = await Promise.all(nodes.map(async (node) => (await getJson(`${node.http}/v1/cluster/status`)).body));
          const inForce = statuses.map((status) => JSON.stringify((status.config as { voters: Weights; outgoing: unknown } | null)?.voters));
          if (!inForce.every((weights) => weights === JSON.stringify(derived))) return undefined;
          const leaders = new Set(statuses.map((status) => status.leader));
          const [leader] = leaders;
          if (leaders.size !== 1 || typeof leader !== 'string') return undefined;
          const heaviest = Math.max(...Object.values(derived));
          return derived[leader] === heaviest ? { weights: derived, leader } : undefined;
        }, what, 30_000);
      };

      // Round 1: n1 delivers the most; n3 defaults on its contract.
      await round([
        ['n1', 'n4', 1200, 1200, 1200],
        ['n2', 'n5', 300, 300, 300],
        ['n3', 'n4', 100, 0, 100],
      ]);
      const first = await settled('the weights of round 1 and the heaviest node leading');
      expect(new Set(Object.values(first.weights)).size).toBeGreaterThan(1);
      expect(first.weights.n1).toBeGreaterThan(first.weights.n3!);
      // Round 2: n1 defaults, n4 takes nothing it bought; n2 and n5 trade the most.
      await round([
        ['n2', 'n5', 2000, 2000, 2000],
        ['n3', 'n4', 500, 500, 0],
        ['n1', 'n5', 800, 0, 800],
      ]);
      const second = await settled('the weights of round 2 and the heaviest node leading');
      expect(second.weights.n1).toBeLessThan(first.weights.n1!);
      // The heaviest of round 1 are not the heaviest of round 2: leadership followed the market.
      expect(second.leader).not.toBe(first.leader);
      expect(['n2', 'n5']).toContain(second.leader);

      // The same ledger on every node: same height, hash, index and term of the head.
      const heads = await until(async () => {
        const all = await Promise.all(nodes.map(async (node: StartedNode) => (await getJson(`${node.http}/v1/market/head`)).body));
        return new Set(all.map((head) => `${head.height}/${head.hash}/${head.index}/${head.term}`)).size === 1 ? all : undefined;
      }, 'the same ledger head on every node');
      expect(heads[0]!.height).toBeGreaterThanOrEqual(20);
      // Participation (eq. 19) is replicated: client transactions under a steady leader get their
      // commit quorums recorded by it, and every node ends with the same figures, some positive.
      let carbon = 0;
      const figures = await until(async () => {
        await own(`n${(carbon++ % 5) + 1}`, { type: 'recordCarbon', quota: 1 });
        const all = await Promise.all(nodes.map(async (node) => JSON.stringify(((await getJson(`${node.http}/v1/market/nodes`)).body.nodes as { participation: number }[]).map((n) => n.participation))));
        return new Set(all).size === 1 && all[0]!.match(/[1-9]/) ? all[0] : undefined;
      }, 'participation recorded and identical everywhere');
      expect(JSON.parse(figures).some((value: number) => value > 0)).toBe(true);

      const { code } = await cluster.stop();
      expect(code).toBe(0);
      for (const node of nodes) expect(alive(node.pid)).toBe(false);
    } finally {
      cluster.killAll();
    }
  });
});
