// Pure rendering of kube-proxy's iptables-mode rules (pkg/proxy/iptables/proxier.go,
// syncProxyRules ≈L760–1560 and writeServiceToEndpointRules ≈L1620). Line numbers are approximate.
//
// kube-proxy settings this reproduces (svcbench has no flags for the others):
//  - local traffic detector "cluster-cidr" from cfg.podCidr ("" means no detector);
//  - masqueradeAll=false; MASQUERADE with --random-fully (iptables ≥ 1.6.2 has it);
//  - nf_conntrack_tcp_be_liberal unset, so KUBE-FORWARD drops ctstate INVALID (≈L1450);
//  - nodePortAddresses unset (match all: `-m addrtype --dst-type LOCAL`), IPv4 only;
//  - localhostNodePorts=false: svcbench does not serve NodePorts on 127.0.0.1, so the KUBE-FIREWALL
//    "block incoming localnet connections" rule (≈L873) is omitted and the KUBE-NODEPORTS jump gets
//    `! -d 127.0.0.0/8`, exactly as kube-proxy renders with --iptables-localhost-nodeports=false;
//  - no nfacct counters, no ExternalIPs/LoadBalancer/healthCheckNodePort (not in the model),
//    all endpoints ready, no topology hints.
// cfg.masqueradeMark is used verbatim (kube-proxy itself prints `%#08x`, "0x00004000", which the
// kernel stores as 0x4000 too). cfg.nodeIPs is not needed: with nodePortAddresses unset kube-proxy
// matches node ports by `--dst-type LOCAL`, not by address.
// Services are emitted in input order (kube-proxy's order is that of a Go map, i.e. random), so a
// scenario controls where its target service sits in the linear KUBE-SERVICES chain.
import { sameEndpoints, sameService } from '../../../src/model/change.js';
import { serviceKey } from '../../../src/model/types.js';
import type { ClusterState, Endpoint, ProxyConfig, Service, ServicePort } from '../../../src/model/types.js';
import { ScriptWriter, TextBuffer } from '../text-buffer.js';
import { endpointString, isServiceChainName, portNames, servicePortName, type PortNames } from './hash.js';
import {
  ALL_JUMP_RULES,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './jumps.js';
import { parseIptablesSave } from './parse-save.js';
import { chainLine, formatRule, LineWriter, quoteArg, toRuleCommands } from './ruleset.js';
import type { Chain, JumpRule, Rule, Ruleset } from './ruleset.js';

/** Above this many endpoints (summed over service ports) comments are dropped (≈L673). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** Filter chains declared (and so flushed and rewritten) on every sync (≈L800). */
export const FILTER_TOP_LEVEL_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL] as const;
/** Nat chains declared on every sync (≈L804). */
export const NAT_TOP_LEVEL_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

export interface RenderStats {
  services: number;
  servicePorts: number;
  /** Endpoints summed over service ports, as kube-proxy counts them for large-cluster mode. */
  endpoints: number;
  filterChains: number;
  filterRules: number;
  natChains: number;
  natRules: number;
  /** Lines in the payload, COMMITs and table headers included. */
  payloadLines: number;
}

export interface RenderResult {
  kind: 'full' | 'partial';
  /** Input for `iptables-restore --noflush` (kube-proxy adds --counters; it changes nothing here). */
  payload: string;
  /** The complete ruleset the tables should hold afterwards (KUBE-* chains only), for read-back. */
  desired: Ruleset;
  /**
   * Rule-by-rule controller: argv per iptables call (no binary), from prev (or nothing) to next.
   * A getter, computed on first access and then kept.
   */
  readonly commands: string[][];
  /** Jump rules to ensure in this sync: all of ALL_JUMP_RULES on a full sync, none on a partial one. */
  jumpRules: readonly JumpRule[];
  largeClusterMode: boolean;
  /** Partial syncs: keys ("ns/name") of services whose per-service chains are in the payload. */
  changedServices: string[];
  /** Partial syncs: nat chains deleted by the payload (`:CHAIN` + `-X CHAIN`). */
  staleChains: string[];
  /**
   * Lines of the payload's first section, the filter table (`*filter` … `COMMIT`): a restore
   * rejected past them has committed the filter table already (see assemble).
   */
  filterLines: number;
  /**
   * An `iptables-restore --noflush` payload of the filter table alone that puts our filter chains
   * back as they were before this sync: prev's filter section on a partial sync; on a full sync
   * the chains declared empty, which is what the sync's own jump step (EnsureChain, before the
   * restore) leaves on tables that held nothing of ours. (A full sync over another instance's
   * rules, a restart, has no prev to go back to: the chains end up empty, no rule of ours in
   * effect there, and the nat table keeps that instance's rules.) Computed on first access: only
   * a rejected restore needs it.
   */
  readonly filterRollback: string;
  stats: RenderStats;
}

