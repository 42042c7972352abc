// The loop body of syncProxyRules: one service port's chains, rules and map elements, in the
// layout of the render's profile (profiles.ts).

import type { Endpoint, Service, ServicePort } from '../../src/model/types.js';
import { addContainer, addRule, ensureChain, ensureElem, quote, type Context } from './context.js';
import type { EndpointNames } from './names.js';
import { endpointNamesOf, portNames, type PortNames } from './port-names.js';
import { CHAIN, ENDPOINT_MAPS, SET } from './setup.js';

export function writeService(ctx: Context, svc: Service, eps: readonly Endpoint[], changed: boolean): void {
  if (changed && ctx.w !== undefined && svc.ports.length > 0) ctx.stats.servicesWritten++;
  for (const port of svc.ports) writeServicePort(ctx, svc, port, eps, changed);
}

/** An unchanged service on a partial sync: its chains and affinity sets stay active, nothing is
 * written and its elements are left out of the diff (ensureChain with skipServiceUpdate). */
export function noteService(ctx: Context, svc: Service, eps: readonly Endpoint[]): void {
  for (const port of svc.ports) {
    const k = categorize(ctx, svc, port, eps);
    for (const n of k.epNames) ctx.chains.add(n.chain);
    if (k.usesClusterPolicyChain) ctx.chains.add(k.pn.chains.service);
    if (k.shared) ctx.chains.add(lbChain(k.internal.length));
    if (k.usesLocalPolicyChain) ctx.chains.add(k.pn.chains.local);
    if (k.hasEndpoints && k.externallyAccessible) ctx.chains.add(k.pn.chains.external);
    if (k.affinity) for (const n of k.epNames) ctx.affinitySets.add(n.affinitySet);
  }
}

/** proxy.CategorizeEndpoints (topology.go) with every endpoint ready and no topology hints, and
 * syncProxyRules' per-port flags (proxier.go @531be812 ≈L1010–1100). */
interface Categorized {
  pn: PortNames;
  protocol: 'tcp' | 'udp';
  affinity: boolean;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  externallyAccessible: boolean;
  hasEndpoints: boolean;
  hasInternalEndpoints: boolean;
  hasExternalEndpoints: boolean;
  /** clusterEndpoints: all endpoints when Cluster policy is used at all, else none. */
  cluster: readonly Endpoint[];
  /** localEndpoints: the local ones when a Local policy is used, else none. */
  local: readonly Endpoint[];
  /** allLocallyReachableEndpoints: the endpoints with endpoint chains / affinity sets. */
  reachable: readonly Endpoint[];
  /** The endpoints ClusterIP traffic goes to: local for internal policy Local, else all. */
  internal: readonly Endpoint[];
  /** The chain ClusterIP traffic goes to (internalTrafficChain): service-…, or local-… for Local. */
  internalChain: string;
  usesClusterPolicyChain: boolean;
  usesLocalPolicyChain: boolean;
  /** Per-endpoint chains and affinity sets of `reachable` (≤ 1.35 always; 1.36+ with ClientIP affinity). */
  epNames: readonly EndpointNames[];
  /** single-map: a plain ClusterIP goes to a shared lb-N-endpoints chain, not a service chain. */
  shared: boolean;
}

