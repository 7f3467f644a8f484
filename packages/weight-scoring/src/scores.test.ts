import { describe, expect, it } from 'vitest';
import { InvalidScoreInputError } from './errors.js';
import { PAPER_CONSENSUS_TIME_PARAMETERS } from './parameters.js';
import {
  EQUAL_CARBON_SETTLEMENT_SCORE,
  carbonSettlement,
  carbonSettlementScore,
  carbonSettlementScores,
  consumptionNodeWeight,
  creditScore,
  decayedWeight,
  generationNodeWeight,
  greenCertificateScore,
  greenCertificateScores,
  isDecayRound,
  lineFaultScore,
  participationAfterCommit,
  participationAfterRound,
  tradingVolumeRange,
  tradingVolumeScore,
  weightBeforeNextRound,
} from './scores.js';

describe('trading volume (eq. 18)', () => {
  const range = { minActual: 50, minContracted: 60, maxContracted: 310 };

  it('places the settled volume between φ·min and E^max', () => {
    expect(tradingVolumeScore({ contracted: 310, actual: 310 }, range)).toBe(100);
    // min{50, 60} = 50, floor 0.5·50 = 25: (50 − 25) / (310 − 25) · 100
    expect(tradingVolumeScore({ contracted: 60, actual: 50 }, range)).toBeCloseTo((25 / 285) * 100, 12);
    // over-delivery counts only up to the contract
    expect(tradingVolumeScore({ contracted: 60, actual: 80 }, range)).toBeCloseTo((35 / 285) * 100, 12);
  });

  it('honours φ', () => {
    expect(tradingVolumeScore({ contracted: 60, actual: 50 }, range, { volumeFloorFactor: 0 })).toBeCloseTo((50 / 310) * 100, 12);
    expect(tradingVolumeScore({ contracted: 60, actual: 50 }, range, { volumeFloorFactor: 1 })).toBe(0);
  });

  it('finds the range of a round', () => {
    expect(
      tradingVolumeRange([
        { contracted: 60, actual: 80 },
        { contracted: 310, actual: 310 },
        { contracted: 60, actual: 50 },
      ]),
    ).toEqual({ minActual: 50, minContracted: 60, maxContracted: 310 });
    expect(tradingVolumeRange([])).toEqual({ minActual: 0, minContracted: 0, maxContracted: 0 });
  });

  it('defines the 0/0 case: equal contracts with φ = 1 score 100, an empty round 0', () => {
    const equal = tradingVolumeRange([
      { contracted: 100, actual: 100 },
      { contracted: 100, actual: 120 },
    ]);
    expect(tradingVolumeScore({ contracted: 100, actual: 100 }, equal, { volumeFloorFactor: 1 })).toBe(100);
    const empty = tradingVolumeRange([{ contracted: 0, actual: 0 }]);
    expect(tradingVolumeScore({ contracted: 0, actual: 0 }, empty)).toBe(0);
  });

  it('rejects bad input', () => {
    expect(() => tradingVolumeScore({ contracted: -1, actual: 0 }, range)).toThrow(InvalidScoreInputError);
    expect(() => tradingVolumeScore({ contracted: 1, actual: 0 }, { minActual: 0, minContracted: 5, maxContracted: 4 })).toThrow(
      InvalidScoreInputError,
    );
    expect(() => tradingVolumeRange([{ contracted: Number.NaN, actual: 0 }])).toThrow(InvalidScoreInputError);
  });
});

describe('consensus participation (eq. 19)', () => {
  it('adds ω·(k + 1)/k for a valid reply', () => {
    expect(participationAfterRound({ participation: 10, round: 1, acknowledged: true })).toBe(12);
    expect(participationAfterRound({ participation: 10, round: 4, acknowledged: true })).toBe(11.25);
    expect(participationAfterRound({ participation: 10, round: 4, acknowledged: true }, { participationStep: 2 })).toBe(12.5);
    expect(participationAfterRound({ participation: 10, round: 4, acknowledged: false })).toBe(10);
  });

  it('caps at 100', () => {
    expect(participationAfterRound({ participation: 99.5, round: 4, acknowledged: true })).toBe(100);
  });

  it('credits the followers whose acknowledgements formed the commit quorum', () => {
    const before = new Map([
      ['a', 0],
      ['b', 5],
      ['c', 7],
    ]);
    const quorum = { acks: [{ id: 'a' }, { id: 'b' }, { id: 'd' }] };
    expect(participationAfterCommit(before, quorum, 1)).toEqual(
      new Map([
        ['a', 0],
        ['b', 7],
        ['c', 7],
        ['d', 2],
      ]),
    );
    expect(participationAfterCommit(before, quorum, 1, { includeLeader: true }).get('a')).toBe(2);
    expect(before.get('b')).toBe(5);
  });

  it('rejects a round below 1 and a score outside [0, 100]', () => {
    expect(() => participationAfterRound({ participation: 1, round: 0, acknowledged: true })).toThrow(InvalidScoreInputError);
    expect(() => participationAfterRound({ participation: 101, round: 1, acknowledged: true })).toThrow(InvalidScoreInputError);
  });
});

