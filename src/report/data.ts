import { backendByName } from '../../backends/index.js';
import { WORKLOADS, workloadByName } from '../../workloads/index.js';
import { PATHS } from '../model/paths.js';
import type { RunJson } from '../run/results.js';
import { fmt, METRICS, samplesOf, type GroupSummary, type Metric } from '../run/summary.js';

// Small pure helpers shared by the renderers: picking samples out of run.json, naming states,
// and formatting numbers the same way everywhere. Names, order and nature of paths, workloads and
// backends come from their registries (DESIGN.md §13); a run may hold names this build does not
// register (a run of another build): those sort last and are treated as plain request/response.

export const PATH_ORDER: readonly string[] = PATHS;
/** Workloads in report order (Workload.reportOrder). */
export const WORKLOAD_ORDER: readonly string[] = [...WORKLOADS]
  .sort((a, b) => a.reportOrder - b.reportOrder || a.name.localeCompare(b.name))
  .map((w) => w.name);
/** Connection-per-request workloads, in report order. */
export const PER_CONNECTION: readonly string[] = WORKLOAD_ORDER.filter((w) => workloadByName(w)!.perConnection);

export const metric = (key: string): Metric => METRICS.find((m) => m.key === key)!;

export interface CaseKey {
  backend: string;
  services: number;
  path: string;
  workload: string;
}

/** One sample per completed repetition of a case group, for one metric. */
export const samples = (run: Pick<RunJson, 'cases'>, k: CaseKey, m: Metric): number[] =>
  samplesOf(
    run.cases.filter((c) => c.backend === k.backend && c.services === k.services && c.path === k.path && c.workload === k.workload),
    m,
  );

/** The metric a workload is judged by (Workload.headline): p50 latency, or throughput for bulk transfers. */
export const headlineMetric = (workload: string): Metric => metric(workloadByName(workload)?.headline ?? 'p50');

/** "completed", or "errored 3/3", or "completed 2/3, errored 1/3". */
export function stateText(g: Pick<GroupSummary, 'states'>): string {
  const total = Object.values(g.states).reduce((a, b) => a + b, 0);
  const parts = Object.entries(g.states).filter(([, n]) => n > 0);
  if (parts.length === 1 && parts[0]![0] === 'completed') return 'completed';
  return parts.map(([s, n]) => `${s} ${n}/${total}`).join(', ');
}

export const ms = (x: number): string => `${fmt(x)} ms`;

/** Counts with thousands separators: 10,000 services. */
export const withCommas = (x: number): string => x.toLocaleString('en-US');

export const sortedUnique = <T extends string | number>(xs: T[]): T[] =>
  [...new Set(xs)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));

export const byOrder = (order: readonly string[]) => (a: string, b: string) =>
  (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)) || a.localeCompare(b);

/** "kernel 6.18.44 (host)": every report names the kernel the cases ran on. */
export const kernelLabel = (env: { kernel: string; where: string }): string =>
  `kernel ${env.kernel} (${env.where === 'host' ? 'host kernel' : 'guest kernel'})`;

/** The iptables flavour a backend ran with, where it matters (Backend.iptablesFlavour). */
export function iptablesMode(run: Pick<RunJson, 'backends'>, backend: string): string {
  if (backendByName(backend)?.iptablesFlavour !== true) return '';
  const mode = run.backends.find((b) => b.name === backend)?.options.iptablesMode;
  return typeof mode === 'string' ? mode : '';
}
