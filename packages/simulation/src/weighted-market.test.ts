import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { generatedPowerMarket, simulatedPowerMarket } from './weighted-market.js';

const participants = [
  { id: 'sun', kind: 'generation', renewable: true, creditWeight: 90 },
  { id: 'coal', kind: 'generation', creditWeight: 90 },
  { id: 'mill', kind: 'consumption', creditWeight: 90 },
  { id: 'town', kind: 'consumption', creditWeight: 90 },
] as const;
const contracts = [
  { generator: 'sun', consumer: 'mill', unitPrice: 0.62, contractedKWh: 400 },
  // The town takes 80 % of what it contracted, round after round.
  { generator: 'coal', consumer: 'town', unitPrice: 0.62, contractedKWh: 400, consumedShare: 0.8 },
];

describe('simulatedPowerMarket', () => {
  it('settles rounds: performers gain credit (eq. 14–15), the defaulter loses it (eq. 16–17)', () => {
    const market = simulatedPowerMarket({ seed: 1, participants, contracts, chanceDefault: 0 });
    const byId = (round: ReturnType<typeof market.settleNextRound>) => new Map(round.map((node) => [node.id, node]));
    const first = byId(market.settleNextRound());
    expect(market.round).toBe(1);
    expect(first.get('mill')!.creditWeight).toBeGreaterThan(90);
    expect(first.get('town')!.creditWeight).toBeLessThan(90);
    expect(first.get('town')!.actual).toBeCloseTo(0.8 * first.get('town')!.contracted, -1);
    for (let i = 0; i < 8; i++) market.settleNextRound();
    const ninth = byId(market.scoreInputs());
    expect(ninth.get('town')!.creditWeight).toBeLessThan(first.get('town')!.creditWeight);
  });

  it('issues one green certificate per MWh of renewable generation (eq. 6), none to fossil generators', () => {
    const market = simulatedPowerMarket({ seed: 2, participants, contracts, chanceDefault: 0, volumeJitter: 0 });
    for (let i = 0; i < 10; i++) market.settleNextRound();
    const inputs = new Map(market.scoreInputs().map((node) => [node.id, node]));
    // 10 rounds × 400 kWh = 4 MWh: 4 certificates, some of which may have been sold to consumers.
    const certificates = [...inputs.values()].reduce((sum, node) => sum + node.greenCertificates, 0);
    expect(certificates).toBe(4);
    expect(inputs.get('coal')!.greenCertificates).toBe(0);
    expect(inputs.get('sun')!.transmissions).toBe(10);
  });

  it('settles carbon once per cycle (eq. 22): the renewable generator ends above the coal plant', () => {
    const market = simulatedPowerMarket({ seed: 3, participants, contracts, carbonCycle: 5 });
    for (let i = 0; i < 4; i++) market.settleNextRound();
    expect(market.scoreInputs().every((node) => node.carbonSettlement === 0)).toBe(true);
    market.settleNextRound();
    const inputs = new Map(market.scoreInputs().map((node) => [node.id, node]));
    expect(inputs.get('sun')!.carbonSettlement).toBeGreaterThan(inputs.get('coal')!.carbonSettlement);
  });

  it('is a pure function of its seed', () => {
    const a = generatedPowerMarket(['n1', 'n2', 'n3', 'n4', 'n5'], 42);
    const b = generatedPowerMarket(['n1', 'n2', 'n3', 'n4', 'n5'], 42);
    const c = generatedPowerMarket(['n1', 'n2', 'n3', 'n4', 'n5'], 43);
    const rounds = (market: typeof a) => Array.from({ length: 5 }, () => market.settleNextRound());
    const ra = rounds(a);
    expect(rounds(b)).toEqual(ra);
    expect(rounds(c)).not.toEqual(ra);
    expect(ra[0]!.map((node) => node.kind)).toEqual(['generation', 'generation', 'generation', 'consumption', 'consumption']);
  });

  it('rejects a contract between the wrong kinds of node', () => {
    expect(() => simulatedPowerMarket({ seed: 1, participants, contracts: [{ generator: 'mill', consumer: 'town', unitPrice: 0.6, contractedKWh: 10 }] })).toThrow(
      InvalidArgumentError,
    );
  });
});
