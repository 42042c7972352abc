import { describe, expect, it } from 'vitest';
import { bootstrapCI } from './bootstrap.js';
import { summarize } from './summarize.js';

const A = [12, 15, 11, 14, 13, 18, 12, 16, 13, 14];

/** Every leaf is a finite number, string, boolean or null: what JSON can carry unchanged. */
function assertPlainJson(value: unknown, path = '$'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => assertPlainJson(v, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) assertPlainJson(v, `${path}.${k}`);
    return;
  }
  throw new Error(`${path} is not plain JSON (${typeof value})`);
}

describe('summarize', () => {
  it('summarises a known sample exactly (cross-checked with numpy)', () => {
    const s = summarize(A, { seed: 42 });
    expect(s).toEqual({
      n: 10,
      min: 11,
      max: 18,
      mean: 13.8,
      median: 13.5,
      ci: bootstrapCI(A, { seed: 42 }),
      percentiles: { p50: 13.5, p90: 16.2, p99: 17.82, 'p99.9': 17.982000000000003 },
      stddev: 2.0976176963403033, // np.std(A, ddof=1)
      cv: 0.15200128234350022,
      mad: 1.5,
      madScaled: 2.2239,
      outliers: { scale: 'mad', threshold: 3.5, indices: [], count: 0 },
      warnings: [
        {
          code: 'high-variation',
          message: 'high variation (CV 15.2%): raise --duration or --repeat, and check for background load',
        },
        { code: 'wide-ci', message: 'CI wider than ±5% of the median (±14.8%): raise --repeat or --duration' },
      ],
    });
    expect(s.ci).toMatchObject({ low: 12, high: 15.5, seed: 42 });
  });

  it('is plain JSON that survives a round trip unchanged', () => {
    for (const sample of [A, [5], [-1, 1], [10, 11, 10, 12, 11, 10, 100]]) {
      const s = summarize(sample);
      assertPlainJson(s);
      expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
    }
  });

  it('uses null, not NaN, where a statistic is undefined', () => {
    const one = summarize([5]);
    expect([one.stddev, one.cv]).toEqual([null, null]);
    expect(one.ci).toMatchObject({ estimate: 5, low: 5, high: 5, degenerate: true });
    expect(one.warnings.map((w) => w.code)).toEqual(['few-samples']);
    const zeroMean = summarize([-1, 1]);
    expect(zeroMean.stddev).toBe(Math.SQRT2);
    expect(zeroMean.cv).toBeNull();
  });

  it('reports planted outliers and warns about them', () => {
    const s = summarize([10, 11, 10, 12, 11, 10, 100, 11, 10, 12]);
    expect(s.outliers.indices).toEqual([6]);
    expect(s.warnings.map((w) => w.code)).toContain('outliers');
  });

  it('passes its options through', () => {
    const s = summarize(A, {
      seed: 9,
      resamples: 100,
      level: 0.9,
      percentiles: [25, 75],
      outlierThreshold: 1,
      warningThresholds: { maxCv: 0.5, maxCiHalfWidth: 0.5 },
    });
    expect(s.ci).toEqual(bootstrapCI(A, { seed: 9, resamples: 100, level: 0.9 }));
    expect(s.percentiles).toEqual({ p25: 12.25, p75: 14.75 });
    // |modified z| > 1 ⇔ |x − 13.5| > 1.5 / 0.6745 ≈ 2.22: the 11 and the 16 and 18.
    expect(s.outliers.indices).toEqual([2, 5, 7]);
    expect(s.warnings.map((w) => w.code)).toEqual(['outliers']);
  });

  it('rejects empty or non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(/samples\[1\]/);
  });
});
