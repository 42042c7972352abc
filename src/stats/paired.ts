// Paired comparisons: a candidate measured in short blocks alternating with the baseline's, each
// candidate block paired with the baseline block of the same round (adjacent in time), so the
// machine's slow drift (a VM whose speed wanders by tens of percent over minutes) moves both
// halves of a pair and cancels in their ratio. The interval is a percentile bootstrap over pairs
// (each pair one unit, resampled with replacement: Efron & Tibshirani 1993, ch. 13, applied to the
// per-pair ratios), so it describes the ratio, not the two absolute levels.
import { bootstrapCI, DEFAULT_SEED, type ConfidenceInterval } from './bootstrap.js';
import type { Better, CompareOptions, Verdict } from './compare.js';

/** One block of the baseline and the candidate's block of the same round. */
export interface Pair {
  baseline: number;
  candidate: number;
}

export interface PairedComparison {
  /** The median of the per-pair ratios candidate / baseline, with its bootstrap CI over pairs. */
  ratio: ConfidenceInterval;
  /** Pairs the interval rests on. */
  pairs: number;
  /** ratio − 1. */
  relativeChange: number;
  /** 'faster': the candidate is better in the metric's sense; 'not significant' when the interval
   * contains 1 (touching included) or is degenerate (fewer than 2 pairs). */
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

/** The paired comparison of a candidate with its baseline: median of the per-pair ratios and its
 * percentile-bootstrap CI over pairs (seeded; degenerate below 2 pairs). */
export function comparePaired(pairs: readonly Pair[], opts: CompareOptions = {}): PairedComparison {
  if (pairs.length === 0) throw new RangeError('no pairs: a paired comparison needs at least one');
  const better = opts.better ?? 'lower';
  const seed = opts.seed ?? DEFAULT_SEED;
  const ratio = bootstrapCI(pairRatios(pairs), { seed, resamples: opts.resamples, level: opts.level });
  return { ratio, pairs: pairs.length, relativeChange: ratio.estimate - 1, verdict: ratioVerdict(ratio, better), better, seed };
}
