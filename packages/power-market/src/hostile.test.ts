import { describe, expect, it } from 'vitest';
import { canonicalDecode, canonicalEncode, canonicalJson } from './canonical.js';
import { marketClient } from './client.js';
import {
  InvalidEncodingError,
  InvalidLedgerError,
  InvalidQuantityError,
  InvalidRoundError,
  InvalidSnapshotError,
  InvalidTransactionError,
  LimitExceededError,
  MarketError,
  UnknownContractError,
  UnknownNodeError,
  UnknownOfferError,
} from './errors.js';
import {
  DAY,
  entryOf,
  expectReplayable,
  expectSound,
  keysOf,
  prototypeFingerprint,
  type Scene,
  scene,
  signAnything,
  utf8,
} from './hostile.test-utils.js';
import { createBlock, verifyLedger } from './ledger.js';
import { MARKET_LIMITS } from './limits.js';
import type { ApplyResult } from './market.js';
import { powerMarket } from './market.js';
import { allocateProportionally } from './money.js';
import { replayLedger } from './replay.js';
import { PAPER_PRICES, settleRound } from './settlement.js';
import { decodeTransactions, parseSignedTransaction } from './transactions.js';

/** Applies one entry at the scene's next index and checks that the index advanced. */
function applyEntry(s: Scene, data: Uint8Array): ApplyResult {
  const index = s.next++;
  const result = s.market.apply({ index, term: 2, data });
  expect(s.market.lastAppliedIndex()).toBe(index);
  return result;
}

function refusal(result: ApplyResult, position = 0): MarketError {
  const outcome = result.outcomes[position]!;
  if (outcome.accepted) throw new Error(`transaction ${position} was accepted`);
  expect(outcome.error).toBeInstanceOf(MarketError);
  return outcome.error;
}

describe('a poison entry', () => {
  const poison = { type: 'recordCarbon', signer: 'g1', nonce: { toString: 0 }, quota: 1, purchased: 0, emitted: 0 };

  it('is refused with a typed error; the index advances and the next entry applies', () => {
    const s = scene();
    const before = { head: s.market.ledgerHead(), nodes: s.market.nodes() };
    const result = applyEntry(s, entryOf([signAnything('g1', poison)]));
    expect(result.block).toBeUndefined();
    expect(refusal(result)).toBeInstanceOf(InvalidTransactionError);
    // Only the applied index moved.
    expect(s.market.ledgerHead()).toEqual({ ...before.head, appliedIndex: s.next - 1 });
    expect(s.market.nodes()).toEqual(before.nodes);
    const next = applyEntry(s, entryOf([s.clients.g1.recordCarbon({ quota: 1 })]));
    expect(next.outcomes[0]!.accepted).toBe(true);
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });

  it('never makes decodeTransactions, execute, parseSignedTransaction or settleRound throw an untyped error', () => {
    const s = scene();
    expect(() => decodeTransactions(entryOf([signAnything('g1', poison)]))).toThrow(InvalidTransactionError);
    expect(() => s.market.execute(signAnything('g1', poison) as never)).toThrow(InvalidTransactionError);
    expect(() => parseSignedTransaction({ transaction: poison, signature: { toString: 0 } })).toThrow(InvalidTransactionError);
    const kind = { toString: 0 };
    expect(() => settleRound({ prices: PAPER_PRICES, nodes: [{ id: 'g', kind: kind as never, creditWeight: 1 }], contracts: [] })).toThrow(InvalidRoundError);
    expect(() =>
      settleRound({ prices: PAPER_PRICES, nodes: [{ id: 'g', kind: 'generation', creditWeight: 1 }], contracts: [{ generator: kind as never, consumer: 'c', unitPrice: 0.5, contractedKWh: 1, generatedKWh: 1, consumedKWh: 1 }] }),
    ).toThrow(UnknownNodeError);
  });

  it('refuses an entry that is not a list, not canonical, nested too deep or too large, as a whole', () => {
    const s = scene();
    const cases: Uint8Array[] = [
      utf8('{"not":"a list"}'),
      utf8('[{"b":1,"a":2}]'),
      utf8(`${'['.repeat(200_000)}${']'.repeat(200_000)}`),
      utf8('\ufeff[]'),
      Uint8Array.of(0x5b, 0xff, 0x5d),
      new Uint8Array(MARKET_LIMITS.maxEntryBytes + 1).fill(0x20),
      entryOf(Array.from({ length: MARKET_LIMITS.maxEntryTransactions + 1 }, () => 1)),
    ];
    for (const data of cases) {
      const result = applyEntry(s, data);
      expect(result.outcomes).toHaveLength(1);
      expect(refusal(result)).toBeInstanceOf(InvalidTransactionError);
    }
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });
});

