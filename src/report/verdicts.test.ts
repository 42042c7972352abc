import { describe, expect, it } from 'vitest';
import type { CaseResult, RunJson } from '../run/results.js';
import { summarizeRun } from '../run/summary.js';
import { verdictLines, verdicts } from './verdicts.js';

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
  // every round, NodePort level with it.
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
        level.map((x, i) => x * (i % 2 === 0 ? 1.01 : 0.99)),
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
      'nft, 1,000 services, tcp-crr: ClusterIP throughput 0.90× [0.90, 0.90] of the pod IPs (paired, 12 block pairs; 6750 ops/s): 10.0% less [10.0, 10.0].',
      'nft, 1,000 services, tcp-crr: NodePort throughput 1.00× [0.99, 1.01] of the pod IPs (paired, 12 block pairs; 7485 ops/s): no measurable difference.',
      'ipvs: 6 cases skipped: CONFIG_IP_VS is not set (fix: run with --kernel guest)',
    ]);
  });

  it('leaves a list of facts per verdict that other measurements append to', () => {
    const cip = v.verdicts.find((x) => x.path === 'clusterip')!;
    cip.facts.push('0.9 µs more kernel time per connection');
    expect(verdictLines(v)[0]).toMatch(/: 10.0% less \[10.0, 10.0\]; 0\.9 µs more kernel time per connection\.$/);
  });
});
