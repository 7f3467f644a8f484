/**
 * The power market replicated on a weighted Raft cluster. Each trading participant (a solar farm,
 * a wind farm, a paper mill) runs a node whose state machine is the market; signed transactions
 * go through the leader, every replica applies them in the same order, and every replica ends
 * with the same balances and the same hash-chained ledger. Then the weights come out of the
 * replicated market: the leader scores the participants from its own replica (the paper's
 * scores) and moves the cluster to the new weights by joint consensus.
 *
 *   npm install @greenraft/weighted-raft @greenraft/transport-memory @greenraft/power-market
 */
import {
  type ApplyResult,
  type MarketClient,
  type PowerMarket,
  type SignedTransaction,
  encodeTransactions,
  generateParticipantKeys,
  marketClient,
  powerMarket,
  toYuan,
  verifyLedger,
} from '@greenraft/power-market';
import { memoryNetwork } from '@greenraft/transport-memory';
import { type WeightedRaftNode, createWeightedRaftNode, isGreenraftError, memoryStorage, paperScoring } from '@greenraft/weighted-raft';

const ids = ['solar-farm', 'wind-farm', 'paper-mill'] as const;
const network = memoryNetwork();
const markets = new Map<string, PowerMarket>();
const nodes = ids.map((id) => {
  const market = powerMarket({ initialCreditWeight: 80 });
  markets.set(id, market);
  return createWeightedRaftNode<ApplyResult>({
    id,
    transport: network.transport(id),
    storage: memoryStorage(),
    stateMachine: market,
    weights: { 'solar-farm': 1, 'wind-farm': 1, 'paper-mill': 1 },
    scoring: paperScoring(),
    // The leader scores the participants from its own replica of the market: replicated state.
    scoreInputs: () => market.scoreInputs(),
    epoch: 0, // new weights on demand, below
  });
});

async function leader(): Promise<WeightedRaftNode<ApplyResult>> {
  for (;;) {
    const found = nodes.find((node) => node.status().role === 'leader');
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Submits a signed transaction through the leader; resolves with its receipt once applied. */
async function submit(signed: SignedTransaction) {
  for (;;) {
    try {
      const { result } = await (await leader()).propose(encodeTransactions(signed));
      const outcome = result.outcomes[0]!;
      if (!outcome.accepted) throw outcome.error; // a typed MarketError: the market refused it and changed nothing
      return outcome.receipt;
    } catch (error) {
      if (!isGreenraftError(error, 'NOT_LEADER')) throw error;
    }
  }
}

await Promise.all(nodes.map((node) => node.start()));
const clients: Record<(typeof ids)[number], MarketClient> = {
  'solar-farm': marketClient({ id: 'solar-farm', keys: generateParticipantKeys() }),
  'wind-farm': marketClient({ id: 'wind-farm', keys: generateParticipantKeys() }),
  'paper-mill': marketClient({ id: 'paper-mill', keys: generateParticipantKeys() }),
};
await submit(clients['solar-farm'].register({ kind: 'generation', renewable: true }));
await submit(clients['wind-farm'].register({ kind: 'generation', renewable: true }));
await submit(clients['paper-mill'].register({ kind: 'consumption' }));

// Two day-ahead contracts, each proposed by a farm and accepted by the mill.
const day = { deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) };
const solar = await submit(clients['solar-farm'].proposeContract({ counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, ...day }));
const wind = await submit(clients['wind-farm'].proposeContract({ counterparty: 'paper-mill', unitPrice: 0.55, contractedKWh: 800, ...day }));
await submit(clients['paper-mill'].acceptContract(solar.contractId!));
await submit(clients['paper-mill'].acceptContract(wind.contractId!));

// Metered delivery: the solar farm delivers in full, the wind farm only 600 of its 800 kWh.
await submit(clients['solar-farm'].reportDelivery(solar.contractId!, 1200));
await submit(clients['paper-mill'].reportDelivery(solar.contractId!, 1200));
await submit(clients['wind-farm'].reportDelivery(wind.contractId!, 600));
await submit(clients['paper-mill'].reportDelivery(wind.contractId!, 600));
await submit(clients['paper-mill'].settleRound([solar.contractId!, wind.contractId!]));

// Every replica applied the same entries: same balances, same ledger, and the ledger verifies.
const target = (await leader()).status().commitIndex;
while (!nodes.every((node) => node.status().appliedIndex >= target)) await new Promise((resolve) => setTimeout(resolve, 10));
for (const [id, market] of markets) {
  const balances = ids.map((participant) => `${participant} ${toYuan(market.balance(participant))}`).join(', ');
  const blocks = market.ledger();
  console.log(`${id}: ${balances}; grid ${toYuan(market.gridBalance())}; ${blocks.length} blocks, valid: ${verifyLedger(blocks).valid}, head ${blocks.at(-1)!.hash.slice(0, 12)}`);
}

// New weights from the market: the wind farm defaulted, so its credit and its weight drop.
const { config } = await (await leader()).applyWeights();
console.log('weights from the market:', [...config.incoming.voters].map(([id, weight]) => `${id}=${weight}`).join(' '));

await Promise.all(nodes.map((node) => node.stop()));
network.close();
