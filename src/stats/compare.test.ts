import { describe, expect, it } from 'vitest';
import { bootstrapCI, bootstrapRatioCI } from './bootstrap.js';
import { compare, intervalsOverlap, isSignificantRegression, type Comparison } from './compare.js';
import { createRng } from './prng.js';

const rng = createRng(31);
const around = (centre: number, spread: number, n = 30) => Array.from({ length: n }, () => centre + spread * rng.nextFloat());
const fast = around(100, 4); // latencies in [100, 104)
const slow = around(150, 4); // latencies in [150, 154)
const fastAgain = around(100, 4);

describe('intervalsOverlap', () => {
  it('treats touching and nested intervals as overlapping, symmetrically', () => {
    expect(intervalsOverlap({ low: 1, high: 2 }, { low: 2, high: 3 })).toBe(true);
    expect(intervalsOverlap({ low: 2, high: 3 }, { low: 1, high: 2 })).toBe(true);
    expect(intervalsOverlap({ low: 0, high: 10 }, { low: 4, high: 5 })).toBe(true);
    expect(intervalsOverlap({ low: 1, high: 2 }, { low: 2.0001, high: 3 })).toBe(false);
    expect(intervalsOverlap({ low: 2.0001, high: 3 }, { low: 1, high: 2 })).toBe(false);
  });
});

describe('compare', () => {
  it('reports exact ratio and relative change of the medians', () => {
    const c = compare([10, 10, 10, 11, 9], [15, 15, 15, 16, 14]);
    expect(c.ratio.estimate).toBe(1.5);
    expect(c.relativeChange).toBe(0.5);
    expect(c.verdict).toBe('slower');
  });

  it('calls a clearly higher latency "slower" and a clearly lower one "faster"', () => {
    const worse = compare(fast, slow, { seed: 3 });
    expect(worse.verdict).toBe('slower');
    expect(worse.relativeChange).toBeGreaterThan(0.45);
    expect(worse.relativeChange).toBeLessThan(0.55);
    expect(worse.ratio.low).toBeLessThanOrEqual(worse.ratio.estimate);
    expect(worse.ratio.high).toBeGreaterThanOrEqual(worse.ratio.estimate);
    expect(compare(slow, fast, { seed: 3 }).verdict).toBe('faster');
  });

  it('flips the verdict when higher is better (throughput)', () => {
    expect(compare(fast, slow, { better: 'higher' }).verdict).toBe('faster');
    expect(compare(slow, fast, { better: 'higher' }).verdict).toBe('slower');
  });

  it('reports overlapping samples as not significantly different', () => {
    const c = compare(fast, fastAgain, { seed: 3 });
    expect(intervalsOverlap(c.baseline, c.candidate)).toBe(true);
    expect(c.verdict).toBe('not significant');
  });

  it('makes no claim from one value per side, however far apart', () => {
    const c = compare([10], [20]);
    expect(c.verdict).toBe('not significant');
    expect(c.ratio).toMatchObject({ estimate: 2, degenerate: true });
    expect(c.relativeChange).toBe(1);
  });

  it('derives one seed per bootstrap and reproduces from the base seed', () => {
    const c = compare(fast, slow, { seed: 40, resamples: 200, level: 0.9 });
    expect([c.seed, c.baseline.seed, c.candidate.seed, c.ratio.seed]).toEqual([40, 40, 41, 42]);
    expect(c.baseline).toEqual(bootstrapCI(fast, { seed: 40, resamples: 200, level: 0.9 }));
    expect(c.candidate).toEqual(bootstrapCI(slow, { seed: 41, resamples: 200, level: 0.9 }));
    expect(c.ratio).toEqual(bootstrapRatioCI(fast, slow, { seed: 42, resamples: 200, level: 0.9 }));
    expect(compare(fast, slow, { seed: 40, resamples: 200, level: 0.9 })).toEqual(c);
  });
});

describe('isSignificantRegression', () => {
  const worse = compare(fast, slow, { seed: 3 });

  it('is true when the whole ratio CI lies past the threshold', () => {
    expect(worse.ratio.low).toBeGreaterThan(1.4);
    expect(isSignificantRegression(worse, 10)).toBe(true);
    expect(isSignificantRegression(worse, 0)).toBe(true);
  });

  it('is false when the CI reaches into the threshold', () => {
    expect(worse.ratio.high).toBeLessThan(1.6);
    expect(isSignificantRegression(worse, 60)).toBe(false);
  });

  it('is false for improvements and for non-significant changes', () => {
    expect(isSignificantRegression(compare(slow, fast, { seed: 3 }), 10)).toBe(false);
    expect(isSignificantRegression(compare(fast, fastAgain, { seed: 3 }), 0)).toBe(false);
  });

  it('reads a throughput drop as a regression when higher is better', () => {
    const dropped = compare(slow, fast, { seed: 3, better: 'higher' }); // ratio ≈ 0.67
    expect(dropped.verdict).toBe('slower');
    expect(isSignificantRegression(dropped, 10)).toBe(true);
    expect(isSignificantRegression(dropped, 40)).toBe(false);
  });

  it('needs the CI bound past the threshold, not just the point estimate', () => {
    const interval = { level: 0.95, resamples: 2000, seed: 1, degenerate: false };
    const withRatio = (better: 'lower' | 'higher', estimate: number, low: number, high: number): Comparison => ({
      baseline: { ...interval, estimate: 100, low: 98, high: 102 },
      candidate: { ...interval, estimate: 100 * estimate, low: 100 * estimate - 2, high: 100 * estimate + 2 },
      ratio: { ...interval, estimate, low, high },
      relativeChange: estimate - 1,
      verdict: 'slower',
      better,
      seed: 1,
    });
    // +20 % latency, CI [+5 %, +35 %]: a regression over 4 %, not provably over 10 %.
    expect(isSignificantRegression(withRatio('lower', 1.2, 1.05, 1.35), 10)).toBe(false);
    expect(isSignificantRegression(withRatio('lower', 1.2, 1.05, 1.35), 4)).toBe(true);
    // −20 % throughput, CI [−35 %, −5 %]: the same reading in the other direction.
    expect(isSignificantRegression(withRatio('higher', 0.8, 0.65, 0.95), 10)).toBe(false);
    expect(isSignificantRegression(withRatio('higher', 0.8, 0.65, 0.95), 4)).toBe(true);
  });

  it('rejects a negative or non-finite threshold', () => {
    expect(() => isSignificantRegression(worse, -1)).toThrow(RangeError);
    expect(() => isSignificantRegression(worse, Number.NaN)).toThrow(RangeError);
  });
});
