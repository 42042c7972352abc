// SPDX-License-Identifier: Apache-2.0
/* svcbench's eBPF service proxy: one object, six programs, four maps (maps.h).
 *
 * Socket-level load balancing (Cilium's bpf/bpf_sock.c): cgroup sock_addr hooks on the run's own
 * cgroup rewrite the destination of connect()/sendmsg() from a service frontend to an endpoint,
 * so pod and node processes talk to the endpoint directly and no packet ever carries the VIP.
 * recvmsg4/getpeername4 translate back, so applications still see the VIP.
 *
 * NodePort from outside (Cilium's bpf/lib/nodeport.h): tc ingress on the node's external veth
 * does the DNAT with connection tracking in an LRU map; tc egress on the same veth restores the
 * node IP:nodePort as the source of replies.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"

#define SYS_REJECT 0
#define SYS_PROCEED 1

/* ---- socket hooks ------------------------------------------------------------------------ */

/* connect4 (TCP and connected UDP) and sendmsg4 (unconnected UDP): frontend → endpoint. TCP picks
 * a random endpoint per connection; UDP hashes the socket cookie so every datagram of one socket
 * goes to the same endpoint (as Cilium's sock4_xlate_fwd does for unconnected UDP). */
static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx)
{
	struct svc_key key = {};
	struct svc_val *found, head, ep;
	struct revnat_key rk = {};
	struct revnat_val rv = {};
	__u64 cookie;
	__u32 hash;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return SYS_PROCEED;
	key.addr = ctx->user_ip4;
	key.port = (__be16)ctx->user_port;
	key.proto = ctx->protocol;
	found = bpf_map_lookup_elem(&svc_map, &key);
	if (!found)
		return SYS_PROCEED; /* not a service: leave the socket alone */
	head = *found;
	cookie = bpf_get_socket_cookie(ctx);
	hash = ctx->protocol == IPPROTO_UDP ? (__u32)(cookie ^ (cookie >> 32)) * 2654435761U : bpf_get_prandom_u32();
	/* A service without endpoints refuses the connection, as kube-proxy's REJECT does. */
	if (pick_endpoint(&key, &head, bpf_get_netns_cookie(ctx), hash, &ep) < 0)
		return SYS_REJECT;

	rk.cookie = cookie;
	rk.addr = ep.addr;
	rk.port = ep.port;
	rv.addr = key.addr;
	rv.port = key.port;
	bpf_map_update_elem(&revnat_map, &rk, &rv, BPF_ANY);

	ctx->user_ip4 = ep.addr;
	ctx->user_port = ep.port;
	return SYS_PROCEED;
}

/* recvmsg4 (UDP source of a datagram) and getpeername4 (TCP/UDP peer): endpoint → frontend, for
 * sockets this proxy rewrote (found by cookie and endpoint). */
static __always_inline int sock4_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct revnat_key rk = {};
	struct revnat_val *rv;

	rk.cookie = bpf_get_socket_cookie(ctx);
	rk.addr = ctx->user_ip4;
	rk.port = (__be16)ctx->user_port;
	rv = bpf_map_lookup_elem(&revnat_map, &rk);
	if (rv) {
		struct revnat_val v = *rv;

		ctx->user_ip4 = v.addr;
		ctx->user_port = v.port;
	}
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_fwd(ctx);
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_fwd(ctx);
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_rev(ctx);
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return sock4_xlate_rev(ctx);
}

/* ---- tc NodePort ---------------------------------------------------------------------------- */

#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + __builtin_offsetof(struct iphdr, check))
#define IP_SRC_OFF (IP_OFF + __builtin_offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + __builtin_offsetof(struct iphdr, daddr))

struct flow {
	struct ct_key tuple; /* as seen on the wire */
	__u32 l4_off;
	__u32 csum_off;
	__u64 csum_flags; /* BPF_F_MARK_MANGLED_0 for UDP: a zero checksum means "none" */
};

/* Parses Ethernet/IPv4/TCP|UDP without options past the IP header; returns -1 for anything else
 * (fragments included: only the first carries ports). */
