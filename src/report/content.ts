import { exceededText } from '../sync.js';
import type { RunJson } from '../run/results.js';
import { WORKLOADS } from '../../workloads/index.js';
import { BASELINE_PATH } from '../model/paths.js';
import { ciTargetOf, fmt, ratioText, scaleNotes, shownRatio, withCi, type GroupSummary } from '../run/summary.js';
import { verdictLine, verdicts } from './verdicts.js';
import { MIN_CI_SAMPLES, targetPercent } from '../stats/index.js';
import { charts as allCharts } from './charts.js';
import { byOrder, iptablesMode, kernelLabel, metric, sortedUnique, stateText, withCommas as n, WORKLOAD_ORDER } from './data.js';
import type { Block, ReportDoc } from './doc.js';
import { findings } from './findings.js';
import { clusterFindings, crossCosts, EVIDENCE_HEADER, evidenceRows, hasEvidence, ratioCell } from './cluster.js';
import { profileSection } from './profile-content.js';

// What report.md and report.html say, in order: environment, backends, findings, per-scenario
// tables with their charts, sync timing, cases that did not complete, warnings.

const STOPPED: Record<RunJson['state'], string> = {
  running: 'This run never finished (its process was killed, or it is still running)',
  aborted: 'This run was interrupted',
  failed: 'This run failed',
  completed: '',
};
const TABLE_METRICS = ['throughput', 'p50', 'p99', 'cpuKernel'];

export function reportDoc(run: RunJson, groups: GroupSummary[], generatedAt: string): ReportDoc {
  const profile = profileSection(run);
  const charts = [...allCharts(run, groups), ...profile.charts];
  const chart = (name: string): Block[] => charts.filter((c) => c.name === name).map((c): Block => ({ kind: 'chart', chart: c }));
  const title = `svcbench run ${run.runId}`;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: title },
    {
      kind: 'para',
      text: `Generated ${generatedAt} from run.json by bench report (bench report RUN_DIR renders it again); ${kernelLabel(run.environment)}.`,
    },
  ];
  if (run.state !== 'completed')
    blocks.push({
      kind: 'para',
      text: `${STOPPED[run.state]}: this report shows only the cases recorded before it stopped (${run.cases.length}).`,
    });
  blocks.push(...verdictSection(run, groups), ...environment(run), ...backends(run));

  blocks.push({ kind: 'heading', level: 2, text: 'Findings' });
  for (const f of [...findings(run, groups), ...clusterFindings(run, groups)]) {
    blocks.push({ kind: 'heading', level: 3, text: f.question }, { kind: 'list', items: f.answers });
  }
  blocks.push(...pathsSection(run, groups), ...chart('cross-node'));

  blocks.push(
    { kind: 'heading', level: 2, text: 'Results per scenario' },
    {
      kind: 'para',
      text: 'Medians of the repetitions with bootstrap 95% confidence intervals. "vs pod" is the ratio of this path\'s median to the same backend\'s pod-path median (straight to the endpoint pods\' IPs) at the same scale, with its 95% CI; "worse"/"better" mark a significant difference (the two medians\' CIs do not overlap), "n.s." an overlap (not significant). n counts completed repetitions; cases that did not complete show their state.',
    },
    ...chart('latency-vs-services'),
  );
  const workloads = sortedUnique(groups.map((g) => g.workload)).sort(byOrder(WORKLOAD_ORDER));
  for (const w of workloads) {
    for (const services of sortedUnique(groups.filter((g) => g.workload === w).map((g) => g.services))) {
      blocks.push(
        { kind: 'heading', level: 3, text: `${w} at ${n(services)} services` },
        scenarioTable(groups.filter((g) => g.workload === w && g.services === services)),
      );
    }
    blocks.push(...chart(`paths-${w}`));
  }

  blocks.push(...profile.blocks);
  blocks.push(...syncSection(run), ...chart('sync-vs-services'), ...incomplete(run), ...warnings(run, groups));
  return { title, blocks, charts };
}

