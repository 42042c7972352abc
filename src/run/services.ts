import type { Workload } from '../../workloads/types.js';
import { allocate, type ServiceSpec } from '../model/generate.js';
import { endpointCounts, type EndpointsDist } from '../model/endpoint-counts.js';
import { cidrSize, nthIp, parseCidr } from '../model/ipv4.js';
import type { ClusterState, Service } from '../model/types.js';
import type { PodPlan, TopologyPlan } from '../sandbox/plan.js';
import { createRng } from '../stats/index.js';

// The services a run installs at one scale point (pure): N services of which one is measured; the
// measured one sits first, in the middle, last or at a random place of the lookup order (the order
// backends render, which is the order of KUBE-SERVICES for iptables). Fillers are ClusterIP
// services whose endpoints are real pods.

export const NS = 'bench';
export const IDENT_PORT = 9090;
export const FILLER_TARGET_PORT = 8080;

export interface ScaleState {
  state: ClusterState;
  measured: Service;
  /** Position of the measured service among the N (0-based). */
  position: number;
  /** On more than one node: the cross-node paths' services (crossNodeSpecs). */
  crossNode?: CrossNodeServices;
}

/** The services of the cross-node paths: like the measured one, but with endpoints only off the
 * client's node 0, under externalTrafficPolicy Cluster (remote) and Local (local). */
export interface CrossNodeServices {
  remote: Service;
  local: Service;
  /** Their endpoint pods (all off node 0). */
  pods: PodPlan[];
}

/** The endpoint pods of the cross-node services: the measured service's endpoints that are off
 * node 0, or, when it has none there (--endpoints 1 with spread), the first server pod off node 0. */
export function remoteEndpointPods(plan: TopologyPlan, endpoints: number): PodPlan[] {
  const servers = plan.pods.filter((p) => p.kind === 'server');
  const off = servers.slice(0, endpoints).filter((p) => p.node !== 0);
  if (off.length > 0) return off;
  const first = servers.find((p) => p.node !== 0);
  return first ? [first] : [];
}

export function measuredPosition(target: 'first' | 'middle' | 'last' | 'random', n: number, seed: number): number {
  if (target === 'first') return 0;
  if (target === 'middle') return Math.floor((n - 1) / 2);
  if (target === 'last') return n - 1;
  return createRng(seed).nextInt(n);
}

export function scaleState(o: {
  plan: TopologyPlan;
  services: number;
  endpoints: number;
  target: 'first' | 'middle' | 'last' | 'random';
  seed: number;
  workloads: readonly Workload[];
  /** The other services' endpoint counts (default: as many as the measured one's). */
  fillers?: EndpointsDist;
}): ScaleState {
  // The last server pod is kept spare: partial syncs add it as a new endpoint.
  const pool = o.plan.pods.filter((p) => p.kind === 'server').slice(0, o.endpoints);
  const measuredEndpoints = pool.map((p) => p.ip);
  const fillerEndpoints = fillerEndpointsOf(o.fillers, measuredEndpoints, o.plan.podCidr, o.services, o.seed);
  const position = measuredPosition(o.target, o.services, o.seed);
  const specs: ServiceSpec[] = [];
  const ports = [
    ...o.workloads.map((w) => ({ name: w.name, protocol: w.protocol, port: w.serverPort, targetPort: w.serverPort })),
    { name: 'ident', protocol: 'TCP' as const, port: IDENT_PORT, targetPort: IDENT_PORT },
  ];
  // More than one node: two more services right after the measured one (so N + 2 in all).
  const remotePods = o.plan.nodes.length > 1 ? remoteEndpointPods(o.plan, o.endpoints) : [];
  for (let i = 0; i < o.services; i++) {
    if (i === position) {
      specs.push({ namespace: NS, name: 'measured', type: 'NodePort', ports, endpoints: measuredEndpoints });
      if (remotePods.length > 0) {
        const endpoints = remotePods.map((p) => p.ip);
        specs.push({ namespace: NS, name: 'measured-remote', type: 'NodePort', ports, endpoints });
        specs.push({ namespace: NS, name: 'measured-local', type: 'NodePort', ports, endpoints, externalTrafficPolicy: 'Local' });
      }
    } else {
      specs.push({
        namespace: NS,
        name: `filler-${i}`,
        type: 'ClusterIP',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: FILLER_TARGET_PORT }],
        endpoints: fillerEndpoints(i),
      });
    }
  }
  const { state } = allocate(specs, o.plan.serviceCidr);
  const crossNode =
    remotePods.length > 0 ? { remote: state.services[position + 1]!, local: state.services[position + 2]!, pods: remotePods } : undefined;
  return { state, measured: state.services[position]!, position, ...(crossNode ? { crossNode } : {}) };
}

/**
 * The endpoints of filler i. Without a distribution: the measured service's pods. With one: the
 * count drawn for it (seeded), the real pods first (rotated by i, so fillers spread over them), then
 * addresses of the pod CIDR's upper half that no pod holds (nothing is sent to a filler).
 */
function fillerEndpointsOf(
  dist: EndpointsDist | undefined,
  pods: string[],
  podCidr: string,
  services: number,
  seed: number,
): (i: number) => string[] {
  if (dist === undefined || dist.kind === 'fixed') return () => pods;
  const counts = endpointCounts(dist, services, seed);
  const cidr = parseCidr(podCidr)!;
  const half = cidrSize(cidr) / 2;
  let next = 0;
  return (i) => {
    const k = counts[i]!;
    const real = Array.from({ length: Math.min(k, pods.length) }, (_, j) => pods[(i + j) % pods.length]!);
    const synthetic = Array.from({ length: k - real.length }, () => nthIp(cidr, half + 1 + (next++ % (half - 2))));
    return [...real, ...synthetic];
  };
}

/** A copy of `state` with one more ClusterIP service (named `name`, answering on the ident port of
 * the spare server pod), after the others: used by the partial-sync and network-programming
 * measurements. Its cluster IP is the first free one in the allocator's order. */
export function withExtraService(state: ClusterState, plan: TopologyPlan, name: string): { state: ClusterState; service: Service } {
  const spare = plan.pods.filter((p) => p.kind === 'server').at(-1)!;
  const cidr = parseCidr(plan.serviceCidr)!;
  const taken = new Set(state.services.map((s) => s.clusterIP));
  let k = 10 + state.services.length;
  while (taken.has(nthIp(cidr, k))) k++;
  const service: Service = {
    namespace: NS,
    name,
    type: 'ClusterIP',
    clusterIP: nthIp(cidr, k),
    ports: [{ name: 'ident', protocol: 'TCP', port: 80, targetPort: IDENT_PORT }],
    sessionAffinity: 'None',
    stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
  };
  return {
    state: {
      services: [...state.services, service],
      endpoints: { ...state.endpoints, [`${NS}/${name}`]: [{ ip: spare.ip, local: true }] },
    },
    service,
  };
}

/** A copy of `state` where service `key` ("ns/name") has one more endpoint: the spare pod. */
export function withExtraEndpoint(state: ClusterState, plan: TopologyPlan, key: string): ClusterState {
  const spare = plan.pods.filter((p) => p.kind === 'server').at(-1)!;
  return {
    services: state.services,
    endpoints: { ...state.endpoints, [key]: [...(state.endpoints[key] ?? []), { ip: spare.ip, local: true }] },
  };
}
