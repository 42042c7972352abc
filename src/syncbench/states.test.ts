import { describe, expect, it } from 'vitest';
import type { ShapeService } from '../shape/read.js';
import { NS, partialSteps, pointStates, PROBE_PORT } from './states.js';

const base = { seed: 1, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12', probeEndpoints: ['10.244.0.2', '10.244.0.3', '10.244.0.4'] };

describe('pointStates', () => {
  it('puts the probe service first, on the real pods, and N − 1 fillers with the fixed count', () => {
    const p = pointStates({ ...base, services: 4, endpoints: { kind: 'fixed', count: 2 } });
    expect(p.state.services.map((s) => s.name)).toEqual(['probe', 'svc-1', 'svc-2', 'svc-3']);
    expect(p.probe.clusterIP).toBe('10.96.0.10');
    expect(p.probe.ports).toEqual([{ name: 'ident', protocol: 'TCP', port: 80, targetPort: PROBE_PORT }]);
    expect(p.state.endpoints[`${NS}/probe`]).toEqual(base.probeEndpoints.map((ip) => ({ ip, local: true })));
    // Synthetic endpoints: the upper half of the pod CIDR, remote, distinct within a service.
    expect(p.state.endpoints[`${NS}/svc-1`]).toEqual([
      { ip: '10.244.128.1', local: false },
      { ip: '10.244.128.2', local: false },
    ]);
    expect(p.state.endpoints[`${NS}/svc-3`]!.map((e) => e.ip)).toEqual(['10.244.128.5', '10.244.128.6']);
    expect([p.endpoints, p.withoutNodePort, p.nextAddress]).toEqual([9, 0, 6]);
  });

  it('draws counts from a distribution with the seed (deterministic)', () => {
    const spec = { ...base, services: 200, endpoints: { kind: 'zipf' as const, exponent: 1.2, min: 1, max: 50 } };
    const a = pointStates(spec);
    expect(pointStates(spec)).toEqual(a);
    const counts = a.state.services.slice(1).map((s) => a.state.endpoints[`${NS}/${s.name}`]!.length);
    expect(Math.min(...counts)).toBe(1);
    expect(Math.max(...counts)).toBeGreaterThan(5);
    expect(pointStates({ ...spec, seed: 2 })).not.toEqual(a);
  });

  it('follows a shape scaled to the point, SCTP ports left out', () => {
    const shape: ShapeService[] = [
      {
        type: 'NodePort',
        ports: [
          { protocol: 'TCP', nodePort: true },
          { protocol: 'UDP', nodePort: true },
        ],
        endpoints: 3,
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        internalTrafficPolicy: 'Cluster',
      },
      {
        type: 'ClusterIP',
        ports: [{ protocol: 'SCTP', nodePort: false }],
        endpoints: 0,
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Local',
      },
    ];
    const p = pointStates({ ...base, services: 5, endpoints: { kind: 'shape', services: shape } });
    const [, a, , c] = p.state.services;
    expect(a!.type).toBe('NodePort');
    expect(a!.ports.map((x) => [x.name, x.protocol, x.port, x.nodePort])).toEqual([
      ['p0', 'TCP', 80, 30000],
      ['p1', 'UDP', 81, 30001],
    ]);
    expect(a!.sessionAffinity).toBe('ClientIP');
    expect(a!.externalTrafficPolicy).toBe('Local');
    expect([a!.internalTrafficPolicy, c!.internalTrafficPolicy]).toEqual(['Cluster', 'Local']);
    expect(c!.ports.map((x) => x.protocol)).toEqual(['TCP']);
    expect(p.state.endpoints[`${NS}/${c!.name}`]).toEqual([]);
    expect(p.endpoints).toBe(3 + 3 + 3);
  });
});

describe('partialSteps', () => {
  const p = pointStates({ ...base, services: 100, endpoints: { kind: 'fixed', count: 1 } });
  const steps = partialSteps(p, { serviceCidr: base.serviceCidr, podCidr: base.podCidr, churn: 5, spareEndpoint: '10.244.0.5' });

  it('adds a service with a new cluster IP, then an endpoint on the probe, then removes the service', () => {
    expect(steps.added.services).toHaveLength(101);
    const added = steps.added.services.at(-1)!;
    expect(added.clusterIP).toBe('10.96.0.110');
    expect(steps.added.endpoints[`${NS}/added`]).toEqual([{ ip: '10.244.128.100', local: false }]);
    expect(steps.grown.endpoints[`${NS}/probe`]!.at(-1)).toEqual({ ip: '10.244.0.5', local: true });
    expect(steps.removed.services).toBe(p.state.services);
    expect(steps.removed.endpoints[`${NS}/probe`]).toHaveLength(4);
    expect(steps.removed.endpoints[`${NS}/added`]).toBeUndefined();
    expect(steps.churned.endpoints[`${NS}/probe`]).toHaveLength(4);
  });

  it('churns K services: the last K fillers out, K new ones in at once, the probe kept', () => {
    const names = steps.churned.services.map((s) => s.name);
    expect(names).toHaveLength(100);
    expect(names[0]).toBe('probe');
    expect(names.slice(-6)).toEqual(['svc-94', 'churn-0', 'churn-1', 'churn-2', 'churn-3', 'churn-4']);
    expect(names).not.toContain('svc-95');
    const ips = new Set(p.state.services.map((s) => s.clusterIP));
    for (const s of steps.churned.services.slice(-5)) expect(ips.has(s.clusterIP)).toBe(false);
    expect(Object.keys(steps.churned.endpoints)).toHaveLength(100);
  });

  it('never removes the probe, however large the churn', () => {
    const small = pointStates({ ...base, services: 3, endpoints: { kind: 'fixed', count: 1 } });
    const s = partialSteps(small, { serviceCidr: base.serviceCidr, podCidr: base.podCidr, churn: 50, spareEndpoint: '10.244.0.5' });
    expect(s.churned.services[0]!.name).toBe('probe');
    expect(s.churned.services).toHaveLength(51);
  });
});
