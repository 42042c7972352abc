import type { Backend } from '../../backends/types.js';
import type { Exec } from '../exec/index.js';
import type { Service } from '../model/types.js';
import { probe } from '../probe/client.js';
import { INITIAL_TTL, type ProbeResult } from '../probe/reply.js';
import type { TopologyPlan } from '../sandbox/plan.js';
import { check, notAnswered, type CheckResult } from './checks.js';
import { remotePod, SERVER_PORT } from './services.js';

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

/** On more than one node: pod to pod, ClusterIP and NodePort across nodes, externalTrafficPolicy
 * Local on a node with and without a local endpoint. Nothing on one node; a note when every server
 * pod is on node 0 (--placement local), where nothing crosses a node. */
export async function crossNodeChecks({ exec, plan, backend, svc }: CrossNodeInput): Promise<CheckResult[]> {
  if (plan.nodes.length === 1) return [];
  const remote = remotePod(plan);
  if (!remote) return [check('cross-node checks', true, 'skipped: --placement local puts every server pod on node 0')];
  const client = plan.pods.find((p) => p.kind === 'client')!;
  const nodeA = plan.nodes[0]!;
  const nodeB = plan.nodes[remote.node]!;
  const nodePort = (name: string) => svc(name).ports[0]!.nodePort!;
  const one = async (netns: string, target: string) => (await probe(exec, netns, [target], { timeoutMs: 3000 }))[0];
  const at = (netns: string, target: string, name: string, want: Seen) => one(netns, target).then((r) => seenCheck(name, target, r, want));
  const checks: CheckResult[] = [];
  checks.push(
    await at(client.netns, `${remote.ip}:${SERVER_PORT}`, 'pod-remote: a pod on another node, one more hop', {
      by: remote.role,
      peer: [client.ip],
      hops: 2,
    }),
  );
  checks.push(
    await at(client.netns, `${svc('remote').clusterIP}:80`, 'clusterip-remote: the client pod keeps its address, one more hop', {
      by: remote.role,
      peer: [client.ip],
      hops: 2,
    }),
  );
  const remoteTarget = `${nodeA.ip}:${nodePort('remote')}`;
  if (backend.remoteNodePort !== undefined)
    checks.push({
      ...check('nodeport-remote: Cluster policy SNATs to the node IP, one more hop', true, `skipped: ${backend.remoteNodePort}`),
      skipped: true,
    });
  else
    checks.push(
      await at(plan.external.netns, remoteTarget, 'nodeport-remote: Cluster policy SNATs to the node IP, one more hop', {
        by: remote.role,
        peer: [nodeA.ip],
        hops: 2,
      }),
    );
  // On the endpoint's own node a Cluster-policy NodePort masquerades in kube-proxy's backends
  // (KUBE-EXT → KUBE-MARK-MASQ) to the address the kernel picks for the pod's veth route, which has
  // none of its own: the gateway on the node's lo; a tc NodePort program need not masquerade at all.
  // Any of the node's addresses or the client's passes here.
  checks.push(
    await at(plan.external.netns, `${nodeB.ip}:${nodePort('remote')}`, "nodeport: on the endpoint's node, no extra hop", {
      by: remote.role,
      peer: [nodeB.ip, nodeB.gateway, plan.external.ip],
      hops: 1,
    }),
  );
  checks.push(
    await at(plan.external.netns, `${nodeB.ip}:${nodePort('local')}`, 'nodeport-local: Local policy keeps the client IP, no extra hop', {
      by: remote.role,
      peer: [plan.external.ip],
      hops: 1,
    }),
  );
  checks.push(
    await notAnswered(
      exec,
      'nodeport-local-miss: Local policy on a node without a local endpoint does not answer',
      plan.external.netns,
      `${nodeA.ip}:${nodePort('local')}`,
    ),
  );
  return checks;
}