function categorize(ctx: Context, svc: Service, port: ServicePort, eps: readonly Endpoint[]): Categorized {
  const pn = portNames(svc, port);
  const affinity = svc.sessionAffinity === 'ClientIP';
  // ExternalPolicyLocal() is a property of the Service (externally accessible && eTP=Local);
  // ExternallyAccessible() of the port is "has a node port" in this model.
  const externalPolicyLocal = svc.type === 'NodePort' && svc.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
  const externallyAccessible = pn.nodePort !== 0;
  // serviceport.go: UsesClusterEndpoints() = !internalPolicyLocal || ExternallyAccessible();
  // UsesLocalEndpoints() = internalPolicyLocal || (externalPolicyLocal && ExternallyAccessible()).
  const usesCluster = !internalPolicyLocal || externallyAccessible;
  const usesLocal = internalPolicyLocal || (externalPolicyLocal && externallyAccessible);
  const cluster = usesCluster ? eps : [];
  const local = usesLocal ? eps.filter((e) => e.local) : [];
  // allLocallyReachableEndpoints: clusterEndpoints (a superset of the local ones) when Cluster policy
  // is used, else localEndpoints.
  const reachable = usesCluster ? eps : local;
  const hasEndpoints = eps.length > 0;
  // hasInternalEndpoints / hasExternalEndpoints: false for a Local policy without local endpoints.
  const hasInternalEndpoints = hasEndpoints && (!internalPolicyLocal || local.length > 0);
  const endpointChains = ctx.profile.endpointDispatch === 'endpoint-chains' || affinity;
  // single-map (#140362) shares lb chains between plain ClusterIPs; its retrievable diff shows a
  // Cluster-policy service only. With internal policy Local the shared chain is fed the local
  // endpoints (the ClusterIP's endpoint slots hold only those), so no per-service chain either.
  const shared = ctx.profile.endpointDispatch === 'shared-lb-chains' && !affinity && !externallyAccessible && hasInternalEndpoints;
  return {
    pn,
    protocol: pn.protocol === 'TCP' ? 'tcp' : 'udp',
    affinity,
    externalPolicyLocal,
    internalPolicyLocal,
    externallyAccessible,
    hasEndpoints,
    hasInternalEndpoints,
    hasExternalEndpoints: hasEndpoints && (!externalPolicyLocal || local.length > 0),
    cluster,
    local,
    reachable,
    internal: internalPolicyLocal ? local : eps,
    internalChain: internalPolicyLocal ? pn.chains.local : pn.chains.service,
    // usesClusterPolicyChain := len(clusterEndpoints) > 0 && UsesClusterEndpoints(); likewise Local.
    usesClusterPolicyChain: cluster.length > 0 && !shared,
    usesLocalPolicyChain: local.length > 0 && !shared,
    epNames: endpointChains ? endpointNamesOf(pn, svc, port, reachable) : [],
    shared,
  };
}

function writeServicePort(ctx: Context, svc: Service, port: ServicePort, eps: readonly Endpoint[], write: boolean): void {
  const k = categorize(ctx, svc, port, eps);
  const names = k.pn.chains;
  for (const n of k.epNames) ensureChain(ctx, n.chain, write);
  const { usesClusterPolicyChain, usesLocalPolicyChain } = k;
  if (usesClusterPolicyChain) ensureChain(ctx, names.service, write);
  if (usesLocalPolicyChain) ensureChain(ctx, names.local, write);
  const usesExternalTrafficChain = k.hasEndpoints && k.externallyAccessible;
  if (usesExternalTrafficChain) ensureChain(ctx, names.external, write);
  if (write && ctx.w !== undefined)
    ctx.stats.chainsWritten +=
      k.epNames.length + (usesClusterPolicyChain ? 1 : 0) + (usesLocalPolicyChain ? 1 : 0) + (usesExternalTrafficChain ? 1 : 0);

  // The shared chain exists before the service-ips element that points at it.
  if (k.shared) writeLbChain(ctx, k.internal.length, write);
  writeElements(ctx, svc, k, eps);
  if (k.affinity) for (const n of k.epNames) ctx.affinitySets.add(n.affinitySet);
  // Rule texts are built only when they are written or recorded (skipServiceUpdate).
  if (!((write && ctx.w !== undefined) || ctx.desc !== undefined)) return;

  if (k.hasInternalEndpoints && ctx.profile.masquerade === 'mark-chain' && ctx.cfg.podCidr !== '')
    // "Set up internal traffic handling": localDetector.IfNotLocalNFT() masquerades off-cluster
    // sources in the internal traffic chain (≤ 1.35; 1.36+ does it in `services`).
    addRule(ctx, k.internalChain, `ip daddr ${svc.clusterIP} ip saddr != ${ctx.cfg.podCidr} jump ${CHAIN.markMasq}`, write);
  if (usesExternalTrafficChain) writeExternalRules(ctx, k, write);
  if (k.affinity) {
    for (const n of k.epNames) {
      const set = {
        name: n.affinitySet,
        kind: 'set' as const,
        type: 'ipv4_addr',
        flags: ['dynamic', 'timeout'],
        timeout: svc.stickyMaxAgeSeconds,
      };
      addContainer(ctx, set, write);
    }
  }
  // With Cluster policy in use the reachable endpoints are clusterEndpoints, so epNames are theirs.
  if (usesClusterPolicyChain) writeServiceToEndpointRules(ctx, names.service, k, k.cluster, k.epNames, write);
  if (usesLocalPolicyChain) {
    const localNames = k.epNames.filter((_, i) => (k.reachable[i] as Endpoint).local);
    writeServiceToEndpointRules(ctx, names.local, k, k.local, localNames, write);
  }
  writeEndpointChains(ctx, k, k.reachable, write);
}

