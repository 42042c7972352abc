import type { RunJson } from '../run/results.js';
import { fmt, METRICS, samplesOf, type GroupSummary, type Metric } from '../run/summary.js';

// Small pure helpers shared by the renderers: picking samples out of run.json, naming states,
// and formatting numbers the same way everywhere.

export const PATH_ORDER = ['pod', 'clusterip', 'clusterip-node', 'nodeport', 'hairpin'];
/** Connection-per-request workloads first: their latency is the per-connection cost. */
export const WORKLOAD_ORDER = ['tcp-crr', 'http-crr', 'http', 'tcp-rr', 'udp-rr', 'stream'];
export const PER_CONNECTION = new Set(['tcp-crr', 'http-crr']);

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

/** The metric a workload is judged by: p50 latency, except bulk streams (throughput). */
export const headlineMetric = (workload: string): Metric => metric(workload === 'stream' ? 'throughput' : 'p50');

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

export const byOrder = (order: string[]) => (a: string, b: string) =>
  (order.indexOf(a) === -1 ? 99 : order.indexOf(a)) - (order.indexOf(b) === -1 ? 99 : order.indexOf(b)) || a.localeCompare(b);

/** "kernel 6.18.44 (host)": every report names the kernel the cases ran on. */
export const kernelLabel = (env: { kernel: string; where: string }): string =>
  `kernel ${env.kernel} (${env.where === 'host' ? 'host kernel' : 'guest kernel'})`;

/** The iptables flavour a backend ran with, where it matters. */
export function iptablesMode(run: Pick<RunJson, 'backends'>, backend: string): string {
  if (!backend.startsWith('iptables')) return '';
  const mode = run.backends.find((b) => b.name === backend)?.options.iptablesMode;
  return typeof mode === 'string' ? mode : '';
}