/** What the servers saw of every path's checks, and the cross-node paths against their same-node
 * ones (cluster.ts): the evidence behind the cluster findings. */
function pathsSection(run: RunJson, groups: GroupSummary[]): Block[] {
  const blocks: Block[] = [];
  if (hasEvidence(run))
    blocks.push(
      { kind: 'heading', level: 2, text: 'What the servers saw' },
      {
        kind: 'para',
        text: "Before every case one request per host of its path is checked; the server answers with the address it saw the connection come from and the TTL its SYN arrived with (hops: 64 minus that TTL; every forwarding node takes one off). 'entered at' is the node whose IP the client sent to (else the client pod's node); 'client IP' says whether the server saw the client's own address in every check (kept), in none (replaced) or in some (mixed). All repetitions, workloads and scale points together.",
      },
      { kind: 'table', header: EVIDENCE_HEADER, rows: evidenceRows(run), numeric: EVIDENCE_HEADER.map((h) => h === 'checks') },
    );
  const cross = crossCosts(run, groups);
  if (cross.length > 0)
    blocks.push(
      { kind: 'heading', level: 2, text: 'Cross-node against same-node' },
      {
        kind: 'para',
        text: "Each cross-node path against the same-node path the path registry names for it, per backend, scale point and workload: cross / same, paired over the blocks both ran in (each block against the other path's block of the same round) where they ran as paired blocks, else the ratio of medians, with bootstrap 95% CIs; worse/better when significant, n.s. otherwise.",
      },
      {
        kind: 'table',
        header: ['backend', 'services', 'workload', 'path', 'against', 'throughput ratio [95% CI]', 'p50 ratio [95% CI]', 'note'],
        rows: cross.map((x) => [
          x.backend,
          n(x.services),
          x.workload,
          x.path,
          x.against,
          ...x.ratios.map((r) => ratioCell(r.c)),
          x.missing ?? (x.ratios.every((r) => r.paired) ? 'paired' : 'ratio of medians'),
        ]),
        numeric: [false, true, false, false, false, true, true, false],
      },
    );
  return blocks;
}

/** The answers first: one sentence per backend, scale point, workload and Service path, and one
 * line per backend that measured nothing (verdicts.ts). */
function verdictSection(run: RunJson, groups: GroupSummary[]): Block[] {
  const v = verdicts(run, groups);
  const items = [...v.verdicts.map(verdictLine), ...v.folded];
  if (items.length === 0) return [];
  const paired = v.verdicts.some((x) => x.sentence.includes('block pairs'));
  const kernel = v.verdicts.some((x) => x.sentence.includes('kernel time'));
  return [
    { kind: 'heading', level: 2, text: 'Verdicts' },
    { kind: 'list', items },
    ...(paired
      ? [
          {
            kind: 'para' as const,
            text: "Paired: each path ran in short blocks alternating with the pod path's within every repetition, and the ratio is the geometric mean of the per-round ratios with a 95% t interval over the repetitions (each repetition's mean log ratio one value: pairs of one repetition share its client processes and can move together), so the machine's slow drift cancels; \"no measurable difference\" when the interval contains 1. The unpaired ratios of medians are in the tables below for comparison.",
          },
        ]
      : []),
    ...(kernel
      ? [
          {
            kind: 'para' as const,
            text: "Kernel time: CPU time per operation from the kernel attribution (see \"Kernel time per operation\"), the Service path's sampled repetitions' median minus the pod path's, with a bootstrap 95% CI; the percentage is of the pod path's kernel time per operation, and the last clause is the backend's own part of the difference (netfilter + conntrack + NAT, eBPF programs or IPVS).",
          },
        ]
      : []),
  ];
}