/** service-ips / no-endpoint-* / service-nodeports elements, hairpin-connections, endpoint slots. */
function writeElements(ctx: Context, svc: Service, k: Categorized, eps: readonly Endpoint[]): void {
  const pn = k.pn;
  // internalTrafficFilterVerdict / externalTrafficFilterVerdict: reject without endpoints, drop
  // for a Local policy without local endpoints.
  let internalVerdict = '';
  let externalVerdict = '';
  if (!k.hasEndpoints) internalVerdict = externalVerdict = `goto ${CHAIN.reject}`;
  else {
    if (!k.hasInternalEndpoints) internalVerdict = 'drop';
    if (!k.hasExternalEndpoints) externalVerdict = 'drop';
  }
  ensureElem(ctx, SET.clusterIPs, svc.clusterIP, '');
  if (!k.hasInternalEndpoints) ensureElem(ctx, SET.noEndpointServices, pn.svcKey, internalVerdict, pn.nameString);
  else if (!k.shared) ensureElem(ctx, SET.serviceIPs, pn.svcKey, k.internalPolicyLocal ? `goto ${k.internalChain}` : pn.gotoService);
  else {
    const internal = k.internal;
    ensureElem(ctx, SET.serviceIPs, pn.svcKey, `goto ${lbChain(internal.length)}`);
    // Slot i of endpoints-P is the i-th endpoint in kube-proxy's order (ours: the PR's diff shows
    // the lookup, not the elements).
    const map = k.protocol === 'tcp' ? SET.endpointsTcp : SET.endpointsUdp;
    for (let i = 0; i < internal.length; i++)
      ensureElem(ctx, map, `${svc.clusterIP} . ${pn.port} . ${i}`, `${(internal[i] as Endpoint).ip} . ${pn.targetPort}`);
  }
  if (k.externallyAccessible) {
    if (k.hasEndpoints) ensureElem(ctx, SET.serviceNodePorts, pn.nodePortKey, pn.gotoExternal);
    if (!k.hasExternalEndpoints) ensureElem(ctx, SET.noEndpointNodePorts, pn.nodePortKey, externalVerdict, pn.nameString);
  }
  if (ctx.profile.masquerade === 'services-rule') ensureHairpin(ctx, k.pn, eps);
}

/** 1.36+: hairpin-connections holds "IP . IP . proto . port" of every local endpoint. */
export function ensureHairpin(ctx: Context, pn: PortNames, eps: readonly Endpoint[]): void {
  const proto = pn.protocol === 'TCP' ? 'tcp' : 'udp';
  for (const e of eps) if (e.local) ensureElem(ctx, SET.hairpinConnections, `${e.ip} . ${e.ip} . ${proto} . ${pn.targetPort}`, '');
}

