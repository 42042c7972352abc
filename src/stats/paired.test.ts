import { describe, expect, it } from 'vitest';
import { bootstrapCI } from './bootstrap.js';
import { compare } from './compare.js';
import { comparePaired, pairRatios, ratioVerdict, type Pair } from './paired.js';
import { createRng } from './prng.js';

describe('pairRatios', () => {
  it('divides each candidate by its own baseline', () => {
    expect(
      pairRatios([
        { baseline: 200, candidate: 190 },
        { baseline: 50, candidate: 52 },
        { baseline: 4, candidate: 4 },
      ]),
    ).toEqual([0.95, 1.04, 1]);
  });

  it('rejects a baseline that is not positive and values that are not finite, naming the pair', () => {
    expect(() =>
      pairRatios([
        { baseline: 1, candidate: 1 },
        { baseline: 0, candidate: 1 },
      ]),
    ).toThrow(/pair 1 is \(0, 1\)/);
    expect(() => pairRatios([{ baseline: -3, candidate: 1 }])).toThrow(RangeError);
    expect(() => pairRatios([{ baseline: 1, candidate: Number.NaN }])).toThrow(RangeError);
    expect(() => pairRatios([{ baseline: Number.POSITIVE_INFINITY, candidate: 1 }])).toThrow(RangeError);
  });
});

describe('ratioVerdict', () => {
  const ci = (low: number, high: number, degenerate = false) => ({ low, high, degenerate });
  it('is significant only when the whole interval lies on one side of 1', () => {
    expect(ratioVerdict(ci(1.01, 1.05), 'higher')).toBe('faster');
    expect(ratioVerdict(ci(1.01, 1.05), 'lower')).toBe('slower');
    expect(ratioVerdict(ci(0.9, 0.99), 'higher')).toBe('slower');
    expect(ratioVerdict(ci(0.9, 0.99), 'lower')).toBe('faster');
    expect(ratioVerdict(ci(0.95, 1.05), 'higher')).toBe('not significant');
    // Touching 1 is no claim (the conservative reading, as intervalsOverlap).
    expect(ratioVerdict(ci(1, 1.05), 'higher')).toBe('not significant');
    expect(ratioVerdict(ci(0.9, 1), 'lower')).toBe('not significant');
    expect(ratioVerdict(ci(1.2, 1.2, true), 'higher')).toBe('not significant');
  });
});

describe('comparePaired', () => {
  it('estimates the median of the per-pair ratios', () => {
    const pairs: Pair[] = [
      { baseline: 100, candidate: 99 },
      { baseline: 100, candidate: 101 },
      { baseline: 200, candidate: 190 },
      { baseline: 50, candidate: 52 },
      { baseline: 10, candidate: 10 },
    ];
    const c = comparePaired(pairs, { better: 'higher', seed: 4 });
    expect(c.ratio.estimate).toBe(1);
    expect(c.relativeChange).toBe(0);
    expect(c.pairs).toBe(5);
    expect(c.seed).toBe(4);
    expect(c.better).toBe('higher');
  });

  it('bootstraps over pairs: the interval is the seeded percentile bootstrap of the ratios', () => {
    const pairs = [0.9, 1.0, 1.1, 1.2, 0.95, 1.05].map((r, i) => ({ baseline: 10 * (i + 1), candidate: 10 * (i + 1) * r }));
    const c = comparePaired(pairs, { seed: 7, better: 'higher' });
    const direct = bootstrapCI(pairRatios(pairs), { seed: 7 });
    expect(c.ratio).toEqual(direct);
    // The exact interval of this seed (2,000 resamples, type-7 quantiles at 2.5% and 97.5%).
    expect(c.ratio.estimate).toBeCloseTo(1.025, 12);
    expect(c.ratio.low).toBeCloseTo(0.925, 12);
    expect(c.ratio.high).toBeCloseTo(1.15, 12);
    expect(c.ratio.resamples).toBe(2000);
    expect(c.verdict).toBe('not significant');
  });

  it('gives the same interval whatever order the pairs come in, and a different one when pairs are broken up', () => {
    const pairs = [1.02, 0.98, 1.05, 1.01, 0.97, 1.03, 1.0].map((r, i) => ({ baseline: 100 + 40 * i, candidate: (100 + 40 * i) * r }));
    const a = comparePaired(pairs, { seed: 2 });
    const b = comparePaired([...pairs].reverse(), { seed: 2 });
    expect(b.ratio).toEqual(a.ratio);
    const broken = pairs.map((p, i) => ({ baseline: p.baseline, candidate: pairs[(i + 3) % pairs.length]!.candidate }));
    expect(comparePaired(broken, { seed: 2 }).ratio.high - comparePaired(broken, { seed: 2 }).ratio.low).toBeGreaterThan(
      a.ratio.high - a.ratio.low,
    );
  });

  it('cancels a drift that moves both halves of each pair, where the unpaired interval cannot', () => {
    // The machine slows from 100 to 200 units over the run; the candidate is 3% slower than the
    // baseline within each pair, with ±0.5% noise.
    const rng = createRng(11);
    const pairs = Array.from({ length: 24 }, (_, i) => {
      const level = 100 + (100 * i) / 23;
      return { baseline: level, candidate: level * 0.97 * (1 + (rng.nextFloat() - 0.5) * 0.01) };
    });
    const paired = comparePaired(pairs, { better: 'higher', seed: 5 });
    expect(paired.ratio.low).toBeGreaterThan(0.96);
    expect(paired.ratio.high).toBeLessThan(0.98);
    expect(paired.verdict).toBe('slower');
    const unpaired = compare(
      pairs.map((p) => p.baseline),
      pairs.map((p) => p.candidate),
      { better: 'higher', seed: 5 },
    );
    expect(unpaired.verdict).toBe('not significant');
    expect(unpaired.ratio.high - unpaired.ratio.low).toBeGreaterThan(5 * (paired.ratio.high - paired.ratio.low));
  });

  it('equal ratios give a zero-width interval at that ratio', () => {
    const c = comparePaired(
      [10, 20, 30].map((b) => ({ baseline: b, candidate: b * 1.25 })),
      { better: 'higher' },
    );
    expect([c.ratio.estimate, c.ratio.low, c.ratio.high]).toEqual([1.25, 1.25, 1.25]);
    expect(c.verdict).toBe('faster');
  });

  it('one pair has no interval: degenerate and not significant', () => {
    const c = comparePaired([{ baseline: 10, candidate: 20 }]);
    expect(c.ratio.degenerate).toBe(true);
    expect([c.ratio.low, c.ratio.high]).toEqual([2, 2]);
    expect(c.verdict).toBe('not significant');
  });

  it('refuses no pairs', () => {
    expect(() => comparePaired([])).toThrow(/no pairs/);
  });
});
