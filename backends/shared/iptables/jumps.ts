// kube-proxy's iptables-mode chains and the jump rules from the built-in chains into them
// (pkg/proxy/iptables/proxier.go ≈L38–89, ≈L395–420), with the commands that ensure those jumps as
// kube-proxy's EnsureChain/EnsureRule do. Used by the render (which names the chains), the
// read-back (which expects the jumps) and the backends' apply steps.
import { shellQuote } from '../../../src/exec/types.js';
import type { JumpRule } from './ruleset.js';

// Chain constants (≈L38–89).
export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
const NEW_CONN = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;
const jump = (table: JumpRule['table'], srcChain: string, dstChain: string, comment: string, extra: readonly string[] = []): JumpRule => ({
  table,
  srcChain,
  dstChain,
  // extraArgs, then the comment, then -j (≈L1090: EnsureRule(Prepend, …)).
  rule: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : []), '-j', dstChain],
});

/** iptablesJumpChains (≈L395), in kube-proxy's order. */
export const IPTABLES_JUMP_CHAINS: readonly JumpRule[] = [
  jump('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', NEW_CONN),
  jump('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports'),
  jump('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', NEW_CONN),
  jump('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'),
];

/**
 * iptablesKubeletJumpChains (≈L412): kube-proxy ensures these too on every full sync, whatever
 * localhostNodePorts says, so KUBE-FIREWALL exists but stays empty in svcbench (see header).
 */
export const IPTABLES_KUBELET_JUMP_CHAINS: readonly JumpRule[] = [
  jump('filter', 'INPUT', KUBE_FIREWALL, ''),
  jump('filter', 'OUTPUT', KUBE_FIREWALL, ''),
];

/** Everything a full sync ensures, in kube-proxy's order. */
export const ALL_JUMP_RULES: readonly JumpRule[] = [...IPTABLES_JUMP_CHAINS, ...IPTABLES_KUBELET_JUMP_CHAINS];

/**
 * argv (no binary) for kube-proxy's EnsureChain + EnsureRule(Prepend) of one jump rule:
 * run `newChain` (exit status 1 "Chain already exists" is success), then `check`, and `insert`
 * only if the check fails. On the restore path run these before the payload, as kube-proxy does;
 * on the rule-by-rule path run them after the commands (whose `-N` would otherwise collide).
 */
export function jumpRuleArgv(j: JumpRule): { newChain: string[]; check: string[]; insert: string[] } {
  return {
    newChain: ['-t', j.table, '-N', j.dstChain],
    check: ['-t', j.table, '-C', j.srcChain, ...j.rule],
    insert: ['-t', j.table, '-I', j.srcChain, ...j.rule],
  };
}

/** A built-in table and one of its chains, e.g. ['nat', 'KUBE-SERVICES']. */
export type TableChain = readonly [table: string, chain: string];

/**
 * A POSIX shell script doing kube-proxy's EnsureChain for `chains`, then, for each jump in order,
 * EnsureChain of its target (unless `createJumpChains` is false) and EnsureRule(Prepend): `-C`, and
 * `-I` only when the check fails (each prepend lands above the previous one, so the order is kept).
 * Every step is its own iptables process, as each of kube-proxy's is; the script exits 1 on a
 * failed insert and prints "inserted" once per inserted rule, so the caller can count processes.
 */
export function ensureScript(
  iptables: string,
  jumps: readonly JumpRule[],
  opts: { chains?: readonly TableChain[]; createJumpChains?: boolean } = {},
): string {
  const run = (argv: readonly string[]): string => [iptables, '-w', ...argv].map(shellQuote).join(' ');
  // "Chain already exists" (exit 1) is EnsureChain's success.
  const newChain = ([table, chain]: TableChain): string => `${run(['-t', table, '-N', chain])} 2>/dev/null || true`;
  const lines = (opts.chains ?? []).map(newChain);
  for (const j of jumps) {
    const a = jumpRuleArgv(j);
    if (opts.createJumpChains ?? true) lines.push(newChain([j.table, j.dstChain]));
    lines.push(`${run(a.check)} 2>/dev/null || { ${run(a.insert)} && echo inserted; } || exit 1`);
  }
  return `${lines.join('\n')}\n`;
}
