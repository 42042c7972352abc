// Paired comparisons: a candidate measured in short blocks alternating with the baseline's, each
// candidate block paired with the baseline block of the same round (adjacent in time), so the
// machine's slow drift (a VM whose speed wanders by tens of percent over minutes) moves both
// halves of a pair and cancels in their ratio.
//
// The estimate is exp of the mean of the repetitions' mean log ratios: the geometric mean of the
// per-pair ratios when every repetition has as many pairs, as paired blocks do (the ratio is
// multiplicative, and on the log scale candidate/baseline and baseline/candidate give mirror
// intervals). The interval treats the repetition, not the pair, as the unit of replication:
// the pairs of one repetition share its client processes, their CPU placement and its conntrack
// and cache state, so they can be correlated (a repetition whose Service path's client landed on
// the busier CPU is slow in every round), and an interval over pairs as if independent is then too
// narrow. Each repetition's mean log ratio is one value; those values are independent, and their
// mean gets Student's t interval with G − 1 degrees of freedom (G repetitions): the cluster-robust
// interval for few clusters (A. C. Cameron, D. L. Miller, "A Practitioner's Guide to
// Cluster-Robust Inference", J. Human Resources 50(2), 2015, §VI: few clusters, T(G − 1) critical
// values; with one value per cluster it is W. S. Gosset's one-sample t interval, Biometrika 6,
// 1908). Its coverage on drifting data with and without repetition effects is checked by
// simulation in paired.test.ts.
import { DEFAULT_LEVEL, DEFAULT_SEED, degenerateInterval, type ConfidenceInterval } from './bootstrap.js';
import type { Better, CompareOptions, Verdict } from './compare.js';
import { studentTQuantile } from './growth.js';
import { assertUnitInterval } from './validate.js';

/** One block of the baseline and the candidate's block of the same round. */
export interface Pair {
  baseline: number;
  candidate: number;
  /** The repetition the pair belongs to: pairs of one group may be correlated, groups are
   * independent. Absent: the pair is a group of its own. */
  group?: number;
}

export interface PairedComparison {
  /** The geometric mean of the per-pair ratios candidate / baseline (by repetition), with the t interval over
   * the groups' mean log ratios (level: 95% by default). */
  ratio: ConfidenceInterval;
  /** Pairs the estimate rests on. */
  pairs: number;
  /** Independent groups (repetitions) the interval rests on: its degrees of freedom + 1. */
  groups: number;
  /** ratio − 1. */
  relativeChange: number;
  /** 'faster': the candidate is better in the metric's sense; 'not significant' when the interval
   * contains 1 (touching included) or is degenerate (fewer than 2 groups). */
  verdict: Verdict;
  better: Better;
  seed: number;
}

/** candidate / baseline of every pair; throws when a baseline is not positive or a value is not
 * finite (the ratio would be undefined). */
export function pairRatios(pairs: readonly Pair[]): number[] {
  return pairs.map(({ baseline, candidate }, i) => {
    if (!(Number.isFinite(baseline) && baseline > 0) || !Number.isFinite(candidate))
      throw new RangeError(`pair ${i} is (${baseline}, ${candidate}): the baseline must be a positive number and the candidate finite`);
    return candidate / baseline;
  });
}

/** Whether an interval of a ratio lies wholly above or below 1, as a verdict on the candidate. */
export function ratioVerdict(ci: Pick<ConfidenceInterval, 'low' | 'high' | 'degenerate'>, better: Better): Verdict {
  if (ci.degenerate || (ci.low <= 1 && ci.high >= 1)) return 'not significant';
  const candidateHigher = ci.low > 1;
  return candidateHigher === (better === 'higher') ? 'faster' : 'slower';
}

/** The mean log ratio of each group, in the order the groups first appear. Throws on a ratio
 * that is not positive (its log is undefined). */
export function groupMeanLogRatios(pairs: readonly Pair[]): number[] {
  const ratios = pairRatios(pairs);
  const groups = new Map<number | string, { sum: number; n: number }>();
  ratios.forEach((r, i) => {
    if (!(r > 0)) throw new RangeError(`pair ${i} has ratio ${r}: a paired ratio must be positive`);
    const key = pairs[i]!.group ?? `pair ${i}`;
    const g = groups.get(key) ?? { sum: 0, n: 0 };
    g.sum += Math.log(r);
    g.n++;
    groups.set(key, g);
  });
  return [...groups.values()].map((g) => g.sum / g.n);
}

/** The t interval of the mean of `values` at `level`, as exp(mean ± t·s/√n): the interval of a
 * ratio from mean log ratios. Degenerate below 2 values. */
export function logMeanInterval(values: readonly number[], level: number, seed: number): ConfidenceInterval {
  const n = values.length;
  const mean = values.reduce((a, x) => a + x, 0) / n;
  const estimate = Math.exp(mean);
  if (n < 2) return degenerateInterval(estimate, { level, seed });
  const variance = values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  const half = studentTQuantile((1 + level) / 2, n - 1) * Math.sqrt(variance / n);
  return { estimate, low: Math.exp(mean - half), high: Math.exp(mean + half), level, resamples: 0, seed, degenerate: false };
}

/** The paired comparison of a candidate with its baseline: the geometric mean of the per-pair
 * ratios and its t interval over the groups (repetitions); degenerate below 2 groups. The seed is
 * recorded for the callers' other intervals: this one draws nothing. */
export function comparePaired(pairs: readonly Pair[], opts: CompareOptions = {}): PairedComparison {
  if (pairs.length === 0) throw new RangeError('no pairs: a paired comparison needs at least one');
  const better = opts.better ?? 'lower';
  const seed = opts.seed ?? DEFAULT_SEED;
  const level = opts.level ?? DEFAULT_LEVEL;
  assertUnitInterval(level, 'confidence level', true);
  const means = groupMeanLogRatios(pairs);
  const ratio = logMeanInterval(means, level, seed);
  return {
    ratio,
    pairs: pairs.length,
    groups: means.length,
    relativeChange: ratio.estimate - 1,
    verdict: ratioVerdict(ratio, better),
    better,
    seed,
  };
}
