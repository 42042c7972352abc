import type { ClusterState, Endpoint } from './types.js';

// What differs between the nodes of a cluster, as each node's kube-proxy sees the same Services:
// which endpoints are local to it (externalTrafficPolicy: Local keeps only those; IPVS's hairpin
// set KUBE-LOOP-BACK and eBPF's local-endpoint selection are built from them), and its own node IPs
// (ProxyConfig.nodeIPs, carried by the NodeTarget). kube-proxy takes "local" from the
// EndpointSlice's nodeName against its own --hostname-override (pkg/proxy/endpointslicecache.go,
// IsLocal); here it is whether the endpoint's pod runs in this node's namespace.

/** `state` as the node holding the pods at `localIps` sees it: an endpoint is local when its address
 * is one of them. Endpoint lists keep their order; services are shared, not copied. */
export function localize(state: ClusterState, localIps: ReadonlySet<string>): ClusterState {
  const endpoints: Record<string, Endpoint[]> = {};
  for (const [key, eps] of Object.entries(state.endpoints)) endpoints[key] = eps.map((e) => ({ ip: e.ip, local: localIps.has(e.ip) }));
  return { services: state.services, endpoints };
}
