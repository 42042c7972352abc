import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../backends/index.js';
import { WORKLOADS } from '../workloads/index.js';
import { runCli } from './cli/program.js';
import { DEFAULT_PATHS, PATH_REGISTRY, PATHS } from './model/paths.js';
import { charts } from './report/charts.js';
import { reportDoc } from './report/content.js';
import { iptablesMode, WORKLOAD_ORDER } from './report/data.js';
import type { RunJson } from './run/results.js';
import { summarizeRun } from './run/summary.js';

// The registries own the names (DESIGN.md §13): help text, report order and the reports' wording
// come from backends/index.ts, workloads/index.ts and src/model/paths.ts. Every assertion here
// walks a registry, so a new backend, workload or path is checked without editing this file.

async function help(command: string): Promise<string> {
  let out = '';
  const io = { out: (t: string) => void (out += t), say: () => undefined };
  const code = await runCli([command, '--help'], {
    io,
    contextFor: () => {
      throw new Error('--help needs no context');
    },
  });
  expect(code).toBe(0);
  return out.replace(/\s+/g, ' ');
}

/** The text of one option's help, up to the next option. */
const option = (text: string, flag: string): string => text.split(` ${flag} <value> `)[1]!.split(/ --[a-z-]+ <value> | --json /)[0]!;

const fixture = (): RunJson =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'report', 'testdata', 'run', 'run.json'), 'utf8')) as RunJson;

describe('help text names what the registries hold', () => {
  it('bench run: every backend, workload and path, the defaults and the workloads own --connections and --rate', async () => {
    const text = await help('run');
    expect(option(text, '--backend')).toContain(BACKENDS.map((b) => b.name).join(', '));
    expect(option(text, '--workload')).toContain(`workloads: ${WORKLOADS.map((w) => w.name).join(', ')}`);
    expect(option(text, '--workload')).toContain(
      `(default: ${JSON.stringify(WORKLOADS.filter((w) => w.byDefault === true).map((w) => w.name))})`,
    );
    expect(option(text, '--path')).toContain(`paths: ${PATHS.join(', ')}`);
    expect(option(text, '--path')).toContain(`(default: ${JSON.stringify(DEFAULT_PATHS)})`);
    const connections = option(text, '--connections');
    for (const w of WORKLOADS)
      if ((w.defaultConnections ?? 1) !== 1) expect(connections).toContain(`${w.name} ${w.defaultConnections}`);
      else expect(connections).not.toMatch(new RegExp(`\\b${w.name} \\d`));
    const rate = option(text, '--rate');
    for (const w of WORKLOADS) expect(rate.includes(`${w.name}`), w.name).toBe(w.paced === true);
  });

  it('bench verify: every backend', async () => {
    expect(option(await help('verify'), '--backend')).toContain(BACKENDS.map((b) => b.name).join(', '));
  });
});

describe('the descriptive fields are true to what the objects do', () => {
  it('a workload is paced exactly when its client takes --rate', () => {
    const params = { hosts: ['10.0.0.1'], port: 1, durationMs: 1000, warmupMs: 0, connections: 1, rate: 100, messageSize: 64 };
    for (const w of WORKLOADS) expect(w.clientArgv(params).includes('--rate'), w.name).toBe(w.paced === true);
  });

  it('exactly one baseline path, and every path has its own growth rank', () => {
    expect(PATH_REGISTRY.filter((p) => 'baseline' in p)).toHaveLength(1);
    expect(new Set(PATH_REGISTRY.map((p) => p.growthRank)).size).toBe(PATH_REGISTRY.length);
  });
});

