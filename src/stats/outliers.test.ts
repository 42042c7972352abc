import { describe, expect, it } from 'vitest';
import { madOutliers, MEAN_AD_CONSTANT, MODIFIED_Z_CONSTANT, MODIFIED_Z_THRESHOLD, modifiedZScores } from './outliers.js';

describe('modifiedZScores', () => {
  it('computes 0.6745 (x − median) / MAD', () => {
    // median 11, MAD 1 (|deviations| 1,0,1,1,0,1,89 → sorted 0,0,1,1,1,1,89)
    const { scale, scores } = modifiedZScores([10, 11, 10, 12, 11, 10, 100]);
    expect(scale).toBe('mad');
    expect(scores.slice(0, 6)).toEqual([-0.6745, 0, -0.6745, 0.6745, 0, -0.6745]);
    expect(scores[6]).toBeCloseTo(60.0305, 10);
  });

  it('falls back to 1.253314 · MeanAD when MAD = 0', () => {
    // median 10, MAD 0; MeanAD = 40/7 → M(50) = 40 / (1.253314 · 40/7) = 7 / 1.253314
    const { scale, scores } = modifiedZScores([10, 10, 10, 10, 10, 10, 50]);
    expect(scale).toBe('meanad');
    expect(scores[6]).toBeCloseTo(7 / 1.253314, 12);
    expect(scores[6]).toBeCloseTo(5.5851925375444615, 12);
    expect(scores.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('scores everything 0 when all values are equal', () => {
    expect(modifiedZScores([3, 3, 3])).toEqual({ scale: 'none', scores: [0, 0, 0] });
  });

  it('uses the published constants', () => {
    expect([MODIFIED_Z_CONSTANT, MEAN_AD_CONSTANT, MODIFIED_Z_THRESHOLD]).toEqual([0.6745, 1.253314, 3.5]);
  });
});

describe('madOutliers', () => {
  it('finds a planted outlier', () => {
    expect(madOutliers([10, 11, 10, 12, 11, 10, 100])).toEqual({
      scale: 'mad',
      threshold: 3.5,
      indices: [6],
      count: 1,
    });
  });

  it('finds low and high outliers, in input order', () => {
    const report = madOutliers([100, 101, 99, 300, 100, 102, 98, 100, 1, 101]);
    expect(report.indices).toEqual([3, 8]);
    expect(report.count).toBe(2);
  });

  it('keeps a moderate value that a 3.5 cut-off does not reach', () => {
    // median 12, MAD 1: M(35) = 15.5135 is flagged, M(14) = 1.349 is not.
    expect(madOutliers([10, 11, 12, 12, 13, 14, 35]).indices).toEqual([6]);
  });

  it('honours a custom threshold', () => {
    // Scores are ±0.6745 except the planted 100: a 0.6 cut-off also flags the ±1 deviations.
    expect(madOutliers([10, 11, 10, 12, 11, 10, 100], { threshold: 0.6 }).indices).toEqual([0, 2, 3, 5, 6]);
  });

  it('still works when MAD = 0 (quantised timings)', () => {
    expect(madOutliers([10, 10, 10, 10, 10, 10, 50])).toMatchObject({ scale: 'meanad', indices: [6], count: 1 });
    // MeanAD = 3/7: M(11) = 1.86 stays, M(12) = 3.72 is flagged.
    expect(madOutliers([10, 10, 10, 10, 11, 12, 10])).toMatchObject({ scale: 'meanad', indices: [5] });
  });

  it('flags nothing in constant data or in two values', () => {
    expect(madOutliers([4, 4, 4, 4])).toEqual({ scale: 'none', threshold: 3.5, indices: [], count: 0 });
    expect(madOutliers([1, 1000]).count).toBe(0);
  });

  it('rejects bad input', () => {
    expect(() => madOutliers([])).toThrow(RangeError);
    expect(() => madOutliers([1, 2, 3], { threshold: 0 })).toThrow(RangeError);
    expect(() => madOutliers([1, Number.NaN])).toThrow(RangeError);
  });
});
