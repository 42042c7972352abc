// One sample's summary as a plain, JSON-serialisable object for run.json: only numbers, strings,
// booleans, null, arrays and plain objects (no NaN, no Infinity, no undefined).
import { bootstrapCI, type ConfidenceInterval } from './bootstrap.js';
import {
  coefficientOfVariation,
  max,
  mean,
  median,
  medianAbsoluteDeviation,
  min,
  percentiles,
  sampleStdDev,
  MAD_NORMAL_CONSISTENCY,
  STANDARD_PERCENTILES,
} from './descriptive.js';
import { madOutliers, MODIFIED_Z_THRESHOLD, type OutlierReport } from './outliers.js';
import { sampleWarnings, type StatsWarning, type WarningThresholds } from './warnings.js';
import { assertNonEmptyFinite } from './validate.js';

export interface SummarizeOptions {
  /** Bootstrap seed for the median's CI (default 1); recorded in ci.seed. */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Percentile levels in [0, 100] (default 50, 90, 99, 99.9). */
  percentiles?: readonly number[];
  /** |modified z| above which a value is an outlier (default 3.5). */
  outlierThreshold?: number;
  warningThresholds?: Partial<WarningThresholds>;
}

export interface SampleSummary {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  /** Bootstrap CI of the median. */
  ci: ConfidenceInterval;
  /** Type-7 percentiles keyed "p50", "p90", "p99", "p99.9". */
  percentiles: Record<string, number>;
  /** Sample standard deviation; null when n < 2. */
  stddev: number | null;
  /** stddev / |mean|; null when n < 2 or the mean is 0. */
  cv: number | null;
  /** Raw median absolute deviation. */
  mad: number;
  /** 1.4826 · MAD. */
  madScaled: number;
  outliers: OutlierReport;
  warnings: StatsWarning[];
}

export function summarize(samples: readonly number[], opts: SummarizeOptions = {}): SampleSummary {
  assertNonEmptyFinite(samples, 'samples');
  const n = samples.length;
  const m = mean(samples);
  const stddev = n >= 2 ? sampleStdDev(samples) : null;
  const cv = n >= 2 && m !== 0 ? coefficientOfVariation(samples) : null;
  const mad = medianAbsoluteDeviation(samples);
  const ci = bootstrapCI(samples, { seed: opts.seed, resamples: opts.resamples, level: opts.level });
  const outliers = madOutliers(samples, { threshold: opts.outlierThreshold ?? MODIFIED_Z_THRESHOLD });
  const med = median(samples);
  return {
    n,
    min: min(samples),
    max: max(samples),
    mean: m,
    median: med,
    ci,
    percentiles: percentiles(samples, opts.percentiles ?? STANDARD_PERCENTILES),
    stddev,
    cv,
    mad,
    madScaled: MAD_NORMAL_CONSISTENCY * mad,
    outliers,
    warnings: sampleWarnings({ n, median: med, cv, ci, outliers }, opts.warningThresholds),
  };
}