describe('reports order and word things by the registries', () => {
  // The fixture's tcp-crr cases copied to every registered workload and path, so the reports
  // see every name the registries hold.
  const run = fixture();
  const template = run.cases.filter((c) => c.workload === 'tcp-crr' && c.path === run.cases[0]!.path);
  run.cases = WORKLOADS.flatMap((w) => PATHS.flatMap((path) => template.map((c) => ({ ...c, workload: w.name, path }))));
  const groups = summarizeRun(run);
  const byReportOrder = [...WORKLOADS].sort((a, b) => a.reportOrder - b.reportOrder || a.name.localeCompare(b.name));

  it('workloads in Workload.reportOrder: the order list, the scenario headings and the charts', () => {
    expect(WORKLOAD_ORDER).toEqual(byReportOrder.map((w) => w.name));
    const doc = reportDoc(run, groups, 'T');
    const headed = doc.blocks.flatMap((b) =>
      b.kind === 'heading' && b.level === 3 && / at [\d,]+ services$/.test(b.text) ? [b.text] : [],
    );
    const firstSeen = [...new Set(headed.map((h) => h.split(' at ')[0]!))];
    expect(firstSeen).toEqual(byReportOrder.map((w) => w.name));
    const bars = charts(run, groups).flatMap((c) => (c.name.startsWith('paths-') ? [c.name.slice('paths-'.length)] : []));
    expect(bars).toEqual(byReportOrder.map((w) => w.name));
  });

  it('paths in registry order, in the terminal summary and the charts', () => {
    const one = groups.filter(
      (g) => g.workload === groups[0]!.workload && g.backend === groups[0]!.backend && g.services === groups[0]!.services,
    );
    expect(one.map((g) => g.path)).toEqual(PATHS);
    const latency = charts(run, groups).find((c) => c.name === 'latency-vs-services')!.spec as unknown as {
      facet: { column: { sort: string[] }; row: { sort: string[] } };
      title: { text: string };
    };
    expect(latency.facet.column.sort).toEqual(PATHS);
    // The latency chart: every workload judged by p50, and a title naming the per-connection ones.
    expect(latency.facet.row.sort).toEqual(byReportOrder.filter((w) => w.headline === 'p50').map((w) => w.name));
    for (const w of WORKLOADS)
      expect(latency.title.text.includes(` ${w.name} `) || latency.title.text.includes(` ${w.name};`), w.name).toBe(w.perConnection);
  });

  it('the iptables mode column is filled exactly for backends with an iptables flavour', () => {
    const r = { backends: BACKENDS.map((b) => ({ name: b.name, state: 'ready' as const, options: { iptablesMode: 'legacy' } })) };
    for (const b of BACKENDS) expect(iptablesMode(r as unknown as RunJson, b.name), b.name).toBe(b.iptablesFlavour ? 'legacy' : '');
  });
});

describe('no registered name is written out where the registries are read', () => {
  // Quoted workload and backend names in the modules that consume the registries (reports, CLI
  // commands, run flags, the terminal summary); quoted path names where paths are listed. Comments
  // may name them.
  const root = import.meta.dirname;
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => join(dir, f));
  const quoted = (names: readonly string[]) => new RegExp(`['"](${names.map((n) => n.replace(/[-]/g, '\\-')).join('|')})['"]`);
  const hits = (files: string[], names: readonly string[]) =>
    files.flatMap((f) =>
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => (quoted(names).test(line) && !/^\s*(\/\/|\*|\/\*)/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );

  it('workload and backend names', () => {
    const files = [...sources('report'), ...sources('cli/commands'), ...sources('cli'), 'run/config.ts', 'run/summary.ts'];
    expect(hits(files, [...WORKLOADS.map((w) => w.name), ...BACKENDS.map((b) => b.name)])).toEqual([]);
  });

  it('path names', () => {
    const files = [
      'report/data.ts',
      'report/charts.ts',
      'report/content.ts',
      'report/compare.ts',
      'report/cluster.ts',
      'report/csv.ts',
      'run/config.ts',
      'run/summary.ts',
      'config/scenario.ts',
    ];
    expect(hits(files, PATHS)).toEqual([]);
  });
});
