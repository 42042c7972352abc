import { describe, expect, it } from 'vitest';
import { growthExponent, predictNext, regularizedBeta, studentTCdf, studentTQuantile, SUPER_LINEAR_ABOVE } from './growth.js';

// Reference values from scipy 1.17.1 (stats.t.ppf, stats.t.cdf, stats.beta.cdf, stats.linregress
// with the interval slope ± t.ppf(0.975, n − 2) · stderr).
describe('regularizedBeta', () => {
  it('matches scipy.stats.beta.cdf', () => {
    expect(regularizedBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.018927124071945658, 14);
    expect(regularizedBeta(0.9, 5, 3)).toBeCloseTo(0.9743085, 14);
  });
  it('is 0 and 1 at the ends', () => {
    expect(regularizedBeta(0, 2, 3)).toBe(0);
    expect(regularizedBeta(1, 2, 3)).toBe(1);
  });
  it('rejects bad arguments', () => {
    expect(() => regularizedBeta(0.5, 0, 1)).toThrow(/a, b > 0/);
    expect(() => regularizedBeta(1.5, 1, 1)).toThrow(/x in \[0, 1\]/);
  });
});

describe('studentTCdf', () => {
  it('matches scipy.stats.t.cdf', () => {
    expect(studentTCdf(1.5, 3)).toBeCloseTo(0.8847080673775886, 14);
    expect(studentTCdf(-2, 7)).toBeCloseTo(0.042809664281488025, 14);
    expect(studentTCdf(0, 4)).toBe(0.5);
  });
  it('is 0 and 1 at the infinities', () => {
    expect(studentTCdf(Infinity, 3)).toBe(1);
    expect(studentTCdf(-Infinity, 3)).toBe(0);
  });
});

describe('studentTQuantile', () => {
  const table: [number, number, number][] = [
    [1, 12.706204736174694, 3.0776835371752544],
    [2, 4.302652729749462, 1.8856180831641272],
    [3, 3.1824463052837078, 1.637744353696209],
    [4, 2.7764451051977934, 1.533206274058944],
    [5, 2.5705818356363146, 1.4758840488244815],
    [7, 2.364624251592784, 1.4149239276505086],
    [10, 2.228138851986274, 1.372183641110336],
    [30, 2.0422724563012378, 1.3104150253913955],
    [100, 1.9839715185235518, 1.290074761346516],
  ];
  it.each(table)('df %i matches scipy.stats.t.ppf at 0.975 and 0.9', (df, q975, q90) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(q975, 10);
    expect(studentTQuantile(0.9, df)).toBeCloseTo(q90, 10);
  });
  it('is symmetric and 0 at the median', () => {
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-2.5705818356363146, 10);
    expect(studentTQuantile(0.5, 5)).toBe(0);
  });
  it('rejects bad arguments', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/\(0, 1\)/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/degrees of freedom/);
  });
});

const pts = (xs: number[], ys: number[]) => xs.map((x, i) => ({ x, y: ys[i]! }));

