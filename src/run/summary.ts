import { BASELINE_PATH, PATHS, type Path } from '../model/paths.js';
import {
  compare,
  comparePaired,
  summarize,
  type Comparison,
  type PairedComparison,
  type SampleSummary,
  type WarningThresholds,
} from '../stats/index.js';
import { blockPairs } from './paired.js';
import { caseGroup, groupCases } from './plan.js';
import type { CaseResult, RunJson } from './results.js';

// Derived numbers (pure): per case group (backend, services, path, workload), one sample per
// repetition for each metric, summarised with a bootstrap CI of the median, and compared with the
// same backend's `pod` baseline at the same scale (ratio of medians with its CI). Everything here is
// recomputed from run.json; nothing derived is stored.

export interface Metric {
  key: string;
  label: string;
  unit: string;
  better: 'lower' | 'higher';
  of(c: Extract<CaseResult, { state: 'completed' }>): number;
}

const perKOps = (c: Extract<CaseResult, { state: 'completed' }>, s: number) => (1000 * s) / c.result.ops;

export const METRICS: Metric[] = [
  { key: 'throughput', label: 'throughput', unit: 'ops/s', better: 'higher', of: (c) => c.result.ops / (c.result.durationMs / 1000) },
  { key: 'p50', label: 'latency p50', unit: 'µs', better: 'lower', of: (c) => c.result.latencyUs.p50 },
  { key: 'p99', label: 'latency p99', unit: 'µs', better: 'lower', of: (c) => c.result.latencyUs.p99 },
  { key: 'cpuKernel', label: 'kernel CPU per 1k ops', unit: 'CPU-s', better: 'lower', of: (c) => perKOps(c, c.cpu.kernelS) },
  { key: 'cpuServers', label: 'servers CPU per 1k ops', unit: 'CPU-s', better: 'lower', of: (c) => perKOps(c, c.cpu.serversS) },
  {
    key: 'cpuLoadGen',
    label: 'load generator CPU per 1k ops',
    unit: 'CPU-s',
    better: 'lower',
    of: (c) => perKOps(c, c.cpu.loadGeneratorS),
  },
];

export const THROUGHPUT = METRICS[0]!;

/** One metric's finite values over a group's completed cases, one per repetition. */
export const samplesOf = (cases: readonly CaseResult[] | undefined, m: Metric): number[] =>
  (cases ?? []).flatMap((c) => (c.state === 'completed' ? [m.of(c)] : [])).filter((x) => Number.isFinite(x));

/** The one summary of a metric's samples that the table, the reports and the adaptive repetitions
 * (adaptive.ts) all use: the median with its bootstrap 95% CI seeded with the run's seed. */
export const summarizeMetric = (xs: readonly number[], seed: number, warningThresholds?: Partial<WarningThresholds>): SampleSummary =>
  summarize(xs, { seed, ...(warningThresholds === undefined ? {} : { warningThresholds }) });

/** --ci-target and --max-repeat of a run (as fractions), or undefined when the run had them off
 * or predates them (run.json files written before the flags existed). */
export function ciTargetOf(flags: Record<string, unknown> | undefined): { halfWidth: number; maxRepeat: number } | undefined {
  const pct = flags?.ciTarget;
  const maxRepeat = flags?.maxRepeat;
  if (typeof pct !== 'number' || typeof maxRepeat !== 'number' || !(pct > 0)) return undefined;
  return { halfWidth: pct / 100, maxRepeat };
}

export interface GroupSummary {
  backend: string;
  services: number;
  path: string;
  workload: string;
  states: Record<CaseResult['state'], number>;
  reasons: string[];
  /** Per metric: the summary of its per-repetition values; vsPod, the unpaired ratio of medians
   * to the pod path's; paired, the ratio over block pairs where the paths ran as paired blocks
   * (paired.ts), which is the "vs pod" the table, reports and verdicts show when present. */
  metrics: Record<string, { summary: SampleSummary; vsPod?: Comparison; paired?: PairedComparison }>;
}

/** The ratio to the pod path the table, reports and verdicts show: the paired one when the paths
 * ran as paired blocks, else the unpaired ratio of medians. */
export const shownRatio = (x: GroupSummary['metrics'][string] | undefined): Comparison | PairedComparison | undefined =>
  x?.paired ?? x?.vsPod;

export function summarizeRun(run: Pick<RunJson, 'cases' | 'seed'> & { flags?: RunJson['flags'] }): GroupSummary[] {
  // Adaptive repetitions aimed at the throughput's CI, so only its warnings know the target.
  const ciTarget = ciTargetOf(run.flags);
  const groups = groupCases(run.cases);
  const out: GroupSummary[] = [];
  for (const cases of groups.values()) {
    const { backend, services, path, workload } = cases[0]!;
    const states = { completed: 0, errored: 0, skipped: 0, aborted: 0 };
    for (const c of cases) states[c.state]++;
    const reasons = [...new Set(cases.flatMap((c) => (c.state === 'completed' ? [] : [c.reason])))];
    const baseline = groups.get(caseGroup({ backend, services, path: BASELINE_PATH.name, workload }));
    const metrics: GroupSummary['metrics'] = {};
    for (const m of METRICS) {
      const xs = samplesOf(cases, m);
      if (xs.length === 0) continue;
      const entry: GroupSummary['metrics'][string] = {
        summary: summarizeMetric(xs, run.seed, m === THROUGHPUT && ciTarget ? { ciTarget } : undefined),
      };
      const base = samplesOf(baseline, m);
      if (path !== BASELINE_PATH.name && base.length > 0 && base.every((x) => x > 0))
        entry.vsPod = compare(base, xs, { seed: run.seed, better: m.better });
      const pairs = path === BASELINE_PATH.name ? [] : blockPairs(baseline ?? [], cases, m.key);
      if (pairs.length > 0) entry.paired = comparePaired(pairs, { seed: run.seed, better: m.better });
      metrics[m.key] = entry;
    }
    out.push({ backend, services, path, workload, states, reasons, metrics });
  }
  const order = (p: string) => PATHS.indexOf(p as Path);
  return out.sort(
    (a, b) =>
      a.services - b.services ||
      a.workload.localeCompare(b.workload) ||
      a.backend.localeCompare(b.backend) ||
      order(a.path) - order(b.path),
  );
}