/** EXT chain: masquerade non-local traffic (Cluster), or short-circuit pod and host traffic (Local). */
function writeExternalRules(ctx: Context, k: Categorized, write: boolean): void {
  const names = k.pn.chains;
  const inline = ctx.profile.masquerade === 'services-rule';
  const mark = (comment: string) =>
    inline ? `mark set mark or ${ctx.cfg.masqueradeMark} comment ${quote(comment)}` : `jump ${CHAIN.markMasq}`;
  if (!k.externalPolicyLocal) {
    addRule(ctx, names.external, mark('masquerade'), write);
  } else {
    if (ctx.cfg.podCidr !== '')
      addRule(ctx, names.external, `ip saddr ${ctx.cfg.podCidr} goto ${names.service} comment "short-circuit pod traffic"`, write);
    const masq = inline ? mark('masquerade local traffic') : `jump ${CHAIN.markMasq} comment "masquerade local traffic"`;
    addRule(ctx, names.external, `fib saddr type local ${masq}`, write);
    addRule(ctx, names.external, `fib saddr type local goto ${names.service} comment "short-circuit local traffic"`, write);
  }
  if (k.hasExternalEndpoints) addRule(ctx, names.external, `goto ${k.externalPolicyLocal ? names.local : names.service}`, write);
}

/** writeServiceToEndpointRules: affinity gotos first, then the load-balancing rule. */
function writeServiceToEndpointRules(
  ctx: Context,
  chain: string,
  k: Categorized,
  eps: readonly Endpoint[],
  names: readonly EndpointNames[],
  write: boolean,
): void {
  if (k.affinity) for (const ep of names) addRule(ctx, chain, `ip saddr @${ep.affinitySet} goto ${ep.chain}`, write);
  if (names.length > 0) {
    addRule(ctx, chain, `numgen random mod ${names.length} vmap { ${names.map((n, i) => `${i} : goto ${n.chain}`).join(' , ')} }`, write);
    return;
  }
  const port = k.pn.targetPort;
  if (eps.length === 1 && ctx.profile.endpointDispatch !== 'dnat-map') {
    // 1.37 (#140723, final form #140960): one endpoint needs no map.
    addRule(ctx, chain, `meta l4proto ${k.protocol} dnat to ${(eps[0] as Endpoint).ip}:${port}`, write);
    return;
  }
  const elems = eps.map((e, i) => `${i} : ${e.ip} . ${port}`).join(' , ');
  addRule(ctx, chain, `meta l4proto ${k.protocol} dnat ip addr . port to numgen random mod ${eps.length} map { ${elems} }`, write);
}

/** #140362's shared chain for services with n endpoints. */
export const lbChain = (n: number): string => `lb-${n}-endpoints`;
export const isLbChainName = (chain: string): boolean => /^lb-\d+-endpoints$/.test(chain);

/** #140362 (proxier_test.go TestOverallNFTablesRules, svc1): one chain per endpoint count, shared
 * by every plain ClusterIP with that count, one DNAT rule per protocol. */
function writeLbChain(ctx: Context, n: number, write: boolean): void {
  const name = lbChain(n);
  if (ctx.chains.has(name)) return;
  ensureChain(ctx, name, write);
  for (const { proto, name: map } of ENDPOINT_MAPS)
    addRule(
      ctx,
      name,
      `meta l4proto ${proto} dnat ip addr . port to ip daddr . ${proto} dport . numgen random mod ${n} map @${map}`,
      write,
    );
}

/** Endpoint chains: hairpin masquerade (≤ 1.35), affinity update, DNAT. */
function writeEndpointChains(ctx: Context, k: Categorized, eps: readonly Endpoint[], write: boolean): void {
  const hairpin = ctx.profile.masquerade === 'mark-chain';
  for (let i = 0; i < k.epNames.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    const n = k.epNames[i] as EndpointNames;
    if (hairpin) addRule(ctx, n.chain, `ip saddr ${ip} jump ${CHAIN.markMasq}`, write);
    if (k.affinity) addRule(ctx, n.chain, `update @${n.affinitySet} { ip saddr }`, write);
    addRule(ctx, n.chain, `meta l4proto ${k.protocol} dnat to ${ip}:${k.pn.targetPort}`, write);
  }
}
