// The only registry of paths (DESIGN.md §13): the ways a case's traffic reaches the endpoint pods.
// Their order here is the order flags, tables, charts and the terminal summary list them in;
// src/run/case.ts maps each to its client namespace and addresses (an exhaustive switch over
// Path, so a new path fails to compile until it says where its traffic starts).

export interface PathInfo {
  name: string;
  /** How a sentence names it ("ClusterIP throughput 0.99× … of the pod IPs"). */
  label: string;
  /** Where the traffic starts and what it is sent to. */
  description: string;
  /** The baseline every other path is compared with ("vs pod"): no Service rule in the way. */
  baseline?: true;
  /** Measured by `bench run` and a scenario file when they name no paths. */
  byDefault?: true;
  /** Which path the growth finding looks at, lowest first among those measured: the plainest
   * Service path (client pod to a ClusterIP) first, the baseline last. */
  growthRank: number;
  /** The fewest --nodes the path needs (a second node to cross, or to lack a local endpoint). */
  minNodes?: number;
  /** Needs an endpoint off the client's node 0 (--placement local has none). */
  remoteEndpoint?: true;
  /** Must not be answered (policy Local on a node without a local endpoint): checked, not measured. */
  unanswered?: true;
  /** Enters through a nodePort: the externalTrafficPolicy of the Service it reaches (the reports'
   * "does NodePort add a hop?" and "is the client IP preserved?" answer per policy). */
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** The same-node paths this cross-node one is costed against, preferred first: the reports
   * compare it with the first of them the run measured (src/report/cluster.ts). */
  sameNode?: readonly string[];
}

export const PATH_REGISTRY = [
  {
    name: 'pod',
    label: 'the pod IPs',
    description: "straight to the endpoint pods' IPs, the client spreading connections over them, no Service rules in the way",
    baseline: true,
    byDefault: true,
    growthRank: 5,
  },
  { name: 'clusterip', label: 'ClusterIP', description: 'a client pod to the ClusterIP', byDefault: true, growthRank: 1 },
  { name: 'clusterip-node', label: 'ClusterIP from the node', description: 'the node to the ClusterIP', growthRank: 3 },
  {
    name: 'nodeport',
    label: 'NodePort',
    description: "the external namespace to the node's IP and nodePort",
    byDefault: true,
    growthRank: 2,
    externalTrafficPolicy: 'Cluster',
  },
  { name: 'hairpin', label: 'hairpin (a pod to its own Service)', description: 'a server pod to its own Service', growthRank: 4 },
  {
    name: 'pod-remote',
    label: 'the pod IPs on other nodes',
    description: 'the client pod straight to endpoint pods on other nodes: the cross-node baseline',
    growthRank: 10,
    minNodes: 2,
    remoteEndpoint: true,
    sameNode: ['pod'],
  },
  {
    name: 'clusterip-remote',
    label: 'ClusterIP to other nodes',
    description: 'the client pod on node 0 to a ClusterIP whose endpoints are all on other nodes',
    growthRank: 6,
    minNodes: 2,
    remoteEndpoint: true,
    sameNode: ['clusterip'],
  },
  {
    name: 'nodeport-remote',
    label: 'NodePort to other nodes',
    description: "the external namespace to node 0's nodePort, the endpoints all on other nodes (policy Cluster: SNAT)",
    growthRank: 7,
    minNodes: 2,
    remoteEndpoint: true,
    externalTrafficPolicy: 'Cluster',
    // NodePort on a node holding the endpoint: the single-node path, or policy Local's.
    sameNode: ['nodeport', 'nodeport-local'],
  },
  {
    name: 'nodeport-local',
    label: 'NodePort with policy Local',
    description: 'the external namespace to the nodePort of a node with a local endpoint, externalTrafficPolicy Local',
    growthRank: 8,
    minNodes: 2,
    remoteEndpoint: true,
    externalTrafficPolicy: 'Local',
  },
  {
    name: 'nodeport-local-miss',
    label: 'NodePort with policy Local on a node without an endpoint',
    description: 'the external namespace to the nodePort of a node without a local endpoint, policy Local: must not be answered',
    growthRank: 9,
    minNodes: 2,
    remoteEndpoint: true,
    unanswered: true,
    externalTrafficPolicy: 'Local',
  },
] as const satisfies readonly PathInfo[];

export type Path = (typeof PATH_REGISTRY)[number]['name'];

/** Every path name, in registry order. */
export const PATHS = PATH_REGISTRY.map((p) => p.name) as [Path, ...Path[]];

/** The baseline path (no Service rules in the way). */
export const BASELINE_PATH: PathInfo & { name: Path } = PATH_REGISTRY.find((p: PathInfo) => p.baseline === true)!;

/** The paths measured when none are named, in registry order. */
export const DEFAULT_PATHS: Path[] = PATH_REGISTRY.filter((p: PathInfo) => p.byDefault === true).map((p) => p.name);

/** Compare two path names by registry order; names not in the registry (runs of other builds)
 * last, by name. */
export function byPathOrder(a: string, b: string): number {
  const rank = (x: string) => {
    const i = PATHS.indexOf(x as Path);
    return i === -1 ? PATHS.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** A path's registry entry. */
export const pathInfo = (name: Path): PathInfo => PATH_REGISTRY.find((p) => p.name === name)!;

/** Why `paths` cannot run on this sandbox shape, naming the flag (undefined: they can). */
export function pathsProblem(paths: readonly Path[], nodes: number, placement: string): string | undefined {
  for (const name of paths) {
    const p = pathInfo(name);
    if ((p.minNodes ?? 1) > nodes) return `--path: ${name} needs --nodes ${p.minNodes} or more (got --nodes ${nodes})`;
    if (p.remoteEndpoint && placement === 'local')
      return `--placement: local puts every endpoint on the client's node, and --path ${name} needs one on another node`;
  }
  return undefined;
}
