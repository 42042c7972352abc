// Warnings that say what is wrong with a sample and what to do about it (the flags are the
// `bench run` options that add data: --repeat adds repetitions, --duration lengthens each one).
import type { ConfidenceInterval } from './bootstrap.js';
import type { OutlierReport } from './outliers.js';

export type WarningCode = 'few-samples' | 'high-variation' | 'outliers' | 'wide-ci' | 'ci-target';

export interface StatsWarning {
  code: WarningCode;
  message: string;
}

/** The fewest values for which any interval of the median reaches 95% confidence without assuming
 * a distribution: even [min, max] covers the median only with probability 1 − 2·0.5^n (order
 * statistics: each value falls below the median with probability ½), 93.8% at n = 5 and 96.9% at
 * n = 6. A percentile bootstrap of the median of 5 or fewer values returns [min, max] itself. */
export const MIN_CI_SAMPLES = 6;

export interface WarningThresholds {
  /** Fewer samples than this draws a warning (default MIN_CI_SAMPLES). */
  minSamples: number;
  /** CV (fraction) above this draws a warning (default 0.10). */
  maxCv: number;
  /** CI half-width as a fraction of the median above this draws a warning (default 0.05, i.e. ±5 %). */
  maxCiHalfWidth: number;
  /** `bench run --ci-target`/`--max-repeat`: repetitions were added while the CI was wider than
   * ±halfWidth (a fraction); a sample of at least maxRepeat values still wider draws 'ci-target'
   * (in place of 'wide-ci'). Absent, or halfWidth 0: adaptive repetitions were off. */
  ciTarget?: { halfWidth: number; maxRepeat: number };
}

export const DEFAULT_WARNING_THRESHOLDS: Readonly<WarningThresholds> = {
  minSamples: MIN_CI_SAMPLES,
  maxCv: 0.1,
  maxCiHalfWidth: 0.05,
};

/** The parts of a summary the warnings look at. */
export interface WarningInput {
  n: number;
  median: number;
  cv: number | null;
  ci: Pick<ConfidenceInterval, 'low' | 'high' | 'degenerate'>;
  outliers: Pick<OutlierReport, 'count'>;
}

/** Formats a fraction as a percentage with at most one decimal: 0.2312 → "23.1". */
const percent = (fraction: number): string => String(Math.round(fraction * 1000) / 10);
/** A target as typed (3 significant digits, so --ci-target 0.001 stays 0.001): 0.05 → "5". */
export const targetPercent = (fraction: number): string => String(Number((fraction * 100).toPrecision(3)));
const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The CI's half-width as a fraction of the median, max(median − low, high − median) / |median|;
 * null when it is unknown (a degenerate interval of fewer than 2 values, or a median of 0). */
export function ciHalfWidth(median: number, ci: Pick<ConfidenceInterval, 'low' | 'high' | 'degenerate'>): number | null {
  if (ci.degenerate || median === 0) return null;
  return Math.max(median - ci.low, ci.high - median) / Math.abs(median);
}

export function sampleWarnings(input: WarningInput, thresholds: Partial<WarningThresholds> = {}): StatsWarning[] {
  const t = { ...DEFAULT_WARNING_THRESHOLDS, ...thresholds };
  const warnings: StatsWarning[] = [];

  if (input.n < t.minSamples) {
    warnings.push({
      code: 'few-samples',
      message: `only n=${input.n} ${input.n === 1 ? 'sample' : 'samples'}: below n=${t.minSamples} no interval of the median reaches 95%; raise --repeat to at least ${t.minSamples}`,
    });
  }
  if (input.cv !== null && input.cv > t.maxCv) {
    warnings.push({
      code: 'high-variation',
      message: `high variation (CV ${percent(input.cv)}%): raise --duration or --repeat, and check for background load`,
    });
  }
  if (input.outliers.count > 0) {
    warnings.push({
      code: 'outliers',
      message: `${plural(input.outliers.count, 'outlier')} by MAD: check for background load (other processes, CPU frequency scaling) and rerun`,
    });
  }
  const halfWidth = ciHalfWidth(input.median, input.ci);
  if (halfWidth !== null) {
    const target = t.ciTarget;
    if (target !== undefined && target.halfWidth > 0 && input.n >= target.maxRepeat && halfWidth > target.halfWidth) {
      warnings.push({
        code: 'ci-target',
        message: `CI wider than ±${targetPercent(target.halfWidth)}% after ${input.n} repetitions (--ci-target): ±${percent(halfWidth)}% of the median; raise --max-repeat or --duration, and check for background load`,
      });
    } else if (halfWidth > t.maxCiHalfWidth) {
      warnings.push({
        code: 'wide-ci',
        message: `CI wider than ±${percent(t.maxCiHalfWidth)}% of the median (±${percent(halfWidth)}%): raise --repeat or --duration`,
      });
    }
  }
  return warnings;
}
