import { describe, expect, it } from 'vitest';
import type { CaseResult } from './results.js';
import { summarizeRun, summaryTable } from './summary.js';

const hist = { histogram: '', count: 1, min: 1, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 };
const completed = (path: string, rep: number, ops: number, p50: number): CaseResult => ({
  id: `nft/1000/${path}/tcp-crr#${rep}`,
  backend: 'nft',
  services: 1000,
  endpoints: 3,
  target: 'last',
  path,
  workload: 'tcp-crr',
  repetition: rep,
  startedAt: '2026-01-01T00:00:00Z',
  state: 'completed',
  checkedBy: 'srv-0',
  result: {
    ops,
    durationMs: 1000,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    connectionsOpened: ops,
    bytes: 0,
    latencyUs: { ...hist, p50 },
    cpuUs: { user: 1e6, system: 0 },
  },
  cpu: { loadGeneratorS: 1, serversS: 0.5, kernelS: 0.2, totalBusyS: 2 },
});

describe('run summary', () => {
  const cases: CaseResult[] = [
    completed('pod', 1, 1000, 100),
    completed('pod', 2, 1100, 90),
    completed('pod', 3, 900, 110),
    completed('clusterip', 1, 800, 125),
    completed('clusterip', 2, 850, 120),
    completed('clusterip', 3, 750, 130),
    { ...completed('nodeport', 1, 1, 1), state: 'errored', reason: 'path nodeport does not forward' } as CaseResult,
  ];
  const groups = summarizeRun({ cases, seed: 1 });

  it('takes one sample per repetition and the median with its CI', () => {
    const pod = groups.find((g) => g.path === 'pod')!;
    expect(pod.metrics.throughput!.summary.n).toBe(3);
    expect(pod.metrics.throughput!.summary.median).toBe(1000);
    expect(pod.metrics.p50!.summary.median).toBe(100);
    // kernel CPU per 1,000 ops: 0.2 s / 1000 ops × 1000 = 0.2
    expect(pod.metrics.cpuKernel!.summary.median).toBe(0.2);
  });

  it("compares with the same backend's pod baseline: ratio of medians with its CI and a verdict", () => {
    const c = groups.find((g) => g.path === 'clusterip')!;
    expect(c.metrics.throughput!.vsPod!.ratio.estimate).toBeCloseTo(0.8, 12);
    expect(c.metrics.throughput!.vsPod!.verdict).toBe('slower');
    expect(c.metrics.p50!.vsPod!.ratio.estimate).toBeCloseTo(1.25, 12);
    expect(groups.find((g) => g.path === 'pod')!.metrics.throughput!.vsPod).toBeUndefined();
  });

  it('keeps errored groups with their reason, and renders a table', () => {
    const np = groups.find((g) => g.path === 'nodeport')!;
    expect(np.states).toEqual({ completed: 0, errored: 1, skipped: 0, aborted: 0 });
    expect(np.reasons).toEqual(['path nodeport does not forward']);
    const table = summaryTable(groups);
    expect(table.split('\n')[0]).toMatch(/^backend\s+services\s+path\s+workload\s+n\s+throughput ops\/s \[95% CI\]/);
    expect(table).toMatch(/clusterip\s+tcp-crr\s+3\s+800 \[750, 850\]\s+0\.80× \[/);
    expect(table).toMatch(/nodeport\s+tcp-crr\s+0 \+1 err\s+path nodeport does not forward/);
  });

  it('marks a group whose CI stayed wider than --ci-target after --max-repeat, with a note under the table', () => {
    const wide = [1000, 1100, 900, 1000].map((ops, i) => completed('pod', i + 1, ops, 100));
    const g = summarizeRun({ cases: wide, seed: 1, flags: { ciTarget: 5, maxRepeat: 4 } });
    const table = summaryTable(g).split('\n');
    expect(table[1]).toMatch(/pod\s+tcp-crr\s+4\s+1000 \[\d+, \d+\] \*/);
    expect(table[2]).toBe(
      '* this case group: CI wider than ±5% after 4 repetitions (--ci-target); raise --max-repeat or --duration, and check for background load',
    );
    // Below --max-repeat (an interrupted run), or adaptivity off: no mark.
    expect(summaryTable(summarizeRun({ cases: wide, seed: 1, flags: { ciTarget: 5, maxRepeat: 5 } }))).not.toContain('*');
    expect(summaryTable(summarizeRun({ cases: wide, seed: 1, flags: { ciTarget: 0, maxRepeat: 4 } }))).not.toContain('*');
  });
});
