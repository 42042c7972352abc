// How a cost grows with scale: the exponent b of time ≈ a · services^b, and a prediction of the next
// scale point's time for --time-budget.
//
// The exponent is the ordinary-least-squares slope of ln(time) on ln(services) over every
// repetition's point (not the per-point medians: the spread of the repetitions is part of what the
// interval must carry), with the classical t-based interval of a regression slope:
//   b ± t(1 − α/2; n − 2) · sqrt( SSE / (n − 2) / Sxx )
// (N. R. Draper, H. Smith, "Applied Regression Analysis", 3rd ed., Wiley 1998, §1.4; the same
// interval R's confint(lm(log(t) ~ log(N))) prints). The t quantile comes from the regularized
// incomplete beta function (Numerical Recipes, 3rd ed., §6.4, continued fraction by Lentz's method),
// inverted by bisection. Assumes the log-times scatter independently around a straight line; at
// 3 scale points × 3 repetitions that is 7 degrees of freedom, so intervals are wide by design.
import { lnGamma } from './chisquare.js';
import { median } from './descriptive.js';
import { assertUnitInterval } from './validate.js';

/** Exponents whose whole interval lies above this are flagged super-linear (a margin over 1 so a
 * linear cost with a fixed overhead that shrinks in share is not flagged). */
export const SUPER_LINEAR_ABOVE = 1.1;

export interface GrowthPoint {
  /** Scale (services); > 0. */
  x: number;
  /** Time (any unit); > 0. */
  y: number;
}

export interface GrowthExponent {
  /** Slope of ln y on ln x; null with fewer than 2 distinct x (no slope can be fitted). */
  exponent: number | null;
  /** e^intercept: y ≈ coefficient · x^exponent (the geometric mean of y when exponent is null). */
  coefficient: number;
  /** Interval of the exponent at `level`; null when `degenerate` (no interval known). */
  low: number | null;
  high: number | null;
  level: number;
  /** Points used (every repetition's) and distinct x values among them. */
  n: number;
  scalePoints: number;
  /** n − 2. */
  df: number;
  /** True when the whole interval lies above SUPER_LINEAR_ABOVE. */
  superLinear: boolean;
  /** True when there is no interval: fewer than 3 points or fewer than 2 distinct x. */
  degenerate: boolean;
}

/** Regularized incomplete beta function I_x(a, b) (Numerical Recipes 3rd ed. §6.4). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`incomplete beta needs a, b > 0 (got ${a}, ${b})`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta needs x in [0, 1] (got ${x})`);
  if (x === 0 || x === 1) return x;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) return h;
  }
  return h;
}

/** P(T ≤ t) for Student's t with df degrees of freedom (df > 0). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0 (got ${df})`);
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with df degrees of freedom, by bisection on the CDF (to the last
 * bit of a double: 200 halvings of [-1e6, 1e6] is far more than needed). */
export function studentTQuantile(p: number, df: number): number {
  assertUnitInterval(p, 'quantile probability p', true);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be > 0 (got ${df})`);
  if (p === 0.5) return 0;
  // Solve on the upper half and mirror, so both tails get the same precision.
  const q = p > 0.5 ? p : 1 - p;
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < q) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (studentTCdf(mid, df) < q) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return p > 0.5 ? t : -t;
}

function assertPositivePoints(points: readonly GrowthPoint[]): void {
  points.forEach((p, i) => {
    if (!(Number.isFinite(p.x) && p.x > 0 && Number.isFinite(p.y) && p.y > 0))
      throw new RangeError(`point[${i}] is (${p.x}, ${p.y}): both must be finite and > 0 for a log-log fit`);
  });
}

/** The growth exponent of a series (see the head of this file). Needs at least one point. */
export function growthExponent(points: readonly GrowthPoint[], opts: { level?: number; superLinearAbove?: number } = {}): GrowthExponent {
  const level = opts.level ?? 0.95;
  const above = opts.superLinearAbove ?? SUPER_LINEAR_ABOVE;
  assertUnitInterval(level, 'confidence level', true);
  if (points.length === 0) throw new RangeError('growth exponent needs at least one point');
  assertPositivePoints(points);
  const lx = points.map((p) => Math.log(p.x));
  const ly = points.map((p) => Math.log(p.y));
  const n = points.length;
  const scalePoints = new Set(points.map((p) => p.x)).size;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i]! - mx) ** 2;
    sxy += (lx[i]! - mx) * (ly[i]! - my);
  }
  if (scalePoints < 2) {
    // One scale point: no slope can be fitted (null rather than NaN, which JSON cannot carry).
    return {
      exponent: null,
      coefficient: Math.exp(my),
      low: null,
      high: null,
      level,
      n,
      scalePoints,
      df: 0,
      superLinear: false,
      degenerate: true,
    };
  }
  const exponent = sxy / sxx;
  const intercept = my - exponent * mx;
  const df = n - 2;
  const base = { exponent, coefficient: Math.exp(intercept), level, n, scalePoints, df };
  if (df < 1) return { ...base, low: null, high: null, superLinear: false, degenerate: true };
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ly[i]! - intercept - exponent * lx[i]!) ** 2;
  const se = Math.sqrt(sse / df / sxx);
  const half = studentTQuantile((1 + level) / 2, df) * se;
  const low = exponent - half;
  return { ...base, low, high: exponent + half, superLinear: low > above, degenerate: false };
}

export interface Prediction {
  /** Predicted y at the next x. */
  y: number;
  /** The exponent the prediction used. */
  exponent: number;
  /** The model in words, for the message that says a point was not run. */
  model: string;
}

/**
 * Predicts y at `nextX` from the points so far (every repetition's; their median per x is used).
 * Model: a power law through the last two scale points, y = y₂ · (nextX / x₂)^b with
 * b = ln(y₂/y₁) / ln(x₂/x₁), but b at least 1: a sync writes rules for every service, so its cost
 * is at least linear, and a slope below 1 between small points is a fixed cost that shrinks in
 * share as the scale grows. The last two points rather than a fit over all: costs like c + k·N²
 * steepen as N grows, and a fit over all points would under-predict the next. With one scale point
 * the prediction is linear from it. No points: undefined (nothing to go on).
 */
export function predictNext(points: readonly GrowthPoint[], nextX: number): Prediction | undefined {
  if (!(Number.isFinite(nextX) && nextX > 0)) throw new RangeError(`next x is ${nextX}: it must be finite and > 0`);
  if (points.length === 0) return undefined;
  assertPositivePoints(points);
  const byX = new Map<number, number[]>();
  for (const p of points) byX.set(p.x, [...(byX.get(p.x) ?? []), p.y]);
  const medians = [...byX].map(([x, ys]) => ({ x, y: median(ys) })).sort((a, b) => a.x - b.x);
  const last = medians.at(-1)!;
  if (medians.length === 1) return { y: last.y * (nextX / last.x), exponent: 1, model: 'linear from one point' };
  const prev = medians.at(-2)!;
  const local = Math.log(last.y / prev.y) / Math.log(last.x / prev.x);
  const exponent = Math.max(1, local);
  return {
    y: last.y * (nextX / last.x) ** exponent,
    exponent,
    model:
      local >= 1
        ? `power law through the last two points (exponent ${exponent.toFixed(2)})`
        : `linear from the last point (the last two points grew with exponent ${local.toFixed(2)}, below 1)`,
  };
}
