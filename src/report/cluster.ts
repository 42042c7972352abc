import { PATH_REGISTRY, type PathInfo } from '../model/paths.js';
import { blockPairs } from '../run/paired.js';
import type { CaseResult, RunJson } from '../run/results.js';
import { ratioText, samplesOf, type GroupSummary, type Metric } from '../run/summary.js';
import { compare, comparePaired, type Comparison, type PairedComparison } from '../stats/index.js';
import { byOrder, metric, PATH_ORDER, stateText, withCommas as n } from './data.js';
import { changeText, type Finding } from './findings.js';

// The cluster's questions, answered with a run's own evidence (issue 18 item 5): what the servers
// saw of each path's check (the cases' `seen`: the peer address and the routers crossed, read
// against the backend's recorded topology: whose address that is, on which node the answering pod
// runs), and what crossing to another node costs (each cross-node path against the same-node path
// the path registry names for it, PathInfo.sameNode). Pure: everything comes from run.json.

type Topology = NonNullable<RunJson['backends'][number]['topology']>;
type SeenEntry = NonNullable<CaseResult['seen']>[number];

/** What the servers saw of one case group's checks, summed over its repetitions. */
export interface PathEvidence {
  backend: string;
  services: number;
  path: string;
  workload: string;
  /** The externalTrafficPolicy of a path that enters through a nodePort (PathInfo). */
  policy?: 'Cluster' | 'Local';
  /** Answers the servers reported (one per host checked per repetition). */
  checks: number;
  /** Distinct values, in order of first appearance: where the client sent from, the node the
   * traffic entered, the nodes of the pods that answered. */
  clients: string[];
  entered: string[];
  endpointNodes: string[];
  /** The pods that answered. */
  answeredBy: string[];
  /** Hop counts with how many checks saw each (null: the server could not read the TTL). */
  hops: [number | null, number][];
  /** Addresses the servers saw, who they belong to, and how many checks saw each. */
  peers: { peer: string; who: string; count: number }[];
  /** The client's own address reached the server in every check (kept), in none (replaced),
   * in some (mixed); unknown when the run recorded no client address. */
  clientIp: 'kept' | 'replaced' | 'mixed' | 'unknown';
  state: string;
  reason?: string;
}

const nodeName = (i: number) => `node ${i}`;

/** Whose address `addr` is in the backend's sandbox. */
function owner(addr: string, topo: Topology | undefined, client: string | undefined): string {
  if (client !== undefined && addr === client) return 'the client';
  const node = topo?.nodes.findIndex((x) => x.ip === addr) ?? -1;
  if (node >= 0) return `${nodeName(node)}'s IP`;
  if (topo?.external === addr) return "the external client's";
  // Every node answers its pods from the same link-local gateway address (src/sandbox/plan.ts):
  // a node that masquerades toward its own pod picks it as the source.
  if (topo?.nodes.some((x) => x.gateway === addr)) return "the forwarding node's pod-side address";
  const pod = topo?.pods.find((p) => p.ip === addr);
  if (topo === undefined) return 'whose address this run did not record';
  return pod ? `pod ${pod.role}'s` : 'another address';
}

/** The node where a check's traffic entered: the node whose IP it was sent to, else the client pod's node. */
function enteredAt(e: SeenEntry, topo: Topology | undefined): string | undefined {
  const node = topo?.nodes.findIndex((x) => x.ip === e.to) ?? -1;
  if (node >= 0) return nodeName(node);
  const pod = topo?.pods.find((p) => p.ip === e.client);
  return pod === undefined ? undefined : nodeName(pod.node);
}

function tally<T>(xs: T[]): [T, number][] {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m];
}

const distinct = (xs: (string | undefined)[]): string[] => [...new Set(xs.filter((x): x is string => x !== undefined))];

function clientIpOf(entries: SeenEntry[]): PathEvidence['clientIp'] {
  const known = entries.filter((e) => e.client !== undefined);
  if (known.length === 0) return 'unknown';
  const kept = known.filter((e) => e.peer === e.client).length;
  return kept === known.length ? 'kept' : kept === 0 ? 'replaced' : 'mixed';
}

const registered = (path: string): PathInfo | undefined => PATH_REGISTRY.find((p) => p.name === path);

/** One entry per case group of the run, in the groups' order. */
export function pathEvidence(run: RunJson, groups: GroupSummary[]): PathEvidence[] {
  return groups.map((g) => ({
    ...evidenceOf(run, g.backend, g.path, groupCases(run, g)),
    services: g.services,
    workload: g.workload,
    state: stateText(g),
    ...(g.reasons[0] === undefined ? {} : { reason: g.reasons[0] }),
  }));
}

