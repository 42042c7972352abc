// The parts of the packet path that kernel samples are attributed to (src/profile/README.md has the
// rule and the sources). Each group is a list of kernel symbol patterns; a frame belongs to the
// first group, in PRECEDENCE order, whose pattern matches its symbol, so a NAT expression of
// nf_tables (nft_nat_eval) is NAT rather than nf_tables and a BPF helper reached from a JIT'd
// program is the program's.

export const GROUPS = ['bpf', 'ip_vs', 'nat', 'conntrack', 'netfilter', 'routing', 'stack', 'user', 'other'] as const;
export type Group = (typeof GROUPS)[number];

/** Groups whose sum answers "what do the Service rules cost": netfilter with its tables,
 * conntrack and NAT (IPVS and BPF are reported on their own). */
export const NETFILTER_GROUPS: readonly Group[] = ['netfilter', 'conntrack', 'nat'];

/** The Service machinery: a routing or stack function called from one of these (nft's fib
 * expression, a BPF program's bpf_fib_lookup, NAT's re-route) is that machinery's time. */
export const MACHINERY_GROUPS: ReadonlySet<Group> = new Set(['bpf', 'ip_vs', 'nat', 'conntrack', 'netfilter']);

/** Where the interrupted context ends on a call chain: softirq and interrupt entries. Frames
 * rootward of one belong to whatever the CPU was doing when the interrupt came (a softirq run at
 * spin_unlock_bh inside conntrack processes other packets), so attribution stops there. */
export const CONTEXT_BOUNDARY =
  /^(handle_softirqs|__do_softirq|do_softirq(_own_stack)?|__irq_exit_rcu|irq_exit_rcu|common_interrupt|asm_common_interrupt|(asm_)?sysvec_\w+|run_ksoftirqd)$/;

export interface GroupInfo {
  name: Group;
  label: string;
  /** Symbol patterns (anchored regular expressions), checked in order. */
  patterns: readonly RegExp[];
}

