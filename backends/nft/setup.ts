// setupNFTables: the table, base chains, jump chains, fixed chains, sets and maps of every sync
// that is full. Profiles differ in the masquerade chains and the hairpin set (profiles.ts).

import { addContainer, addRule, ensureChain, quote, T, type Context } from './context.js';
import type { BaseChainSpec } from './table.js';

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

/** Fixed set and map names (proxier.go constants; `endpoints-*` are #140362's). */
export const SET = {
  clusterIPs: 'cluster-ips',
  nodePortIPs: 'nodeport-ips',
  serviceIPs: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  firewallIPs: 'firewall-ips',
  hairpinConnections: 'hairpin-connections',
  endpointsTcp: 'endpoints-tcp',
  endpointsUdp: 'endpoints-udp',
  endpointsSctp: 'endpoints-sctp',
} as const;

/** #140362's per-protocol endpoint maps, in the order its lb-N-endpoints chains refer to them. */
export const ENDPOINT_MAPS = [
  { proto: 'tcp', name: SET.endpointsTcp },
  { proto: 'udp', name: SET.endpointsUdp },
  { proto: 'sctp', name: SET.endpointsSctp },
] as const;

/** The containers whose elements kube-proxy tracks with nftElementStorage, in its order. */
export function trackedContainers(ctx: Pick<Context, 'profile'>): string[] {
  const base: string[] = [
    SET.clusterIPs,
    SET.serviceIPs,
    SET.firewallIPs,
    SET.noEndpointServices,
    SET.noEndpointNodePorts,
    SET.serviceNodePorts,
  ];
  if (ctx.profile.masquerade === 'services-rule') base.push(SET.hairpinConnections);
  if (ctx.profile.endpointDispatch === 'shared-lb-chains') for (const m of ENDPOINT_MAPS) base.push(m.name);
  return base;
}

