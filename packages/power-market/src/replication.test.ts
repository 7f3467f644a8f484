import { type NodeId, configuration } from '@greenraft/consensus';
import { eventually } from '@greenraft/consensus-compliance';
import { type RaftNode, createRaftNode, memoryStorage, type MemoryStorage } from '@greenraft/raft';
import { memoryNetwork } from '@greenraft/transport-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { type MarketClient, marketClient } from './client.js';
import { ReplayedNonceError } from './errors.js';
import { verifyLedger } from './ledger.js';
import { type ApplyResult, type PowerMarket, powerMarket } from './market.js';
import { replayLedger } from './replay.js';
import { type SignedTransaction, encodeTransactions, generateParticipantKeys } from './transactions.js';

const IDS: readonly NodeId[] = ['n1', 'n2', 'n3', 'n4', 'n5'];
const MARKET = { initialCreditWeight: 80 };

interface Replica {
  node: RaftNode<ApplyResult>;
  market: PowerMarket;
  storage: MemoryStorage;
}

describe('the market replicated on a 5-node Raft cluster under faults', () => {
  const network = memoryNetwork({ seed: 7, defaultLink: { latency: { min: 0, max: 3 }, loss: 0.05, duplicate: 0.05, reorder: 0.05 } });
  const replicas = new Map<NodeId, Replica>();
  let snapshotsTaken = 0;

  function start(id: NodeId, storage: MemoryStorage = memoryStorage()): Promise<void> {
    const market = powerMarket(MARKET);
    const node = createRaftNode<ApplyResult>({
      id,
      transport: network.transport(id),
      storage,
      stateMachine: market,
      bootstrap: configuration(IDS),
      tickMs: 5,
      snapshotThreshold: 12, // small, so snapshots are taken and installed during the run
      proposalTimeoutMs: 1_500,
    });
    node.on('snapshot', () => {
      snapshotsTaken += 1;
    });
    replicas.set(id, { node, market, storage });
    return node.start();
  }

  function leader(): NodeId | undefined {
    return [...replicas.values()].find((replica) => replica.node.status().role === 'leader')?.node.id;
  }

  /** Proposes one signed transaction until it is known applied: accepted, or refused as a replay of itself. */
  async function submit(signed: SignedTransaction): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const id = leader();
      if (id === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      try {
        const { result } = await replicas.get(id)!.node.propose(encodeTransactions(signed));
        const outcome = result.outcomes[0];
        if (outcome?.accepted) return;
        // An earlier attempt that timed out did commit: the retry is refused as a replay.
        if (outcome?.error instanceof ReplayedNonceError) return;
        throw outcome?.error ?? new Error('no outcome');
      } catch (error) {
        if (error instanceof Error && /^(NotLeader|Timeout|ProposalDropped|Stopped|Abort)Error$/.test(error.name)) continue;
        throw error;
      }
    }
    throw new Error('gave up proposing');
  }

  afterEach(async () => {
    await Promise.all([...replicas.values()].map((replica) => replica.node.stop()));
    network.close();
  });

  it('ends with identical ledgers, balances and weights on every replica', async () => {
    await Promise.all(IDS.map((id) => start(id)));
    const clients: Record<string, MarketClient> = {};
    for (const [id, kind] of [
      ['g1', 'generation'],
      ['g2', 'generation'],
      ['c1', 'consumption'],
      ['c2', 'consumption'],
    ] as const) {
      clients[id] = marketClient({ id, keys: generateParticipantKeys() });
      await submit(clients[id]!.register({ kind, renewable: id === 'g1' }));
    }

    const tradeRound = async (round: number) => {
      const pairs = [
        ['g1', 'c1', 600 + round * 10, 600 + round * 10, 560],
        ['g2', 'c2', 300, 280, 300],
      ] as const;
      const ids: string[] = [];
      for (const [g, c, contracted, generated, consumed] of pairs) {
        const proposal = clients[g]!.proposeContract({ counterparty: c, unitPrice: 0.6, contractedKWh: contracted, deliveryStart: round, deliveryEnd: round + 1, handlingFee: 0.2 });
        await submit(proposal);
        const contractId = `${g}/${proposal.transaction.nonce}`;
        await submit(clients[c]!.acceptContract(contractId));
        await submit(clients[g]!.reportDelivery(contractId, generated));
        await submit(clients[c]!.reportDelivery(contractId, consumed));
        ids.push(contractId);
      }
      await submit(clients['c1']!.settleRound(ids));
    };

    await tradeRound(1);

    // Fault 1: cut the leader off; the others elect a new one and trading goes on.
    const first = leader()!;
    network.isolate(first);
    await eventually(() => leader() !== undefined && leader() !== first, { what: 'a new leader', timeoutMs: 15_000 });
    await tradeRound(2);
    network.heal();

    // Fault 2: a follower crashes (losing anything not durable) and restarts on its storage.
    const victim = IDS.find((id) => id !== leader())!;
    const crashed = replicas.get(victim)!;
    await crashed.node.stop();
    await tradeRound(3);
    await start(victim, crashed.storage.crash());

    await submit(clients['g1']!.recordCarbon({ quota: 10, emitted: 4 }));
    await tradeRound(4);

    // Everyone catches up to the same applied index, then every replica holds the same market.
    await eventually(
      () => {
        const applied = [...replicas.values()].map((replica) => replica.node.status().appliedIndex);
        const commit = replicas.get(leader() ?? 'n1')!.node.status().commitIndex;
        return applied.every((index) => index === commit);
      },
      { what: 'every replica applied the same index', timeoutMs: 20_000 },
    );
    expect(snapshotsTaken).toBeGreaterThan(0); // market.snapshot() was exercised by the driver
    const markets = IDS.map((id) => replicas.get(id)!.market);
    const reference = markets[0]!;
    expect(reference.round()).toBe(4);
    const ledger = reference.ledger();
    expect(verifyLedger(ledger)).toEqual({ valid: true, height: ledger.length });
    // 4 registrations + 4 rounds × 9 transactions + 1 carbon record, each in its own block.
    expect(ledger.reduce((count, block) => count + block.transactions.length, 0)).toBe(4 + 4 * 9 + 1);
    for (const market of markets.slice(1)) {
      expect(market.ledger()).toEqual(ledger);
      expect(market.nodes()).toEqual(reference.nodes());
      expect(market.gridBalance()).toBe(reference.gridBalance());
      expect(market.voteWeights()).toEqual(reference.voteWeights());
    }
    const total = reference.nodes().reduce((sum, node) => sum + node.balance, reference.gridBalance());
    expect(total).toBe(0);
    // The ledger alone rebuilds the same market.
    expect(replayLedger(ledger, MARKET).nodes()).toEqual(reference.nodes());
  });
});