function environment(run: RunJson): Block[] {
  const e = run.environment;
  const f = run.flags;
  const flag = (k: string) => (f[k] === undefined ? '—' : Array.isArray(f[k]) ? (f[k] as unknown[]).join(', ') : String(f[k]));
  const rows: string[][] = [
    ['kernel', `${e.kernel} (${e.where === 'host' ? 'the host kernel' : 'a guest kernel'})`],
    ['CPU', `${e.cpuModel}, ${e.cpus} CPUs${cpuPlacement(run)}`],
    ['memory', `${e.memoryGiB} GiB`],
    ['Node.js', e.node],
    ['svcbench commit', e.commit],
    ...Object.entries(e.tools).map(([k, v]) => [k, v]),
    ['command', `bench ${run.argv.join(' ')}`],
    ['started, finished', `${run.startedAt}, ${run.finishedAt ?? '—'} (${run.state})`],
    ['seed', String(run.seed)],
    ['repetitions × duration (warm-up)', `${repetitions(run)} × ${flag('duration')} s (${flag('warmup')} s)`],
    ['endpoints, target', `${flag('endpoints')}, ${flag('target')}`],
    [
      'connections, message size, rate',
      `${connections(run)}, ${flag('messageSize')} B, ${flag('rate') === '—' ? 'closed loop (no fixed rate)' : `${flag('rate')}/s`}`,
    ],
  ];
  return [
    { kind: 'heading', level: 2, text: 'Environment' },
    { kind: 'table', header: ['', ''], rows },
  ];
}

/** "; tcp-rr/udp-rr client and servers on CPU 1; http client on CPU 0, its servers on CPU 1", for
 * the workloads of this run that were placed (src/run/pin.ts). Runs made before the 'split'
 * placement recorded no loadGeneratorCpu: their http was not pinned. */
function cpuPlacement(run: RunJson): string {
  const e = run.environment;
  const inRun = new Set(run.cases.map((c) => c.workload));
  const ran = (cpus: 'shared' | 'split') => WORKLOADS.filter((w) => w.cpus === cpus && inRun.has(w.name)).map((w) => w.name);
  const [shared, split] = [ran('shared'), ran('split')];
  const parts: string[] = [];
  if (e.sharedCpu !== undefined && shared.length > 0) parts.push(`${shared.join('/')} client and servers on CPU ${e.sharedCpu}`);
  if (e.loadGeneratorCpu !== undefined && split.length > 0)
    parts.push(`${split.join('/')} client on CPU ${e.loadGeneratorCpu}, its servers on CPU ${e.serverCpus}`);
  return parts.map((p) => `; ${p}`).join('');
}

/** --connections as given, or else each workload's own as its cases recorded it ("http 3, tcp-crr 1"). */
function connections(run: RunJson): string {
  if (run.flags.connections !== undefined) return String(run.flags.connections);
  const per = new Map<string, Set<number>>();
  for (const c of run.cases) if (c.connections !== undefined) per.set(c.workload, (per.get(c.workload) ?? new Set()).add(c.connections));
  return per.size === 0 ? '—' : [...per].map(([w, n]) => `${w} ${[...n].join('/')}`).join(', ');
}

/** "3", or with adaptive repetitions "3 to 10 (more while the throughput CI is wider than ±5% or n < 6,
 * within a 180 s time budget)"; runs made before --time-budget had no n < 6 rule. */
function repetitions(run: RunJson): string {
  const t = ciTargetOf(run.flags);
  const repeat = String(run.flags.repeat ?? '—');
  const b = run.flags.timeBudget;
  const rule = typeof b !== 'number' ? '' : ` or n < ${MIN_CI_SAMPLES}${b > 0 ? `, within a ${b} s time budget` : ''}`;
  return t ? `${repeat} to ${t.maxRepeat} (more while the throughput CI is wider than ±${targetPercent(t.halfWidth)}%${rule})` : repeat;
}

