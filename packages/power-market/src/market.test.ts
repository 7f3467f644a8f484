import { sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MarketClient, marketClient, transactionSubjectId } from './client.js';
import {
  ContractAlreadySettledError,
  InsufficientCertificatesError,
  InvalidContractStateError,
  InvalidCounterpartyError,
  InvalidQuantityError,
  InvalidSignatureError,
  InvalidSnapshotError,
  InvalidTransactionError,
  type MarketError,
  NodeAlreadyRegisteredError,
  NotAPartyError,
  PriceOutOfRangeError,
  ReplayedNonceError,
  UnknownContractError,
  UnknownNodeError,
  UnknownOfferError,
} from './errors.js';
import { verifyLedger } from './ledger.js';
import { type PowerMarket, type PowerMarketInit, powerMarket } from './market.js';
import { replayLedger } from './replay.js';
import {
  type MarketTransaction,
  type SignedTransaction,
  encodeTransactions,
  generateParticipantKeys,
  signingBytes,
} from './transactions.js';
import { toBase64Url } from './canonical.js';

const DAY = 86_400_000;

interface Setup {
  market: PowerMarket;
  clients: Record<string, MarketClient>;
}

/** g1 (renewable) and g2 generate, c1 and c2 consume; all registered. */
function setup(init: PowerMarketInit = { initialCreditWeight: 80 }): Setup {
  const market = powerMarket(init);
  const clients: Record<string, MarketClient> = {};
  for (const [id, kind, renewable] of [
    ['g1', 'generation', true],
    ['g2', 'generation', false],
    ['c1', 'consumption', false],
    ['c2', 'consumption', false],
  ] as const) {
    clients[id] = marketClient({ id, keys: generateParticipantKeys() });
    market.execute(clients[id]!.register({ kind, renewable }));
  }
  return { market, clients };
}

/** Proposes (by the generator), accepts, reports both meters; returns the contract id. */
function contract(
  { market, clients }: Setup,
  generator: string,
  consumer: string,
  terms: { unitPrice: number; contractedKWh: number; generatedKWh: number; consumedKWh: number; handlingFee?: number },
): string {
  const proposal = clients[generator]!.proposeContract({
    counterparty: consumer,
    unitPrice: terms.unitPrice,
    contractedKWh: terms.contractedKWh,
    deliveryStart: DAY,
    deliveryEnd: 2 * DAY,
    handlingFee: terms.handlingFee ?? 0,
  });
  const id = market.execute(proposal).contractId!;
  expect(id).toBe(transactionSubjectId(proposal));
  market.execute(clients[consumer]!.acceptContract(id));
  market.execute(clients[generator]!.reportDelivery(id, terms.generatedKWh));
  market.execute(clients[consumer]!.reportDelivery(id, terms.consumedKWh));
  return id;
}

function totalMoney(market: PowerMarket): number {
  return market.nodes().reduce((sum, node) => sum + node.balance, market.gridBalance());
}

