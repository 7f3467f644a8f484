import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { FAULT_FREE_LINK, resolveLinkFaults, sampleLatency, validateLinkFaults } from './faults.js';
import { seededRandom } from '@greenraft/consensus';

describe('validateLinkFaults', () => {
  it('accepts every documented form and returns a frozen copy', () => {
    const latencyFn = (random: () => number) => 5 + random();
    const faults = { latency: { min: 1, max: 9 }, loss: 0.1, duplicate: 1, reorder: 0, reorderDelay: 25 };
    const checked = validateLinkFaults(faults, 'test');
    expect(checked).toEqual(faults);
    expect(checked).not.toBe(faults);
    expect(Object.isFrozen(checked)).toBe(true);
    expect(validateLinkFaults({ latency: latencyFn }, 'test').latency).toBe(latencyFn);
    expect(validateLinkFaults({}, 'test')).toEqual({});
  });

  it.each([
    [{ loss: 1.5 }, /loss must be a probability/],
    [{ duplicate: -0.1 }, /duplicate must be a probability/],
    [{ reorder: Number.NaN }, /reorder must be a probability/],
    [{ latency: -1 }, /latency must be a finite number/],
    [{ latency: Number.POSITIVE_INFINITY }, /latency must be a finite number/],
    [{ latency: { min: 5, max: 2 } }, /min ≤ max/],
    [{ latency: 'fast' }, /latency must be a number/],
    [{ reorderDelay: 0 }, /reorderDelay must be an integer/],
    [{ lossRate: 0.1 }, /unknown link fault "lossRate"/],
  ])('rejects %j', (faults, message) => {
    expect(() => validateLinkFaults(faults as never, 'setLink(a → b)')).toThrow(InvalidArgumentError);
    expect(() => validateLinkFaults(faults as never, 'setLink(a → b)')).toThrow(message);
  });

  it('names where the bad faults came from', () => {
    expect(() => validateLinkFaults({ loss: 2 }, 'setLink(a → b)')).toThrow(/^setLink\(a → b\): /);
  });
});

describe('resolveLinkFaults', () => {
  it('fills each field from the link, then the default link, then no fault', () => {
    expect(resolveLinkFaults(undefined, {})).toEqual(FAULT_FREE_LINK);
    expect(resolveLinkFaults({ loss: 0.5 }, { loss: 0.1, latency: 7 })).toEqual({ ...FAULT_FREE_LINK, loss: 0.5, latency: 7 });
  });
});

describe('sampleLatency', () => {
  it('returns a fixed latency as is', () => {
    expect(sampleLatency(12, seededRandom(1))).toBe(12);
  });

  it('draws integers over the whole inclusive range', () => {
    const random = seededRandom(9);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sampleLatency({ min: 3, max: 7 }, random));
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('draws a fractional range continuously within its bounds', () => {
    const random = seededRandom(9);
    for (let i = 0; i < 200; i++) {
      const delay = sampleLatency({ min: 0.5, max: 1.5 }, random);
      expect(delay >= 0.5 && delay <= 1.5).toBe(true);
    }
  });

  it('passes the PRNG to a latency function and clamps what it returns to a delay ≥ 0', () => {
    const random = seededRandom(3);
    const expected = seededRandom(3)() * 100;
    expect(sampleLatency((r) => r() * 100, random)).toBe(expected);
    expect(sampleLatency(() => -5, random)).toBe(0);
    expect(sampleLatency(() => Number.NaN, random)).toBe(0);
  });
});
