// The Kubernetes Service model every backend renders from. It mirrors the parts of
// core/v1 Service and discovery/v1 EndpointSlice that kube-proxy reads
// (pkg/proxy/servicechangetracker.go, endpointschangetracker.go).

export type Protocol = 'TCP' | 'UDP';
export type ServiceType = 'ClusterIP' | 'NodePort';
export type SessionAffinity = 'None' | 'ClientIP';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface ServicePort {
  /** Port name; '' when the service has one unnamed port (kube-proxy then omits ":name"). */
  name: string;
  protocol: Protocol;
  port: number;
  targetPort: number;
  /** Present for type NodePort when a node port could be allocated. */
  nodePort?: number;
}

export interface Service {
  namespace: string;
  name: string;
  type: ServiceType;
  clusterIP: string;
  ports: ServicePort[];
  sessionAffinity: SessionAffinity;
  /** sessionAffinityConfig.clientIP.timeoutSeconds; the API default is 10800. */
  stickyMaxAgeSeconds: number;
  externalTrafficPolicy: TrafficPolicy;
  /** Local: ClusterIP traffic goes only to endpoints on the node it arrives at, and is dropped on a
   * node without one (KEP-2086; kube-proxy's InternalPolicyLocal). */
  internalTrafficPolicy: TrafficPolicy;
}

export interface Endpoint {
  ip: string;
  /** True when the endpoint runs on this node (relevant to the traffic policies' Local). */
  local: boolean;
}

/** Everything a backend needs to render: services and, per service ("ns/name"), its endpoints. */
export interface ClusterState {
  services: Service[];
  endpoints: Record<string, Endpoint[]>;
}

/** Node-level settings kube-proxy takes from its flags. */
export interface ProxyConfig {
  /** --cluster-cidr: drives the "! -s podCIDR -j KUBE-MARK-MASQ" local detector. */
  podCidr: string;
  /** --iptables-masquerade-bit 14 → 0x4000. */
  masqueradeMark: string;
  /** The node's own addresses (NodePort destinations). */
  nodeIPs: string[];
}

export const serviceKey = (s: Pick<Service, 'namespace' | 'name'>): string => `${s.namespace}/${s.name}`;
