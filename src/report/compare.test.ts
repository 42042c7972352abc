import { cpSync, mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/program.js';
import { FakeExec, RealExec } from '../exec/index.js';
import { runSchema, type RunJson } from '../run/results.js';
import { compareRuns } from './compare.js';

// testdata/regressed is testdata/run with one injected regression: nft, 200 services, ClusterIP,
// tcp-crr: every latency figure doubled and the operation count halved (see testdata/README.md).

const RUN = join(import.meta.dirname, 'testdata', 'run');
const REGRESSED = join(import.meta.dirname, 'testdata', 'regressed');
const load = (dir: string): RunJson => runSchema.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));

/** The CLI against the fake exec (runs and changes nothing), or with `real` the real one (bench
 * report writes its files through it; it runs no command). */
async function cli(argv: string[], real = false) {
  let stdout = '';
  const stderr: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const code = await runCli(argv, { io, contextFor: () => ({ exec: real ? new RealExec() : new FakeExec(), ...io }) });
  return { code, stdout, stderr: stderr.join('\n') };
}

const tmp = mkdtempSync(join(tmpdir(), 'svcbench-compare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('compareRuns', () => {
  it('a run against itself: no significant change', () => {
    const r = compareRuns(load(RUN), load(RUN), { failOnRegressionPct: 0 });
    expect(r.counts).toEqual({ regressions: 0, improvements: 0, notSignificant: expect.any(Number), failing: 0 });
    expect(r.counts.notSignificant).toBeGreaterThan(50);
    expect(r.comparable).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  it('finds the injected regression, and only there', () => {
    const r = compareRuns(load(RUN), load(REGRESSED), { failOnRegressionPct: 20 });
    const significant = r.changes.filter((c) => c.verdict === 'regression' || c.verdict === 'improvement');
    expect(new Set(significant.map((c) => `${c.backend}/${c.services}/${c.path}/${c.workload}`))).toEqual(
      new Set(['nft/200/clusterip/tcp-crr']),
    );
    const p50 = r.changes.find(
      (c) => c.backend === 'nft' && c.services === 200 && c.path === 'clusterip' && c.workload === 'tcp-crr' && c.metric === 'p50',
    )!;
    expect(p50.verdict).toBe('regression');
    expect(p50.ratio!.estimate).toBeCloseTo(2, 6);
    expect(p50.failing).toBe(true);
    // Halved throughput: significant, but its CI reaches past -20% (0.84), so not failing.
    const tput = r.changes.find(
      (c) => c.backend === 'nft' && c.services === 200 && c.path === 'clusterip' && c.workload === 'tcp-crr' && c.metric === 'throughput',
    )!;
    expect(tput.verdict).toBe('regression');
    expect(tput.failing).toBe(false);
    // A 150% threshold: the doubling is not beyond it.
    expect(compareRuns(load(RUN), load(REGRESSED), { failOnRegressionPct: 150 }).counts.failing).toBe(0);
  });

  it('shows errored and skipped groups as not measured, with their states', () => {
    const r = compareRuns(load(RUN), load(RUN));
    const ipvs = r.changes.find((c) => c.backend === 'ipvs' && c.services === 50 && c.path === 'pod' && c.workload === 'tcp-crr')!;
    expect(ipvs).toMatchObject({ verdict: 'not measured', metric: '*', note: 'A: skipped 2; B: skipped 2' });
    const ipt = r.changes.find((c) => c.backend === 'iptables' && c.services === 200 && c.path === 'pod' && c.workload === 'http')!;
    expect(ipt).toMatchObject({ verdict: 'not measured', note: 'A: errored 2; B: errored 2' });
  });

  it('warns that runs on different kernels are not comparable', () => {
    const guest = load(RUN);
    guest.environment = { ...guest.environment, kernel: '6.1.0-svcbench', where: 'guest' };
    const r = compareRuns(load(RUN), guest);
    expect(r.comparable).toBe(false);
    expect(r.warnings[0]).toBe(
      "run A ran on kernel 6.18.44-fc-v595 (host kernel), run B on kernel 6.1.0-svcbench (guest kernel): the figures are not comparable (the kernel's data path is what is measured)",
    );
  });
});

describe('bench compare', () => {
  it('exits 0 for a run against itself and says nothing is significant', async () => {
    const r = await cli(['compare', RUN, RUN, '--fail-on-regression', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^0 significant regressions, 0 significant improvements, \d+ not significant; 0 regressions beyond 5%/m);
  });

  it('exits 1 on the injected regression with --fail-on-regression, 0 without', async () => {
    const failing = await cli(['compare', RUN, REGRESSED, '--fail-on-regression', '20']);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(
      /^nft +200 +clusterip +tcp-crr +p50 µs +555 \[528, 581\] +1109 \[1056, 1162\] +2\.00× \[1\.82, 2\.20\] +\+100% +regression beyond 20%$/m,
    );
    const plain = await cli(['compare', RUN, REGRESSED]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/regression$/m);
    const json = await cli(['compare', RUN, REGRESSED, '--json', '--fail-on-regression', '20']);
    expect(json.code).toBe(1);
    // p50, p99 and the three CPU-per-operation metrics (halved operations, same CPU).
    expect(JSON.parse(json.stdout).counts.failing).toBe(5);
  });

  it('warns on stderr and stdout when the kernels differ', async () => {
    const dir = join(tmp, 'guest');
    mkdirSync(dir);
    const guest = load(RUN);
    guest.environment = { ...guest.environment, kernel: '6.1.0-svcbench', where: 'guest' };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(guest));
    const r = await cli(['compare', RUN, dir]);
    expect(r.stderr).toMatch(
      /warning: run A ran on kernel 6\.18\.44-fc-v595 \(host kernel\), run B on kernel 6\.1\.0-svcbench \(guest kernel\): the figures are not comparable/,
    );
    expect(r.stdout).toMatch(/^WARNING: run A ran on .*not comparable/m);
  });

  const bad: [string, string[], RegExp][] = [
    ['missing RUN_B', ['compare', RUN], /missing required argument 'RUN_B'/],
    ['RUN_A not a run', ['compare', '/nonexistent/run', RUN], /RUN_A: no run\.json in \/nonexistent\/run/],
    ['RUN_B not a run', ['compare', RUN, 'no-such-run-id'], /RUN_B: no run\.json in no-such-run-id nor in results\/no-such-run-id/],
    [
      '--fail-on-regression not a number',
      ['compare', RUN, RUN, '--fail-on-regression', 'ten'],
      /--fail-on-regression: "ten" is not a percentage/,
    ],
    [
      '--fail-on-regression negative',
      ['compare', RUN, RUN, '--fail-on-regression', '-5'],
      /--fail-on-regression: "-5" is not a percentage/,
    ],
  ];
  for (const [name, argv, message] of bad)
    it(`exits 2 naming the argument: ${name}`, async () => {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });

  it('exits 2 for a file that is not a run.json', async () => {
    const dir = join(tmp, 'not-a-run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ schema: 'svcbench/run@0' }));
    const r = await cli(['compare', dir, RUN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RUN_A: .*not-a-run\/run\.json is not a svcbench\/run@1 file: schema: /);
  });
});

describe('bench report', () => {
  it('re-renders every report from run.json', async () => {
    const dir = join(tmp, 'rendered');
    cpSync(RUN, dir, { recursive: true });
    const r = await cli(['report', dir], true);
    expect(r.code).toBe(0);
    const files = [
      'summary.csv',
      'syncs.csv',
      'report.md',
      'charts/latency-vs-services.svg',
      'charts/sync-vs-services.svg',
      'charts/paths-tcp-crr.svg',
      'charts/paths-http.svg',
      'report.html',
    ];
    expect(r.stdout.trim().split('\n')).toEqual(files.map((f) => join(dir, f)));
    for (const f of files) expect(existsSync(join(dir, f)), f).toBe(true);
  }, 60_000);

  it('exits 2 naming RUN when there is no run', async () => {
    const r = await cli(['report', join(tmp, 'nothing-here')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RUN: no run\.json in .*nothing-here/);
  });
});
