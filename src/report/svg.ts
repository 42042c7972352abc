import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

// Headless rendering: Vega-Lite → Vega → a View with no renderer → SVG text. Without a canvas
// package Vega estimates text widths from font size, so the output depends only on the spec
// (byte-for-byte reproducible; tested in report.test.ts).

const compiled = new WeakMap<TopLevelSpec | vega.Spec, vega.Spec>();

/** A Vega spec already (its $schema is Vega's), not Vega-Lite. */
const isVega = (spec: TopLevelSpec | vega.Spec): spec is vega.Spec =>
  typeof spec.$schema === 'string' && spec.$schema.includes('/schema/vega/');

/** Compiled once per spec: the SVG (renderSvg) and report.html (renderHtml) draw the same one. */
export function toVega(spec: TopLevelSpec | vega.Spec): vega.Spec {
  if (isVega(spec)) return spec;
  let v = compiled.get(spec);
  if (v === undefined) compiled.set(spec, (v = compile(spec).spec));
  return v;
}

export async function renderSvg(spec: TopLevelSpec | vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(toVega(spec)), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}