function backends(run: RunJson): Block[] {
  const rows = run.backends.map((b) => [
    b.name,
    b.state,
    iptablesMode(run, b.name) || '—',
    b.reason ? `${b.reason}${b.fix ? ` (fix: ${b.fix})` : ''}` : b.state === 'not-implemented' ? 'no data plane in this build' : '',
  ]);
  const scaled = scaleNotes(run);
  return [
    { kind: 'heading', level: 2, text: 'Backends' },
    { kind: 'table', header: ['backend', 'state', 'iptables mode', 'why not ready'], rows },
    ...(scaled.length === 0 ? [] : [{ kind: 'list' as const, items: scaled }]),
  ];
}

function scenarioTable(groups: GroupSummary[]): Block {
  const metrics = TABLE_METRICS.map(metric);
  // Paired ratios exist for the metrics a block reports (throughput, p50, p99): those get the
  // unpaired ratio beside the paired one, to show what the pairing changes.
  const pairedIn = (key: string) => groups.some((g) => g.metrics[key]?.paired !== undefined);
  const header = [
    'backend',
    'path',
    'n',
    'state',
    ...metrics.flatMap((m) => [
      `${m.label} (${m.unit}) [95% CI]`,
      pairedIn(m.key) ? 'vs pod (paired)' : 'vs pod',
      ...(pairedIn(m.key) ? ['vs pod (unpaired)'] : []),
    ]),
  ];
  const rows = groups.map((g) => [
    g.backend,
    g.path,
    String(g.states.completed),
    stateText(g) === 'completed' ? 'completed' : `${stateText(g)}${g.reasons.length ? `: ${g.reasons[0]}` : ''}`,
    ...metrics.flatMap((m) => {
      const x = g.metrics[m.key];
      const base = g.path === BASELINE_PATH.name;
      return [
        x ? withCi(x.summary) : '—',
        base ? 'baseline' : ratioText(shownRatio(x)),
        ...(pairedIn(m.key) ? [base ? 'baseline' : ratioText(x?.vsPod)] : []),
      ];
    }),
  ]);
  return { kind: 'table', header, rows, numeric: header.map((_, i) => i === 2 || i >= 4) };
}

function syncSection(run: RunJson): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Sync timing' },
    {
      kind: 'para',
      text: 'One measurement per backend and scale point: render (building the payload) and apply (the tool loading it) are timed apart; the installed rules are read back outside the timed region and compared with what was rendered.',
    },
  ];
  blocks.push(...syncTables(run), ...programmingLatency(run), ...syncBench(run));
  if (blocks.length === 2) blocks.push({ kind: 'para', text: 'This run recorded no sync.' });
  return blocks;
}

/** The full and the partial syncs, one table each, by backend, scale and step. */
function syncTables(run: RunJson): Block[] {
  const blocks: Block[] = [];
  const order = ['full', 'add-service', 'add-endpoint', 'remove-service'];
  const syncs = [...run.syncs].sort(
    (a, b) => a.backend.localeCompare(b.backend) || a.services - b.services || order.indexOf(a.step) - order.indexOf(b.step),
  );
  const row = (s: RunJson['syncs'][number]) => [
    s.backend,
    n(s.services),
    ...(s.kind === 'partial' ? [s.step] : []),
    fmt(s.renderMs),
    fmt(s.applyMs),
    s.exceeded ? exceededText(s.exceeded) : fmt(s.totalMs),
    `${n(s.size.count)} ${s.size.unit}`,
    n(s.commands),
    s.readBackDifferences.length === 0 ? 'matches' : `${s.readBackDifferences.length} differences`,
  ];
  const tail = ['render ms', 'apply ms', 'total ms', 'payload', 'commands', 'read-back'];
  const full = syncs.filter((s) => s.kind === 'full');
  const partial = syncs.filter((s) => s.kind === 'partial');
  if (full.length > 0)
    blocks.push(
      { kind: 'heading', level: 3, text: 'Full sync' },
      {
        kind: 'table',
        header: ['backend', 'services', ...tail],
        rows: full.map(row),
        numeric: [false, true, true, true, true, true, true, false],
      },
    );
  if (partial.length > 0)
    blocks.push(
      { kind: 'heading', level: 3, text: 'Partial syncs' },
      {
        kind: 'table',
        header: ['backend', 'services', 'step', ...tail],
        rows: partial.map(row),
        numeric: [false, true, false, true, true, true, true, true, false],
      },
    );
  return blocks;
}

