import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { TopLevelSpec } from 'vega-lite';
import type { Block, Chart, ReportDoc } from '../report/doc.js';
import { loadAssets, renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderSvg } from '../report/svg.js';
import { bootstrapCI, compare, growthExponent, median, type Comparison, type GrowthExponent } from '../stats/index.js';
import { exceededText } from '../sync.js';
import type { SyncRun, SyncSample } from './results.js';
import { durationText } from './text.js';
import type { Step } from './states.js';

// The reports of `bench sync`, all derived from sync.json: samples.csv (every sample, one row, its
// phases as columns), report.md and report.html (one content, src/report's renderers), and
// charts/*.svg (Vega-Lite specs drawn headless by src/report/svg.ts). Medians over repetitions
// with bootstrap 95% CIs (src/stats), growth exponents (src/stats/growth.ts), and findings that
// answer from the run's own numbers, "not significant" where the intervals overlap.

export const STEP_ORDER: Step[] = ['full-cold', 'full-restart', 'raw-load', 'add-service', 'add-endpoint', 'remove-service', 'churn'];
export const STEP_LABEL: Record<Step, string> = {
  'full-cold': 'full sync, cold start (empty table)',
  'full-restart': 'full sync, restart (table present)',
  'raw-load': 'raw tool loading the cold payload',
  'add-service': 'add a service',
  'add-endpoint': 'add an endpoint',
  'remove-service': 'remove a service',
  churn: 'churn',
};
const PHASE_ORDER = ['list', 'read-elements', 'render', 'stale-delete', 'apply'];

const commas = (x: number): string => x.toLocaleString('en-US');
const sec = (ms: number): string => {
  const s = ms / 1000;
  return s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toPrecision(2);
};
const withCi = (xs: number[], seed: number): string => {
  const ci = bootstrapCI(xs, { seed });
  return xs.length < 2 ? sec(ci.estimate) : `${sec(ci.estimate)} [${sec(ci.low)}, ${sec(ci.high)}]`;
};
const exponentText = (g: GrowthExponent): string =>
  g.exponent === null
    ? '—'
    : g.low === null
      ? `${g.exponent.toFixed(2)} (no CI: ${g.n} points)`
      : `${g.exponent.toFixed(2)} [${g.low.toFixed(2)}, ${g.high!.toFixed(2)}]${g.superLinear ? ' super-linear' : ''}`;

/** Samples of one series, step and scale point (only complete syncs: one stopped at its budget is
 * not a time of the whole sync). */
function totals(run: SyncRun, variant: string, step: Step, services?: number): SyncSample[] {
  return run.samples.filter(
    (s) => s.variant === variant && s.step === step && !s.exceeded && (services === undefined || s.services === services),
  );
}
const phaseNames = (run: SyncRun): string[] => {
  const seen = new Set(run.samples.flatMap((s) => Object.keys(s.phases)));
  return [...PHASE_ORDER.filter((p) => seen.has(p)), ...[...seen].filter((p) => !PHASE_ORDER.includes(p)).sort()];
};
const servicePoints = (run: SyncRun): number[] => [...new Set(run.points.map((p) => p.services))].sort((a, b) => a - b);
const variantIds = (run: SyncRun): string[] => run.variants.map((v) => v.id);
const stepsRun = (run: SyncRun): Step[] => STEP_ORDER.filter((st) => run.samples.some((s) => s.step === st));

export function growthOf(run: SyncRun, variant: string, step: Step, phase?: string): GrowthExponent | undefined {
  const pts = totals(run, variant, step)
    .map((s) => ({ x: s.services, y: phase === undefined ? s.totalMs : (s.phases[phase] ?? 0) }))
    .filter((p) => p.y > 0);
  return pts.length === 0 ? undefined : growthExponent(pts);
}

function comparison(a: number[], b: number[], seed: number): Comparison | undefined {
  return a.length === 0 || b.length === 0 ? undefined : compare(a, b, { seed });
}

const r3 = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
/** "median ratio [low, high]" of a comparison, three significant digits. */
const ratioCi = (c: Comparison): string => `${r3(c.ratio.estimate)} [${r3(c.ratio.low)}, ${r3(c.ratio.high)}]`;

