import { describe, expect, it } from 'vitest';
import { cfg, service, tcp } from '../../src/model/test-support/states.js';
import type { ClusterState, Endpoint, Service } from '../../src/model/types.js';
import { describeKey, describeValue, readEntry } from './layout.js';
import { encode, encodeServices, frontendsOf, renderFull, renderPartial, type MapBatch } from './render.js';

// internalTrafficPolicy Local at the cluster IP: only this node's endpoints, a head of count 0
// (connect refused) when there is none; kube-proxy's TestInternalTrafficPolicy cases
// (../nft/testdata/internal-traffic-policy.txt) as svc_map entries.

const lines = (b: MapBatch): string[] =>
  Array.from({ length: b.count }, (_, i) => {
    const e = readEntry(b.keys, b.values, i);
    return `${describeKey(e)} → ${describeValue(e)}`;
  });
const ep = (ip: string, local: boolean): Endpoint => ({ ip, local });
const state = (eps: Endpoint[], extra: Partial<Service> = {}): ClusterState => ({
  services: [service('ns1', 'svc1', '172.30.1.1', [tcp('', 80)], { internalTrafficPolicy: 'Local', ...extra })],
  endpoints: { 'ns1/svc1': eps },
});

describe('eBPF internalTrafficPolicy Local', () => {
  it('one local endpoint: the cluster IP selects only it', () => {
    expect(lines(renderFull(state([ep('10.0.1.1', true), ep('10.0.1.2', false), ep('10.0.1.3', false)]), cfg).update)).toEqual([
      '172.30.1.1:80/tcp slot 1 → 10.0.1.1:80',
      '172.30.1.1:80/tcp slot 0 → 1 endpoints',
    ]);
  });

  it('no local endpoint: a head without endpoints, which connect4 refuses (no packet leaves the client)', () => {
    expect(lines(renderFull(state([ep('10.0.1.1', false), ep('10.0.1.2', false)]), cfg).update)).toEqual([
      '172.30.1.1:80/tcp slot 0 → 0 endpoints',
    ]);
  });

  it('the node port keeps its own policy (external Cluster: every endpoint)', () => {
    const s = state([ep('10.0.1.1', true), ep('10.0.1.2', false)], { type: 'NodePort', ports: [tcp('', 80, 80, 30001)] });
    expect(lines(renderFull(s, cfg).update)).toEqual([
      '172.30.1.1:80/tcp slot 1 → 10.0.1.1:80',
      '172.30.1.1:80/tcp slot 0 → 1 endpoints',
      '192.168.0.2:30001/tcp slot 1 → 10.0.1.1:80',
      '192.168.0.2:30001/tcp slot 2 → 10.0.1.2:80',
      '192.168.0.2:30001/tcp slot 0 → 2 endpoints',
    ]);
    const direct = encodeServices(s.services, (x) => s.endpoints[`${x.namespace}/${x.name}`], cfg);
    const via = encode(s.services.flatMap((x) => frontendsOf(x, s.endpoints[`${x.namespace}/${x.name}`], cfg)));
    expect(direct.keys.equals(via.keys) && direct.values.equals(via.values)).toBe(true);
  });

  it('switching the policy is a partial sync that drops the remote slots', () => {
    const eps = [ep('10.0.1.1', true), ep('10.0.1.2', false), ep('10.0.1.3', false)];
    const r = renderPartial(state(eps, { internalTrafficPolicy: 'Cluster' }), state(eps), cfg);
    expect(lines(r.update)).toEqual(['172.30.1.1:80/tcp slot 1 → 10.0.1.1:80', '172.30.1.1:80/tcp slot 0 → 1 endpoints']);
    expect(r.remove.count).toBe(2);
  });
});
