import { describe, expect, it } from 'vitest';
import { bootstrapCI, bootstrapDifferenceCI, bootstrapRatioCI, DEFAULT_LEVEL, DEFAULT_RESAMPLES, DEFAULT_SEED } from './bootstrap.js';
import { mean, median } from './descriptive.js';
import { createRng } from './prng.js';

const A = [12, 15, 11, 14, 13, 18, 12, 16, 13, 14];
const B = [20, 22, 19, 25, 21, 23, 20, 24];

// The pinned intervals were cross-checked with an independent Python/numpy re-implementation:
// same xoshiro128** stream (Python big-int arithmetic), indices drawn with the same rejection
// rule into np.sort(x), np.median / np.mean of each resample, np.quantile of the replicates at
// (1 − level)/2 and (1 + level)/2. It printed the same numbers, bit for bit.
describe('bootstrapCI', () => {
  it('pins the 95 % CI of the median for seed 42', () => {
    expect(bootstrapCI(A, { seed: 42 })).toEqual({
      estimate: 13.5,
      low: 12,
      high: 15.5,
      level: 0.95,
      resamples: 2000,
      seed: 42,
      degenerate: false,
    });
  });

  it('pins an 80 % CI with 500 resamples', () => {
    const ci = bootstrapCI(A, { seed: 42, resamples: 500, level: 0.8 });
    expect([ci.low, ci.high, ci.level, ci.resamples]).toEqual([12.5, 14.5, 0.8, 500]);
  });

  it('takes any statistic (mean), pinned', () => {
    const ci = bootstrapCI(A, { seed: 42, statistic: mean });
    expect(ci.estimate).toBe(13.8);
    expect(ci.low).toBeCloseTo(12.6975, 12);
    expect(ci.high).toBeCloseTo(15.1025, 12);
  });

  it('records the defaults it used', () => {
    const ci = bootstrapCI(A);
    expect([ci.resamples, ci.level, ci.seed]).toEqual([DEFAULT_RESAMPLES, DEFAULT_LEVEL, DEFAULT_SEED]);
    expect([DEFAULT_RESAMPLES, DEFAULT_LEVEL]).toEqual([2000, 0.95]);
  });

  it('is reproducible from the seed and changes with it', () => {
    const rng = createRng(11);
    const xs = Array.from({ length: 40 }, () => rng.nextFloat());
    expect(bootstrapCI(xs, { seed: 5 })).toEqual(bootstrapCI(xs, { seed: 5 }));
    // The mean of continuous data takes a different value on almost every resample, so its
    // bounds move with the seed (a median's bounds are order statistics and may coincide).
    const five = bootstrapCI(xs, { seed: 5, statistic: mean });
    const six = bootstrapCI(xs, { seed: 6, statistic: mean });
    expect(six.low).not.toBe(five.low);
    expect(six.high).not.toBe(five.high);
  });

  it('does not depend on the order the samples arrived in', () => {
    const shuffled = [14, 13, 16, 12, 18, 13, 14, 11, 15, 12];
    expect(bootstrapCI(shuffled, { seed: 42 })).toEqual(bootstrapCI(A, { seed: 42 }));
  });

  it('contains the sample median (many samples and seeds)', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 30; trial++) {
      const xs = Array.from({ length: 5 + rng.nextInt(30) }, () => 100 + 20 * rng.nextFloat());
      const ci = bootstrapCI(xs, { seed: trial, resamples: 300 });
      expect(ci.estimate).toBe(median(xs));
      expect(ci.low).toBeLessThanOrEqual(ci.estimate);
      expect(ci.high).toBeGreaterThanOrEqual(ci.estimate);
    }
  });

  it('narrows as n grows', () => {
    const rng = createRng(8);
    const draw = (n: number) => Array.from({ length: n }, () => rng.nextFloat());
    const width = (n: number) => {
      const ci = bootstrapCI(draw(n), { seed: 1, resamples: 500 });
      return ci.high - ci.low;
    };
    const [w20, w200, w2000] = [width(20), width(200), width(2000)];
    expect(w200).toBeLessThan(w20);
    expect(w2000).toBeLessThan(w200);
    // The median's standard error shrinks like 1/√n: ten times the data, about a third the width.
    expect(w2000 / w200).toBeGreaterThan(0.15);
    expect(w2000 / w200).toBeLessThan(0.6);
  });

  it('is wider at a higher level', () => {
    const narrow = bootstrapCI(A, { seed: 9, level: 0.5 });
    const wide = bootstrapCI(A, { seed: 9, level: 0.99 });
    expect(wide.low).toBeLessThanOrEqual(narrow.low);
    expect(wide.high).toBeGreaterThanOrEqual(narrow.high);
    expect(wide.high - wide.low).toBeGreaterThan(narrow.high - narrow.low);
  });

  it('covers the true median about 95 % of the time (200 uniform samples of n = 25)', () => {
    const rng = createRng(2024);
    let covered = 0;
    for (let trial = 0; trial < 200; trial++) {
      const xs = Array.from({ length: 25 }, () => rng.nextFloat());
      const ci = bootstrapCI(xs, { seed: trial, resamples: 400 });
      if (ci.low <= 0.5 && ci.high >= 0.5) covered++;
    }
    expect(covered / 200).toBeGreaterThanOrEqual(0.88);
    expect(covered / 200).toBeLessThanOrEqual(0.99);
  });

  it('gives a zero-width, non-degenerate interval for constant data', () => {
    expect(bootstrapCI([5, 5, 5, 5], { seed: 1 })).toMatchObject({ estimate: 5, low: 5, high: 5, degenerate: false });
  });

  it('flags n = 1 as degenerate instead of pretending to know the uncertainty', () => {
    expect(bootstrapCI([7], { seed: 3 })).toEqual({
      estimate: 7,
      low: 7,
      high: 7,
      level: 0.95,
      resamples: 0,
      seed: 3,
      degenerate: true,
    });
  });

  it('rejects empty samples, bad options and non-finite statistics', () => {
    expect(() => bootstrapCI([])).toThrow(RangeError);
    expect(() => bootstrapCI(A, { resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapCI(A, { resamples: 10.5 })).toThrow(RangeError);
    expect(() => bootstrapCI(A, { level: 1 })).toThrow(RangeError);
    expect(() => bootstrapCI(A, { level: 0 })).toThrow(RangeError);
    expect(() => bootstrapCI(A, { seed: 0.5 })).toThrow(RangeError);
    expect(() => bootstrapCI(A, { statistic: () => Number.NaN })).toThrow(RangeError);
  });
});

