import { BASELINE_PATH, PATH_REGISTRY } from '../model/paths.js';
import type { RunJson } from '../run/results.js';
import { fmt, shownRatio, type GroupSummary } from '../run/summary.js';
import { byOrder, PATH_ORDER, withCommas as n, WORKLOAD_ORDER } from './data.js';

// The run's answers in one sentence each, as hyperfine's "X ran 1.52 ± 0.03 times faster than Y":
// per backend, scale point, workload and Service path, its throughput against the pod IPs with
// the 95% interval and what that means. `bench run` prints them last; report.md and report.html
// open with them. Backends that measured nothing fold into one line each (state, reason, fix).

export interface Verdict {
  backend: string;
  services: number;
  workload: string;
  path: string;
  /** "nft, 1,000 services, tcp-crr: ClusterIP throughput 0.99× [0.97, 1.01] of the pod IPs". */
  sentence: string;
  /** Clauses that follow the sentence, in order: the first says what the interval means ("no
   * measurable difference"); other measurements (kernel time per operation, …) append theirs. */
  facts: string[];
}

export interface Verdicts {
  verdicts: Verdict[];
  /** One line per backend none of whose cases completed: "ipvs: 18 cases skipped: … (fix: …)". */
  folded: string[];
}

const label = (path: string) => PATH_REGISTRY.find((p) => p.name === path)?.label ?? path;

/** What a ratio's interval says, in words: no measurable difference, or how much more or less. */
function meaning(r: NonNullable<ReturnType<typeof shownRatio>>): string {
  if (r.verdict === 'not significant') return 'no measurable difference';
  const pct = (x: number) => Math.abs((x - 1) * 100).toFixed(Math.abs(x - 1) < 0.1 ? 1 : 0);
  const [lo, hi] = r.ratio.estimate < 1 ? [r.ratio.high, r.ratio.low] : [r.ratio.low, r.ratio.high];
  return `${pct(r.ratio.estimate)}% ${r.ratio.estimate < 1 ? 'less' : 'more'} [${pct(lo)}, ${pct(hi)}]`;
}

export function verdicts(run: Pick<RunJson, 'backends' | 'cases'>, groups: readonly GroupSummary[]): Verdicts {
  const folded = foldedLines(run, groups);
  const foldedBackends = new Set(folded.map((f) => f.backend));
  const out: Verdict[] = [];
  const sorted = [...groups].sort(
    (a, b) =>
      a.backend.localeCompare(b.backend) ||
      a.services - b.services ||
      byOrder(WORKLOAD_ORDER)(a.workload, b.workload) ||
      byOrder(PATH_ORDER)(a.path, b.path),
  );
  for (const g of sorted) {
    if (g.path === BASELINE_PATH.name || foldedBackends.has(g.backend)) continue;
    const where = `${g.backend}, ${n(g.services)} services, ${g.workload}`;
    const t = g.metrics.throughput;
    const r = shownRatio(t);
    const head = { backend: g.backend, services: g.services, workload: g.workload, path: g.path };
    if (t === undefined || r === undefined) {
      const why = g.states.completed === 0 ? (g.reasons[0] ?? 'not measured') : `no ${BASELINE_PATH.name} baseline to compare with`;
      out.push({ ...head, sentence: `${where}: ${label(g.path)} not compared`, facts: [why] });
      continue;
    }
    const how = 'pairs' in r ? `paired, ${r.pairs} block pairs` : `unpaired, ${t.summary.n} repetitions`;
    out.push({
      ...head,
      sentence: `${where}: ${label(g.path)} throughput ${r.ratio.estimate.toFixed(2)}× [${r.ratio.low.toFixed(2)}, ${r.ratio.high.toFixed(2)}] of ${label(BASELINE_PATH.name)} (${how}; ${fmt(t.summary.median)} ops/s)`,
      facts: [meaning(r)],
    });
  }
  return { verdicts: out, folded: folded.map((f) => f.line) };
}

/** A verdict as one line: its sentence, then its facts. */
export const verdictLine = (v: Verdict): string => `${v.sentence}${v.facts.length > 0 ? `: ${v.facts.join('; ')}` : ''}.`;

/** Every verdict's line, then the folded backends' lines. */
export const verdictLines = (v: Verdicts): string[] => [...v.verdicts.map(verdictLine), ...v.folded];

/** Backends none of whose cases completed, one line each with the cases' state, the reason and
 * the fix (the backend's preflight, else the cases' first reason). */
function foldedLines(run: Pick<RunJson, 'backends' | 'cases'>, groups: readonly GroupSummary[]): { backend: string; line: string }[] {
  const out: { backend: string; line: string }[] = [];
  for (const backend of [...new Set(groups.map((g) => g.backend))]) {
    const mine = groups.filter((g) => g.backend === backend);
    if (mine.some((g) => g.states.completed > 0)) continue;
    const states = new Map<string, number>();
    for (const g of mine) for (const [s, k] of Object.entries(g.states)) if (k > 0) states.set(s, (states.get(s) ?? 0) + k);
    const counted = [...states].map(([s, k]) => `${k} ${k === 1 ? 'case' : 'cases'} ${s}`).join(', ');
    const b = run.backends.find((x) => x.name === backend);
    const reason = b?.reason ?? mine.flatMap((g) => g.reasons)[0] ?? 'no reason recorded';
    out.push({ backend, line: `${backend}: ${counted}: ${reason}${b?.fix ? ` (fix: ${b.fix})` : ''}` });
  }
  return out;
}
