// kube-proxy's nftables layouts, version by version, as data (DESIGN.md §16): one renderer
// reads these few named differences. Sources: ../../../shared/reference/kube-proxy-nftables-versions.md
// and kubernetes/kubernetes pkg/proxy/nftables/proxier.go / proxier_test.go at the commits it names.

export type KubeProxyProfile = '1.35' | '1.36' | '1.37' | 'single-map';
export const KUBE_PROXY_PROFILES: readonly KubeProxyProfile[] = ['1.35', '1.36', '1.37', 'single-map'];
export const DEFAULT_PROFILE: KubeProxyProfile = '1.37';

/** How a sync learns what the table holds (kube-proxy's List calls; `none`: in-memory, #139878). */
export type ListingMethod = 'nft-chains-sets' | 'nft-terse' | 'netlink' | 'none';

export interface Profile {
  name: KubeProxyProfile;
  /**
   * How a service chain picks an endpoint when there is no session affinity:
   * - `endpoint-chains`: `numgen random mod N vmap { i : goto endpoint-… }`, one chain per endpoint (≤ 1.35)
   * - `dnat-map`: `meta l4proto P dnat ip addr . port to numgen random mod N map { i : IP . PORT }` (1.36, #135800)
   * - `dnat-map-single-direct`: as dnat-map, but N = 1 is `meta l4proto P dnat to IP:PORT` (1.37, #140723 + #140960)
   * - `shared-lb-chains`: plain ClusterIPs go to a shared `lb-N-endpoints` chain (one per endpoint
   *   count) that looks the endpoint up in per-protocol maps `endpoints-tcp|udp|sctp` (#140362)
   */
  endpointDispatch: 'endpoint-chains' | 'dnat-map' | 'dnat-map-single-direct' | 'shared-lb-chains';
  /**
   * `mark-chain`: a mark-for-masquerade chain, jumped to from service, external and endpoint chains
   * (≤ 1.35). `services-rule`: the services chain marks `ip daddr @cluster-ips ip saddr != PODCIDR`,
   * external chains mark inline, and hairpin traffic is masqueraded by the hairpin-connections
   * set in the masquerading chain (1.36+, #135800).
   */
  masquerade: 'mark-chain' | 'services-rule';
  /** What every sync lists of the table (section 2 of the reference). */
  listing: Exclude<ListingMethod, 'none'>;
}

export const PROFILES: Record<KubeProxyProfile, Profile> = {
  '1.35': { name: '1.35', endpointDispatch: 'endpoint-chains', masquerade: 'mark-chain', listing: 'nft-chains-sets' },
  '1.36': { name: '1.36', endpointDispatch: 'dnat-map', masquerade: 'services-rule', listing: 'nft-terse' },
  '1.37': { name: '1.37', endpointDispatch: 'dnat-map-single-direct', masquerade: 'services-rule', listing: 'netlink' },
  'single-map': { name: 'single-map', endpointDispatch: 'shared-lb-chains', masquerade: 'services-rule', listing: 'netlink' },
};

export const profileOf = (name: KubeProxyProfile | undefined): Profile => PROFILES[name ?? DEFAULT_PROFILE];
