import { binary, kernelOptions, verdict } from '../preflight.js';
import type { Backend } from '../types.js';

/** Kernel options both iptables backends need for kube-proxy's ruleset (§1 of the reference):
 * NAT, MASQUERADE, and the statistic, recent, addrtype, comment, conntrack and mark matches. */
export const IPTABLES_KERNEL = [
  'CONFIG_IP_NF_NAT',
  'CONFIG_NETFILTER_XT_TARGET_MASQUERADE',
  'CONFIG_NETFILTER_XT_MATCH_STATISTIC',
  'CONFIG_NETFILTER_XT_MATCH_RECENT',
  'CONFIG_NETFILTER_XT_MATCH_ADDRTYPE',
  'CONFIG_NETFILTER_XT_MATCH_COMMENT',
  'CONFIG_NETFILTER_XT_MATCH_CONNTRACK',
  'CONFIG_NETFILTER_XT_MATCH_MARK',
  'CONFIG_IP_NF_TARGET_REJECT',
];

/** Both flavours exist on Debian: legacy x_tables and the nf_tables-backed compat layer. */
export async function iptablesFlavourChecks(tool: 'iptables' | 'iptables-restore') {
  return [
    await binary(`${tool.replace('iptables', 'iptables-legacy')}`, ['--version'], 'iptables'),
    await binary(`${tool.replace('iptables', 'iptables-nft')}`, ['--version'], 'iptables'),
    ...kernelOptions([...IPTABLES_KERNEL, 'CONFIG_NFT_COMPAT']),
  ];
}

export const iptables: Backend = {
  name: 'iptables',
  title: 'kube-proxy iptables ruleset installed one iptables command per rule (a naive controller)',
  preflight: async () => verdict(await iptablesFlavourChecks('iptables')),
};