describe('growthExponent', () => {
  const x9 = [1000, 1000, 1000, 3000, 3000, 3000, 10000, 10000, 10000];
  const y9 = [1.2, 1.3, 1.25, 4.1, 4.4, 3.9, 15.2, 16.1, 14.8];

  it('matches scipy.stats.linregress over every repetition, with the t interval', () => {
    const g = growthExponent(pts(x9, y9));
    expect(g.exponent).toBeCloseTo(1.0896565102957931, 12);
    expect(g.coefficient).toBeCloseTo(0.0006720951370909861, 14);
    expect(g.low).toBeCloseTo(1.051824770667619, 10);
    expect(g.high).toBeCloseTo(1.1274882499239673, 10);
    expect([g.n, g.scalePoints, g.df, g.level, g.degenerate]).toEqual([9, 3, 7, 0.95, false]);
    // The interval reaches below 1.1: not flagged.
    expect(g.superLinear).toBe(false);
  });

  it('takes another level (90 %)', () => {
    const g = growthExponent(pts(x9, y9), { level: 0.9 });
    expect(g.low).toBeCloseTo(1.0593450540698852, 10);
    expect(g.high).toBeCloseTo(1.119967966521701, 10);
  });

  it('flags super-linear only when the whole interval lies above the threshold', () => {
    expect(SUPER_LINEAR_ABOVE).toBe(1.1);
    expect(growthExponent(pts(x9, y9), { superLinearAbove: 1.05 }).superLinear).toBe(true);
    // Exactly quadratic, with a little noise: interval far above 1.1.
    const quad = growthExponent(pts([100, 100, 1000, 1000, 10000, 10000], [1, 1.1, 100, 105, 10000, 9800]));
    expect(quad.exponent).toBeGreaterThan(1.95);
    expect(quad.superLinear).toBe(true);
  });

  it('recovers an exact power law with a zero-width interval', () => {
    const g = growthExponent(pts([10, 100, 1000], [2 * 10 ** 1.5, 2 * 100 ** 1.5, 2 * 1000 ** 1.5]));
    expect(g.exponent).toBeCloseTo(1.5, 12);
    expect(g.coefficient).toBeCloseTo(2, 12);
    expect(g.high! - g.low!).toBeCloseTo(0, 10);
    expect(g.superLinear).toBe(true);
  });

  it('one point per scale at 3 scales: 1 degree of freedom (scipy)', () => {
    const g = growthExponent(pts([1000, 3000, 10000], [2, 5.5, 20]));
    expect(g.exponent).toBeCloseTo(1.0011519358576877, 12);
    expect(g.low).toBeCloseTo(0.4471100807726698, 9);
    expect(g.high).toBeCloseTo(1.5551937909427056, 9);
    expect(g.df).toBe(1);
  });

  it('two points: a slope but no interval', () => {
    const g = growthExponent(pts([100, 1000], [1, 100]));
    expect(g.exponent).toBeCloseTo(2, 12);
    expect([g.low, g.high, g.degenerate, g.superLinear, g.df]).toEqual([null, null, true, false, 0]);
  });

  it('one scale point: no slope', () => {
    const g = growthExponent(pts([100, 100, 100], [1, 2, 4]));
    expect([g.exponent, g.low, g.high, g.degenerate, g.scalePoints]).toEqual([null, null, null, true, 1]);
    expect(g.coefficient).toBeCloseTo(2, 12); // geometric mean of 1, 2, 4
  });

  it('does not depend on the order of the points', () => {
    const order = [4, 0, 8, 2, 6, 1, 7, 3, 5];
    expect(growthExponent(order.map((i) => ({ x: x9[i]!, y: y9[i]! })))).toEqual(growthExponent(pts(x9, y9)));
  });

  it('rejects empty input and values a log cannot take', () => {
    expect(() => growthExponent([])).toThrow(/at least one point/);
    expect(() => growthExponent(pts([100, 0], [1, 2]))).toThrow(/point\[1\]/);
    expect(() => growthExponent(pts([100, 200], [1, -2]))).toThrow(/> 0/);
    expect(() => growthExponent(pts([100, 200], [1, NaN]))).toThrow(/finite/);
    expect(() => growthExponent(pts([1, 2, 3], [1, 2, 3]), { level: 1 })).toThrow(/confidence level/);
  });
});

describe('predictNext', () => {
  it('has nothing to go on without points', () => {
    expect(predictNext([], 1000)).toBeUndefined();
  });
  it('is linear from a single scale point (median of its repetitions)', () => {
    const p = predictNext(pts([1000, 1000, 1000], [2, 3, 10]), 3000)!;
    expect(p.y).toBeCloseTo(9, 12);
    expect(p.exponent).toBe(1);
    expect(p.model).toBe('linear from one point');
  });
  it('follows the last two points as a power law when they grow faster than linear', () => {
    // 1000 → 2 s, 3000 → 18 s: exponent 2, so 10,000 → 18 · (10/3)² = 200 s.
    const p = predictNext(pts([1000, 3000, 1000, 3000], [2, 18, 2, 18]), 10000)!;
    expect(p.exponent).toBeCloseTo(2, 12);
    expect(p.y).toBeCloseTo(200, 9);
    expect(p.model).toBe('power law through the last two points (exponent 2.00)');
  });
  it('uses only the last two scale points', () => {
    const p = predictNext(pts([10, 1000, 3000], [100, 2, 18]), 10000)!;
    expect(p.y).toBeCloseTo(200, 9);
  });
  it('never predicts less than linear growth', () => {
    const p = predictNext(pts([1000, 10000], [5, 6]), 100000)!;
    expect(p.exponent).toBe(1);
    expect(p.y).toBeCloseTo(60, 12);
    expect(p.model).toBe('linear from the last point (the last two points grew with exponent 0.08, below 1)');
  });
  it('rejects a bad next x and bad points', () => {
    expect(() => predictNext(pts([1], [1]), 0)).toThrow(/next x/);
    expect(() => predictNext(pts([1], [0]), 2)).toThrow(/point\[0\]/);
  });
});