// --- rendering ----------------------------------------------------------------------------------

// probability(n) is fmt.Sprintf("%0.10f", 1.0/n) (≈L451), cached as kube-proxy does. Go rounds an
// exact tie to even where JavaScript's toFixed rounds it up. Among 1/n only 1/2048 =
// 0.00048828125 is a tie at 10 digits (a double that is a tie must be a dyadic fraction with
// exactly 11 fractional binary digits), so it alone is corrected.
const probabilities: string[] = ['<bad value>'];
export function probability(n: number): string {
  if (n === 2048) return '0.0004882812';
  let p = probabilities[n];
  if (p === undefined) {
    p = (1 / n).toFixed(10);
    if (n < 100_000) probabilities[n] = p;
  }
  return p;
}

/** Each service's endpoints, in order, and what they add up to over service ports. */
interface Prepared {
  /** Per service, `state.endpoints[key] ?? []`. */
  eps: (readonly Endpoint[])[];
  /** Endpoints summed over service ports (≈L905: totalEndpoints), after deduplication. */
  endpoints: number;
  /** proxier.largeClusterMode = totalEndpoints > largeClusterEndpointsThreshold (≈L912). */
  largeClusterMode: boolean;
}

interface PortEndpoint {
  ip: string;
  local: boolean;
  /** Endpoint.String(): "ip:targetPort". */
  str: string;
}

function prepare(state: ClusterState): Prepared {
  const eps: (readonly Endpoint[])[] = [];
  let endpoints = 0;
  for (const svc of state.services) {
    const list = state.endpoints[serviceKey(svc)] ?? [];
    eps.push(list);
    // portEndpoints() deduplicates by "ip:targetPort", i.e. by IP within one service port.
    if (list.length > 0) endpoints += svc.ports.length * uniqueIps(list);
  }
  return { eps, endpoints, largeClusterMode: endpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD };
}

function uniqueIps(eps: readonly Endpoint[]): number {
  if (eps.length > 16) return new Set(eps.map((e) => e.ip)).size;
  let n = 0;
  outer: for (let i = 0; i < eps.length; i++) {
    const ip = eps[i]!.ip;
    for (let j = 0; j < i; j++) if (eps[j]!.ip === ip) continue outer;
    n++;
  }
  return n;
}

/**
 * The endpoints of one service port, as EndpointSliceCache builds them: deduplicated by
 * "ip:port" (local wins, endpointslicecache.go addEndpoints) and sorted by that string
 * (byEndpoint). Note that this is string order: 10.0.0.10:80 sorts before 10.0.0.2:80.
 */
function portEndpoints(eps: readonly Endpoint[], targetPort: number): PortEndpoint[] {
  const list: PortEndpoint[] = eps.map((e) => ({ ip: e.ip, local: e.local, str: endpointString(e.ip, targetPort) }));
  if (list.length < 2) return list;
  list.sort((a, b) => (a.str < b.str ? -1 : a.str > b.str ? 1 : 0));
  let w = 1;
  for (let r = 1; r < list.length; r++) {
    const e = list[r]!;
    const last = list[w - 1]!;
    if (e.str === last.str) last.local ||= e.local;
    else list[w++] = e;
  }
  list.length = w;
  return list;
}

function externallyAccessible(svc: Service, nodePort: number | undefined): nodePort is number {
  // kube-proxy: NodePort != 0 || external IPs || LB IPs. The model only has node ports, which the
  // API only allocates for type NodePort.
  return svc.type === 'NodePort' && nodePort !== undefined && nodePort !== 0;
}

// --- the ruleset as data ------------------------------------------------------------------------

/**
 * The complete ruleset of a state (KUBE-* chains only) as argv arrays: what `desired` (read-back)
 * and `commands` (the rule-by-rule backend) are made of. It is the full-sync payload read back
 * with the iptables-save parser, so the payload text stays the only place a rule is written;
 * computed only when used, never on the restore path.
 */
function rulesetOf(state: ClusterState, prep: Prepared, cfg: ProxyConfig): Ruleset {
  const sink = new PayloadSink();
  const saved = parseIptablesSave(assemble(buildText(state, prep, cfg, { sink }), sink, []));
  const plain = (chains: readonly Chain[]): Chain[] => chains.map(({ name, rules }) => ({ name, rules }));
  return { filter: plain(saved.filter), nat: plain(saved.nat) };
}

// --- the payload text ---------------------------------------------------------------------------

/**
 * Receives the per-service nat chains (KUBE-EXT/SVC/SVL/SEP) of a render in order: each chain,
 * then its rules as restore lines (`-A CHAIN args…`, arguments quoted with quoteArg).
 */
