import type { Placement, SandboxConfig } from '../config/sandbox.js';
import { GATEWAY_IP, nodePodCidrs, serverNode } from '../config/sandbox.js';
import { nthIp, parseCidr } from '../model/ipv4.js';
import { netnsName, nodeRole, type Role } from './names.js';

// The topology as data (pure): which namespaces exist, which veth joins which, and every
// address and route. The sandbox module turns it into `ip -batch` input.
//
//   srv-N / cli-N (eth0, pod IP/32, default via 169.254.1.1 onlink)
//        └─ veth ─ node (vsN / vcN, proxy_arp; 169.254.1.1/32 on lo; ip_forward=1)
//                     └─ veth ext0 (198.18.0.1/24) ─ external (eth0, 198.18.0.2/24)
// The node's default route points at the external namespace, which has no route onwards: traffic to
// any address outside the sandbox dies inside it. No link ever reaches the root namespace.
//
// With --nodes N > 1 every node is such a namespace with its own pods, from its own slice of the pod
// CIDR, and the nodes meet on an underlay: a bridge in a namespace of its own that the external
// client joins too (host-gw routing, as flannel's host-gw backend and Calico without an overlay do):
//
//   node (ext0 198.18.0.1) ─┐
//   node-1 (ext0 198.18.0.3) ─ ul: br0 ─ external (eth0 198.18.0.2)
//   node-2 (ext0 198.18.0.4) ─┘
// Each node routes every other node's pod CIDR via that node's IP on ext0, and its default route
// points at the external namespace as on one node.

export interface PodPlan {
  role: Role & (`srv-${number}` | `cli-${number}`);
  kind: 'server' | 'client';
  netns: string;
  ip: string;
  /** The veth's name on the node side (pod side is always eth0). */
  nodeIf: string;
  /** The index of the node the pod lives on (plan.nodes). */
  node: number;
}

export interface NodePlan {
  index: number;
  netns: string;
  /** The node's underlay (or, on one node, external-facing) interface. */
  extIf: string;
  /** The node IP: NodePort destination, and the next hop to this node's pods. */
  ip: string;
  gateway: string;
  /** This node's slice of the pod CIDR (the whole CIDR on one node). */
  podCidr: string;
}

export interface TopologyPlan {
  runId: string;
  /** Node 0: the client pods' node ("node A"); the only one of a single-node sandbox. */
  node: NodePlan;
  nodes: NodePlan[];
  /** The namespace holding the bridge that joins the nodes and the external client; absent on one node. */
  underlay?: { netns: string; bridge: string };
  external: { netns: string; ip: string; prefix: number };
  pods: PodPlan[];
  serviceCidr: string;
  /** The cluster's pod CIDR (kube-proxy's --cluster-cidr), whatever the node count. */
  podCidr: string;
  placement: Placement;
}

export function planTopology(runId: string, cfg: SandboxConfig): TopologyPlan {
  const nodeCount = cfg.nodes ?? 1;
  const placement = cfg.placement ?? 'spread';
  const extNet = parseCidr(cfg.externalCidr)!;
  const slices = nodePodCidrs(cfg.podCidr, nodeCount).map((c) => parseCidr(c)!);
  // One node: node .1, external .2 (as always). More: node 0 .1, external .2, node i .(i+2).
  const nodes: NodePlan[] = slices.map((slice, i) => ({
    index: i,
    netns: netnsName(runId, nodeRole(i)),
    extIf: 'ext0',
    ip: nthIp(extNet, i === 0 ? 1 : i + 2),
    gateway: GATEWAY_IP,
    podCidr: nodeCount === 1 ? cfg.podCidr : `${nthIp(slice, 0)}/${slice.prefix}`,
  }));
  const used = nodes.map(() => 0);
  const pods: PodPlan[] = [];
  const add = (kind: PodPlan['kind'], i: number, node: number) => {
    const role = (kind === 'server' ? `srv-${i}` : `cli-${i}`) as PodPlan['role'];
    pods.push({
      role,
      kind,
      netns: netnsName(runId, role),
      ip: nthIp(slices[node]!, used[node]! + 2),
      nodeIf: `${kind === 'server' ? 'vs' : 'vc'}${i}`,
      node,
    });
    used[node]!++;
  };
  for (let i = 0; i < cfg.pods; i++) add('server', i, serverNode(i, nodeCount, placement));
  for (let i = 0; i < cfg.clients; i++) add('client', i, 0);
  return {
    runId,
    node: nodes[0]!,
    nodes,
    ...(nodeCount > 1 ? { underlay: { netns: netnsName(runId, 'underlay'), bridge: 'br0' } } : {}),
    external: { netns: netnsName(runId, 'external'), ip: nthIp(extNet, 2), prefix: extNet.prefix },
    pods,
    serviceCidr: cfg.serviceCidr,
    podCidr: cfg.podCidr,
    placement,
  };
}

