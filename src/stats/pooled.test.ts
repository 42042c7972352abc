import { describe, expect, it } from 'vitest';
import { bootstrapPooledCI, bootstrapPooledDifferenceCI, pooledRatio } from './pooled.js';

describe('pooled ratio', () => {
  it('is the sum of numerators over the sum of denominators, not the mean of the ratios', () => {
    expect(
      pooledRatio([
        { numerator: 10, denominator: 1 },
        { numerator: 30, denominator: 9 },
      ]),
    ).toBe(4);
    expect(pooledRatio([])).toBeNaN();
  });

  it('brackets the estimate and narrows with more units', () => {
    const units = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ numerator: 100 + ((i * 37) % 21) - 10, denominator: 10 + (i % 3) }));
    const few = bootstrapPooledCI(units(6), { seed: 3 });
    const many = bootstrapPooledCI(units(60), { seed: 3 });
    for (const ci of [few, many]) {
      expect(ci.low).toBeLessThanOrEqual(ci.estimate);
      expect(ci.high).toBeGreaterThanOrEqual(ci.estimate);
      expect(ci.degenerate).toBe(false);
    }
    expect(many.high - many.low).toBeLessThan(few.high - few.low);
    expect(bootstrapPooledCI(units(6), { seed: 3 })).toEqual(few);
  });

  it('is degenerate below two units and refuses a unit without exposure', () => {
    expect(bootstrapPooledCI([{ numerator: 5, denominator: 2 }])).toMatchObject({ estimate: 2.5, low: 2.5, high: 2.5, degenerate: true });
    expect(() => bootstrapPooledCI([{ numerator: 5, denominator: 0 }])).toThrow(/denominator must be positive/);
  });

  it('gives the difference of two groups with its interval', () => {
    const a = [1, 2, 3, 4].map((i) => ({ numerator: 10 + i, denominator: 1 }));
    const b = [1, 2, 3, 4].map((i) => ({ numerator: 20 + i, denominator: 1 }));
    const d = bootstrapPooledDifferenceCI(a, b, { seed: 1 });
    expect(d.estimate).toBe(10);
    expect(d.low).toBeGreaterThan(7);
    expect(d.high).toBeLessThan(13);
  });
});
