import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SyncRun } from '../../src/syncbench/results.js';
import { bench, isRoot, leavesNothingBehind } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
const syncDir = tempDirs('svcbench-sync-');

// `bench sync` end to end in real namespaces: two kube-proxy lines at two small scale points.

const out = syncDir();

describe.runIf(isRoot)('bench sync', { timeout: 300_000 }, () => {
  leavesNothingBehind({ stateFiles: true });

  it('times every step of two kube-proxy lines at two scale points, writes its files, and leaves nothing behind', async () => {
    const r = await bench(
      [
        'sync',
        '--backend',
        'nft',
        '--kube-proxy',
        '1.35,1.37',
        '--services',
        '10,30',
        '--repeat',
        '2',
        '--churn',
        '5',
        '--json',
        '--out',
        out,
      ],
      { timeoutMs: 300_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const { dir } = JSON.parse(r.stdout) as { dir: string };
    for (const f of ['sync.json', 'samples.csv', 'report.md', 'report.html', 'charts/sync-full-cold.svg', 'charts/sync-add-service.svg'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    const run = JSON.parse(readFileSync(join(dir, 'sync.json'), 'utf8')) as SyncRun;
    expect(run.state).toBe('completed');
    expect(run.variants.map((v) => [v.id, v.state])).toEqual([
      ['nft (1.35)', 'ready'],
      ['nft (1.37)', 'ready'],
    ]);
    expect(run.points.map((p) => [p.variant, p.services, p.state]).sort()).toEqual([
      ['nft (1.35)', 10, 'completed'],
      ['nft (1.35)', 30, 'completed'],
      ['nft (1.37)', 10, 'completed'],
      ['nft (1.37)', 30, 'completed'],
    ]);
    const steps = ['full-cold', 'full-restart', 'add-service', 'add-endpoint', 'remove-service', 'churn'];
    // 2 series × 2 points × 2 repetitions × 6 steps, each with its phases (render first).
    expect(run.samples).toHaveLength(2 * 2 * 2 * steps.length);
    for (const s of run.samples) {
      expect(steps).toContain(s.step);
      expect(Object.keys(s.phases)[0]).toBe('render');
      expect(Object.keys(s.phases).length).toBeGreaterThanOrEqual(2);
      expect(s.totalMs).toBeGreaterThan(0);
      expect(s.size.count).toBeGreaterThan(0);
    }
    expect(run.probes).toHaveLength(8);
    expect(run.probes.every((p) => p.pass)).toBe(true);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/## Findings/);
    expect(md).toMatch(/## Growth exponents/);
    expect(md).toMatch(/\| nft \(1\.37\) \| 30 \| 2 \|/);
    expect(readFileSync(join(dir, 'samples.csv'), 'utf8').split('\n')[0]).toMatch(/^series,backend,services,repetition,step,total_ms,/);
  });

  it('--nodes 2: every node syncs its own instance, node 0 timed, and the probe answers from each node', async () => {
    const r = await bench(
      ['sync', '--backend', 'nft,ebpf', '--nodes', '2', '--services', '10', '--repeat', '1', '--churn', '2', '--json', '--out', out],
      { timeoutMs: 120_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(JSON.parse(r.stdout).dir as string, 'sync.json'), 'utf8')) as SyncRun;
    expect(run.flags).toMatchObject({ nodes: 2, placement: 'spread' });
    expect(run.points.map((p) => [p.variant, p.state]).sort()).toEqual([
      ['ebpf', 'completed'],
      ['nft (1.37)', 'completed'],
    ]);
    // Node 0's syncs only are samples: 2 series × 6 steps.
    expect(run.samples).toHaveLength(2 * 6);
    // The client pod on node 0, then node 1's own namespace: each node's instance forwards.
    expect(run.probes.map((p) => [p.variant, p.pass, p.detail.startsWith('from node 1: ')]).sort()).toEqual([
      ['ebpf', true, false],
      ['ebpf', true, true],
      ['nft (1.37)', true, false],
      ['nft (1.37)', true, true],
    ]);
  });

  it('stops a series before a point its growth predicts past --time-budget, and says so', async () => {
    // A budget of 1 s is spent before the second point: it is predicted past it and not run.
    const r = await bench(['sync', '--services', '10,20', '--repeat', '1', '--time-budget', '1', '--json', '--out', out], {
      timeoutMs: 120_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nft \(1\.37\): 20 services: predicted [\d.]+ s, not run \(linear from one point;/);
    const { points } = JSON.parse(r.stdout) as { points: SyncRun['points'] };
    expect(points.map((p) => [p.services, p.state])).toEqual([
      [10, 'completed'],
      [20, 'not-run'],
    ]);
    expect(points[1]!.predictedMs).toBeGreaterThan(0);
  });
});