/** "200× faster (time ratio 0.005 [0.0049, 0.0051])", or "not significantly faster (…)" where the intervals overlap. */
function verdictText(c: Comparison): string {
  return c.verdict === 'not significant'
    ? `not significantly faster (time ratio ${ratioCi(c)})`
    : `${r3(1 / c.ratio.estimate)}× ${c.verdict === 'faster' ? 'faster' : 'slower'} (time ratio ${ratioCi(c)})`;
}

/** With --raw-tool: the full sync against the raw tool loading the same payload. */
function rawToolFinding(run: SyncRun): string | undefined {
  const parts: string[] = [];
  for (const id of variantIds(run)) {
    const at = [...servicePoints(run)]
      .reverse()
      .find((n) => totals(run, id, 'raw-load', n).length > 0 && totals(run, id, 'full-cold', n).length > 0);
    if (at === undefined) continue;
    const cmp = comparison(
      totals(run, id, 'raw-load', at).map((s) => s.totalMs),
      totals(run, id, 'full-cold', at).map((s) => s.totalMs),
      run.seed,
    )!;
    parts.push(
      `${id} at ${commas(at)} services: ${ratioCi(cmp)}${cmp.verdict === 'not significant' ? ' (not significantly different)' : ''}`,
    );
  }
  return parts.length === 0
    ? undefined
    : `**The cold full sync against the raw tool loading the same payload** (time ratio, 95% CI): ${parts.join('; ')}.`;
}

