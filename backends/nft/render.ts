// Pure render of kube-proxy's nftables ruleset: one `nft -f` transaction per sync plus the
// structured description (table.ts) of the table that transaction leaves installed.
//
// Source: kubernetes/kubernetes pkg/proxy/nftables/proxier.go (recent main): constants and
// nftablesBaseChains/nftablesJumpChains (≈L55–370), setupNFTables (≈L403–700),
// syncProxyRules (≈L978–1680), writeServiceToEndpointRules (≈L1686), nftElementStorage.
// Expected output: ../shared/reference/kube-proxy-rules.md §2 and proxier_test.go
// (TestOverallNFTablesRules).
//
// Deliberate differences from kube-proxy, all behaviour-neutral:
// - Rules are written the way `nft list` prints them (`meta mark set meta mark | 0x00004000`
//   where knftables sends `mark set mark or 0x4000`; same bytecode), so what we render can be
//   compared textually with a listing of what the kernel holds (readback.ts).
// - Stale service chains are flushed *and deleted* in the same transaction, after the map
//   elements pointing at them are deleted. kube-proxy defers the delete by ≥1 s into a later
//   transaction because kernels before 6.2 only noticed a chain was unreferenced some time
//   after the map element was removed; the kernel here is 6.18.
// - Services are emitted in input order (kube-proxy iterates a Go map: random order per
//   sync); endpoints are sorted by address string as kube-proxy's EndpointSliceCache does
//   (byAddress), so "10.0.0.10" comes before "10.0.0.2".
// - No "drop traffic to unallocated ClusterIPs" rule: kube-proxy adds it only when it knows
//   the service CIDRs, and ProxyConfig carries none.
// - NodePorts use the match-all form (no --nodeport-addresses), so cfg.nodeIPs is not used.
//
// Speed: the transaction is accumulated in batches (script.ts) and the description is
// built lazily, on first access to `desired`, by a second pass (describe()); it is only needed
// for read-back, outside any timed region.

import { sameEndpoints, sameService } from '../../src/model/change.js';
import { BenchError } from '../../src/errors.js';
import type { ClusterState, Endpoint, ProxyConfig, Service, ServicePort } from '../../src/model/types.js';
import { serviceKey } from '../../src/model/types.js';
import { endpointNames, isAffinitySetName, isServiceChainName, protoLower, serviceChainNames, servicePortNameString } from './names.js';
import type { EndpointNames, ServicePortChainNames } from './names.js';
import { ScriptWriter } from './script.js';
import type { BaseChainSpec, ChainDesc, SetDesc, TableDesc } from './table.js';

export const TABLE = 'kube-proxy';
const T = `ip ${TABLE}`;
// Prefixes of the lines written per service (one string each: fewer rope nodes to flatten).
const ADD_CHAIN = `add chain ${T} `;
const FLUSH_CHAIN = `flush chain ${T} `;
const ADD_RULE = `add rule ${T} `;
const ADD_ELEMENT = `add element ${T} `;
const DELETE_ELEMENT = `delete element ${T} `;

/** Fixed chain names (proxier.go constants). */
export const CHAIN = {
  filterPreroutingPreDNAT: 'filter-prerouting-pre-dnat',
  filterOutputPreDNAT: 'filter-output-pre-dnat',
  filterInput: 'filter-input',
  filterForward: 'filter-forward',
  filterOutput: 'filter-output',
  natPrerouting: 'nat-prerouting',
  natOutput: 'nat-output',
  natPostrouting: 'nat-postrouting',
  services: 'services',
  serviceEndpointsCheck: 'service-endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  reject: 'reject-chain',
  clusterIPsCheck: 'cluster-ips-check',
  firewallCheck: 'firewall-check',
  markMasq: 'mark-for-masquerade',
  masquerading: 'masquerading',
} as const;

/** Fixed set and map names (proxier.go constants). */
export const SET = {
  clusterIPs: 'cluster-ips',
  nodePortIPs: 'nodeport-ips',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  firewallIPs: 'firewall-ips',
} as const;

/** The containers whose elements kube-proxy tracks with nftElementStorage, in its order. */
const TRACKED: readonly string[] = [
  SET.clusterIPs,
  SET.serviceIPs,
  SET.firewallIPs,
  SET.noEndpointServices,
  SET.noEndpointNodePorts,
  SET.serviceNodePorts,
];

