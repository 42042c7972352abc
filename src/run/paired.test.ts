import { describe, expect, it } from 'vitest';
import { createRng } from '../stats/index.js';
import { blockPairs, pairedSchedule, pairedUnits, roundsOf, usableBlock, type Block } from './paired.js';
import type { PlannedCase } from './plan.js';
import type { CaseResult } from './results.js';

const settings = { blockMs: 500, durationMs: 2000, warmupMs: 300, gapMs: 20 };

describe('pairedSchedule', () => {
  it('warms every path up once, then gives each one block per round in a seeded order', () => {
    const s = pairedSchedule(['pod', 'clusterip', 'nodeport'], settings, createRng(3));
    expect(s.rounds).toHaveLength(4);
    for (const r of s.rounds) expect([...r].sort()).toEqual(['clusterip', 'nodeport', 'pod']);
    expect(pairedSchedule(['pod', 'clusterip', 'nodeport'], settings, createRng(3)).rounds).toEqual(s.rounds);
    const pod = s.windows.get('pod')!;
    expect(pod[0]).toEqual({ kind: 'warmup', startMs: 0, durationMs: 300 });
    expect(pod.filter((w) => w.kind === 'measure')).toHaveLength(4);
    // Warm-ups back to back (with gaps), then the first round starts.
    expect(s.windows.get('clusterip')![0]).toEqual({ kind: 'warmup', startMs: 320, durationMs: 300 });
    const all = [...s.windows.values()].flat().sort((a, b) => a.startMs - b.startMs);
    for (let i = 1; i < all.length; i++) expect(all[i]!.startMs).toBe(all[i - 1]!.startMs + all[i - 1]!.durationMs + 20);
    expect(s.totalMs).toBe(3 * 300 + 12 * 500 + 14 * 20);
    // Round r's block of a path is its r-th measured window, in the round's order.
    const first = s.rounds[0]![0]!;
    expect(s.windows.get(first)![1]!.startMs).toBe(960);
  });

  it('has at least two rounds, and no warm-up windows with --warmup 0', () => {
    expect(roundsOf({ blockMs: 1000, durationMs: 200 })).toBe(2);
    const s = pairedSchedule(['pod', 'clusterip'], { ...settings, warmupMs: 0 }, createRng(1));
    expect([...s.windows.values()].flat().every((w) => w.kind === 'measure')).toBe(true);
  });
});

const block = (ops: number, over: Partial<Block> = {}): Block => ({
  startMs: 0,
  plannedMs: 500,
  durationMs: 500,
  ops,
  errors: 0,
  timeouts: 0,
  connectionsOpened: ops,
  latencyUs: { count: ops, mean: 100, p50: 100, p99: 200 },
  cpuUs: { user: 1, system: 1 },
  ...over,
});

const completed = (path: string, repetition: number, blocks: Block[]): CaseResult =>
  ({
    id: `nft/1000/${path}/tcp-crr#${repetition}`,
    backend: 'nft',
    services: 1000,
    endpoints: 3,
    target: 'last',
    path,
    workload: 'tcp-crr',
    repetition,
    startedAt: '',
    state: 'completed',
    checkedBy: '',
    cpu: { loadGeneratorS: 0, serversS: 0, kernelS: 0, totalBusyS: 0 },
    result: {
      ops: 1,
      durationMs: 1,
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      connectionsOpened: 1,
      bytes: 0,
      cpuUs: { user: 0, system: 0 },
      latencyUs: { histogram: 'x', count: 1, min: 1, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 },
      blocks,
    },
  }) as CaseResult;

describe('blockPairs', () => {
  it('pairs block i of the candidate with block i of the pod path of the same repetition', () => {
    const pod = [completed('pod', 1, [block(1000), block(2000)]), completed('pod', 2, [block(500), block(600)])];
    const cip = [completed('clusterip', 2, [block(490), block(630)]), completed('clusterip', 1, [block(950), block(2100)])];
    expect(blockPairs(pod, cip, 'throughput')).toEqual([
      { baseline: 1000, candidate: 980, group: 2 },
      { baseline: 1200, candidate: 1260, group: 2 },
      { baseline: 2000, candidate: 1900, group: 1 },
      { baseline: 4000, candidate: 4200, group: 1 },
    ]);
    expect(blockPairs(pod, cip, 'p50')).toHaveLength(4);
    expect(blockPairs(pod, cip, 'cpuKernel')).toEqual([]);
  });

  it('drops pairs with a block that ran under half its planned time or completed nothing, and repetitions without a pod run', () => {
    expect(usableBlock(block(10, { durationMs: 249 }))).toBe(false);
    expect(usableBlock(block(0))).toBe(false);
    const pod = [completed('pod', 1, [block(1000, { durationMs: 200 }), block(0), block(900)])];
    const cip = [completed('clusterip', 1, [block(1000), block(800), block(910)]), completed('clusterip', 2, [block(5)])];
    expect(blockPairs(pod, cip, 'throughput')).toEqual([{ baseline: 1800, candidate: 1820, group: 1 }]);
  });
});

describe('pairedUnits', () => {
  const c = (backend: string, path: string, workload: string, repetition: number): PlannedCase => ({
    backend,
    services: 1000,
    path: path as PlannedCase['path'],
    workload,
    repetition,
    id: `${backend}/${path}/${workload}#${repetition}`,
  });
  it("gathers a paired workload's paths of one repetition at the first one's place, leaving the others alone", () => {
    const plan = [
      c('nft', 'clusterip', 'tcp-crr', 1),
      c('nft', 'pod', 'udp-rr', 1),
      c('ebpf', 'pod', 'tcp-crr', 1),
      c('nft', 'pod', 'tcp-crr', 1),
      c('nft', 'pod', 'tcp-crr', 2),
    ];
    const units = pairedUnits(plan, (x) => x.workload === 'tcp-crr');
    expect(units.map((u) => u.map((x) => x.id))).toEqual([
      ['nft/clusterip/tcp-crr#1', 'nft/pod/tcp-crr#1'],
      ['nft/pod/udp-rr#1'],
      ['ebpf/pod/tcp-crr#1'],
      ['nft/pod/tcp-crr#2'],
    ]);
  });
});
