// Flame graphs of a case group's kernel samples, as Vega specs: Vega's stratify transform builds
// the tree from (id, parent) rows and its partition transform (d3-hierarchy's partition) lays it
// out, so no layout is written here. Widths are CPU ns per operation; a Service path's graph is a
// differential one (B. Gregg, "Differential Flame Graphs", 2014): laid out by the path's own
// profile, each frame coloured by how much more (red) or less (blue) time per operation it takes
// than the same frame in the pod path's profile. Clicking a frame zooms to it in report.html;
// clicking the root zooms out.
import type * as vega from 'vega';

export interface FlameNode {
  id: number;
  parent: number | null;
  name: string;
  /** Self time (ns per operation); the partition sums it into the inclusive width. */
  self: number;
  /** Inclusive ns per operation. */
  total: number;
  /** Inclusive ns per operation minus the baseline's for the same frame path (0 without one). */
  delta: number;
  depth: number;
  /** The attribution group the frame sits under (the first level). */
  group: string;
}

/** A tree of folded stacks ("a;b;c" → weight), merged by frame path, optionally against a
 * baseline's. Stacks below minShare of the total are left out (their time stays in the parent's
 * width as unlabelled self time), which keeps a chart's data to a few hundred rows. */
export function flameTree(stacks: ReadonlyMap<string, number>, baseline?: ReadonlyMap<string, number>, minShare = 0.002): FlameNode[] {
  const inclusive = (m: ReadonlyMap<string, number>) => {
    const out = new Map<string, number>();
    for (const [stack, w] of m) {
      const frames = stack.split(';');
      for (let i = 1; i <= frames.length; i++) {
        const key = frames.slice(0, i).join(';');
        out.set(key, (out.get(key) ?? 0) + w);
      }
    }
    return out;
  };
  const mine = inclusive(stacks);
  const base = baseline === undefined ? undefined : inclusive(baseline);
  const total = [...stacks.values()].reduce((a, b) => a + b, 0);
  const nodes: FlameNode[] = [
    {
      id: 0,
      parent: null,
      name: 'all',
      self: 0,
      total,
      delta: baseline === undefined ? 0 : total - [...baseline.values()].reduce((a, b) => a + b, 0),
      depth: 0,
      group: 'all',
    },
  ];
  const ids = new Map<string, number>([['', 0]]);
  // Sorted keys put every parent before its children and siblings in name order (stable layout).
  for (const key of [...mine.keys()].sort()) {
    const t = mine.get(key)!;
    if (t < minShare * total) continue;
    const cut = key.lastIndexOf(';');
    const parent = ids.get(cut < 0 ? '' : key.slice(0, cut));
    if (parent === undefined) continue;
    const id = nodes.length;
    ids.set(key, id);
    nodes.push({
      id,
      parent,
      name: key.slice(cut + 1),
      self: t,
      total: t,
      delta: base === undefined ? 0 : t - (base.get(key) ?? 0),
      depth: nodes[parent]!.depth + 1,
      group: key.split(';', 1)[0]!,
    });
  }
  // Self time: inclusive minus the kept children's inclusive.
  for (const n of nodes) if (n.parent !== null && n.parent !== 0) nodes[n.parent]!.self -= n.total;
  for (const n of nodes) n.self = Math.max(0, round(n.self));
  for (const n of nodes) [n.total, n.delta] = [round(n.total), round(n.delta)];
  // The root's own self time: the stacks left out for their size (its children are the groups).
  nodes[0]!.self = Math.max(0, round(total - nodes.filter((n) => n.parent === 0).reduce((a, n) => a + n.total, 0)));
  return nodes;
}

const round = (x: number) => Math.round(x * 10) / 10;

const ROW = 15;
const WIDTH = 900;

