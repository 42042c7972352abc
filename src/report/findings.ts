import { exceededText } from '../sync.js';
import { BASELINE_PATH, PATH_REGISTRY } from '../model/paths.js';
import type { RunJson } from '../run/results.js';
import { fmt, type GroupSummary, type Metric } from '../run/summary.js';
import { compare, type Comparison } from '../stats/index.js';
import { byOrder, headlineMetric, ms, PER_CONNECTION, samples, sortedUnique, stateText, withCommas as n, WORKLOAD_ORDER } from './data.js';

// Findings: the classic questions answered with this run's own numbers. Every claim of a
// difference is a ratio of medians with its bootstrap 95% CI and the verdict of src/stats'
// compare() (non-overlapping CIs); overlapping ones are said to be "not significant".

export interface Finding {
  question: string;
  answers: string[];
}

/** "1.12× [1.05, 1.20], +12%: significantly worse" */
export function changeText(c: Pick<Comparison, 'ratio' | 'relativeChange' | 'verdict'>): string {
  const r = c.ratio;
  const pct = Math.round(c.relativeChange * 100);
  const verdict =
    c.verdict === 'not significant' ? 'not significant' : c.verdict === 'slower' ? 'significantly worse' : 'significantly better';
  return `${r.estimate.toFixed(2)}× [${r.low.toFixed(2)}, ${r.high.toFixed(2)}], ${pct >= 0 ? '+' : ''}${pct}%: ${verdict}`;
}

/** A case group's state and first reason, shortened (the tables have all of it). */
function why(g: GroupSummary): string {
  const reason = g.reasons[0] ?? '';
  return `${stateText(g)}${reason ? `: ${reason.length > 90 ? `${reason.slice(0, 89)}…` : reason}` : ''}`;
}

/** Why a case group has no numbers. */
function missing(g: GroupSummary | undefined, what: string): string {
  return g ? `${what} has no completed repetition (${why(g)})` : `${what} was not measured in this run`;
}

export function findings(run: RunJson, groups: GroupSummary[]): Finding[] {
  const find = (backend: string, services: number, path: string, workload: string) =>
    groups.find((g) => g.backend === backend && g.services === services && g.path === path && g.workload === workload);
  const backends = sortedUnique(groups.map((g) => g.backend));
  const servicesAll = sortedUnique(groups.map((g) => g.services));
  const workloads = sortedUnique(groups.map((g) => g.workload)).sort(byOrder(WORKLOAD_ORDER));
  const completedIn = (w: string, path: string) => groups.some((g) => g.workload === w && g.path === path && g.states.completed > 0);
  // The headline workload: connection-per-request first (its latency is the per-connection cost).
  const headline = workloads.find((w) => completedIn(w, BASELINE_PATH.name)) ?? workloads[0];
  const out: Finding[] = [];
  if (headline === undefined) return out;
  const m = headlineMetric(headline);
  const what = `${headline} ${m.label}`;

  // Two paths of the same backend, scale and workload: b against a.
  const pathVsPath = (question: string, a: string, b: string, viaPod: boolean) => {
    const answers: string[] = [];
    for (const backend of backends) {
      const mine = groups.filter((g) => g.backend === backend && g.workload === headline);
      if (mine.length > 0 && mine.every((g) => g.states.completed === 0)) {
        answers.push(`${backend}: not measured (${why(mine[0]!)}).`);
        continue;
      }
      const parts: string[] = [];
      for (const services of servicesAll) {
        const ga = find(backend, services, a, headline);
        const gb = find(backend, services, b, headline);
        if (!ga && !gb) continue;
        const at = `at ${n(services)} services`;
        const sa = samples(run, { backend, services, path: a, workload: headline }, m);
        const sb = samples(run, { backend, services, path: b, workload: headline }, m);
        if (sa.length === 0 && sb.length === 0 && ga && gb) parts.push(`not measured ${at} (${why(ga)})`);
        else if (sa.length === 0) parts.push(`${missing(ga, a)} ${at}`);
        else if (sb.length === 0) parts.push(`${missing(gb, b)} ${at}`);
        else {
          const c = viaPod && gb?.metrics[m.key]?.vsPod ? gb.metrics[m.key]!.vsPod! : compare(sa, sb, { seed: run.seed, better: m.better });
          const paired = viaPod ? gb?.metrics[m.key]?.paired : undefined;
          if (paired !== undefined) {
            // The paired ratio answers (the pairing cancels the machine's drift); the medians stay.
            parts.push(
              `${changeText(paired)} ${at} (${fmt(c.baseline.estimate)} → ${fmt(c.candidate.estimate)} ${m.unit}; paired over ${paired.pairs} block pairs in ${paired.groups} repetitions, unpaired ${c.ratio.estimate.toFixed(2)}× [${c.ratio.low.toFixed(2)}, ${c.ratio.high.toFixed(2)}])`,
            );
            continue;
          }
          parts.push(`${changeText(c)} ${at} (${fmt(c.baseline.estimate)} → ${fmt(c.candidate.estimate)} ${m.unit})`);
        }
      }
      if (parts.length > 0) answers.push(`${backend}: ${b} over ${a}, ${what}: ${parts.join('; ')}.`);
    }
    if (answers.length === 0) answers.push(`This run measured no ${b} and ${a} pair (add both to --path).`);
    out.push({ question, answers });
  };
  pathVsPath('Is ClusterIP slower than going straight to the pod IPs, and by how much?', BASELINE_PATH.name, 'clusterip', true);
  pathVsPath('Is NodePort slower than ClusterIP?', 'clusterip', 'nodeport', false);
  out.push(growth(run, groups, backends, servicesAll, workloads));
  out.push(syncCost(run));
  return out;
}

