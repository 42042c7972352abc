import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../report/markdown.js';
import { findings, growthOf, samplesCsv, syncReportDoc } from './report.js';
import type { SyncRun, SyncSample } from './results.js';
import type { Step } from './states.js';

// A synthetic run: nft (1.36) grows as N² with a listing phase of half the sync, nft (1.37) as N;
// three repetitions at 1,000, 3,000 and 10,000 services with a little seeded jitter.
function fixture(): SyncRun {
  const samples: SyncSample[] = [];
  const jitter = [0.98, 1, 1.03];
  const steps: Step[] = ['full-cold', 'full-restart', 'add-service'];
  for (const [variant, f] of [
    ['nft (1.36)', (n: number) => (n / 1000) ** 2 * 1000],
    ['nft (1.37)', (n: number) => (n / 1000) * 50],
  ] as const)
    for (const services of [1000, 3000, 10000])
      for (let repetition = 1; repetition <= 3; repetition++)
        for (const step of steps) {
          const total = f(services) * jitter[repetition - 1]! * (step === 'full-restart' ? 0.5 : step === 'add-service' ? 0.1 : 1);
          samples.push({
            variant,
            services,
            repetition,
            step,
            totalMs: total,
            phases: { list: total / 2, render: total / 10, apply: total * 0.4 },
            size: { count: services * 4, unit: 'lines' },
            commands: 3,
          });
        }
  return {
    schema: 'svcbench/sync@1',
    runId: '20260101-000000-abcdef',
    state: 'completed',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    argv: ['sync', '--kube-proxy', '1.36,1.37'],
    flags: {},
    seed: 7,
    environment: { kernel: '6.1.0', where: 'host', cpuModel: 'cpu', cpus: 2, memoryGiB: 4, node: 'v20', commit: 'abc', tools: {} },
    endpoints: '1',
    variants: ['nft (1.36)', 'nft (1.37)'].map((id) => ({
      id,
      backend: 'nft',
      options: { iptablesMode: 'nft', syncTimeoutMs: 20000 },
      state: 'ready' as const,
    })),
    points: [
      ...[1000, 3000, 10000].flatMap((services) =>
        ['nft (1.36)', 'nft (1.37)'].map((variant) => ({ variant, services, state: 'completed' as const, wallMs: 1000 })),
      ),
      {
        variant: 'nft (1.36)',
        services: 30000,
        state: 'not-run',
        reason: 'predicted past --time-budget',
        predictedMs: 580_000,
        model: 'power law through the last two points (exponent 2.00)',
      },
    ],
    samples,
    probes: [{ variant: 'nft (1.37)', services: 1000, repetition: 1, pass: true, detail: 'ok' }],
  };
}

describe('sync report', () => {
  const run = fixture();

  it('fits the growth exponent of each series over every repetition', () => {
    const g36 = growthOf(run, 'nft (1.36)', 'full-cold')!;
    const g37 = growthOf(run, 'nft (1.37)', 'full-cold')!;
    expect(g36.exponent).toBeCloseTo(2, 1);
    expect(g36.superLinear).toBe(true);
    expect(g37.exponent).toBeCloseTo(1, 1);
    expect(g37.superLinear).toBe(false);
    expect(g36.n).toBe(9);
  });

  it('answers the three questions from the run, with intervals', () => {
    const f = findings(run);
    expect(f[0]).toMatch(
      /^\*\*Which kube-proxy line syncs fastest \(full sync, cold start \(empty table\)\) at 10,000 services:\*\* nft \(1\.37\), median 0\.50 s\. nft \(1\.36\) 100 s: nft \(1\.37\) is 200× faster \(time ratio 0\.00500 \[0\.00476, 0\.00526\]\)\./,
    );
    expect(f[0]).toMatch(/nft \(1\.37\) 1\.00 \[0\.98, 1\.02\]; nft \(1\.36\) 2\.00 \[1\.98, 2\.02\] super-linear\.$/);
    expect(f[1]).toMatch(/^\*\*Which kube-proxy line syncs fastest \(add a service\) at 10,000 services/);
    expect(f[2]).toMatch(
      /^\*\*How much of a sync is listing:\*\* nft \(1\.36\), add a service at 10,000 services: listing 5\.00 s of 10\.0 s, 50% \[50, 50\]/,
    );
    expect(f[3]).toMatch(
      /^\*\*What a cold start of a new node costs\*\*.*nft \(1\.36\) at 10,000 services: cold start 100 \[98\.0, 103\] s, restart 50\.0 \[49\.0, 51\.5\] s; the cold start is 2\.00 \[1\.90, 2\.10\] times the restart's/,
    );
  });

  it('says "not significant" where the intervals overlap', () => {
    const flat = fixture();
    for (const s of flat.samples)
      if (s.variant === 'nft (1.37)')
        s.totalMs =
          flat.samples.find(
            (x) => x.variant === 'nft (1.36)' && x.services === s.services && x.step === s.step && x.repetition === s.repetition,
          )!.totalMs * (s.repetition === 2 ? 1.01 : 0.99);
    expect(findings(flat)[0]).toMatch(/is not significantly faster \(time ratio/);
  });

  it('renders markdown with the side-by-side table, exponents, phases, charts and what was not run', () => {
    const doc = syncReportDoc(run, '2026-01-01T00:11:00.000Z');
    const md = renderMarkdown(doc);
    expect(md).toMatch(
      /\| nft \(1\.37\) \| 10,000 \| 3 \| 0\.50 \[0\.49, 0\.52\] \| 0\.25 \[0\.24, 0\.26\] \| 0\.050 \[0\.049, 0\.051\] \| 40,000 lines \|/,
    );
    expect(md).toMatch(/\| series \| services \| step \| list \| render \| apply \| total \|/);
    expect(md).toMatch(
      /nft \(1\.36\) @30,000: not-run: predicted 9 min 40 s \(power law through the last two points \(exponent 2\.00\)\): predicted past --time-budget/,
    );
    expect(doc.charts.map((c) => c.name)).toEqual(['sync-full-cold', 'sync-full-restart', 'sync-add-service']);
    expect(md).toMatch(/1 of 1 probes passed/);
    expect(renderMarkdown(syncReportDoc(run, '2026-01-01T00:11:00.000Z'))).toBe(md);
  });

  it('writes every sample to CSV with its phases as columns', () => {
    const lines = samplesCsv(run).trim().split('\n');
    expect(lines[0]).toBe('series,backend,services,repetition,step,total_ms,list_ms,render_ms,apply_ms,size,unit,commands,outcome');
    expect(lines).toHaveLength(1 + run.samples.length);
    expect(lines[1]).toBe('nft (1.36),nft,1000,1,full-cold,980.000,490.000,98.000,392.000,4000,lines,3,complete');
  });
});
