import { describe, expect, it } from 'vitest';
import type { CaseResult, RunJson } from '../run/results.js';
import { summarizeRun } from '../run/summary.js';
import { verdictLines, verdicts } from './verdicts.js';
import type { GroupSummary } from '../run/summary.js';

const blocks = (opsPerBlock: number[]) =>
  opsPerBlock.map((ops, i) => ({
    startMs: i * 1000,
    plannedMs: 500,
    durationMs: 500,
    ops,
    errors: 0,
    timeouts: 0,
    connectionsOpened: ops,
    latencyUs: { count: ops, mean: 100, p50: 100, p99: 200 },
    cpuUs: { user: 1, system: 1 },
  }));

const caseOf = (backend: string, path: string, repetition: number, ops: number[] | string): CaseResult => {
  const base = {
    id: `${backend}/1000/${path}/tcp-crr#${repetition}`,
    backend,
    services: 1000,
    endpoints: 3,
    target: 'last',
    path,
    workload: 'tcp-crr',
    repetition,
    startedAt: '',
  };
  if (typeof ops === 'string') return { ...base, state: 'skipped', reason: ops };
  const total = ops.reduce((a, b) => a + b, 0);
  return {
    ...base,
    state: 'completed',
    checkedBy: '',
    cpu: { loadGeneratorS: 0, serversS: 0, kernelS: 0, totalBusyS: 0 },
    result: {
      ops: total,
      durationMs: 500 * ops.length,
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      connectionsOpened: total,
      bytes: 0,
      cpuUs: { user: 0, system: 0 },
      latencyUs: { histogram: 'x', count: total, min: 1, mean: 100, p50: 100, p90: 150, p99: 200, p999: 300, max: 400 },
      blocks: blocks(ops),
    },
  };
};

describe('verdicts', () => {
  // The machine drifts from 1000 to 3000 ops per block; ClusterIP is 10% below the pod path within
  // every round, NodePort level with it (within a percent, differing from repetition to repetition).
  const cases: CaseResult[] = [];
  for (let rep = 1; rep <= 3; rep++) {
    const level = [1000, 1500, 2000, 3000].map((x) => x * rep);
    cases.push(
      caseOf('nft', 'pod', rep, level),
      caseOf(
        'nft',
        'clusterip',
        rep,
        level.map((x) => x * 0.9),
      ),
    );
    cases.push(
      caseOf(
        'nft',
        'nodeport',
        rep,
        level.map((x, i) => x * (i % 2 === 0 ? 1.01 : 0.99) * [1.01, 0.99, 1.005][rep - 1]!),
      ),
    );
    for (const path of ['pod', 'clusterip'])
      cases.push(caseOf('ipvs', path, rep, 'unavailable: CONFIG_IP_VS is not set (fix: --kernel guest)'));
  }
  const run = {
    cases,
    seed: 1,
    backends: [
      { name: 'nft', state: 'ready', options: {} },
      { name: 'ipvs', state: 'unavailable', reason: 'CONFIG_IP_VS is not set', fix: 'run with --kernel guest', options: {} },
    ],
  } as unknown as RunJson;
  const v = verdicts(run, summarizeRun(run));

  it('says one sentence per Service path with the paired ratio, its interval and what it means', () => {
    expect(verdictLines(v)).toEqual([
      'nft, 1,000 services, tcp-crr: ClusterIP throughput 0.90× [0.90, 0.90] of the pod IPs (paired, 12 block pairs in 3 repetitions; 6750 ops/s): 10.0% less [10.0, 10.0].',
      'nft, 1,000 services, tcp-crr: NodePort throughput 1.00× [0.98, 1.03] of the pod IPs (paired, 12 block pairs in 3 repetitions; 7410 ops/s): no measurable difference.',
      'ipvs: 6 cases skipped: CONFIG_IP_VS is not set (fix: run with --kernel guest)',
    ]);
  });

  it('leaves a list of facts per verdict that other measurements append to', () => {
    const cip = v.verdicts.find((x) => x.path === 'clusterip')!;
    cip.facts.push('0.9 µs more kernel time per connection');
    expect(verdictLines(v)[0]).toMatch(/: 10.0% less \[10.0, 10.0\]; 0\.9 µs more kernel time per connection\.$/);
  });
});