describe('prototype keys', () => {
  const hostileIds = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

  it('name no registered node, contract or offer, and leave the built-in prototypes alone', () => {
    const s = scene();
    const fingerprint = prototypeFingerprint();
    let nonce = 100;
    for (const id of hostileIds) {
      const cases: [unknown, new (...args: never[]) => MarketError][] = [
        [{ type: 'recordParticipation', signer: 'g1', nonce: nonce++, acknowledgements: ['g1', id] }, UnknownNodeError],
        [{ type: 'proposeContract', signer: 'g1', nonce: nonce++, counterparty: id, unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1, handlingFee: 0 }, UnknownNodeError],
        [{ type: 'offerCertificates', signer: 'g1', nonce: nonce++, buyer: id, count: 1, unitPrice: 1 }, UnknownNodeError],
        [{ type: 'acceptContract', signer: 'c1', nonce: nonce++, contractId: id }, UnknownContractError],
        [{ type: 'settleRound', signer: 'c1', nonce: nonce++, contractIds: [id] }, UnknownContractError],
        [{ type: 'acceptCertificates', signer: 'c2', nonce: nonce++, offerId: id }, UnknownOfferError],
        [{ type: 'recordCarbon', signer: id, nonce: nonce++, quota: 1, purchased: 0, emitted: 0 }, UnknownNodeError],
      ];
      for (const [transaction, errorClass] of cases) {
        const signer = (transaction as { signer: string }).signer;
        expect(refusal(applyEntry(s, entryOf([signAnything(hostileIds.includes(signer) ? 'g1' : signer, transaction)])))).toBeInstanceOf(errorClass);
      }
    }
    expect(({} as Record<string, unknown>)['participation']).toBeUndefined();
    expect(prototypeFingerprint()).toEqual(fingerprint);
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });

  it('are ordinary keys in decoded JSON: a "__proto__" field is an unexpected field, not a prototype', () => {
    const s = scene();
    const fingerprint = prototypeFingerprint();
    const text = `[{"signature":"${'A'.repeat(86)}","transaction":{"__proto__":{"quota":5},"emitted":0,"nonce":60,"purchased":0,"quota":1,"signer":"g1","type":"recordCarbon"}}]`;
    const decoded = canonicalDecode(utf8(text)) as Record<string, Record<string, unknown>>[];
    expect(Object.getPrototypeOf(decoded[0]!['transaction'])).toBeNull();
    expect(Object.hasOwn(decoded[0]!['transaction']!, '__proto__')).toBe(true);
    const error = refusal(applyEntry(s, utf8(text)));
    expect(error).toBeInstanceOf(InvalidTransactionError);
    expect(error.message).toMatch(/__proto__/);
    expect(prototypeFingerprint()).toEqual(fingerprint);
  });

  it('are valid node ids that behave like any other', () => {
    const market = powerMarket({ initialCreditWeight: 50 });
    const fingerprint = prototypeFingerprint();
    const proto = marketClient({ id: '__proto__', keys: keysOf('__proto__') });
    const ctor = marketClient({ id: 'constructor', keys: keysOf('constructor') });
    market.execute(proto.register({ kind: 'generation', renewable: true }));
    market.execute(ctor.register({ kind: 'consumption' }));
    const id = market.execute(proto.proposeContract({ counterparty: 'constructor', unitPrice: 0.6, contractedKWh: 1000, deliveryStart: 0, deliveryEnd: DAY })).contractId!;
    market.execute(ctor.acceptContract(id));
    market.execute(proto.reportDelivery(id, 1000));
    market.execute(ctor.reportDelivery(id, 900));
    market.execute(ctor.settleRound([id]));
    market.execute(proto.recordParticipation(['__proto__', 'constructor']));
    expect(market.node('__proto__')!.certificatesIssued).toBe(1);
    expect(market.node('constructor')!.participation).toBeGreaterThan(0);
    expect(market.balance('__proto__')).toBeGreaterThan(0);
    expect(prototypeFingerprint()).toEqual(fingerprint);
    expectSound(market);
    expectReplayable(market, { initialCreditWeight: 50 });
  });
});