// Kernel functions by source file (Linux 6.18):
// - JIT'd BPF programs: kernel/bpf/core.c bpf_prog_kallsyms_add names them
//   "bpf_prog_<16 hex tag>_<name>"; the cgroup hooks run them from kernel/bpf/cgroup.c
//   (__cgroup_bpf_run_filter_sock_addr, _skb, _sk), tc from net/sched/cls_bpf.c (cls_bpf_classify);
//   helpers they call (bpf_skb_store_bytes, bpf_l4_csum_replace, bpf_redirect, bpf_sock_addr_*)
//   live in net/core/filter.c. Not the tracing trampolines' __bpf_prog_enter* (kernel/bpf/trampoline.c),
//   which belong to whatever program the host attached, not to the path.
// - IPVS: net/netfilter/ipvs/* (ip_vs_in_hook, ip_vs_out_hook, ip_vs_conn_*, ip_vs_nat_xmit, …).
// - NAT: net/netfilter/nf_nat_core.c (nf_nat_setup_info, get_unique_tuple, nf_nat_inet_fn,
//   nf_nat_manip_pkt), nf_nat_proto.c (nf_nat_ipv4_*, l4proto_manip_pkt), nf_nat_masquerade.c
//   (nf_nat_masquerade_ipv4), xt_MASQUERADE.c (masquerade_tg), xt_nat.c (xt_dnat_target_v*,
//   xt_snat_target_v*), nft_nat.c / nft_masq.c / nft_redir.c (nft_nat_eval, nft_masq_eval, …).
// - conntrack: net/netfilter/nf_conntrack_core.c (nf_conntrack_in, __nf_conntrack_confirm,
//   resolve_normal_ct, init_conntrack, __nf_conntrack_find_get, nf_ct_*), nf_conntrack_proto_tcp.c
//   (nf_conntrack_tcp_packet, tcp_in_window), nf_conntrack_proto.c (ipv4_conntrack_in,
//   ipv4_conntrack_local, ipv4_confirm, nf_confirm).
// - netfilter and its tables: net/netfilter/core.c (nf_hook_slow), nf_tables_core.c (nft_do_chain
//   and the expressions nft_*_eval), net/ipv4/netfilter/ip_tables.c (ipt_do_table), the xtables
//   matches and targets (*_mt, *_tg: addrtype_mt_v1, mark_mt, statistic_mt, comment_mt, …) and
//   ipset (ip_set_*, hash_*).
// - routing: net/ipv4/fib_*.c (fib_table_lookup, fib_validate_source, fib4_rule_action),
//   net/ipv4/route.c (ip_route_input_*, ip_route_output_*, __mkroute_output, rt_dst_alloc).
// - stack: the socket, TCP/UDP, IP and device layers: net/socket.c (__sys_connect, sock_*),
//   net/ipv4/tcp*.c, udp.c, af_inet.c (inet_*), ip_input.c / ip_output.c (ip_rcv, ip_output, …),
//   net/core/dev.c (__dev_queue_xmit, __netif_receive_skb*, net_rx_action, process_backlog),
//   drivers/net/veth.c, net/core/skbuff.c and sock.c.
const GROUP_TABLE: readonly GroupInfo[] = [
  {
    name: 'bpf',
    label: 'eBPF programs',
    patterns: [
      /^bpf_prog_[0-9a-f]{16}(_|$)/,
      /^__cgroup_bpf_run_filter/,
      /^cls_bpf_classify$/,
      /^bpf_(skb_|sock_addr_|l3_csum|l4_csum|redirect|fib_lookup|get_socket_cookie|csum_)/,
    ],
  },
  { name: 'ip_vs', label: 'IPVS', patterns: [/^_*ip_vs_/] },
  {
    name: 'nat',
    label: 'NAT',
    patterns: [
      /^_*nf_nat_/,
      /^nf_xfrm_me_harder$/,
      /^get_unique_tuple$/,
      /^find_best_ips_proto$/,
      /^l4proto_manip_pkt$/,
      /^masquerade_tg/,
      /^xt_[ds]nat_target/,
      /^nft_(nat|masq|redir)_/,
      /^inet_cmp$/,
    ],
  },
  {
    name: 'conntrack',
    label: 'conntrack',
    patterns: [
      /^_*nf_conntrack_/,
      /^_*nf_ct_/,
      /^_*nf_confirm$/,
      /^ipv4_conntrack_/,
      /^ipv4_confirm$/,
      /^resolve_normal_ct$/,
      /^init_conntrack/,
      /^hash_conntrack/,
      /^tcp_in_window$/,
      /^nf_conntrack_tcp_packet$/,
      /^____nf_conntrack_find/,
    ],
  },
  {
    name: 'netfilter',
    label: 'netfilter and its tables',
    patterns: [
      /^nf_hook_slow/,
      /^nf_hook_/,
      /^nft_/,
      /^nf_tables_/,
      /^_*ipt_do_table$/,
      /^ip6t_do_table$/,
      /^iptable_/,
      /^xt_/,
      /^[a-z0-9]+_mt(_v\d+)?$/,
      /^[a-z0-9]+_tg(_v\d+)?$/,
      /^ip_set_/,
      /^hash_(ip|net|ipport|ipportip|ipportnet|ipmark)\d*_/,
      /^nf_(ip_)?checksum/,
    ],
  },
  {
    name: 'routing',
    label: 'routing',
    patterns: [
      /^_*fib/,
      /^ip_route_/,
      /^_*ip_route_/,
      /^ip_mkroute_/,
      /^__mkroute_/,
      /^rt_dst_alloc$/,
      /^rt_set_nexthop/,
      /^ipv4_dst_check$/,
      /^inet_addr_type/,
    ],
  },
  {
    name: 'stack',
    label: 'socket, TCP/IP and device layers',
    patterns: [
      /^_*sys_(connect|accept4?|socket|bind|listen|sendto|recvfrom|sendmsg|recvmsg|shutdown|getsockopt|setsockopt|getpeername|getsockname)$/,
      /^__x64_sys_(connect|accept4?|socket|bind|listen|sendto|recvfrom|sendmsg|recvmsg|shutdown|getsockopt|setsockopt|getpeername|getsockname)$/,
      /^_*sock_/,
      /^_*sk_/,
      /^_*tcp_/,
      /^_*tcp\d/,
      /^_*udp/,
      /^_*inet_/,
      /^_*inet6?_csk/,
      /^_*ip_(rcv|local_|output|finish_output|queue_xmit|forward|sublist_rcv|list_rcv|send_|make_skb|append|push_pending|generic)/,
      /^_*ip_protocol_deliver/,
      /^_*skb_/,
      /^_*kfree_skb/,
      /^_*alloc_skb/,
      /^consume_skb$/,
      /^_*napi_/,
      /^_*netif_/,
      /^_*dev_queue_xmit/,
      /^_*dev_hard_start_xmit$/,
      /^dev_(gro|xmit)/,
      /^net_rx_action$/,
      /^process_backlog$/,
      /^veth_/,
      /^neigh_/,
      /^_*neigh_/,
      /^arp_/,
      /^sch_handle_/,
      /^_*qdisc_/,
      /^tcf_/,
      /^sock$/,
      /^security_socket_/,
      /^security_sk_/,
      /^raw_(local_deliver|v4_input)/,
      /^icmp_/,
      /^ipv4_(mtu|default_advmss|neigh_lookup)/,
      /^lock_sock/,
      /^release_sock$/,
      /^dst_release/,
      /^reqsk_/,
      /^inet_ehash/,
      /^secure_tcp/,
      /^csum_partial/,
    ],
  },
  { name: 'user', label: "the workload's own user time", patterns: [] },
  { name: 'other', label: 'other kernel time of the workload', patterns: [] },
];

export const GROUP_INFO: ReadonlyMap<Group, GroupInfo> = new Map(GROUP_TABLE.map((g) => [g.name, g]));

/** Groups matched by kernel symbols, in precedence order (user and other are what is left). */
const SYMBOL_GROUPS = GROUP_TABLE.filter((g) => g.patterns.length > 0);

const cache = new Map<string, Group | undefined>();

/** The group a kernel symbol belongs to, or undefined: none of the path's parts. */
export function groupOfSymbol(symbol: string): Group | undefined {
  if (cache.has(symbol)) return cache.get(symbol);
  const g = SYMBOL_GROUPS.find((x) => x.patterns.some((p) => p.test(symbol)))?.name;
  if (cache.size < 100_000) cache.set(symbol, g);
  return g;
}