/** The Vega spec of a flame graph (root at the bottom), `diff`: colour by delta. */
export function flameSpec(title: string, nodes: readonly FlameNode[], diff: boolean): vega.Spec {
  const depth = Math.max(...nodes.map((n) => n.depth)) + 1;
  const height = depth * ROW;
  const maxDelta = Math.max(1, ...nodes.filter((n) => n.depth > 0).map((n) => Math.abs(n.delta)));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    width: WIDTH,
    height,
    padding: 5,
    title: { text: title, anchor: 'start', fontSize: 12 },
    signals: [
      // The zoomed frame: its x0/x1 span the width. Clicking a frame zooms to it; the root resets.
      {
        name: 'zoom',
        value: { x0: 0, x1: WIDTH },
        on: [{ events: 'rect:click', update: 'datum.depth === 0 ? {x0: 0, x1: width} : {x0: datum.x0, x1: datum.x1}' }],
      },
    ],
    data: [
      {
        name: 'tree',
        values: nodes as unknown as vega.Datum[],
        transform: [
          { type: 'stratify', key: 'id', parentKey: 'parent' },
          { type: 'partition', field: 'self', sort: { field: 'name' }, size: [WIDTH, height], padding: 0, round: false },
          { type: 'filter', expr: 'datum.x1 > datum.x0' },
        ],
      },
    ],
    scales: flameScales(diff, maxDelta),
    marks: flameMarks(height, diff),
  };
}

/** The flame graph's x scale (zoomable) and colour scale (by group, or by delta for a diff). */
function flameScales(diff: boolean, maxDelta: number): vega.Scale[] {
  return [
    {
      name: 'x',
      type: 'linear',
      domain: { signal: '[zoom.x0, zoom.x1]' },
      range: [0, WIDTH],
      zero: false,
      clamp: true,
    },
    diff
      ? { name: 'color', type: 'linear', domain: [-maxDelta, 0, maxDelta], range: ['#2166ac', '#f7f7f7', '#b2182b'] }
      : {
          name: 'color',
          type: 'ordinal',
          domain: ['bpf', 'ip_vs', 'nat', 'conntrack', 'netfilter', 'routing', 'stack', 'user', 'other'],
          range: { scheme: 'tableau10' },
        },
  ];
}

/** The frames (rectangles, root at the bottom) and their labels. */
function flameMarks(height: number, diff: boolean): vega.Mark[] {
  return [
    {
      type: 'rect',
      from: { data: 'tree' },
      encode: {
        enter: {
          stroke: { value: 'white' },
          strokeWidth: { value: 0.5 },
          tooltip: {
            signal: diff
              ? "{'frame': datum.name, 'ns per operation': format(datum.total, ',.1f'), 'vs pod path (ns)': format(datum.delta, '+,.1f')}"
              : "{'frame': datum.name, 'ns per operation': format(datum.total, ',.1f')}",
          },
        },
        update: {
          x: { scale: 'x', field: 'x0' },
          x2: { scale: 'x', field: 'x1' },
          // Root at the bottom, as flame graphs draw it.
          y: { signal: `${height} - datum.y1` },
          y2: { signal: `${height} - datum.y0` },
          fill: diff ? { scale: 'color', field: 'delta' } : { scale: 'color', signal: "datum.depth === 0 ? 'other' : datum.group" },
        },
      },
    },
    {
      type: 'text',
      from: { data: 'tree' },
      interactive: false,
      encode: {
        enter: { fontSize: { value: 9 }, baseline: { value: 'middle' }, fill: { value: '#222' } },
        update: {
          x: { scale: 'x', field: 'x0', offset: 2 },
          y: { signal: `${height} - (datum.y0 + datum.y1) / 2` },
          text: { signal: "datum.depth === 0 ? 'all: ' + format(datum.total, ',.0f') + ' ns per operation' : datum.name" },
          limit: { signal: `max(0, scale('x', datum.x1) - scale('x', datum.x0) - 4)` },
          opacity: { signal: "scale('x', datum.x1) - scale('x', datum.x0) > 12 ? 1 : 0" },
        },
      },
    },
  ];
}
