import { describe, expect, it } from 'vitest';
import { createRng } from '../stats/index.js';
import { extraRound, fitsBudget, judgeGroups, type AdaptiveSettings } from './adaptive.js';
import type { CaseResult } from './results.js';
import { summarizeRun } from './summary.js';

const hist = { histogram: '', count: 1, min: 1, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1 };
const completed = (path: string, rep: number, ops: number, workload = 'tcp-rr'): CaseResult => ({
  id: `nft/1000/${path}/${workload}#${rep}`,
  backend: 'nft',
  services: 1000,
  endpoints: 3,
  target: 'last',
  path,
  workload,
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
    latencyUs: hist,
    cpuUs: { user: 1e6, system: 0 },
  },
  cpu: { loadGeneratorS: 1, serversS: 0.5, kernelS: 0.2, totalBusyS: 2 },
});
/** One group's repetitions with these throughputs (ops/s, as the cases last 1 s). */
const group = (path: string, ops: number[], workload?: string) => ops.map((o, i) => completed(path, i + 1, o, workload));
const settings: AdaptiveSettings = { repeat: 3, maxRepeat: 10, ciTargetPct: 5, seed: 1 };

describe('adaptive repetitions: which groups need another one', () => {
  // With 3 values the bootstrap CI of the median is [min, max]; with these 6 (two of each) too:
  // a resample's median is the minimum in ≈10% of resamples, well over the 2.5% tail. So these
  // widths are exact.
  const at6 = group('pod', [940, 1000, 1060]); // ±6 %
  const at4 = group('clusterip', [960, 1040, 960, 1040, 1000, 1000]); // ±4 %

  it('a group wider than the target gets more, one within it is done, with the CI the summary shows', () => {
    const v = judgeGroups([...at6, ...at4], settings);
    expect(v.map((x) => [x.group, x.repetitions, x.decision])).toEqual([
      ['nft/1000/pod/tcp-rr', 3, 'more'],
      ['nft/1000/clusterip/tcp-rr', 6, 'met'],
    ]);
    expect(v[0]!.halfWidth).toBeCloseTo(0.06, 12);
    expect(v[1]!.halfWidth).toBeCloseTo(0.04, 12);
    const ci = summarizeRun({ cases: at6, seed: 1 })[0]!.metrics.throughput!.summary.ci;
    expect([ci.low, ci.high]).toEqual([940, 1060]);
  });

  it('at exactly the target it is done (wider means strictly wider)', () => {
    expect(judgeGroups(group('pod', [950, 1050, 950, 1050, 1000, 1000]), settings)[0]!.decision).toBe('met');
  });

  it('fewer than 6 values never meet the target, however narrow: no interval of their median is a 95% one', () => {
    expect(judgeGroups(group('pod', [1000, 1000, 1000, 1000, 1000]), settings)[0]!.decision).toBe('more');
    expect(judgeGroups(group('pod', [1000, 1000, 1000, 1000, 1000, 1000]), settings)[0]!.decision).toBe('met');
    // Unless --max-repeat stops below 6: then the width decides, as at any maximum.
    expect(judgeGroups(group('pod', [1000, 1000, 1000]), { ...settings, maxRepeat: 3 })[0]!.decision).toBe('met');
    expect(judgeGroups(at6, { ...settings, maxRepeat: 3 })[0]!.decision).toBe('max');
  });

  it('an extra round starts only when, at the pace so far, it ends within --time-budget (0: no limit)', () => {
    // 150 s used, 4 cases of 3 s: ends at 162 s.
    expect(fitsBudget(4, 3, 150, 180)).toBe(true);
    expect(fitsBudget(4, 3, 150, 162)).toBe(true);
    expect(fitsBudget(4, 3, 150, 161)).toBe(false);
    expect(fitsBudget(400, 3, 5000, 0)).toBe(true);
  });

  it('at --max-repeat it is done, and reported as missing the target', () => {
    const ten = group('pod', [940, 1060, 940, 1060, 940, 1000, 1060, 940, 1060, 1000]);
    const v = judgeGroups(ten, settings)[0]!;
    expect(v.decision).toBe('max');
    expect(v.halfWidth!).toBeGreaterThan(0.05);
    expect(judgeGroups(ten.slice(0, 9), settings)[0]!.decision).toBe('more');
    // The summary warns about it with the same target and count.
    const ws = summarizeRun({ cases: ten, seed: 1, flags: { ciTarget: 5, maxRepeat: 10 } })[0]!.metrics.throughput!.summary.warnings;
    expect(ws.map((w) => w.code)).toContain('ci-target');
    expect(ws.map((w) => w.code)).not.toContain('wide-ci');
    expect(ws.find((w) => w.code === 'ci-target')!.message).toMatch(
      /^CI wider than ±5% after 10 repetitions \(--ci-target\): ±\d+(\.\d)?% of the median; raise --max-repeat or --duration/,
    );
    // Without the flags (an older run.json), the plain wide-CI warning.
    const old = summarizeRun({ cases: ten, seed: 1 })[0]!.metrics.throughput!.summary.warnings;
    expect(old.map((w) => w.code)).toContain('wide-ci');
  });

  it('a group with an errored, skipped or aborted case gets no more', () => {
    const errored = [...group('pod', [940, 1000]), { ...completed('pod', 3, 1060), state: 'errored', reason: 'x' } as CaseResult];
    const skipped = group('nodeport', [1, 1, 1]).map((c) => ({ ...c, state: 'skipped', reason: 'unavailable' }) as CaseResult);
    const aborted = [
      ...group('hairpin', [940, 1000, 1060]),
      { ...completed('hairpin', 4, 1), state: 'aborted', reason: 'x' } as CaseResult,
    ];
    expect(judgeGroups([...errored, ...skipped, ...aborted], settings).map((v) => v.decision)).toEqual([
      'incomplete',
      'incomplete',
      'incomplete',
    ]);
  });

  it('fewer than --repeat completed cases: no decision yet', () => {
    expect(judgeGroups(group('pod', [940, 1060]), settings)[0]!.decision).toBe('incomplete');
  });

  it('--ci-target 0 never asks for more', () => {
    expect(judgeGroups([...at6, ...at4], { ...settings, ciTargetPct: 0 }).map((v) => v.decision)).toEqual(['off', 'off']);
  });

  it('--repeat 1: one value has no known width, so it gets more', () => {
    expect(judgeGroups(group('pod', [1000]), { ...settings, repeat: 1 })[0]!.decision).toBe('more');
  });

  it('the extra round: one repetition per wide group, numbered on, shuffled by the seeded generator', () => {
    const wide = ['pod', 'clusterip', 'nodeport', 'hairpin'].flatMap((p) => group(p, [940, 1000, 1060]));
    const cases = [...wide, ...group('clusterip-node', [1000, 1000, 1000, 1000, 1000, 1000])];
    const v = judgeGroups(cases, settings);
    const a = extraRound(v, createRng(42));
    expect(a.map((c) => c.id).sort()).toEqual([
      'nft/1000/clusterip/tcp-rr#4',
      'nft/1000/hairpin/tcp-rr#4',
      'nft/1000/nodeport/tcp-rr#4',
      'nft/1000/pod/tcp-rr#4',
    ]);
    expect(a.every((c) => c.repetition === 4 && c.backend === 'nft' && c.services === 1000)).toBe(true);
    expect(extraRound(v, createRng(42))).toEqual(a);
    const orders = new Set(
      [1, 2, 3, 4, 5, 6].map((s) =>
        extraRound(v, createRng(s))
          .map((c) => c.path)
          .join(),
      ),
    );
    expect(orders.size).toBeGreaterThan(1);
    expect(extraRound(judgeGroups(cases, { ...settings, ciTargetPct: 0 }), createRng(42))).toEqual([]);
  });
});

