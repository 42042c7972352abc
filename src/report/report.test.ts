import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSchema, type RunJson } from '../run/results.js';
import { summarizeRun } from '../run/summary.js';
import { summaryCsv } from './csv.js';
import { renderHtml } from './html.js';
import { reportDoc } from './content.js';
import { findings } from './findings.js';
import { renderReports } from './write.js';

// The fixture (testdata/run) is a real run made here: `bench run --backend iptables,nft,ipvs
// --services 50,200 --workload tcp-crr,http --repeat 2 --duration 0.5 --warmup 0.2
// --sync-timeout 8 --sync-iterations 3`: iptables errored at 200 services (over its sync
// budget), ipvs skipped (not in this kernel).

const load = (dir: string): RunJson =>
  runSchema.parse(JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', dir, 'run.json'), 'utf8')));
const T1 = '2026-01-02T03:04:05.000Z';
const T2 = '2027-06-07T08:09:10.000Z';

let run: RunJson;
let files: Map<string, string>;

beforeAll(async () => {
  run = load('run');
  files = (await renderReports(run, { generatedAt: T1 })).files;
}, 60_000);

describe('reports are reproducible from run.json', () => {
  it('renders the same bytes twice', async () => {
    const again = (await renderReports(load('run'), { generatedAt: T1 })).files;
    expect([...again.keys()]).toEqual([...files.keys()]);
    for (const [name, text] of files) expect(again.get(name) === text, name).toBe(true);
  });

  it('differs only by the generation timestamp, in report.md and report.html', async () => {
    const later = (await renderReports(run, { generatedAt: T2 })).files;
    for (const [name, text] of files) {
      const other = later.get(name)!;
      if (name === 'report.md' || name === 'report.html') {
        expect(other).not.toBe(text);
        expect(other.split(T2).join(T1)).toBe(text);
      } else expect(other === text, name).toBe(true);
    }
  });

  it('writes every file', () => {
    expect([...files.keys()].sort()).toEqual([
      'charts/latency-vs-services.svg',
      'charts/paths-http.svg',
      'charts/paths-tcp-crr.svg',
      'charts/sync-vs-services.svg',
      'report.html',
      'report.md',
      'summary.csv',
      'syncs.csv',
    ]);
  });

  it('matches the snapshots', async () => {
    for (const [name, text] of files) {
      if (name === 'report.html') continue;
      await expect(text).toMatchFileSnapshot(`__snapshots__/fixture/${name}`);
    }
    // The HTML without the inlined libraries (their bytes are node_modules').
    const html = renderHtml(reportDoc(run, summarizeRun(run), T1), { vega: 'VEGA', vegaEmbed: 'VEGA-EMBED' });
    await expect(html).toMatchFileSnapshot('__snapshots__/fixture/report.html');
  });
});

describe('errored and skipped cases appear as such in every report', () => {
  it('in summary.csv, with state and reason', () => {
    const csv = files.get('summary.csv')!;
    expect(csv).toMatch(/^iptables,nft,pod,tcp-crr,200,3,last,,,,,,,,,,0,errored 2\/2,full sync of 200 services exceeded its 8 s budget/m);
    expect(csv).toMatch(/^ipvs,nft,clusterip,http,50,3,last,,,,,,,,,,0,skipped 2\/2,"unavailable: CONFIG_IP_VS is not set;/m);
  });

  it('in report.md: scenario tables and the list of cases that did not complete', () => {
    const md = files.get('report.md')!;
    expect(md).toMatch(/\| iptables \| clusterip \| 0 \| errored 2\/2: full sync of 200 services exceeded its 8 s budget/);
    expect(md).toMatch(/\| ipvs \| nodeport \| 0 \| skipped 2\/2: unavailable: CONFIG_IP_VS is not set/);
    // One line per backend (state, reason, fix), however many cases.
    expect(md).toMatch(
      /## Cases that did not complete\n\n\| backend \| cases \| reason \| fix \|\n\| --- \| --- \| --- \| --- \|\n\| ipvs \| [^\n]*\n\| iptables \| [^\n]*\n\n/,
    );
    expect(md).toMatch(
      /\| iptables \| 12 errored \(of 24: every case at 200 services\) \| full sync of 200 services exceeded its 8 s budget after 206 of 3059 commands \(--sync-timeout\) \| — \|/,
    );
    expect(md).toMatch(
      /\| ipvs \| 24 skipped \(every case\) \| unavailable: CONFIG_IP_VS is not set; [^|]* \| a kernel built with CONFIG_IP_VS, /,
    );
  });

  it('in the per-path charts, labelled where the bar would be', () => {
    const svg = files.get('charts/paths-tcp-crr.svg')!;
    expect(svg).toMatch(/>errored 2\/2</);
    expect(svg).toMatch(/>skipped 2\/2</);
  });

  it('in report.html', () => {
    const html = files.get('report.html')!;
    expect(html).toMatch(/<td>12 errored \(of 24: every case at 200 services\)<\/td><td>full sync of 200 services exceeded/);
    expect(html).toMatch(/<td>24 skipped \(every case\)<\/td><td>unavailable: CONFIG_IP_VS/);
  });

  it('every report names the kernel', () => {
    for (const name of ['report.md', 'report.html', 'charts/latency-vs-services.svg', 'charts/sync-vs-services.svg'])
      expect(files.get(name), name).toContain('kernel 6.18.44-fc-v595 (host kernel)');
  });
});

describe('a run stopped part-way', () => {
  it('renders what it has, says it stopped, and shows aborted cases as such', async () => {
    const r = structuredClone(run);
    r.state = 'aborted';
    delete r.finishedAt;
    const last = r.cases.findLast((c) => c.state === 'completed')!;
    r.cases = r.cases.slice(0, r.cases.indexOf(last) + 1);
    r.cases.push({
      ...last,
      repetition: 3,
      id: `${last.id}-3`,
      state: 'aborted',
      reason: 'interrupted by SIGINT',
    } as RunJson['cases'][number]);
    const out = (await renderReports(r, { generatedAt: T1 })).files;
    const md = out.get('report.md')!;
    expect(md).toContain(`This run was interrupted: this report shows only the cases recorded before it stopped (${r.cases.length}).`);
    expect(md).toMatch(
      new RegExp(
        `\\| ${last.backend} \\| 1 aborted \\(of \\d+: ${last.path} ${last.workload} at ${last.services}\\) \\| interrupted by SIGINT \\|`,
      ),
    );
    expect(out.get('summary.csv')).toMatch(
      new RegExp(
        `^${last.backend},.*,${last.path},${last.workload},${last.services},.*,"completed 2/3, aborted 1/3",interrupted by SIGINT$`,
        'm',
      ),
    );
    expect(out.get('report.html')).toMatch(/<td>1 aborted \(of \d+: [^<]*\)<\/td><td>interrupted by SIGINT<\/td>/);
  });
});

describe('summary.csv', () => {
  it('quotes fields with commas, quotes and newlines (RFC 4180)', () => {
    const r = structuredClone(run);
    const c = r.cases.find((x) => x.state === 'errored')!;
    if (c.state === 'errored') c.reason = 'said "no", then\nstopped';
    for (const x of r.cases)
      if (x.backend === c.backend && x.services === c.services && x.path === c.path && x.workload === c.workload && x.state === 'errored')
        x.reason = c.reason;
    expect(summaryCsv(r, summarizeRun(r))).toContain(',"said ""no"", then\nstopped"\n');
  });

  it('has one row per case group and metric, with the ratio to the pod baseline', () => {
    const rows = files.get('summary.csv')!.trimEnd().split('\n');
    expect(rows[0]).toBe(
      'backend,iptables_mode,path,workload,services,endpoints,target,metric,unit,median,ci_low,ci_high,ratio_to_pod,ratio_ci_low,ratio_ci_high,vs_pod,n,state,reason',
    );
    // nft at 200 services, tcp-crr over ClusterIP: p50 1.67× the pod IP's, CIs apart.
    expect(rows).toContain('nft,,clusterip,tcp-crr,200,3,last,p50,µs,554.5,528,581,1.66517,1.51289,1.83281,slower,2,completed,');
  });
});

describe('findings', () => {
  it('says "not significant" where the CIs overlap and quantifies where they do not', () => {
    const f = findings(run, summarizeRun(run));
    expect(f.map((x) => x.question)).toEqual([
      'Is ClusterIP slower than going straight to the pod IPs, and by how much?',
      'Is NodePort slower than ClusterIP?',
      "How does each backend's per-connection cost grow with the number of services?",
      'What does a full and a partial sync cost per backend?',
    ]);
    const clusterip = f[0]!.answers.join('\n');
    expect(clusterip).toMatch(
      /^nft: clusterip over pod, tcp-crr latency p50: .*1\.67× \[1\.51, 1\.83\], \+67%: significantly worse at 200 services/m,
    );
    expect(clusterip).toMatch(/^ipvs: not measured \(skipped 2\/2: unavailable: CONFIG_IP_VS is not set/m);
    expect(clusterip).toMatch(
      /^iptables: clusterip over pod, tcp-crr latency p50: 1\.39× \[0\.73, 2\.46\], \+39%: not significant at 50 services/m,
    );
    expect(clusterip).toMatch(/not measured at 200 services \(errored 2\/2: full sync of 200 services exceeded its 8 s budget/);
    const sync = f[3]!.answers.join('\n');
    expect(sync).toMatch(/^iptables at 200 services: the full sync stopped at its 8 s budget after 206 of 3,059 commands\./m);
    expect(sync).toMatch(/^nft at 50 services: full sync \d+(\.\d+)? ms \(render/m);
  });

  it('says what is missing when a path was not measured and the other did not complete', () => {
    // iptables at 200 services: nodeport errored and clusterip left out of the run.
    const r = structuredClone(run);
    r.cases = r.cases.filter((c) => !(c.backend === 'iptables' && c.services === 200 && c.path === 'clusterip'));
    const nodeport = findings(r, summarizeRun(r))[1]!.answers.join('\n');
    expect(nodeport).toMatch(/^iptables: nodeport over clusterip, .*clusterip was not measured in this run at 200 services/m);
  });
});

describe('environment table', () => {
  const repetitionsRow = (flags: Record<string, unknown>) => {
    const doc = reportDoc({ ...run, flags: { ...run.flags, ...flags } }, summarizeRun(run), T1);
    const rows = doc.blocks.flatMap((b) => (b.kind === 'table' ? b.rows : []));
    return rows.find((r) => r[0]!.startsWith('repetitions'))![1];
  };

  it('says what adds repetitions: the CI target, n < 6 and the time budget (older runs: the target only)', () => {
    const adaptive = { repeat: 3, maxRepeat: 10, ciTarget: 5 };
    expect(repetitionsRow({ ...adaptive, timeBudget: 180 })).toMatch(
      /^3 to 10 \(more while the throughput CI is wider than ±5% or n < 6, within a 180 s time budget\) × /,
    );
    expect(repetitionsRow({ ...adaptive, timeBudget: 0 })).toMatch(
      /^3 to 10 \(more while the throughput CI is wider than ±5% or n < 6\) × /,
    );
    expect(repetitionsRow({ ...adaptive, timeBudget: undefined })).toMatch(
      /^3 to 10 \(more while the throughput CI is wider than ±5%\) × /,
    );
  });

  it('says where placed workloads ran (src/run/pin.ts); runs before the split placement only name the shared CPU', () => {
    const cpuRow = (environment: Partial<RunJson['environment']>, workloads: string[]) => {
      const cases = workloads.map((w, i) => ({ ...run.cases[0]!, id: `c${i}`, workload: w }));
      const doc = reportDoc({ ...run, cases, environment: { ...run.environment, ...environment } }, [], T1);
      return doc.blocks.flatMap((b) => (b.kind === 'table' ? b.rows : [])).find((r) => r[0] === 'CPU')![1];
    };
    const placed = { sharedCpu: 1, loadGeneratorCpu: 0, serverCpus: '1' };
    expect(cpuRow(placed, ['tcp-rr', 'http', 'tcp-crr'])).toMatch(
      /CPUs; tcp-rr client and servers on CPU 1; http client on CPU 0, its servers on CPU 1$/,
    );
    expect(cpuRow(placed, ['tcp-crr'])).toMatch(/ CPUs$/);
    expect(cpuRow({ sharedCpu: 1, loadGeneratorCpu: undefined, serverCpus: undefined }, ['udp-rr', 'http'])).toMatch(
      /CPUs; udp-rr client and servers on CPU 1$/,
    );
  });
});
