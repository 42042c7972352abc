// Pearson's chi-square goodness-of-fit test against a uniform spread, used by `bench verify` to
// check that a Service spreads new connections evenly over its endpoints.
// p = Q(k/2, X²/2), the regularized upper incomplete gamma function, computed as in Numerical
// Recipes (3rd ed., §6.2: series for x < a+1, Lentz's continued fraction otherwise).

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

export function chiSquareUniform(counts: readonly number[]): ChiSquareResult {
  if (counts.length < 2) throw new RangeError('chi-square needs at least two categories');
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) throw new RangeError('chi-square needs at least one observation');
  const expected = n / counts.length;
  const statistic = counts.reduce((acc, o) => acc + (o - expected) ** 2 / expected, 0);
  const df = counts.length - 1;
  return { statistic, df, pValue: upperRegularizedGamma(df / 2, statistic / 2) };
}

/** ln Γ(x) by the Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0. */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const EPS = 1e-15;
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) by its series; Q = 1 − P.
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * Math.exp(lnPrefix);
  }
  // Continued fraction for Q (modified Lentz).
  const TINY = 1e-300;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(lnPrefix) * h;
}