describe('adaptive repetitions of paired blocks: a Service path by its ratio to the pod path', () => {
  /** A case of paired blocks: 4 blocks of 250 ms with these ops each. */
  const blocked = (path: string, rep: number, ops: number[]): CaseResult => {
    const c = completed(
      path,
      rep,
      ops.reduce((a, b) => a + b, 0),
      'tcp-crr',
    );
    if (c.state !== 'completed') throw new Error('unreachable');
    const blocks = ops.map((o, i) => ({
      startMs: 1000 + i * 300,
      plannedMs: 250,
      durationMs: 250,
      ops: o,
      errors: 0,
      timeouts: 0,
      connectionsOpened: o,
      latencyUs: { count: o, mean: 1, p50: 1, p99: 1 },
      cpuUs: { user: 0, system: 0 },
    }));
    return { ...c, result: { ...c.result, blocks } } as CaseResult;
  };
  /** `reps` repetitions: the pod path at 1000 per block, ClusterIP at `ratio(rep)` of it. */
  const unit = (reps: number, ratio: (rep: number) => number): CaseResult[] =>
    Array.from({ length: reps }, (_, i) => [
      blocked('pod', i + 1, [1000, 1000, 1000, 1000]),
      blocked(
        'clusterip',
        i + 1,
        [1, 1, 1, 1].map(() => 1000 * ratio(i + 1)),
      ),
    ]).flat();
  const paired: AdaptiveSettings = { ...settings, paired: () => true, ratioCiTargetPct: 2.5, maxPairedRepeat: 30 };
  const verdictOf = (cases: CaseResult[], s = paired) => judgeGroups(cases, s).find((v) => v.key.path === 'clusterip')!;

  it('the t interval over repetitions decides: 3 steady repetitions meet the target, no minimum of 6 pairs or values', () => {
    const v = verdictOf(unit(3, (r) => [0.97, 0.975, 0.98][r - 1]!));
    expect(v.pairs).toBe(12);
    expect(v.decision).toBe('met');
    // The pod path is the pairs' baseline: it stops with them.
    expect(
      judgeGroups(
        unit(3, (r) => [0.97, 0.975, 0.98][r - 1]!),
        paired,
      ).find((x) => x.key.path === 'pod')!.decision,
    ).toBe('met');
  });

  it('repetitions that disagree ask for more, past --max-repeat up to --max-paired-repeat, then are reported as missing it', () => {
    const wobbly = (r: number) => (r % 2 === 0 ? 0.9 : 1.1);
    expect(verdictOf(unit(3, wobbly)).decision).toBe('more');
    expect(verdictOf(unit(10, wobbly)).decision).toBe('more');
    expect(judgeGroups(unit(10, wobbly), paired).find((x) => x.key.path === 'pod')!.decision).toBe('more');
    expect(verdictOf(unit(30, wobbly)).decision).toBe('max');
    // Without --max-paired-repeat, --max-repeat is the cap.
    expect(verdictOf(unit(10, wobbly), { ...paired, maxPairedRepeat: undefined }).decision).toBe('max');
  });
});
