import { describe, expect, it } from 'vitest';
import { createRng } from '../stats/index.js';
import { planCases } from './plan.js';

describe('run plan', () => {
  const o = {
    backends: ['nft', 'iptables-restore'],
    services: [1000, 100],
    paths: ['pod', 'clusterip'] as const,
    workloads: ['http'],
    repeat: 3,
    seed: 42,
  };

  it('covers the matrix once per repetition, scale points ascending, rounds interleaved', () => {
    const plan = planCases({ ...o, paths: [...o.paths] });
    expect(plan.map((s) => s[0]!.services)).toEqual([100, 1000]);
    for (const scale of plan) {
      expect(scale).toHaveLength(2 * 2 * 3);
      // Round r holds every case exactly once before round r+1 starts.
      expect(scale.map((c) => c.repetition)).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
      expect(new Set(scale.map((c) => c.id)).size).toBe(12);
    }
  });

  it('is reproducible from its seed, and another seed gives another order', () => {
    const a = planCases({ ...o, paths: [...o.paths] })
      .flat()
      .map((c) => c.id);
    const b = planCases({ ...o, paths: [...o.paths] })
      .flat()
      .map((c) => c.id);
    const c = planCases({ ...o, paths: [...o.paths], seed: 7 })
      .flat()
      .map((x) => x.id);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect([...c].sort()).toEqual([...a].sort());
  });

  it("draws from the caller's generator when given one (extra rounds continue its stream)", () => {
    const rng = createRng(42);
    expect(planCases({ ...o, paths: [...o.paths], rng })).toEqual(planCases({ ...o, paths: [...o.paths] }));
    // The stream moved on: the next draw is not the first draw of a fresh generator.
    expect(rng.nextUint32()).not.toBe(createRng(42).nextUint32());
  });
});
