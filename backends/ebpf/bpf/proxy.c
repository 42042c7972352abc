// SPDX-License-Identifier: Apache-2.0
/* svcbench's eBPF service proxy: one object, six programs, four maps (maps.h).
 *
 * Socket-level load balancing (Cilium's bpf/bpf_sock.c): cgroup sock_addr hooks on the run's own
 * cgroup rewrite the destination of connect()/sendmsg() from a service frontend to an endpoint,
 * so pod and node processes talk to the endpoint directly and no packet ever carries the VIP.
 * recvmsg4/getpeername4 translate back, so applications still see the VIP.
 *
 * NodePort from outside (Cilium's bpf/lib/nodeport.h): tc ingress on the node's external device
 * does the DNAT with connection tracking in an LRU map; tc egress on the same device restores the
 * node IP:nodePort as the source of replies. An endpoint on another node also gets the node's IP
 * and an allocated port as source (SNAT, Cilium's non-DSR mode); the packet is routed back out by
 * the program, and its replies are translated back at the same ingress.
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
	int syn;	  /* TCP SYN without ACK: a connection's first packet */
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
		struct tcphdr *tcp = (void *)ports;

		if ((void *)(tcp + 1) > end)
			return -1;
		f->syn = tcp->syn && !tcp->ack;
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

/* ---- NodePort to an endpoint on another node: SNAT to the node IP, then forward ------------- */

#ifndef AF_INET
#define AF_INET 2
#endif
#define IP_TTL_OFF (IP_OFF + __builtin_offsetof(struct iphdr, ttl))

/* The SNAT port range. Cilium's is NODEPORT_PORT_MIN_NAT..NODEPORT_PORT_MAX_NAT (32768–65535); here it
 * is every unprivileged port, so __snat_try_keep_port's first choice, the client's own port, is
 * always in range (README.md, "NodePort across nodes"). */
#define NAT_PORT_MIN 1024
#define NAT_PORT_MAX 65535
/* Collision retries after the kept port (Cilium: SNAT_COLLISION_RETRIES). */
#define NAT_RETRIES 16

/* Whether an endpoint lives on another node: the route to it leaves by the device the NodePort
 * packet came in on (the underlay), not by a pod's veth. Cilium decides this by looking the
 * address up in its local endpoints map (lookup_ip4_endpoint); the FIB answers the same question
 * here without one more map for user space to keep. */
static __always_inline int endpoint_is_remote(struct __sk_buff *skb, __be32 addr)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	fib.family = AF_INET;
	fib.ipv4_dst = addr;
	fib.ifindex = skb->ifindex;
	ret = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	return (ret == BPF_FIB_LKUP_RET_SUCCESS || ret == BPF_FIB_LKUP_RET_NO_NEIGH) && fib.ifindex == skb->ifindex;
}

/* Routes a translated packet ourselves (Cilium's fib_redirect_v4): its source is now one of this
 * node's addresses, which the kernel's input routing would drop as a martian. The TTL goes down by
 * one as the kernel's forwarding would do, so the packet still counts this node as a hop. */
static __always_inline int fib_redirect(struct __sk_buff *skb, const struct flow *f, __be32 saddr, __be32 daddr)
{
	struct bpf_fib_lookup fib = {};
	union {
		__u8 b[2]; /* ttl, protocol */
		__u16 w;
	} old, cur;
	long ret;

	if (bpf_skb_load_bytes(skb, IP_TTL_OFF, old.b, 2) < 0 || old.b[0] <= 1)
		return TC_ACT_SHOT;
	cur = old;
	cur.b[0]--;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old.w, cur.w, 2) < 0 || bpf_skb_store_bytes(skb, IP_TTL_OFF, cur.b, 1, 0) < 0)
		return TC_ACT_SHOT;

	fib.family = AF_INET;
	fib.l4_protocol = f->tuple.proto;
	fib.ipv4_src = saddr;
	fib.ipv4_dst = daddr;
	fib.ifindex = skb->ifindex;
	ret = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (ret == BPF_FIB_LKUP_RET_SUCCESS) {
		if (bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0) < 0 || bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0) < 0)
			return TC_ACT_SHOT;
		return bpf_redirect(fib.ifindex, 0);
	}
	/* No neighbour entry yet: the kernel resolves it (and queues the packet meanwhile). */
	if (ret == BPF_FIB_LKUP_RET_NO_NEIGH)
		return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
	return TC_ACT_SHOT;
}

static __always_inline void snat_reply_key(struct ct_key *rk, const struct ct_key *fwd, const struct ct_val *to)
{
	rk->saddr = to->addr;
	rk->daddr = to->nat_addr;
	rk->sport = to->port;
	rk->dport = to->nat_port;
	rk->proto = fwd->proto;
	rk->dir = CT_SNAT_REPLY;
}

static __always_inline void snat_reply_val(struct ct_val *rv, const struct ct_key *fwd)
{
	rv->addr = fwd->saddr;
	rv->port = fwd->sport;
	rv->nat_addr = fwd->daddr;
	rv->nat_port = fwd->dport;
}

