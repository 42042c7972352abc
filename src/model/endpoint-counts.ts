import { createRng } from '../stats/prng.js';

// How many endpoints each service of a generated scale point has: one fixed count, or a seeded
// draw per service from a distribution (real clusters are mostly 1-3 endpoints with a long tail:
// the shapes users reported, 44k × 1 and 5k × 50, are the two ends).
//
// Syntax of `--endpoints` (parseEndpoints):
//   N                  every service has N endpoints
//   zipf:S:MIN..MAX    P(k) ∝ k^-S for k in MIN..MAX (S > 0; Zipf's law, e.g. zipf:1.2:1..500)
//   uniform:MIN..MAX   every k in MIN..MAX equally likely

export type EndpointsDist =
  | { kind: 'fixed'; count: number }
  | { kind: 'zipf'; exponent: number; min: number; max: number }
  | { kind: 'uniform'; min: number; max: number };

/** The largest endpoint count any form may name (kube-proxy has no limit; 5k × 250k endpoints has
 * been reported, #135639, ≈50 per service; 10,000 keeps a single service's rules sane). */
export const MAX_ENDPOINTS = 10_000;

export const ENDPOINTS_FORMS = `a count N (1 to ${MAX_ENDPOINTS}), zipf:S:MIN..MAX (e.g. zipf:1.2:1..500) or uniform:MIN..MAX (e.g. uniform:1..10)`;

const INT = String.raw`(0|[1-9]\d*)`;
const RANGE = String.raw`${INT}\.\.${INT}`;
const NUM = String.raw`(\d+(?:\.\d+)?)`;

/** Parses the `--endpoints` syntax; a string that names what is wrong when it does not parse. */
export function parseEndpoints(text: string, maxFixed = MAX_ENDPOINTS, maxRange = MAX_ENDPOINTS): EndpointsDist | string {
  const s = text.trim();
  const bad = (why: string) =>
    `${why}; accepted: ${ENDPOINTS_FORMS.replace(String(MAX_ENDPOINTS), String(maxFixed))}${maxRange === maxFixed ? '' : ` (ranges up to ${maxRange})`}`;
  const range = (lo: string, hi: string): [number, number] | string => {
    const [min, max] = [Number(lo), Number(hi)];
    if (min < 1) return bad(`${JSON.stringify(text)}: the range must start at 1 or more`);
    if (max < min) return bad(`${JSON.stringify(text)}: the range ${min}..${max} is empty`);
    if (max > maxRange) return bad(`${JSON.stringify(text)}: at most ${maxRange} endpoints per service`);
    return [min, max];
  };
  let m = new RegExp(`^${INT}$`).exec(s);
  if (m) {
    const count = Number(m[1]);
    if (count < 1 || count > maxFixed) return bad(`${JSON.stringify(text)}: a count must lie in 1..${maxFixed}`);
    return { kind: 'fixed', count };
  }
  m = new RegExp(`^zipf:${NUM}:${RANGE}$`).exec(s);
  if (m) {
    const exponent = Number(m[1]);
    if (!(exponent > 0) || exponent > 10) return bad(`${JSON.stringify(text)}: the zipf exponent must lie in (0, 10]`);
    const r = range(m[2]!, m[3]!);
    return typeof r === 'string' ? r : { kind: 'zipf', exponent, min: r[0], max: r[1] };
  }
  m = new RegExp(`^uniform:${RANGE}$`).exec(s);
  if (m) {
    const r = range(m[1]!, m[2]!);
    return typeof r === 'string' ? r : { kind: 'uniform', min: r[0], max: r[1] };
  }
  return bad(`${JSON.stringify(text)} is not an endpoint count or distribution`);
}

/** The syntax back (for run.json, reports and messages). */
export function formatEndpoints(d: EndpointsDist): string {
  if (d.kind === 'fixed') return String(d.count);
  if (d.kind === 'zipf') return `zipf:${d.exponent}:${d.min}..${d.max}`;
  return `uniform:${d.min}..${d.max}`;
}

/** Cumulative probabilities of k = min..max. */
function cumulative(d: Exclude<EndpointsDist, { kind: 'fixed' }>): number[] {
  const weights: number[] = [];
  for (let k = d.min; k <= d.max; k++) weights.push(d.kind === 'zipf' ? k ** -d.exponent : 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

/**
 * One endpoint count per service (n of them), deterministic for (dist, n, seed): inverse-CDF draws
 * from one xoshiro128** stream seeded with the run's seed, so a run is reproduced from its seed.
 */
export function endpointCounts(d: EndpointsDist, n: number, seed: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`service count is ${n}: it must be a whole number ≥ 0`);
  if (d.kind === 'fixed') return new Array<number>(n).fill(d.count);
  const cdf = cumulative(d);
  const rng = createRng(seed);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const u = rng.nextFloat();
    // The first k whose cumulative probability exceeds u (binary search; the last entry is 1 up
    // to rounding, so u < 1 always finds one, and the clamp covers rounding below 1).
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    out[i] = d.min + lo;
  }
  return out;
}

/** The distribution's median: the smallest k whose cumulative probability reaches 1/2. */
export function medianEndpoints(d: EndpointsDist): number {
  if (d.kind === 'fixed') return d.count;
  const i = cumulative(d).findIndex((c) => c >= 0.5);
  return d.min + (i < 0 ? d.max - d.min : i);
}

/** The distribution's mean (exact, from its weights): what a report says the services average. */
export function meanEndpoints(d: EndpointsDist): number {
  if (d.kind === 'fixed') return d.count;
  const cdf = cumulative(d);
  let prev = 0;
  let mean = 0;
  cdf.forEach((c, i) => {
    mean += (d.min + i) * (c - prev);
    prev = c;
  });
  return mean;
}