describe('huge finite values', () => {
  it('are refused before they reach an account, so snapshot() keeps working', () => {
    const s = scene();
    const cases: unknown[] = [
      { type: 'reportDelivery', signer: 'g1', nonce: 200, contractId: s.open, meteredKWh: 1e308 },
      { type: 'recordCarbon', signer: 'g1', nonce: 201, quota: 1e308, purchased: 0, emitted: 0 },
      { type: 'proposeContract', signer: 'g1', nonce: 202, counterparty: 'c1', unitPrice: 1e306, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1, handlingFee: 0 },
      { type: 'proposeContract', signer: 'g1', nonce: 203, counterparty: 'c1', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0, deliveryEnd: 1, handlingFee: 1e306 },
      { type: 'proposeContract', signer: 'g1', nonce: 204, counterparty: 'c1', unitPrice: 0.6, contractedKWh: 3e13, deliveryStart: 0, deliveryEnd: 1, handlingFee: 0 },
      { type: 'offerCertificates', signer: 'g1', nonce: 205, buyer: 'c2', count: 1, unitPrice: 1e306 },
      { type: 'proposeContract', signer: 'g1', nonce: 206, counterparty: 'c1', unitPrice: 0.6, contractedKWh: 1, deliveryStart: 0.5, deliveryEnd: 1, handlingFee: 0 },
    ];
    for (const transaction of cases) expect(refusal(applyEntry(s, entryOf([signAnything('g1', transaction)])))).toBeInstanceOf(InvalidQuantityError);
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });

  it('refuses the carbon record that would take a cycle account past its limit, and nothing else', () => {
    const s = scene();
    const perRecord = MARKET_LIMITS.maxCarbonTonnes;
    const records = MARKET_LIMITS.maxCarbonAccountTonnes / perRecord;
    // One entry of many records: the last is refused, the others stand.
    let nonce = 300;
    const entry = Array.from({ length: records + 1 }, () => signAnything('g2', { type: 'recordCarbon', signer: 'g2', nonce: nonce++, quota: perRecord, purchased: 0, emitted: perRecord }));
    const result = applyEntry(s, entryOf(entry.slice(0, 1000)));
    expect(result.outcomes.every((outcome) => outcome.accepted)).toBe(true);
    const last = applyEntry(s, entryOf(entry.slice(1000)));
    expect(last.outcomes.map((outcome) => outcome.accepted)).toEqual([false]);
    expect(refusal(last)).toBeInstanceOf(LimitExceededError);
    expect(s.market.node('g2')!.carbonCycle.quota).toBe(MARKET_LIMITS.maxCarbonAccountTonnes);
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });
});

describe('an onRound callback that throws', () => {
  it('does not make apply() throw: the round is committed and the next entries apply', () => {
    let explode = false;
    const s = scene({
      initialCreditWeight: 80,
      onRound: () => {
        if (explode) throw new TypeError('a callback that throws');
      },
    });
    explode = true;
    const round = s.market.round();
    const result = applyEntry(s, entryOf([s.clients.g1.settleRound([s.open])]));
    expect(result.outcomes[0]!.accepted).toBe(true);
    expect(s.market.round()).toBe(round + 1);
    expect(s.market.lastRound()?.round).toBe(round + 1);
    expect(applyEntry(s, entryOf([s.clients.c1.recordCarbon({ quota: 1 })])).outcomes[0]!.accepted).toBe(true);
    expectSound(s.market);
    expectReplayable(s.market, s.init);
  });
});

