import type * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';

// The report as a list of blocks, built once from run.json (content.ts) and rendered twice: as
// markdown (markdown.ts) and as HTML (html.ts). One content builder keeps the two reports saying
// the same thing.

export interface Chart {
  /** File stem and element id: charts/<name>.svg, #chart-<name>. */
  name: string;
  title: string;
  /** A Vega-Lite spec, or a Vega spec (its $schema names vega, not vega-lite) where Vega-Lite has
   * no such layout (the flame graphs' partition). */
  spec: TopLevelSpec | vega.Spec;
}

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'para'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; header: string[]; rows: string[][]; numeric?: boolean[] }
  | { kind: 'chart'; chart: Chart };

export interface ReportDoc {
  title: string;
  blocks: Block[];
  charts: Chart[];
}
