import { z } from 'zod';
import { cidrSize, cidrsOverlap, formatCidr, parseCidr, parseIp, cidrContains, type Cidr } from '../model/ipv4.js';
import { flagName } from './errors.js';
import { cidr, intInRange } from './fields.js';

/** The pods' gateway on the node's lo (Calico's convention, ../shared/reference/environment.md). */
export const GATEWAY_IP = '169.254.1.1';

export const MAX_PODS = 1000;
export const MAX_CLIENTS = 32;
export const MAX_NODES = 4;

/** Where server pods go in a multi-node sandbox (the client pods always live on node 0, "the
 * client's node"): round robin over every node, only on the other nodes, or all on node 0. */
export const PLACEMENTS = ['spread', 'remote', 'local'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** The sandbox's settings without defaults: a scenario file may set any of them. */
export const sandboxFields = {
  pods: intInRange(1, MAX_PODS),
  clients: intInRange(1, MAX_CLIENTS),
  podCidr: cidr,
  serviceCidr: cidr,
  externalCidr: cidr,
  nodes: intInRange(1, MAX_NODES),
  placement: z.enum(PLACEMENTS, { error: (i) => `must be one of ${PLACEMENTS.join(', ')} (got ${JSON.stringify(i.input)})` }),
};

/** The same settings as flags, with their defaults and help text. */
export const sandboxShape = {
  pods: sandboxFields.pods.default(3).describe('server pods'),
  clients: sandboxFields.clients.default(1).describe('client pods'),
  podCidr: sandboxFields.podCidr.default('10.244.0.0/16').describe('pod CIDR'),
  serviceCidr: sandboxFields.serviceCidr.default('10.96.0.0/12').describe('service CIDR (cluster IPs)'),
  externalCidr: sandboxFields.externalCidr
    .default('198.18.0.0/24')
    .describe('node–external link, the underlay of a multi-node sandbox (RFC 2544 benchmarking range)'),
  nodes: sandboxFields.nodes.default(1).describe(`nodes (namespaces with their own pods and backend instance), 1–${MAX_NODES}`),
  placement: sandboxFields.placement
    .default('spread')
    .describe("server pods over the nodes: spread (round robin), remote (none on the client's node 0), local (all on node 0)"),
};

export const sandboxSchema = z.object(sandboxShape).superRefine((c, ctx) => {
  // Field errors (a malformed CIDR) are already reported; cross-field checks need valid fields.
  if ([c.podCidr, c.serviceCidr, c.externalCidr].some((x) => parseCidr(x) === undefined)) return;
  const nets: [keyof typeof sandboxShape, Cidr][] = [
    ['podCidr', parseCidr(c.podCidr)!],
    ['serviceCidr', parseCidr(c.serviceCidr)!],
    ['externalCidr', parseCidr(c.externalCidr)!],
  ];
  for (let i = 0; i < nets.length; i++) {
    const [name, net] = nets[i]!;
    if (cidrContains(net, parseIp(GATEWAY_IP)!))
      ctx.addIssue({ code: 'custom', path: [name], message: `must not contain the pods' gateway ${GATEWAY_IP}` });
    for (let j = i + 1; j < nets.length; j++) {
      const [other, net2] = nets[j]!;
      if (cidrsOverlap(net, net2))
        ctx.addIssue({
          code: 'custom',
          path: [other],
          message: `overlaps ${flagName(name)} (${c[name]}); the three ranges must be disjoint`,
        });
    }
  }
  if (c.nodes === 1) {
    // Pod addresses start at .2 (.0 is the network, .1 is left free as a conventional gateway).
    const needed = c.pods + c.clients + 2;
    const podSize = cidrSize(nets[0]![1]);
    if (podSize < needed)
      ctx.addIssue({
        code: 'custom',
        path: ['podCidr'],
        message: `${c.podCidr} has ${podSize} addresses, too few for ${c.pods} server and ${c.clients} client pods (need ${needed}); use a shorter prefix`,
      });
    if (cidrSize(nets[2]![1]) < 4)
      ctx.addIssue({ code: 'custom', path: ['externalCidr'], message: `must hold at least 4 addresses (a /30 or shorter prefix)` });
    if (c.placement === 'remote')
      ctx.addIssue({ code: 'custom', path: ['placement'], message: "remote puts no pod on the client's node: it needs --nodes 2 or more" });
    return;
  }
  // Each node's pods come from its own slice of the pod CIDR (nodePodCidrs), from .2 on.
  const slices = nodePodCidrs(c.podCidr, c.nodes);
  const perNode = podsPerNode(c);
  slices.forEach((slice, i) => {
    const needed = perNode[i]! + 2;
    if (cidrSize(parseCidr(slice)!) < needed)
      ctx.addIssue({
        code: 'custom',
        path: ['podCidr'],
        message: `${c.podCidr} split over ${c.nodes} nodes gives ${slice} to node ${i}, too small for its ${perNode[i]} pods (need ${needed} addresses); use a shorter prefix`,
      });
  });
  // Node 0 .1, the external client .2, further nodes .3 on; plus network and broadcast.
  if (cidrSize(nets[2]![1]) < c.nodes + 3)
    ctx.addIssue({
      code: 'custom',
      path: ['externalCidr'],
      message: `must hold at least ${c.nodes + 3} addresses for ${c.nodes} nodes and the external client (a /29 or shorter prefix)`,
    });
});

/** The pod CIDR of each node: --pod-cidr split into the fewest equal power-of-two slices that
 * give every node one (node i takes slice i), as the node IPAM controller hands each node a
 * --node-cidr-mask-size slice of --cluster-cidr. One node keeps the whole CIDR. */
export function nodePodCidrs(podCidr: string, nodes: number): string[] {
  const net = parseCidr(podCidr)!;
  if (nodes === 1) return [podCidr];
  const bits = Math.ceil(Math.log2(nodes));
  const prefix = Math.min(32, net.prefix + bits);
  const size = 2 ** (32 - prefix);
  return Array.from({ length: nodes }, (_, i) => formatCidr({ base: net.base + i * size, prefix }));
}

/** The node (0-based) server pod `k` of `pods` lives on under a placement; clients live on node 0. */
export function serverNode(k: number, nodes: number, placement: Placement): number {
  if (nodes === 1 || placement === 'local') return 0;
  if (placement === 'remote') return 1 + (k % (nodes - 1));
  return k % nodes;
}

/** How many pods (servers and clients) each node holds. */
export function podsPerNode(c: { pods: number; clients: number; nodes: number; placement: Placement }): number[] {
  const n = Array.from({ length: c.nodes }, () => 0);
  for (let k = 0; k < c.pods; k++) n[serverNode(k, c.nodes, c.placement)]!++;
  n[0]! += c.clients;
  return n;
}

export type SandboxConfig = z.output<typeof sandboxSchema>;

/** --nodes and --placement for the commands that build their own sandbox (verify, run, sync). */
export const clusterShape = { nodes: sandboxShape.nodes, placement: sandboxShape.placement };

/** The cross-flag rule of clusterShape, as a message naming the flag (undefined: fine). */
export function clusterProblem(c: { nodes: number; placement: Placement }): string | undefined {
  if (c.placement === 'remote' && c.nodes === 1) return "--placement: remote puts no pod on the client's node: it needs --nodes 2 or more";
  return undefined;
}
