import { describe, expect, it } from 'vitest';
import { DEFAULT_WARNING_THRESHOLDS, MIN_CI_SAMPLES, sampleWarnings, type WarningInput } from './warnings.js';

const clean: WarningInput = {
  n: 30,
  median: 100,
  cv: 0.02,
  ci: { low: 98, high: 103, degenerate: false },
  outliers: { count: 0 },
};

describe('sampleWarnings', () => {
  it('says nothing about a clean sample', () => {
    expect(sampleWarnings(clean)).toEqual([]);
    expect(DEFAULT_WARNING_THRESHOLDS).toEqual({ minSamples: 6, maxCv: 0.1, maxCiHalfWidth: 0.05 });
  });

  it('MIN_CI_SAMPLES is the smallest n whose [min, max] covers the median with probability ≥ 95%', () => {
    const coverage = (n: number) => 1 - 2 * 0.5 ** n;
    expect(coverage(MIN_CI_SAMPLES - 1)).toBeLessThan(0.95);
    expect(coverage(MIN_CI_SAMPLES)).toBeGreaterThanOrEqual(0.95);
  });

  it('asks for more repetitions when n is small', () => {
    expect(sampleWarnings({ ...clean, n: 2 })).toEqual([
      { code: 'few-samples', message: 'only n=2 samples: below n=6 no interval of the median reaches 95%; raise --repeat to at least 6' },
    ]);
    expect(sampleWarnings({ ...clean, n: 1, cv: null, ci: { low: 100, high: 100, degenerate: true } })).toEqual([
      { code: 'few-samples', message: 'only n=1 sample: below n=6 no interval of the median reaches 95%; raise --repeat to at least 6' },
    ]);
    expect(sampleWarnings({ ...clean, n: 5 }).map((w) => w.code)).toEqual(['few-samples']);
    expect(sampleWarnings({ ...clean, n: 6 })).toEqual([]);
  });

  it('reports high variation with the CV and what to raise', () => {
    expect(sampleWarnings({ ...clean, cv: 0.2312 })).toEqual([
      {
        code: 'high-variation',
        message: 'high variation (CV 23.1%): raise --duration or --repeat, and check for background load',
      },
    ]);
    expect(sampleWarnings({ ...clean, cv: 0.1 })).toEqual([]); // at the threshold: no warning
    expect(sampleWarnings({ ...clean, cv: null })).toEqual([]);
  });

  it('counts outliers by MAD', () => {
    expect(sampleWarnings({ ...clean, outliers: { count: 3 } })).toEqual([
      {
        code: 'outliers',
        message: '3 outliers by MAD: check for background load (other processes, CPU frequency scaling) and rerun',
      },
    ]);
    expect(sampleWarnings({ ...clean, outliers: { count: 1 } })[0]?.message).toMatch(/^1 outlier by MAD:/);
  });

  it('flags a CI wider than ±5 % of the median, on its wider side', () => {
    expect(sampleWarnings({ ...clean, ci: { low: 90, high: 104, degenerate: false } })).toEqual([
      { code: 'wide-ci', message: 'CI wider than ±5% of the median (±10%): raise --repeat or --duration' },
    ]);
    expect(sampleWarnings({ ...clean, ci: { low: 99, high: 106.5, degenerate: false } })[0]?.message).toContain('(±6.5%)');
    expect(sampleWarnings({ ...clean, ci: { low: 95, high: 105, degenerate: false } })).toEqual([]);
  });

  it('skips the CI check for a degenerate CI or a zero median', () => {
    expect(sampleWarnings({ ...clean, ci: { low: 0, high: 1000, degenerate: true } })).toEqual([]);
    expect(sampleWarnings({ ...clean, median: 0, ci: { low: -5, high: 5, degenerate: false } })).toEqual([]);
  });

  it('says when adaptive repetitions (--ci-target) stopped at --max-repeat still too wide, in place of wide-ci', () => {
    const wide = { ...clean, n: 10, ci: { low: 93, high: 104, degenerate: false } };
    expect(sampleWarnings(wide, { ciTarget: { halfWidth: 0.05, maxRepeat: 10 } })).toEqual([
      {
        code: 'ci-target',
        message:
          'CI wider than ±5% after 10 repetitions (--ci-target): ±7% of the median; raise --max-repeat or --duration, and check for background load',
      },
    ]);
    // Below --max-repeat (the run stopped early) or with the target met: the usual checks.
    expect(sampleWarnings({ ...wide, n: 9 }, { ciTarget: { halfWidth: 0.05, maxRepeat: 10 } }).map((w) => w.code)).toEqual(['wide-ci']);
    expect(sampleWarnings(wide, { ciTarget: { halfWidth: 0.08, maxRepeat: 10 } }).map((w) => w.code)).toEqual(['wide-ci']);
    expect(sampleWarnings(clean, { ciTarget: { halfWidth: 0.05, maxRepeat: 10 } })).toEqual([]);
    // A tiny target keeps its digits; target 0 is adaptivity off.
    expect(sampleWarnings(wide, { ciTarget: { halfWidth: 0.00001, maxRepeat: 4 } })[0]!.message).toMatch(
      /^CI wider than ±0\.001% after 10/,
    );
    expect(sampleWarnings(wide, { ciTarget: { halfWidth: 0, maxRepeat: 10 } }).map((w) => w.code)).toEqual(['wide-ci']);
  });

  it('honours custom thresholds', () => {
    const noisy = { ...clean, n: 3, cv: 0.2312, ci: { low: 90, high: 110, degenerate: false } };
    expect(sampleWarnings(noisy).map((w) => w.code)).toEqual(['few-samples', 'high-variation', 'wide-ci']);
    expect(sampleWarnings(noisy, { minSamples: 3, maxCv: 0.3, maxCiHalfWidth: 0.1 })).toEqual([]);
  });

  it('lists every applicable warning in a fixed order', () => {
    const bad: WarningInput = {
      n: 4,
      median: 100,
      cv: 0.5,
      ci: { low: 50, high: 150, degenerate: false },
      outliers: { count: 1 },
    };
    expect(sampleWarnings(bad).map((w) => w.code)).toEqual(['few-samples', 'high-variation', 'outliers', 'wide-ci']);
  });
});