/** nftablesBaseChains: dstnat = -100, dstnat-10 = -110, filter = 0, srcnat = 100. */
const BASE_CHAINS: ReadonlyArray<{ name: string; spec: BaseChainSpec }> = [
  { name: CHAIN.filterPreroutingPreDNAT, spec: { type: 'filter', hook: 'prerouting', priority: -110, policy: 'accept' } },
  { name: CHAIN.filterOutputPreDNAT, spec: { type: 'filter', hook: 'output', priority: -110, policy: 'accept' } },
  { name: CHAIN.filterInput, spec: { type: 'filter', hook: 'input', priority: 0, policy: 'accept' } },
  { name: CHAIN.filterForward, spec: { type: 'filter', hook: 'forward', priority: 0, policy: 'accept' } },
  { name: CHAIN.filterOutput, spec: { type: 'filter', hook: 'output', priority: 0, policy: 'accept' } },
  { name: CHAIN.natPrerouting, spec: { type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' } },
  { name: CHAIN.natOutput, spec: { type: 'nat', hook: 'output', priority: -100, policy: 'accept' } },
  { name: CHAIN.natPostrouting, spec: { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' } },
];

/** nftablesJumpChains: [destination, source base chain, match before "jump"]. */
const JUMP_CHAINS: ReadonlyArray<readonly [string, string, string]> = [
  [CHAIN.nodePortEndpointsCheck, CHAIN.filterInput, 'ct state new '],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterInput, 'ct state new '],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterForward, 'ct state new '],
  [CHAIN.serviceEndpointsCheck, CHAIN.filterOutput, 'ct state new '],
  [CHAIN.firewallCheck, CHAIN.filterPreroutingPreDNAT, 'ct state new '],
  [CHAIN.firewallCheck, CHAIN.filterOutputPreDNAT, 'ct state new '],
  [CHAIN.services, CHAIN.natOutput, ''],
  [CHAIN.services, CHAIN.natPrerouting, ''],
  [CHAIN.masquerading, CHAIN.natPostrouting, ''],
  [CHAIN.clusterIPsCheck, CHAIN.filterForward, 'ct state new '],
  [CHAIN.clusterIPsCheck, CHAIN.filterOutput, 'ct state new '],
];

const SERVICE_KEY_TYPE = 'ipv4_addr . inet_proto . inet_service';
const NODEPORT_KEY_TYPE = 'inet_proto . inet_service';

export interface RenderOptions {
  /**
   * kube-proxy's first sync after start also does `add chain` + `delete chain` of every base
   * chain (proxier.flushed) so that changed base chain properties apply. Default true.
   */
  recreateBaseChains?: boolean;
  /**
   * What is installed now (readback.ts). kube-proxy's full sync lists the kernel's elements,
   * chains and sets: elements are then diffed against them and stale service chains and
   * affinity sets removed. Default: nothing installed, every desired element is added.
   */
  installed?: TableDesc;
}

export interface RenderStats {
  /** Lines of the transaction. */
  lines: number;
  /** Services ("ns/name") whose chains were (re)written. */
  servicesWritten: number;
  /** Per-service chains written (add + flush + rules). */
  chainsWritten: number;
  rulesWritten: number;
  chainsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
  affinitySetsDeleted: number;
}

export interface RenderResult {
  /** The `nft -f` transaction, newline-terminated ('' when there is nothing to do). */
  readonly script: string;
  /**
   * The table this transaction leaves installed. Computed on first access (describe(), ~130–
   * 270 ms at 10,000 services) from the state passed in: do not mutate that state before.
   */
  readonly desired: TableDesc;
  readonly stats: RenderStats;
}

/** Full sync: setupNFTables + every service's chains; elements added (or diffed against opts.installed). */
export function renderFull(state: ClusterState, cfg: ProxyConfig, opts: RenderOptions = {}): RenderResult {
  const eps = validate(state, cfg);
  const installed = opts.installed === undefined ? undefined : indexOf(opts.installed);
  // Without an installed table there is nothing to diff: no element or chain bookkeeping.
  const ctx = newContext(cfg, installed, new ScriptWriter(), undefined, installed !== undefined);
  writeSetup(ctx, opts.recreateBaseChains ?? true);
  const services = state.services;
  for (let i = 0; i < services.length; i++) writeService(ctx, services[i] as Service, eps[i], true);
  return finish(ctx, installed, () => describe(state, cfg));
}

/**
 * Partial sync from prev to next: only services whose Service or endpoints changed get their
 * chains rewritten; map and set elements are diffed; stale chains and affinity sets removed.
 * Assumes cfg is unchanged (kube-proxy restarts, and so full-syncs, on a config change).
 */
export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): RenderResult {
  // Keys computed once and reused: each lookup of a fresh key string (Map, endpoints object)
  // hashes or internalizes it first, which at 10,000 services is most of a partial render.
  const prevKeys = prev.services.map(serviceKey);
  const prevByKey = new Map<string, Service>();
  for (let i = 0; i < prevKeys.length; i++) prevByKey.set(prevKeys[i] as string, prev.services[i] as Service);
  // A service whose Service and endpoints are the same in prev and next writes nothing (its
  // elements are already there, its chains are not rewritten), and its chains, affinity sets
  // and elements are in the installed table and the next one alike: it is left out of both
  // sides of the diff. (prev was rendered before, so it is valid: no two of its services share
  // a key, a cluster IP or a node port with each other, and an unchanged service's fields
  // need no second format check.)
  const keys = next.services.map(serviceKey);
  const unchanged = new Set<string>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const old = prevByKey.get(key);
    if (old !== undefined && sameService(old, next.services[i] as Service) && sameEndpoints(prev.endpoints[key], next.endpoints[key]))
      unchanged.add(key);
  }
  const nextEps = validate(next, cfg, unchanged, keys);

  const before = newContext(cfg, undefined, undefined, undefined, true);
  writeSetup(before, false);
  for (let i = 0; i < prevKeys.length; i++) {
    const key = prevKeys[i] as string;
    if (!unchanged.has(key)) writeService(before, prev.services[i] as Service, prev.endpoints[key], false);
  }
  const installed: TableIndex = { chains: before.chains, affinitySets: before.affinitySets, elements: before.elements };

  const ctx = newContext(cfg, installed, new ScriptWriter(), undefined, true);
  writeSetup(ctx, false, false); // no setupNFTables on a partial sync; only the bookkeeping
  for (let i = 0; i < keys.length; i++) {
    if (!unchanged.has(keys[i] as string)) writeService(ctx, next.services[i] as Service, nextEps[i], true);
  }
  return finish(ctx, installed, () => describe(next, cfg));
}

