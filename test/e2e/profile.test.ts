import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSchema, type RunJson } from '../../src/run/results.js';
import { bench, isRoot, ourNamespaces, requireBuild, rootSnapshot, stateFiles } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';

// Kernel attribution end to end: a short real tcp-crr run of the ebpf and nft backends with perf
// sampling, checking the groups are there and plausible (src/profile/README.md).

const outDir = tempDirs('svcbench-profile-');
const readRunJson = (dir: string): RunJson => runSchema.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));

describe.runIf(isRoot)('bench run --profile on', { timeout: 300_000 }, () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    before = await rootSnapshot();
  });
  afterAll(async () => {
    expect(ourNamespaces()).toEqual([]);
    expect(stateFiles()).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
  });

  it('attributes kernel time per connection: eBPF ClusterIP runs its programs and no NAT, nft ClusterIP its rules', async () => {
    const out = outDir();
    const r = await bench([
      'run',
      '--backend',
      'ebpf,nft',
      '--workload',
      'tcp-crr',
      '--path',
      'pod,clusterip',
      '--services',
      '100',
      // One repetition at twice the default sampling of this test's earlier two (1 kHz): the same
      // samples per path, in half the cases (this file runs alone, timing in vitest.config.ts).
      '--repeat',
      '1',
      '--ci-target',
      '0',
      '--duration',
      '1',
      '--warmup',
      '0.3',
      '--sync-iterations',
      '1',
      '--profile',
      'on',
      // Above the default (250 Hz): this checks which groups appear in the 0.5 s sampled per path,
      // not the overhead, and a rare group (conntrack) needs the samples.
      '--profile-hz',
      '2000',
      // Paired blocks (the default) run unsampled: profiling samples single cases only (README).
      '--block',
      '0',
      '--out',
      out,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = join(out, 'latest');
    const run = readRunJson(dir);
    if (run.profiling?.state !== 'on') throw new Error(`profiling ${run.profiling?.state}: ${run.profiling?.reason}`);
    const sampled = (backend: string, path: string) =>
      run.cases.flatMap((c) =>
        c.state === 'completed' && c.backend === backend && c.path === path && c.profile !== undefined ? [c.profile] : [],
      );
    // Every case alternates one sampled and one unsampled block (1 s: two of 500 ms), perf enabled
    // over the sampled one only.
    for (const c of run.cases) {
      if (c.state !== 'completed') continue;
      expect(c.profile?.blocks?.map((b) => b.sampled).sort()).toEqual([false, true]);
      expect(c.result.blocks).toBeUndefined();
      expect(c.profile!.windowMs).toBeGreaterThan(400);
      expect(c.profile!.windowMs).toBeLessThan(600);
    }

    // No NAT sample in any eBPF case; its programs in the sampled block: at ≈ 1.5 µs per connection
    // and ≈ 5,000 connections/s, one 0.5 s block at 2 kHz expects ≈ 7.2 samples of them, so it
    // holds none about 0.07% of the time (Poisson, e^-7.2).
    const ebpfClusterIP = sampled('ebpf', 'clusterip');
    for (const p of ebpfClusterIP) expect(p.groupSamples['nat']).toBe(0);
    expect(ebpfClusterIP.reduce((a, p) => a + (p.groupSamples['bpf'] ?? 0), 0)).toBeGreaterThan(0);
    expect(ebpfClusterIP.some((p) => p.stacks.some(([s]) => /bpf_prog_[0-9a-f]{16}_/.test(s)))).toBe(true);
    // Summed over the sampled blocks (one per case): conntrack is the rarest group.
    const nftSum = (g: string) => sampled('nft (1.37)', 'clusterip').reduce((a, p) => a + (p.groupSamples[g] ?? 0), 0);
    expect(nftSum('netfilter')).toBeGreaterThan(0);
    expect(nftSum('conntrack')).toBeGreaterThan(0);
    expect(nftSum('nat')).toBeGreaterThan(0);
    expect(nftSum('bpf') <= nftSum('netfilter')).toBe(true);
    for (const p of [
      ...sampled('ebpf', 'pod'),
      ...sampled('nft (1.37)', 'pod'),
      ...sampled('ebpf', 'clusterip'),
      ...sampled('nft (1.37)', 'clusterip'),
    ]) {
      expect(p.groupSamples['stack']).toBeGreaterThan(0);
      expect(p.groupSamples['user']).toBeGreaterThan(0);
      expect(p.samples.counted).toBeGreaterThan(40);
    }
    expect(sampled('ebpf', 'clusterip').length + sampled('nft (1.37)', 'clusterip').length).toBe(2);

    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('## Kernel time per operation');
    // One pair per case (1 s: one sampled and one unsampled block); a block that ran under half
    // its planned length (a loaded machine's late timers) drops its pair (src/report/profile.ts).
    const ran = (b: { durationMs: number; plannedMs: number; ops: number }) => b.durationMs >= 0.5 * b.plannedMs && b.ops > 0;
    const pairs = run.cases.filter((c) => c.state === 'completed' && c.profile?.blocks?.every(ran)).length;
    expect(pairs).toBeGreaterThan(0);
    expect(md).toMatch(
      new RegExp(
        `Sampler overhead, same run: throughput of each sampled block .* tcp-crr [\\d.]+× \\[.*\\] \\(${pairs} pairs in ${pairs} cases`,
      ),
    );
    expect(md).toMatch(/nft \(1\.37\), 100 services, clusterip against pod, per connection: netfilter \+ conntrack \+ NAT/);
    // The verdicts lead with the kernel time per connection against the pod path (verdicts.ts kernelClauses).
    // One sampled repetition gives no interval; the sentences with one are src/report/verdicts.test.ts's.
    expect(r.stdout).toMatch(
      /ebpf, 100 services, tcp-crr: ClusterIP (costs [\d.]+ [nµ]s \[.*\] (more|less) kernel time|kernel time per connection .* (not resolved|one sampled repetition: no CI)).*eBPF programs/,
    );
    expect(md).toMatch(
      /nft \(1\.37\), 100 services, tcp-crr: ClusterIP (costs|kernel time).*; throughput [\d.]+×.*netfilter \+ conntrack \+ NAT/,
    );
    // The flame graph exists; its frame labels can be hidden where a frame is too narrow to show text,
    // so the bpf_prog frames are checked in the stacks above, not in the SVG's text.
    expect(readFileSync(join(dir, 'charts', 'flame-tcp-crr-100-ebpf-clusterip.svg'), 'utf8')).toContain('<svg');
  });
});
