import { endpointCounts, type EndpointsDist } from '../model/endpoint-counts.js';
import { allocate, type ServiceSpec } from '../model/generate.js';
import { cidrSize, nthIp, parseCidr } from '../model/ipv4.js';
import type { ClusterState, Endpoint, Service } from '../model/types.js';
import type { ShapeService } from '../shape/read.js';
import { scaleShape } from '../shape/scale.js';

// The Service states `bench sync` installs at one scale point (pure). Service 0 is the probe: a
// ClusterIP whose endpoints are the sandbox's real server pods, so after each point one connection
// proves the rules forward. The others follow --endpoints (a count or a distribution, seeded) or
// --shape (a real cluster's shape scaled to the point). Their endpoints are addresses of the pod
// CIDR that no pod holds (nothing is sent to them), from the upper half of the pod CIDR so they
// never collide with the sandbox's pods; endpoints of different services may share an address,
// as a pod may back several services, but never within one service.

export const NS = 'syncbench';
export const PROBE_SERVICE = 'probe';
export const PROBE_PORT = 9090;

export interface PointSpec {
  services: number;
  /** Either a distribution of endpoint counts or a shape (scaled to `services`). */
  endpoints: EndpointsDist | { kind: 'shape'; services: readonly ShapeService[] };
  seed: number;
  podCidr: string;
  serviceCidr: string;
  /** The sandbox's server pods' IPs: the probe service's endpoints. */
  probeEndpoints: readonly string[];
}

export interface PointStates {
  state: ClusterState;
  probe: Service;
  /** Endpoints of the whole state (all services), and services that got no node port. */
  endpoints: number;
  withoutNodePort: number;
  /** Where the synthetic endpoint addresses continue (for services added later). */
  nextAddress: number;
}

/** The synthetic endpoint address pool: the upper half of the pod CIDR. */
function addressPool(podCidr: string): (k: number) => string {
  const cidr = parseCidr(podCidr);
  if (!cidr) throw new RangeError(`bad pod CIDR ${podCidr}`);
  const half = cidrSize(cidr) / 2;
  // Skip the half's network-like first address and the broadcast-like last one.
  const size = half - 2;
  return (k: number) => nthIp(cidr, half + 1 + (k % size));
}

const portName = (i: number) => (i === 0 ? 'p0' : `p${i}`);

export function pointStates(p: PointSpec): PointStates {
  const pool = addressPool(p.podCidr);
  let next = 0;
  const take = (k: number): string[] => Array.from({ length: k }, () => pool(next++));
  const specs: ServiceSpec[] = [
    {
      namespace: NS,
      name: PROBE_SERVICE,
      type: 'ClusterIP',
      ports: [{ name: 'ident', protocol: 'TCP', port: 80, targetPort: PROBE_PORT }],
      endpoints: [...p.probeEndpoints],
    },
  ];
  const fillers = p.services - 1;
  if (p.endpoints.kind === 'shape') {
    const shaped = fillers > 0 ? scaleShape({ services: p.endpoints.services }, fillers) : [];
    shaped.forEach((s, i) => {
      // SCTP is not modelled by the backends: such ports are left out (a service of SCTP ports
      // only keeps one TCP port, so it still has rules).
      const ports = s.ports.filter((x) => x.protocol !== 'SCTP');
      const kept = ports.length > 0 ? ports : [{ protocol: 'TCP' as const, nodePort: s.type === 'NodePort' }];
      specs.push({
        namespace: NS,
        name: `svc-${i + 1}`,
        type: s.type,
        ports: kept.map((x, j) => ({
          name: kept.length > 1 ? portName(j) : '',
          protocol: x.protocol as 'TCP' | 'UDP',
          port: 80 + j,
          targetPort: 8080 + j,
        })),
        endpoints: take(s.endpoints),
        sessionAffinity: s.sessionAffinity,
        externalTrafficPolicy: s.externalTrafficPolicy,
        internalTrafficPolicy: s.internalTrafficPolicy,
      });
    });
  } else {
    const counts = endpointCounts(p.endpoints, fillers, p.seed);
    counts.forEach((k, i) => {
      specs.push({
        namespace: NS,
        name: `svc-${i + 1}`,
        type: 'ClusterIP',
        ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 8080 }],
        endpoints: take(k),
      });
    });
  }
  const { state, withoutNodePort } = allocate(specs, p.serviceCidr);
  // The synthetic endpoints run on other nodes; the probe's are this node's pods.
  for (const s of state.services.slice(1)) {
    const key = `${s.namespace}/${s.name}`;
    state.endpoints[key] = state.endpoints[key]!.map((e): Endpoint => ({ ip: e.ip, local: false }));
  }
  const endpoints = Object.values(state.endpoints).reduce((a, e) => a + e.length, 0);
  return { state, probe: state.services[0]!, endpoints, withoutNodePort: withoutNodePort.length, nextAddress: next };
}

