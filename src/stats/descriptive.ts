// Descriptive statistics. Pure functions over readonly arrays; inputs are never mutated.
import { assertNonEmptyFinite, assertUnitInterval } from './validate.js';

/** The percentiles every summary reports (keys "p50", "p90", "p99", "p99.9"). */
export const STANDARD_PERCENTILES: readonly number[] = [50, 90, 99, 99.9];

/**
 * Consistency constant so that 1.4826 · MAD estimates σ for normal data (1 / Φ⁻¹(3/4));
 * P. J. Rousseeuw, C. Croux, "Alternatives to the Median Absolute Deviation", JASA 88(424), 1993.
 */
export const MAD_NORMAL_CONSISTENCY = 1.4826;

/** A sorted (ascending) copy; validates that the sample is non-empty and finite. */
export function sortedAscending(xs: readonly number[]): number[] {
  assertNonEmptyFinite(xs);
  return [...xs].sort((x, y) => x - y);
}

/** Compensated sum (Neumaier's improvement of Kahan summation), so large offsets don't swallow small terms. */
function compensatedSum(xs: readonly number[]): number {
  let sum = 0;
  let compensation = 0;
  for (const x of xs) {
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
    sum = t;
  }
  return sum + compensation;
}

export function mean(xs: readonly number[]): number {
  assertNonEmptyFinite(xs);
  return compensatedSum(xs) / xs.length;
}

export function min(xs: readonly number[]): number {
  assertNonEmptyFinite(xs);
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}

export function max(xs: readonly number[]): number {
  assertNonEmptyFinite(xs);
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Quantile of an already ascending-sorted, non-empty sample (precondition not re-checked, so
 * the bootstrap's inner loop stays O(1) here).
 *
 * Definition 7 of R. J. Hyndman, Y. Fan, "Sample Quantiles in Statistical Packages",
 * The American Statistician 50(4), 1996: linear interpolation between closest ranks,
 * h = (n − 1)·p, Q(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) (0-based x).
 * This is R's quantile(type = 7) default and numpy.quantile's default method="linear".
 * The interpolation is written as numpy's _lerp writes it (b − (b − a)(1 − g) when g ≥ 0.5),
 * so results are bit-identical to numpy.
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  assertUnitInterval(p, 'quantile probability p');
  const n = sorted.length;
  if (n === 0) throw new RangeError('sample is empty: at least one value is needed');
  const h = (n - 1) * p;
  if (h >= n - 1) return sorted[n - 1]!;
  const j = Math.floor(h);
  const g = h - j;
  const a = sorted[j]!;
  const b = sorted[j + 1]!;
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** Hyndman & Fan type-7 quantile (R default, numpy default); see quantileSorted. */
export function quantile(xs: readonly number[], p: number): number {
  assertUnitInterval(p, 'quantile probability p');
  return quantileSorted(sortedAscending(xs), p);
}

export function medianSorted(sorted: readonly number[]): number {
  return quantileSorted(sorted, 0.5);
}

/** The middle value, or the mean of the two middle values when n is even (type 7 at p = 0.5). */
export function median(xs: readonly number[]): number {
  return medianSorted(sortedAscending(xs));
}

/** Key under which a percentile level is reported: 50 → "p50", 99.9 → "p99.9". */
export const percentileKey = (level: number): string => `p${level}`;

/** Type-7 percentiles keyed "p<level>"; levels are percentages in [0, 100]. */
export function percentiles(xs: readonly number[], levels: readonly number[] = STANDARD_PERCENTILES): Record<string, number> {
  const sorted = sortedAscending(xs);
  const out: Record<string, number> = {};
  for (const level of levels) {
    if (!Number.isFinite(level) || level < 0 || level > 100) {
      throw new RangeError(`percentile level is ${level}: it must lie in [0, 100]`);
    }
    // Same scaling as numpy.percentile (q / 100), keeping results identical to numpy's.
    out[percentileKey(level)] = quantileSorted(sorted, level / 100);
  }
  return out;
}

/** Sample standard deviation (denominator n − 1, Bessel's correction); needs n ≥ 2. */
export function sampleStdDev(xs: readonly number[]): number {
  assertNonEmptyFinite(xs);
  if (xs.length < 2) throw new RangeError('sample standard deviation needs at least 2 values');
  const m = compensatedSum(xs) / xs.length; // two-pass: deviations from the mean, then squares
  return Math.sqrt(compensatedSum(xs.map((x) => (x - m) * (x - m))) / (xs.length - 1));
}

/**
 * Coefficient of variation: sample standard deviation / |mean| (a fraction, 0.23 = 23 %).
 * Needs n ≥ 2 and a non-zero mean.
 */
export function coefficientOfVariation(xs: readonly number[]): number {
  const sd = sampleStdDev(xs);
  const m = mean(xs);
  if (m === 0) throw new RangeError('coefficient of variation is undefined when the mean is 0');
  return sd / Math.abs(m);
}

/** Raw median absolute deviation: median(|x_i − median(x)|) (Hampel 1974; unscaled). */
export function medianAbsoluteDeviation(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** MAD · 1.4826: a robust estimate of σ, consistent for normal data (Rousseeuw & Croux 1993). */
export function scaledMedianAbsoluteDeviation(xs: readonly number[]): number {
  return MAD_NORMAL_CONSISTENCY * medianAbsoluteDeviation(xs);
}
