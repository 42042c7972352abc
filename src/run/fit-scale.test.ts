import { describe, expect, it } from 'vitest';
import { largestFitting, roundDown2 } from './fit-scale.js';

describe('roundDown2', () => {
  it('keeps two significant digits, rounding down, and never goes below 1', () => {
    expect([0.4, 1, 9, 47, 147, 999, 1234, 25_999].map(roundDown2)).toEqual([1, 1, 9, 47, 140, 990, 1200, 25_000]);
  });
});

describe('largestFitting', () => {
  // 15 commands per service at 5 ms each: 75 ms per service, linear.
  const linear = [
    { x: 10, y: 750 },
    { x: 30, y: 2250 },
  ];

  it('keeps the requested scale when its predicted full sync fits the share of the budget', () => {
    expect(largestFitting(linear, 20_000, 100)).toMatchObject({ services: 100, predictedMs: 7500 });
  });

  it('finds the largest scale within the share of the budget, rounded down to two digits', () => {
    // 0.5 × 20 s = 10 s at 75 ms per service: 133 services, 130 after rounding.
    const fit = largestFitting(linear, 20_000, 1000);
    expect(fit.services).toBe(130);
    expect(fit.predictedMs).toBeCloseTo(9750, 6);
  });

  it('follows a steeper growth: a quadratic probe allows fewer services than a linear one', () => {
    const quadratic = [
      { x: 10, y: 100 },
      { x: 30, y: 900 },
    ];
    // y = x² ms: √(0.5 × 20,010) = 100.02 services.
    expect(largestFitting(quadratic, 20_010, 1000).services).toBe(100);
  });

  it('never predicts less than linear growth from a probe whose fixed cost shrinks in share', () => {
    const sublinear = [
      { x: 10, y: 1500 },
      { x: 30, y: 2250 },
    ];
    expect(largestFitting(sublinear, 20_000, 1000).services).toBe(130);
  });

  it('goes down to 1 service when even that does not fit', () => {
    expect(largestFitting([{ x: 10, y: 100_000 }], 20_000, 1000).services).toBe(1);
  });
});
