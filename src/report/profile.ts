// Kernel attribution in the reports (src/profile/README.md): per case group, the CPU nanoseconds
// per operation each part of the path took, pooled over the sampled repetitions (Σ ns / Σ
// operations) with a bootstrap CI over repetitions; each Service path's difference from the same
// backend's pod path; and the sampler's own overhead, from the sampled and unsampled blocks that
// alternate within every sampled case. Pure: everything comes from run.json.
import { GROUPS, type Group } from '../profile/groups.js';
import type { CaseResult, RunJson } from '../run/results.js';
import {
  bootstrapPooledCI,
  bootstrapPooledDifferenceCI,
  comparePaired,
  median,
  type ConfidenceInterval,
  type Pair,
  type RatioUnit,
} from '../stats/index.js';
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
type Block = NonNullable<Profiled['profile']['blocks']>[number];
const blockRate = (bs: readonly Block[]) => bs.reduce((a, b) => a + b.ops, 0) / (bs.reduce((a, b) => a + b.durationMs, 0) / 1000);

/** Operations per second while the sampler ran: over the sampled blocks, or the whole case. */
export function sampledOpsPerS(c: Profiled): number {
  const bs = c.profile.blocks;
  // A run made before sampled cases alternated blocks sampled the whole measured window.
  if (bs === undefined) return c.result.ops / (c.result.durationMs / 1000);
  return blockRate(bs.filter((b) => b.sampled));
}

const nsOf = (c: Profiled, m: Measure) => {
  const groups: readonly string[] = m in SUMS ? SUMS[m as keyof typeof SUMS] : [m];
  return groups.reduce((a, g) => a + (c.profile.groupNs[g] ?? 0), 0);
};

/** One sampled case as a ratio unit: the group's CPU ns in the sampled window over the operations
 * in that window (the sampled blocks' rate times the time perf was enabled). */
function unitOf(c: Profiled, m: Measure): RatioUnit {
  return { numerator: nsOf(c, m), denominator: sampledOpsPerS(c) * (c.profile.windowMs / 1000) };
}

/** CPU nanoseconds per operation of one group (or sum) in one sampled case: the group's CPU per
 * second of the sampled window over the operations per second the load generator clocked meanwhile. */
export function nsPerOp(c: Profiled, m: Measure): number {
  const u = unitOf(c, m);
  return u.numerator / u.denominator;
}

export interface ProfileGroup {
  key: CaseKey;
  /** Sampled repetitions. */
  n: number;
  /** Pooled over the sampled repetitions (Σ ns / Σ operations), bootstrap CI over repetitions. */
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
  // A case whose sampler never ran (windowMs 0) or that completed no operation while it ran holds
  // no exposure to divide by.
  const profiled = run.cases.filter(isProfiled).filter((c) => unitOf(c, 'kernel').denominator > 0);
  const keys: CaseKey[] = [];
  for (const c of profiled)
    if (!keys.some((k) => sameKey(k, c))) keys.push({ backend: c.backend, services: c.services, path: c.path, workload: c.workload });
  const units = (k: CaseKey, m: Measure) => profiled.filter((c) => sameKey(k, c)).map((c) => unitOf(c, m));
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
      perOp: perMeasure((m, i) => bootstrapPooledCI(units(key, m), { seed: run.seed + i })),
      ...(hasPod
        ? { vsPod: perMeasure((m, i) => bootstrapPooledDifferenceCI(units(pod, m), units(key, m), { seed: run.seed + 100 + i })) }
        : {}),
    };
  });
}

export interface Overhead {
  workload: string;
  /** Sampled cases the pairs come from. */
  cases: number;
  pairs: number;
  /** Geometric mean over pairs of (sampled block's throughput / its unsampled partner's), with
   * the t interval over the cases' mean log ratios (comparePaired): 0.97 means 3% overhead. */
  ratio: ConfidenceInterval;
}

/** A block counts when it ran at least half its planned length and completed operations. */
const usable = (b: Block) => b.durationMs >= 0.5 * b.plannedMs && b.ops > 0;

/** Per workload, the sampler's overhead: every sampled case alternates pairs of one sampled and
 * one unsampled block (src/profile/sampler.ts samplingPlan), a second apart, so the machine's
 * drift moves both halves of a pair and cancels in their ratio. */
export function samplerOverhead(run: Pick<RunJson, 'cases' | 'seed'>): Overhead[] {
  const out: Overhead[] = [];
  const profiled = run.cases.filter(isProfiled);
  for (const workload of [...new Set(profiled.map((c) => c.workload))]) {
    const pairs: Pair[] = [];
    let cases = 0;
    for (const c of profiled.filter((x) => x.workload === workload)) {
      const bs = c.profile.blocks;
      if (bs === undefined) continue;
      const before = pairs.length;
      for (let i = 0; i + 1 < bs.length; i += 2) {
        const [a, b] = [bs[i]!, bs[i + 1]!];
        if (a.sampled === b.sampled || !usable(a) || !usable(b)) continue;
        const [s, u] = a.sampled ? [a, b] : [b, a];
        // A case's pairs share its processes: the case is the unit of replication (stats/paired.ts).
        pairs.push({ baseline: blockRate([u]), candidate: blockRate([s]), group: cases });
      }
      if (pairs.length > before) cases++;
    }
    if (pairs.length > 0) {
      const p = comparePaired(pairs, { seed: run.seed + 200 });
      out.push({ workload, cases, pairs: p.pairs, ratio: p.ratio });
    }
  }
  return out;
}

/** Merged folded stacks of a case group as ns per operation (the mean over its sampled cases). */
export function groupStacks(run: Pick<RunJson, 'cases'>, key: CaseKey): Map<string, number> {
  const cases = run.cases.filter(isProfiled).filter((c) => sameKey(key, c) && unitOf(c, 'kernel').denominator > 0);
  const out = new Map<string, number>();
  for (const c of cases) {
    const perSample = c.profile.periodNs / (c.profile.windowMs / 1000) / sampledOpsPerS(c) / cases.length;
    for (const [stack, n] of c.profile.stacks) out.set(stack, (out.get(stack) ?? 0) + n * perSample);
  }
  return out;
}
