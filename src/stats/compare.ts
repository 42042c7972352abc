// Comparing a candidate sample b against a baseline a (for svcbench, typically a Service path
// against the direct-pod-IP baseline) by their medians.
import { bootstrapCI, bootstrapRatioCI, DEFAULT_SEED, type BootstrapOptions, type ConfidenceInterval } from './bootstrap.js';

/**
 * How b (candidate) compares with a (baseline) in the metric's own sense of "better": 'faster'
 * means b is better (lower latency, or higher throughput when better = 'higher').
 */
export type Verdict = 'faster' | 'slower' | 'not significant';

/** 'lower' for latency and durations, 'higher' for throughput. */
export type Better = 'lower' | 'higher';

export interface CompareOptions extends Omit<BootstrapOptions, 'statistic'> {
  /** Which direction is an improvement (default 'lower'). */
  better?: Better;
}

export interface Comparison {
  /** Median of a with its bootstrap CI (seed = base seed). */
  baseline: ConfidenceInterval;
  /** Median of b with its bootstrap CI (seed = base seed + 1). */
  candidate: ConfidenceInterval;
  /** median(b) / median(a) with its bootstrap CI (seed = base seed + 2). */
  ratio: ConfidenceInterval;
  /** ratio − 1: +0.12 means b's median is 12 % above a's. */
  relativeChange: number;
  verdict: Verdict;
  better: Better;
  seed: number;
}

/** Closed intervals overlap, touching included (the conservative reading). */
export function intervalsOverlap(x: Pick<ConfidenceInterval, 'low' | 'high'>, y: Pick<ConfidenceInterval, 'low' | 'high'>): boolean {
  return x.low <= y.high && y.low <= x.high;
}

/**
 * Compares b (candidate) with a (baseline). The verdict is 'not significant' when the two
 * medians' CIs overlap, or when either CI is degenerate (n < 2: no uncertainty estimate, so no
 * claim). Non-overlap of two 95 % intervals is a conservative test, roughly p < 0.006 rather than
 * 0.05 (N. Schenker, J. F. Gentleman, "On Judging the Significance of Differences by Examining
 * the Overlap Between Confidence Intervals", The American Statistician 55(3), 2001), so a
 * reported difference is a safe claim and a missed small one needs more samples.
 */
export function compare(a: readonly number[], b: readonly number[], opts: CompareOptions = {}): Comparison {
  const better = opts.better ?? 'lower';
  const seed = opts.seed ?? DEFAULT_SEED;
  const base = { resamples: opts.resamples, level: opts.level } as const;
  // Distinct seeds so the three bootstraps do not reuse one index stream.
  const baseline = bootstrapCI(a, { ...base, seed });
  const candidate = bootstrapCI(b, { ...base, seed: seed + 1 });
  const ratio = bootstrapRatioCI(a, b, { ...base, seed: seed + 2 });

  let verdict: Verdict = 'not significant';
  if (!baseline.degenerate && !candidate.degenerate && !intervalsOverlap(baseline, candidate)) {
    const bIsLower = candidate.estimate < baseline.estimate;
    verdict = bIsLower === (better === 'lower') ? 'faster' : 'slower';
  }
  return { baseline, candidate, ratio, relativeChange: ratio.estimate - 1, verdict, better, seed };
}

/**
 * True when b is significantly worse than a (verdict 'slower') AND the whole ratio CI lies beyond
 * the threshold: ratio.low > 1 + pct/100 when lower is better, ratio.high < 1 − pct/100 when
 * higher is better. Requiring the entire interval past the threshold follows criterion.rs's
 * noise threshold: a change whose CI reaches into ±threshold is treated as noise.
 */
export function isSignificantRegression(comparison: Comparison, thresholdPct: number): boolean {
  if (!Number.isFinite(thresholdPct) || thresholdPct < 0) {
    throw new RangeError(`regression threshold is ${thresholdPct}%: it must be a non-negative number`);
  }
  if (comparison.verdict !== 'slower') return false;
  const fraction = thresholdPct / 100;
  return comparison.better === 'lower' ? comparison.ratio.low > 1 + fraction : comparison.ratio.high < 1 - fraction;
}
