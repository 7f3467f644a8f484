// Helpers for the tests that attack the market: participants who hold valid keys and sign
// whatever they like, entries built byte by byte, and the invariants every test checks.
import { sign } from 'node:crypto';
import { expect } from 'vitest';
import { canonicalEncode, toBase64Url } from './canonical.js';
import { marketClient, type MarketClient } from './client.js';
import type { PowerMarket, PowerMarketInit } from './market.js';
import { powerMarket } from './market.js';
import { replayLedger } from './replay.js';
import { generateParticipantKeys, type MarketTransaction, type ParticipantKeys, type SignedTransaction, signingBytes } from './transactions.js';

export const DAY = 86_400_000;

/** Keys made once: key generation is the slow part of a fresh market. */
const KEYS = new Map<string, ParticipantKeys>();
export function keysOf(id: string): ParticipantKeys {
  let keys = KEYS.get(id);
  if (keys === undefined) {
    keys = generateParticipantKeys();
    KEYS.set(id, keys);
  }
  return keys;
}

/**
 * Signs any value as a transaction with `id`'s key, bypassing every client-side check: what a
 * registered participant who writes their own client can put in a log entry.
 */
export function signAnything(id: string, transaction: unknown, marketId = 'greenraft'): { transaction: unknown; signature: string } {
  let signature: string;
  try {
    signature = toBase64Url(sign(null, signingBytes(transaction as MarketTransaction, { marketId }), keysOf(id).privateKey));
  } catch {
    signature = 'A'.repeat(86); // the value has no canonical form: nobody could have signed it
  }
  return { transaction, signature };
}

/** The bytes of a log entry holding `items` as they are (canonical JSON of anything encodable). */
export function entryOf(items: readonly unknown[]): Uint8Array {
  return canonicalEncode(items);
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export interface Scene {
  market: PowerMarket;
  init: PowerMarketInit;
  clients: Record<'g1' | 'g2' | 'c1' | 'c2', MarketClient>;
  /** An accepted contract g1 → c1 with both meters reported, not yet settled. */
  open: string;
  /** A settled contract g2 → c2. */
  settled: string;
  /** An open certificate offer from g1 to c2. */
  offer: string;
  next: number;
}

/** A market with four registered nodes, an open and a settled contract, and an open offer; applied through `apply()`. */
export function scene(init: PowerMarketInit = { initialCreditWeight: 80 }): Scene {
  const market = powerMarket(init);
  const clients = {
    g1: marketClient({ id: 'g1', keys: keysOf('g1') }),
    g2: marketClient({ id: 'g2', keys: keysOf('g2') }),
    c1: marketClient({ id: 'c1', keys: keysOf('c1') }),
    c2: marketClient({ id: 'c2', keys: keysOf('c2') }),
  };
  let index = 0;
  const run = (signed: SignedTransaction) => {
    const result = market.apply({ index: ++index, term: 1, data: canonicalEncode([signed]) });
    const outcome = result.outcomes[0]!;
    if (!outcome.accepted) throw outcome.error;
    return outcome.receipt;
  };
  run(clients.g1.register({ kind: 'generation', renewable: true }));
  run(clients.g2.register({ kind: 'generation' }));
  run(clients.c1.register({ kind: 'consumption' }));
  run(clients.c2.register({ kind: 'consumption' }));
  const big = run(clients.g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 2500, deliveryStart: DAY, deliveryEnd: 2 * DAY })).contractId!;
  run(clients.c1.acceptContract(big));
  run(clients.g1.reportDelivery(big, 2500));
  run(clients.c1.reportDelivery(big, 2500));
  run(clients.c1.settleRound([big]));
  const open = run(clients.g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 100, deliveryStart: DAY, deliveryEnd: 2 * DAY, handlingFee: 0.5 })).contractId!;
  run(clients.c1.acceptContract(open));
  run(clients.g1.reportDelivery(open, 100));
  run(clients.c1.reportDelivery(open, 90));
  const settled = run(clients.g2.proposeContract({ counterparty: 'c2', unitPrice: 0.5, contractedKWh: 10, deliveryStart: 0, deliveryEnd: DAY })).contractId!;
  run(clients.c2.acceptContract(settled));
  run(clients.g2.reportDelivery(settled, 10));
  run(clients.c2.settleRound([settled]));
  const offer = run(clients.g1.offerCertificates({ buyer: 'c2', count: 1, unitPrice: 30 })).offerId!;
  return { market, init, clients, open, settled, offer, next: index + 1 };
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype];

/** The own property names of the built-in prototypes, to show that nothing was added to them. */
export function prototypeFingerprint(): string {
  return PROTOTYPES.map((proto) => Object.getOwnPropertyNames(proto).sort().join(',')).join(';');
}

/** Σ balances + grid as an exact integer. */
export function totalMoney(market: PowerMarket): bigint {
  return market.nodes().reduce((sum, node) => sum + BigInt(node.balance), BigInt(market.gridBalance()));
}

/** What is wrong with the market's accounts and weights, if anything (one `expect` per check is slow in a fuzz loop). */
export function soundnessProblems(market: PowerMarket): string[] {
  const problems: string[] = [];
  const total = totalMoney(market);
  if (total !== 0n) problems.push(`money sums to ${total}`);
  if (!Number.isSafeInteger(market.gridBalance())) problems.push(`grid balance ${market.gridBalance()}`);
  for (const node of market.nodes()) {
    if (!Number.isSafeInteger(node.balance)) problems.push(`${node.id}: balance ${node.balance}`);
    const values = { creditWeight: node.creditWeight, participation: node.participation, renewableKWh: node.renewableKWh, carbonSettlement: node.carbonSettlement, ...node.carbonCycle };
    for (const [name, value] of Object.entries(values)) if (!Number.isFinite(value)) problems.push(`${node.id}: ${name} ${value}`);
    if (!(node.creditWeight >= 0 && node.creditWeight <= 100)) problems.push(`${node.id}: creditWeight ${node.creditWeight}`);
    if (!(node.participation >= 0 && node.participation <= 100)) problems.push(`${node.id}: participation ${node.participation}`);
  }
  for (const [id, score] of market.scores()) if (!Number.isFinite(score)) problems.push(`${id}: score ${score}`);
  return problems;
}

/** The invariants that hold after every entry, whatever it held. */
export function expectSound(market: PowerMarket): void {
  expect(soundnessProblems(market)).toEqual([]);
}

/** A snapshot restores to the same bytes, and the ledger alone, anchored at the head, rebuilds the same state. */
export function expectReplayable(market: PowerMarket, init: PowerMarketInit): void {
  const snapshot = market.snapshot();
  const restored = powerMarket(init);
  restored.restore(snapshot);
  expect(Buffer.from(restored.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
  const replayed = replayLedger(market.ledger(), init, { head: market.ledgerHead() });
  expect(replayed.lastAppliedIndex()).toBe(market.lastAppliedIndex());
  expect(Buffer.from(replayed.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
}
