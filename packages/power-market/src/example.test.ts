import { describe, expect, it, vi } from 'vitest';
import { generateParticipantKeys, marketClient, powerMarket, toYuan } from './index.js';

// The @packageDocumentation example and the README's, run as written (console output checked).
describe('the package example', () => {
  it('runs and prints the balances and weights', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);

    const market = powerMarket({ initialCreditWeight: 80 });
    const solar = marketClient({ id: 'solar-farm', keys: generateParticipantKeys() });
    const mill = marketClient({ id: 'paper-mill', keys: generateParticipantKeys() });
    market.execute(solar.register({ kind: 'generation', renewable: true }));
    market.execute(mill.register({ kind: 'consumption' }));

    // A day-ahead contract: 1200 kWh at 0.60 yuan/kWh, proposed by the farm, accepted by the mill.
    const { contractId } = market.execute(
      solar.proposeContract({ counterparty: 'paper-mill', unitPrice: 0.6, contractedKWh: 1200, deliveryStart: Date.UTC(2024, 0, 2), deliveryEnd: Date.UTC(2024, 0, 3) }),
    );
    market.execute(mill.acceptContract(contractId!));

    // Metered delivery: the mill used only 1100 kWh, so it defaults on 100 kWh.
    market.execute(solar.reportDelivery(contractId!, 1200));
    market.execute(mill.reportDelivery(contractId!, 1100));
    const { round } = market.execute(mill.settleRound([contractId!]));

    console.log(toYuan(market.balance('solar-farm')), toYuan(market.balance('paper-mill')), toYuan(market.gridBalance()));
    console.log(market.node('paper-mill')?.creditWeight, market.greenCertificates('solar-farm'));
    console.log(round?.scores, market.voteWeights({ tolerateFailures: 0 }));

    const lines = log.mock.calls.map((call) => call.map(String).join(' '));
    log.mockRestore();
    // Farm: 1100 · 0.60 + 100 · 0.40 = 700.00, + the mill's compensation (0.60 − 0.40) · 100 = 20.00.
    // Mill: 1100 · 0.64 = 704.00, + penalty 20.00 · (1 + 80 · 100/1200) = 153.33 (nobody else to share it: it goes to the grid).
    expect(lines[0]).toBe('720 -857.333 137.333');
    // Credit 80 − 80 · 100/1200 = 73.33; one certificate for 1.2 MWh of solar power.
    expect(lines[1]).toMatch(/^73\.33\d* 1$/);
    expect(market.voteWeights({ tolerateFailures: 0 }).size).toBe(2);
  });
});
