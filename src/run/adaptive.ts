import type { Rng } from '../stats/index.js';
import { ciHalfWidth, comparePaired, MIN_CI_SAMPLES } from '../stats/index.js';
import { BASELINE_PATH } from '../model/paths.js';
import { blockPairs } from './paired.js';
import { caseGroup, groupCases, shuffle, type CaseKey, type PlannedCase } from './plan.js';
import type { CaseResult } from './results.js';
import { samplesOf, summarizeMetric, THROUGHPUT } from './summary.js';

// Adaptive repetitions (pure), as netperf's `-i max,min -I 95,width` and hyperfine's adaptive
// runs: after the --repeat rounds of a scale point, a case group gets one more repetition while the
// 95% CI of its median throughput is wider than ±--ci-target % of that median, up to --max-repeat.
// The CI is the one the summary and the reports show (summarizeMetric: the run's seeded bootstrap),
// so a group reported as narrow enough is the group that stopped. Fewer than MIN_CI_SAMPLES values
// never meet the target: their interval is not a 95% one, however narrow.
//
// Extra rounds also respect the run's time budget (--time-budget): a round starts only if, at the
// pace of the cases so far, it ends within the budget (fitsBudget), so adaptivity never stretches a
// default run past its 3 minutes.

export interface AdaptiveSettings {
  /** --repeat: repetitions every group gets before any decision. */
  repeat: number;
  /** --max-repeat: no group gets more. */
  maxRepeat: number;
  /** --ci-target in percent; 0 turns adaptivity off. */
  ciTargetPct: number;
  /** The run's seed: the bootstrap of the CI, as in the summary. */
  seed: number;
  /** Whether a workload's paths ran as paired blocks (paired.ts): its Service paths are judged by
   * the paired ratio to the pod path (n = pairs), and the pod path repeats with them. */
  paired?: (workload: string) => boolean;
  /** --ratio-ci-target in percent: the paired ratio's target (absent or 0: --ci-target's). */
  ratioCiTargetPct?: number;
  /** --max-paired-repeat: the cap of a Service path of paired blocks (absent: --max-repeat). */
  maxPairedRepeat?: number;
}

export type GroupDecision =
  /** Wider than the target (or its width unknown, or fewer than MIN_CI_SAMPLES values), below --max-repeat. */
  | 'more'
  /** Within the target. */
  | 'met'
  /** Still wider than the target, with --max-repeat repetitions: reported as a warning. */
  | 'max'
  /** A case errored, was skipped or aborted, or fewer than --repeat completed: no more repetitions. */
  | 'incomplete'
  /** --ci-target 0. */
  | 'off';

export interface GroupVerdict {
  key: CaseKey;
  group: string;
  /** Repetitions recorded so far (all states). */
  repetitions: number;
  decision: GroupDecision;
  /** CI half-width / median of the throughput (paired: of its ratio to the pod path); null when
   * unknown or not computed. */
  halfWidth: number | null;
  /** Judged by the paired ratio, over this many pairs. */
  pairs?: number;
  /** The pod path of paired blocks: repeats exactly when a Service path of its unit does. */
  followsPaired?: boolean;
}

/** For every case group among `cases`, whether it needs another repetition. Groups in the order
 * they first appear. */
export function judgeGroups(cases: readonly CaseResult[], s: AdaptiveSettings): GroupVerdict[] {
  const groups = groupCases(cases);
  const target = s.ciTargetPct / 100;
  const verdicts = [...groups].map(([group, cs]): GroupVerdict => {
    const { backend, services, path, workload } = cs[0]!;
    const key = { backend, services, path, workload } as CaseKey;
    const base = { key, group, repetitions: cs.length };
    if (!(target > 0)) return { ...base, decision: 'off', halfWidth: null };
    const xs = samplesOf(cs, THROUGHPUT);
    if (cs.some((c) => c.state !== 'completed') || xs.length < cs.length || xs.length < s.repeat)
      return { ...base, decision: 'incomplete', halfWidth: null };
    if (s.paired?.(workload) === true && path !== BASELINE_PATH.name) {
      const baseline = groups.get(caseGroup({ backend, services, path: BASELINE_PATH.name, workload }));
      const ratioTarget = s.ratioCiTargetPct !== undefined && s.ratioCiTargetPct > 0 ? s.ratioCiTargetPct / 100 : target;
      return judgePaired(base, blockPairs(baseline ?? [], cs, THROUGHPUT.key), ratioTarget, s);
    }
    const summary = summarizeMetric(xs, s.seed);
    const halfWidth = ciHalfWidth(summary.median, summary.ci);
    // A median of 0 has no relative width: nothing to aim at.
    if (halfWidth === null && summary.median === 0) return { ...base, decision: 'met', halfWidth };
    const wide = halfWidth === null || halfWidth > target || (xs.length < MIN_CI_SAMPLES && cs.length < s.maxRepeat);
    return { ...base, halfWidth, decision: !wide ? 'met' : cs.length >= s.maxRepeat ? 'max' : 'more' };
  });
  return s.paired === undefined ? verdicts : baselinesFollow(verdicts, s.paired);
}

