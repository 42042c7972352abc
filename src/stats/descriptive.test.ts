import { describe, expect, it } from 'vitest';
import {
  coefficientOfVariation,
  MAD_NORMAL_CONSISTENCY,
  max,
  mean,
  median,
  medianAbsoluteDeviation,
  min,
  percentiles,
  quantile,
  quantileSorted,
  sampleStdDev,
  scaledMedianAbsoluteDeviation,
  sortedAscending,
} from './descriptive.js';
import { createRng } from './prng.js';

const ONE_TO_TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('quantile (Hyndman & Fan type 7)', () => {
  // Expected values printed by numpy 2.4: repr(float(np.quantile(np.arange(1, 11), p))).
  it.each([
    [0, 1],
    [0.1, 1.9],
    [0.25, 3.25],
    [0.5, 5.5],
    [0.75, 7.75],
    [0.9, 9.1],
    [0.99, 9.91],
    [0.999, 9.991],
    [1, 10],
  ])('quantile([1..10], %d) = %d as numpy', (p, expected) => {
    expect(quantile(ONE_TO_TEN, p)).toBe(expected);
  });

  it('interpolates exactly as numpy does (b − (b − a)(1 − g) when g ≥ 0.5)', () => {
    // np.quantile([2.4, 7.8], 0.75) → 6.449999999999999; the naive a + (b − a)·g gives 6.450000000000001.
    expect(quantile([2.4, 7.8], 0.75)).toBe(6.449999999999999);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
  });

  it('sorts a copy and leaves the input alone', () => {
    const xs = [10, 1, 7, 3, 9, 2, 8, 4, 6, 5];
    const before = [...xs];
    expect(quantile(xs, 0.9)).toBe(9.1);
    expect(xs).toEqual(before);
  });

  it('returns the only value of a one-element sample for every p', () => {
    for (const p of [0, 0.3, 0.5, 1]) expect(quantile([42], p)).toBe(42);
  });

  it('is monotone in p, starts at min and ends at max (random samples)', () => {
    const rng = createRng(2024);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + rng.nextInt(40);
      const xs = Array.from({ length: n }, () => Math.round(rng.nextFloat() * 1000) / 10);
      const sorted = sortedAscending(xs);
      expect(quantileSorted(sorted, 0)).toBe(min(xs));
      expect(quantileSorted(sorted, 1)).toBe(max(xs));
      let previous = -Infinity;
      for (let k = 0; k <= 100; k++) {
        const q = quantileSorted(sorted, k / 100);
        expect(q).toBeGreaterThanOrEqual(previous);
        previous = q;
      }
    }
  });

  it('scales exactly with the data (×2 commutes with rounding)', () => {
    const rng = createRng(5);
    const xs = Array.from({ length: 17 }, () => rng.nextFloat() * 100);
    for (const p of [0.1, 0.37, 0.5, 0.99])
      expect(
        quantile(
          xs.map((x) => 2 * x),
          p,
        ),
      ).toBe(2 * quantile(xs, p));
  });

  it('rejects empty samples, non-finite values and p outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1, Number.NaN], 0.5)).toThrow(/sample\[1\] is NaN/);
    expect(() => quantile([1, Infinity], 0.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], -0.01)).toThrow(RangeError);
    expect(() => quantile([1, 2], 1.01)).toThrow(RangeError);
    expect(() => quantileSorted([], 0.5)).toThrow(RangeError);
  });
});

describe('median', () => {
  it('takes the middle value for odd n and the mean of the middle two for even n', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
  });
});

describe('percentiles', () => {
  it('reports p50/p90/p99/p99.9 of [1..10] as numpy.percentile does', () => {
    // numpy: np.percentile(np.arange(1, 11), [50, 90, 99, 99.9]) → 5.5, 9.1, 9.91, 9.991000000000001
    expect(percentiles(ONE_TO_TEN)).toEqual({ p50: 5.5, p90: 9.1, p99: 9.91, 'p99.9': 9.991000000000001 });
  });

  it('accepts custom levels and rejects levels outside [0, 100]', () => {
    expect(percentiles(ONE_TO_TEN, [0, 25, 100])).toEqual({ p0: 1, p25: 3.25, p100: 10 });
    expect(() => percentiles(ONE_TO_TEN, [101])).toThrow(RangeError);
  });
});

