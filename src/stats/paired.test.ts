import { describe, expect, it } from 'vitest';
import { bootstrapCI } from './bootstrap.js';
import { compare } from './compare.js';
import { comparePaired, groupMeanLogRatios, pairRatios, ratioVerdict, type Pair } from './paired.js';
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
  it('estimates the geometric mean of the per-pair ratios', () => {
    const pairs: Pair[] = [
      { baseline: 100, candidate: 99 },
      { baseline: 100, candidate: 101 },
      { baseline: 200, candidate: 190 },
      { baseline: 50, candidate: 52 },
      { baseline: 10, candidate: 10 },
    ];
    const c = comparePaired(pairs, { better: 'higher', seed: 4 });
    const logs = [0.99, 1.01, 0.95, 1.04, 1].map(Math.log);
    expect(c.ratio.estimate).toBeCloseTo(Math.exp(logs.reduce((a, x) => a + x, 0) / 5), 14);
    expect(c.relativeChange).toBeCloseTo(c.ratio.estimate - 1, 14);
    expect(c.pairs).toBe(5);
    expect(c.groups).toBe(5);
    expect(c.seed).toBe(4);
    expect(c.better).toBe('higher');
  });

  it("is Student's t interval of the repetitions' mean log ratios, G − 1 degrees of freedom", () => {
    // Three repetitions of two pairs each: mean log ratios ln 1.02, ln 1.05 and ln 0.99 (each from
    // two pairs whose logs average to it), so the interval is exp(m ± t(0.975, 2) · s / √3).
    const rep = (group: number, a: number, b: number): Pair[] => [
      { baseline: 100, candidate: 100 * a, group },
      { baseline: 300, candidate: 300 * b, group },
    ];
    const pairs = [...rep(1, 1.01, 1.02 ** 2 / 1.01), ...rep(2, 1.05, 1.05), ...rep(3, 0.98, 0.99 ** 2 / 0.98)];
    const means = [1.02, 1.05, 0.99].map(Math.log);
    const m = means.reduce((a, x) => a + x, 0) / 3;
    const s = Math.sqrt(means.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
    const half = 4.302652729911275 * (s / Math.sqrt(3));
    const c = comparePaired(pairs, { better: 'higher' });
    expect(groupMeanLogRatios(pairs).map((x) => x.toFixed(12))).toEqual(means.map((x) => x.toFixed(12)));
    expect(c.groups).toBe(3);
    expect(c.pairs).toBe(6);
    expect(c.ratio.estimate).toBeCloseTo(Math.exp(m), 12);
    expect(c.ratio.low).toBeCloseTo(Math.exp(m - half), 10);
    expect(c.ratio.high).toBeCloseTo(Math.exp(m + half), 10);
    expect(c.ratio.resamples).toBe(0);
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
    for (const x of [c.ratio.estimate, c.ratio.low, c.ratio.high]) expect(x).toBeCloseTo(1.25, 12);
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

// Coverage on synthetic drifting data: R repetitions of 4 rounds, the pod path's block and the
// Service path's block in a shuffled order per round, 0.27 s apart. The machine's speed drifts (a
// random walk, a slow swing of ±30% with a one-minute period, and a level of its own per
// repetition), every block has ±10% noise (log-normal) and a 5% chance of losing half its
// throughput to something else on the machine; the Service path is truly 3% faster, and per
// repetition it may also be off by a repetition effect (its client's placement), sd 5% or 10%. A 95%
// interval must contain the true ratio in about 95% of data sets.
describe('comparePaired coverage (simulation)', () => {
  const TRUE_RATIO = 1.03;
  const normal = (rng: ReturnType<typeof createRng>) => {
    const u = 1 - rng.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
  };
  function dataset(rng: ReturnType<typeof createRng>, repetitions: number, repetitionSd: number): Pair[] {
    const pairs: Pair[] = [];
    let t = 0;
    let walk = 0;
    const phase = rng.nextFloat() * 2 * Math.PI;
    for (let r = 1; r <= repetitions; r++) {
      const level = 0.2 * normal(rng);
      const effect = repetitionSd * normal(rng);
      t += 2;
      for (let round = 0; round < 4; round++) {
        const block = (service: boolean) => {
          t += 0.27;
          walk += 0.05 * Math.sqrt(0.27) * normal(rng);
          const machine = walk + level + 0.3 * Math.sin(phase + (2 * Math.PI * t) / 60);
          const hit = rng.nextFloat() < 0.05 ? Math.log(0.5) : 0;
          return Math.exp(machine + (service ? Math.log(TRUE_RATIO) + effect : 0) + 0.1 * normal(rng) + hit) * 5000;
        };
        const serviceFirst = rng.nextFloat() < 0.5;
        const first = block(serviceFirst);
        const second = block(!serviceFirst);
        pairs.push(serviceFirst ? { baseline: second, candidate: first, group: r } : { baseline: first, candidate: second, group: r });
      }
    }
    return pairs;
  }
  const covered = (lo: number, hi: number) => lo <= TRUE_RATIO && TRUE_RATIO <= hi;

  it.each([
    [3, 0],
    [3, 0.05],
    [10, 0],
    [10, 0.05],
    [30, 0.05],
    [10, 0.1],
  ])('%i repetitions, repetition effect sd %f: the 95%% interval covers the true ratio 93-97%% of the time', (repetitions, sd) => {
    const rng = createRng(1000 + repetitions * 7 + sd * 1000);
    const sets = 2000;
    let hits = 0;
    for (let i = 0; i < sets; i++) {
      const c = comparePaired(dataset(rng, repetitions, sd), { better: 'higher' }).ratio;
      if (covered(c.low, c.high)) hits++;
    }
    expect(hits / sets).toBeGreaterThanOrEqual(0.93);
    expect(hits / sets).toBeLessThanOrEqual(0.97);
  });

  it('an interval over pairs as if they were independent (bootstrap of the median ratio) covers too little with a repetition effect', () => {
    const rng = createRng(77);
    const sets = 300;
    let hits = 0;
    for (let i = 0; i < sets; i++) {
      const c = bootstrapCI(pairRatios(dataset(rng, 10, 0.1)), { seed: i + 1, resamples: 500 });
      if (covered(c.low, c.high)) hits++;
    }
    expect(hits / sets).toBeLessThan(0.9);
  });
});
