// Kernel attribution in the reports (src/profile/README.md): per case group, the CPU nanoseconds
// per operation each part of the path took, with bootstrap CIs over the sampled repetitions; each
// Service path's difference from the same backend's pod path; and the sampler's own overhead,
// from the repetitions the run left unsampled. Pure: everything comes from run.json.
import { GROUPS, type Group } from '../profile/groups.js';
import type { CaseResult, RunJson } from '../run/results.js';
import { bootstrapCI, bootstrapDifferenceCI, bootstrapRatioCI, median, type ConfidenceInterval } from '../stats/index.js';
import { BASELINE_PATH } from '../model/paths.js';
import type { CaseKey } from './data.js';

/** The groups and the sums the reports show: "service" is netfilter + conntrack + NAT, the
 * Service rules' cost in the netfilter backends; "kernel" every kernel group of the case. */
export const SUMS = {
  service: ['netfilter', 'conntrack', 'nat'],
  kernel: ['bpf', 'ip_vs', 'nat', 'conntrack', 'netfilter', 'routing', 'stack', 'other'],
} as const;
export type Measure = Group | keyof typeof SUMS;
export const MEASURES: readonly Measure[] = [...GROUPS, 'service', 'kernel'];

type Completed = Extract<CaseResult, { state: 'completed' }>;
type Profiled = Completed & { profile: NonNullable<Completed['profile']> };

const isProfiled = (c: CaseResult): c is Profiled => c.state === 'completed' && c.profile !== undefined;
const opsPerS = (c: Completed) => c.result.ops / (c.result.durationMs / 1000);

/** CPU nanoseconds per operation of one group (or sum) in one sampled case: the group's CPU per
 * second of the sampled window over the operations per second the load generator clocked. */
export function nsPerOp(c: Profiled, m: Measure): number {
  const groups: readonly string[] = m in SUMS ? SUMS[m as keyof typeof SUMS] : [m];
  const ns = groups.reduce((a, g) => a + (c.profile.groupNs[g] ?? 0), 0);
  return ns / (c.profile.windowMs / 1000) / opsPerS(c);
}

export interface ProfileGroup {
  key: CaseKey;
  /** Sampled repetitions. */
  n: number;
  perOp: Record<Measure, ConfidenceInterval>;
  /** This path minus the same backend's pod path at the same scale (absent for the pod path or
   * without a sampled pod path). */
  vsPod?: Record<Measure, ConfidenceInterval>;
  /** Samples per case, for context (median). */
  samplesPerCase: number;
}

const sameKey = (a: CaseKey, b: CaseKey) =>
  a.backend === b.backend && a.services === b.services && a.path === b.path && a.workload === b.workload;

export function profileGroups(run: Pick<RunJson, 'cases' | 'seed'>): ProfileGroup[] {
  const profiled = run.cases.filter(isProfiled);
  const keys: CaseKey[] = [];
  for (const c of profiled)
    if (!keys.some((k) => sameKey(k, c))) keys.push({ backend: c.backend, services: c.services, path: c.path, workload: c.workload });
  const values = (k: CaseKey, m: Measure) => profiled.filter((c) => sameKey(k, c)).map((c) => nsPerOp(c, m));
  const perMeasure = (f: (m: Measure, i: number) => ConfidenceInterval) =>
    Object.fromEntries(MEASURES.map((m, i) => [m, f(m, i)])) as Record<Measure, ConfidenceInterval>;
  return keys.map((key) => {
    const cases = profiled.filter((c) => sameKey(key, c));
    const pod = { ...key, path: BASELINE_PATH.name };
    const hasPod = key.path !== BASELINE_PATH.name && profiled.some((c) => sameKey(pod, c));
    return {
      key,
      n: cases.length,
      samplesPerCase: median(cases.map((c) => c.profile.samples.counted)),
      perOp: perMeasure((m, i) => bootstrapCI(values(key, m), { seed: run.seed + i })),
      ...(hasPod
        ? { vsPod: perMeasure((m, i) => bootstrapDifferenceCI(values(pod, m), values(key, m), { seed: run.seed + 100 + i })) }
        : {}),
    };
  });
}

export interface Overhead {
  workload: string;
  sampled: number;
  unsampled: number;
  /** Throughput of the sampled repetitions over the unsampled ones, each case normalised by its
   * group's median (so groups of different speeds pool): 0.97 means 3% overhead. */
  ratio: ConfidenceInterval;
}

/** Per workload, the sampler's overhead from the same run's unsampled repetitions. */
export function samplerOverhead(run: Pick<RunJson, 'cases' | 'seed'>): Overhead[] {
  const completed = run.cases.filter((c): c is Completed => c.state === 'completed');
  const out: Overhead[] = [];
  for (const workload of [...new Set(completed.map((c) => c.workload))]) {
    const sampled: number[] = [];
    const unsampled: number[] = [];
    const mine = completed.filter((c) => c.workload === workload);
    for (const c of mine) {
      const group = mine.filter((x) => sameKey(x, c));
      // A group counts only when it has both kinds: otherwise its normalisation says nothing.
      if (!group.some(isProfiled) || group.every(isProfiled)) continue;
      const norm = opsPerS(c) / median(group.map(opsPerS));
      (isProfiled(c) ? sampled : unsampled).push(norm);
    }
    if (sampled.length > 0 && unsampled.length > 0)
      out.push({
        workload,
        sampled: sampled.length,
        unsampled: unsampled.length,
        ratio: bootstrapRatioCI(unsampled, sampled, { seed: run.seed + 200 }),
      });
  }
  return out;
}

/** Merged folded stacks of a case group as ns per operation (the mean over its sampled cases). */
export function groupStacks(run: Pick<RunJson, 'cases'>, key: CaseKey): Map<string, number> {
  const cases = run.cases.filter(isProfiled).filter((c) => sameKey(key, c));
  const out = new Map<string, number>();
  for (const c of cases) {
    const perSample = c.profile.periodNs / (c.profile.windowMs / 1000) / opsPerS(c) / cases.length;
    for (const [stack, n] of c.profile.stacks) out.set(stack, (out.get(stack) ?? 0) + n * perSample);
  }
  return out;
}
