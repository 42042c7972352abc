import { BASELINE_PATH, PATH_REGISTRY } from '../model/paths.js';
import type { RunJson } from '../run/results.js';
import { fmt, shownRatio, type GroupSummary } from '../run/summary.js';
import { byOrder, PATH_ORDER, withCommas as n, WORKLOAD_ORDER } from './data.js';
import { ciText, perOpText } from './profile-content.js';
import { profileGroups, type Measure, type ProfileGroup } from './profile.js';

// The run's answers in one sentence each, as hyperfine's "X ran 1.52 ± 0.03 times faster than Y":
// per backend, scale point, workload and Service path, its throughput against the pod IPs with
// the 95% interval and what that means. `bench run` prints them last; report.md and report.html
// open with them. Backends that measured nothing fold into one line each (state, reason, fix).

export interface Verdict {
  backend: string;
  services: number;
  workload: string;
  path: string;
  /** "nft, 1,000 services, tcp-crr: ClusterIP throughput 0.99× [0.97, 1.01] of the pod IPs"; with
   * kernel attribution "…: ClusterIP costs 0.9 µs [0.8, 1.0] more kernel time per connection than
   * the pod IPs (+0.9%); throughput 0.99× [0.97, 1.01] …". */
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

/** The path's part of the kernel time in a backend: the measure with the most time per operation
 * in the pod path and this path (eBPF programs for ebpf, IPVS in the guest, netfilter + conntrack
 * + NAT for the netfilter backends). */
const PARTS: { m: Measure; label: string }[] = [
  { m: 'service', label: 'netfilter + conntrack + NAT' },
  { m: 'bpf', label: 'eBPF programs' },
  { m: 'ip_vs', label: 'IPVS' },
];

/**
 * The kernel-time clause of a Service path's verdict, from its attribution against the pod path's
 * (profileGroups' vsPod: a bootstrap CI of the difference of the pooled per-operation figures):
 * "ClusterIP costs 0.9 µs [0.8, 1.0] more kernel time per connection than the pod IPs (+0.9%)",
 * the percentage of the pod path's kernel time per operation; "ClusterIP kernel time per connection
 * +0.5 µs [-1.1, 3.6] against the pod IPs (+0.5%), not resolved" when the interval contains 0. And the path's own part ("netfilter + conntrack + NAT +0.77 µs [0.50,
 * 1.01] of it"), as a fact. Undefined without a sampled pod path.
 */
export function kernelClauses(g: ProfileGroup): { clause: string; part: string } | undefined {
  const d = g.vsPod;
  if (d === undefined) return undefined;
  const k = d.kernel;
  const podKernel = g.perOp.kernel.estimate - k.estimate;
  const pct = podKernel > 0 ? ` (${k.estimate >= 0 ? '+' : '-'}${pctText((100 * k.estimate) / podKernel)}%)` : '';
  const name = label(g.key.path);
  const per = perOpText(g.key.workload);
  const resolved = !k.degenerate && (k.low > 0 || k.high < 0);
  const magnitude = ciText({
    estimate: Math.abs(k.estimate),
    low: k.estimate < 0 ? -k.high : k.low,
    high: k.estimate < 0 ? -k.low : k.high,
  });
  const clause = resolved
    ? `${name} costs ${magnitude} ${k.estimate < 0 ? 'less' : 'more'} kernel time ${per} than ${label(BASELINE_PATH.name)}${pct}`
    : `${name} kernel time ${per} ${ciText(k, true)} against ${label(BASELINE_PATH.name)}${pct}, ${k.degenerate ? 'one sampled repetition: no CI' : 'not resolved'}`;
  const part = PARTS.map((p) => ({ ...p, size: g.perOp[p.m].estimate + (g.perOp[p.m].estimate - d[p.m].estimate) })).sort(
    (a, b) => b.size - a.size,
  )[0]!;
  return { clause, part: `${part.label} ${ciText(d[part.m], true)} of the kernel difference` };
}

/** "0.04" below 1%, "1.2" above: a kernel-time share is often a fraction of a percent. */
const pctText = (x: number) => Math.abs(x).toFixed(Math.abs(x) < 1 ? 2 : 1);

const sameGroup = (p: ProfileGroup, g: GroupSummary) =>
  p.key.backend === g.backend && p.key.services === g.services && p.key.workload === g.workload && p.key.path === g.path;

export function verdicts(run: Pick<RunJson, 'backends' | 'cases' | 'seed'>, groups: readonly GroupSummary[]): Verdicts {
  const profiled = run.cases.some((c) => c.state === 'completed' && c.profile !== undefined) ? profileGroups(run) : [];
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
    const how = 'pairs' in r ? `paired, ${r.pairs} block pairs in ${r.groups} repetitions` : `unpaired, ${t.summary.n} repetitions`;
    const ratio = `${r.ratio.estimate.toFixed(2)}× [${r.ratio.low.toFixed(2)}, ${r.ratio.high.toFixed(2)}]`;
    const kernel = profiled.find((p) => sameGroup(p, g));
    const k = kernel === undefined ? undefined : kernelClauses(kernel);
    out.push({
      ...head,
      sentence:
        k === undefined
          ? `${where}: ${label(g.path)} throughput ${ratio} of ${label(BASELINE_PATH.name)} (${how}; ${fmt(t.summary.median)} ops/s)`
          : `${where}: ${k.clause}; throughput ${ratio} (${how}; ${fmt(t.summary.median)} ops/s)`,
      facts: k === undefined ? [meaning(r)] : [meaning(r), k.part],
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
