import { fmtDuration } from '../run/progress.js';

/** A duration for people: "0.35 s", "12.3 s", "9 min 40 s". */
export function durationText(ms: number): string {
  return ms >= 60_000 ? fmtDuration(ms).replace(/m(\d+)s$/, ' min $1 s') : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