function programmingLatency(run: RunJson): Block[] {
  if (run.programmingLatency.length === 0) return [];
  const answered = (p: RunJson['programmingLatency'][number]) => p.samples?.filter((x) => x.ms !== null).length;
  return [
    { kind: 'heading', level: 3, text: 'Network-programming latency' },
    {
      kind: 'para',
      text: "From the start of the sync that adds a service to the send time of the first new connection that service answers, probed from a client pod with a new connection every millisecond (overlapping: a SYN to a not yet programmed ClusterIP is dropped, not refused); median and bootstrap 95% CI over the repetitions (--proglat-repeat), beside the same syncs' own time. The rules take effect at the commit of the sync's last transaction, which begins at 'commit step from' (the spawn of nft -f or iptables-restore, or eBPF's map update) and ends at the latest when the sync returns: the latency belongs between the two.",
    },
    {
      kind: 'table',
      header: ['backend', 'services', 'median ms', '95% CI', 'answered', 'commit step from ms', 'sync ms', 'latency / sync', 'note'],
      rows: run.programmingLatency.map((p) => [
        p.backend,
        n(p.services),
        p.ms === null ? 'no answer' : fmt(p.ms),
        p.ci ? `[${fmt(p.ci.low)}, ${fmt(p.ci.high)}]` : '—',
        p.samples ? `${answered(p)} of ${p.samples.length}` : '1',
        p.commitStartMs === undefined ? '—' : fmt(p.commitStartMs),
        p.syncMs === undefined ? '—' : fmt(p.syncMs),
        p.ms === null || p.syncMs === undefined || p.syncMs <= 0 ? '—' : `${(p.ms / p.syncMs).toFixed(2)}×`,
        p.note ?? '',
      ]),
      numeric: [false, true, true, false, true, true, true, true, false],
    },
  ];
}

function syncBench(run: RunJson): Block[] {
  if (run.syncBench.length === 0) return [];
  return [
    { kind: 'heading', level: 3, text: 'Repeated partial sync (tinybench)' },
    {
      kind: 'table',
      header: ['backend', 'services', 'task', 'iterations', 'p50 ms', 'mean ms', 'p99 ms', 'min ms', 'max ms'],
      rows: run.syncBench.map((b) => [
        b.backend,
        n(b.services),
        b.task,
        String(b.samples.length),
        fmt(b.p50),
        fmt(b.mean),
        fmt(b.p99),
        fmt(b.min),
        fmt(b.max),
      ]),
      numeric: [false, true, false, true, true, true, true, true, true],
    },
  ];
}

/** Errored, skipped and aborted cases, one line per backend: how many in which state (and which
 * groups, when not all of them), the reason, and how to fix it (the backend's preflight fix, or the
 * one the cases' reasons carry), as the terminal's table folds them. */
