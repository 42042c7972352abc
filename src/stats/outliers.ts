// Outlier flags from the modified z-score of B. Iglewicz, D. C. Hoaglin, "How to Detect and
// Handle Outliers" (ASQC Basic References in Quality Control 16, 1993):
//   M_i = 0.6745 · (x_i − median) / MAD, outlier when |M_i| > 3.5.
// When MAD = 0 (more than half the values are equal, common with coarse timer resolution) the
// score divides by 1.253314 · MeanAD instead, MeanAD being the mean absolute deviation from the
// median (1.253314 ≈ √(π/2) makes it estimate σ for normal data), as IBM documents for its
// modified z-score (Cognos Analytics, "Modified z score"). When both are 0 all values are equal
// and nothing is an outlier.
import { median, medianAbsoluteDeviation } from './descriptive.js';

export const MODIFIED_Z_CONSTANT = 0.6745;
export const MEAN_AD_CONSTANT = 1.253314;
export const MODIFIED_Z_THRESHOLD = 3.5;

/** Which spread the scores were scaled by: MAD, the MeanAD fallback, or none (all values equal). */
export type OutlierScale = 'mad' | 'meanad' | 'none';

export interface ModifiedZScores {
  scale: OutlierScale;
  /** One score per input value, in input order. */
  scores: number[];
}

export interface OutlierReport {
  scale: OutlierScale;
  threshold: number;
  /** Indices into the input, ascending. */
  indices: number[];
  count: number;
}

export function modifiedZScores(xs: readonly number[]): ModifiedZScores {
  const m = median(xs);
  const mad = medianAbsoluteDeviation(xs);
  if (mad > 0) return { scale: 'mad', scores: xs.map((x) => (MODIFIED_Z_CONSTANT * (x - m)) / mad) };
  let absDeviationSum = 0;
  for (const x of xs) absDeviationSum += Math.abs(x - m);
  const meanAd = absDeviationSum / xs.length;
  if (meanAd > 0) return { scale: 'meanad', scores: xs.map((x) => (x - m) / (MEAN_AD_CONSTANT * meanAd)) };
  return { scale: 'none', scores: xs.map(() => 0) };
}

/** Values whose |modified z-score| exceeds the threshold (default 3.5, Iglewicz & Hoaglin). */
export function madOutliers(xs: readonly number[], { threshold = MODIFIED_Z_THRESHOLD }: { threshold?: number } = {}): OutlierReport {
  if (!Number.isFinite(threshold) || threshold <= 0) {
    throw new RangeError(`outlier threshold is ${threshold}: it must be a positive number`);
  }
  const { scale, scores } = modifiedZScores(xs);
  const indices: number[] = [];
  scores.forEach((score, i) => {
    if (Math.abs(score) > threshold) indices.push(i);
  });
  return { scale, threshold, indices, count: indices.length };
}