/** The table a full sync of `state` installs (no transaction text). */
export function describe(state: ClusterState, cfg: ProxyConfig): TableDesc {
  const desc: TableDesc = { family: 'ip', name: TABLE, comment: 'rules for kube-proxy', chains: new Map(), sets: new Map() };
  const ctx = newContext(cfg, undefined, undefined, desc, true);
  writeSetup(ctx, false);
  for (const svc of state.services) writeService(ctx, svc, state.endpoints[serviceKey(svc)], true);
  return desc;
}

// --- context -----------------------------------------------------------------------------

/** What a sync diffs against: chain names, affinity set names and tracked elements. */
interface TableIndex {
  chains: Set<string>;
  affinitySets: Set<string>;
  elements: Map<string, Map<string, string>>;
}

function indexOf(t: TableDesc): TableIndex {
  const elements = new Map<string, Map<string, string>>();
  for (const name of TRACKED) {
    const s = t.sets.get(name);
    if (s !== undefined) elements.set(name, s.elements);
  }
  return { chains: new Set(t.chains.keys()), affinitySets: new Set([...t.sets.keys()].filter(isAffinitySetName)), elements };
}

interface Context {
  cfg: ProxyConfig;
  /** Mark in nft's listing form: 0x4000 → 0x00004000. */
  mark: string;
  /** Transaction output; undefined when only bookkeeping or the description is wanted. */
  w: ScriptWriter | undefined;
  /** Full description being recorded (describe() only). */
  desc: TableDesc | undefined;
  /**
   * Whether per-service chains and elements are tracked (for diffing against what is
   * installed, and for the description). A full sync onto nothing skips the bookkeeping:
   * validate() guarantees that its chain names and element keys are unique.
   */
  track: boolean;
  /** Chains and affinity sets that exist after this sync (kube-proxy's activeChains/Sets). */
  chains: Set<string>;
  affinitySets: Set<string>;
  /** Element state per tracked container (nftElementStorage.elements). */
  elements: Map<string, Map<string, string>>;
  /** Keys installed before this sync and not ensured yet (nftElementStorage.leftoverKeys). */
  leftover: Map<string, Set<string>>;
  stats: RenderStats;
}

function newContext(
  cfg: ProxyConfig,
  installed: TableIndex | undefined,
  w: ScriptWriter | undefined,
  desc: TableDesc | undefined,
  track: boolean,
): Context {
  const elements = new Map<string, Map<string, string>>();
  const leftover = new Map<string, Set<string>>();
  for (const name of TRACKED) {
    const cur = installed?.elements.get(name);
    elements.set(name, new Map(cur ?? []));
    leftover.set(name, new Set(cur?.keys() ?? []));
  }
  return {
    cfg,
    mark: formatMark(cfg.masqueradeMark),
    w,
    desc,
    track,
    chains: new Set(),
    affinitySets: new Set(),
    elements,
    leftover,
    stats: {
      lines: 0,
      servicesWritten: 0,
      chainsWritten: 0,
      rulesWritten: 0,
      chainsDeleted: 0,
      elementsAdded: 0,
      elementsDeleted: 0,
      affinitySetsDeleted: 0,
    },
  };
}