describe('bootstrapRatioCI', () => {
  it('pins the CI of median(b) / median(a) for seed 7', () => {
    expect(bootstrapRatioCI(A, B, { seed: 7 })).toEqual({
      estimate: 21.5 / 13.5,
      low: 1.3870967741935485,
      high: 1.8461538461538463,
      level: 0.95,
      resamples: 2000,
      seed: 7,
      degenerate: false,
    });
  });

  it('scales exactly with b (doubling b doubles every bound)', () => {
    const base = bootstrapRatioCI(A, B, { seed: 4, resamples: 300 });
    const doubled = bootstrapRatioCI(
      A,
      B.map((x) => 2 * x),
      { seed: 4, resamples: 300 },
    );
    expect([doubled.estimate, doubled.low, doubled.high]).toEqual([2 * base.estimate, 2 * base.low, 2 * base.high]);
  });

  it('contains 1 for two samples of the same distribution and excludes it for a 2× shift', () => {
    const rng = createRng(21);
    const draw = (scale: number) => Array.from({ length: 30 }, () => scale * (100 + 10 * rng.nextFloat()));
    const a = draw(1);
    const same = bootstrapRatioCI(a, draw(1), { seed: 1 });
    expect(same.low).toBeLessThan(1);
    expect(same.high).toBeGreaterThan(1);
    const doubled = bootstrapRatioCI(a, draw(2), { seed: 1 });
    expect(doubled.low).toBeGreaterThan(1.8);
    expect(doubled.high).toBeLessThan(2.2);
  });

  it('is degenerate when either sample has fewer than 2 values', () => {
    expect(bootstrapRatioCI([10], B, { seed: 1 })).toMatchObject({
      estimate: 2.15,
      low: 2.15,
      high: 2.15,
      resamples: 0,
      degenerate: true,
    });
    expect(bootstrapRatioCI(A, [27], { seed: 1 }).degenerate).toBe(true);
  });

  it('throws when the denominator median is 0 on the data or on a resample', () => {
    expect(() => bootstrapRatioCI([0, 0, 0], [1, 2])).toThrow(RangeError);
    expect(() => bootstrapRatioCI([0, 0, 1, 1, 1], [1, 2], { seed: 1 })).toThrow(/ratio of a resample/);
  });
});

