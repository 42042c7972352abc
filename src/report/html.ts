import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Block, ReportDoc } from './doc.js';
import { toVega } from './svg.js';

// report.html: one self-contained file (no network needed to open it). The Vega-Lite specs are
// compiled to Vega here, with the same compiler that drew the SVGs, and drawn in the browser by
// the vega and vega-embed browser builds inlined from node_modules: vega-embed adds hover
// tooltips (vega-tooltip) and the export menu; the legend toggles backends. The Vega-Lite
// browser build (250 kB) is not needed once the specs are compiled, so it is left out, and the
// two builds are inlined gzipped (base64) and unpacked by the browser's DecompressionStream:
// 770 kB of script become 270 kB, which keeps a report (and results/example) small.

export interface HtmlAssets {
  /** base64 of the gzipped vega.min.js and vega-embed.min.js. */
  vega: string;
  vegaEmbed: string;
}

/** gzip is deterministic for the same input (Node writes mtime 0 into the header). */
const packed = (js: string) => gzipSync(js, { level: 9 }).toString('base64');

/** The directory of an installed package (its exports map hides build/ from require.resolve). */
function packageDir(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  while (basename(dir) !== name && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

let assets: Promise<HtmlAssets> | undefined;

/** Read and packed once per process. */
export function loadAssets(): Promise<HtmlAssets> {
  assets ??= readAssets();
  return assets;
}

async function readAssets(): Promise<HtmlAssets> {
  const [vega, vegaEmbed] = await Promise.all([
    readFile(join(packageDir('vega'), 'build', 'vega.min.js'), 'utf8'),
    readFile(join(packageDir('vega-embed'), 'build', 'vega-embed.min.js'), 'utf8'),
  ]);
  return { vega: packed(vega), vegaEmbed: packed(vegaEmbed) };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Inline script text must not contain "</script" (HTML ends the element there); "<\/" is the
 * same string to JavaScript. */
const inlineScript = (js: string) => `<script>${js.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
/** JSON in a script element: escaping "<" keeps it inert HTML-wise and identical as JSON. */
const inlineJson = (id: string, value: unknown) =>
  `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': {
      const id = b.text
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
      return `<h${b.level} id="${id}">${esc(b.text)}</h${b.level}>`;
    }
    case 'para':
      return `<p>${esc(b.text)}</p>`;
    case 'list':
      return `<ul>\n${b.items.map((i) => `<li>${esc(i)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const cls = (i: number) => (b.numeric?.[i] ? ' class="num"' : '');
      const head = b.header.every((h) => h === '')
        ? ''
        : `<thead><tr>${b.header.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`;
      const rows = b.rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
      return `<div class="table"><table>${head}<tbody>\n${rows}\n</tbody></table></div>`;
    }
    case 'chart':
      return `<figure><div class="chart" id="chart-${b.chart.name}" role="img" aria-label="${esc(b.chart.title)}"></div><figcaption>${HINT}</figcaption></figure>`;
  }
}

// Vega-Lite point selections bound to the legend: a click on an entry selects that backend,
// shift-click adds or removes one (tested in test/e2e/report.test.ts).
const HINT = 'Hover a mark for its values; click a backend in the legend to highlight it, shift-click to add or remove one.';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #222; }
main { max-width: 1200px; margin: 0 auto; padding: 1em 2em 4em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.4em; }
.table { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; overflow-x: auto; } figcaption { color: #666; font-size: 12px; }
`;

const EMBED = `(async function () {
  // Unpacks an inlined gzipped script and runs it in the global scope (its UMD wrapper then
  // defines window.vega / window.vegaEmbed).
  async function load(id) {
    var b = atob(document.getElementById(id).textContent.trim());
    var bytes = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) bytes[i] = b.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    (0, eval)((await new Response(stream).text()) + '\\n//# sourceURL=' + id + '.js');
  }
  await load('vega-js');
  await load('vega-embed-js');
  var specs = JSON.parse(document.getElementById('svcbench-specs').textContent);
  var names = Object.keys(specs);
  var opts = { mode: 'vega', renderer: 'svg', actions: { export: true, source: true, compiled: false, editor: false } };
  Promise.all(names.map(function (name) { return vegaEmbed('#chart-' + name, specs[name], opts); })).then(
    function () { document.body.setAttribute('data-charts', 'rendered'); },
    function (e) { document.body.setAttribute('data-charts', 'failed'); console.error(e); }
  );
})();`;

export function renderHtml(doc: ReportDoc, assets: HtmlAssets): string {
  const specs = Object.fromEntries(doc.charts.map((c) => [c.name, toVega(c.spec)]));
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(doc.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...doc.blocks.map(block),
    '</main>',
    `<script type="application/gzip;base64" id="vega-js">${assets.vega}</script>`,
    `<script type="application/gzip;base64" id="vega-embed-js">${assets.vegaEmbed}</script>`,
    inlineJson('svcbench-specs', specs),
    inlineScript(EMBED),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