/** "0x4000" (or "16384") → "0x00004000", the form in which `nft list` prints a mark. */
export function formatMark(mark: string): string {
  const n = Number(mark);
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new BenchError(`nft render: invalid masquerade mark ${JSON.stringify(mark)}`);
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// --- transaction primitives (knftables' text form) ----------------------------------------

/** ensureChain: `add chain` + `flush chain` once per chain and sync. */
function ensureChain(ctx: Context, name: string, write: boolean, comment?: string): void {
  if (ctx.chains.has(name)) return;
  ctx.chains.add(name);
  declareChain(ctx, name, write, comment);
}

/** ensureChain for a per-service chain (unique by construction when not tracked). */
function ensureServiceChain(ctx: Context, name: string, write: boolean): void {
  if (ctx.track) {
    if (ctx.chains.has(name)) return;
    ctx.chains.add(name);
  }
  declareChain(ctx, name, write, undefined);
}

function declareChain(ctx: Context, name: string, write: boolean, comment: string | undefined): void {
  if (ctx.desc !== undefined) ctx.desc.chains.set(name, comment === undefined ? { name, rules: [] } : { name, comment, rules: [] });
  if (write && ctx.w !== undefined) {
    ctx.w.line(comment === undefined ? ADD_CHAIN + name : `${ADD_CHAIN}${name} { comment ${quote(comment)} ; }`);
    ctx.w.line(FLUSH_CHAIN + name);
  }
}

function addRule(ctx: Context, chain: string, rule: string, write: boolean): void {
  if (ctx.desc !== undefined) (ctx.desc.chains.get(chain) as ChainDesc).rules.push(rule);
  if (write && ctx.w !== undefined) {
    ctx.w.line(`${ADD_RULE}${chain} ${rule}`);
    ctx.stats.rulesWritten++;
  }
}

function addContainer(ctx: Context, set: Omit<SetDesc, 'elements'>, write: boolean): void {
  if (ctx.desc !== undefined && !ctx.desc.sets.has(set.name)) {
    // The description shares the element state map, so ensureElem fills both.
    const elements = ctx.elements.get(set.name) ?? new Map<string, string>();
    ctx.desc.sets.set(set.name, { ...set, elements });
  }
  if (!write || ctx.w === undefined) return;
  let body = `type ${set.map === undefined ? set.type : `${set.type} : ${set.map}`} ;`;
  if (set.flags.length > 0) body += ` flags ${set.flags.join(',')} ;`;
  if (set.timeout !== undefined) body += ` timeout ${set.timeout}s ;`;
  if (set.comment !== undefined) body += ` comment ${quote(set.comment)} ;`;
  ctx.w.line(`add ${set.kind} ${T} ${set.name} { ${body} }`);
}

/** nftElementStorage.ensureElem: add new keys, delete + add changed values, keep the rest. */
function ensureElem(ctx: Context, container: string, key: string, value: string, comment?: string): void {
  let existing: string | undefined;
  if (ctx.track) {
    const state = ctx.elements.get(container) as Map<string, string>;
    ctx.leftover.get(container)?.delete(key);
    existing = state.get(key);
    if (existing === value) return;
    state.set(key, value);
  }
  const w = ctx.w;
  if (w === undefined) return;
  if (existing !== undefined) {
    w.line(`${DELETE_ELEMENT}${container} { ${key} }`);
    ctx.stats.elementsDeleted++;
  }
  const c = comment === undefined ? '' : ` comment ${quote(comment)}`;
  w.line(value === '' ? `${ADD_ELEMENT}${container} { ${key}${c} }` : `${ADD_ELEMENT}${container} { ${key}${c} : ${value} }`);
  ctx.stats.elementsAdded++;
}

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

// --- setupNFTables ---------------------------------------------------------------------

/** setupNFTables. With emit=false only the bookkeeping (chains, containers) is done. */
function writeSetup(ctx: Context, recreateBaseChains: boolean, emit = true): void {
  const w = emit ? ctx.w : undefined;
  const c: Context = w === ctx.w ? ctx : { ...ctx, w };
  w?.line(`add table ${T} { comment ${quote('rules for kube-proxy')} ; }`);
  if (recreateBaseChains && w !== undefined) {
    for (const bc of BASE_CHAINS) {
      w.line(`add chain ${T} ${bc.name}`);
      w.line(`delete chain ${T} ${bc.name}`);
    }
  }
  for (const bc of BASE_CHAINS) {
    const s = bc.spec;
    c.chains.add(bc.name);
    c.desc?.chains.set(bc.name, { name: bc.name, base: s, rules: [] });
    w?.line(`add chain ${T} ${bc.name} { type ${s.type} hook ${s.hook} priority ${s.priority} ; }`);
    w?.line(`flush chain ${T} ${bc.name}`);
  }
  for (const [dst, src, extra] of JUMP_CHAINS) {
    ensureChain(c, dst, true);
    addRule(c, src, `${extra}jump ${dst}`, true);
  }
  for (const name of [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading, CHAIN.markMasq]) ensureChain(c, name, true);

  addRule(c, CHAIN.markMasq, `meta mark set meta mark | ${c.mark}`, true);
  addRule(c, CHAIN.masquerading, `meta mark & ${c.mark} == 0x00000000 return`, true);
  addRule(c, CHAIN.masquerading, `meta mark set meta mark ^ ${c.mark}`, true);
  addRule(c, CHAIN.masquerading, 'masquerade fully-random', true);

  addContainer(c, { name: SET.clusterIPs, kind: 'set', type: 'ipv4_addr', flags: [], comment: 'Active ClusterIPs' }, true);
  addRule(
    c,
    CHAIN.clusterIPsCheck,
    `ip daddr @${SET.clusterIPs} reject comment ${quote('Reject traffic to invalid ports of ClusterIPs')}`,
    true,
  );

  // nodeport-ips: "add + delete", because NodePorts match every local address.
  w?.line(`add set ${T} ${SET.nodePortIPs} { type ipv4_addr ; comment ${quote('IPs that accept NodePort traffic')} ; }`);
  w?.line(`delete set ${T} ${SET.nodePortIPs}`);

  addContainer(
    c,
    {
      name: SET.noEndpointServices,
      kind: 'map',
      type: SERVICE_KEY_TYPE,
      map: 'verdict',
      flags: [],
      comment: 'vmap to drop or reject packets to services with no endpoints',
    },
    true,
  );
  addContainer(
    c,
    {
      name: SET.noEndpointNodePorts,
      kind: 'map',
      type: NODEPORT_KEY_TYPE,
      map: 'verdict',
      flags: [],
      comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
    },
    true,
  );

  ensureChain(c, CHAIN.reject, true, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  addRule(c, CHAIN.reject, 'reject', true);
  addRule(c, CHAIN.serviceEndpointsCheck, `ip daddr . meta l4proto . th dport vmap @${SET.noEndpointServices}`, true);
  addRule(c, CHAIN.nodePortEndpointsCheck, `ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`, true);

  addContainer(
    c,
    {
      name: SET.firewallIPs,
      kind: 'map',
      type: SERVICE_KEY_TYPE,
      map: 'verdict',
      flags: [],
      comment: 'destinations that are subject to LoadBalancerSourceRanges',
    },
    true,
  );
  addRule(c, CHAIN.firewallCheck, `ip daddr . meta l4proto . th dport vmap @${SET.firewallIPs}`, true);

  addContainer(
    c,
    {
      name: SET.serviceIPs,
      kind: 'map',
      type: SERVICE_KEY_TYPE,
      map: 'verdict',
      flags: [],
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    },
    true,
  );
  addContainer(
    c,
    { name: SET.serviceNodePorts, kind: 'map', type: NODEPORT_KEY_TYPE, map: 'verdict', flags: [], comment: 'NodePort traffic' },
    true,
  );
  addRule(c, CHAIN.services, `ip daddr . meta l4proto . th dport vmap @${SET.serviceIPs}`, true);
  addRule(c, CHAIN.services, `fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${SET.serviceNodePorts}`, true);
  // The maps are not flushed: their elements are diffed against what is installed.
}

// --- per service port: the loop body of syncProxyRules -------------------------------------

function writeService(ctx: Context, svc: Service, endpoints: readonly Endpoint[] | undefined, changed: boolean): void {
  const eps = sortedEndpoints(endpoints ?? []);
  if (changed && ctx.w !== undefined && svc.ports.length > 0) ctx.stats.servicesWritten++;
  for (let i = 0; i < svc.ports.length; i++) writeServicePort(ctx, svc, svc.ports[i] as ServicePort, eps, changed, i === 0);
}

/**
 * Names and element texts of one service port. Cached per ServicePort object (re-checked
 * against the fields they derive from, so a mutated object is recomputed): at 10,000
 * services a render needs ~40,000 sha256-based names, and reusing the same string objects
 * also keeps hashing them for Set/Map lookups cheap.
 */
interface PortNames {
  ns: string;
  name: string;
  clusterIP: string;
  portName: string;
  protocol: ServicePort['protocol'];
  port: number;
  targetPort: number;
  nodePort: number;
  chains: ServicePortChainNames;
  /** ServicePortName.String(), for element comments. */
  nameString: string;
  /** "clusterIP . proto . port" */
  svcKey: string;
  /** "proto . nodePort" */
  nodePortKey: string;
  gotoService: string;
  gotoExternal: string;
  /** Endpoint names by endpoint IP. */
  eps: Map<string, EndpointNames>;
}
const portCache = new WeakMap<ServicePort, PortNames>();
/**
 * The same records by content ("ns/name/proto/portName"), for states that are new but equal
 * objects (a controller rebuilding its state, a benchmark cloning it): one string lookup per
 * service port instead of a new record and a name lookup per endpoint. Bounded like names.ts.
 */
const portByName = new Map<string, PortNames>();
const PORT_BY_NAME_MAX = 250_000;

const samePort = (c: PortNames, svc: Service, port: ServicePort, nodePort: number): boolean =>
  c.ns === svc.namespace &&
  c.name === svc.name &&
  c.clusterIP === svc.clusterIP &&
  c.portName === port.name &&
  c.protocol === port.protocol &&
  c.port === port.port &&
  c.targetPort === port.targetPort &&
  c.nodePort === nodePort;

function portNames(svc: Service, port: ServicePort): PortNames {
  const nodePort = port.nodePort ?? 0;
  const c = portCache.get(port);
  if (c !== undefined && samePort(c, svc, port, nodePort)) return c;
  const protocol = protoLower(port.protocol);
  const key = `${svc.namespace}/${svc.name}/${protocol}/${port.name}`;
  const known = portByName.get(key);
  // (Not added to portCache: a WeakMap entry per new object costs the GC more than this lookup.)
  if (known !== undefined && samePort(known, svc, port, nodePort)) return known;
  const chains = serviceChainNames(svc, port);
  const fresh: PortNames = {
    ns: svc.namespace,
    name: svc.name,
    clusterIP: svc.clusterIP,
    portName: port.name,
    protocol: port.protocol,
    port: port.port,
    targetPort: port.targetPort,
    nodePort,
    chains,
    nameString: servicePortNameString(svc, port),
    svcKey: `${svc.clusterIP} . ${protocol} . ${port.port}`,
    nodePortKey: `${protocol} . ${nodePort}`,
    gotoService: `goto ${chains.service}`,
    gotoExternal: `goto ${chains.external}`,
    eps: new Map(),
  };
  portCache.set(port, fresh);
  if (portByName.size >= PORT_BY_NAME_MAX) portByName.clear();
  portByName.set(key, fresh);
  return fresh;
}

function endpointNamesOf(pn: PortNames, svc: Service, port: ServicePort, eps: readonly Endpoint[]): EndpointNames[] {
  if (pn.eps.size > 64 + 4 * eps.length) pn.eps.clear(); // endpoint churn: keep it bounded
  const out = new Array<EndpointNames>(eps.length);
  for (let i = 0; i < eps.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    let n = pn.eps.get(ip);
    if (n === undefined) {
      n = endpointNames(svc, port, ip, port.targetPort);
      pn.eps.set(ip, n);
    }
    out[i] = n;
  }
  return out;
}

function writeServicePort(
  ctx: Context,
  svc: Service,
  port: ServicePort,
  eps: readonly Endpoint[],
  write: boolean,
  firstPort: boolean,
): void {
  // Rule texts are built only when they are written or recorded (skipServiceUpdate).
  const out = (write && ctx.w !== undefined) || ctx.desc !== undefined;
  const protocol = protoLower(port.protocol);
  const pn = portNames(svc, port);
  const names = pn.chains;
  const podCidr = ctx.cfg.podCidr;
  const affinity = svc.sessionAffinity === 'ClientIP';

  // proxy.CategorizeEndpoints, with every endpoint ready and no internalTrafficPolicy:
  // clusterEndpoints = all; localEndpoints = the local ones when the Local policy is in use;
  // allLocallyReachableEndpoints = their union = all. ExternalPolicyLocal() is a property of
  // the Service (externally accessible && eTP=Local); ExternallyAccessible() of the port is
  // "has a node port" in this model.
  const externalPolicyLocal = svc.type === 'NodePort' && svc.externalTrafficPolicy === 'Local';
  const externallyAccessible = pn.nodePort !== 0;
  const usesLocalEndpoints = externalPolicyLocal && externallyAccessible;
  const hasEndpoints = eps.length > 0;
  let localCount = 0;
  if (usesLocalEndpoints) for (const e of eps) if (e.local) localCount++;

  const epNames = endpointNamesOf(pn, svc, port, eps);
  for (const n of epNames) ensureServiceChain(ctx, n.chain, write);

  const usesClusterPolicyChain = hasEndpoints;
  if (usesClusterPolicyChain) ensureServiceChain(ctx, names.service, write);
  const usesLocalPolicyChain = localCount > 0;
  if (usesLocalPolicyChain) ensureServiceChain(ctx, names.local, write);

  const hasInternalEndpoints = hasEndpoints;
  const externalPolicyChain = externalPolicyLocal ? names.local : names.service;
  const hasExternalEndpoints = hasEndpoints && (!externalPolicyLocal || localCount > 0);
  const usesExternalTrafficChain = hasEndpoints && externallyAccessible;
  if (usesExternalTrafficChain) ensureServiceChain(ctx, names.external, write);
  if (write && ctx.w !== undefined)
    ctx.stats.chainsWritten +=
      epNames.length + (usesClusterPolicyChain ? 1 : 0) + (usesLocalPolicyChain ? 1 : 0) + (usesExternalTrafficChain ? 1 : 0);

  let internalVerdict = '';
  let externalVerdict = '';
  if (!hasEndpoints) internalVerdict = externalVerdict = `goto ${CHAIN.reject}`;
  else if (!hasExternalEndpoints) externalVerdict = 'drop';

  // Capture the clusterIP.
  // (Every port ensures it; untracked, only the first one can add it.)
  if (ctx.track || firstPort) ensureElem(ctx, SET.clusterIPs, svc.clusterIP, '');
  if (hasInternalEndpoints) ensureElem(ctx, SET.serviceIPs, pn.svcKey, pn.gotoService);
  else ensureElem(ctx, SET.noEndpointServices, pn.svcKey, internalVerdict, pn.nameString);

  // Capture the node port.
  if (externallyAccessible) {
    if (hasEndpoints) ensureElem(ctx, SET.serviceNodePorts, pn.nodePortKey, pn.gotoExternal);
    if (!hasExternalEndpoints) ensureElem(ctx, SET.noEndpointNodePorts, pn.nodePortKey, externalVerdict, pn.nameString);
  }

  // Affinity sets of the endpoints exist whether or not the service is rewritten.
  if (affinity && ctx.track) for (const n of epNames) ctx.affinitySets.add(n.affinitySet);
  if (!out) return;

  // Internal traffic: masquerade off-cluster sources (localDetector.IfNotLocalNFT()).
  if (hasInternalEndpoints && podCidr !== '') {
    addRule(ctx, names.service, `ip daddr ${svc.clusterIP} ip saddr != ${podCidr} jump ${CHAIN.markMasq}`, write);
  }

  // External (NodePort) traffic.
  if (usesExternalTrafficChain) {
    if (!externalPolicyLocal) {
      addRule(ctx, names.external, `jump ${CHAIN.markMasq}`, write);
    } else {
      if (podCidr !== '')
        addRule(ctx, names.external, `ip saddr ${podCidr} goto ${names.service} comment "short-circuit pod traffic"`, write);
      addRule(ctx, names.external, `fib saddr type local jump ${CHAIN.markMasq} comment "masquerade local traffic"`, write);
      addRule(ctx, names.external, `fib saddr type local goto ${names.service} comment "short-circuit local traffic"`, write);
    }
    if (hasExternalEndpoints) addRule(ctx, names.external, `goto ${externalPolicyChain}`, write);
  }

  if (affinity) {
    for (const n of epNames) {
      addContainer(
        ctx,
        { name: n.affinitySet, kind: 'set', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: svc.stickyMaxAgeSeconds },
        write,
      );
    }
  }

  if (usesClusterPolicyChain) writeServiceToEndpointRules(ctx, names.service, affinity, epNames, write);
  if (usesLocalPolicyChain)
    writeServiceToEndpointRules(
      ctx,
      names.local,
      affinity,
      epNames.filter((_, i) => (eps[i] as Endpoint).local),
      write,
    );

  // Endpoint chains: hairpin masquerade, affinity update, DNAT.
  for (let i = 0; i < eps.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    const n = epNames[i] as EndpointNames;
    addRule(ctx, n.chain, `ip saddr ${ip} jump ${CHAIN.markMasq}`, write);
    if (affinity) addRule(ctx, n.chain, `update @${n.affinitySet} { ip saddr }`, write);
    addRule(ctx, n.chain, `meta l4proto ${protocol} dnat to ${ip}:${port.targetPort}`, write);
  }
}

/** writeServiceToEndpointRules: affinity gotos first, then one numgen vmap rule. */
function writeServiceToEndpointRules(ctx: Context, chain: string, affinity: boolean, eps: readonly EndpointNames[], write: boolean): void {
  if (affinity) for (const ep of eps) addRule(ctx, chain, `ip saddr @${ep.affinitySet} goto ${ep.chain}`, write);
  let elems = '';
  for (let i = 0; i < eps.length; i++) elems += `${i === 0 ? '' : ', '}${i} : goto ${(eps[i] as EndpointNames).chain}`;
  addRule(ctx, chain, `numgen random mod ${eps.length} vmap { ${elems} }`, write);
}

// --- end of sync: stale objects ------------------------------------------------------------

function finish(ctx: Context, installed: TableIndex | undefined, describeNext: () => TableDesc): RenderResult {
  const w = ctx.w as ScriptWriter;
  const staleChains: string[] = [];
  const staleSets: string[] = [];
  if (installed !== undefined) {
    for (const c of installed.chains) if (isServiceChainName(c) && !ctx.chains.has(c)) staleChains.push(c);
    for (const s of installed.affinitySets) if (!ctx.affinitySets.has(s)) staleSets.push(s);
  }
  // Stale service chains are flushed first, so that no rule refers to a stale chain or a
  // stale affinity set any more.
  for (const c of staleChains) w.line(`flush chain ${T} ${c}`);
  for (const s of staleSets) w.line(`delete set ${T} ${s}`);
  // cleanupLeftoverKeys
  for (const name of TRACKED) {
    for (const key of ctx.leftover.get(name) ?? []) {
      w.line(`delete element ${T} ${name} { ${key} }`);
      ctx.stats.elementsDeleted++;
    }
  }
  // Kernel ≥ 6.2 drops a chain's references within the transaction, so stale chains can go
  // now rather than ≥1 s later in a separate transaction as kube-proxy does.
  for (const c of staleChains) w.line(`delete chain ${T} ${c}`);
  ctx.stats.chainsDeleted = staleChains.length;
  ctx.stats.affinitySetsDeleted = staleSets.length;
  ctx.stats.lines = w.lines;
  const script = w.toString();
  let desired: TableDesc | undefined;
  return {
    script,
    stats: ctx.stats,
    get desired(): TableDesc {
      desired ??= describeNext();
      return desired;
    },
  };
}

// --- inputs ----------------------------------------------------------------------------------

/** byAddress in pkg/proxy/endpointslicecache.go: plain string order of the address. */
function sortedEndpoints(eps: readonly Endpoint[]): readonly Endpoint[] {
  for (let i = 1; i < eps.length; i++) {
    if ((eps[i - 1] as Endpoint).ip > (eps[i] as Endpoint).ip) return [...eps].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  }
  return eps;
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^(?:[a-z0-9](?:[-a-z0-9]{0,13}[a-z0-9])?)?$/;
const isPort = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** Dotted-quad IPv4 without leading zeros; by hand, as it runs for every endpoint. */
export function isIPv4(s: string): boolean {
  let parts = 0;
  let i = 0;
  const n = s.length;
  while (parts < 4) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && s.charCodeAt(start) === 48)) return false;
    parts++;
    if (parts < 4) {
      if (s.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === n;
}

function isIPv4Cidr(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0 || !isIPv4(s.slice(0, slash))) return false;
  const bits = s.slice(slash + 1);
  return /^(?:3[0-2]|[12]?\d)$/.test(bits);
}

/**
 * Names and addresses go verbatim into chain names and the transaction text: anything but
 * DNS labels, IPv4 addresses and port numbers could break (or inject into) the `nft -f`
 * input, and duplicates would make two services share chains or map keys. So they are
 * checked here even though config validation should have caught them.
 */
/** Checks what the renderer relies on and returns each service's endpoints. Services in
 * `checked` (unchanged since a render that validated them) skip the format checks but still
 * count for uniqueness against the others. */
function validate(
  state: ClusterState,
  cfg: ProxyConfig,
  checked: ReadonlySet<string> = new Set(),
  keyOf: readonly string[] = state.services.map(serviceKey),
): (Endpoint[] | undefined)[] {
  const fail = (what: string): never => {
    throw new BenchError(`nft render: ${what}`, {
      hint: 'services need unique DNS-label names, unique IPv4 cluster IPs, unique node ports, ports 1-65535 and IPv4 endpoints (the nft backend renders table ip kube-proxy)',
    });
  };
  if (cfg.podCidr !== '' && !isIPv4Cidr(cfg.podCidr)) fail(`pod CIDR ${JSON.stringify(cfg.podCidr)} is not an IPv4 CIDR`);
  const keys = new Set<string>();
  const clusterIPs = new Set<string>();
  // protocol × node port as one number (TCP 0–65535, UDP 65536–131071)
  const nodePorts = new Set<number>();
  const endpoints: (Endpoint[] | undefined)[] = [];
  for (let s = 0; s < state.services.length; s++) {
    const svc = state.services[s] as Service;
    const key = keyOf[s] as string;
    const fresh = !checked.has(key);
    if (fresh && (!DNS_LABEL.test(svc.namespace) || !DNS_LABEL.test(svc.name)))
      fail(`service ${JSON.stringify(key)}: namespace and name must be DNS labels`);
    if (keys.has(key)) fail(`service ${key} is listed twice`);
    keys.add(key);
    if (fresh && !isIPv4(svc.clusterIP)) fail(`service ${key}: clusterIP ${JSON.stringify(svc.clusterIP)} is not an IPv4 address`);
    if (clusterIPs.has(svc.clusterIP)) fail(`service ${key}: clusterIP ${svc.clusterIP} is used by another service`);
    clusterIPs.add(svc.clusterIP);
    if (fresh && (!Number.isInteger(svc.stickyMaxAgeSeconds) || svc.stickyMaxAgeSeconds < 1))
      fail(`service ${key}: stickyMaxAgeSeconds must be a positive integer`);
    const ports = svc.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i] as ServicePort;
      if (fresh) checkPort(key, ports, i, fail);
      if (p.nodePort !== undefined && p.nodePort !== 0) {
        const np = (p.protocol === 'TCP' ? 0 : 65536) + p.nodePort;
        if (nodePorts.has(np)) fail(`service ${key}: node port ${p.protocol}/${p.nodePort} is used twice`);
        nodePorts.add(np);
      }
    }
    const listed = state.endpoints[key];
    endpoints.push(listed);
    if (fresh) checkEndpoints(key, listed ?? [], fail);
  }
  return endpoints;
}