/** Every namespace of the plan, nodes first (creation order). */
export function planNamespaces(plan: TopologyPlan): string[] {
  const underlay = plan.underlay ? [plan.underlay.netns] : [];
  return [...plan.nodes.map((n) => n.netns), ...underlay, plan.external.netns, ...plan.pods.map((p) => p.netns)];
}

/** The pods of node `i`. */
export const podsOn = (plan: TopologyPlan, i: number): PodPlan[] => plan.pods.filter((p) => p.node === i);

/** The node a namespace belongs to: a node's own, or a pod's; undefined for the external and underlay ones. */
export function nodeOf(plan: TopologyPlan, netns: string): NodePlan | undefined {
  const node = plan.nodes.find((n) => n.netns === netns);
  if (node) return node;
  const pod = plan.pods.find((p) => p.netns === netns);
  return pod ? plan.nodes[pod.node] : undefined;
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
  if (plan.underlay?.netns === netns) return {};
  if (plan.nodes.some((n) => n.netns === netns))
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
 * the node side straight into their namespaces (the root namespace already has an eth0). On more
 * than one node, ext0 already exists (renderUnderlayBatch made it) and routes lead to the other
 * nodes' pod CIDRs via their node IPs. */
export function renderNodeBatch(plan: TopologyPlan, node: NodePlan = plan.node): string {
  if (plan.underlay) return renderClusterNodeBatch(plan, node);
  const { external } = plan;
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

function renderClusterNodeBatch(plan: TopologyPlan, node: NodePlan): string {
  const lines = [
    'link set lo up',
    `address add ${node.gateway}/32 dev lo`,
    `address add ${node.ip}/${plan.external.prefix} dev ${node.extIf}`,
    `link set ${node.extIf} up`,
  ];
  for (const p of podsOn(plan, node.index))
    lines.push(
      `link add ${p.nodeIf} type veth peer name eth0 netns ${p.netns}`,
      `link set ${p.nodeIf} up`,
      `route add ${p.ip}/32 dev ${p.nodeIf} scope link`,
    );
  // host-gw: another node's pods are one hop away, via that node's IP on the shared segment.
  for (const other of plan.nodes) if (other !== node) lines.push(`route add ${other.podCidr} via ${other.ip} dev ${node.extIf}`);
  lines.push(`route add default via ${plan.external.ip} dev ${node.extIf}`);
  return lines.join('\n') + '\n';
}

/** `ip -n UNDERLAY -batch -` input: the bridge, and one veth per node (its ext0) and to the external
 * namespace, each created from the underlay side straight into its namespace and enslaved here. */
export function renderUnderlayBatch(plan: TopologyPlan): string {
  const ul = plan.underlay!;
  const lines = ['link set lo up', `link add ${ul.bridge} type bridge`, `link set ${ul.bridge} up`];
  const port = (name: string, peer: string, netns: string) =>
    lines.push(
      `link add ${name} type veth peer name ${peer} netns ${netns}`,
      `link set ${name} master ${ul.bridge}`,
      `link set ${name} up`,
    );
  port('x0', 'eth0', plan.external.netns);
  for (const n of plan.nodes) port(`n${n.index}`, n.extIf, n.netns);
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
