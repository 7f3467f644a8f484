import { describe, expect, it } from 'vitest';
import { InvalidScoreInputError } from './errors.js';
import { PAPER_CONSENSUS_TIME_PARAMETERS, PAPER_ELECTION_PARAMETERS, paperParameters } from './parameters.js';

describe('parameters (§5.2)', () => {
  it('holds the paper\'s values, with W_a^max = 100 and γ by study', () => {
    expect(PAPER_ELECTION_PARAMETERS).toMatchObject({
      creditFactorGeneration: 0.2,
      creditFactorConsumption: 0.2,
      volumeFactorGeneration: 0.2,
      volumeFactorConsumption: 0.2,
      participationFactorGeneration: 0,
      participationFactorConsumption: 0,
      greenCertificateFactorGeneration: 0.1,
      greenCertificateFactorConsumption: 0.1,
      carbonFactorGeneration: 0.1,
      carbonFactorConsumption: 0.2,
      lineFaultFactor: 0.1,
      volumeFloorFactor: 0.5,
      participationStep: 1,
      decayRate: 0.05,
      decayInterval: 30,
      maxCreditWeight: 100,
    });
    expect(PAPER_CONSENSUS_TIME_PARAMETERS.participationFactorGeneration).toBe(0.3);
    expect(PAPER_CONSENSUS_TIME_PARAMETERS.participationFactorConsumption).toBe(0.3);
    expect(PAPER_CONSENSUS_TIME_PARAMETERS.carbonFactorConsumption).toBe(0.2);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(PAPER_ELECTION_PARAMETERS)).toBe(true);
    expect(Object.isFrozen(PAPER_CONSENSUS_TIME_PARAMETERS)).toBe(true);
    expect(() => {
      (PAPER_ELECTION_PARAMETERS as { decayRate: number }).decayRate = 1;
    }).toThrow(TypeError);
  });

  it('completes overrides and ignores undefined ones', () => {
    const params = paperParameters({ decayRate: 0.1, lineFaultFactor: undefined });
    expect(params.decayRate).toBe(0.1);
    expect(params.lineFaultFactor).toBe(0.1);
  });

  it.each([
    [{ volumeFloorFactor: 1.5 }],
    [{ creditFactorGeneration: -0.1 }],
    [{ decayInterval: 0 }],
    [{ decayInterval: 2.5 }],
    [{ maxCreditWeight: 0 }],
    [{ participationStep: Number.NaN }],
  ])('rejects %o', (overrides) => {
    expect(() => paperParameters(overrides)).toThrow(InvalidScoreInputError);
  });
});
