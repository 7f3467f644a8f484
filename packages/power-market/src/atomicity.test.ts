import { describe, expect, it, vi } from 'vitest';
import { TransactionAbortedError } from './errors.js';
import { entryOf, expectReplayable, expectSound, scene, totalMoney } from './hostile.test-utils.js';

// Fault injection: eq. 22's settlement throws a non-market error for one chosen account, at the
// end of a carbon cycle, after the round has already moved balances in its draft. This is the
// failure that once left balances and the round written before apply() threw.
const fault = vi.hoisted(() => ({ emittedThatThrows: -1 }));
vi.mock('@greenraft/weight-scoring', async (importOriginal) => {
  const original = await importOriginal<typeof import('@greenraft/weight-scoring')>();
  return {
    ...original,
    carbonSettlement: (account: { quota: number; purchased: number; emitted: number }) => {
      if (account.emitted === fault.emittedThatThrows) throw new TypeError('an injected fault in eq. 22');
      return original.carbonSettlement(account);
    },
  };
});

describe('a non-market error in the middle of a transaction', () => {
  it('refuses that transaction only, keeps the rest of the entry, and leaves no partial write', () => {
    const s = scene({ initialCreditWeight: 80, carbonCycleRounds: 3 });
    // Round 3 ends the cycle; c2's account makes eq. 22 throw.
    fault.emittedThatThrows = 7;
    const before = { money: totalMoney(s.market), round: s.market.round(), g1: s.market.balance('g1'), contract: s.market.contract(s.open) };
    const index = s.next++;
    const result = s.market.apply({
      index,
      term: 2,
      data: entryOf([s.clients.c2.recordCarbon({ emitted: 7 }), s.clients.c1.settleRound([s.open]), s.clients.g2.recordCarbon({ quota: 1 })]),
    });
    expect(s.market.lastAppliedIndex()).toBe(index);
    expect(result.outcomes.map((outcome) => outcome.accepted)).toEqual([true, false, true]);
    const refused = result.outcomes[1]!;
    expect(refused.accepted ? undefined : refused.error).toBeInstanceOf(TransactionAbortedError);
    expect(refused.accepted ? undefined : (refused.error.cause as Error).message).toBe('an injected fault in eq. 22');
    // Nothing of the round: not the round count, not a balance, not the contract.
    expect(s.market.round()).toBe(before.round);
    expect(s.market.balance('g1')).toBe(before.g1);
    expect(s.market.contract(s.open)).toEqual(before.contract);
    expect(totalMoney(s.market)).toBe(before.money);
    // The other two transactions did apply.
    expect(s.market.node('c2')!.carbonCycle.emitted).toBe(7);
    expect(s.market.node('g2')!.carbonCycle.quota).toBe(1);
    expect(result.block).toBeDefined();
    expectSound(s.market);
    expectReplayable(s.market, s.init);
    // Once the fault is gone, the same settlement goes through.
    fault.emittedThatThrows = -1;
    const retry = s.market.apply({ index: s.next++, term: 2, data: entryOf([s.clients.c1.settleRound([s.open])]) });
    expect(retry.outcomes[0]!.accepted).toBe(true);
    expect(s.market.round()).toBe(before.round + 1);
  });
});
