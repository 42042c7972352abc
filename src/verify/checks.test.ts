import { describe, expect, it } from 'vitest';
import type { Prober } from '../probe/client.js';
import { spreadCheck } from './checks.js';

// The spread check's sequential test against a prober that answers from a fixed list of spreads,
// one per sample it is asked for.

const THREE = ['srv-0', 'srv-1', 'srv-2'];
const prober = (...spreads: number[][]): { probe: Prober; samples: () => number } => {
  let asked = 0;
  const probe: Prober = async (_netns, targets) => {
    const counts = spreads[asked++]!;
    const replies = counts.flatMap((n, i) => Array.from({ length: n }, () => THREE[i]!));
    expect(replies).toHaveLength(targets.length);
    return targets.map((target, i) => ({ target, ok: true, reply: replies[i]!, ms: 1 }));
  };
  return { probe, samples: () => asked };
};

describe('spreadCheck', () => {
  it('passes an even spread on one sample of 300', async () => {
    const p = prober([100, 95, 105]);
    const r = await spreadCheck(p.probe, 'cli', '10.96.0.1:80', THREE);
    expect(r.pass).toBe(true);
    expect(p.samples()).toBe(1);
    expect(r.detail).toBe('300 connections: srv-0=100 srv-1=95 srv-2=105; χ²=0.50, p=0.779');
  });

  it('confirms a rejection on a fresh sample, which decides, and shows both', async () => {
    const chance = prober([66, 105, 129], [98, 101, 101]);
    const r = await spreadCheck(chance.probe, 'cli', '10.96.0.1:80', THREE);
    expect(chance.samples()).toBe(2);
    expect(r.pass).toBe(true);
    expect(r.detail).toBe(
      '300 connections: srv-0=66 srv-1=105 srv-2=129; χ²=20.22, p=0.0000407; a fresh 300: 300 connections: srv-0=98 srv-1=101 srv-2=101; χ²=0.06, p=0.970',
    );
    // Probability 1/3 on every rule (1/3, 2/9, 4/9 of the traffic): both samples reject it.
    const skewed = prober([100, 67, 133], [97, 70, 133]);
    expect((await spreadCheck(skewed.probe, 'cli', '10.96.0.1:80', THREE)).pass).toBe(false);
  });

  it('fails at once on a connection answered by no endpoint, however even the rest', async () => {
    let asked = 0;
    const stray: Prober = async (_netns, targets) => {
      asked++;
      return targets.map((target, i) =>
        i === 0 ? { target, ok: false, error: 'timeout', ms: 1 } : { target, ok: true, reply: THREE[i % 3]!, ms: 1 },
      );
    };
    const r = await spreadCheck(stray, 'cli', '10.96.0.1:80', THREE);
    expect(r.pass).toBe(false);
    expect(r.detail).toMatch(/; unexpected: error: timeout$/);
    expect(asked).toBe(1);
  });

  it('fails at once when no connection reached an endpoint', async () => {
    let asked = 0;
    const none: Prober = async (_netns, targets) => {
      asked++;
      return targets.map((target) => ({ target, ok: false, error: 'timeout', ms: 1 }));
    };
    const r = await spreadCheck(none, 'cli', '10.96.0.1:80', THREE);
    expect(r).toMatchObject({ pass: false, detail: '300 connections, none answered by an endpoint: error: timeout' });
    expect(asked).toBe(1);
  });
});
