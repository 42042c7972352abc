import { describe, expect, it } from 'vitest';
import { chiSquareUniform, lnGamma, upperRegularizedGamma } from './chisquare.js';

describe('chi-square goodness of fit', () => {
  it('computes the statistic and the p-value (df = 2 has the closed form exp(-X²/2))', () => {
    const r = chiSquareUniform([90, 100, 110]);
    expect(r.statistic).toBeCloseTo(2, 12);
    expect(r.df).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-1), 12);
  });

  it('matches tabulated critical values', () => {
    // χ²(0.95; df=1) = 3.841459, χ²(0.999; df=3) = 16.266236, χ²(0.99; df=10) = 23.209251
    expect(upperRegularizedGamma(0.5, 3.841459 / 2)).toBeCloseTo(0.05, 6);
    expect(upperRegularizedGamma(1.5, 16.266236 / 2)).toBeCloseTo(0.001, 6);
    expect(upperRegularizedGamma(5, 23.209251 / 2)).toBeCloseTo(0.01, 6);
  });

  it('rejects a lopsided spread and accepts an even one', () => {
    expect(chiSquareUniform([300, 0, 0]).pValue).toBeLessThan(1e-100);
    expect(chiSquareUniform([100, 100, 100]).pValue).toBe(1);
    expect(() => chiSquareUniform([5])).toThrow(RangeError);
  });

  it('lnGamma matches known values', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
  });
});