static __always_inline int parse(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	__be16 *ports;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl < 5)
		return -1;
	if (ip->frag_off & bpf_htons(0x1fff))
		return -1;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return -1;
	f->l4_off = ETH_HLEN + ip->ihl * 4;
	ports = data + f->l4_off;
	if ((void *)(ports + 2) > end)
		return -1;
	f->tuple.saddr = ip->saddr;
	f->tuple.daddr = ip->daddr;
	f->tuple.sport = ports[0];
	f->tuple.dport = ports[1];
	f->tuple.proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP) {
		f->csum_off = f->l4_off + __builtin_offsetof(struct tcphdr, check);
		f->csum_flags = 0;
	} else {
		f->csum_off = f->l4_off + __builtin_offsetof(struct udphdr, check);
		f->csum_flags = BPF_F_MARK_MANGLED_0;
	}
	return 0;
}

/* Rewrites one address (at ip_off) and one port (at port_off), fixing the IP checksum and the L4
 * checksum (whose pseudo-header covers the address). */
static __always_inline int rewrite(struct __sk_buff *skb, const struct flow *f, __u32 ip_off, __be32 from_ip, __be32 to_ip,
				   __u32 port_off, __be16 from_port, __be16 to_port)
{
	if (bpf_l4_csum_replace(skb, f->csum_off, from_ip, to_ip, f->csum_flags | BPF_F_PSEUDO_HDR | sizeof(to_ip)) < 0)
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from_ip, to_ip, sizeof(to_ip)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, ip_off, &to_ip, sizeof(to_ip), 0) < 0)
		return -1;
	if (bpf_l4_csum_replace(skb, f->csum_off, from_port, to_port, f->csum_flags | sizeof(to_port)) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, port_off, &to_port, sizeof(to_port), 0) < 0)
		return -1;
	return 0;
}

/* Ingress of the external veth: a packet to node IP:nodePort is DNATed to an endpoint. The flow's
 * first packet picks the endpoint and records both directions; later packets follow the record
 * (Cilium's nodeport_lb4 with ct_lookup4/ct_create4). The stack then routes it to the pod. */
SEC("tc")
int nodeport_ingress(struct __sk_buff *skb)
{
	struct flow f = {};
	struct ct_val *known, to;
	struct svc_key key = {};
	struct svc_val *found, head, ep;

	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	known = bpf_map_lookup_elem(&ct_map, &f.tuple);
	if (known) {
		to = *known;
	} else {
		struct ct_key rev = {};
		struct ct_val back = {};

		key.addr = f.tuple.daddr;
		key.port = f.tuple.dport;
		key.proto = f.tuple.proto;
		found = bpf_map_lookup_elem(&svc_map, &key);
		if (!found)
			return TC_ACT_OK;
		head = *found;
		if (pick_endpoint(&key, &head, f.tuple.saddr, bpf_get_prandom_u32(), &ep) < 0)
			return TC_ACT_SHOT;
		to.addr = ep.addr;
		to.port = ep.port;
		to.pad = 0;
		bpf_map_update_elem(&ct_map, &f.tuple, &to, BPF_ANY);
		rev.saddr = ep.addr;
		rev.daddr = f.tuple.saddr;
		rev.sport = ep.port;
		rev.dport = f.tuple.sport;
		rev.proto = f.tuple.proto;
		rev.dir = CT_REPLY;
		back.addr = f.tuple.daddr;
		back.port = f.tuple.dport;
		bpf_map_update_elem(&ct_map, &rev, &back, BPF_ANY);
	}
	if (rewrite(skb, &f, IP_DST_OFF, f.tuple.daddr, to.addr, f.l4_off + 2, f.tuple.dport, to.port) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* Egress of the external veth: a reply from an endpoint gets node IP:nodePort back as its source
 * (the reverse entry nodeport_ingress recorded). */
SEC("tc")
int nodeport_egress(struct __sk_buff *skb)
{
	struct flow f = {};
	struct ct_val *known, to;

	if (parse(skb, &f) < 0)
		return TC_ACT_OK;
	f.tuple.dir = CT_REPLY;
	known = bpf_map_lookup_elem(&ct_map, &f.tuple);
	if (!known)
		return TC_ACT_OK;
	to = *known;
	if (rewrite(skb, &f, IP_SRC_OFF, f.tuple.saddr, to.addr, f.l4_off, f.tuple.sport, to.port) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