describe('a trading round through the state machine', () => {
  it('settles contracts, moves balances by eq. 26–34 and conserves money', () => {
    const s = setup();
    const a = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 100, generatedKWh: 100, consumedKWh: 90, handlingFee: 0.5 });
    const b = contract(s, 'g2', 'c2', { unitPrice: 0.5, contractedKWh: 50, generatedKWh: 50, consumedKWh: 50 });
    // Handling fees: 0.50 each from g1 and c1 to the grid.
    expect(s.market.gridBalance()).toBe(1_000);
    const receipt = s.market.execute(s.clients['g2']!.settleRound([a, b]));
    const round = receipt.round!;
    expect(round.round).toBe(1);
    expect(s.market.round()).toBe(1);
    // c1 consumed 90 of 100: eq. 17 ΔW = 80 · 10/100 = 8 → 72. eq. 33 M_y = (0.60 − 0.40) · 10 · (1 + 8) = 18.00,
    // of which g1's loss 0.20 · 10 = 2.00; F_w = 16.00 to g2 and c2 by weight after the round.
    expect(s.market.node('c1')!.creditWeight).toBeCloseTo(72, 10);
    const c1 = round.settlement.nodes.find((n) => n.id === 'c1')!;
    expect(c1.penalty).toBe(18_000);
    // g1: V_f = 90 · 0.60 + 10 · 0.40 = 58.00, + 2.00 compensation − 0.50 fee.
    expect(s.market.balance('g1')).toBe(58_000 + 2_000 - 500);
    // c1: V_y = 90 · 0.64 = 57.60, + 18.00 penalty + 0.50 fee.
    expect(s.market.balance('c1')).toBe(-57_600 - 18_000 - 500);
    // g2 (W 80 + 20 · 50/150) and c2 (80 + 20 · 50/150) weigh the same: 8.00 each.
    expect(s.market.balance('g2')).toBe(25_000 + 8_000);
    expect(s.market.balance('c2')).toBe(-27_000 + 8_000);
    expect(totalMoney(s.market)).toBe(0);
    expect(s.market.contract(a)!.status).toBe('settled');
    expect(s.market.contract(a)!.settledInRound).toBe(1);
  });

  it('produces every node’s score inputs and vote weights after the round', () => {
    const s = setup();
    const a = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 100, generatedKWh: 100, consumedKWh: 100 });
    const seen: number[] = [];
    const summary = s.market.execute(s.clients['c1']!.settleRound([a])).round!;
    seen.push(summary.round);
    const inputs = new Map(summary.scoreInputs.map((input) => [input.id, input]));
    expect([...inputs.keys()]).toEqual(['c1', 'c2', 'g1', 'g2']);
    // Performed: 80 + (100 − 80) · 100/100 = 100.
    expect(inputs.get('g1')).toMatchObject({ kind: 'generation', creditWeight: 100, contracted: 100, actual: 100, transmissions: 1, transmissionFaults: 0 });
    expect(inputs.get('c2')).toMatchObject({ kind: 'consumption', creditWeight: 80, contracted: 0, actual: 0 });
    expect(inputs.get('c2')!.transmissions).toBeUndefined();
    expect(summary.scores!.get('g1')!).toBeGreaterThan(summary.scores!.get('g2')!);
    const weights = summary.voteWeights!;
    expect(weights.get('g1')!).toBeGreaterThan(weights.get('g2')!);
    // The fault-tolerance guard: the heaviest voter is not a quorum by itself.
    const total = [...weights.values()].reduce((x, y) => x + y, 0);
    expect(2 * Math.max(...weights.values())).toBeLessThan(total);
    expect(s.market.voteWeights()).toEqual(weights);
    expect(s.market.lastRound()).toBe(summary);
  });

  it('calls onRound on every settled round', () => {
    const rounds: number[] = [];
    const s = setup({ initialCreditWeight: 50, onRound: (summary) => rounds.push(summary.round) });
    for (let i = 0; i < 3; i++) {
      const id = contract(s, 'g2', 'c2', { unitPrice: 0.5, contractedKWh: 10, generatedKWh: 10, consumedKWh: 10 });
      s.market.execute(s.clients['g2']!.settleRound([id]));
    }
    expect(rounds).toEqual([1, 2, 3]);
  });

  it('settles a party that reported nothing as having delivered nothing', () => {
    const s = setup();
    const proposal = s.clients['c2']!.proposeContract({ counterparty: 'g2', unitPrice: 0.5, contractedKWh: 40, deliveryStart: 0, deliveryEnd: DAY });
    const id = s.market.execute(proposal).contractId!;
    expect(s.market.contract(id)).toMatchObject({ generator: 'g2', consumer: 'c2', proposer: 'c2', status: 'proposed' });
    s.market.execute(s.clients['g2']!.acceptContract(id));
    s.market.execute(s.clients['c2']!.reportDelivery(id, 40));
    const summary = s.market.execute(s.clients['c2']!.settleRound([id])).round!;
    const c = summary.settlement.contracts[0]!;
    // g2 generated 0 of 40: eq. 30 V_y = 40 · 0.75 = 30.00 from the grid; eq. 32 M_f = 0.21 · 40 · (1 + 80) = 680.40.
    expect(c.generatorDefaulted).toBe(true);
    expect(c.consumerExpense).toBe(30_000);
    expect(c.generatorPenalty).toBe(680_400);
    expect(s.market.node('g2')!.creditWeight).toBe(0);
    expect(s.market.node('g2')!.transmissions).toBe(0);
    expect(totalMoney(s.market)).toBe(0);
  });
});

