import { configuration, type NodeId } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { createRaftNode, memoryStorage, type RaftNode } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { afterAll, describe, expect, it } from 'vitest';
import { marketClient } from './client.js';
import { entryOf, keysOf, signAnything, utf8 } from './hostile.test-utils.js';
import { verifyLedger } from './ledger.js';
import { type ApplyResult, type PowerMarket, powerMarket } from './market.js';
import { encodeTransactions, type SignedTransaction } from './transactions.js';

const IDS: readonly NodeId[] = ['n1', 'n2', 'n3'];
const MARKET = { initialCreditWeight: 80 };

describe('a 3-node cluster fed poison entries', () => {
  const network = memoryNetwork({ seed: 11 });
  const replicas = new Map<NodeId, { node: RaftNode<ApplyResult>; market: PowerMarket }>();
  const errors: unknown[] = [];
  let snapshots = 0;

  afterAll(async () => {
    await Promise.all([...replicas.values()].map(({ node }) => node.stop()));
    network.close();
  });

  const leader = () => [...replicas.values()].find(({ node }) => node.status().role === 'leader')?.node;

  async function propose(data: Uint8Array): Promise<ApplyResult> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const node = leader();
      if (node === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      try {
        return (await node.propose(data)).result;
      } catch (error) {
        if (error instanceof Error && /^(NotLeader|Timeout|ProposalDropped)Error$/.test(error.name)) continue;
        throw error;
      }
    }
    throw new Error('no leader took the proposal');
  }

  async function accepted(signed: SignedTransaction): Promise<void> {
    const result = await propose(encodeTransactions(signed));
    expect(result.outcomes.map((outcome) => (outcome.accepted ? 'accepted' : outcome.error.message))).toEqual(['accepted']);
  }

  it('refuses every poison entry the same way on every replica, and keeps applying', async () => {
    for (const id of IDS) {
      const market = powerMarket(MARKET);
      const node = createRaftNode<ApplyResult>({
        id,
        transport: network.transport(id),
        storage: memoryStorage(),
        stateMachine: market,
        bootstrap: configuration(IDS),
        tickMs: 5,
        snapshotThreshold: 6, // compaction (market.snapshot()) runs between the poison entries
        proposalTimeoutMs: 2_000,
      });
      node.on('error', (error) => errors.push(error));
      node.on('snapshot', () => {
        snapshots += 1;
      });
      replicas.set(id, { node, market });
    }
    await Promise.all([...replicas.values()].map(({ node }) => node.start()));
    await eventually(() => leader() !== undefined, { what: 'a leader', timeoutMs: 10_000 });

    const g1 = marketClient({ id: 'g1', keys: keysOf('g1') });
    const c1 = marketClient({ id: 'c1', keys: keysOf('c1') });
    await accepted(g1.register({ kind: 'generation', renewable: true }));
    await accepted(c1.register({ kind: 'consumption' }));

    const poison: [string, Uint8Array][] = [
      // The ~100-byte unsigned entry that once stopped every replica: building its error message threw.
      ['a nonce whose toString is not a function', utf8('[{"signature":"A","transaction":{"nonce":{"toString":0},"signer":"g1","type":"recordCarbon"}}]')],
      ['a prototype key as a node id', entryOf([signAnything('g1', { type: 'recordParticipation', signer: 'g1', nonce: 90, acknowledgements: ['g1', '__proto__'] })])],
      ['a delivery of 1e308 kWh', entryOf([signAnything('g1', { type: 'reportDelivery', signer: 'g1', nonce: 91, contractId: 'g1/3', meteredKWh: 1e308 })])],
      ['a carbon quota of 1e308 tonnes', entryOf([signAnything('c1', { type: 'recordCarbon', signer: 'c1', nonce: 92, quota: 1e308, purchased: 0, emitted: 0 })])],
      ['a handling fee of 1e306 yuan', entryOf([signAnything('g1', { type: 'proposeContract', signer: 'g1', nonce: 93, counterparty: 'c1', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1, handlingFee: 1e306 })])],
      ['200 000 nested lists', utf8(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)],
      ['bytes that are not UTF-8', Uint8Array.of(0x5b, 0xff, 0xfe, 0x5d)],
    ];
    for (const [what, data] of poison) {
      const result = await propose(data);
      expect(result.block, what).toBeUndefined();
      expect(result.outcomes.length, what).toBeGreaterThan(0);
      expect(result.outcomes.every((outcome) => !outcome.accepted), what).toBe(true);
      // Trading goes on after each one.
      await accepted(g1.recordCarbon({ quota: 1 }));
    }
    const contract = g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: 0, deliveryEnd: 1 });
    await accepted(contract);
    const id = `g1/${contract.transaction.nonce}`;
    await accepted(c1.acceptContract(id));
    await accepted(g1.reportDelivery(id, 1200));
    await accepted(c1.reportDelivery(id, 1100));
    await accepted(c1.settleRound([id]));

    // Every replica applied everything and holds the same market, byte for byte.
    await eventually(
      () => {
        const commit = leader()?.status().commitIndex ?? -1;
        return [...replicas.values()].every(({ node }) => node.status().appliedIndex === commit);
      },
      { what: 'every replica applied the commit index', timeoutMs: 10_000 },
    );
    expect(errors).toEqual([]);
    expect(snapshots).toBeGreaterThan(0);
    const markets = [...replicas.values()].map(({ market }) => market);
    const reference = markets[0]!;
    expect(reference.round()).toBe(1);
    expect(verifyLedger(reference.ledger(), { head: reference.ledgerHead() }).valid).toBe(true);
    for (const market of markets) {
      expect(market.ledgerHead()).toEqual(reference.ledgerHead());
      expect(Buffer.from(market.snapshot()).equals(Buffer.from(reference.snapshot()))).toBe(true);
    }
    expect(({} as Record<string, unknown>)['participation']).toBeUndefined();
  });
});