describe('bootstrapDifferenceCI', () => {
  it('has the exact difference of the medians as its estimate', () => {
    expect(bootstrapDifferenceCI(A, B, { seed: 7 }).estimate).toBe(21.5 - 13.5);
  });

  it('gives the extreme differences for two-value samples (each has probability 1/16 > 2.5 %)', () => {
    // Resample medians of [0, 2] are 0, 1, 2 (p 1/4, 1/2, 1/4), of [10, 14] 10, 12, 14; the lowest
    // difference 10 − 2 and the highest 14 − 0 each have probability 1/16.
    expect(bootstrapDifferenceCI([0, 2], [10, 14], { seed: 3 })).toEqual({
      estimate: 11,
      low: 8,
      high: 14,
      level: 0.95,
      resamples: 2000,
      seed: 3,
      degenerate: false,
    });
  });

  it('is exactly [d, d] for two constant samples d apart', () => {
    expect(bootstrapDifferenceCI([5, 5, 5], [7.5, 7.5], { seed: 1 })).toMatchObject({
      estimate: 2.5,
      low: 2.5,
      high: 2.5,
      degenerate: false,
    });
  });

  it('moves every bound by exactly c when b moves by c, and draws as a hand-written replay does', () => {
    const base = bootstrapDifferenceCI(A, B, { seed: 9, resamples: 400 });
    const moved = bootstrapDifferenceCI(
      A,
      B.map((x) => x + 4),
      { seed: 9, resamples: 400 },
    );
    expect([moved.estimate, moved.low, moved.high]).toEqual([base.estimate + 4, base.low + 4, base.high + 4]);
    // Replay: per replicate, len(A) indices into sorted A, then len(B) into sorted B, from one stream.
    const rng = createRng(9);
    const sa = [...A].sort((x, y) => x - y);
    const sb = [...B].sort((x, y) => x - y);
    const reps = Array.from({ length: 400 }, () => {
      const ra = sa.map(() => sa[rng.nextInt(sa.length)]!);
      const rb = sb.map(() => sb[rng.nextInt(sb.length)]!);
      return median(rb) - median(ra);
    }).sort((x, y) => x - y);
    const q = (p: number) => {
      const h = (reps.length - 1) * p;
      const lo = Math.floor(h);
      return reps[lo]! + (h - lo) * (reps[Math.min(lo + 1, reps.length - 1)]! - reps[lo]!);
    };
    expect([base.low, base.high]).toEqual([q(0.025), q(0.975)]);
  });

  it('pins the CI of median(b) − median(a) for seed 7', () => {
    const ci = bootstrapDifferenceCI(A, B, { seed: 7 });
    expect([ci.low, ci.high]).toEqual([6, 10.5]);
  });

  it('is degenerate when either sample has fewer than 2 values', () => {
    expect(bootstrapDifferenceCI([10], B, { seed: 1 })).toMatchObject({
      estimate: 11.5,
      low: 11.5,
      high: 11.5,
      resamples: 0,
      degenerate: true,
    });
    expect(bootstrapDifferenceCI(A, [27], { seed: 1 }).degenerate).toBe(true);
  });
});
