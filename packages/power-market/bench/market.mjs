// Prints how fast the market settles the paper's 30-node round (eq. 26–34) and how many signed
// transactions per second the state machine executes (ed25519 verification and a ledger block
// each). Build first: npm run build. Run: node packages/power-market/bench/market.mjs
import { readFileSync } from 'node:fs';
import { generateParticipantKeys, marketClient, parseRoundDocument, powerMarket, settleRound } from '../dist/index.js';

const fixture = new URL('../../../fixtures/paper/paper-tables-1-2.json', import.meta.url);
const { round } = parseRoundDocument(JSON.parse(readFileSync(fixture, 'utf8')));

const time = (label, count, run) => {
  for (let i = 0; i < Math.min(count, 200); i++) run(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) run(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label}: ${((seconds / count) * 1e6).toFixed(1)} µs each, ${Math.round(count / seconds)} per second`);
};

time('settleRound, the paper\u2019s 30-node round', 5000, () => settleRound(round));

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
