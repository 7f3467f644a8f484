import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { marketClient } from './client.js';
import { LimitExceededError, MarketError } from './errors.js';
import { expectReplayable, expectSound, keysOf, totalMoney } from './hostile.test-utils.js';
import { MARKET_LIMITS } from './limits.js';
import { powerMarket } from './market.js';
import { settleRound } from './settlement.js';

// The widest market the limits allow: S = 0, B = maxPrice, G = 0, so U may be anything in
// [0, maxPrice], and every node starts at W_a^max, so every penalty carries the largest ΔW_a.
const PRICES = { feedInTariff: 0, gridPurchasePrice: MARKET_LIMITS.maxPrice, overGridFee: 0 };
const { maxRoundKWh, maxPrice, maxCreditWeight, maxHandlingFee } = MARKET_LIMITS;

/** A volume share of the round's limit: 0, all of it, or anything between. */
const share = fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }));
const unitPrice = fc.oneof(fc.constant(0), fc.constant(maxPrice), fc.double({ min: 0, max: maxPrice, noNaN: true }));

const roundAtTheLimits = fc.record({
  contracts: fc.array(fc.record({ generator: fc.nat(2), consumer: fc.nat(2), unitPrice, contracted: share, generated: share, consumed: share, fee: fc.oneof(fc.constant(maxHandlingFee), fc.constant(0)) }), {
    minLength: 1,
    maxLength: 6,
  }),
  weights: fc.array(fc.oneof(fc.constant(0), fc.constant(maxCreditWeight), fc.double({ min: 0, max: maxCreditWeight, noNaN: true })), { minLength: 6, maxLength: 6 }),
});

/** Scales the shares so that each of Σ C_e, Σ E_a,f and Σ E_a,y is at most the round limit, and usually exactly it. */
function volumes(contracts: readonly { contracted: number; generated: number; consumed: number }[]) {
  const n = contracts.length;
  return contracts.map((c) => ({
    contractedKWh: Math.max(1, Math.floor((c.contracted * maxRoundKWh) / n)),
    generatedKWh: Math.floor((c.generated * maxRoundKWh) / n),
    consumedKWh: Math.floor((c.consumed * maxRoundKWh) / n),
  }));
}

