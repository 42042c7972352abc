import type { Exec } from '../../../src/exec/index.js';
import { binary, kernelOptions } from '../../preflight.js';
import type { IptablesMode } from '../../types.js';

/** The binaries of each iptables flavour (Debian ships both: x_tables "legacy" and the
 * nf_tables-backed compatibility layer). `-w` waits for the xtables lock instead of failing. */
export function iptablesTools(mode: IptablesMode) {
  return {
    iptables: `iptables-${mode}`,
    restore: `iptables-${mode}-restore`,
    save: `iptables-${mode}-save`,
  };
}

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

/** The flavour's binaries and the kernel side it needs: x_tables (legacy) or nf_tables' compat. */
export async function iptablesFlavourChecks(exec: Exec, tool: 'iptables' | 'iptables-restore', mode: IptablesMode) {
  const tools = iptablesTools(mode);
  return [
    await binary(exec, tool === 'iptables' ? tools.iptables : tools.restore, ['--version'], 'iptables'),
    await binary(exec, tools.save, ['--version'], 'iptables'),
    ...kernelOptions([...IPTABLES_KERNEL, mode === 'legacy' ? 'CONFIG_IP_NF_IPTABLES' : 'CONFIG_NFT_COMPAT']),
  ];
}
