import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import { integerOption, rejectUnknownOptions } from './options.js';

describe('integerOption', () => {
  it('returns a safe integer within the range', () => {
    expect(integerOption('ticks', 0)).toBe(0);
    expect(integerOption('ticks', 10, { min: 2 })).toBe(10);
    expect(integerOption('nodes', 15, { min: 3, max: 15 })).toBe(15);
    expect(integerOption('offset', -4, { max: 0 })).toBe(-4);
  });

  it.each([
    ['a fraction', 2.5, { min: 0 }, 'n must be an integer ≥ 0, got 2.5'],
    ['below the range', 2, { min: 3, max: 15 }, 'n must be an integer from 3 to 15, got 2'],
    ['above the range', 16, { min: 3, max: 15 }, 'n must be an integer from 3 to 15, got 16'],
    ['above a maximum', 1, { max: 0 }, 'n must be an integer ≤ 0, got 1'],
    ['a string', '5', { min: 0 }, 'n must be an integer ≥ 0, got "5"'],
    ['NaN', Number.NaN, {}, 'n must be a safe integer, got NaN'],
    ['an unsafe integer', 2 ** 53, {}, 'n must be a safe integer, got 9007199254740992'],
    ['undefined', undefined, { min: 1 }, 'n must be an integer ≥ 1, got undefined'],
  ])('rejects %s with InvalidArgumentError naming the option', (_, value, range, message) => {
    expect(() => integerOption('n', value, range)).toThrow(InvalidArgumentError);
    expect(() => integerOption('n', value, range)).toThrow(message);
  });
});

describe('rejectUnknownOptions', () => {
  it('accepts known options, and none', () => {
    expect(() => rejectUnknownOptions('thing', { a: 1, b: undefined }, ['a', 'b', 'c'])).not.toThrow();
    expect(() => rejectUnknownOptions('thing', {}, [])).not.toThrow();
  });

  it('names the first unknown option and where it was given', () => {
    expect(() => rejectUnknownOptions('memoryNetwork', { seed: 1, latency: 5 }, ['seed', 'defaultLink'])).toThrow(
      new InvalidArgumentError('memoryNetwork: unknown option "latency"; known options: seed, defaultLink'),
    );
  });
});