interface ChainSink {
  chain(name: string): void;
  rule(line: string): void;
}

/** A top-level chain: its rules as restore lines. */
interface LineChain {
  name: string;
  lines: LineWriter;
}

interface Built {
  /** Top-level nat chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ). */
  nat: LineChain[];
  filter: LineChain[];
  /** Every per-service nat chain of the state, in order, whether written to the sink or not. */
  serviceChains: string[];
  /** Rules in those chains. */
  serviceRules: number;
  servicePorts: number;
}

interface BuildOptions {
  /** Where the per-service chains go; none: only their names and rule counts are computed. */
  sink?: ChainSink;
  /** Which services' per-service chains go to the sink (default: all). */
  emit?: (key: string) => boolean;
  /** Only the per-service chain names are wanted: no top-level lines either. */
  namesOnly?: boolean;
  /** With namesOnly: the services whose chain names are wanted (default: all). */
  only?: (key: string) => boolean;
}

/** A fixed rule as a restore line. */
const fixed = (chain: string, rule: Rule): string => formatRule(chain, rule);

/** A LineWriter holding `fixedLines`. */
function lines(...fixedLines: string[]): LineWriter {
  const w = new LineWriter();
  for (const l of fixedLines) w.line(l);
  return w;
}

/** What buildText gathers while it walks the services. */
interface Walk {
  /** Whether the top-level chains' per-service rules are written (not in namesOnly mode). */
  readonly top: boolean;
  readonly natServices: LineWriter;
  readonly natNodePorts: LineWriter;
  readonly filterServices: LineWriter;
  readonly filterExternal: LineWriter;
  readonly serviceChains: string[];
  serviceRules: number;
  servicePorts: number;
}

/** The render's settings as they go into rule text. */
interface Settings {
  readonly podCidr: string;
  /** podCidr quoted ('' without a local traffic detector). */
  readonly qPodCidr: string;
  /** Large-cluster mode: no comments in the SVC/SVL/SEP chains. */
  readonly large: boolean;
}

/**
 * The body of syncProxyRules for one state: the top-level chains in full, and the per-service
 * chains of the services `emit` selects (all by default) written to `sink` as restore lines.
 * Chain names and rule counts are computed for every service.
 *
 * Lines are written directly as text: at 10,000 services a ruleset has ~150,000 rules, and
 * building an argv array per rule and joining it cost most of a render. Variable arguments go
 * through quoteArg, constant ones are written as quoteArg leaves them, so every line reads back
 * (tokenize) into the argv that formatRule() turns into the same line again; the fidelity tests
 * compare these lines with kube-proxy's byte for byte.
 */
function buildText(state: ClusterState, prep: Prepared, cfg: ProxyConfig, o: BuildOptions): Built {
  const { sink, emit } = o;
  const settings: Settings = { podCidr: cfg.podCidr, qPodCidr: cfg.podCidr ? quoteArg(cfg.podCidr) : '', large: prep.largeClusterMode };
  const w: Walk = {
    top: !o.namesOnly,
    natServices: lines(),
    natNodePorts: lines(),
    filterServices: lines(),
    filterExternal: lines(),
    serviceChains: [],
    serviceRules: 0,
    servicePorts: 0,
  };
  const services = state.services;
  for (let si = 0; si < services.length; si++) {
    const svc = services[si]!;
    if (o.only !== undefined && !o.only(serviceKey(svc))) {
      w.servicePorts += svc.ports.length;
      continue;
    }
    const out = sink !== undefined && (emit === undefined || emit(serviceKey(svc))) ? sink : undefined;
    const eps = prep.eps[si]!;
    for (const port of svc.ports) {
      w.servicePorts++;
      const p = planPort(svc, port, eps);
      writeTopLevelRules(w, p);
      if (!p.hasEndpoints) continue; // no nat chains at all for this port
      const sepNames = p.reachable.map((e) => p.names.sep(e.str));
      countServiceChains(w, p, sepNames, settings);
      if (out !== undefined) writeServiceChains(out, p, sepNames, settings);
    }
  }
  const mark = cfg.masqueradeMark;
  return {
    nat: natTopLevelChains(w, mark),
    filter: filterTopLevelChains(w, mark),
    serviceChains: w.serviceChains,
    serviceRules: w.serviceRules,
    servicePorts: w.servicePorts,
  };
}