function checkPort(key: string, ports: readonly ServicePort[], i: number, fail: (what: string) => never): void {
  const p = ports[i] as ServicePort;
  if (!PORT_NAME.test(p.name)) fail(`service ${key}: port name ${JSON.stringify(p.name)} is not a valid port name`);
  if (p.protocol !== 'TCP' && p.protocol !== 'UDP') fail(`service ${key}: protocol ${JSON.stringify(p.protocol)}`);
  if (!isPort(p.port) || !isPort(p.targetPort) || (p.nodePort !== undefined && p.nodePort !== 0 && !isPort(p.nodePort)))
    fail(`service ${key}: port numbers must be 1-65535`);
  for (let j = 0; j < i; j++) {
    const q = ports[j] as ServicePort;
    if (q.name === p.name) fail(`service ${key}: two ports are named ${JSON.stringify(p.name)}`);
    if (q.protocol === p.protocol && q.port === p.port) fail(`service ${key}: two ports are ${p.protocol} ${p.port}`);
  }
}

function checkEndpoints(key: string, eps: readonly Endpoint[], fail: (what: string) => never): void {
  for (let i = 0; i < eps.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    if (!isIPv4(ip)) fail(`service ${key}: endpoint ${JSON.stringify(ip)} is not an IPv4 address`);
    if (eps.length <= 16) {
      for (let j = 0; j < i; j++) if ((eps[j] as Endpoint).ip === ip) fail(`service ${key}: endpoint ${ip} is listed twice`);
    }
  }
  if (eps.length > 16 && new Set(eps.map((e) => e.ip)).size !== eps.length) fail(`service ${key}: an endpoint is listed twice`);
}
