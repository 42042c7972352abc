import { exceededText } from '../sync.js';
import type { TopLevelSpec } from 'vega-lite';
import type { RunJson } from '../run/results.js';
import type { GroupSummary } from '../run/summary.js';
import {
  byOrder,
  headlineMetric,
  kernelLabel,
  PATH_ORDER,
  PER_CONNECTION,
  sortedUnique,
  stateText,
  withCommas,
  WORKLOAD_ORDER,
} from './data.js';
import type { Chart } from './doc.js';
import { crossCosts } from './cluster.js';

// Vega-Lite specs of the report's charts (pure: data inline, nothing measured here). The same
// spec is rendered to a static SVG for report.md (svg.ts) and embedded, interactive, in
// report.html: tooltips on hover, and clicking a backend in the legend toggles it (a
// legend-bound point selection, https://vega.github.io/vega-lite/docs/bind.html#legend-binding).

const TOGGLE = 'backendToggle';

/** Every chart colours a backend the same way: one domain, all backends of the run, sorted. */
function colour(run: RunJson) {
  const domain = sortedUnique(run.backends.map((b) => b.name));
  return { field: 'backend', type: 'nominal', title: 'backend', scale: { domain } } as const;
}
const toggleParam = { name: TOGGLE, select: { type: 'point', fields: ['backend'] }, bind: 'legend' } as const;
const toggled = (on: number, off: number) => ({ condition: { param: TOGGLE, value: on }, value: off });

function title(run: RunJson, text: string) {
  return { text, subtitle: `${kernelLabel(run.environment)} · run ${run.runId}`, anchor: 'start' as const };
}

/** A log x axis with ticks at the run's scale points only (fewer grid lines, smaller SVGs). */
function servicesAxis(services: number[]) {
  return {
    field: 'services',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'services',
    axis: { values: sortedUnique(services), format: ',' },
  } as const;
}

/** Log y axis ticks at whole decades covering the data. */
function decades(xs: number[]): number[] {
  const lo = Math.floor(Math.log10(Math.min(...xs)));
  const hi = Math.ceil(Math.log10(Math.max(...xs)));
  return Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
}

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  // Fixed, renderer-independent settings: the SVG must be byte-for-byte reproducible.
  // aria: false drops a per-mark description attribute that tripled the SVGs' size.
  config: { aria: false, font: 'sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 10, titleFontSize: 11 } },
};

