import { caseGroup } from '../run/plan.js';
import type { RunJson } from '../run/results.js';
import { fmt, METRICS } from '../run/summary.js';
import { compare, isSignificantRegression, type Better, type Comparison } from '../stats/index.js';
import { byOrder, kernelLabel, PATH_ORDER, samples, sortedUnique, WORKLOAD_ORDER } from './data.js';

// `bench compare A B`: every case group and metric of run B against the same in run A (the
// baseline), by src/stats' compare(): ratio of medians B/A with its bootstrap 95% CI, and a
// verdict from the overlap of the two medians' CIs. The repeated add-a-service sync (the sync
// with samples) is compared too. A regression "beyond PCT" needs the whole ratio CI past PCT
// (isSignificantRegression).

export interface Change {
  backend: string;
  services: number;
  /** A path, or "sync" for the repeated sync benchmark. */
  path: string;
  /** A workload, or the sync benchmark's task. */
  workload: string;
  metric: string;
  unit: string;
  better: Better;
  a: { n: number; median: number; low: number; high: number } | null;
  b: { n: number; median: number; low: number; high: number } | null;
  ratio: { estimate: number; low: number; high: number } | null;
  verdict: 'regression' | 'improvement' | 'not significant' | 'only in A' | 'only in B' | 'not measured' | 'no ratio';
  /** Significant and beyond --fail-on-regression (false without it). */
  failing: boolean;
  /** Why a side has no samples: its cases' states. */
  note?: string;
}

export interface RunComparison {
  a: { runId: string; kernel: string; where: string };
  b: { runId: string; kernel: string; where: string };
  /** False when the runs ran on different kernels or machines: figures not comparable. */
  comparable: boolean;
  warnings: string[];
  failOnRegressionPct: number | null;
  changes: Change[];
  counts: { regressions: number; improvements: number; notSignificant: number; failing: number };
}

const FLAGS_THAT_CHANGE_FIGURES = ['endpoints', 'target', 'duration', 'warmup', 'connections', 'messageSize', 'rate', 'iptablesMode'];

function environmentWarnings(a: RunJson, b: RunJson): { comparable: boolean; warnings: string[] } {
  const warnings: string[] = [];
  const ea = a.environment;
  const eb = b.environment;
  let comparable = true;
  if (ea.kernel !== eb.kernel || ea.where !== eb.where) {
    comparable = false;
    warnings.push(
      `run A ran on ${kernelLabel(a.environment)}, run B on ${kernelLabel(b.environment)}: the figures are not comparable (the kernel's data path is what is measured)`,
    );
  }
  if (ea.cpuModel !== eb.cpuModel || ea.cpus !== eb.cpus) {
    comparable = false;
    warnings.push(`run A ran on ${ea.cpuModel} × ${ea.cpus}, run B on ${eb.cpuModel} × ${eb.cpus}: the figures are not comparable`);
  }
  for (const f of FLAGS_THAT_CHANGE_FIGURES) {
    const va = JSON.stringify(a.flags[f]);
    const vb = JSON.stringify(b.flags[f]);
    if (va !== vb)
      warnings.push(
        `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} differs (A ${va ?? 'unset'}, B ${vb ?? 'unset'}): changes may come from it`,
      );
  }
  return { comparable, warnings };
}

const side = (c: Comparison['baseline'], n: number) => ({ n, median: c.estimate, low: c.low, high: c.high });

function caseStates(run: RunJson, k: { backend: string; services: number; path: string; workload: string }): string {
  const cases = run.cases.filter(
    (c) => c.backend === k.backend && c.services === k.services && c.path === k.path && c.workload === k.workload,
  );
  const states = sortedUnique(cases.map((c) => c.state)).map((s) => `${s} ${cases.filter((c) => c.state === s).length}`);
  return states.join(', ');
}

function one(
  base: Omit<Change, 'a' | 'b' | 'ratio' | 'verdict' | 'failing'>,
  xa: number[],
  xb: number[],
  seed: number,
  pct: number | null,
): Change {
  if (xa.length === 0 || xb.length === 0) return { ...base, a: null, b: null, ratio: null, verdict: 'not measured', failing: false };
  // A ratio needs finite values and baseline medians that are not 0, on the data and on every
  // resample (a case with 0 operations has 0 throughput and infinite CPU per operation): the
  // bootstraps throw a RangeError otherwise, which is this row's verdict, not the command's end.
  let c: Comparison;
  try {
    c = compare(xa, xb, { seed, better: base.better });
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return { ...base, a: null, b: null, ratio: null, verdict: 'no ratio', failing: false, note: e.message };
  }
  const verdict = c.verdict === 'slower' ? 'regression' : c.verdict === 'faster' ? 'improvement' : 'not significant';
  return {
    ...base,
    a: side(c.baseline, xa.length),
    b: side(c.candidate, xb.length),
    ratio: { estimate: c.ratio.estimate, low: c.ratio.low, high: c.ratio.high },
    verdict,
    failing: pct !== null && isSignificantRegression(c, pct),
  };
}

