/* SPDX-License-Identifier: Apache-2.0 */
/* The maps the service proxy shares with user space (backends/ebpf/layout.ts mirrors struct
 * svc_key and struct svc_val byte for byte, the only ones user space writes: keep both in step). Modelled on Cilium's bpf/lib/lb.h (lb4_key, lb4_service,
 * lb4_affinity_key) and bpf/lib/conntrack.h, trimmed to what svcbench's services need. */
#pragma once

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* A service frontend (VIP or node IP, port, protocol) and one of its slots. Slot 0 holds the
 * endpoint count and the ClientIP affinity timeout; slots 1..count hold the endpoints. Unlike
 * Cilium, a slot carries the endpoint's address itself instead of a backend id: render stays a
 * pure function of the cluster state, and a partial sync touches only the changed service. */
struct svc_key {
	__be32 addr;
	__be16 port;
	__u16 slot;
	__u8 proto;
	__u8 pad[3];
};

struct svc_val {
	__be32 addr;     /* slots 1..count: endpoint IP */
	__be16 port;     /* slots 1..count: endpoint (target) port */
	__u16 count;     /* slot 0: number of endpoints */
	__u32 affinity;  /* slot 0: ClientIP affinity timeout in seconds, 0 = none */
};

/* Socket-level reverse NAT (Cilium's lb4_reverse_nat_sk map): what a socket connected or sent
 * to, so recvmsg4/getpeername4 can show the VIP again. */
struct revnat_key {
	__u64 cookie;
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct revnat_val {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

/* NodePort connection tracking and NAT for tc, one LRU map for both (Cilium keeps conntrack in
 * bpf/lib/conntrack.h's CT map and the SNAT mappings in bpf/lib/nat.h's SNAT map). Per flow:
 * - CT_FORWARD (client → node IP:nodePort, seen at ingress): the chosen endpoint; for an endpoint on
 *   another node (flags & CT_SNAT) also the node IP and port the source is rewritten to;
 * - CT_REPLY (endpoint → client, seen at egress; endpoint on this node): node IP:nodePort to restore
 *   as the source;
 * - CT_SNAT_REPLY (remote endpoint → node IP:allocated port, seen at ingress): the client to restore
 *   as the destination (addr, port) and node IP:nodePort as the source (nat_addr, nat_port). */
struct ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* CT_FORWARD, CT_REPLY or CT_SNAT_REPLY: the directions never share an entry */
	__u8 pad[2];
};

#define CT_FORWARD 0
#define CT_REPLY 1
#define CT_SNAT_REPLY 2

/* ct_val.flags */
#define CT_SNAT 1

struct ct_val {
	__be32 addr;
	__be16 port;
	__u8 flags;
	__u8 pad;
	__be32 nat_addr;
	__be16 nat_port;
	__u16 pad2;
};

/* ClientIP session affinity (Cilium's lb4_affinity map): the client is the network namespace
 * cookie at the socket hooks and the source IP at tc. */
struct aff_key {
	__u64 client;
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct aff_val {
	__u64 last_used_ns;
	__be32 addr;
	__be16 port;
	__u16 slot;
};

/* 30,000 services (the CLI's limit) with a few endpoints and node ports each fit. Preallocated
 * (the default): measured here, a full sync of 44,000 entries takes about 3× longer without. */
#define SVC_MAP_SIZE 262144
#define LRU_SIZE 65536

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
	__uint(max_entries, SVC_MAP_SIZE);
} svc_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct revnat_key);
	__type(value, struct revnat_val);
	__uint(max_entries, LRU_SIZE);
} revnat_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct_key);
	__type(value, struct ct_val);
	__uint(max_entries, LRU_SIZE);
} ct_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct aff_key);
	__type(value, struct aff_val);
	__uint(max_entries, LRU_SIZE);
} aff_map SEC(".maps");

/* Picks the endpoint slot for a new flow: a remembered one under ClientIP affinity when it still
 * holds the same endpoint (Cilium's lb4_affinity_backend_id), else `hash`-chosen (random for TCP,
 * the socket cookie for UDP). Writes the endpoint to *out; returns 0, or -1 when the service has
 * no endpoints. Map values are copied to the stack before use (clang 14 verifier pitfall). */
static __always_inline int pick_endpoint(const struct svc_key *frontend, const struct svc_val *head, __u64 client, __u32 hash,
					 struct svc_val *out)
{
	struct svc_key key = *frontend;
	struct svc_val *v;
	struct aff_key ak = {};
	struct aff_val *a;
	__u64 now = 0;

	if (head->count == 0)
		return -1;
	if (head->affinity) {
		now = bpf_ktime_get_ns();
		ak.client = client;
		ak.addr = frontend->addr;
		ak.port = frontend->port;
		ak.proto = frontend->proto;
		a = bpf_map_lookup_elem(&aff_map, &ak);
		if (a) {
			struct aff_val prev = *a;

			if (now - prev.last_used_ns <= (__u64)head->affinity * 1000000000ULL && prev.slot >= 1 && prev.slot <= head->count) {
				key.slot = prev.slot;
				v = bpf_map_lookup_elem(&svc_map, &key);
				if (v && v->addr == prev.addr && v->port == prev.port) {
					*out = *v;
					prev.last_used_ns = now;
					bpf_map_update_elem(&aff_map, &ak, &prev, BPF_ANY);
					return 0;
				}
			}
		}
	}
	key.slot = (hash % head->count) + 1;
	v = bpf_map_lookup_elem(&svc_map, &key);
	if (!v)
		return -1;
	*out = *v;
	if (head->affinity) {
		struct aff_val nv = { .last_used_ns = now, .addr = out->addr, .port = out->port, .slot = key.slot };

		bpf_map_update_elem(&aff_map, &ak, &nv, BPF_ANY);
	}
	return 0;
}