export function findings(run: SyncRun): string[] {
  const out: string[] = [];
  const seed = run.seed;
  const pts = servicePoints(run);
  const ids = variantIds(run);
  const profiled = ids.filter((id) => /^nft \(/.test(id));
  // 1. Which kube-proxy line syncs fastest at the largest scale point where two or more completed.
  for (const step of ['full-cold', 'add-service'] as Step[]) {
    const at = [...pts].reverse().find((n) => profiled.filter((id) => totals(run, id, step, n).length > 0).length >= 2);
    if (at === undefined) continue;
    const ranked = profiled
      .map((id) => ({ id, xs: totals(run, id, step, at).map((s) => s.totalMs) }))
      .filter((r) => r.xs.length > 0)
      .sort((a, b) => median(a.xs) - median(b.xs));
    const best = ranked[0]!;
    const others = ranked.slice(1).map((r) => {
      const c = comparison(r.xs, best.xs, seed)!;
      return `${r.id} ${sec(median(r.xs))} s: ${best.id} is ${verdictText(c)}`;
    });
    const growth = ranked
      .map((r) => {
        const g = growthOf(run, r.id, step);
        return g ? `${r.id} ${exponentText(g)}` : undefined;
      })
      .filter(Boolean);
    out.push(
      `**Which kube-proxy line syncs fastest (${STEP_LABEL[step]}) at ${commas(at)} services:** ${best.id}, median ${sec(median(best.xs))} s. ${others.join('; ')}. Growth exponent of time in services (95% CI): ${growth.join('; ')}.`,
    );
  }
  // 2. How much of a sync is listing.
  const listing: string[] = [];
  const top = pts.at(-1);
  for (const id of ids)
    for (const step of ['add-service', 'full-cold'] as Step[]) {
      const at = [...pts].reverse().find((n) => totals(run, id, step, n).some((s) => s.phases.list !== undefined));
      if (at === undefined) continue;
      const xs = totals(run, id, step, at).filter((s) => s.phases.list !== undefined);
      const share = xs.map((s) => s.phases.list! / s.totalMs);
      const ci = bootstrapCI(share, { seed });
      listing.push(
        `${id}, ${STEP_LABEL[step]} at ${commas(at)} services: listing ${sec(median(xs.map((s) => s.phases.list!)))} s of ${sec(median(xs.map((s) => s.totalMs)))} s, ${(ci.estimate * 100).toFixed(0)}%${share.length >= 2 ? ` [${(ci.low * 100).toFixed(0)}, ${(ci.high * 100).toFixed(0)}]` : ''}`,
      );
    }
  out.push(
    listing.length > 0
      ? `**How much of a sync is listing:** ${listing.join('; ')}.`
      : `**How much of a sync is listing:** no series recorded a listing phase (the backends here report render and apply only)${top === undefined ? '' : ''}.`,
  );
  // 3. What a cold start of a new node costs, against a restart with the table present.
  const cold: string[] = [];
  for (const id of ids) {
    const at = [...pts].reverse().find((n) => totals(run, id, 'full-cold', n).length > 0 && totals(run, id, 'full-restart', n).length > 0);
    if (at === undefined) continue;
    const c = totals(run, id, 'full-cold', at).map((s) => s.totalMs);
    const r = totals(run, id, 'full-restart', at).map((s) => s.totalMs);
    const cmp = comparison(r, c, seed)!;
    cold.push(
      `${id} at ${commas(at)} services: cold start ${withCi(c, seed)} s, restart ${withCi(r, seed)} s; the cold start is ${cmp.verdict === 'not significant' ? `not significantly different (time ratio ${ratioCi(cmp)})` : `${ratioCi(cmp)} times the restart's`}`,
    );
  }
  if (cold.length > 0)
    out.push(
      `**What a cold start of a new node costs** (full sync from an empty table, against a restart with the table present): ${cold.join('; ')}.`,
    );
  const raw = rawToolFinding(run);
  if (raw) out.push(raw);
  return out;
}

/** One log–log chart per step: median time vs services, one line per series, one panel per phase
 * (and the total). */
function stepChart(run: SyncRun, step: Step): Chart | undefined {
  const phases = ['total', ...phaseNames(run)];
  const values: Record<string, unknown>[] = [];
  for (const id of variantIds(run))
    for (const n of servicePoints(run)) {
      const xs = totals(run, id, step, n);
      if (xs.length === 0) continue;
      for (const phase of phases) {
        const ys = xs.map((s) => (phase === 'total' ? s.totalMs : s.phases[phase])).filter((y): y is number => y !== undefined && y > 0);
        if (ys.length === 0) continue;
        values.push({ variant: id, services: n, phase, ms: median(ys), n: ys.length });
      }
    }
  if (values.length === 0) return undefined;
  const domain = variantIds(run);
  const ms = values.map((v) => v.ms as number);
  const lo = Math.floor(Math.log10(Math.min(...ms)));
  const hi = Math.ceil(Math.log10(Math.max(...ms)));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { aria: false, font: 'sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 10, titleFontSize: 11 } },
    title: {
      text: `${STEP_LABEL[step]}: time vs services (medians, log–log)`,
      subtitle: `kernel ${run.environment.kernel} (${run.environment.where}) · run ${run.runId}`,
      anchor: 'start',
    },
    data: { values },
    facet: { column: { field: 'phase', type: 'nominal', sort: phases.filter((p) => values.some((v) => v.phase === p)), title: null } },
    spec: {
      width: 140,
      height: 150,
      params: [{ name: 'variantToggle', select: { type: 'point', fields: ['variant'] }, bind: 'legend' }],
      mark: { type: 'line', point: { filled: true, size: 40 } },
      encoding: {
        x: {
          field: 'services',
          type: 'quantitative',
          scale: { type: 'log' },
          title: 'services',
          axis: { values: servicePoints(run), format: ',' },
        },
        y: {
          field: 'ms',
          type: 'quantitative',
          scale: { type: 'log' },
          title: 'time (ms)',
          axis: { values: Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)), format: ',' },
        },
        color: { field: 'variant', type: 'nominal', title: 'series', scale: { domain } },
        opacity: { condition: { param: 'variantToggle', value: 1 }, value: 0.1 },
        tooltip: [
          { field: 'variant' },
          { field: 'phase' },
          { field: 'services', format: ',' },
          { field: 'ms', title: 'median ms', format: ',.1f' },
          { field: 'n', title: 'repetitions' },
        ],
      },
    },
  };
  return { name: `sync-${step}`, title: `${STEP_LABEL[step]}: time vs services`, spec: spec as unknown as TopLevelSpec };
}

function headerBlocks(run: SyncRun, generatedAt: string, title: string): Block[] {
  const env = run.environment;
  const shape = run.shape
    ? ` (shape: ${Object.entries(run.shape)
        .map(([k, v]) => `${k} ${commas(v)}`)
        .join(', ')})`
    : '';
  return [
    { kind: 'heading', level: 1, text: title },
    {
      kind: 'list',
      items: [
        `state: ${run.state}${run.finishedAt ? `, ${run.startedAt} → ${run.finishedAt}` : ''}; generated ${generatedAt}`,
        `kernel ${env.kernel} (${env.where}), ${env.cpus} × ${env.cpuModel}, ${env.memoryGiB} GiB, Node ${env.node}, svcbench ${env.commit}`,
        `command: bench ${run.argv.join(' ')}; seed ${run.seed}`,
        `services' endpoints: ${run.endpoints}${shape}; one probe service of 3 real pods in every point`,
        `tools: ${
          Object.entries(env.tools)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none recorded'
        }`,
      ],
    },
  ];
}