describe('verdicts with kernel attribution', () => {
  // Sampled single cases (no blocks): 2 s windows, 10,000 connections each (5,000/s). Per
  // connection the pod path takes 80 µs of kernel time of which 8 µs netfilter + conntrack + NAT;
  // ClusterIP 1 µs more, all of it NAT (+ a little repetition-to-repetition spread), NodePort the
  // same as pod within ±1 µs.
  const profiled = (path: string, repetition: number, extraNs: { nat: number; stack: number }): CaseResult => {
    const c = caseOf('nft', path, repetition, [5000, 5000, 5000, 5000]) as Extract<CaseResult, { state: 'completed' }>;
    const perConn = (ns: number) => ns * 10_000; // groupNs over the 2 s window of 10,000 connections
    const groupNs = {
      netfilter: perConn(3000),
      conntrack: perConn(4000),
      nat: perConn(1000 + extraNs.nat),
      stack: perConn(72_000 + extraNs.stack),
    };
    const { blocks: _blocks, ...result } = c.result;
    return {
      ...c,
      result: { ...result, ops: 10_000, durationMs: 2000 },
      profile: {
        hz: 500,
        periodNs: 2_000_000,
        windowMs: 2000,
        samples: { total: 1000, counted: 800, idle: 100, unrelated: 100 },
        groupNs,
        groupSamples: {},
        stacks: [],
      },
    };
  };
  const cases: CaseResult[] = [];
  const jitter = [0, 30, -30, 60, -60, 10];
  jitter.forEach((j, i) => {
    cases.push(profiled('pod', i + 1, { nat: j, stack: 0 }));
    cases.push(profiled('clusterip', i + 1, { nat: 1000 + j, stack: 0 }));
    cases.push(profiled('nodeport', i + 1, { nat: j, stack: [300, -300, 200, -200, 100, -100][i]! }));
  });
  const run = { cases, seed: 7, backends: [{ name: 'nft', state: 'ready', options: {} }] } as unknown as RunJson;
  const v = verdicts(run, summarizeRun(run));

  it("leads with the kernel time per connection against the pod IPs, then the throughput, then the path's own part", () => {
    expect(verdictLines(v)).toMatchInlineSnapshot(`
      [
        "nft, 1,000 services, tcp-crr: ClusterIP costs 1.00 µs [0.957, 1.04] more kernel time per connection than the pod IPs (+1.2%); throughput 1.00× [1.00, 1.00] (unpaired, 6 repetitions; 5000 ops/s): no measurable difference; netfilter + conntrack + NAT +1.00 µs [0.955, 1.04] of the kernel difference.",
        "nft, 1,000 services, tcp-crr: NodePort kernel time per connection 0 ns [-148, 160] against the pod IPs (+0.00%), not resolved; throughput 1.00× [1.00, 1.00] (unpaired, 6 repetitions; 5000 ops/s): no measurable difference; netfilter + conntrack + NAT 0 ns [-45.0, 41.7] of the kernel difference.",
      ]
    `);
  });

  it('says "not resolved" where the kernel difference\'s interval contains 0, and keeps the plain sentence without a sampled pod path', () => {
    const np = v.verdicts.find((x) => x.path === 'nodeport')!;
    expect(np.sentence).toMatch(/NodePort kernel time per connection [+-]?\d.* against the pod IPs .*, not resolved; throughput/);
    const noPod = { ...run, cases: cases.filter((c) => c.path !== 'pod' || c.repetition > 100) } as RunJson;
    const groups: GroupSummary[] = summarizeRun(noPod);
    expect(verdicts(noPod, groups).verdicts.every((x) => !x.sentence.includes('kernel time'))).toBe(true);
  });
});