/** One service port as syncProxyRules sees it (≈L960–1020), with the rule fragments it shares. */
interface PortPlan {
  readonly svc: Service;
  /** Its endpoints (see portEndpoints). */
  readonly all: PortEndpoint[];
  /** clusterEndpoints of CategorizeEndpoints: all, or none when Cluster policy is never used. */
  readonly cluster: readonly PortEndpoint[];
  /** localEndpoints: the local ones when a Local policy is used, else none. */
  readonly local: readonly PortEndpoint[];
  /** allLocallyReachableEndpoints: the ones that get a KUBE-SEP chain. */
  readonly reachable: readonly PortEndpoint[];
  /** ServicePortName.String(). */
  readonly spn: string;
  readonly names: PortNames;
  readonly nodePort: number | undefined;
  readonly external: boolean;
  readonly externalLocal: boolean;
  readonly internalLocal: boolean;
  readonly hasEndpoints: boolean;
  readonly hasInternalEndpoints: boolean;
  readonly hasExternalEndpoints: boolean;
  /** The chain ClusterIP traffic goes to (internalTrafficChain): KUBE-SVC, or KUBE-SVL for internal policy Local. */
  readonly internalChain: string;
  readonly externalPolicyChain: string;
  readonly usesExternalChain: boolean;
  readonly usesClusterPolicyChain: boolean;
  readonly usesLocalPolicyChain: boolean;
  /** `-m PROTO -p PROTO`. */
  readonly match: string;
  /** `-d CLUSTER-IP --dport PORT`. */
  readonly dest: string;
}

function planPort(svc: Service, port: ServicePort, eps: readonly Endpoint[]): PortPlan {
  const all = eps.length === 0 ? [] : portEndpoints(eps, port.targetPort);
  const proto = port.protocol.toLowerCase();
  const spn = servicePortName(svc, port);
  const names = portNames(spn, proto);
  const nodePort = port.nodePort;
  const external = externallyAccessible(svc, nodePort);
  const externalLocal = external && svc.externalTrafficPolicy === 'Local';
  const internalLocal = svc.internalTrafficPolicy === 'Local';
  // serviceport.go UsesClusterEndpoints(): `!internalPolicyLocal || ExternallyAccessible()`;
  // UsesLocalEndpoints(): `internalPolicyLocal || (externalPolicyLocal && ExternallyAccessible())`.
  const usesCluster = !internalLocal || external;
  const usesLocal = internalLocal || externalLocal;
  // topology.go CategorizeEndpoints with every endpoint ready and no hints: clusterEndpoints are
  // all of them (nil when Cluster policy is never used), localEndpoints the local ones (nil when
  // Local policy is never used), allReachableEndpoints clusterEndpoints when Cluster is used
  // (a superset of the local ones), else localEndpoints; hasAnyEndpoints is "any ready endpoint
  // anywhere", whichever lists are built.
  const cluster = usesCluster ? all : [];
  const local = usesLocal ? all.filter((e) => e.local) : [];
  const hasEndpoints = all.length > 0;
  // proxier.go @531be812 ≈L1000–1030: internalPolicyChain is the SVL chain for internal policy
  // Local, and hasInternalEndpoints is false there without local endpoints (likewise external).
  const hasInternalEndpoints = hasEndpoints && (!internalLocal || local.length > 0);
  const qProto = quoteArg(proto);
  return {
    svc,
    all,
    cluster,
    local,
    reachable: usesCluster ? cluster : local,
    spn,
    names,
    nodePort,
    external,
    externalLocal,
    internalLocal,
    hasEndpoints,
    hasInternalEndpoints,
    hasExternalEndpoints: hasEndpoints && (!externalLocal || local.length > 0),
    internalChain: internalLocal ? names.chains.svl : names.chains.svc,
    externalPolicyChain: externalLocal ? names.chains.svl : names.chains.svc,
    usesExternalChain: hasEndpoints && external,
    // usesClusterPolicyChain := len(clusterEndpoints) > 0 && svcInfo.UsesClusterEndpoints(), and the same for Local.
    usesClusterPolicyChain: cluster.length > 0,
    usesLocalPolicyChain: local.length > 0,
    match: `-m ${qProto} -p ${qProto}`,
    dest: `-d ${quoteArg(svc.clusterIP)} --dport ${port.port}`,
  };
}

/** The port's rules in the top-level chains: KUBE-SERVICES (nat capture, or filter REJECT without
 * endpoints), KUBE-NODEPORTS and KUBE-EXTERNAL-SERVICES. Nothing in namesOnly mode. */