describe('mean, min, max', () => {
  it('computes the arithmetic mean', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
  });

  it('uses compensated summation (a naive sum gives 0 here)', () => {
    expect(mean([1e16, 1, -1e16])).toBe(1 / 3);
  });

  it('finds min and max, also of samples too long for Math.min(...xs)', () => {
    expect(min([3, -2, 7])).toBe(-2);
    expect(max([3, -2, 7])).toBe(7);
    const long = Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 300_007);
    long[123_456] = -5;
    long[234_567] = 1e9;
    expect(min(long)).toBe(-5);
    expect(max(long)).toBe(1e9);
  });

  it('rejects empty input', () => {
    expect(() => mean([])).toThrow(RangeError);
    expect(() => min([])).toThrow(RangeError);
    expect(() => max([])).toThrow(RangeError);
  });
});

describe('sampleStdDev and coefficientOfVariation', () => {
  it('uses the n − 1 denominator', () => {
    // mean 5, squared deviations sum to 32 → sqrt(32 / 7) (the population value would be 2).
    expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBe(Math.sqrt(32 / 7));
    expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2.138089935299395); // numpy std(ddof=1)
  });

  it('CV is stddev / |mean|', () => {
    expect(coefficientOfVariation([2, 4, 4, 4, 5, 5, 7, 9])).toBe(0.427617987059879);
    expect(coefficientOfVariation([-2, -4, -4, -4, -5, -5, -7, -9])).toBe(0.427617987059879);
  });

  it('is undefined for n < 2 or a zero mean', () => {
    expect(() => sampleStdDev([1])).toThrow(RangeError);
    expect(() => coefficientOfVariation([1])).toThrow(RangeError);
    expect(() => coefficientOfVariation([-1, 1])).toThrow(/mean is 0/);
  });
});

describe('median absolute deviation', () => {
  it('is the median of |x − median| (known set)', () => {
    // median 2; |deviations| 1,1,0,0,2,4,7 → sorted 0,0,1,1,2,4,7 → 1
    expect(medianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1);
    // median 13.5; |deviations| sorted .5,.5,.5,.5,1.5,1.5,1.5,2.5,2.5,4.5 → 1.5
    expect(medianAbsoluteDeviation([12, 15, 11, 14, 13, 18, 12, 16, 13, 14])).toBe(1.5);
  });

  it('ignores a gross outlier and is 0 for constant data', () => {
    expect(medianAbsoluteDeviation([1, 2, 3, 4, 1e6])).toBe(1);
    expect(medianAbsoluteDeviation([7, 7, 7])).toBe(0);
  });

  it('scales by 1.4826 for consistency with σ', () => {
    expect(MAD_NORMAL_CONSISTENCY).toBe(1.4826);
    expect(scaledMedianAbsoluteDeviation([1, 1, 2, 2, 4, 6, 9])).toBe(1.4826);
    expect(scaledMedianAbsoluteDeviation([12, 15, 11, 14, 13, 18, 12, 16, 13, 14])).toBe(2.2239);
  });

  it('estimates σ of normal-ish data (sum of 12 uniforms − 6 has σ = 1)', () => {
    const rng = createRng(77);
    const xs = Array.from({ length: 20_000 }, () => {
      let s = -6;
      for (let k = 0; k < 12; k++) s += rng.nextFloat();
      return s;
    });
    expect(scaledMedianAbsoluteDeviation(xs)).toBeGreaterThan(0.97);
    expect(scaledMedianAbsoluteDeviation(xs)).toBeLessThan(1.03);
  });
});
