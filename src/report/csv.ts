import { exceededText } from '../sync.js';
import { stringify } from 'csv-stringify/sync';
import type { RunJson } from '../run/results.js';
import { METRICS, type GroupSummary } from '../run/summary.js';
import { iptablesMode, stateText } from './data.js';
import { crossCosts, hopsText, pathEvidence, peersText } from './cluster.js';

// summary.csv: tidy, one row per case group and metric (a group with no completed repetition
// gets one row with its state and reason and no numbers); syncs.csv: one row per sync.
// csv-stringify does the quoting (RFC 4180: fields with commas, quotes or newlines are quoted).

/** Six significant digits: enough for every metric, and stable text. */
const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(Number(x.toPrecision(6))));

/** The columns that name a case group, first in summary.csv and paths.csv. */
const GROUP_COLUMNS = ['backend', 'iptables_mode', 'path', 'workload', 'services'];
const groupCells = (run: RunJson, g: { backend: string; path: string; workload: string; services: number }) => [
  g.backend,
  iptablesMode(run, g.backend),
  g.path,
  g.workload,
  g.services,
];

export function summaryCsv(run: RunJson, groups: GroupSummary[]): string {
  const rows: (string | number)[][] = [];
  for (const g of groups) {
    const first = run.cases.find(
      (c) => c.backend === g.backend && c.services === g.services && c.path === g.path && c.workload === g.workload,
    )!;
    const key = [...groupCells(run, g), first.endpoints, first.target];
    const state = stateText(g);
    const reason = g.reasons.join('; ');
    const present = METRICS.filter((m) => g.metrics[m.key]);
    if (present.length === 0) rows.push([...key, '', '', '', '', '', '', '', '', '', 0, state, reason]);
    for (const m of present) {
      const { summary: s, vsPod } = g.metrics[m.key]!;
      rows.push([
        ...key,
        m.key,
        m.unit,
        num(s.median),
        num(s.ci.low),
        num(s.ci.high),
        num(vsPod?.ratio.estimate),
        num(vsPod?.ratio.low),
        num(vsPod?.ratio.high),
        vsPod?.verdict ?? '',
        s.n,
        state,
        reason,
      ]);
    }
  }
  return stringify(rows, {
    header: true,
    columns: [
      ...GROUP_COLUMNS,
      'endpoints',
      'target',
      'metric',
      'unit',
      'median',
      'ci_low',
      'ci_high',
      'ratio_to_pod',
      'ratio_ci_low',
      'ratio_ci_high',
      'vs_pod',
      'n',
      'state',
      'reason',
    ],
  });
}

export function syncsCsv(run: RunJson): string {
  const rows: (string | number)[][] = run.syncs.map((s) => [
    s.backend,
    iptablesMode(run, s.backend),
    s.services,
    s.step,
    num(s.renderMs),
    num(s.applyMs),
    s.exceeded ? '' : num(s.totalMs),
    s.size.count,
    s.size.unit,
    s.commands,
    s.exceeded ? exceededText(s.exceeded) : 'complete',
    s.readBackDifferences.length,
  ]);
  for (const p of run.programmingLatency)
    rows.push([
      p.backend,
      iptablesMode(run, p.backend),
      p.services,
      'programming-latency',
      '',
      '',
      p.ms === null ? '' : num(p.ms),
      '',
      '',
      '',
      [
        p.samples && p.ms !== null ? `median of ${p.samples.filter((x) => x.ms !== null).length}` : undefined,
        p.ci ? `95% CI [${num(p.ci.low)}, ${num(p.ci.high)}] ms` : undefined,
        p.note ?? (p.ms === null ? 'no answer' : 'complete'),
      ]
        .filter((x) => x !== undefined)
        .join('; '),
      '',
    ]);
  return stringify(rows, {
    header: true,
    columns: [
      'backend',
      'iptables_mode',
      'services',
      'step',
      'render_ms',
      'apply_ms',
      'total_ms',
      'payload',
      'payload_unit',
      'commands',
      'outcome',
      'read_back_differences',
    ],
  });
}

/** paths.csv: one row per case group, what the servers saw of its checks (cluster.ts) and, for a
 * cross-node path, its ratios to the same-node path the registry names for it. */
export function pathsCsv(run: RunJson, groups: GroupSummary[]): string {
  const cross = crossCosts(run, groups);
  const rows = pathEvidence(run, groups).map((e) => {
    const x = cross.find((c) => c.backend === e.backend && c.services === e.services && c.workload === e.workload && c.path === e.path);
    const ratio = (key: string) => {
      const r = x?.ratios.find((y) => y.metric.key === key);
      return [
        num(r?.c?.ratio.estimate),
        num(r?.c?.ratio.low),
        num(r?.c?.ratio.high),
        r?.c?.verdict ?? '',
        r === undefined || r.c === undefined ? '' : r.paired ? 'paired' : 'medians',
      ];
    };
    return [
      ...groupCells(run, e),
      e.policy ?? '',
      e.checks,
      e.clients.join(' '),
      e.entered.join(' '),
      e.answeredBy.join(' '),
      e.endpointNodes.join(' '),
      e.checks === 0 ? '' : hopsText(e),
      e.hops.map(([h]) => (h === null ? '' : String(h))).join(' '),
      e.checks === 0 ? '' : peersText(e),
      e.clientIp === 'unknown' ? '' : e.clientIp,
      x?.against ?? '',
      ...ratio('throughput'),
      ...ratio('p50'),
      e.state,
      e.reason ?? x?.missing ?? '',
    ];
  });
  return stringify(rows, {
    header: true,
    columns: [
      ...GROUP_COLUMNS,
      'external_traffic_policy',
      'checks',
      'client',
      'entered_at',
      'answered_by',
      'endpoint_nodes',
      'hops_seen',
      'hops',
      'server_saw',
      'client_ip',
      'same_node_path',
      ...['throughput', 'p50'].flatMap((m) => [`${m}_ratio`, `${m}_ratio_ci_low`, `${m}_ratio_ci_high`, `${m}_verdict`, `${m}_ratio_kind`]),
      'state',
      'reason',
    ],
  });
}