/** Every step's total, side by side: one row per series and scale point. */
function sideBySide(run: SyncRun): Block[] {
  const steps = stepsRun(run);
  const rows: string[][] = [];
  for (const id of variantIds(run))
    for (const n of servicePoints(run)) {
      const point = run.points.find((p) => p.variant === id && p.services === n);
      if (!point) continue;
      const cells = steps.map((st) => {
        const xs = totals(run, id, st, n).map((s) => s.totalMs);
        const ex = run.samples.find((s) => s.variant === id && s.services === n && s.step === st && s.exceeded);
        return xs.length > 0 ? withCi(xs, run.seed) : ex?.exceeded ? `stopped: ${exceededText(ex.exceeded)}` : '—';
      });
      const size = run.samples.find((s) => s.variant === id && s.services === n && s.step === 'full-cold');
      const reps = new Set(totals(run, id, 'full-cold', n).map((s) => s.repetition)).size;
      rows.push([
        id,
        commas(n),
        point.state === 'completed' ? String(reps) : point.state,
        ...cells,
        size ? `${commas(size.size.count)} ${size.size.unit}` : '—',
      ]);
    }
  return [
    { kind: 'heading', level: 2, text: 'Syncs side by side (seconds: median of repetitions [95% CI])' },
    {
      kind: 'table',
      header: ['series', 'services', 'n', ...steps.map((st) => STEP_LABEL[st]), 'ruleset size'],
      rows,
      numeric: [false, true, true, ...steps.map(() => true), true],
    },
  ];
}

function growthBlocks(run: SyncRun): Block[] {
  const steps = stepsRun(run);
  return [
    { kind: 'heading', level: 2, text: 'Growth exponents (slope of log time on log services over every repetition, 95% CI)' },
    {
      kind: 'para',
      text: 'Super-linear where the whole interval lies above 1.1. Ordinary least squares over every repetition’s point with the t-based interval of the slope (src/stats/growth.ts).',
    },
    {
      kind: 'table',
      header: ['series', ...steps.map((st) => STEP_LABEL[st])],
      rows: variantIds(run).map((id) => [
        id,
        ...steps.map((st) => {
          const g = growthOf(run, id, st);
          return g ? exponentText(g) : '—';
        }),
      ]),
    },
  ];
}

/** Rows of series × scale point × step with a sample, for the phase and memory tables. */
function pointSteps(run: SyncRun): { id: string; n: number; st: Step; xs: SyncSample[] }[] {
  const out: { id: string; n: number; st: Step; xs: SyncSample[] }[] = [];
  for (const id of variantIds(run))
    for (const n of servicePoints(run))
      for (const st of stepsRun(run)) {
        const xs = totals(run, id, st, n);
        if (xs.length > 0) out.push({ id, n, st, xs });
      }
  return out;
}

function phaseBlocks(run: SyncRun): Block[] {
  const phases = phaseNames(run);
  const rows = pointSteps(run).map(({ id, n, st, xs }) => [
    id,
    commas(n),
    STEP_LABEL[st],
    ...phases.map((ph) => {
      const ys = xs.map((s) => s.phases[ph]).filter((y): y is number => y !== undefined);
      return ys.length === 0 ? '—' : sec(median(ys));
    }),
    sec(median(xs.map((s) => s.totalMs))),
  ]);
  return [
    { kind: 'heading', level: 2, text: 'Phases (seconds, medians of repetitions)' },
    {
      kind: 'table',
      header: ['series', 'services', 'step', ...phases, 'total'],
      rows,
      numeric: [false, true, false, ...phases.map(() => true), true],
    },
  ];
}

function memoryBlocks(run: SyncRun): Block[] {
  const keys = [...new Set(run.samples.flatMap((s) => Object.keys(s.memory ?? {})))].sort();
  if (keys.length === 0) return [];
  const rows = pointSteps(run)
    .map(({ id, n, st, xs }) => ({ id, n, st, xs: xs.filter((s) => s.memory) }))
    .filter((r) => r.xs.length > 0)
    .map(({ id, n, st, xs }) => [
      id,
      commas(n),
      STEP_LABEL[st],
      ...keys.map((k) => {
        const ys = xs.map((s) => s.memory![k]).filter((y): y is number => y !== undefined);
        return ys.length === 0 ? '—' : commas(Math.round(median(ys)));
      }),
    ]);
  return [
    { kind: 'heading', level: 2, text: 'Memory (medians of repetitions, as the backend reported it)' },
    { kind: 'table', header: ['series', 'services', 'step', ...keys], rows },
  ];
}

