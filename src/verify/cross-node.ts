import type { Backend } from '../../backends/types.js';
import type { Exec } from '../exec/index.js';
import type { Service } from '../model/types.js';
import { answerWithin, probeTogether, type Prober } from '../probe/client.js';
import { INITIAL_TTL, type ProbeResult } from '../probe/reply.js';
import type { TopologyPlan } from '../sandbox/plan.js';
import { check, notAnswered, spread, type CheckResult } from './checks.js';
import { localPod, remotePod, SERVER_PORT } from './services.js';

// The checks of a multi-node sandbox: where the packet crosses a second node, what address the
// endpoint sees and how many routers it crossed. Every sender starts at TTL 64 (net.ipv4.
// ip_default_ttl's default in each namespace) and every node that forwards it takes one off; the
// underlay bridge is no router. So the server sees 63 when the endpoint's own node is the only
// router and 62 when the packet crossed a second node: the extra hop.

/** Routers a packet crossed, from the TTL the server saw. */
export const hopsOf = (ttl: number | undefined): number | undefined => (ttl === undefined ? undefined : INITIAL_TTL - ttl);

export interface Seen {
  /** Who must answer. */
  by: string;
  /** The address the endpoint must see the connection come from (any of them). */
  peer: string[];
  hops: number;
}

/** One connection judged by who answered, the peer address the server saw and the hops. */
export function seenCheck(name: string, target: string, r: ProbeResult | undefined, want: Seen): CheckResult {
  if (!r?.ok) return check(name, false, `${target} failed: ${r?.error ?? 'no result'} (expected ${want.by})`);
  const hops = hopsOf(r.ttl);
  const problems = [
    ...(r.reply === want.by ? [] : [`expected ${want.by}`]),
    ...(r.peer !== undefined && want.peer.includes(r.peer) ? [] : [`expected peer ${want.peer.join(' or ')}`]),
    ...(hops === want.hops ? [] : [`expected ${want.hops} hop(s)`]),
  ];
  const seen = `${target} answered by ${r.reply}, which saw ${r.peer ?? '?'} at TTL ${r.ttl ?? '?'} (${hops ?? '?'} hop(s))`;
  return check(name, problems.length === 0, problems.length === 0 ? seen : `${seen}: ${problems.join(', ')}`);
}

export interface CrossNodeInput {
  exec: Exec;
  plan: TopologyPlan;
  backend: Backend;
  svc: (name: string) => Service;
}

/** Connections the internalTrafficPolicy check makes: with Cluster policy each would reach the
 * remote endpoint half the time, so all 16 on the local one happen by chance with p = 2⁻¹⁶. */
export const INTERNAL_LOCAL_CONNECTIONS = 16;

/** On more than one node: pod to pod, ClusterIP and NodePort across nodes, externalTrafficPolicy
 * Local on a node with and without a local endpoint, internalTrafficPolicy Local from a client on a
 * node with and without one. Nothing on one node; a note when every server pod is on node 0
 * (--placement local), where nothing crosses a node. */
export async function crossNodeChecks({ exec, plan, backend, svc }: CrossNodeInput): Promise<CheckResult[]> {
  if (plan.nodes.length === 1) return [];
  const remote = remotePod(plan);
  if (!remote) return [check('cross-node checks', true, 'skipped: --placement local puts every server pod on node 0')];
  const client = plan.pods.find((p) => p.kind === 'client')!;
  const nodeA = plan.nodes[0]!;
  const nodeB = plan.nodes[remote.node]!;
  const nodePort = (name: string) => svc(name).ports[0]!.nodePort!;
  const remoteTarget = `${nodeA.ip}:${nodePort('remote')}`;
  // Independent connections (each its own service, node or sender), so they are made together.
  return probeTogether(exec, (probe) => {
    const at = async (netns: string, target: string, name: string, want: Seen) =>
      seenCheck(name, target, (await probe(netns, [target], { timeoutMs: answerWithin(3000) }))[0], want);
    return [
      at(client.netns, `${remote.ip}:${SERVER_PORT}`, 'pod-remote: a pod on another node, one more hop', {
        by: remote.role,
        peer: [client.ip],
        hops: 2,
      }),
      at(client.netns, `${svc('remote').clusterIP}:80`, 'clusterip-remote: the client pod keeps its address, one more hop', {
        by: remote.role,
        peer: [client.ip],
        hops: 2,
      }),
      at(plan.external.netns, remoteTarget, 'nodeport-remote: Cluster policy SNATs to the node IP, one more hop', {
        by: remote.role,
        peer: [nodeA.ip],
        hops: 2,
      }),
      // On the endpoint's own node a Cluster-policy NodePort masquerades in kube-proxy's backends
      // (KUBE-EXT → KUBE-MARK-MASQ) to the address the kernel picks for the pod's veth route, which has
      // none of its own: the gateway on the node's lo; a tc NodePort program need not masquerade at all.
      // Any of the node's addresses or the client's passes here.
      at(plan.external.netns, `${nodeB.ip}:${nodePort('remote')}`, "nodeport: on the endpoint's node, no extra hop", {
        by: remote.role,
        peer: [nodeB.ip, nodeB.gateway, plan.external.ip],
        hops: 1,
      }),
      at(plan.external.netns, `${nodeB.ip}:${nodePort('local')}`, 'nodeport-local: Local policy keeps the client IP, no extra hop', {
        by: remote.role,
        peer: [plan.external.ip],
        hops: 1,
      }),
      notAnswered(
        probe,
        'nodeport-local-miss: Local policy on a node without a local endpoint does not answer',
        plan.external.netns,
        `${nodeA.ip}:${nodePort('local')}`,
      ),
      ...internalLocalChecks(probe, plan, client.netns, svc),
    ];
  });
}

/** internalTrafficPolicy Local, from the client pod on node 0: a service with an endpoint there and
 * one elsewhere is answered by the local one only; a service whose endpoint is elsewhere only is not
 * answered (kube-proxy drops it; IPVS and eBPF refuse it). */
function internalLocalChecks(probe: Prober, plan: TopologyPlan, netns: string, svc: (name: string) => Service): Promise<CheckResult>[] {
  const local = localPod(plan);
  const name = "internaltrafficpolicy-local: only the client node's endpoints answer";
  const target = `${svc('internal').clusterIP}:80`;
  const localCheck = async (role: string): Promise<CheckResult> => {
    const counts = await spread(probe, netns, target, INTERNAL_LOCAL_CONNECTIONS);
    const text = [...counts.entries()].map(([k, v]) => `${k}×${v}`).join(', ');
    const pass = counts.get(role) === INTERNAL_LOCAL_CONNECTIONS;
    return check(name, pass, `${INTERNAL_LOCAL_CONNECTIONS} connections to ${target}: ${text}${pass ? '' : ` (expected ${role} only)`}`);
  };
  return [
    local
      ? localCheck(local.role)
      : Promise.resolve({ ...check(name, true, 'skipped: --placement remote puts no server pod on node 0'), skipped: true as const }),
    notAnswered(
      probe,
      'internaltrafficpolicy-local-miss: no endpoint on the client node, no answer',
      netns,
      `${svc('internal-miss').clusterIP}:80`,
    ),
  ];
}
