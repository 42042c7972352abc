import type { ServiceSpec } from '../model/generate.js';
import type { PodPlan, TopologyPlan } from '../sandbox/plan.js';

// The services the conformance suite installs (pure). Filler services come first, so the tested
// services sit at the end of every linear lookup (the worst case for iptables), and every filler
// points at real pods.

export const NS = 'svcbench';
export const SERVER_PORT = 8080;
export const UDP_PORT = 5353;
export const SERVER_PODS = 4;

const tcp = (port: number, name = 'http') => [{ name, protocol: 'TCP' as const, port, targetPort: SERVER_PORT }];

export interface VerifyServices {
  specs: ServiceSpec[];
  /** Pod IPs by role (srv-0…srv-3, cli-0). */
  ip: (role: string) => string;
}

export const TESTED = ['web', 'sticky', 'dns', 'solo', 'doomed', 'grow'] as const;

/** On more than one node: the server pod the cross-node checks aim at, the first one off the
 * client's node 0; undefined when every server pod is on node 0 (--placement local). */
export function remotePod(plan: TopologyPlan): PodPlan | undefined {
  return plan.nodes.length > 1 ? plan.pods.find((p) => p.kind === 'server' && p.node !== 0) : undefined;
}

/** On more than one node: a server pod on the client's node 0; undefined when none is there
 * (--placement remote). */
export function localPod(plan: TopologyPlan): PodPlan | undefined {
  return plan.nodes.length > 1 ? plan.pods.find((p) => p.kind === 'server' && p.node === 0) : undefined;
}

export function verifyServices(plan: TopologyPlan, total: number): VerifyServices {
  const ip = (role: string) => plan.pods.find((p) => p.role === role)!.ip;
  const three = ['srv-0', 'srv-1', 'srv-2'].map(ip);
  const fillers: ServiceSpec[] = Array.from({ length: Math.max(0, total - TESTED.length) }, (_, i) => ({
    namespace: NS,
    name: `filler-${i}`,
    type: 'ClusterIP',
    ports: tcp(80),
    endpoints: [0, 1, 2].map((k) => ip(`srv-${(i + k) % SERVER_PODS}`)),
  }));
  const tested: ServiceSpec[] = [
    { namespace: NS, name: 'web', type: 'NodePort', ports: tcp(80), endpoints: three },
    { namespace: NS, name: 'sticky', type: 'ClusterIP', ports: tcp(80), endpoints: three, sessionAffinity: 'ClientIP' },
    {
      namespace: NS,
      name: 'dns',
      type: 'ClusterIP',
      ports: [{ name: 'dns', protocol: 'UDP', port: 53, targetPort: UDP_PORT }],
      endpoints: three,
    },
    { namespace: NS, name: 'solo', type: 'NodePort', ports: tcp(80), endpoints: [ip('srv-3')] },
    { namespace: NS, name: 'doomed', type: 'ClusterIP', ports: tcp(80), endpoints: [ip('srv-0')] },
    { namespace: NS, name: 'grow', type: 'ClusterIP', ports: tcp(80), endpoints: [ip('srv-0')] },
  ];
  // Two NodePort services whose one endpoint is off node 0: externalTrafficPolicy Cluster and Local.
  // Two ClusterIP services with internalTrafficPolicy Local: one with an endpoint on node 0 and one
  // off it (only the first may answer node 0's client), one with its endpoint off node 0 only.
  const remote = remotePod(plan);
  const local = localPod(plan);
  const internal = (name: string, endpoints: string[]): ServiceSpec => ({
    namespace: NS,
    name,
    type: 'ClusterIP',
    ports: tcp(80),
    endpoints,
    internalTrafficPolicy: 'Local',
  });
  const crossNode: ServiceSpec[] = remote
    ? [
        { namespace: NS, name: 'remote', type: 'NodePort', ports: tcp(80), endpoints: [remote.ip] },
        { namespace: NS, name: 'local', type: 'NodePort', ports: tcp(80), endpoints: [remote.ip], externalTrafficPolicy: 'Local' },
        ...(local ? [internal('internal', [local.ip, remote.ip])] : []),
        internal('internal-miss', [remote.ip]),
      ]
    : [];
  return { specs: [...fillers, ...tested, ...crossNode], ip };
}