function writeTopLevelRules(w: Walk, p: PortPlan): void {
  if (!w.top) return;
  const q = quoteArg;
  const { spn, match, dest, nodePort } = p;
  // Capture the clusterIP into the internal traffic chain (≈L1022), or in filter REJECT it when there
  // are no endpoints, DROP it when internal policy Local finds no local one (internalTrafficFilterTarget).
  if (p.hasInternalEndpoints) {
    w.natServices.line(`-A ${KUBE_SERVICES} -m comment --comment ${q(`${spn} cluster IP`)} ${match} ${dest} -j ${p.internalChain}`);
  } else {
    const why = p.hasEndpoints ? `${spn} has no local endpoints` : `${spn} has no endpoints`;
    w.filterServices.line(`-A ${KUBE_SERVICES} -m comment --comment ${q(why)} ${match} ${dest} -j ${p.hasEndpoints ? 'DROP' : 'REJECT'}`);
  }
  // Capture node ports (≈L1127).
  if (!p.external) return;
  if (p.hasEndpoints) {
    w.natNodePorts.line(`-A ${KUBE_NODEPORTS} -m comment --comment ${q(spn)} ${match} --dport ${nodePort} -j ${p.names.chains.ext}`);
  }
  if (!p.hasExternalEndpoints) {
    const why = p.hasEndpoints ? `${spn} has no local endpoints` : `${spn} has no endpoints`;
    w.filterExternal.line(
      `-A ${KUBE_EXTERNAL_SERVICES} -m comment --comment ${q(why)} -m addrtype --dst-type LOCAL ${match} --dport ${nodePort} -j ${
        p.hasEndpoints ? 'DROP' : 'REJECT'
      }`,
    );
  }
}

/** Per-service chains of a port with endpoints, in kube-proxy's order (EXT, (FW), SVC, SVL, SEPs),
 * and their rule counts, whether the rules are written or not. */
function countServiceChains(w: Walk, p: PortPlan, sepNames: readonly string[], s: Settings): void {
  const names = p.names.chains;
  const perEndpoint = p.svc.sessionAffinity === 'ClientIP' ? 2 : 1;
  if (p.usesExternalChain) {
    w.serviceChains.push(names.ext);
    w.serviceRules += (p.externalLocal ? (s.podCidr ? 3 : 2) : 1) + (p.hasExternalEndpoints ? 1 : 0);
  }
  if (p.hasInternalEndpoints && s.podCidr) w.serviceRules++; // the masquerade rule of the internal chain
  if (p.usesClusterPolicyChain) {
    w.serviceChains.push(names.svc);
    w.serviceRules += perEndpoint * p.cluster.length;
  }
  if (p.usesLocalPolicyChain) {
    w.serviceChains.push(names.svl);
    w.serviceRules += perEndpoint * p.local.length;
  }
  for (const sep of sepNames) w.serviceChains.push(sep);
  w.serviceRules += 2 * sepNames.length;
}

/** The per-service chains of a port with endpoints, to `out`: KUBE-EXT, KUBE-SVC, KUBE-SVL, KUBE-SEPs. */
function writeServiceChains(out: ChainSink, p: PortPlan, sepNames: readonly string[], s: Settings): void {
  const q = quoteArg;
  const { svc, spn, match } = p;
  const names = p.names.chains;
  const reachable = p.reachable;
  const n = reachable.length;
  // KUBE-EXT-* (≈L1230–1295).
  if (p.usesExternalChain) {
    out.chain(names.ext);
    const a = `-A ${names.ext} -m comment --comment `;
    if (!p.externalLocal) {
      out.rule(`${a}${q(`masquerade traffic for ${spn} external destinations`)} -j ${KUBE_MARK_MASQ}`);
    } else {
      if (s.podCidr) out.rule(`${a}${q(`pod traffic for ${spn} external destinations`)} -s ${s.qPodCidr} -j ${names.svc}`);
      out.rule(`${a}${q(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`);
      out.rule(`${a}${q(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${names.svc}`);
    }
    if (p.hasExternalEndpoints) out.rule(`-A ${names.ext} -j ${p.externalPolicyChain}`);
  }

  // The internal traffic chain (KUBE-SVC, or KUBE-SVL for internal policy Local) starts with the
  // masquerade of off-cluster sources (≈L1214, "Set up internal traffic handling"); the other
  // policy chain has none.
  const masquerade = (chain: string): void => {
    if (p.hasInternalEndpoints && s.podCidr && chain === p.internalChain)
      out.rule(`-A ${chain} -m comment --comment ${q(`${spn} cluster IP`)} ${match} ${p.dest} ! -s ${s.qPodCidr} -j ${KUBE_MARK_MASQ}`);
  };
  // KUBE-SVC-*: clusterEndpoints, when Cluster policy is used at all.
  if (p.usesClusterPolicyChain) {
    out.chain(names.svc);
    masquerade(names.svc);
    // Cluster policy in use: the reachable endpoints are clusterEndpoints, so sepNames are theirs.
    writeServiceToEndpointRules(out, names.svc, svc, spn, p.cluster, sepNames, s.large);
  }
  // KUBE-SVL-*: localEndpoints only.
  if (p.usesLocalPolicyChain) {
    out.chain(names.svl);
    masquerade(names.svl);
    writeServiceToEndpointRules(
      out,
      names.svl,
      svc,
      spn,
      p.local,
      p.local.map((e) => p.names.sep(e.str)),
      s.large,
    );
  }

  // KUBE-SEP-* (≈L1350): hairpin masquerade, then DNAT (with the affinity --set). In large
  // clusters appendServiceCommentLocked (≈L673) leaves out the comment, here and in
  // writeServiceToEndpointRules.
  const comment = s.large ? '' : `-m comment --comment ${q(spn)} `;
  const affinity = svc.sessionAffinity === 'ClientIP';
  for (let i = 0; i < n; i++) {
    const e = reachable[i]!;
    const sep = sepNames[i]!;
    out.chain(sep);
    out.rule(`-A ${sep} ${comment}-s ${q(e.ip)} -j ${KUBE_MARK_MASQ}`);
    const recent = affinity ? `-m recent --name ${sep} --set ` : '';
    out.rule(`-A ${sep} ${comment}${recent}${match} -j DNAT --to-destination ${q(e.str)}`);
  }
}

