import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeRun } from '../../src/run/summary.js';
import { bench, isRoot, leavesNothingBehind, preflightVerdict } from '../helpers.js';
import { readRunJson, shortIn } from './run-support.js';
import { tempDirs } from '../temp-dirs.js';

// `bench run` end to end in real namespaces, with short cases. The tests here may overlap other
// e2e files (vitest.config.ts); run-alone.test.ts holds the ones that must not.

// Runs take a minute or more on a loaded 2-core machine (the report step included).
// Every test writes under its own directory: concurrent ones must not read each other's
// results/latest.
const outDir = tempDirs('svcbench-run-');

describe.runIf(isRoot)('bench run', { timeout: 300_000 }, () => {
  leavesNothingBehind({ stateFiles: true });

  // Concurrently (each its own sandbox, run id and output directory, nothing machine-wide asserted;
  // at most the e2e project's maxConcurrency). The tests that look at processes or namespaces
  // machine-wide, or kill servers by name, are in run-alone.test.ts, which runs alone.
  it.concurrent('measures every path and records everything in run.json; an unavailable backend is skipped', async () => {
    const out = outDir();
    // IPVS is unavailable on a kernel without IP_VS and measured on one with it: preflight decides.
    const ipvsVerdict = await preflightVerdict('ipvs');
    const r = await bench(
      [
        'run',
        '--backend',
        'nft,ipvs',
        '--path',
        'pod,clusterip,clusterip-node,nodeport,hairpin',
        '--workload',
        'http-crr,tcp-rr,udp-rr',
        '--services',
        '20',
        '--repeat',
        '2',
        // Exactly --repeat repetitions: the counts below are exact (adaptive repetitions: their own test).
        '--ci-target',
        '0',
        '--json',
        ...shortIn(out),
      ],
      // From outside the checkout: the commit recorded is svcbench's own, not the working directory's.
      { timeoutMs: 300_000, cwd: tmpdir() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const { dir } = JSON.parse(r.stdout) as { dir: string };
    const run = readRunJson(dir);
    expect(run.state).toBe('completed');
    expect(run.environment.kernel).toMatch(/^\d+\.\d+/);
    expect(run.environment.commit).toBe(execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim());
    expect(run.backends.map((b) => [b.name, b.state])).toEqual([
      ['nft (1.37)', 'ready'],
      ['ipvs', ipvsVerdict.state],
    ]);
    const nft = run.cases.filter((c) => c.backend === 'nft (1.37)');
    expect(nft).toHaveLength(5 * 3 * 2);
    expect(nft.filter((c) => c.state !== 'completed').map((c) => ('reason' in c ? c.reason : ''))).toEqual([]);
    for (const c of nft) {
      if (c.state !== 'completed') continue;
      expect(c.result.ops).toBeGreaterThan(0);
      expect(c.result.latencyUs.p50).toBeGreaterThan(0);
      // The path check before measuring: the pod path reaches each endpoint pod by its own IP,
      // service paths one endpoint.
      if (c.path === 'pod') expect(c.checkedBy).toBe('srv-0,srv-1,srv-2');
      else expect(['srv-0', 'srv-1', 'srv-2']).toContain(c.checkedBy);
      if (c.workload === 'http-crr') expect(c.result.connectionsOpened - c.result.ops).toBeGreaterThanOrEqual(0);
      // The pod path spreads its connections over the same endpoint pods as the Service.
      if (c.path === 'pod' && c.workload === 'http-crr')
        expect(Object.keys(c.result.answeredBy ?? {}).sort()).toEqual(['srv-0', 'srv-1', 'srv-2']);
      expect(c.cpu.kernelS).toBeGreaterThanOrEqual(0);
    }
    const ipvs = run.cases.filter((c) => c.backend === 'ipvs');
    expect(ipvs.length).toBe(30);
    if (ipvsVerdict.state === 'unavailable')
      expect(ipvs.filter((c) => !(c.state === 'skipped' && c.reason.includes(ipvsVerdict.reason!)))).toEqual([]);
    else expect(ipvs.filter((c) => c.state === 'skipped')).toEqual([]);
    expect(run.syncs.filter((s) => s.backend === 'nft (1.37)').map((s) => s.step)).toEqual([
      'full',
      'add-service',
      'add-endpoint',
      'remove-service',
    ]);
    expect(run.syncs.every((s) => s.readBackDifferences.length === 0)).toBe(true);
    expect(run.programmingLatency[0]!.ms).toBeGreaterThan(0);
    expect(run.syncBench[0]!.samples).toHaveLength(2);
    expect(readFileSync(join(out, 'latest', 'run.json'), 'utf8')).toBe(readFileSync(join(dir, 'run.json'), 'utf8'));
  });

  it.concurrent(
    'paired blocks: the paths of a repetition run as alternating blocks, recorded per case, and "vs pod" is the ratio over block pairs',
    async () => {
      const out = outDir();
      const r = await bench(
        [
          'run',
          '--backend',
          'nft',
          '--path',
          'pod,clusterip,nodeport',
          '--workload',
          'tcp-crr',
          '--services',
          '10',
          '--repeat',
          '2',
          '--ci-target',
          '0',
          '--sync-iterations',
          '0',
          '--duration',
          '1',
          '--block',
          '0.25',
          '--out',
          out,
        ],
        { timeoutMs: 300_000 },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/nft pod\/clusterip\/nodeport tcp-crr @10 services, repetition 1 \(paired blocks\)|paired blocks/);
      const run = readRunJson(join(out, 'latest'));
      expect(run.cases.map((c) => c.state)).toEqual(Array(6).fill('completed'));
      for (const c of run.cases) {
        if (c.state !== 'completed') continue;
        // 1 s in 0.25 s blocks: 4 rounds, one block per path each.
        expect(c.result.blocks?.length, c.id).toBe(4);
        for (const b of c.result.blocks ?? []) expect(b.plannedMs).toBe(250);
      }
      const groups = summarizeRun(run);
      for (const path of ['clusterip', 'nodeport']) {
        const g = groups.find((x) => x.path === path)!;
        // 2 repetitions × 4 rounds: up to 8 pairs (a block that ran under half its length drops).
        expect(g.metrics.throughput!.paired, path).toBeDefined();
        expect(g.metrics.throughput!.paired!.pairs).toBeGreaterThanOrEqual(6);
        // Its interval is over the 2 repetitions (stats/paired.ts).
        expect(g.metrics.throughput!.paired!.groups).toBe(2);
        expect(g.metrics.throughput!.vsPod, path).toBeDefined();
      }
      // The table shows the paired ratio, and the verdicts close stdout.
      expect(r.stdout).toMatch(
        /nft \(1\.37\), 10 services, tcp-crr: ClusterIP throughput [\d.]+× \[[\d.]+, [\d.]+\] of the pod IPs \(paired/,
      );
    },
  );
});