describe('green certificates, carbon, line faults, participation', () => {
  it('issues one certificate per MWh of renewable generation, accumulating across rounds (eq. 6)', () => {
    const s = setup();
    const deliver = (kWh: number, generator = 'g1') => {
      const id = contract(s, generator, 'c1', { unitPrice: 0.6, contractedKWh: kWh, generatedKWh: kWh, consumedKWh: kWh });
      s.market.execute(s.clients['c1']!.settleRound([id]));
    };
    deliver(700);
    expect(s.market.greenCertificates('g1')).toBe(0);
    deliver(700); // 1400 kWh
    expect(s.market.greenCertificates('g1')).toBe(1);
    deliver(1700); // 3100 kWh
    expect(s.market.greenCertificates('g1')).toBe(3);
    expect(s.market.node('g1')!.renewableKWh).toBe(3100);
    deliver(5000, 'g2'); // not renewable
    expect(s.market.greenCertificates('g2')).toBe(0);
  });

  it('moves sold certificates to the buyer, who pays for them (eq. 20)', () => {
    const s = setup();
    const id = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 2500, generatedKWh: 2500, consumedKWh: 2500 });
    s.market.execute(s.clients['c1']!.settleRound([id]));
    expect(s.market.greenCertificates('g1')).toBe(2);
    const offer = s.market.execute(s.clients['g1']!.offerCertificates({ buyer: 'c2', count: 2, unitPrice: 30 })).offerId!;
    expect(s.market.offers()).toEqual([{ id: offer, seller: 'g1', buyer: 'c2', count: 2, unitPrice: 30_000 }]);
    const before = { g1: s.market.balance('g1'), c2: s.market.balance('c2') };
    s.market.execute(s.clients['c2']!.acceptCertificates(offer));
    expect(s.market.greenCertificates('g1')).toBe(0);
    expect(s.market.greenCertificates('c2')).toBe(2);
    expect(s.market.balance('g1') - before.g1).toBe(60_000);
    expect(s.market.balance('c2') - before.c2).toBe(-60_000);
    expect(s.market.offers()).toEqual([]);
    expect(s.market.scoreInputs().find((n) => n.id === 'c2')!.greenCertificates).toBe(2);
    expect(totalMoney(s.market)).toBe(0);
  });

  it('settles carbon accounts at the end of each cycle (eq. 22)', () => {
    const s = setup({ initialCreditWeight: 80, carbonCycleRounds: 2 });
    s.market.execute(s.clients['g2']!.recordCarbon({ quota: 100, purchased: 20, emitted: 130 }));
    s.market.execute(s.clients['c1']!.recordCarbon({ quota: 50, emitted: 10 }));
    const settle = () => {
      const id = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 10, generatedKWh: 10, consumedKWh: 10 });
      s.market.execute(s.clients['c1']!.settleRound([id]));
    };
    settle();
    expect(s.market.node('g2')!.carbonSettlement).toBe(0); // cycle still open
    expect(s.market.node('g2')!.carbonCycle).toEqual({ quota: 100, purchased: 20, emitted: 130 });
    settle();
    // 100 + 20 − 130 = −10; c1: 50 − 10 = 40.
    expect(s.market.node('g2')!.carbonSettlement).toBe(-10);
    expect(s.market.node('c1')!.carbonSettlement).toBe(40);
    expect(s.market.node('g2')!.carbonCycle).toEqual({ quota: 0, purchased: 0, emitted: 0 });
    expect(s.market.scoreInputs().find((n) => n.id === 'g2')!.carbonSettlement).toBe(-10);
  });

  it('counts transmissions and reported line faults per generator (eq. 23)', () => {
    const s = setup();
    const ids = [0, 1, 2].map(() => {
      const id = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 10, generatedKWh: 10, consumedKWh: 10 });
      s.market.execute(s.clients['c1']!.settleRound([id]));
      return id;
    });
    s.market.execute(s.clients['c1']!.reportLineFault(ids[1]!));
    expect(s.market.node('g1')).toMatchObject({ transmissions: 3, transmissionFaults: 1 });
    expect(() => s.market.execute(s.clients['g1']!.reportLineFault(ids[1]!))).toThrow(InvalidContractStateError);
    expect(() => s.market.execute(s.clients['c2']!.reportLineFault(ids[0]!))).toThrow(NotAPartyError);
  });

  it('records consensus participation from commit quorums (eq. 19)', () => {
    const s = setup();
    // Leader g1 first, then the followers whose acknowledgements formed the quorum. Round k = 1: +1 · 2/1.
    s.market.execute(s.clients['g1']!.recordParticipation(['g1', 'c1', 'g2']));
    expect(s.market.node('c1')!.participation).toBe(2);
    expect(s.market.node('g2')!.participation).toBe(2);
    expect(s.market.node('g1')!.participation).toBe(0);
    expect(() => s.market.execute(s.clients['g1']!.recordParticipation(['g1', 'zz']))).toThrow(UnknownNodeError);
  });
});

