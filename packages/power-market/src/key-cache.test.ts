import { describe, expect, it, vi } from 'vitest';
import { marketClient } from './client.js';
import { InvalidSignatureError } from './errors.js';
import { powerMarket } from './market.js';
import { encodeTransactions, generateParticipantKeys } from './transactions.js';

// Fault injection: building the entry's block throws once, so the whole entry is refused after
// its transactions ran on the entry's draft (the market's last-resort path).
const fault = vi.hoisted(() => ({ blockThrows: false }));
vi.mock('./ledger.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('./ledger.js')>();
  return {
    ...original,
    createBlock: (...args: Parameters<typeof original.createBlock>) => {
      if (fault.blockThrows) {
        fault.blockThrows = false;
        throw new TypeError('an injected fault while building the block');
      }
      return original.createBlock(...args);
    },
  };
});

describe('the public-key cache', () => {
  it('never verifies with the key of a registration that a refused entry dropped', () => {
    const market = powerMarket();
    const first = marketClient({ id: 'g1', keys: generateParticipantKeys() });
    const second = marketClient({ id: 'g1', keys: generateParticipantKeys() });
    // g1 registers with the first key and signs with it in the same entry; the entry is refused whole.
    fault.blockThrows = true;
    const refused = market.apply({ index: 1, term: 1, data: encodeTransactions([first.register({ kind: 'generation' }), first.recordCarbon({ quota: 1 })]) });
    expect(refused.outcomes.map((outcome) => outcome.accepted)).toEqual([false, false]);
    expect(market.node('g1')).toBeUndefined();
    // The id is free: g1 registers with the second key, which alone signs for it from now on.
    const registered = market.apply({ index: 2, term: 1, data: encodeTransactions(second.register({ kind: 'generation' })) });
    expect(registered.outcomes[0]!.accepted).toBe(true);
    const forged = market.apply({ index: 3, term: 1, data: encodeTransactions(first.recordCarbon({ quota: 2 })) });
    const outcome = forged.outcomes[0]!;
    expect(outcome.accepted ? undefined : outcome.error).toBeInstanceOf(InvalidSignatureError);
    const genuine = market.apply({ index: 4, term: 1, data: encodeTransactions(second.recordCarbon({ quota: 3 })) });
    expect(genuine.outcomes[0]!.accepted).toBe(true);
    expect(market.node('g1')!.carbonCycle.quota).toBe(3);
  });
});