/** nftablesBaseChains: dstnat = -100, dstnat-10 = -110, filter = 0, srcnat = 100. */
export const BASE_CHAINS: ReadonlyArray<{ name: string; spec: BaseChainSpec }> = [
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

export const SERVICE_KEY_TYPE = 'ipv4_addr . inet_proto . inet_service';
const NODEPORT_KEY_TYPE = 'inet_proto . inet_service';

const verdictMap = (name: string, type: string, comment: string) => ({
  name,
  kind: 'map' as const,
  type,
  map: 'verdict',
  flags: [],
  comment,
});

/** setupNFTables. With emit=false only the bookkeeping (chains, containers) is done. */
export function writeSetup(ctx: Context, recreateBaseChains: boolean, emit = true): void {
  const w = emit ? ctx.w : undefined;
  const c: Context = w === ctx.w ? ctx : { ...ctx, w };
  w?.line(`add table ${T} { comment ${quote('rules for kube-proxy')} ; }`);
  writeBaseChains(c, recreateBaseChains);
  for (const [dst, src, extra] of JUMP_CHAINS) {
    ensureChain(c, dst, true);
    addRule(c, src, `${extra}jump ${dst}`, true);
  }
  writeMasquerading(c);

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
    verdictMap(SET.noEndpointServices, SERVICE_KEY_TYPE, 'vmap to drop or reject packets to services with no endpoints'),
    true,
  );
  addContainer(
    c,
    verdictMap(SET.noEndpointNodePorts, NODEPORT_KEY_TYPE, 'vmap to drop or reject packets to service nodeports with no endpoints'),
    true,
  );
  ensureChain(c, CHAIN.reject, true, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
  addRule(c, CHAIN.reject, 'reject', true);
  addRule(c, CHAIN.serviceEndpointsCheck, `ip daddr . meta l4proto . th dport vmap @${SET.noEndpointServices}`, true);
  addRule(c, CHAIN.nodePortEndpointsCheck, `ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${SET.noEndpointNodePorts}`, true);

  addContainer(c, verdictMap(SET.firewallIPs, SERVICE_KEY_TYPE, 'destinations that are subject to LoadBalancerSourceRanges'), true);
  addRule(c, CHAIN.firewallCheck, `ip daddr . meta l4proto . th dport vmap @${SET.firewallIPs}`, true);

  addContainer(c, verdictMap(SET.serviceIPs, SERVICE_KEY_TYPE, 'ClusterIP, ExternalIP and LoadBalancer IP traffic'), true);
  addContainer(c, verdictMap(SET.serviceNodePorts, NODEPORT_KEY_TYPE, 'NodePort traffic'), true);
  if (c.profile.endpointDispatch === 'shared-lb-chains') addEndpointMaps(c);
  writeServicesChain(c);
  // The maps are not flushed: their elements are diffed against what is installed.
}

function writeBaseChains(c: Context, recreate: boolean): void {
  const w = c.w;
  if (recreate && w !== undefined) {
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
}

/** ≤ 1.35: mark-for-masquerade + a three-rule masquerading chain. 1.36+ (#135800): one rule on
 * the mark and one on the hairpin-connections set, no mark-for-masquerade chain. */
function writeMasquerading(c: Context): void {
  const mark = c.cfg.masqueradeMark;
  if (c.profile.masquerade === 'mark-chain') {
    for (const name of [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading, CHAIN.markMasq]) ensureChain(c, name, true);
    addRule(c, CHAIN.markMasq, `mark set mark or ${mark}`, true);
    addRule(c, CHAIN.masquerading, `mark and ${mark} == 0 return`, true);
    addRule(c, CHAIN.masquerading, `mark set mark xor ${mark}`, true);
    addRule(c, CHAIN.masquerading, 'masquerade fully-random', true);
    return;
  }
  for (const name of [CHAIN.services, CHAIN.clusterIPsCheck, CHAIN.masquerading]) ensureChain(c, name, true);
  addContainer(
    c,
    {
      name: SET.hairpinConnections,
      kind: 'set',
      type: 'ipv4_addr . ipv4_addr . inet_proto . inet_service',
      flags: [],
      comment: 'service hairpin connections',
    },
    true,
  );
  addRule(c, CHAIN.masquerading, `mark and ${mark} != 0 mark set mark xor ${mark} masquerade fully-random`, true);
  addRule(
    c,
    CHAIN.masquerading,
    `ct status dnat ip saddr . ip daddr . meta l4proto . th dport @${SET.hairpinConnections} masquerade fully-random`,
    true,
  );
}

/**
 * #140362: one map per protocol from (VIP, port, slot) to the slot's endpoint, looked up by the
 * lb-N-endpoints chains as `ip daddr . P dport . numgen random mod N map @endpoints-P`. The
 * declaration is ours (the PR's test diff shows the rules, not the maps): `typeof`, because the
 * third key part is numgen's output, a plain 32-bit integer that no `type` name matches (nft
 * 1.0.6 rejects `integer` in a concatenated `type` and `mark` against numgen). nft lists the
 * key type as "ipv4_addr . inet_service . integer".
 */
function addEndpointMaps(c: Context): void {
  for (const { proto, name } of ENDPOINT_MAPS) {
    addContainer(
      c,
      {
        name,
        kind: 'map',
        type: 'ipv4_addr . inet_service . integer',
        map: 'ipv4_addr . inet_service',
        typeof: `ip daddr . ${proto} dport . numgen random mod 1 : ip daddr . ${proto} dport`,
        flags: [],
      },
      true,
    );
  }
}

function writeServicesChain(c: Context): void {
  const podCidr = c.cfg.podCidr;
  if (c.profile.masquerade === 'services-rule' && podCidr !== '')
    addRule(
      c,
      CHAIN.services,
      `ip daddr @${SET.clusterIPs} ip saddr != ${podCidr} mark set mark or ${c.cfg.masqueradeMark} comment ${quote('masquerade clusterIP traffic from outside cluster')}`,
      true,
    );
  addRule(c, CHAIN.services, `ip daddr . meta l4proto . th dport vmap @${SET.serviceIPs}`, true);
  addRule(c, CHAIN.services, `fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @${SET.serviceNodePorts}`, true);
}