/** The top-level nat chains, in the order they are declared: KUBE-SERVICES (closed by its tail call
 * to KUBE-NODEPORTS), KUBE-NODEPORTS, KUBE-POSTROUTING, KUBE-MARK-MASQ. */
function natTopLevelChains(w: Walk, mark: string): LineChain[] {
  // The tail call to KUBE-NODEPORTS must stay the last rule of KUBE-SERVICES (≈L1422).
  w.natServices.line(
    fixed(KUBE_SERVICES, [
      '-m',
      'comment',
      '--comment',
      'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
      '-m',
      'addrtype',
      '--dst-type',
      'LOCAL',
      '!',
      '-d',
      '127.0.0.0/8',
      '-j',
      KUBE_NODEPORTS,
    ]),
  );

  return [
    { name: KUBE_SERVICES, lines: w.natServices },
    { name: KUBE_NODEPORTS, lines: w.natNodePorts },
    {
      // ≈L825–850
      name: KUBE_POSTROUTING,
      lines: lines(
        fixed(KUBE_POSTROUTING, ['-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN']),
        fixed(KUBE_POSTROUTING, ['-j', 'MARK', '--xor-mark', mark]),
        fixed(KUBE_POSTROUTING, [
          '-m',
          'comment',
          '--comment',
          'kubernetes service traffic requiring SNAT',
          '-j',
          'MASQUERADE',
          '--random-fully',
        ]),
      ),
    },
    { name: KUBE_MARK_MASQ, lines: lines(fixed(KUBE_MARK_MASQ, ['-j', 'MARK', '--or-mark', mark])) },
  ];
}

