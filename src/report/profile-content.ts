// The report's "Kernel time per operation" section and its flame graphs (profile.ts computes,
// flame.ts draws). Written from run.json alone.
import { workloadByName } from '../../workloads/index.js';
import { BASELINE_PATH } from '../model/paths.js';
import type { RunJson } from '../run/results.js';
import { fmt } from '../run/summary.js';
import { median, type ConfidenceInterval } from '../stats/index.js';
import { byOrder, PATH_ORDER, sortedUnique, withCommas, WORKLOAD_ORDER, type CaseKey } from './data.js';
import type { Block, Chart } from './doc.js';
import { flameSpec, flameTree } from './flame.js';
import { groupStacks, profileGroups, samplerOverhead, type Measure, type ProfileGroup } from './profile.js';

const COLUMNS: { m: Measure; label: string }[] = [
  { m: 'service', label: 'netfilter + conntrack + NAT' },
  { m: 'netfilter', label: 'netfilter' },
  { m: 'conntrack', label: 'conntrack' },
  { m: 'nat', label: 'NAT' },
  { m: 'ip_vs', label: 'IPVS' },
  { m: 'bpf', label: 'eBPF programs' },
  { m: 'routing', label: 'routing' },
  { m: 'stack', label: 'socket/TCP/IP' },
  { m: 'other', label: 'other kernel' },
  { m: 'kernel', label: 'kernel total' },
  { m: 'user', label: 'user (workload)' },
];

/** "per connection": the workload's operation, singular. */
export const perOpText = (workload: string) => `per ${(workloadByName(workload)?.opUnit ?? 'operations').replace(/s$/, '')}`;

/** "0.97 µs [0.80, 1.10]": one unit for the estimate and its bounds, µs when any reaches 1 µs. */
export function ciText(ci: Pick<ConfidenceInterval, 'estimate' | 'low' | 'high'>, sign = false): string {
  const us = Math.max(Math.abs(ci.estimate), Math.abs(ci.low), Math.abs(ci.high)) >= 1000;
  const f = (x: number) => fmt(us ? x / 1000 : x);
  return `${sign && ci.estimate > 0 ? '+' : ''}${f(ci.estimate)} ${us ? 'µs' : 'ns'} [${f(ci.low)}, ${f(ci.high)}]`;
}

const keyText = (k: CaseKey) => `${k.backend}, ${withCommas(k.services)} services, ${k.path}`;
const flameName = (k: CaseKey) => `flame-${k.workload}-${k.services}-${k.backend}-${k.path}`;

export function profileSection(run: RunJson): { blocks: Block[]; charts: Chart[] } {
  const p = run.profiling;
  if (p === undefined) return { blocks: [], charts: [] };
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Kernel time per operation' }];
  if (p.state !== 'on') {
    blocks.push({
      kind: 'para',
      text: `Kernel attribution ${p.state === 'off' ? 'was off' : 'is unavailable'}: ${p.reason ?? 'no reason recorded'}.`,
    });
    return { blocks, charts: [] };
  }
  const groups = profileGroups(run);
  blocks.push({
    kind: 'para',
    text:
      p.unsampledEvery !== undefined
        ? `perf record -a -g sampled every CPU (cpu-clock, ${p.hz} Hz per CPU; ${p.perf ?? 'perf'}) during each case's measured window; repetitions ${p.unsampledEvery}, ${2 * p.unsampledEvery}, … ran unsampled. Each sample counts once, to the innermost part of the path on its call chain (src/profile/README.md lists the kernel functions of each part). Figures are CPU time per operation, pooled over the sampled repetitions (Σ CPU ns / Σ operations) [95% bootstrap CI over repetitions].`
        : `perf record -a -g sampled every CPU (cpu-clock, ${p.hz} Hz per CPU; ${p.perf ?? 'perf'}) in half of each case's measured window: its blocks (${fmt(p.blockMs ?? 500)} ms at most) alternate in pairs of one sampled and one unsampled block, which first drawn per pair. Each sample counts once, to the innermost part of the path on its call chain (src/profile/README.md lists the kernel functions of each part). Figures are CPU time per operation: a part's CPU ns in the sampled blocks over the operations completed in them, pooled over the repetitions (Σ ns / Σ operations) [95% bootstrap CI over repetitions]. A case's throughput in the other tables counts both halves.`,
  });
  blocks.push(overheadPara(run));
  const shares = run.cases.flatMap((c) =>
    c.state === 'completed' && c.profile !== undefined ? [c.profile.samples.unrelated / Math.max(1, c.profile.samples.total)] : [],
  );
  if (shares.length > 0)
    blocks.push({
      kind: 'para',
      text: `Other processes' samples (not charged to the cases): median ${fmt(100 * median(shares))}% of all samples; on a shared machine the per-operation figures still hold, the CIs widen.`,
    });
  if (groups.length === 0) {
    blocks.push({ kind: 'para', text: 'No completed case was sampled.' });
    return { blocks, charts: [] };
  }
  const errors = run.cases.flatMap((c) => (c.state === 'completed' && c.profileError !== undefined ? [`${c.id}: ${c.profileError}`] : []));
  if (errors.length > 0)
    blocks.push({
      kind: 'para',
      text: `Sampling failed in ${errors.length} cases (they count as unsampled): ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? '; …' : ''}.`,
    });

  const charts: Chart[] = [];
  const workloads = sortedUnique(groups.map((g) => g.key.workload)).sort(byOrder(WORKLOAD_ORDER));
  for (const w of workloads) {
    for (const services of sortedUnique(groups.filter((g) => g.key.workload === w).map((g) => g.key.services))) {
      const rows = groups
        .filter((g) => g.key.workload === w && g.key.services === services)
        .sort((a, b) => a.key.backend.localeCompare(b.key.backend) || byOrder(PATH_ORDER)(a.key.path, b.key.path));
      blocks.push({ kind: 'heading', level: 3, text: `${w} at ${withCommas(services)} services: CPU time ${perOpText(w)}` }, table(rows));
      const diffs = rows.flatMap((g) => differenceLine(g));
      if (diffs.length > 0) blocks.push({ kind: 'list', items: diffs });
      for (const g of rows) {
        const chart = flameChart(run, g);
        charts.push(chart);
        blocks.push({ kind: 'chart', chart });
      }
    }
  }
  return { blocks, charts };
}

