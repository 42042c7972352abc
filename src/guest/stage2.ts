import { shellQuote } from '../exec/types.js';

// Stage 2 of the guest: PID 1 in the overlay root (the host's own /bin/sh, node, kmod, iproute2…),
// rendered per run, after stage 1 mounted /proc, /sys, /dev, a fresh /run (/tmp stays the host's,
// through the overlay), cgroup2 and bpffs and linked the guest kernel's modules. It loads the modules the backends use, mounts the
// host's results directory (writable) at the same path, then runs the bench command with its stdout and stderr on their own virtio
// ports. A watcher forwards the signal the host sends on the control port (SIGINT/SIGTERM), so the
// command tears down and writes run.json as on the host. Its exit code goes to the status port, and
// the guest resets at once (qemu runs with -no-reboot, so it exits).

/** Modules the backends need, loaded up front so the first sync does not pay for module loading;
 * the kernel autoloads anything else through the host's modprobe, which finds the guest's modules
 * in /lib/modules (linked by stage 1). */
export const GUEST_MODULES = [
  // IPVS (kube-proxy's ipvs mode) and its schedulers
  'ip_vs',
  'ip_vs_rr',
  'ip_vs_wrr',
  'ip_vs_sh',
  // conntrack, NAT and ctnetlink (conntrack -F between cases)
  'nf_conntrack',
  'nf_conntrack_netlink',
  'nf_nat',
  // nftables
  'nf_tables',
  'nft_chain_nat',
  'nft_ct',
  'nft_nat',
  'nft_masq',
  'nft_numgen',
  'nft_fib_ipv4',
  'nft_compat',
  // iptables (legacy and nft flavours) and the matches kube-proxy uses
  'iptable_nat',
  'iptable_filter',
  'iptable_mangle',
  'xt_statistic',
  'xt_recent',
  'xt_addrtype',
  'xt_mark',
  'xt_MASQUERADE',
  'xt_comment',
  'xt_conntrack',
  'xt_nat',
  'xt_set',
  // ipset types kube-proxy's ipvs mode creates
  'ip_set',
  'ip_set_hash_ip',
  'ip_set_hash_ipport',
  'ip_set_hash_ipportip',
  'ip_set_hash_ipportnet',
  'ip_set_hash_net',
  'ip_set_bitmap_port',
  // links: pods' veths, kube-ipvs0; tc clsact for the eBPF backend
  'veth',
  // the underlay bridge of a multi-node sandbox (--nodes 2 or more)
  'bridge',
  'dummy',
  'sch_ingress',
  'cls_bpf',
];

/** Virtio port names; stage 2 finds the devices by name under /sys/class/virtio-ports. */
export const PORTS = {
  control: 'svcbench.control',
  stdout: 'svcbench.stdout',
  stderr: 'svcbench.stderr',
  status: 'svcbench.status',
} as const;

export interface Job {
  /** argv of the command to run in the guest (node, bench's main script, its arguments). */
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Host directory shared writable at the same path (bench run's results), if any; it exists on
   * the host, so its mount point exists in the guest. */
  results?: string;
}

/** 9p mount options: msize 512 KiB (the default 8 KiB makes every read a round trip). */
const NINEP = 'trans=virtio,version=9p2000.L,msize=512000';

export function renderStage2(job: Job): string {
  const q = shellQuote;
  const env = Object.entries(job.env)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `export ${k}=${q(v)}`);
  return `# svcbench guest, stage 2 (src/guest/stage2.ts), PID 1 in the overlay root
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/null >/dev/ttyS0 2>&1
status() { echo "$*" > "$STATUS"; }
# Shell builtins only where possible: each host binary run costs a few tenths of a second here.
uptime() { read -r up _ < /proc/uptime; echo "$up"; }
mark() { echo "svcbench guest: $* at $(uptime) s"; }
die() {
  echo "svcbench guest stage 2: $*"
  [ -n "\${STATUS:-}" ] && status "error $*"
  echo b > /proc/sysrq-trigger
}
port() { for p in /sys/class/virtio-ports/*; do read -r n < "$p/name"; [ "$n" = "$1" ] && echo "/dev/\${p##*/}"; done; }
STATUS=$(port ${PORTS.status})
OUT=$(port ${PORTS.stdout})
ERR=$(port ${PORTS.stderr})
CONTROL=$(port ${PORTS.control})
mark "stage 2 started"
[ -n "$STATUS" ] && [ -n "$OUT" ] && [ -n "$ERR" ] && [ -n "$CONTROL" ] || die "virtio ports missing"
# In the background, while the command's Node starts (seconds under emulation); a module not loaded
# yet when first used is autoloaded by the kernel (every one has its alias: rtnl-link-dummy,
# net-pf-16-proto-16-family-IPVS, nfnetlink-subsys-10…), waiting for a load already under way.
( modprobe -a ${GUEST_MODULES.join(' ')} || echo "svcbench guest: some modules did not load (see above)"; mark "modules loaded" ) &
${
  job.results === undefined ? '' : `mount -t 9p -o ${NINEP} results ${q(job.results)} || die "cannot mount the results directory"\n`
}${env.join('\n')}
cd ${q(job.cwd)} || die "cannot enter ${job.cwd}"
status "started $(uptime)"
${job.argv.map(q).join(' ')} >"$OUT" 2>"$ERR" &
pid=$!
# The host writes a signal name (INT, TERM) on the control port. (qemu does not pass on the end of
# its stdin: after a SIGKILL of the host process the guest idles until bench clean kills qemu.)
( while read -r sig; do case "$sig" in INT|TERM|HUP) kill -s "$sig" "$pid";; esac; done < "$CONTROL" ) &
wait "$pid"
code=$?
status "exit $code $(uptime)"
sync
echo b > /proc/sysrq-trigger
`;
}
