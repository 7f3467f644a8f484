// Prints how fast the market settles the paper's 30-node round (eq. 26–34) and the largest round
// its limits allow, how many signed transactions per second the state machine executes (ed25519
// verification and a ledger block each), what refusing a poison entry costs, and how long a
// snapshot and a restore of a market with a long ledger take.
// Build first: npm run build. Run: node packages/power-market/bench/market.mjs
import { readFileSync } from 'node:fs';
import {
  encodeTransactions,
  generateParticipantKeys,
  MARKET_LIMITS,
  marketClient,
  parseRoundDocument,
  powerMarket,
  settleRound,
} from '../dist/index.js';

const fixture = new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url);
const { round } = parseRoundDocument(JSON.parse(readFileSync(fixture, 'utf8')));

const time = (label, count, run) => {
  for (let i = 0; i < Math.min(count, 200); i++) run(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const each = seconds / count;
  console.log(`${label}: ${each >= 1e-3 ? `${(each * 1e3).toFixed(1)} ms` : `${(each * 1e6).toFixed(1)} µs`} each, ${Math.round(count / seconds)} per second`);
};

time('settleRound, the paper\u2019s 30-node round', 5000, () => settleRound(round));

// The largest round the limits allow: every node of a full market shares every contract's penalties (eq. 34).
const nodes = Array.from({ length: MARKET_LIMITS.maxNodes }, (_, i) => ({ id: `n${i}`, kind: i % 2 ? 'consumption' : 'generation', creditWeight: 1 + (i % 97) }));
const contracts = Array.from({ length: MARKET_LIMITS.maxRoundContracts }, (_, i) => ({
  generator: `n${2 * i}`,
  consumer: `n${2 * i + 1}`,
  unitPrice: 0.6,
  contractedKWh: 1000,
  generatedKWh: 500,
  consumedKWh: 400,
}));
const worst = { prices: round.prices, nodes, contracts };
time(`settleRound, ${nodes.length} nodes and ${contracts.length} contracts, both parties in default`, 3, () => settleRound(worst));

// Executes registrations and contract proposals: each one a signed transaction through the state machine.
const market = powerMarket();
const clients = Array.from({ length: 50 }, (_, i) => marketClient({ id: `node-${i}`, keys: generateParticipantKeys() }));
for (const [i, client] of clients.entries()) market.execute(client.register({ kind: i % 2 === 0 ? 'generation' : 'consumption' }));
const proposals = Array.from({ length: 4000 }, (_, i) => {
  const generator = clients[(i * 2) % clients.length];
  const consumer = clients[(i * 2 + 1) % clients.length];
  return generator.proposeContract({ counterparty: consumer.id, unitPrice: 0.6, contractedKWh: 100 + (i % 50), deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) });
});
let next = 0;
time('execute a signed contract proposal', proposals.length - 200, () => market.execute(proposals[next++]));

// apply() of committed entries: a batch of 16 signed proposals in one entry (half of them warm up), then a poison entry.
const batches = Array.from({ length: 120 }, (_, b) =>
  encodeTransactions(
    Array.from({ length: 16 }, (_, i) => {
      const k = b * 16 + i;
      const generator = clients[(k * 2) % clients.length];
      return generator.proposeContract({ counterparty: clients[(k * 2 + 1) % clients.length].id, unitPrice: 0.6, contractedKWh: 100, deliveryStart: 0, deliveryEnd: 1 });
    }),
  ),
);
let index = market.lastAppliedIndex();
let batch = 0;
time('apply an entry of 16 signed transactions', batches.length / 2, () => market.apply({ index: ++index, term: 1, data: batches[batch++] }));
const poison = new TextEncoder().encode('[{"signature":"A","transaction":{"nonce":{"toString":0},"signer":"node-0","type":"recordCarbon"}}]');
time('apply a poison entry (refused, index advances)', 20_000, () => market.apply({ index: ++index, term: 1, data: poison }));

const snapshot = market.snapshot();
console.log(`the market: ${market.ledger().length} blocks, ${market.nodes().length} nodes, snapshot ${(snapshot.length / 1e6).toFixed(1)} MB`);
time('snapshot()', 5, () => market.snapshot());
time('restore() of that snapshot, checked in full', 5, () => powerMarket().restore(snapshot));