/* Allocates the node's source port for a new flow to a remote endpoint and records its reply entry
 * (Cilium's snat_v4_new_mapping): the client's own port first (__snat_try_keep_port), then random
 * ports. A port is taken when a reply entry for (endpoint, node IP, port) exists for another flow;
 * one left behind by this same client tuple (its forward entry evicted, or a TCP port reused) is
 * this flow's own and is taken over. Fills to->nat_port; returns -1 when every try collided. */
static __always_inline int snat_new_mapping(const struct ct_key *fwd, struct ct_val *to)
{
	struct ct_key rk = {};
	struct ct_val rv = {}, *held;
	__u16 port = bpf_ntohs(fwd->sport);
	int i;

	snat_reply_val(&rv, fwd);
	if (port < NAT_PORT_MIN)
		port = NAT_PORT_MIN + (__u16)bpf_get_prandom_u32() % (NAT_PORT_MAX - NAT_PORT_MIN + 1);
	for (i = 0; i <= NAT_RETRIES; i++) {
		to->nat_port = bpf_htons(port);
		snat_reply_key(&rk, fwd, to);
		held = bpf_map_lookup_elem(&ct_map, &rk);
		if (held) {
			struct ct_val h = *held;

			if (h.addr != rv.addr || h.port != rv.port || h.nat_addr != rv.nat_addr || h.nat_port != rv.nat_port) {
				port = NAT_PORT_MIN + (__u16)bpf_get_prandom_u32() % (NAT_PORT_MAX - NAT_PORT_MIN + 1);
				continue;
			}
		}
		if (bpf_map_update_elem(&ct_map, &rk, &rv, BPF_ANY) < 0)
			return -1;
		return 0;
	}
	return -1;
}

/* ---- tc programs ---------------------------------------------------------------------------- */

/* Ingress of the node's external (underlay) device. A packet to node IP:nodePort is DNATed to an
 * endpoint: the flow's first packet picks the endpoint and records both directions; later packets
 * follow the record (Cilium's nodeport_lb4 with ct_lookup4/ct_create4). An endpoint on this node
 * is reached by the stack's own routing; one on another node also gets this node's IP and an
 * allocated port as its source and is sent back out (Cilium's non-DSR mode, nodeport_lb4 →
 * nodeport_snat_fwd_ipv4). Replies from such endpoints, addressed to node IP:allocated port, come in
 * here too and are translated back to nodeIP:nodePort → client (Cilium's rev_nodeport_lb4 /
 * snat_v4_rev_nat). */
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
		/* A new connection on a reused client port, or a retransmitted SYN: the reply entry may
		 * have been evicted from the LRU; put it back unless another flow took the port. */
		if ((to.flags & CT_SNAT) && f.syn) {
			struct ct_key rk = {};
			struct ct_val rv = {};

			snat_reply_key(&rk, &f.tuple, &to);
			snat_reply_val(&rv, &f.tuple);
			bpf_map_update_elem(&ct_map, &rk, &rv, BPF_NOEXIST);
		}
	} else {
		struct ct_key rev = {};
		struct ct_val back = {};

		f.tuple.dir = CT_SNAT_REPLY;
		known = bpf_map_lookup_elem(&ct_map, &f.tuple);
		if (known) {
			to = *known;
			/* src endpoint → node IP:nodePort, dst node IP:port → client */
			if (rewrite(skb, &f, IP_SRC_OFF, f.tuple.saddr, to.nat_addr, f.l4_off, f.tuple.sport, to.nat_port) < 0 ||
			    rewrite(skb, &f, IP_DST_OFF, f.tuple.daddr, to.addr, f.l4_off + 2, f.tuple.dport, to.port) < 0)
				return TC_ACT_SHOT;
			return fib_redirect(skb, &f, to.nat_addr, to.addr);
		}
		f.tuple.dir = CT_FORWARD;

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
		to.flags = 0;
		to.pad = 0;
		to.nat_addr = 0;
		to.nat_port = 0;
		to.pad2 = 0;
		if (endpoint_is_remote(skb, ep.addr)) {
			to.flags = CT_SNAT;
			to.nat_addr = f.tuple.daddr; /* the node IP the client addressed */
			if (snat_new_mapping(&f.tuple, &to) < 0)
				return TC_ACT_SHOT;
		} else {
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
		bpf_map_update_elem(&ct_map, &f.tuple, &to, BPF_ANY);
	}
	if (rewrite(skb, &f, IP_DST_OFF, f.tuple.daddr, to.addr, f.l4_off + 2, f.tuple.dport, to.port) < 0)
		return TC_ACT_SHOT;
	if (!(to.flags & CT_SNAT))
		return TC_ACT_OK;
	/* src client → node IP:allocated port */
	if (rewrite(skb, &f, IP_SRC_OFF, f.tuple.saddr, to.nat_addr, f.l4_off, f.tuple.sport, to.nat_port) < 0)
		return TC_ACT_SHOT;
	return fib_redirect(skb, &f, to.nat_addr, to.addr);
}

/* Egress of the external device: a reply from an endpoint on this node gets node IP:nodePort back
 * as its source (the reverse entry nodeport_ingress recorded). */
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
