import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRun, type RunJson } from '../run/results.js';
import { summarizeRun } from '../run/summary.js';
import { reportDoc } from './content.js';
import { pathsCsv, summaryCsv, syncsCsv } from './csv.js';
import { crossCosts, hasEvidence } from './cluster.js';
import { loadAssets, renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderSvg } from './svg.js';

// Renders every report of a run into its directory: summary.csv, syncs.csv, paths.csv, report.md,
// charts/*.svg and report.html. Everything comes from run.json; the only thing not derived from
// it is the generation timestamp written into report.md and report.html.

export interface Rendered {
  /** File name (relative to the run directory) → content. */
  files: Map<string, string>;
}

export async function renderReports(run: RunJson, opts: { generatedAt?: string } = {}): Promise<Rendered> {
  const generatedAt = opts.generatedAt ?? new Date().toISOString();
  const groups = summarizeRun(run);
  const doc = reportDoc(run, groups, generatedAt);
  const files = new Map<string, string>();
  files.set('summary.csv', summaryCsv(run, groups));
  files.set('syncs.csv', syncsCsv(run));
  // Only runs whose servers reported what they saw (or with a cross-node pair) have paths.csv.
  if (hasEvidence(run) || crossCosts(run, groups).length > 0) files.set('paths.csv', pathsCsv(run, groups));
  files.set('report.md', renderMarkdown(doc));
  for (const c of doc.charts) files.set(`charts/${c.name}.svg`, await renderSvg(c.spec));
  files.set('report.html', renderHtml(doc, await loadAssets()));
  return { files };
}

/** Writes the reports of the run in `dir` (from its run.json, or the given run); returns the
 * files written. Stale charts of an earlier rendering are removed first. */
export async function writeReports(dir: string, run?: RunJson, opts: { generatedAt?: string } = {}): Promise<string[]> {
  const { files } = await renderReports(run ?? (await readRun(dir)), opts);
  const charts = join(dir, 'charts');
  await mkdir(charts, { recursive: true });
  for (const f of await readdir(charts)) if (f.endsWith('.svg')) await rm(join(charts, f));
  for (const [name, text] of files) await writeFile(join(dir, name), text);
  return [...files.keys()];
}
