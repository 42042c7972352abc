import type { Path } from './types.js';
import { createRng, type Rng } from '../stats/index.js';

// The run matrix (pure): backends × paths × workloads at each scale point, every case repeated
// `repeat` times, interleaved (round 1 runs every case once, then round 2, …) so slow drift of the
// machine spreads over all cases instead of biasing one; within a round the order is shuffled with a
// seeded PRNG recorded in run.json.

export interface CaseKey {
  backend: string;
  services: number;
  path: Path;
  workload: string;
}

export interface PlannedCase extends CaseKey {
  id: string;
  repetition: number;
}

/** The fields that name a case group, as cases in run.json carry them (path as a plain string). */
export type GroupKey = Pick<CaseKey, 'backend' | 'services' | 'workload'> & { path: string };

export const caseGroup = (k: GroupKey): string => `${k.backend}/${k.services}/${k.path}/${k.workload}`;

/** Cases by group (caseGroup), groups in the order they first appear, cases in their order. */
export function groupCases<C extends GroupKey>(cases: readonly C[]): Map<string, C[]> {
  const groups = new Map<string, C[]>();
  for (const c of cases) {
    const g = caseGroup(c);
    const list = groups.get(g);
    if (list === undefined) groups.set(g, [c]);
    else list.push(c);
  }
  return groups;
}

export function planCases(o: {
  backends: readonly string[];
  services: readonly number[];
  paths: readonly Path[];
  workloads: readonly string[];
  repeat: number;
  seed: number;
  /** The generator to draw from (default: a new one from `seed`); the runner passes its own so
   * extra rounds (adaptive.ts) continue the same seeded stream. */
  rng?: Rng;
}): PlannedCase[][] {
  const rng = o.rng ?? createRng(o.seed);
  const byScale: PlannedCase[][] = [];
  for (const services of [...o.services].sort((a, b) => a - b)) {
    const cases: PlannedCase[] = [];
    for (let repetition = 1; repetition <= o.repeat; repetition++) {
      const round: PlannedCase[] = [];
      for (const backend of o.backends)
        for (const path of o.paths)
          for (const workload of o.workloads) {
            const key = { backend, services, path, workload };
            round.push({ ...key, repetition, id: `${caseGroup(key)}#${repetition}` });
          }
      cases.push(...shuffle(round, rng));
    }
    byScale.push(cases);
  }
  return byScale;
}

/** Fisher–Yates in place with the seeded generator; returns the array. */
export function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