/** The evidence of a set of cases of one backend and path. */
function evidenceOf(run: RunJson, backend: string, path: string, cases: CaseResult[]): PathEvidence {
  const topo = run.backends.find((b) => b.name === backend)?.topology;
  const entries = cases.flatMap((c) => c.seen ?? []);
  const policy = registered(path)?.externalTrafficPolicy;
  const peers = tally(entries.map((e) => `${e.peer}\u0000${owner(e.peer, topo, e.client)}`)).map(([k, count]) => {
    const [peer, who] = k.split('\u0000') as [string, string];
    return { peer, who, count };
  });
  const states = tally(cases.map((c) => c.state));
  const reason = cases.find((c) => c.state !== 'completed');
  return {
    backend,
    services: cases[0]?.services ?? 0,
    path,
    workload: cases[0]?.workload ?? '',
    ...(policy === undefined ? {} : { policy }),
    checks: entries.length,
    clients: distinct(entries.map((e) => e.client)),
    entered: distinct(entries.map((e) => enteredAt(e, topo))),
    endpointNodes: distinct(entries.map((e) => topo?.pods.find((p) => p.role === e.by)).map((p) => (p ? nodeName(p.node) : undefined))),
    answeredBy: distinct(entries.map((e) => e.by)).sort(),
    hops: tally(entries.map((e) => e.hops)).sort((a, b) => (a[0] ?? 99) - (b[0] ?? 99)),
    peers,
    clientIp: clientIpOf(entries),
    state:
      states.length === 1 && states[0]![0] === 'completed' ? 'completed' : states.map(([st, k]) => `${st} ${k}/${cases.length}`).join(', '),
    ...(reason === undefined ? {} : { reason: reason.reason }),
  };
}

const groupCases = (run: Pick<RunJson, 'cases'>, g: Pick<GroupSummary, 'backend' | 'services' | 'path' | 'workload'>) =>
  run.cases.filter((c) => c.backend === g.backend && c.services === g.services && c.path === g.path && c.workload === g.workload);

/** "2 hops", "1 hop in 4 of 6 checks, 2 hops in 2 of 6" */
export function hopsText(e: Pick<PathEvidence, 'hops' | 'checks'>): string {
  const one = ([h, k]: [number | null, number]) =>
    (h === null ? 'TTL unreadable' : `${h} ${h === 1 ? 'hop' : 'hops'}`) + (k === e.checks ? '' : ` in ${k} of ${e.checks}`);
  return e.hops.length === 1
    ? `${one(e.hops[0]!)} in ${e.checks === 1 ? 'its check' : `all ${e.checks} checks`}`
    : e.hops.map(one).join(', ');
}

/** "198.18.0.1 (node 0's IP) in 6 of 6 checks" */
export const peersText = (e: Pick<PathEvidence, 'peers' | 'checks'>): string =>
  e.peers.map((p) => `${p.peer} (${p.who}) in ${p.count} of ${e.checks}`).join(', ');

