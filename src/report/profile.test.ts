import { describe, expect, it } from 'vitest';
import type { RunJson } from '../run/results.js';
import { flameSpec, flameTree } from './flame.js';
import { nsPerOp, profileGroups, samplerOverhead } from './profile.js';
import { ciText } from './profile-content.js';
import { renderSvg } from './svg.js';

type Case = RunJson['cases'][number];

/** A completed tcp-crr case doing `opsPerS` connections/s, sampled (groupNs over a 2 s window) or not. */
function kase(path: string, repetition: number, opsPerS: number, groupNs?: Record<string, number>): Case {
  const result = {
    ops: opsPerS * 2,
    durationMs: 2000,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    connectionsOpened: opsPerS * 2,
    bytes: 0,
    latencyUs: { histogram: '', count: 1, min: 1, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
    cpuUs: { user: 0, system: 0 },
  };
  const c = {
    id: `${path}-${repetition}`,
    backend: 'nft',
    services: 1000,
    endpoints: 3,
    target: 'last',
    path,
    workload: 'tcp-crr',
    repetition,
    startedAt: '',
    state: 'completed' as const,
    result,
    cpu: { loadGeneratorS: 0, serversS: 0, kernelS: 0, totalBusyS: 0 },
    checkedBy: '',
  };
  if (groupNs === undefined) return c;
  const samples = Object.values(groupNs).reduce((a, b) => a + b, 0) / 500_000;
  return {
    ...c,
    profile: {
      hz: 2000,
      periodNs: 500_000,
      windowMs: 2000,
      samples: { total: samples, counted: samples, idle: 0, unrelated: 0 },
      groupNs,
      groupSamples: {},
      stacks: [
        ['netfilter;nf_hook_slow;nft_do_chain', (groupNs['netfilter'] ?? 0) / 500_000],
        ['nat;nf_hook_slow;nf_nat_inet_fn', (groupNs['nat'] ?? 0) / 500_000],
      ],
    },
  };
}

/** The case with measured blocks of 500 ms, `sampled` saying which the sampler ran in (its window
 * their total), each at the rate `rate` gives. */
function blocked(c: Case, sampled: boolean[], rate: (sampled: boolean, i: number) => number): Case {
  if (c.state !== 'completed' || c.profile === undefined) throw new Error('a sampled case');
  const blocks = sampled.map((s, i) => ({ sampled: s, plannedMs: 500, durationMs: 500, ops: rate(s, i) / 2 }));
  return { ...c, profile: { ...c.profile, windowMs: 500 * sampled.filter(Boolean).length, blocks } };
}

describe('kernel time per operation', () => {
  // 5,000 connections/s; netfilter 10 ms of CPU in 2 s: 1,000 ns per connection.
  const pod = [1, 2, 4].map((r, i) => kase('pod', r, 5000, { netfilter: 10e6 + i * 1e6, nat: 4e6, conntrack: 6e6 }));
  const cip = [1, 2, 4].map((r, i) => kase('clusterip', r, 5000, { netfilter: 12e6 + i * 1e6, nat: 8e6, conntrack: 6e6 }));
  const run = { seed: 1, cases: [...pod, ...cip, kase('pod', 3, 5100), kase('clusterip', 3, 5200)] };

  it('divides the group CPU per second by the operations per second', () => {
    const c = pod[0] as Parameters<typeof nsPerOp>[0];
    expect(nsPerOp(c, 'netfilter')).toBe(1000);
    expect(nsPerOp(c, 'service')).toBe(2000);
  });

  it('pools over sampled repetitions and gives exact differences from the pod path', () => {
    const [p, c] = profileGroups(run);
    expect(p!.n).toBe(3);
    expect(p!.perOp.netfilter.estimate).toBe(1100);
    expect(p!.vsPod).toBeUndefined();
    expect(c!.perOp.nat.estimate).toBe(800);
    expect(c!.vsPod!.nat).toMatchObject({ estimate: 400, low: 400, high: 400 });
    expect(c!.vsPod!.service.estimate).toBe(600);
  });

  it('weighs each repetition by its operations: Σ ns / Σ operations, not the median of the ratios', () => {
    // 1,000 and 3,000 ns per connection at 5,000 connections/s, 1,000 at 1,000 connections/s.
    const cases = [
      kase('pod', 1, 5000, { netfilter: 10e6 }),
      kase('pod', 2, 5000, { netfilter: 30e6 }),
      kase('pod', 3, 1000, { netfilter: 2e6 }),
    ];
    const [g] = profileGroups({ seed: 1, cases });
    expect(g!.perOp.netfilter.estimate).toBeCloseTo(42e6 / 22000, 6);
  });

  it('takes the operations of the sampled blocks only, and the overhead from each sampled block against its partner', () => {
    // Blocks of 500 ms: sampled ones at 4,800 connections/s, unsampled ones at 5,000.
    const sampled = [true, false, false, true, true, false, false, true];
    const c = blocked(kase('pod', 1, 4900, { netfilter: 4.8e6 }), sampled, (s) => (s ? 4800 : 5000));
    expect(nsPerOp(c as Parameters<typeof nsPerOp>[0], 'netfilter')).toBeCloseTo(4.8e6 / 4800 / 2, 6);
    const cases = [1, 2, 3].map((r) => blocked(kase('pod', r, 4900, { netfilter: 4.8e6 }), sampled, (s, i) => (s ? 4800 + i : 5000)));
    const [o] = samplerOverhead({ seed: 1, cases });
    expect(o).toMatchObject({ workload: 'tcp-crr', cases: 3, pairs: 12 });
    expect(o!.ratio.estimate).toBeCloseTo(0.9606, 3);
    expect(o!.ratio.high).toBeLessThan(1);
  });

  it('writes one unit for an estimate and its bounds', () => {
    expect(ciText({ estimate: 967, low: -653, high: 2586 }, true)).toBe('+0.967 µs [-0.653, 2.59]');
    expect(ciText({ estimate: 752, low: 635, high: 870 }, true)).toBe('+752 ns [635, 870]');
  });
});

describe('flame graphs', () => {
  const stacks = new Map([
    ['netfilter;nf_hook_slow;nft_do_chain', 600],
    ['netfilter;nf_hook_slow', 100],
    ['nat;nf_hook_slow;nf_nat_inet_fn', 300],
  ]);
  const pod = new Map([
    ['netfilter;nf_hook_slow;nft_do_chain', 500],
    ['nat;nf_hook_slow;nf_nat_inet_fn', 100],
  ]);

  it('builds the tree with self and inclusive time and the difference from a baseline', () => {
    const t = flameTree(stacks, pod);
    const byPath = (path: string) =>
      path.split(';').reduce((parent, name) => t.find((n) => n.parent === parent.id && n.name === name)!, t[0]!);
    expect(t[0]).toMatchObject({ name: 'all', total: 1000, delta: 400, self: 0 });
    expect(byPath('netfilter')).toMatchObject({ total: 700, self: 0, delta: 200 });
    expect(byPath('netfilter;nf_hook_slow')).toMatchObject({ total: 700, self: 100 });
    expect(byPath('netfilter;nf_hook_slow;nft_do_chain')).toMatchObject({ total: 600, self: 600, delta: 100, group: 'netfilter' });
    expect(byPath('nat;nf_hook_slow;nf_nat_inet_fn')).toMatchObject({ delta: 200, group: 'nat' });
  });

  it('renders the same SVG (snapshot)', async () => {
    const svg = await renderSvg(flameSpec('nft, clusterip: kernel CPU ns per connection', flameTree(stacks, pod), true));
    expect(svg).toContain('nft_do_chain');
    expect(svg).toMatchSnapshot();
  });
});