function incomplete(run: RunJson): Block[] {
  const byBackend = new Map<string, RunJson['cases']>();
  for (const c of run.cases) if (c.state !== 'completed') byBackend.set(c.backend, [...(byBackend.get(c.backend) ?? []), c]);
  if (byBackend.size === 0) return [];
  const rows = [...byBackend].map(([backend, cs]) => {
    const all = run.cases.filter((c) => c.backend === backend).length;
    const states = new Map<string, number>();
    for (const c of cs) states.set(c.state, (states.get(c.state) ?? 0) + 1);
    const counted = [...states].map(([st, k]) => `${k} ${st}`).join(', ');
    // A scale point none of whose cases completed is named once ("every case at 200 services").
    const whole = new Set(
      [...new Set(cs.map((c) => c.services))].filter(
        (sv) => cs.filter((c) => c.services === sv).length === run.cases.filter((c) => c.backend === backend && c.services === sv).length,
      ),
    );
    const groups = [
      ...[...whole].map((sv) => `every case at ${n(sv)} services`),
      ...new Set(cs.filter((c) => !whole.has(c.services)).map((c) => `${c.path} ${c.workload} at ${n(c.services)}`)),
    ];
    const which =
      cs.length === all
        ? 'every case'
        : `of ${all}: ${groups.slice(0, 3).join('; ')}${groups.length > 3 ? `; ${groups.length - 3} more` : ''}`;
    const reasons = new Map<string, number>();
    const fixes = new Set<string>();
    for (const c of cs) {
      if (c.state === 'completed') continue;
      const { reason, fix } = splitFix(c.reason);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      if (fix !== undefined) fixes.add(fix);
    }
    const b = run.backends.find((x) => x.name === backend);
    const ranked = [...reasons].sort((x, y) => y[1] - x[1]).map(([r, k]) => (reasons.size > 1 ? `${r} (${k})` : r));
    const reason = `${ranked.slice(0, 2).join('; ')}${ranked.length > 2 ? `; ${ranked.length - 2} other reasons` : ''}`;
    const fix = b?.fix ?? ([...fixes].join('; ') || '—');
    return [backend, `${counted} (${which})`, reason, fix];
  });
  return [
    { kind: 'heading', level: 2, text: 'Cases that did not complete' },
    { kind: 'table', header: ['backend', 'cases', 'reason', 'fix'], rows },
  ];
}

/** A case's reason and the fix it ends with, if any ("… (fix: …)", as skipped cases are told). */
function splitFix(reason: string): { reason: string; fix?: string } {
  const m = /^([\s\S]*?) \(fix: ([\s\S]*)\)$/.exec(reason);
  return m === null ? { reason } : { reason: m[1]!, fix: m[2]! };
}

function warnings(run: RunJson, groups: GroupSummary[]): Block[] {
  const items: string[] = [];
  if (run.environment.where === 'guest')
    items.push(`The cases ran in a guest kernel (${run.environment.kernel}): compare them only with runs on the same kernel.`);
  // The sample-count warning is said once; with adaptive repetitions only some groups may have it.
  const fewGroups = groups.filter((g) => g.metrics.throughput?.summary.warnings.some((w) => w.code === 'few-samples'));
  const few = fewGroups[0]?.metrics.throughput!.summary.warnings.find((w) => w.code === 'few-samples');
  if (few)
    items.push(
      `${fewGroups.length === groups.filter((g) => g.metrics.throughput).length ? 'Every case group' : `${fewGroups.length} case ${fewGroups.length === 1 ? 'group' : 'groups'}`}: ${few.message}.`,
    );
  for (const g of groups) {
    for (const key of ['throughput', 'p50']) {
      const ws = (g.metrics[key]?.summary.warnings ?? []).filter((w) => w.code !== 'few-samples');
      if (ws.length > 0)
        items.push(`${g.backend} ${g.path} ${g.workload} at ${n(g.services)} services, ${key}: ${ws.map((w) => w.message).join('; ')}.`);
    }
  }
  for (const c of run.cases) {
    if (c.state !== 'completed') continue;
    const r = c.result;
    const bad = [
      r.errors && `${r.errors} errors`,
      r.timeouts && `${r.timeouts} timeouts`,
      r.non2xx && `${r.non2xx} non-2xx responses`,
    ].filter(Boolean);
    if (bad.length > 0) items.push(`${c.id}: ${bad.join(', ')} during the measurement.`);
  }
  for (const s of run.syncs) {
    if (s.readBackDifferences.length > 0)
      items.push(
        `${s.backend} ${s.step} sync at ${n(s.services)} services: read-back differs from the rendered rules: ${s.readBackDifferences.slice(0, 3).join('; ')}.`,
      );
  }
  if (items.length === 0) return [];
  return [
    { kind: 'heading', level: 2, text: 'Warnings' },
    { kind: 'list', items },
  ];
}
