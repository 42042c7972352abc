import { describe, expect, it } from 'vitest';
import { createRng } from '../stats/prng.js';
import { endpointCounts, formatEndpoints, meanEndpoints, parseEndpoints, type EndpointsDist } from './endpoint-counts.js';

describe('parseEndpoints', () => {
  it.each<[string, EndpointsDist]>([
    ['1', { kind: 'fixed', count: 1 }],
    ['50', { kind: 'fixed', count: 50 }],
    [' 3 ', { kind: 'fixed', count: 3 }],
    ['zipf:1.2:1..500', { kind: 'zipf', exponent: 1.2, min: 1, max: 500 }],
    ['zipf:2:3..3', { kind: 'zipf', exponent: 2, min: 3, max: 3 }],
    ['uniform:1..10', { kind: 'uniform', min: 1, max: 10 }],
  ])('%s', (text, want) => {
    expect(parseEndpoints(text)).toEqual(want);
    expect(formatEndpoints(want)).toBe(text.trim());
  });

  it.each([
    ['0', /"0": a count must lie in 1\.\.10000/],
    ['10001', /a count must lie in 1\.\.10000/],
    ['-1', /is not an endpoint count or distribution/],
    ['1.5', /is not an endpoint count or distribution/],
    ['zipf:1.2', /is not an endpoint count or distribution/],
    ['zipf:0:1..5', /the zipf exponent must lie in \(0, 10\]/],
    ['zipf:11:1..5', /the zipf exponent must lie in \(0, 10\]/],
    ['zipf:1:0..5', /the range must start at 1 or more/],
    ['uniform:5..2', /the range 5\.\.2 is empty/],
    ['uniform:1..20000', /at most 10000 endpoints per service/],
    ['normal:1..5', /is not an endpoint count or distribution/],
    ['', /is not an endpoint count or distribution/],
  ])('rejects %j naming what is wrong and the accepted forms', (text, why) => {
    const r = parseEndpoints(text);
    expect(typeof r).toBe('string');
    expect(r).toMatch(why);
    expect(r).toMatch(/accepted: a count N \(1 to 10000\), zipf:S:MIN\.\.MAX \(e\.g\. zipf:1\.2:1\.\.500\) or uniform:MIN\.\.MAX/);
  });

  it('takes a lower cap (bench run: endpoints are real pods)', () => {
    expect(parseEndpoints('65', 64)).toMatch(/a count must lie in 1\.\.64; accepted: a count N \(1 to 64\)/);
    expect(parseEndpoints('64', 64)).toEqual({ kind: 'fixed', count: 64 });
  });
});

describe('endpointCounts', () => {
  it('a fixed count for every service', () => {
    expect(endpointCounts({ kind: 'fixed', count: 3 }, 4, 1)).toEqual([3, 3, 3, 3]);
    expect(endpointCounts({ kind: 'fixed', count: 3 }, 0, 1)).toEqual([]);
  });

  it('draws by inverse CDF from the seeded stream (zipf:1:1..2 is 1 with p = 2/3)', () => {
    const rng = createRng(7);
    const want = Array.from({ length: 20 }, () => (rng.nextFloat() < 2 / 3 ? 1 : 2));
    expect(endpointCounts({ kind: 'zipf', exponent: 1, min: 1, max: 2 }, 20, 7)).toEqual(want);
  });

  it('uniform:1..4 draws ⌊4u⌋ + 1', () => {
    const rng = createRng(3);
    const want = Array.from({ length: 20 }, () => Math.floor(rng.nextFloat() * 4) + 1);
    expect(endpointCounts({ kind: 'uniform', min: 1, max: 4 }, 20, 3)).toEqual(want);
  });

  it('is deterministic for a seed and changes with it', () => {
    const d: EndpointsDist = { kind: 'zipf', exponent: 1.2, min: 1, max: 500 };
    expect(endpointCounts(d, 1000, 5)).toEqual(endpointCounts(d, 1000, 5));
    expect(endpointCounts(d, 1000, 6)).not.toEqual(endpointCounts(d, 1000, 5));
  });

  it('stays in range, and zipf:1.2:1..500 is mostly 1 with a long tail', () => {
    const counts = endpointCounts({ kind: 'zipf', exponent: 1.2, min: 1, max: 500 }, 20_000, 11);
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(500);
    expect(Math.max(...counts)).toBeGreaterThan(100);
    // P(1) = 1 / Σ k^-1.2 (k = 1..500) = 0.2410…
    const ones = counts.filter((c) => c === 1).length / counts.length;
    expect(ones).toBeGreaterThan(0.23);
    expect(ones).toBeLessThan(0.255);
  });

  it('a one-value range always gives that value', () => {
    expect(endpointCounts({ kind: 'zipf', exponent: 2, min: 3, max: 3 }, 5, 1)).toEqual([3, 3, 3, 3, 3]);
  });

  it('rejects a bad service count', () => {
    expect(() => endpointCounts({ kind: 'fixed', count: 1 }, -1, 1)).toThrow(/service count/);
  });
});

describe('meanEndpoints', () => {
  it('is exact', () => {
    expect(meanEndpoints({ kind: 'fixed', count: 50 })).toBe(50);
    expect(meanEndpoints({ kind: 'zipf', exponent: 1, min: 1, max: 2 })).toBeCloseTo(4 / 3, 14);
    expect(meanEndpoints({ kind: 'uniform', min: 1, max: 10 })).toBeCloseTo(5.5, 12);
  });
});

describe('medianEndpoints and separate caps', () => {
  it('is the smallest k whose cumulative probability reaches 1/2', async () => {
    const { medianEndpoints } = await import('./endpoint-counts.js');
    expect(medianEndpoints({ kind: 'fixed', count: 7 })).toBe(7);
    expect(medianEndpoints({ kind: 'uniform', min: 1, max: 10 })).toBe(5);
    // zipf:1:1..2: P(1) = 2/3 ≥ 1/2.
    expect(medianEndpoints({ kind: 'zipf', exponent: 1, min: 1, max: 2 })).toBe(1);
    expect(medianEndpoints({ kind: 'zipf', exponent: 1.2, min: 1, max: 500 })).toBe(6);
  });
  it('caps counts and ranges apart (bench run: counts are real pods, ranges are not)', () => {
    expect(parseEndpoints('zipf:1.2:1..500', 64, 10_000)).toEqual({ kind: 'zipf', exponent: 1.2, min: 1, max: 500 });
    expect(parseEndpoints('65', 64, 10_000)).toMatch(
      /a count must lie in 1\.\.64; accepted: a count N \(1 to 64\).* \(ranges up to 10000\)/,
    );
  });
});