/** A Service path of paired blocks, by its ratio to the pod path: wide while the ratio's CI is
 * wider than the target or has no width yet (fewer than 2 repetitions with pairs). The interval is
 * a t interval over repetitions (stats/paired.ts), a 95% one from 2 of them, so no minimum count
 * beyond that applies; its cap is --max-paired-repeat. */
function judgePaired(
  base: Pick<GroupVerdict, 'key' | 'group' | 'repetitions'>,
  pairs: ReturnType<typeof blockPairs>,
  target: number,
  s: AdaptiveSettings,
): GroupVerdict {
  const cap = s.maxPairedRepeat ?? s.maxRepeat;
  const c = pairs.length === 0 ? undefined : comparePaired(pairs, { seed: s.seed, better: 'higher' });
  const halfWidth = c === undefined || c.ratio.degenerate ? null : ciHalfWidth(c.ratio.estimate, c.ratio);
  const wide = halfWidth === null || halfWidth > target;
  return { ...base, halfWidth, pairs: pairs.length, decision: !wide ? 'met' : base.repetitions >= cap ? 'max' : 'more' };
}

/** The pod path of paired blocks is every pair's baseline, not a question of its own: it gets
 * another repetition exactly when a Service path of its unit does (they run together). */
function baselinesFollow(verdicts: GroupVerdict[], paired: (workload: string) => boolean): GroupVerdict[] {
  const unit = (k: CaseKey) => `${k.backend}/${k.services}/${k.workload}`;
  const wanting = new Set(verdicts.filter((v) => v.decision === 'more' && v.key.path !== BASELINE_PATH.name).map((v) => unit(v.key)));
  return verdicts.map((v) => {
    if (v.key.path !== BASELINE_PATH.name || !paired(v.key.workload) || v.decision === 'incomplete' || v.decision === 'off') return v;
    return { ...v, decision: wanting.has(unit(v.key)) ? 'more' : 'met', followsPaired: true };
  });
}

/** The next round for the groups that need more: one repetition each, numbered on from the
 * group's own count, ids `${group}#${repetition}`, shuffled with the run's generator. */
export function extraRound(verdicts: readonly GroupVerdict[], rng: Rng): PlannedCase[] {
  const more = verdicts.filter((v) => v.decision === 'more');
  // The groups of one backend, scale point and workload share the repetition number, so that
  // paired blocks (which run such a unit together, paired.ts) find their pod blocks by it.
  const unit = (k: CaseKey) => `${k.backend}/${k.services}/${k.workload}`;
  const next = new Map<string, number>();
  for (const v of more) next.set(unit(v.key), Math.max(next.get(unit(v.key)) ?? 0, v.repetitions + 1));
  const round = more.map((v): PlannedCase => {
    const repetition = next.get(unit(v.key))!;
    return { ...v.key, repetition, id: `${v.group}#${repetition}` };
  });
  return shuffle(round, rng);
}

/** Whether an extra round of `cases` cases fits the time budget: the run has used `elapsedS` seconds,
 * its cases so far took `paceS` seconds each on average, and --time-budget is `budgetS` (0: no
 * limit). */
export function fitsBudget(cases: number, paceS: number, elapsedS: number, budgetS: number): boolean {
  return budgetS === 0 || elapsedS + cases * paceS <= budgetS;
}
