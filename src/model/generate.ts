import { cidrSize, nthIp, parseCidr } from './ipv4.js';
import type { ClusterState, Endpoint, Service, ServicePort } from './types.js';

// Turns service specs into a ClusterState with allocated cluster IPs and node ports, as the API
// server's allocators would: cluster IPs from the service CIDR, node ports from 30000–32767.

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

export interface ServiceSpec {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort';
  ports: { name: string; protocol: 'TCP' | 'UDP'; port: number; targetPort?: number; nodePort?: number }[];
  /** Endpoint pod IPs. */
  endpoints: string[];
  sessionAffinity?: 'None' | 'ClientIP';
  externalTrafficPolicy?: 'Cluster' | 'Local';
  internalTrafficPolicy?: 'Cluster' | 'Local';
}

export interface Allocation {
  state: ClusterState;
  /** NodePort services that got no node port because the range ran out ("ns/name"). */
  withoutNodePort: string[];
}

/** Allocates sequentially: cluster IPs from the CIDR's 10th address on (the low ones are what
 * clusters reserve for kubernetes.default and DNS), node ports from 30000 on, skipping ports a spec
 * pins. Deterministic, so the same specs always give the same rules. */
export function allocate(specs: readonly ServiceSpec[], serviceCidr: string): Allocation {
  const cidr = parseCidr(serviceCidr);
  if (!cidr) throw new RangeError(`bad service CIDR ${serviceCidr}`);
  const capacity = cidrSize(cidr) - 11;
  if (specs.length > capacity) throw new RangeError(`${specs.length} services do not fit in ${serviceCidr} (room for ${capacity})`);
  const pinned = new Set(specs.flatMap((s) => s.ports.flatMap((p) => (p.nodePort === undefined ? [] : [p.nodePort]))));
  let nextPort = NODE_PORT_MIN;
  const takePort = (): number | undefined => {
    while (nextPort <= NODE_PORT_MAX && pinned.has(nextPort)) nextPort++;
    return nextPort <= NODE_PORT_MAX ? nextPort++ : undefined;
  };
  const withoutNodePort: string[] = [];
  const services: Service[] = [];
  const endpoints: Record<string, Endpoint[]> = {};
  specs.forEach((spec, i) => {
    const key = `${spec.namespace}/${spec.name}`;
    let missing = false;
    const ports: ServicePort[] = spec.ports.map((p) => {
      const port: ServicePort = { name: p.name, protocol: p.protocol, port: p.port, targetPort: p.targetPort ?? p.port };
      if (spec.type === 'NodePort') {
        const np = p.nodePort ?? takePort();
        if (np === undefined) missing = true;
        else port.nodePort = np;
      }
      return port;
    });
    if (missing) withoutNodePort.push(key);
    services.push({
      namespace: spec.namespace,
      name: spec.name,
      type: spec.type,
      clusterIP: nthIp(cidr, 10 + i),
      ports,
      sessionAffinity: spec.sessionAffinity ?? 'None',
      stickyMaxAgeSeconds: 10800,
      externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
      internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
    });
    endpoints[key] = spec.endpoints.map((ip) => ({ ip, local: true }));
  });
  return { state: { services, endpoints }, withoutNodePort };
}