describe('green certificates (eq. 20)', () => {
  it('is the share of certificates held', () => {
    expect(greenCertificateScore(3, 12)).toBe(25);
    expect(greenCertificateScores(new Map([['a', 3], ['b', 1], ['c', 0]]))).toEqual(new Map([['a', 75], ['b', 25], ['c', 0]]));
  });

  it('is 0 for everyone when no certificate circulates', () => {
    expect(greenCertificateScores(new Map([['a', 0], ['b', 0]]))).toEqual(new Map([['a', 0], ['b', 0]]));
  });

  it('rejects more certificates than the market holds', () => {
    expect(() => greenCertificateScore(5, 4)).toThrow(InvalidScoreInputError);
    expect(() => greenCertificateScores(new Map([['a', -1]]))).toThrow(InvalidScoreInputError);
  });
});

describe('carbon settlement (eq. 21–22)', () => {
  it('settles quota + purchased − emitted', () => {
    expect(carbonSettlement({ quota: 100, purchased: 20, emitted: 130 })).toBe(-10);
    expect(() => carbonSettlement({ quota: 100, purchased: -1, emitted: 0 })).toThrow(InvalidScoreInputError);
  });

  it('min-max normalises', () => {
    expect(carbonSettlementScore(-10, { min: -40, max: 20 })).toBe(50);
    expect(carbonSettlementScores(new Map([['a', -40], ['b', 20], ['c', -10]]))).toEqual(new Map([['a', 0], ['b', 100], ['c', 50]]));
  });

  it('gives everyone the midpoint when all settlements are equal', () => {
    expect(EQUAL_CARBON_SETTLEMENT_SCORE).toBe(50);
    expect(carbonSettlementScores(new Map([['a', 7], ['b', 7]]))).toEqual(new Map([['a', 50], ['b', 50]]));
  });

  it('rejects a settlement outside its range', () => {
    expect(() => carbonSettlementScore(30, { min: -40, max: 20 })).toThrow(InvalidScoreInputError);
    expect(() => carbonSettlementScores(new Map([['a', Number.POSITIVE_INFINITY]]))).toThrow(InvalidScoreInputError);
  });
});

describe('line faults (eq. 23)', () => {
  it('is the fault-free share of transmissions', () => {
    expect(lineFaultScore({ transmissions: 40, faults: 2 })).toBe(95);
    expect(lineFaultScore({ transmissions: 40, faults: 40 })).toBe(0);
  });

  it('is 100 before any transmission: no fault observed', () => {
    expect(lineFaultScore({ transmissions: 0, faults: 0 })).toBe(100);
  });

  it('rejects more faults than transmissions', () => {
    expect(() => lineFaultScore({ transmissions: 1, faults: 2 })).toThrow(InvalidScoreInputError);
  });
});

describe('decay (eq. 24–25)', () => {
  it('multiplies by e^(−δ) every l rounds', () => {
    expect(decayedWeight(80)).toBeCloseTo(80 * Math.exp(-0.05), 12);
    expect(decayedWeight(80, { decayRate: 0 })).toBe(80);
    expect(isDecayRound(30)).toBe(true);
    expect(isDecayRound(60)).toBe(true);
    expect(isDecayRound(31)).toBe(false);
    expect(isDecayRound(3, { decayInterval: 3 })).toBe(true);
    expect(weightBeforeNextRound(80, 29)).toBe(80);
    expect(weightBeforeNextRound(80, 30)).toBeCloseTo(76.098, 3);
  });

  it('rejects round 0 and a negative weight', () => {
    expect(() => isDecayRound(0)).toThrow(InvalidScoreInputError);
    expect(() => decayedWeight(-1)).toThrow(InvalidScoreInputError);
  });
});

describe('totals (eq. 8–13)', () => {
  const full = { credit: 100, volume: 100, participation: 100, greenCertificates: 100, carbon: 100, lineFaults: 100 };

  it('weighs the components by the moderating factors', () => {
    expect(generationNodeWeight(full)).toBeCloseTo(70, 12);
    expect(consumptionNodeWeight(full)).toBeCloseTo(70, 12);
    expect(generationNodeWeight(full, PAPER_CONSENSUS_TIME_PARAMETERS)).toBeCloseTo(100, 12);
    expect(consumptionNodeWeight(full, PAPER_CONSENSUS_TIME_PARAMETERS)).toBeCloseTo(100, 12);
    const scores = { credit: 80, volume: 50, participation: 40, greenCertificates: 10, carbon: 30, lineFaults: 90 };
    // 0.2·80 + 0.2·50 + 0·40 + 0.1·10 + 0.1·30 + 0.1·90
    expect(generationNodeWeight(scores)).toBeCloseTo(39, 12);
    // 0.2·80 + 0.2·50 + 0·40 + 0.1·10 + 0.2·30: line faults do not count
    expect(consumptionNodeWeight(scores)).toBeCloseTo(33, 12);
  });

  it('clamps totals to 100 when factors sum above 1', () => {
    expect(generationNodeWeight(full, { creditFactorGeneration: 5 })).toBe(100);
  });

  it('rejects a component outside [0, 100]', () => {
    expect(() => generationNodeWeight({ ...full, carbon: 101 })).toThrow(InvalidScoreInputError);
  });

  it('scales credit to [0, 100] by W_a^max', () => {
    expect(creditScore(5, { maxCreditWeight: 10 })).toBe(50);
    expect(creditScore(64.93)).toBe(64.93);
    expect(() => creditScore(11, { maxCreditWeight: 10 })).toThrow(InvalidScoreInputError);
  });
});