/** The top-level filter chains, in the order they are declared. */
function filterTopLevelChains(w: Walk, mark: string): LineChain[] {
  return [
    { name: KUBE_SERVICES, lines: w.filterServices },
    { name: KUBE_EXTERNAL_SERVICES, lines: w.filterExternal },
    {
      // ≈L1450–1503
      name: KUBE_FORWARD,
      lines: lines(
        fixed(KUBE_FORWARD, ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP']),
        fixed(KUBE_FORWARD, [
          '-m',
          'comment',
          '--comment',
          'kubernetes forwarding rules',
          '-m',
          'mark',
          '--mark',
          `${mark}/${mark}`,
          '-j',
          'ACCEPT',
        ]),
        fixed(KUBE_FORWARD, [
          '-m',
          'comment',
          '--comment',
          'kubernetes forwarding conntrack rule',
          '-m',
          'conntrack',
          '--ctstate',
          'RELATED,ESTABLISHED',
          '-j',
          'ACCEPT',
        ]),
      ),
    },
    { name: KUBE_NODEPORTS, lines: lines() }, // healthCheckNodePort ACCEPT rules would go here
    { name: KUBE_PROXY_FIREWALL, lines: lines() }, // loadBalancerSourceRanges DROP rules would go here
  ];
}

/**
 * writeServiceToEndpointRules (≈L1624): all `recent --rcheck` affinity rules first, then one rule
 * per endpoint, endpoint i of n matching with probability 1/(n-i), the last one unconditionally.
 */
function writeServiceToEndpointRules(
  out: ChainSink,
  chain: string,
  svc: Service,
  spn: string,
  endpoints: readonly PortEndpoint[],
  sepNames: readonly string[],
  largeClusterMode: boolean,
): void {
  const n = endpoints.length;
  const comments = largeClusterMode ? undefined : endpoints.map((e) => `-m comment --comment ${quoteArg(`${spn} -> ${e.str}`)} `);
  if (svc.sessionAffinity === 'ClientIP') {
    const seconds = quoteArg(String(svc.stickyMaxAgeSeconds));
    for (let i = 0; i < n; i++) {
      const sep = sepNames[i]!;
      out.rule(`-A ${chain} ${comments ? comments[i]! : ''}-m recent --name ${sep} --rcheck --seconds ${seconds} --reap -j ${sep}`);
    }
  }
  for (let i = 0; i < n; i++) {
    const sep = sepNames[i]!;
    const c = comments ? comments[i]! : '';
    out.rule(
      i === n - 1
        ? `-A ${chain} ${c}-j ${sep}`
        : `-A ${chain} ${c}-m statistic --mode random --probability ${probability(n - i)} -j ${sep}`,
    );
  }
}

/** Writes the per-service chains into a restore payload: chain lines and rule lines apart. */
class PayloadSink implements ChainSink {
  readonly chains = new LineWriter();
  /** The bulk of the payload (~100,000 lines at 10,000 services): gathered as bytes. */
  readonly rules = new ScriptWriter();
  chain(name: string): void {
    this.chains.line(chainLine(name));
  }
  rule(line: string): void {
    this.rules.line(line);
  }
}

/** The filter section of a payload: `*filter`, its chain lines, its rules, `COMMIT`. */
function filterSection(filter: readonly LineChain[]): string[] {
  const out: string[] = ['*filter'];
  for (const c of filter) out.push(chainLine(c.name));
  for (const c of filter) c.lines.flushTo(out);
  out.push('COMMIT');
  return out;
}

/**
 * The `iptables-restore --noflush` payload (see toRestorePayload, whose format this is), filter
 * first, then nat: kube-proxy's iptables mode writes them in this order into one buffer
 * (pkg/proxy/iptables/proxier.go, syncProxyRules: `*filter`, filterChains, filterRules, `COMMIT`,
 * then `*nat`, natChains, natRules, `COMMIT`). Per table, all chain lines, then the rules chain
 * by chain, then the deletions. The per-service nat chains come from `sink`, after the top-level
 * ones. iptables-restore commits the filter table before it parses nat, so the ClusterIPs in nat
 * answer at the nat COMMIT, the payload's end.
 */
function assemble(b: Built, sink: PayloadSink, deleted: readonly string[]): string {
  const head = filterSection(b.filter);
  head.push('*nat');
  for (const c of b.nat) head.push(chainLine(c.name));
  sink.chains.flushTo(head);
  for (const name of deleted) head.push(chainLine(name));
  for (const c of b.nat) c.lines.flushTo(head);
  const tail: string[] = [];
  for (const name of deleted) tail.push(`-X ${name}`);
  tail.push('COMMIT', '');
  // head lines, the per-service rules (each line newline-terminated), tail lines
  const headText = `${head.join('\n')}\n`;
  const tailText = tail.join('\n');
  const rules = sink.rules.textSoFar();
  const out = new TextBuffer(headText.length + rules.byteLength + tailText.length);
  out.append(headText);
  out.appendText(rules);
  out.append(tailText);
  sink.rules.dispose();
  return out.toString();
}

/** A restore payload of the filter table alone (RenderResult.filterRollback). */
const filterOnly = (filter: readonly LineChain[]): string => `${filterSection(filter).join('\n')}\n`;

/** Our filter chains, declared empty (RenderResult.filterRollback of a full sync). */
const emptyFilter = (filter: readonly LineChain[]): string => filterOnly(filter.map(({ name }) => ({ name, lines: lines() })));

const lineCount = (chains: readonly LineChain[]): number => chains.reduce((n, c) => n + c.lines.lines, 0);

/** Stats of the next ruleset `b` (all of it), with the size of the payload actually written. */
function stats(b: Built, prep: Prepared, services: number, payloadLines: number): RenderStats {
  return {
    services,
    servicePorts: b.servicePorts,
    endpoints: prep.endpoints,
    filterChains: b.filter.length,
    filterRules: lineCount(b.filter),
    natChains: b.nat.length + b.serviceChains.length,
    natRules: lineCount(b.nat) + b.serviceRules,
    payloadLines,
  };
}

/**
 * A full sync: every chain declared and written, jump rules to be ensured. `commands` create
 * everything from nothing (tables without any of these chains).
 * `desired` and `commands` are computed on first access, from the state passed in: do not
 * mutate it before (the restore path only needs the payload).
 */
export function renderFull(state: ClusterState, cfg: ProxyConfig): RenderResult {
  const prep = prepare(state);
  const sink = new PayloadSink();
  const b = buildText(state, prep, cfg, { sink });
  const rollback = emptyFilter(b.filter);
  const payload = assemble(b, sink, []);
  const s = stats(b, prep, state.services.length, 0);
  // "*table" + "COMMIT" per table, a chain line per chain, one line per rule.
  s.payloadLines = 4 + s.filterChains + s.natChains + s.filterRules + s.natRules;
  let desired: Ruleset | undefined;
  let commands: string[][] | undefined;
  return {
    kind: 'full',
    payload,
    get desired() {
      return (desired ??= rulesetOf(state, prepare(state), cfg));
    },
    // The restore path never needs it (150,000 arrays at 10k services).
    get commands() {
      return (commands ??= toRuleCommands((desired ??= rulesetOf(state, prepare(state), cfg))));
    },
    jumpRules: ALL_JUMP_RULES,
    largeClusterMode: prep.largeClusterMode,
    changedServices: [],
    staleChains: [],
    filterLines: 2 + s.filterChains + s.filterRules,
    filterRollback: rollback,
    stats: s,
  };
}

/**
 * Services whose Service object or endpoints differ between prev and next, present in next
 * (kube-proxy's serviceUpdateResult/endpointUpdateResult.UpdatedServices, ≈L1197).
 */
export function changedServiceKeys(prev: ClusterState, next: ClusterState): string[] {
  const before = new Map<string, Service>();
  for (const s of prev.services) before.set(serviceKey(s), s);
  const changed: string[] = [];
  for (const s of next.services) {
    const key = serviceKey(s);
    const old = before.get(key);
    if (!old || !sameService(old, s) || !sameEndpoints(prev.endpoints[key] ?? [], next.endpoints[key] ?? [])) changed.push(key);
  }
  return changed;
}

/**
 * A partial sync from prev (assumed installed) to next, as kube-proxy's syncProxyRules with
 * doFullSync=false: the top-level chains are declared and rewritten for all services; the
 * SVC/SVL/EXT/FW/SEP chains only for services whose Service or endpoints changed (the others
 * are absent, so --noflush leaves them alone); per-service chains that prev had and next has not
 * are declared and deleted with `-X` (kube-proxy finds them with iptables-save; here they come
 * from the chain names of prev, and deletion happens on every sync, even in large-cluster mode
 * where kube-proxy only does it once per syncPeriod). Jump rules are not re-ensured.
 * `commands` edit prev into next: see toRuleCommands. `desired` and `commands` are computed on
 * first access, from the states passed in: do not mutate them before.
 */
export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): RenderResult {
  const prepNext = prepare(next);
  const prepPrev = prepare(prev);
  // Deviation: when large-cluster mode flips, every SVC/SEP rule changes its comments, but
  // kube-proxy would rewrite only the changed services and leave the others with the old
  // comments (harmless for matching). Treat all services as changed so read-back stays exact.
  const changed = prepNext.largeClusterMode === prepPrev.largeClusterMode ? changedServiceKeys(prev, next) : next.services.map(serviceKey);
  const changedSet = new Set(changed);

  const sink = new PayloadSink();
  const b = buildText(next, prepNext, cfg, { sink, emit: (key) => changedSet.has(key) });
  // Stale chains can only be chains of services that are gone or changed: a service that is in
  // next unchanged has the same chains there (prev is a valid state, so keys are unique).
  const nextKeys = new Set(next.services.map(serviceKey));
  const before = buildText(prev, prepPrev, cfg, { namesOnly: true, only: (key) => changedSet.has(key) || !nextKeys.has(key) });

  const active = new Set<string>(b.serviceChains);
  for (const c of b.nat) active.add(c.name);
  const stale: string[] = [];
  for (const c of before.nat) if (isServiceChainName(c.name) && !active.has(c.name)) stale.push(c.name);
  for (const c of before.serviceChains) if (isServiceChainName(c) && !active.has(c)) stale.push(c);

  const filterLines = 2 + b.filter.length + lineCount(b.filter);
  const payload = assemble(b, sink, stale);
  const payloadChains = b.filter.length + b.nat.length + sink.chains.lines + stale.length;
  const payloadRules = lineCount(b.filter) + lineCount(b.nat) + sink.rules.lines;
  let desired: Ruleset | undefined;
  let commands: string[][] | undefined;
  let rollback: string | undefined;
  return {
    kind: 'partial',
    payload,
    get desired() {
      return (desired ??= rulesetOf(next, prepNext, cfg));
    },
    get commands() {
      return (commands ??= toRuleCommands((desired ??= rulesetOf(next, prepNext, cfg)), rulesetOf(prev, prepPrev, cfg)));
    },
    jumpRules: [],
    largeClusterMode: prepNext.largeClusterMode,
    changedServices: changed,
    staleChains: stale,
    filterLines,
    // The filter table holds only top-level chains, which every sync rewrites in full: prev's
    // are prev's whole filter state.
    get filterRollback() {
      return (rollback ??= filterOnly(buildText(prev, prepPrev, cfg, {}).filter));
    },
    // "*table" + "COMMIT" per table, a chain line per chain, one line per rule and per -X.
    stats: stats(b, prepNext, next.services.length, 4 + payloadChains + payloadRules + stale.length),
  };
}