describe('rounds at the limits', () => {
  it('settleRound conserves money to the milli-yuan and keeps every amount an exact integer', () => {
    fc.assert(
      fc.property(roundAtTheLimits, ({ contracts, weights }) => {
        const nodes = [
          ...[0, 1, 2].map((i) => ({ id: `g${i}`, kind: 'generation' as const, creditWeight: weights[i]! })),
          ...[0, 1, 2].map((i) => ({ id: `c${i}`, kind: 'consumption' as const, creditWeight: weights[3 + i]! })),
        ];
        const sized = volumes(contracts);
        const settlement = settleRound({
          prices: PRICES,
          nodes,
          contracts: contracts.map((c, i) => ({ generator: `g${c.generator}`, consumer: `c${c.consumer}`, unitPrice: c.unitPrice, ...sized[i]! })),
        });
        const amounts = [settlement.gridBalanceChange, ...settlement.nodes.flatMap((node) => [node.balanceChange, node.penalty, node.allocation, node.revenueOrExpense])];
        for (const amount of amounts) expect(Number.isSafeInteger(amount)).toBe(true);
        const sum = settlement.nodes.reduce((total, node) => total + BigInt(node.balanceChange), BigInt(settlement.gridBalanceChange));
        expect(sum).toBe(0n);
        for (const node of settlement.nodes) {
          expect(node.creditWeightAfter).toBeGreaterThanOrEqual(0);
          expect(node.creditWeightAfter).toBeLessThanOrEqual(maxCreditWeight);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the market settles them, refuses only what would overflow an account, and stays exact and replayable', () => {
    const init = { prices: PRICES, initialCreditWeight: maxCreditWeight, carbonCycleRounds: 2 };
    fc.assert(
      fc.property(fc.array(roundAtTheLimits, { minLength: 1, maxLength: 5 }), (rounds) => {
        const market = powerMarket(init);
        const clients = ['g0', 'g1', 'g2', 'c0', 'c1', 'c2'].map((id) => marketClient({ id, keys: keysOf(id) }));
        for (const client of clients) market.execute(client.register({ kind: client.id.startsWith('g') ? 'generation' : 'consumption', renewable: client.id === 'g0' }));
        const attempt = (run: () => unknown): void => {
          try {
            run();
          } catch (error) {
            // The only refusal at these sizes: an account that would leave ±(2^53 − 1) milli-yuan.
            expect(error).toBeInstanceOf(MarketError);
            expect(error).toBeInstanceOf(LimitExceededError);
          }
          expect(totalMoney(market)).toBe(0n);
        };
        for (const { contracts } of rounds) {
          const sized = volumes(contracts);
          const ids: string[] = [];
          for (const [i, c] of contracts.entries()) {
            const generator = clients[c.generator]!;
            const consumer = clients[3 + c.consumer]!;
            const proposal = generator.proposeContract({ counterparty: consumer.id, unitPrice: c.unitPrice, contractedKWh: sized[i]!.contractedKWh, deliveryStart: 0, deliveryEnd: 1, handlingFee: c.fee });
            const id = market.execute(proposal).contractId!;
            attempt(() => market.execute(consumer.acceptContract(id)));
            if (market.contract(id)!.status !== 'accepted') continue;
            market.execute(generator.reportDelivery(id, sized[i]!.generatedKWh));
            market.execute(consumer.reportDelivery(id, sized[i]!.consumedKWh));
            ids.push(id);
          }
          if (ids.length > 0) attempt(() => market.execute(clients[0]!.settleRound(ids)));
          attempt(() => market.execute(clients[1]!.recordCarbon({ quota: MARKET_LIMITS.maxCarbonTonnes, emitted: MARKET_LIMITS.maxCarbonTonnes })));
        }
        expectSound(market);
        expectReplayable(market, init);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses, with LimitExceededError, the certificate sale that would take a balance past 2^53 − 1 milli-yuan', () => {
    const init = { prices: PRICES };
    const market = powerMarket(init);
    const g = marketClient({ id: 'g', keys: keysOf('g0') });
    const c = marketClient({ id: 'c', keys: keysOf('c0') });
    market.execute(g.register({ kind: 'generation', renewable: true }));
    market.execute(c.register({ kind: 'consumption' }));
    // Free power, so only the certificates move money: 10^9 kWh earns 10^6 certificates (eq. 6).
    const id = market.execute(g.proposeContract({ counterparty: 'c', unitPrice: 0, contractedKWh: maxRoundKWh, deliveryStart: 0, deliveryEnd: 1 })).contractId!;
    market.execute(c.acceptContract(id));
    market.execute(g.reportDelivery(id, maxRoundKWh));
    market.execute(c.reportDelivery(id, maxRoundKWh));
    market.execute(c.settleRound([id]));
    const count = MARKET_LIMITS.maxCertificateCount;
    expect(market.greenCertificates('g')).toBe(count);
    // g sells them to c at the highest price, c hands them back for nothing: c pays 10^15 milli-yuan a cycle.
    const sale = count * MARKET_LIMITS.maxCertificatePrice * 1000;
    let refused: unknown;
    let cycles = 0;
    while (refused === undefined) {
      const offer = market.execute(g.offerCertificates({ buyer: 'c', count, unitPrice: MARKET_LIMITS.maxCertificatePrice })).offerId!;
      const before = market.snapshot();
      try {
        market.execute(c.acceptCertificates(offer));
      } catch (error) {
        refused = error;
        expect(Buffer.from(market.snapshot()).equals(Buffer.from(before))).toBe(true);
        break;
      }
      cycles += 1;
      const back = market.execute(c.offerCertificates({ buyer: 'g', count, unitPrice: 0 })).offerId!;
      market.execute(g.acceptCertificates(back));
    }
    expect(refused).toBeInstanceOf(LimitExceededError);
    expect(cycles).toBe(Math.floor(MARKET_LIMITS.maxBalance / sale));
    expect(market.balance('c')).toBe(-cycles * sale);
    expect(totalMoney(market)).toBe(0n);
    expectReplayable(market, init);
  });
});