const policyText = (e: Pick<PathEvidence, 'policy'>) => (e.policy === undefined ? '' : ` (policy ${e.policy})`);
const route = (e: PathEvidence) =>
  [
    e.entered.length > 0 ? `entered at ${e.entered.join(', ')}` : '',
    e.endpointNodes.length > 0 ? `answered on ${e.endpointNodes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(', ');
const reasonText = (e: PathEvidence) =>
  `${e.state}${e.reason ? `: ${e.reason.length > 110 ? `${e.reason.slice(0, 109)}…` : e.reason}` : ''}`;

/** "nodeport-remote (policy Cluster): not measured (skipped 3/3: …)" for a path with no checks. */
const notSeen = (e: PathEvidence) => `${e.path}${policyText(e)}: no check answered (${reasonText(e)})`;

/** Per backend and path (all workloads and scale points together: what a path does to a packet
 * does not depend on them), in registry order. */
function evidenceByPath(run: RunJson): Map<string, PathEvidence[]> {
  const out = new Map<string, PathEvidence[]>();
  const backends = [...new Set(run.cases.map((c) => c.backend))].sort();
  for (const backend of backends) {
    const mine = run.cases.filter((c) => c.backend === backend);
    const paths = [...new Set(mine.map((c) => c.path))].sort(byOrder(PATH_ORDER));
    out.set(
      backend,
      paths.map((path) =>
        evidenceOf(
          run,
          backend,
          path,
          mine.filter((c) => c.path === path),
        ),
      ),
    );
  }
  return out;
}

/** Whether the run has anything for these findings: a case with what its server saw. */
export const hasEvidence = (run: Pick<RunJson, 'cases'>): boolean => run.cases.some((c) => (c.seen ?? []).length > 0);

/** "Does NodePort add a hop?": per backend, every NodePort path's hops with where the traffic
 * entered and where it was answered, and the paths without a nodePort beside them for reference. */
export function hopFinding(run: RunJson): Finding {
  const question = 'Does NodePort add a hop?';
  const nodePortPaths = PATH_REGISTRY.filter((p: PathInfo) => p.externalTrafficPolicy !== undefined).map((p) => p.name);
  const answers: string[] = [];
  for (const [backend, evidence] of evidenceByPath(run)) {
    const np = evidence.filter((e) => e.policy !== undefined);
    if (np.length === 0) continue;
    const parts = np.map((e) =>
      e.checks === 0 ? notSeen(e) : `${e.path}${policyText(e)}: ${hopVerdict(e)} (${[hopsText(e), route(e)].filter(Boolean).join('; ')})`,
    );
    const ref = evidence.filter((e) => e.policy === undefined && e.checks > 0).map((e) => `${e.path} ${hopsText(e)}`);
    answers.push(`${backend}: ${parts.join('; ')}.${ref.length > 0 ? ` Without a nodePort, for reference: ${ref.join('; ')}.` : ''}`);
  }
  if (answers.length === 0)
    answers.push(`This run measured no NodePort path with a check the server answered (the NodePort paths: ${nodePortPaths.join(', ')}).`);
  answers.push(
    "Every sender starts at TTL 64 and every forwarding node takes one off (the underlay bridge none): 1 hop is the endpoint's own node alone, 2 hops a second node crossed before it.",
  );
  return { question, answers };
}

function hopVerdict(e: PathEvidence): string {
  const hs = e.hops.map(([h]) => h).filter((h): h is number => h !== null);
  if (hs.length === 0) return 'unknown (the server could not read the TTL)';
  if (hs.every((h) => h <= 1)) return 'no extra hop';
  if (hs.every((h) => h >= 2))
    return `yes, ${hs.length === 1 && hs[0] === 2 ? 'one extra hop' : 'extra hops'}: the packet crossed the node it entered before the endpoint's`;
  return 'in some checks (the endpoint picked was on another node in those)';
}

/** "Is the client IP preserved?": per backend and path, whose address the servers saw. */
export function clientIpFinding(run: RunJson): Finding {
  const question = 'Is the client IP preserved?';
  const answers: string[] = [];
  for (const [backend, evidence] of evidenceByPath(run)) {
    const parts = evidence.flatMap((e) => {
      if (e.checks === 0) return e.policy === undefined ? [] : [notSeen(e)];
      const from = e.clients.length > 0 ? `, the client sent from ${e.clients.join(', ')}` : '';
      const verdict = { kept: 'yes', replaced: 'no', mixed: 'in some checks only', unknown: 'not recorded' }[e.clientIp];
      return [`${e.path}${policyText(e)}: ${verdict} (the server saw ${peersText(e)}${from})`];
    });
    if (parts.length > 0) answers.push(`${backend}: ${parts.join('; ')}.`);
  }
  if (answers.length === 0) answers.push('This run recorded no address a server saw (runs made before the servers reported it).');
  else
    answers.push(
      "Policy Cluster lets a node forward to an endpoint on another node, so it masquerades (SNAT to its own IP) to bring the replies back through itself; policy Local forwards only to local endpoints and keeps the client's address (kube-proxy's KUBE-EXT chains, Cilium's non-DSR NodePort).",
    );
  return { question, answers };
}

/** One cross-node path against its same-node counterpart, per backend, scale point and workload. */
export interface CrossCost {
  backend: string;
  services: number;
  workload: string;
  path: string;
  against: string;
  /** Per metric (throughput, p50): cross / same, paired over the blocks both ran in when they
   * ran as paired blocks, else the ratio of medians; undefined when a side has no value. */
  ratios: { metric: Metric; c: Comparison | PairedComparison | undefined; paired: boolean }[];
  /** Why there is no ratio: a side's state. */
  missing?: string;
}

export const CROSS_METRICS = ['throughput', 'p50'];