export function compareRuns(a: RunJson, b: RunJson, opts: { failOnRegressionPct?: number } = {}): RunComparison {
  const pct = opts.failOnRegressionPct ?? null;
  const seed = a.seed;
  const inA = new Set(a.cases.map(caseGroup));
  const inB = new Set(b.cases.map(caseGroup));
  const keys = [...new Map([...a.cases, ...b.cases].map((c) => [caseGroup(c), c])).values()].sort(
    (x, y) =>
      x.services - y.services ||
      byOrder(WORKLOAD_ORDER)(x.workload, y.workload) ||
      x.backend.localeCompare(y.backend) ||
      byOrder(PATH_ORDER)(x.path, y.path),
  );
  const changes: Change[] = [];
  for (const k of keys) {
    const id = { backend: k.backend, services: k.services, path: k.path, workload: k.workload };
    if (!inA.has(caseGroup(k)) || !inB.has(caseGroup(k))) {
      const only = inA.has(caseGroup(k)) ? 'only in A' : 'only in B';
      changes.push({ ...id, metric: '*', unit: '', better: 'lower', a: null, b: null, ratio: null, verdict: only, failing: false });
      continue;
    }
    for (const m of METRICS) {
      const xa = samples(a, id, m);
      const xb = samples(b, id, m);
      const base = { ...id, metric: m.key, unit: m.unit, better: m.better };
      const ch = one(base, xa, xb, seed, pct);
      if (ch.verdict === 'not measured') {
        // A group with no completed repetition on either side: one row saying so.
        if (m !== METRICS[0]) continue;
        ch.metric = '*';
        ch.note = `A: ${caseStates(a, id)}; B: ${caseStates(b, id)}`;
      }
      changes.push(ch);
    }
  }
  // The repeated add-a-service sync: the one sync measured with samples.
  for (const sa of a.syncBench) {
    const sb = b.syncBench.find((x) => x.backend === sa.backend && x.services === sa.services && x.task === sa.task);
    if (!sb) continue;
    const base = {
      backend: sa.backend,
      services: sa.services,
      path: 'sync',
      workload: sa.task,
      metric: 'time',
      unit: 'ms',
      better: 'lower' as const,
    };
    changes.push(one(base, sa.samples, sb.samples, seed, pct));
  }
  const env = environmentWarnings(a, b);
  const count = (v: Change['verdict']) => changes.filter((c) => c.verdict === v).length;
  return {
    a: { runId: a.runId, kernel: a.environment.kernel, where: a.environment.where },
    b: { runId: b.runId, kernel: b.environment.kernel, where: b.environment.where },
    ...env,
    failOnRegressionPct: pct,
    changes,
    counts: {
      regressions: count('regression'),
      improvements: count('improvement'),
      notSignificant: count('not significant'),
      failing: changes.filter((c) => c.failing).length,
    },
  };
}

/** The table for a terminal, then one line of counts. */
export function comparisonText(r: RunComparison): string {
  const header = [
    'backend',
    'services',
    'path',
    'workload',
    'metric',
    'A median [95% CI]',
    'B median [95% CI]',
    'B/A [95% CI]',
    'change',
    'verdict',
  ];
  const ci = (s: Change['a']) => (s ? `${fmt(s.median)} [${fmt(s.low)}, ${fmt(s.high)}]` : '—');
  const rows = r.changes.map((c) => [
    c.backend,
    String(c.services),
    c.path,
    c.workload,
    c.metric === '*' ? '*' : `${c.metric} ${c.unit}`,
    ci(c.a),
    ci(c.b),
    c.ratio ? `${c.ratio.estimate.toFixed(2)}× [${c.ratio.low.toFixed(2)}, ${c.ratio.high.toFixed(2)}]` : '—',
    c.ratio ? `${c.ratio.estimate >= 1 ? '+' : ''}${Math.round((c.ratio.estimate - 1) * 100)}%` : '',
    `${c.verdict}${c.failing ? ` beyond ${r.failOnRegressionPct}%` : ''}${c.note ? ` (${c.note})` : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [
    `A: run ${r.a.runId}, ${kernelLabel(r.a)}`,
    `B: run ${r.b.runId}, ${kernelLabel(r.b)}`,
    ...r.warnings.map((w) => `WARNING: ${w}`),
    '',
    line(header),
    ...rows.map(line),
    '',
    `${r.counts.regressions} significant regressions, ${r.counts.improvements} significant improvements, ${r.counts.notSignificant} not significant` +
      (r.failOnRegressionPct === null ? '' : `; ${r.counts.failing} regressions beyond ${r.failOnRegressionPct}%`) +
      " (significant: the two medians' 95% CIs do not overlap)",
  ];
  return `${lines.join('\n')}\n`;
}