describe('conservation is exact for every accepted input', () => {
  it('allocateProportionally never hands out more than the amount (it once gave 9007199254108354 of 9007199254108353)', () => {
    const amount = 9_007_199_254_108_353;
    const parts = allocateProportionally(amount, [['a', 0.35], ['b', 0.3]])!;
    expect([...parts.values()].reduce((sum, part) => sum + part, 0)).toBe(amount);
    expect(allocateProportionally(10, [['a', Number.MAX_VALUE], ['b', Number.MAX_VALUE]])).toEqual(new Map([['a', 5], ['b', 5]]));
    expect(() => allocateProportionally(1.5, [['a', 1]])).toThrow(InvalidQuantityError);
    expect(() => allocateProportionally(1, [['a', Number.NaN]])).toThrow(InvalidQuantityError);
  });

  it('refuses a round past its volume limit, and settles one at it to the last milli-yuan', () => {
    const nodes = [
      { id: 'g', kind: 'generation' as const, creditWeight: 100 },
      { id: 'c', kind: 'consumption' as const, creditWeight: 100 },
      { id: 'x', kind: 'generation' as const, creditWeight: 100 },
    ];
    const contract = { generator: 'g', consumer: 'c', unitPrice: 0.4, contractedKWh: 3e13, generatedKWh: 3e13, consumedKWh: 0 };
    expect(() => settleRound({ prices: PAPER_PRICES, nodes, contracts: [contract] })).toThrow(InvalidQuantityError);
    const prices = { feedInTariff: 0, gridPurchasePrice: MARKET_LIMITS.maxPrice, overGridFee: 0 };
    const atLimit = { ...contract, unitPrice: MARKET_LIMITS.maxPrice / 2, contractedKWh: MARKET_LIMITS.maxRoundKWh, generatedKWh: 0, consumedKWh: 0 };
    const settlement = settleRound({ prices, nodes, contracts: [atLimit] });
    const sum = settlement.nodes.reduce((total, node) => total + BigInt(node.balanceChange), BigInt(settlement.gridBalanceChange));
    expect(sum).toBe(0n);
    // Both default: penalties (B − U − G)·C_e·ΔW + (U − S)·C_e·ΔW with ΔW = 100, in milli-yuan.
    expect(settlement.contracts[0]!.generatorPenalty + settlement.contracts[0]!.consumerPenalty).toBe(2 * 5 * 1e9 * 100 * 1000);
  });
});

