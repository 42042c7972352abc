import { describe, expect, it } from 'vitest';
import { createRng, splitMix64, xoshiro128StarStar } from './prng.js';

// Expected streams below were produced by Vigna's reference C (splitmix64.c,
// xoshiro128starstar.c) compiled with gcc, seeded exactly as createRng seeds.

describe('splitMix64', () => {
  it('matches the published SplitMix64 sequence for seed 1234567', () => {
    const next = splitMix64(1234567n);
    expect([next(), next(), next(), next(), next()]).toEqual([
      6457827717110365317n,
      3203168211198807973n,
      9817491932198370423n,
      4593380528125082431n,
      16408922859458223821n,
    ]);
  });

  it('gives 0xe220a8397b1dcdaf first for seed 0', () => {
    expect(splitMix64(0n)()).toBe(0xe220a8397b1dcdafn);
  });
});

describe('xoshiro128StarStar', () => {
  it('matches the reference C for state [1, 2, 3, 4]', () => {
    const next = xoshiro128StarStar([1, 2, 3, 4]);
    expect(Array.from({ length: 6 }, next)).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('rejects the all-zero state (it would output zeros forever)', () => {
    expect(() => xoshiro128StarStar([0, 0, 0, 0])).toThrow(RangeError);
  });
});

describe('createRng', () => {
  it.each([
    [42, [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222]],
    [1, [1695105466, 1423115009, 634581793, 1068227753, 716759206, 4186505319]],
    [0, [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774]],
    [-1, [477689756, 2493998634, 555695776, 607808419, 61340979, 301466976]],
  ])('pins the first uint32 outputs for seed %i', (seed, expected) => {
    const rng = createRng(seed);
    expect(Array.from({ length: expected.length }, () => rng.nextUint32())).toEqual(expected);
    expect(rng.seed).toBe(seed);
  });

  it('is reproducible and seed-sensitive', () => {
    const a = createRng(7);
    const b = createRng(7);
    const c = createRng(8);
    const draw = (r: ReturnType<typeof createRng>) => Array.from({ length: 20 }, () => r.nextUint32());
    const fromA = draw(a);
    expect(draw(b)).toEqual(fromA);
    expect(draw(c)).not.toEqual(fromA);
  });

  it('nextFloat is nextUint32 / 2^32', () => {
    const rng = createRng(42);
    expect([rng.nextFloat(), rng.nextFloat(), rng.nextFloat()]).toEqual([0.4137016632594168, 0.9697872884571552, 0.0039839965756982565]);
  });

  it('pins nextInt(10) for seed 42', () => {
    const rng = createRng(42);
    expect(Array.from({ length: 10 }, () => rng.nextInt(10))).toEqual([4, 8, 5, 0, 3, 2, 1, 1, 6, 7]);
  });

  it('nextInt rejects the biased low range instead of taking a plain modulo', () => {
    // bound 2^31 + 1 rejects outputs below 2^32 mod bound = 2^31 − 1. Seed 42's first output
    // (1776835114) is rejected; the second (4165204688) gives 4165204688 mod (2^31 + 1).
    const bound = 2 ** 31 + 1;
    expect(createRng(42).nextInt(bound)).toBe(4165204688 % bound);
    expect(4165204688 % bound).toBe(2017721039);
  });

  it('nextInt(2^32) is the raw output and nextInt(1) is always 0', () => {
    expect(createRng(42).nextInt(2 ** 32)).toBe(1776835114);
    const rng = createRng(3);
    expect(Array.from({ length: 50 }, () => rng.nextInt(1)).every((x) => x === 0)).toBe(true);
  });

  it('nextInt is uniform enough (chi-square over 10 cells, 100 000 draws)', () => {
    const rng = createRng(12345);
    const cells = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) cells[rng.nextInt(10)]! += 1;
    const expected = 10_000;
    const chiSquare = cells.reduce((s, c) => s + ((c - expected) * (c - expected)) / expected, 0);
    expect(chiSquare).toBeLessThan(27.88); // χ²(9) upper 0.1 % point
    expect(Math.min(...cells)).toBeGreaterThan(0);
  });

  it('nextFloat stays in [0, 1)', () => {
    const rng = createRng(99);
    let lowest = Infinity;
    let highest = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const u = rng.nextFloat();
      lowest = Math.min(lowest, u);
      highest = Math.max(highest, u);
    }
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(lowest).toBeLessThan(0.001);
    expect(highest).toBeLessThan(1);
    expect(highest).toBeGreaterThan(0.999);
  });

  it('rejects bad seeds and bounds', () => {
    expect(() => createRng(1.5)).toThrow(RangeError);
    expect(() => createRng(Number.NaN)).toThrow(RangeError);
    expect(() => createRng(2 ** 53)).toThrow(RangeError);
    const rng = createRng(1);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
    expect(() => rng.nextInt(2.5)).toThrow(RangeError);
    expect(() => rng.nextInt(2 ** 32 + 1)).toThrow(RangeError);
  });
});
