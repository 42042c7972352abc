import { describe, expect, it } from 'vitest';
import { runSchema } from './results.js';
import { summarizeProgramming } from './proglat.js';

const sample = (ms: number | null, syncMs = 10, note?: string) => ({ ms, syncMs, attempts: 12, ...(note ? { note } : {}) });

describe('summarizeProgramming', () => {
  it('reports the median of the answered repetitions with its bootstrap CI and the syncs’ median', () => {
    const p = summarizeProgramming('nft', 1000, [sample(12), sample(9, 8), sample(11, 9), sample(10, 12), sample(30, 11)], 7);
    expect(p).toMatchObject({ backend: 'nft', services: 1000, ms: 11, syncMs: 10 });
    expect(p.ci!.low).toBeLessThanOrEqual(11);
    expect(p.ci!.high).toBeGreaterThanOrEqual(11);
    expect(p.ci!.high).toBeLessThanOrEqual(30);
    expect(p.samples).toHaveLength(5);
    expect(p.note).toBeUndefined();
    // Seeded: the same samples and seed give the same interval.
    expect(summarizeProgramming('nft', 1000, p.samples!, 7).ci).toEqual(p.ci);
  });

  it('says how many repetitions went unanswered, and why', () => {
    const p = summarizeProgramming('ebpf', 100, [sample(2), sample(null, 10, 'no attempt answered'), sample(3)], 1);
    expect(p.ms).toBe(2.5);
    expect(p.note).toBe('1 of 3 repetitions unanswered: no attempt answered');
  });

  it('is null with the reason when nothing answered, and has no CI below two answers', () => {
    expect(summarizeProgramming('x', 1, [sample(null, 5, 'the prober started after the sync')], 1)).toMatchObject({
      ms: null,
      note: 'the prober started after the sync',
      syncMs: 5,
    });
    expect(summarizeProgramming('x', 1, [sample(4)], 1).ci).toBeUndefined();
  });

  it('flags answered repetitions resolved worse than 3 ms', () => {
    const p = summarizeProgramming(
      'nft',
      1000,
      [
        { ...sample(12), stepMs: 1.1 },
        { ...sample(9), stepMs: 7.25 },
        { ...sample(11), stepMs: 4 },
      ],
      1,
    );
    expect(p.note).toBe(
      '2 of 3 answered repetitions resolved worse than 3 ms (the rules appeared in an interval of up to 7.3 ms: the prober stalled)',
    );
    expect(summarizeProgramming('nft', 1000, [{ ...sample(12), stepMs: 2.9 }], 1).note).toBeUndefined();
  });

  it('fits run.json’s schema, as do entries written before repetitions', () => {
    const entry = summarizeProgramming('nft', 10, [sample(1), sample(2)], 1);
    const shape = runSchema.shape.programmingLatency;
    expect(shape.parse([entry, { backend: 'nft', services: 10, ms: 90, note: '2 attempts' }])).toHaveLength(2);
  });
});