/** A ClusterIP service of one TCP port at the service CIDR's address `index`. */
function newService(serviceCidr: string, name: string, index: number): Service {
  return {
    namespace: NS,
    name,
    type: 'ClusterIP',
    clusterIP: nthIp(parseCidr(serviceCidr)!, index),
    ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 8080 }],
    sessionAffinity: 'None',
    stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
  };
}

export type Step = 'full-cold' | 'full-restart' | 'raw-load' | 'add-service' | 'add-endpoint' | 'remove-service' | 'churn';

/** The partial steps in the order they run, each from the state the previous one left. */
export interface PartialSteps {
  /** S → S + one service (one endpoint). */
  added: ClusterState;
  /** S + one service → the same with one more endpoint on the probe service (a pod of this node). */
  grown: ClusterState;
  /** The added service removed again (the probe keeps its new endpoint): S plus that endpoint. */
  removed: ClusterState;
  /** S with K services removed and K new ones added at once (kube-proxy's churn: #139513's 50
   * services every 30 s). The removed ones are the last K fillers, the new ones take new IPs. */
  churned: ClusterState;
}

export function partialSteps(
  pt: PointStates,
  o: { serviceCidr: string; podCidr: string; churn: number; spareEndpoint: string },
): PartialSteps {
  const { state } = pt;
  const pool = addressPool(o.podCidr);
  let next = pt.nextAddress;
  // allocate() gave S the addresses 10 … 10 + |S| − 1; new services take the ones after them, so
  // none reuses a cluster IP of S (new Services get new IPs).
  let ipIndex = 10 + state.services.length;
  const added1 = newService(o.serviceCidr, 'added', ipIndex++);
  const added: ClusterState = {
    services: [...state.services, added1],
    endpoints: { ...state.endpoints, [`${NS}/added`]: [{ ip: pool(next++), local: false }] },
  };
  const probeKey = `${NS}/${PROBE_SERVICE}`;
  const grown: ClusterState = {
    services: added.services,
    endpoints: { ...added.endpoints, [probeKey]: [...state.endpoints[probeKey]!, { ip: o.spareEndpoint, local: true }] },
  };
  const removed: ClusterState = { services: state.services, endpoints: { ...state.endpoints, [probeKey]: grown.endpoints[probeKey]! } };
  // Churn, from there: drop the last K fillers (never the probe) and add K new ones, in one sync.
  const k = Math.min(o.churn, state.services.length - 1);
  const services = state.services.slice(0, state.services.length - k);
  const endpoints: Record<string, Endpoint[]> = {};
  for (const s of services) endpoints[`${s.namespace}/${s.name}`] = removed.endpoints[`${s.namespace}/${s.name}`]!;
  for (let i = 0; i < o.churn; i++) {
    const svc = newService(o.serviceCidr, `churn-${i}`, ipIndex++);
    services.push(svc);
    endpoints[`${NS}/churn-${i}`] = [{ ip: pool(next++), local: false }];
  }
  return { added, grown, removed, churned: { services, endpoints } };
}
