import { describe, expect, it } from 'vitest';
import { sandboxSchema } from '../config/sandbox.js';
import { planTopology } from '../sandbox/plan.js';
import { NS, scaleState } from './services.js';

const plan = planTopology('abc123', sandboxSchema.parse({ pods: 4, clients: 1 }));
const base = { plan, services: 50, endpoints: 3, target: 'last' as const, seed: 9, workloads: [] };
const eps = (s: ReturnType<typeof scaleState>, name: string) => s.state.endpoints[`${NS}/${name}`]!.map((e) => e.ip);

describe('scaleState endpoints', () => {
  it('a fixed count: every filler on the measured service pods', () => {
    const s = scaleState(base);
    const pods = plan.pods
      .filter((p) => p.kind === 'server')
      .slice(0, 3)
      .map((p) => p.ip);
    expect(eps(s, 'measured')).toEqual(pods);
    expect(eps(s, 'filler-0')).toEqual(pods);
    expect(eps(s, 'filler-48')).toEqual(pods);
  });

  it('a distribution: fillers draw their counts (seeded), real pods first, then pod-CIDR addresses no pod holds', () => {
    const dist = { kind: 'uniform' as const, min: 1, max: 8 };
    const s = scaleState({ ...base, fillers: dist });
    expect(s.state.endpoints[`${NS}/measured`]).toHaveLength(3);
    const counts = s.state.services.filter((x) => x.name !== 'measured').map((x) => eps(s, x.name).length);
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBe(8);
    const big = s.state.services.find((x) => eps(s, x.name).length === 8)!;
    const ips = eps(s, big.name);
    expect(new Set(ips).size).toBe(8);
    expect(ips.slice(3).every((ip) => ip.startsWith('10.244.128.') || ip.startsWith('10.244.129.'))).toBe(true);
    expect(scaleState({ ...base, fillers: dist })).toEqual(s);
  });
});