function overheadPara(run: RunJson): Block {
  const o = samplerOverhead(run);
  if (o.length === 0)
    return {
      kind: 'para',
      text: 'Sampler overhead: not measured in this run (no sampled case had a pair of one sampled and one unsampled block).',
    };
  const parts = o.map(
    (x) =>
      `${x.workload} ${fmt(x.ratio.estimate)}× [${fmt(x.ratio.low)}, ${fmt(x.ratio.high)}] (${x.pairs} pairs in ${x.cases} cases: ${fmt(Math.max(0, (1 - x.ratio.estimate) * 100))}% overhead)`,
  );
  return {
    kind: 'para',
    text: `Sampler overhead, same run: throughput of each sampled block over its unsampled partner's, the geometric mean of the per-pair ratios [95% t interval over the sampled cases]: ${parts.join('; ')}.`,
  };
}

function table(rows: ProfileGroup[]): Block {
  // Columns every row has at zero (IPVS outside a guest, eBPF programs without the ebpf backend) are left out.
  const cols = COLUMNS.filter((c) => rows.some((g) => g.perOp[c.m].estimate > 0));
  return {
    kind: 'table',
    header: ['backend', 'path', 'n', ...cols.map((c) => c.label)],
    rows: rows.map((g) => [g.key.backend, g.key.path, String(g.n), ...cols.map((c) => ciText(g.perOp[c.m]))]),
    numeric: [false, false, true, ...cols.map(() => true)],
  };
}

/** "nft, 1,000 services, clusterip: +0.9 µs [0.8, 1.0] of netfilter + conntrack + NAT time per
 * connection over the pod path; eBPF programs +…" — the parts that differ, with their CIs. */
function differenceLine(g: ProfileGroup): string[] {
  if (g.vsPod === undefined) return [];
  const d = g.vsPod;
  const parts = (['service', 'bpf', 'ip_vs', 'routing', 'stack', 'kernel'] as const)
    .filter((m) => m === 'service' || m === 'kernel' || d[m].estimate !== 0)
    .map((m) => `${COLUMNS.find((c) => c.m === m)!.label} ${ciText(d[m], true)}${d[m].degenerate ? ' (n < 2: no CI)' : ''}`);
  return [`${keyText(g.key)} against ${BASELINE_PATH.name}, ${perOpText(g.key.workload)}: ${parts.join('; ')}.`];
}

function flameChart(run: RunJson, g: ProfileGroup): Chart {
  // Kernel time only: the workload's user time (one unnamed frame per command, kernel call chains
  // only) is in the table and would dwarf the path's parts.
  const kernel = (m: Map<string, number>) => new Map([...m].filter(([k]) => !k.startsWith('user;')));
  const stacks = kernel(groupStacks(run, g.key));
  const pod = g.key.path === BASELINE_PATH.name ? undefined : kernel(groupStacks(run, { ...g.key, path: BASELINE_PATH.name }));
  const diff = pod !== undefined && pod.size > 0;
  const title = `${keyText(g.key)}, ${g.key.workload}: kernel CPU ns ${perOpText(g.key.workload)}${diff ? ` (colour: more (red) or less (blue) than the ${BASELINE_PATH.name} path)` : ''}`;
  return { name: flameName(g.key), title, spec: flameSpec(title, flameTree(stacks, diff ? pod : undefined), diff) };
}