/** Per backend: the per-connection latency at the smallest and the largest scale point. */
function growth(run: RunJson, groups: GroupSummary[], backends: string[], servicesAll: number[], workloads: string[]): Finding {
  const question = "How does each backend's per-connection cost grow with the number of services?";
  const w = workloads.find((x) => PER_CONNECTION.includes(x)) ?? workloads[0]!;
  const m: Metric = headlineMetric(w);
  const path = [...PATH_REGISTRY]
    .sort((a, b) => a.growthRank - b.growthRank)
    .map((p) => p.name)
    .find((p) => groups.some((g) => g.path === p && g.workload === w))!;
  const lo = servicesAll[0]!;
  const hi = servicesAll[servicesAll.length - 1]!;
  if (lo === hi)
    return { question, answers: [`Only one scale point (${n(lo)} services) in this run: sweep with --services 100,1000,10000.`] };
  const answers = backends.map((backend) => {
    const mine = groups.filter((g) => g.backend === backend && g.workload === w);
    if (mine.length > 0 && mine.every((g) => g.states.completed === 0)) return `${backend}: not measured (${why(mine[0]!)}).`;
    const a = samples(run, { backend, services: lo, path, workload: w }, m);
    const b = samples(run, { backend, services: hi, path, workload: w }, m);
    if (a.length === 0 || b.length === 0) {
      const g = groups.find((x) => x.backend === backend && x.path === path && x.workload === w && x.services === (a.length ? hi : lo));
      return `${backend}: ${missing(g, `${path} ${w} at ${n(a.length ? hi : lo)} services`)}.`;
    }
    const c = compare(a, b, { seed: run.seed, better: m.better });
    const podA = samples(run, { backend, services: lo, path: BASELINE_PATH.name, workload: w }, m);
    const podB = samples(run, { backend, services: hi, path: BASELINE_PATH.name, workload: w }, m);
    const pod =
      path !== BASELINE_PATH.name && podA.length > 0 && podB.length > 0
        ? `; the pod-path baseline (no Service rule rewrites it, but its new connections cross the same hooks: iptables walks KUBE-SERVICES for each) went ${changeText(compare(podA, podB, { seed: run.seed, better: m.better }))}`
        : '';
    return `${backend}: ${w} ${m.label} over ${path} from ${fmt(c.baseline.estimate)} ${m.unit} at ${n(lo)} to ${fmt(c.candidate.estimate)} ${m.unit} at ${n(hi)} services, ${changeText(c)}${pod}.`;
  });
  return { question, answers };
}

/** Per backend and scale point: full and partial syncs, programming latency, the repeated
 * add-a-service sync; and the backends' repeated syncs against the fastest one. */
function syncCost(run: RunJson): Finding {
  const question = 'What does a full and a partial sync cost per backend?';
  const answers: string[] = [];
  const keys = sortedUnique(run.syncs.map((s) => `${s.backend}\u0000${String(s.services).padStart(9, '0')}`));
  for (const k of keys) {
    const [backend, sv] = k.split('\u0000') as [string, string];
    const services = Number(sv);
    const of = (step: string) => run.syncs.find((s) => s.backend === backend && s.services === services && s.step === step);
    const full = of('full');
    const parts: string[] = [];
    if (full)
      parts.push(
        full.exceeded
          ? `the full sync ${exceededText(full.exceeded)}`
          : `full sync ${ms(full.totalMs)} (render ${ms(full.renderMs)} + apply ${ms(full.applyMs)}, ${n(full.size.count)} ${full.size.unit})`,
      );
    const partial = ['add-service', 'add-endpoint', 'remove-service'].flatMap((step) => {
      const s = of(step);
      return s ? [`${step} ${s.exceeded ? 'over budget' : ms(s.totalMs)}`] : [];
    });
    if (partial.length > 0) parts.push(`partial syncs ${partial.join(', ')}`);
    const pl = run.programmingLatency.find((p) => p.backend === backend && p.services === services);
    if (pl)
      parts.push(
        pl.ms === null
          ? `network-programming latency not measured (${pl.note ?? 'no answer'})`
          : `network-programming latency ${ms(pl.ms)}${pl.ci ? ` [${fmt(pl.ci.low)}, ${fmt(pl.ci.high)}] (median of ${pl.samples?.filter((x) => x.ms !== null).length} repetitions)` : ''}${pl.syncMs === undefined ? '' : ` against ${ms(pl.syncMs)} for those add-a-service syncs${pl.commitStartMs === undefined ? '' : `, whose committing step began ${ms(pl.commitStartMs)} in`}`}`,
      );
    const b = run.syncBench.find((x) => x.backend === backend && x.services === services);
    if (b) parts.push(`add-a-service sync repeated ${b.samples.length}×: median ${ms(b.p50)} (min ${ms(b.min)}, max ${ms(b.max)})`);
    answers.push(`${backend} at ${n(services)} services: ${parts.join('; ')}.`);
  }
  // Backends against each other, by the repeated add-a-service sync (the only sync with samples).
  for (const services of sortedUnique(run.syncBench.map((b) => b.services))) {
    const benches = run.syncBench.filter((b) => b.services === services && b.samples.length > 0).sort((a, b) => a.p50 - b.p50);
    const fastest = benches[0];
    for (const other of benches.slice(1)) {
      const c = compare(fastest!.samples, other.samples, { seed: run.seed, better: 'lower' });
      answers.push(`At ${n(services)} services ${other.backend}'s add-a-service sync against ${fastest!.backend}'s: ${changeText(c)}.`);
    }
  }
  if (answers.length === 0) answers.push('This run recorded no sync.');
  else answers.push('Full and partial syncs are single measurements; only the repeated add-a-service sync has a confidence interval.');
  return { question, answers };
}
