import { describe, expect, it } from 'vitest';
import { cfg, service, tcp } from '../../src/model/test-support/states.js';
import type { ClusterState, Endpoint, Service } from '../../src/model/types.js';
import { desiredState, vsKey } from './render.js';

// internalTrafficPolicy in IPVS mode: syncProxyRules passes internalNodeLocal =
// svcInfo.InternalPolicyLocal() to syncEndpoint for the ClusterIP virtual server, which keeps
// localEndpoints when there are any and otherwise falls back to clusterEndpoints (kubernetes#97081);
// clusterEndpoints exist only when Cluster policy is used (CategorizeEndpoints). No kube-proxy test
// with expected IPVS output for internalTrafficPolicy was found in the search index (TestInternalTrafficPolicy
// covers the iptables and nftables proxiers), so these cases follow proxier.go's code.

const ep = (ip: string, local: boolean): Endpoint => ({ ip, local });
const state = (eps: Endpoint[], extra: Partial<Service> = {}): ClusterState => ({
  services: [service('ns1', 'svc1', '172.30.1.1', [tcp('', 80)], { internalTrafficPolicy: 'Local', ...extra })],
  endpoints: { 'ns1/svc1': eps },
});
const reals = (s: ClusterState, address = '172.30.1.1', port = 80): string[] =>
  [...desiredState(s, cfg).virtualServers.get(vsKey('tcp', address, port))!.reals].sort();

describe('IPVS internalTrafficPolicy Local', () => {
  it('the ClusterIP virtual server holds only local real servers', () => {
    expect(reals(state([ep('10.0.1.1', true), ep('10.0.1.2', false), ep('10.0.1.3', false)]))).toEqual(['10.0.1.1:80']);
    expect(reals(state([ep('10.0.1.1', true), ep('10.0.1.2', true), ep('10.0.1.3', false)]))).toEqual(['10.0.1.1:80', '10.0.1.2:80']);
  });

  it('without local endpoints the virtual server stays, with no real server (IPVS then refuses the connection)', () => {
    const s = state([ep('10.0.1.1', false), ep('10.0.1.2', false)]);
    expect(reals(s)).toEqual([]);
    expect(desiredState(s, cfg).addresses.has('172.30.1.1')).toBe(true);
  });

  it('Cluster policy keeps every endpoint', () => {
    expect(reals(state([ep('10.0.1.1', true), ep('10.0.1.2', false)], { internalTrafficPolicy: 'Cluster' }))).toEqual([
      '10.0.1.1:80',
      '10.0.1.2:80',
    ]);
  });

  it('with a node port (Cluster policy used) and no local endpoint, the ClusterIP falls back to clusterEndpoints (#97081)', () => {
    const s = state([ep('10.0.1.1', false), ep('10.0.1.2', false)], { type: 'NodePort', ports: [tcp('', 80, 80, 30001)] });
    expect(reals(s)).toEqual(['10.0.1.1:80', '10.0.1.2:80']);
    expect(reals(s, '192.168.0.2', 30001)).toEqual(['10.0.1.1:80', '10.0.1.2:80']); // external policy Cluster
  });
});