/** Three significant digits, thousands as plain integers: 0.00123, 12.3, 1234 (the terminal table
 * and the reports). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

/** "1234 [1200, 1300]" */
export const withCi = (s: SampleSummary): string => `${fmt(s.median)} [${fmt(s.ci.low)}, ${fmt(s.ci.high)}]`;

/** "0.93× [0.90, 0.97] worse" — the verdict is by interval overlap for an unpaired ratio, by the
 * interval's side of 1 for a paired one ("n.s." otherwise). */
export const ratioText = (c: Comparison | PairedComparison | undefined): string =>
  c === undefined
    ? '—'
    : `${c.ratio.estimate.toFixed(2)}× [${c.ratio.low.toFixed(2)}, ${c.ratio.high.toFixed(2)}]${c.verdict === 'not significant' ? ' n.s.' : c.verdict === 'slower' ? ' worse' : ' better'}`;

/** One line per backend and scale point that ran at fewer services than asked for (a backend
 * scaled to its sync timeout: src/run/fit-scale.ts), for the table and the reports. */
export const scaleNotes = (run: Pick<RunJson, 'scaleFits'>): string[] =>
  (run.scaleFits ?? [])
    .filter((f) => f.services < f.requested)
    .map((f) => `${f.backend} ran at ${f.services} services where ${f.requested} were asked for: ${f.reason}`);

/** The end-of-run table for a terminal: one row per group, throughput and p50 with CIs and ratios;
 * `notes` (scaleNotes) go below it. */
export function summaryTable(all: GroupSummary[], notes: readonly string[] = []): string {
  // A backend none of whose cases completed gets one line below the table, not a row per group.
  const empty = new Set(
    [...new Set(all.map((g) => g.backend))].filter((b) => all.every((g) => g.backend !== b || g.states.completed === 0)),
  );
  const groups = all.filter((g) => !empty.has(g.backend));
  const folded = [...empty].map((b) => {
    const mine = all.filter((g) => g.backend === b);
    const counts = new Map<string, number>();
    for (const g of mine) for (const [st, k] of Object.entries(g.states)) if (k > 0) counts.set(st, (counts.get(st) ?? 0) + k);
    return `${b}: ${[...counts].map(([st, k]) => `${k} ${k === 1 ? 'case' : 'cases'} ${st}`).join(', ')}: ${mine.flatMap((g) => g.reasons)[0] ?? 'no reason recorded'}`;
  });
  const header = [
    'backend',
    'services',
    'path',
    'workload',
    'n',
    'throughput ops/s [95% CI]',
    'vs pod',
    'p50 µs [95% CI]',
    'vs pod',
    'kernel CPU-s/1k',
  ];
  const pairedN = groups.flatMap((g) => (g.metrics.throughput?.paired ? [g.metrics.throughput.paired.pairs] : []));
  const pairedG = groups.flatMap((g) => (g.metrics.throughput?.paired ? [g.metrics.throughput.paired.groups] : []));
  const span = (xs: number[]) => `${Math.min(...xs)}${Math.max(...xs) > Math.min(...xs) ? `–${Math.max(...xs)}` : ''}`;
  const missed = groups.flatMap((g) => g.metrics.throughput?.summary.warnings.filter((w) => w.code === 'ci-target') ?? []);
  const rows = groups.map((g) => {
    const t = g.metrics.throughput;
    const mark = t?.summary.warnings.some((w) => w.code === 'ci-target') ? ' *' : '';
    const l = g.metrics.p50;
    const k = g.metrics.cpuKernel;
    const n = `${g.states.completed}${g.states.errored ? ` +${g.states.errored} err` : ''}${g.states.skipped ? ` +${g.states.skipped} skip` : ''}${g.states.aborted ? ` +${g.states.aborted} abort` : ''}`;
    return [
      g.backend,
      String(g.services),
      g.path,
      g.workload,
      n,
      t ? `${withCi(t.summary)}${mark}` : (g.reasons[0]?.slice(0, 60) ?? '—'),
      ratioText(shownRatio(t)),
      l ? withCi(l.summary) : '—',
      ratioText(shownRatio(l)),
      k ? fmt(k.summary.median) : '—',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const note =
    missed.length === 0
      ? []
      : [
          `* ${missed.length === 1 ? 'this case group' : `these ${missed.length} case groups`}: ${missed[0]!.message.replace(/: ±[^;]*; /, '; ')}`,
        ];
  const pairedNote =
    pairedN.length === 0
      ? []
      : [
          `vs pod: paired blocks (each path's block against the pod path's block of the same round; geometric mean of ${span(pairedN)} pair ratios, 95% t interval over ${span(pairedG)} repetitions' mean log ratios); report.md shows the unpaired ratios beside them`,
        ];
  return [line(header), ...rows.map(line), ...folded, ...notes, ...note, ...pairedNote].join('\n');
}