function outcomeBlocks(run: SyncRun): Block[] {
  const blocks: Block[] = [];
  const notDone = run.points.filter((p) => p.state !== 'completed' || p.reason);
  if (notDone.length > 0)
    blocks.push(
      { kind: 'heading', level: 2, text: 'Points not run or not complete' },
      {
        kind: 'list',
        items: notDone.map(
          (p) =>
            `${p.variant} @${commas(p.services)}: ${p.state}${p.predictedMs !== undefined ? `: predicted ${durationText(p.predictedMs)} (${p.model})` : ''}${p.reason ? `: ${p.reason}` : ''}`,
        ),
      },
    );
  const probes = run.probes;
  const failed = probes.filter((p) => !p.pass).map((p) => `${p.variant} @${commas(p.services)} repetition ${p.repetition}: ${p.detail}`);
  blocks.push(
    { kind: 'heading', level: 2, text: 'Probes' },
    {
      kind: 'para',
      text:
        probes.length === 0
          ? 'No probe ran.'
          : `${probes.length - failed.length} of ${probes.length} probes passed (after each repetition's syncs, one new connection to the probe service's ClusterIP answered by one of its pods)${failed.length > 0 ? `; failed: ${failed.join('; ')}` : ''}.`,
    },
  );
  return blocks;
}

export function syncReportDoc(run: SyncRun, generatedAt: string): ReportDoc {
  const title = `svcbench sync ${run.runId}`;
  const found = findings(run);
  const charts = stepsRun(run)
    .map((st) => stepChart(run, st))
    .filter((c): c is Chart => c !== undefined);
  const blocks: Block[] = [
    ...headerBlocks(run, generatedAt, title),
    { kind: 'heading', level: 2, text: 'Findings' },
    found.length > 0 ? { kind: 'list', items: found } : { kind: 'para', text: 'No completed points to draw findings from.' },
    ...sideBySide(run),
    ...growthBlocks(run),
    ...phaseBlocks(run),
    ...memoryBlocks(run),
    { kind: 'heading', level: 2, text: 'Charts' },
    ...charts.map((chart): Block => ({ kind: 'chart', chart })),
    ...outcomeBlocks(run),
  ];
  return { title, blocks, charts };
}

export function samplesCsv(run: SyncRun): string {
  const phases = phaseNames(run);
  const memKeys = [...new Set(run.samples.flatMap((s) => Object.keys(s.memory ?? {})))].sort();
  return stringify([
    [
      'series',
      'backend',
      'services',
      'repetition',
      'step',
      'total_ms',
      ...phases.map((p) => `${p}_ms`),
      'size',
      'unit',
      'commands',
      'outcome',
      ...memKeys,
    ],
    ...run.samples.map((s) => [
      s.variant,
      run.variants.find((v) => v.id === s.variant)?.backend ?? '',
      s.services,
      s.repetition,
      s.step,
      s.totalMs.toFixed(3),
      ...phases.map((p) => (s.phases[p] === undefined ? '' : s.phases[p]!.toFixed(3))),
      s.size.count,
      s.size.unit,
      s.commands,
      s.exceeded ? exceededText(s.exceeded) : 'complete',
      ...memKeys.map((k) => (s.memory?.[k] === undefined ? '' : String(s.memory[k]))),
    ]),
  ]);
}

export async function renderSyncReports(run: SyncRun, generatedAt = new Date().toISOString()): Promise<Map<string, string>> {
  const doc = syncReportDoc(run, generatedAt);
  const files = new Map<string, string>();
  files.set('samples.csv', samplesCsv(run));
  files.set('report.md', renderMarkdown(doc));
  for (const c of doc.charts) files.set(`charts/${c.name}.svg`, await renderSvg(c.spec));
  files.set('report.html', renderHtml(doc, await loadAssets()));
  return files;
}

export async function writeSyncReports(dir: string, run: SyncRun): Promise<string[]> {
  const files = await renderSyncReports(run);
  const charts = join(dir, 'charts');
  await mkdir(charts, { recursive: true });
  for (const f of await readdir(charts)) if (f.endsWith('.svg')) await rm(join(charts, f));
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return [...files.keys()];
}