/** "a", "a and b", "a, b and c" */
const andList = (xs: readonly string[]): string =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]!}`;

/** What one request of the latency chart is, for the per-connection workloads (Workload.perConnection). */
const perConnectionNote = PER_CONNECTION.length === 0 ? '' : `; for ${andList(PER_CONNECTION)} one request is one connection`;

/** p50 latency vs number of services, per backend (log x), one panel per path and workload;
 * workloads judged by throughput (Workload.headline) are left out. */
export function latencyChart(run: RunJson, groups: GroupSummary[]): Chart | undefined {
  const values = groups.flatMap((g) => {
    const p = g.metrics.p50;
    if (!p || headlineMetric(g.workload).key !== 'p50') return [];
    const { median, ci, n } = p.summary;
    return [{ backend: g.backend, path: g.path, workload: g.workload, services: g.services, median, low: ci.low, high: ci.high, n }];
  });
  if (values.length === 0) return undefined;
  const paths = sortedUnique(values.map((v) => v.path)).sort(byOrder(PATH_ORDER));
  const workloads = sortedUnique(values.map((v) => v.workload)).sort(byOrder(WORKLOAD_ORDER));
  const x = servicesAxis(values.map((v) => v.services));
  const spec = {
    ...base,
    title: title(run, `Latency per request (p50, 95% CI) vs number of services${perConnectionNote}`),
    data: { values },
    facet: {
      column: { field: 'path', type: 'nominal', sort: paths, title: 'path' },
      row: { field: 'workload', type: 'nominal', sort: workloads, title: 'workload' },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 180,
      height: 140,
      layer: [
        {
          params: [toggleParam],
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: { field: 'median', type: 'quantitative', title: 'p50 latency (µs)', scale: { zero: false } },
            color: colour(run),
            opacity: toggled(1, 0.1),
            tooltip: [
              { field: 'backend' },
              { field: 'path' },
              { field: 'workload' },
              { field: 'services', format: ',' },
              { field: 'median', title: 'p50 µs (median of repetitions)', format: ',.1f' },
              { field: 'low', title: '95% CI low', format: ',.1f' },
              { field: 'high', title: '95% CI high', format: ',.1f' },
              { field: 'n', title: 'repetitions' },
            ],
          },
        },
        {
          mark: { type: 'rule' },
          encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color: colour(run), opacity: toggled(1, 0.1) },
        },
      ],
    },
  };
  return { name: 'latency-vs-services', title: 'Latency vs number of services', spec: spec as unknown as TopLevelSpec };
}

const STEP_LABEL: Record<string, string> = {
  full: 'full sync',
  'add-service': 'partial: add a service',
  'add-endpoint': 'partial: add an endpoint',
  'remove-service': 'partial: remove a service',
};
const PROGRAMMING = 'network-programming latency';

/** Sync time vs number of services per backend (log y): full, partial, programming latency. */
export function syncChart(run: RunJson): Chart | undefined {
  const values = [
    ...run.syncs.map((s) => ({
      backend: s.backend,
      services: s.services,
      step: STEP_LABEL[s.step] ?? s.step,
      ms: s.totalMs,
      renderMs: s.renderMs,
      applyMs: s.applyMs,
      outcome: s.exceeded ? exceededText(s.exceeded) : 'complete',
    })),
    ...run.programmingLatency.flatMap((p) =>
      p.ms === null
        ? []
        : [
            {
              backend: p.backend,
              services: p.services,
              step: PROGRAMMING,
              ms: p.ms,
              renderMs: null,
              applyMs: null,
              outcome: p.note ?? 'complete',
            },
          ],
    ),
  ].filter((v) => v.ms > 0);
  if (values.length === 0) return undefined;
  const steps = [...Object.values(STEP_LABEL), PROGRAMMING].filter((s) => values.some((v) => v.step === s));
  const spec = {
    ...base,
    title: title(run, 'Sync time vs number of services (one measurement per point, log scale)'),
    data: { values },
    facet: { column: { field: 'step', type: 'nominal', sort: steps, title: null } },
    spec: {
      width: 150,
      height: 160,
      params: [toggleParam],
      mark: { type: 'line', point: { filled: true, size: 50 } },
      encoding: {
        x: servicesAxis(values.map((v) => v.services)),
        y: {
          field: 'ms',
          type: 'quantitative',
          scale: { type: 'log' },
          title: 'time (ms)',
          axis: { values: decades(values.map((v) => v.ms)), format: ',' },
        },
        color: colour(run),
        opacity: toggled(1, 0.1),
        tooltip: [
          { field: 'backend' },
          { field: 'step' },
          { field: 'services', format: ',' },
          { field: 'ms', title: 'total ms', format: ',.1f' },
          { field: 'renderMs', title: 'render ms', format: ',.1f' },
          { field: 'applyMs', title: 'apply ms', format: ',.1f' },
          { field: 'outcome' },
        ],
      },
    },
  };
  return { name: 'sync-vs-services', title: 'Sync time vs number of services', spec: spec as unknown as TopLevelSpec };
}

/** Per workload: throughput per path, one bar per backend with its 95% CI; cases that did not
 * complete are labelled with their state where their bar would be. */
export function pathBarsChart(run: RunJson, groups: GroupSummary[], workload: string): Chart | undefined {
  const mine = groups.filter((g) => g.workload === workload);
  if (mine.length === 0) return undefined;
  const values = mine.map((g) => {
    const t = g.metrics.throughput?.summary;
    return {
      backend: g.backend,
      path: g.path,
      services: `${withCommas(g.services)} services`,
      median: t?.median ?? null,
      low: t?.ci.low ?? null,
      high: t?.ci.high ?? null,
      n: t?.n ?? 0,
      state: stateText(g),
      zero: 0,
    };
  });
  const paths = sortedUnique(values.map((v) => v.path)).sort(byOrder(PATH_ORDER));
  const servicesSort = sortedUnique(mine.map((g) => g.services)).map((s) => `${withCommas(s)} services`);
  const x = { field: 'path', type: 'nominal', sort: paths, title: 'path', axis: { labelAngle: 0 } } as const;
  const xOffset = { field: 'backend', type: 'nominal', scale: { domain: colour(run).scale.domain } } as const;
  const measured = { filter: 'datum.median != null' };
  const spec = {
    ...base,
    title: title(run, `${workload}: throughput per path (median of repetitions, 95% CI)`),
    data: { values },
    facet: { column: { field: 'services', type: 'nominal', sort: servicesSort, title: null } },
    spec: {
      width: 60 + 55 * paths.length,
      height: 170,
      layer: [
        {
          params: [toggleParam],
          transform: [measured],
          mark: { type: 'bar' },
          encoding: {
            x,
            xOffset,
            y: { field: 'median', type: 'quantitative', title: 'operations/s' },
            color: colour(run),
            opacity: toggled(1, 0.15),
            tooltip: [
              { field: 'backend' },
              { field: 'path' },
              { field: 'services' },
              { field: 'median', title: 'ops/s (median)', format: ',.0f' },
              { field: 'low', title: '95% CI low', format: ',.0f' },
              { field: 'high', title: '95% CI high', format: ',.0f' },
              { field: 'n', title: 'repetitions' },
              { field: 'state' },
            ],
          },
        },
        {
          transform: [measured],
          mark: { type: 'rule', color: 'black' },
          encoding: { x, xOffset, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
        },
        {
          transform: [{ filter: 'datum.median == null' }],
          mark: { type: 'text', angle: 270, align: 'left', baseline: 'middle', dx: 3, fontSize: 9, color: '#b00' },
          encoding: {
            x,
            xOffset,
            y: { field: 'zero', type: 'quantitative' },
            text: { field: 'state' },
            tooltip: [{ field: 'backend' }, { field: 'state' }],
          },
        },
      ],
    },
  };
  return { name: `paths-${workload}`, title: `${workload}: throughput per path`, spec: spec as unknown as TopLevelSpec };
}

/** The cross-node chart's points: one per backend, pair of paths, scenario and metric. */
function crossValues(run: RunJson, groups: GroupSummary[]) {
  return crossCosts(run, groups).flatMap((x) =>
    x.ratios.flatMap(({ metric, c, paired }) =>
      c === undefined
        ? []
        : [
            {
              backend: x.backend,
              pair: `${x.path} / ${x.against}`,
              scenario: `${x.workload} at ${withCommas(x.services)}`,
              metric: `${metric.label} ratio`,
              ratio: c.ratio.estimate,
              low: c.ratio.low,
              high: c.ratio.high,
              // The log axis cannot show 0: a bound below 1/100 is drawn at 1/100 (tooltips keep it).
              lowShown: Math.max(c.ratio.low, 0.01),
              highShown: Math.max(c.ratio.high, 0.01),
              kind: paired ? 'paired blocks' : 'ratio of medians',
              verdict: c.verdict,
            },
          ],
    ),
  );
}

/** Cross-node against same-node (cluster.ts crossCosts): per metric, each pair's ratio per backend
 * with its 95% CI, a rule at 1 (no difference). */
export function crossChart(run: RunJson, groups: GroupSummary[]): Chart | undefined {
  const values = crossValues(run, groups);
  if (values.length === 0) return undefined;
  const pairs = [...new Set(values.map((v) => v.pair))];
  const metrics = [...new Set(values.map((v) => v.metric))];
  const ys = values.flatMap((v) => [v.lowShown, v.highShown, v.ratio, 0.5, 2]);
  const x = {
    field: 'pair',
    type: 'nominal',
    sort: pairs,
    title: 'cross-node path / same-node path',
    axis: { labelAngle: 0, labelLimit: 0 },
  } as const;
  const xOffset = { field: 'backend', type: 'nominal', scale: { domain: colour(run).scale.domain } } as const;
  const spec = {
    ...base,
    title: title(run, 'Cross-node against same-node: ratio with 95% CI (1 = no difference)'),
    data: { values },
    facet: {
      column: { field: 'metric', type: 'nominal', sort: metrics, title: null },
      row: { field: 'scenario', type: 'nominal', title: null },
    },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 40 + 190 * pairs.length,
      height: 160,
      layer: [
        {
          params: [toggleParam],
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x,
            xOffset,
            y: {
              field: 'ratio',
              type: 'quantitative',
              title: 'cross / same (log)',
              scale: { type: 'log', domain: [Math.min(...ys), Math.max(...ys)], nice: false },
              axis: { values: decades(ys), format: '~g' },
            },
            color: colour(run),
            opacity: toggled(1, 0.15),
            tooltip: [
              { field: 'backend' },
              { field: 'pair' },
              { field: 'scenario' },
              { field: 'metric' },
              { field: 'ratio', format: '.3f' },
              { field: 'low', title: '95% CI low', format: '.3f' },
              { field: 'high', title: '95% CI high', format: '.3f' },
              { field: 'kind' },
              { field: 'verdict' },
            ],
          },
        },
        {
          mark: { type: 'rule' },
          encoding: {
            x,
            xOffset,
            y: { field: 'lowShown', type: 'quantitative' },
            y2: { field: 'highShown' },
            color: colour(run),
            opacity: toggled(1, 0.15),
          },
        },
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { datum: 1 } } },
      ],
    },
  };
  return { name: 'cross-node', title: 'Cross-node against same-node', spec: spec as unknown as TopLevelSpec };
}

/** Every chart of a run, in report order. */
export function charts(run: RunJson, groups: GroupSummary[]): Chart[] {
  const workloads = sortedUnique(groups.map((g) => g.workload)).sort(byOrder(WORKLOAD_ORDER));
  return [
    latencyChart(run, groups),
    syncChart(run),
    ...workloads.map((w) => pathBarsChart(run, groups, w)),
    crossChart(run, groups),
  ].filter((c): c is Chart => c !== undefined);
}
