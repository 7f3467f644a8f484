import { InvalidArgumentError } from '@greenraft/consensus';
import { describe, expect, it } from 'vitest';
import { linkKey, linkLatencies, resolveLatencyModel } from './latency.js';

const ids = Array.from({ length: 30 }, (_, i) => String(i + 1));

describe('the latency model: one lognormal one-way latency per link', () => {
  it('defaults to a 1.25 ms median and σ = 0.5', () => {
    expect(resolveLatencyModel()).toEqual({ medianMs: 1.25, spread: 0.5 });
  });

  it('draws every link once, the same both ways, from the seed', () => {
    const links = linkLatencies(ids, 7, resolveLatencyModel());
    expect(links.size).toBe(30 * 29);
    for (const a of ids) for (const b of ids) if (a !== b) expect(links.get(linkKey(a, b))).toBe(links.get(linkKey(b, a)));
    expect(linkLatencies(ids, 7, resolveLatencyModel())).toEqual(links);
    expect(linkLatencies(ids, 8, resolveLatencyModel())).not.toEqual(links);
  });

  it('is lognormal around the median: half the links below it, log-spread σ', () => {
    const values = [...linkLatencies(ids, 3, resolveLatencyModel({ medianMs: 2, spread: 0.5 })).values()];
    const below = values.filter((ms) => ms < 2).length / values.length;
    expect(below).toBeGreaterThan(0.44);
    expect(below).toBeLessThan(0.56);
    const logs = values.map((ms) => Math.log(ms / 2));
    const sd = Math.sqrt(logs.reduce((sum, x) => sum + x * x, 0) / logs.length);
    expect(sd).toBeGreaterThan(0.45);
    expect(sd).toBeLessThan(0.55);
    expect(Math.min(...values)).toBeGreaterThan(0);
  });

  it('makes every link the median with σ = 0 (a uniform network)', () => {
    expect(new Set(linkLatencies(ids, 3, resolveLatencyModel({ spread: 0 })).values())).toEqual(new Set([1.25]));
  });

  it('rejects a bad model with a typed error naming the field', () => {
    expect(() => resolveLatencyModel({ medianMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveLatencyModel({ medianMs: Number.NaN })).toThrow(/medianMs/);
    expect(() => resolveLatencyModel({ spread: 4 })).toThrow(/spread/);
  });
});