describe('the ledger, anchored to a head', () => {
  function built() {
    const s = scene();
    applyEntry(s, entryOf([s.clients.g2.recordCarbon({ quota: 3 })]));
    applyEntry(s, entryOf([s.clients.c2.recordCarbon({ emitted: 4 })]));
    applyEntry(s, new Uint8Array()); // a no-op after the last block
    return s;
  }

  it('catches a dropped transaction with the chain rebuilt, a truncated tail and a re-hashed last block', () => {
    const s = built();
    const ledger = s.market.ledger();
    const head = s.market.ledgerHead();
    expect(head).toEqual({ height: ledger.length, hash: ledger.at(-1)!.hash, index: ledger.at(-1)!.header.index, term: 2, appliedIndex: s.market.lastAppliedIndex() });

    // Drop g2's independent carbon record and rebuild every block after it.
    const dropAt = ledger.length - 2;
    const rebuilt = [...ledger.slice(0, dropAt)];
    for (const block of ledger.slice(dropAt + 1)) rebuilt.push(createBlock(rebuilt.at(-1), block.header, block.transactions));
    const truncated = ledger.slice(0, -1);
    const last = ledger.at(-1)!;
    const edited = [...ledger.slice(0, -1), createBlock(ledger.at(-2), { term: last.header.term, index: last.header.index + 1 }, last.transactions)];

    for (const forged of [rebuilt, truncated, edited]) {
      // Consistent in themselves: a hash chain alone cannot tell.
      expect(verifyLedger(forged).valid).toBe(true);
      expect(() => replayLedger(forged, s.init)).not.toThrow();
      // Against the head every honest replica serves, each one fails.
      expect(verifyLedger(forged, { head })).toMatchObject({ valid: false, reason: 'head' });
      expect(() => replayLedger(forged, s.init, { head })).toThrow(InvalidLedgerError);
    }
    expect(verifyLedger(ledger, { head })).toEqual({ valid: true, height: ledger.length });
  });

  it('replays to the live state, applied index included', () => {
    const s = built();
    const replayed = replayLedger(s.market.ledger(), s.init, { head: s.market.ledgerHead() });
    expect(replayed.lastAppliedIndex()).toBe(s.market.lastAppliedIndex());
    expect(replayed.ledgerHead()).toEqual(s.market.ledgerHead());
    expect(Buffer.from(replayed.snapshot()).equals(Buffer.from(s.market.snapshot()))).toBe(true);
    // Without the head, the entries after the last block are not known.
    expect(replayLedger(s.market.ledger(), s.init).lastAppliedIndex()).toBeLessThan(s.market.lastAppliedIndex());
  });

  it('reports malformed blocks instead of throwing', () => {
    expect(verifyLedger([{} as never])).toMatchObject({ valid: false, reason: 'malformed', position: 0 });
    expect(verifyLedger([{ header: { height: 1 }, hash: 'x', transactions: [] } as never])).toMatchObject({ valid: false, reason: 'malformed' });
    expect(verifyLedger(null as never)).toMatchObject({ valid: false, reason: 'malformed' });
    expect(() => replayLedger([{ header: null } as never])).toThrow(InvalidLedgerError);
  });
});

describe('typed errors where untyped ones escaped', () => {
  it('restore() refuses what is not a snapshot, and leaves the market as it was', () => {
    const s = scene();
    const before = s.market.snapshot();
    for (const text of ['{"version":1,"marketId":"greenraft","blocks":[{}]}', '{"version":1,"marketId":"greenraft","blocks":[]}', '', '[1,2]', 'null']) {
      expect(() => s.market.restore(utf8(text))).toThrow(InvalidSnapshotError);
    }
    expect(() => s.market.restore(null as never)).toThrow(InvalidSnapshotError);
    expect(Buffer.from(s.market.snapshot()).equals(Buffer.from(before))).toBe(true);
    expect(s.market.nodes()).toHaveLength(4);
  });

  it('canonicalDecode and canonicalJson bound the nesting instead of exhausting the stack', () => {
    const deep = utf8(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(() => canonicalDecode(deep)).toThrow(InvalidEncodingError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(InvalidEncodingError);
    const holey = [1, 2, 3];
    delete holey[1]; // a hole has no JSON form
    expect(() => canonicalJson(holey)).toThrow(InvalidEncodingError);
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new RangeError('a getter that throws');
      },
    });
    expect(() => canonicalEncode(throwing)).toThrow(InvalidEncodingError);
    expect(() => canonicalDecode(utf8('\ufeff1'))).toThrow(InvalidEncodingError); // a byte-order mark is a second encoding
  });

  it('a field inherited through a prototype is not seen: the transaction is refused, not stored without it', () => {
    const s = scene();
    const honest = s.clients.g2.recordCarbon({ quota: 2, emitted: 1 });
    const { emitted, ...own } = honest.transaction as { emitted: number };
    const sneaky = { transaction: Object.assign(Object.create({ emitted }), own), signature: honest.signature };
    const before = s.market.snapshot();
    expect(() => s.market.execute(sneaky)).toThrow(InvalidTransactionError);
    expect(() => parseSignedTransaction(sneaky)).toThrow(/emitted/);
    expect(Buffer.from(s.market.snapshot()).equals(Buffer.from(before))).toBe(true);
    // The honest transaction still applies, and the ledger replays.
    s.market.execute(honest);
    expectReplayable(s.market, s.init);
  });
});
