import { describe, expect, it } from 'vitest';
import { allocate, type ServiceSpec } from './generate.js';

const spec = (name: string, type: ServiceSpec['type'] = 'NodePort', nodePort?: number): ServiceSpec => ({
  namespace: 'default',
  name,
  type,
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, ...(nodePort === undefined ? {} : { nodePort }) }],
  endpoints: ['10.244.0.2'],
});

describe('allocation', () => {
  it('gives cluster IPs from the service CIDR and node ports from 30000, skipping pinned ports', () => {
    const { state } = allocate([spec('a'), spec('b', 'NodePort', 30001), spec('c'), spec('d', 'ClusterIP')], '10.96.0.0/12');
    expect(state.services.map((s) => s.clusterIP)).toEqual(['10.96.0.10', '10.96.0.11', '10.96.0.12', '10.96.0.13']);
    expect(state.services.map((s) => s.ports[0]!.nodePort)).toEqual([30000, 30001, 30002, undefined]);
    expect(state.services[0]!.ports[0]!.targetPort).toBe(8080);
    expect(state.endpoints['default/a']).toEqual([{ ip: '10.244.0.2', local: true }]);
  });

  it('says which services got no node port when there are more than 2,768', () => {
    const specs = Array.from({ length: 2770 }, (_, i) => spec(`s${i}`));
    const { state, withoutNodePort } = allocate(specs, '10.96.0.0/12');
    expect(withoutNodePort).toEqual(['default/s2768', 'default/s2769']);
    expect(state.services[2767]!.ports[0]!.nodePort).toBe(32767);
    expect(state.services[2768]!.ports[0]!.nodePort).toBeUndefined();
  });

  it('refuses more services than the CIDR holds', () => {
    expect(() =>
      allocate(
        Array.from({ length: 6 }, (_, i) => spec(`s${i}`)),
        '10.96.0.0/28',
      ),
    ).toThrow(/do not fit/);
  });
});