/** Signs a transaction without the client-side checks, to reach the state machine's own. */
function rawSign(transaction: unknown, client: { keys: ReturnType<typeof generateParticipantKeys> }): SignedTransaction {
  let signature = '';
  try {
    signature = toBase64Url(sign(null, signingBytes(transaction as MarketTransaction), client.keys.privateKey));
  } catch {
    signature = 'AA'; // a non-finite number cannot even be encoded for signing
  }
  return { transaction: transaction as MarketTransaction, signature };
}

describe('refused transactions', () => {
  const keys = { g1: generateParticipantKeys(), c1: generateParticipantKeys(), g2: generateParticipantKeys(), c2: generateParticipantKeys() };
  function build() {
    const market = powerMarket({ initialCreditWeight: 80 });
    const clients = Object.fromEntries(
      (Object.keys(keys) as (keyof typeof keys)[]).map((id) => [id, marketClient({ id, keys: keys[id] })]),
    ) as Record<keyof typeof keys, MarketClient>;
    market.execute(clients.g1.register({ kind: 'generation', renewable: true }));
    market.execute(clients.g2.register({ kind: 'generation' }));
    market.execute(clients.c1.register({ kind: 'consumption' }));
    market.execute(clients.c2.register({ kind: 'consumption' }));
    const open = market.execute(clients.g1.proposeContract({ counterparty: 'c1', unitPrice: 0.6, contractedKWh: 100, deliveryStart: 0, deliveryEnd: DAY })).contractId!;
    const done = market.execute(clients.g2.proposeContract({ counterparty: 'c2', unitPrice: 0.6, contractedKWh: 10, deliveryStart: 0, deliveryEnd: DAY })).contractId!;
    market.execute(clients.c2.acceptContract(done));
    market.execute(clients.c2.settleRound([done]));
    return { market, clients, open, done };
  }

  const base = (signer: string, nonce: number) => ({ signer, nonce });
  const cases: [string, (b: ReturnType<typeof build>) => SignedTransaction, new (...args: never[]) => MarketError][] = [
    ['a signature by another key', ({ clients }) => ({ ...clients.g1.acceptContract('x'), transaction: { type: 'recordCarbon', ...base('c1', 50), quota: 1, purchased: 0, emitted: 0 } }), InvalidSignatureError],
    ['a tampered field', ({ clients }) => {
      const signed = clients.c1.recordCarbon({ quota: 1 });
      return { ...signed, transaction: { ...signed.transaction, quota: 1000 } as MarketTransaction };
    }, InvalidSignatureError],
    ['a signature for another market', () => {
      const other = marketClient({ id: 'c1', keys: keys.c1, marketId: 'elsewhere', lastNonce: 40 });
      return other.recordCarbon({ quota: 1 });
    }, InvalidSignatureError],
    ['a replayed nonce', () => rawSign({ type: 'recordCarbon', ...base('c1', 1), quota: 1, purchased: 0, emitted: 0 }, { keys: keys.c1 }), ReplayedNonceError],
    ['an unknown signer', () => marketClient({ id: 'ghost', keys: generateParticipantKeys() }).recordCarbon({ quota: 1 }), UnknownNodeError],
    ['a second registration', () => marketClient({ id: 'g1', keys: keys.g1, lastNonce: 90 }).register({ kind: 'generation' }), NodeAlreadyRegisteredError],
    ['an unknown counterparty', ({ clients }) => clients.g1.proposeContract({ counterparty: 'nobody', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1 }), UnknownNodeError],
    ['a contract between two generators', ({ clients }) => clients.g1.proposeContract({ counterparty: 'g2', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1 }), InvalidCounterpartyError],
    ['a contract between two consumers', ({ clients }) => clients.c1.proposeContract({ counterparty: 'c2', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1 }), InvalidCounterpartyError],
    ['a negative volume', () => rawSign({ type: 'reportDelivery', ...base('c1', 60), contractId: 'g1/2', meteredKWh: -5 }, { keys: keys.c1 }), InvalidQuantityError],
    ['a non-finite volume', () => rawSign({ type: 'reportDelivery', ...base('c1', 60), contractId: 'g1/2', meteredKWh: Number.POSITIVE_INFINITY }, { keys: keys.c1 }), InvalidQuantityError],
    ['a NaN price', () => rawSign({ type: 'proposeContract', ...base('g1', 60), counterparty: 'c1', unitPrice: Number.NaN, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1, handlingFee: 0 }, { keys: keys.g1 }), InvalidQuantityError],
    ['a price above the range', ({ clients }) => clients.g1.proposeContract({ counterparty: 'c1', unitPrice: 0.9, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1 }), PriceOutOfRangeError],
    ['a price below the range', ({ clients }) => clients.g1.proposeContract({ counterparty: 'c1', unitPrice: 0.1, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1 }), PriceOutOfRangeError],
    ['settling an unknown contract', ({ clients }) => clients.c1.settleRound(['g1/99']), UnknownContractError],
    ['settling an already-settled contract', ({ clients, done }) => clients.c1.settleRound([done]), ContractAlreadySettledError],
    ['settling a contract not yet accepted', ({ clients, open }) => clients.c1.settleRound([open]), InvalidContractStateError],
    ['reporting on a settled contract', ({ clients, done }) => clients.c2.reportDelivery(done, 5), ContractAlreadySettledError],
    ['accepting one’s own proposal', ({ clients, open }) => clients.g1.acceptContract(open), NotAPartyError],
    ['a stranger reporting delivery', ({ clients, open }) => clients.c2.reportDelivery(open, 5), NotAPartyError],
    ['offering certificates one does not hold', ({ clients }) => clients.g1.offerCertificates({ buyer: 'c1', count: 1, unitPrice: 10 }), InsufficientCertificatesError],
    ['accepting an unknown offer', ({ clients }) => clients.c1.acceptCertificates('g1/77'), UnknownOfferError],
    ['an unknown transaction type', () => rawSign({ type: 'mint', ...base('c1', 60), amount: 1 }, { keys: keys.c1 }), InvalidTransactionError],
    ['an extra field', () => rawSign({ type: 'recordCarbon', ...base('c1', 60), quota: 1, purchased: 0, emitted: 0, bonus: 1 }, { keys: keys.c1 }), InvalidTransactionError],
  ];

  it.each(cases)('refuses %s with a typed error and leaves the state byte-identical', (_name, make, errorClass) => {
    const built = build();
    const signed = make(built);
    const before = built.market.snapshot();
    const ledgerHeight = built.market.ledger().length;
    let caught: unknown;
    try {
      built.market.execute(signed);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(errorClass);
    expect((caught as MarketError).name).toBe(errorClass.name);
    expect((caught as MarketError).code).toMatch(/^[A-Z_]+$/);
    expect(built.market.snapshot()).toEqual(before);
    expect(built.market.ledger()).toHaveLength(ledgerHeight);
  });

  it('leaves the snapshot byte-identical when apply() refuses a whole entry at an old index', () => {
    const built = build();
    const before = built.market.snapshot();
    const result = built.market.apply({ index: 1, term: 1, data: encodeTransactions(built.clients.c1.recordCarbon({ quota: 1 })) });
    expect(result.outcomes).toEqual([]);
    expect(built.market.snapshot()).toEqual(before);
  });
});

describe('apply, snapshot, restore and replay', () => {
  it('turns each committed entry into one block of its accepted transactions', () => {
    const market = powerMarket();
    const g = marketClient({ id: 'g', keys: generateParticipantKeys() });
    const c = marketClient({ id: 'c', keys: generateParticipantKeys() });
    const first = market.apply({ index: 1, term: 1, data: new Uint8Array() });
    expect(first.block).toBeUndefined();
    const registerG = g.register({ kind: 'generation' });
    const second = market.apply({ index: 2, term: 1, data: encodeTransactions([registerG, c.register({ kind: 'consumption' }), registerG]) });
    expect(second.outcomes.map((o) => o.accepted)).toEqual([true, true, false]);
    expect(second.outcomes[2]!.accepted ? undefined : second.outcomes[2]!.error).toBeInstanceOf(NodeAlreadyRegisteredError);
    expect(second.block?.height).toBe(1);
    const garbage = market.apply({ index: 3, term: 2, data: new TextEncoder().encode('{"not":"a list"}') });
    expect(garbage.block).toBeUndefined();
    expect(garbage.outcomes[0]!.accepted ? undefined : garbage.outcomes[0]!.error).toBeInstanceOf(InvalidTransactionError);
    const third = market.apply({ index: 4, term: 2, data: encodeTransactions(g.proposeContract({ counterparty: 'c', unitPrice: 0.5, contractedKWh: 5, deliveryStart: 0, deliveryEnd: 1 })) });
    expect(third.block?.height).toBe(2);
    const ledger = market.ledger();
    expect(ledger.map((b) => [b.header.height, b.header.term, b.header.index, b.transactions.length])).toEqual([
      [1, 1, 2, 2],
      [2, 2, 4, 1],
    ]);
    expect(verifyLedger(ledger)).toEqual({ valid: true, height: 2 });
    // Re-applying an entry (after a restart) is a no-op.
    expect(market.apply({ index: 4, term: 2, data: new Uint8Array() }).outcomes).toEqual([]);
    expect(market.lastAppliedIndex()).toBe(4);
  });

  it('round-trips snapshot and restore, and rebuilds the same state by replaying the ledger', () => {
    const s = setup();
    const a = contract(s, 'g1', 'c1', { unitPrice: 0.6, contractedKWh: 1500, generatedKWh: 1500, consumedKWh: 1200, handlingFee: 1 });
    s.market.execute(s.clients['c1']!.settleRound([a]));
    s.market.execute(s.clients['g2']!.recordCarbon({ quota: 5, emitted: 7 }));
    s.market.execute(s.clients['g1']!.offerCertificates({ buyer: 'c2', count: 1, unitPrice: 20 }));

    const restored = powerMarket({ initialCreditWeight: 80 });
    restored.restore(s.market.snapshot());
    expect(restored.nodes()).toEqual(s.market.nodes());
    expect(restored.ledger()).toEqual(s.market.ledger());
    expect(restored.offers()).toEqual(s.market.offers());
    expect(restored.contract(a)).toEqual(s.market.contract(a));
    expect(restored.gridBalance()).toBe(s.market.gridBalance());
    expect(restored.snapshot()).toEqual(s.market.snapshot());
    // The restored market goes on identically.
    const next = s.clients['c2']!.acceptCertificates('g1/4');
    s.market.execute(next);
    restored.execute(next);
    expect(restored.snapshot()).toEqual(s.market.snapshot());

    const replayed = replayLedger(s.market.ledger(), { initialCreditWeight: 80 });
    expect(replayed.nodes()).toEqual(s.market.nodes());
    expect(replayed.ledger()).toEqual(s.market.ledger());
    expect(replayed.snapshot()).toEqual(s.market.snapshot());
  });

  it('refuses a snapshot of another market or of something else', () => {
    const market = powerMarket({ marketId: 'a' });
    expect(() => market.restore(powerMarket({ marketId: 'b' }).snapshot())).toThrow(InvalidSnapshotError);
    expect(() => market.restore(new TextEncoder().encode('[1,2]'))).toThrow(InvalidSnapshotError);
  });
});

describe('money is conserved in every round', () => {
  it('keeps Σ balances + grid at exactly zero over random rounds', () => {
    const keys = Array.from({ length: 6 }, () => generateParticipantKeys());
    const roundArbitrary = fc.array(
      fc.record({
        generator: fc.integer({ min: 0, max: 2 }),
        consumer: fc.integer({ min: 3, max: 5 }),
        price: fc.double({ min: 0.4, max: 0.71, noNaN: true }),
        contracted: fc.integer({ min: 1, max: 3000 }),
        generated: fc.option(fc.double({ min: 0, max: 4000, noNaN: true }), { nil: undefined }),
        consumed: fc.option(fc.double({ min: 0, max: 4000, noNaN: true }), { nil: undefined }),
        fee: fc.double({ min: 0, max: 5, noNaN: true }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(fc.array(roundArbitrary, { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 100, noNaN: true }), (rounds, initial) => {
        const market = powerMarket({ initialCreditWeight: initial });
        const clients = keys.map((k, i) => marketClient({ id: `n${i}`, keys: k }));
        for (const [i, client] of clients.entries()) market.execute(client.register({ kind: i < 3 ? 'generation' : 'consumption', renewable: i === 0 }));
        for (const round of rounds) {
          const ids = round.map((c) => {
            const g = clients[c.generator]!;
            const y = clients[c.consumer]!;
            const id = market.execute(g.proposeContract({ counterparty: y.id, unitPrice: c.price, contractedKWh: c.contracted, deliveryStart: 0, deliveryEnd: 1, handlingFee: c.fee })).contractId!;
            market.execute(y.acceptContract(id));
            if (c.generated !== undefined) market.execute(g.reportDelivery(id, c.generated));
            if (c.consumed !== undefined) market.execute(y.reportDelivery(id, c.consumed));
            return id;
          });
          const before = totalMoney(market);
          market.execute(clients[0]!.settleRound(ids));
          expect(totalMoney(market)).toBe(before);
          expect(totalMoney(market)).toBe(0);
        }
      }),
      { numRuns: 40 },
    );
  });
});
