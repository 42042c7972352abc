import type { SandboxConfig } from '../config/sandbox.js';
import { GATEWAY_IP } from '../config/sandbox.js';
import { nthIp, parseCidr } from '../model/ipv4.js';
import { netnsName, type Role } from './names.js';

// The topology as data (pure): which namespaces exist, which veth joins which, and every
// address and route. The sandbox module turns it into `ip -batch` input.
//
//   srv-N / cli-N (eth0, pod IP/32, default via 169.254.1.1 onlink)
//        └─ veth ─ node (vsN / vcN, proxy_arp; 169.254.1.1/32 on lo; ip_forward=1)
//                     └─ veth ext0 (198.18.0.1/24) ─ external (eth0, 198.18.0.2/24)
// The node's default route points at the external namespace, which has no route onwards: traffic to
// any address outside the sandbox dies inside it. No link ever reaches the root namespace.

export interface PodPlan {
  role: Role & (`srv-${number}` | `cli-${number}`);
  kind: 'server' | 'client';
  netns: string;
  ip: string;
  /** The veth's name on the node side (pod side is always eth0). */
  nodeIf: string;
}

export interface TopologyPlan {
  runId: string;
  node: { netns: string; extIf: string; ip: string; gateway: string };
  external: { netns: string; ip: string; prefix: number };
  pods: PodPlan[];
  serviceCidr: string;
  podCidr: string;
}

export function planTopology(runId: string, cfg: SandboxConfig): TopologyPlan {
  const podNet = parseCidr(cfg.podCidr)!;
  const extNet = parseCidr(cfg.externalCidr)!;
  const pods: PodPlan[] = [];
  const add = (kind: PodPlan['kind'], i: number) => {
    const role = (kind === 'server' ? `srv-${i}` : `cli-${i}`) as PodPlan['role'];
    pods.push({
      role,
      kind,
      netns: netnsName(runId, role),
      ip: nthIp(podNet, pods.length + 2),
      nodeIf: `${kind === 'server' ? 'vs' : 'vc'}${i}`,
    });
  };
  for (let i = 0; i < cfg.pods; i++) add('server', i);
  for (let i = 0; i < cfg.clients; i++) add('client', i);
  return {
    runId,
    node: { netns: netnsName(runId, 'node'), extIf: 'ext0', ip: nthIp(extNet, 1), gateway: GATEWAY_IP },
    external: { netns: netnsName(runId, 'external'), ip: nthIp(extNet, 2), prefix: extNet.prefix },
    pods,
    serviceCidr: cfg.serviceCidr,
    podCidr: cfg.podCidr,
  };
}

/** Every namespace of the plan, node first (creation order). */
export function planNamespaces(plan: TopologyPlan): string[] {
  return [plan.node.netns, plan.external.netns, ...plan.pods.map((p) => p.netns)];
}

/** Per-namespace sysctls (../shared/reference/environment.md, "Gotchas"). Values are strings as
 * sysctl(8) takes them. Connection-per-request workloads exhaust ephemeral ports and hit
 * TIME_WAIT collisions within seconds, so clients reuse TIME_WAIT sockets over a wide port range
 * and servers keep no TIME_WAIT buckets. The node, the external namespace and every pod can be a
 * client (clusterip-node, nodeport and hairpin paths), so all get the client settings. */
export function sysctlsFor(plan: TopologyPlan, netns: string): Record<string, string> {
  const client = {
    'net.ipv4.ip_local_port_range': '1024 65535',
    'net.ipv4.tcp_tw_reuse': '1',
    'net.core.somaxconn': '4096',
    'net.ipv4.tcp_max_syn_backlog': '4096',
  };
  if (netns === plan.node.netns)
    return {
      ...client,
      'net.ipv4.ip_forward': '1',
      // IPv4 conf/{all,default} are inherited from the root namespace; set what routing needs.
      // Interfaces copy conf/default when created, so proxy_arp reaches every node-side veth.
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv4.conf.default.proxy_arp': '1',
      // Hairpin traffic leaves by the veth it came in on; a redirect would only confuse the pod.
      'net.ipv4.conf.all.send_redirects': '0',
      'net.ipv4.conf.default.send_redirects': '0',
    };
  const pod = plan.pods.find((p) => p.netns === netns);
  if (pod?.kind === 'server') return { ...client, 'net.ipv4.tcp_max_tw_buckets': '0' };
  return client;
}

/** `ip -n NODE -batch -` input: veths to every pod and to the external namespace, created from
 * the node side straight into their namespaces (the root namespace already has an eth0). */
export function renderNodeBatch(plan: TopologyPlan): string {
  const { node, external } = plan;
  const lines = [
    'link set lo up',
    `address add ${node.gateway}/32 dev lo`,
    `link add ${node.extIf} type veth peer name eth0 netns ${external.netns}`,
    `address add ${node.ip}/${external.prefix} dev ${node.extIf}`,
    `link set ${node.extIf} up`,
  ];
  for (const p of plan.pods) {
    lines.push(
      `link add ${p.nodeIf} type veth peer name eth0 netns ${p.netns}`,
      `link set ${p.nodeIf} up`,
      `route add ${p.ip}/32 dev ${p.nodeIf} scope link`,
    );
  }
  // Default route towards the external namespace: gives VIPs a route for the node's own OUTPUT
  // traffic (ClusterIP from the node) while keeping every packet inside the sandbox.
  lines.push(`route add default via ${external.ip} dev ${node.extIf}`);
  return lines.join('\n') + '\n';
}

export function renderPodBatch(plan: TopologyPlan, pod: PodPlan): string {
  return (
    [
      'link set lo up',
      `address add ${pod.ip}/32 dev eth0`,
      'link set eth0 up',
      `route add ${plan.node.gateway} dev eth0 scope link`,
      `route add default via ${plan.node.gateway} dev eth0 onlink`,
    ].join('\n') + '\n'
  );
}

export function renderExternalBatch(plan: TopologyPlan): string {
  return ['link set lo up', `address add ${plan.external.ip}/${plan.external.prefix} dev eth0`, 'link set eth0 up'].join('\n') + '\n';
}