/** Every cross-node case group whose same-node path (PathInfo.sameNode) the run measured too. */
export function crossCosts(run: RunJson, groups: GroupSummary[]): CrossCost[] {
  const out: CrossCost[] = [];
  for (const g of groups) {
    const find = (path: string) =>
      groups.find((x) => x.backend === g.backend && x.services === g.services && x.workload === g.workload && x.path === path);
    const against = registered(g.path)?.sameNode?.find((p) => find(p) !== undefined);
    if (against === undefined) continue;
    const same = find(against)!;
    const [a, b] = [groupCases(run, same), groupCases(run, g)];
    const ratios = CROSS_METRICS.map(metric).map((m) => {
      const pairs = blockPairs(a, b, m.key);
      if (pairs.length > 0) return { metric: m, c: comparePaired(pairs, { seed: run.seed, better: m.better }), paired: true };
      const [sa, sb] = [samplesOf(a, m), samplesOf(b, m)];
      const ok = sa.length > 0 && sb.length > 0 && sa.every((x) => x > 0);
      return { metric: m, c: ok ? compare(sa, sb, { seed: run.seed, better: m.better }) : undefined, paired: false };
    });
    const gone = [same, g]
      .filter((x) => x.states.completed === 0)
      .map((x) => `${x.path} ${stateText(x)}${x.reasons[0] ? `: ${x.reasons[0]}` : ''}`);
    out.push({
      backend: g.backend,
      services: g.services,
      workload: g.workload,
      path: g.path,
      against,
      ratios,
      ...(gone.length > 0 ? { missing: gone.join('; ') } : {}),
    });
  }
  return out;
}

/** "What does crossing to another node cost?": per backend, each cross-node path against its
 * same-node one, with the hops and answering pods of both sides (they may not end at the same pods). */
export function crossFinding(run: RunJson, groups: GroupSummary[]): Finding {
  const question = 'What does crossing to another node cost, per backend?';
  const evidence = evidenceByPath(run);
  const side = (backend: string, path: string) => {
    const e = evidence.get(backend)?.find((x) => x.path === path);
    return e === undefined || e.checks === 0
      ? path
      : `${path} ${hopsText(e)}${e.answeredBy.length > 0 ? `, answered by ${e.answeredBy.join(', ')}` : ''}${e.endpointNodes.length > 0 ? ` on ${e.endpointNodes.join(', ')}` : ''}`;
  };
  const answers = crossCosts(run, groups).map((x) => {
    const at = `${x.workload} at ${n(x.services)} services`;
    if (x.missing !== undefined)
      return `${x.backend}: ${x.path} against ${x.against}, ${at}: not compared (${x.missing.length > 140 ? `${x.missing.slice(0, 139)}…` : x.missing}).`;
    const ms = x.ratios.map(({ metric: m, c, paired }) =>
      c === undefined
        ? `${m.label}: no value`
        : `${m.label} ${changeText(c)}${paired ? ` (paired over ${(c as PairedComparison).pairs} block pairs in ${(c as PairedComparison).groups} repetitions)` : ' (ratio of medians)'}`,
    );
    return `${x.backend}: ${x.path} against ${x.against}, ${at}: ${ms.join('; ')}. Checks: ${side(x.backend, x.path)}; ${side(x.backend, x.against)}.`;
  });
  if (answers.length === 0) {
    const pairs = PATH_REGISTRY.filter((p: PathInfo) => p.sameNode !== undefined).map(
      (p: PathInfo) => `${p.name} with ${p.sameNode!.join(' or ')}`,
    );
    answers.push(`This run measured no cross-node path beside its same-node one (with --nodes 2 or more: ${pairs.join('; ')}).`);
  } else
    answers.push(
      'A ratio above 1 is more of the metric on the cross-node path; where the two sides were answered by different pods (the same-node path spreads over every endpoint, the cross-node one only over those off node 0), the ratio holds that difference too.',
    );
  return { question, answers };
}

/** The cluster findings, when the run recorded what its servers saw or measured a cross-node pair. */
export function clusterFindings(run: RunJson, groups: GroupSummary[]): Finding[] {
  const cross = crossCosts(run, groups).length > 0;
  if (!hasEvidence(run) && !cross) return [];
  return [hopFinding(run), clientIpFinding(run), ...(cross ? [crossFinding(run, groups)] : [])];
}

/** The table of what the servers saw, one row per backend and path. */
export function evidenceRows(run: RunJson): string[][] {
  return [...evidenceByPath(run).values()]
    .flat()
    .map((e) => [
      e.backend,
      e.path,
      e.policy ?? '—',
      String(e.checks),
      e.clients.join(', ') || '—',
      e.entered.join(', ') || '—',
      e.answeredBy.length > 0 ? `${e.answeredBy.join(', ')}${e.endpointNodes.length > 0 ? ` (${e.endpointNodes.join(', ')})` : ''}` : '—',
      e.checks === 0 ? '—' : hopsText(e),
      e.checks === 0 ? '—' : peersText(e),
      e.checks === 0 ? reasonText(e) : { kept: 'kept', replaced: 'replaced', mixed: 'mixed', unknown: '—' }[e.clientIp],
    ]);
}

export const EVIDENCE_HEADER = [
  'backend',
  'path',
  'policy',
  'checks',
  'client',
  'entered at',
  'answered by',
  'hops',
  'server saw',
  'client IP',
];

/** "1.23× [1.10, 1.30] worse" */
export const ratioCell = (c: Comparison | PairedComparison | undefined): string => ratioText(c);
