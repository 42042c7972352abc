// Netlink dumps of an nftables table's chains and sets, as kube-proxy 1.37 lists them on every
// sync (knftables' netlink adapter, NFTablesNetlink gate, #137536: google/nftables'
// ListChainsOfTableFamily and GetSets), without the `nft` binary.
//
// The socket is created inside the node's network namespace and used from the bench process,
// which stays in the root namespace: a netlink socket belongs to the namespace it was created in
// (sock_net), so only socket() needs to happen there. The main thread enters the namespace with
// setns(2), which changes the calling thread only, creates the socket and returns at once, all
// synchronously, so no JavaScript and no other libuv work runs in between; the return is checked
// against /proc/thread-self/ns/net and a failure to return is thrown loudly and blocks every
// later call.
//
// Constants and layouts, from the kernel's uapi headers (include/uapi/linux/…):
//   socket.h / bits:        AF_NETLINK 16, SOCK_RAW 3, SOCK_CLOEXEC 02000000, SOL_SOCKET 1,
//                           SO_RCVTIMEO 20 (asm-generic/socket.h, struct timeval on 64-bit)
//   sched.h:                CLONE_NEWNET 0x40000000
//   netlink.h:              NETLINK_NETFILTER 12; struct nlmsghdr {u32 len; u16 type; u16 flags;
//                           u32 seq; u32 pid} (16 bytes, NLMSG_ALIGNTO 4); NLM_F_REQUEST 0x1,
//                           NLM_F_MULTI 0x2, NLM_F_DUMP_INTR 0x10, NLM_F_DUMP 0x300 (ROOT|MATCH);
//                           NLMSG_NOOP 1, NLMSG_ERROR 2 (struct nlmsgerr {int error; nlmsghdr msg}),
//                           NLMSG_DONE 3 (payload: int, the dump's error), NLMSG_OVERRUN 4;
//                           struct nlattr {u16 nla_len; u16 nla_type} (NLA_ALIGNTO 4,
//                           NLA_F_NESTED 1<<15, NLA_F_NET_BYTEORDER 1<<14)
//   netfilter/nfnetlink.h:  NFNL_SUBSYS_NFTABLES 10 (message type = subsys << 8 | msg);
//                           struct nfgenmsg {u8 nfgen_family; u8 version; be16 res_id},
//                           NFNETLINK_V0 0
//   netfilter.h:            NFPROTO_INET 1, NFPROTO_IPV4 2, NFPROTO_IPV6 10
//   netfilter/nf_tables.h:  enum nf_tables_msg_types: NFT_MSG_NEWCHAIN 3, NFT_MSG_GETCHAIN 4,
//                           NFT_MSG_NEWSET 9, NFT_MSG_GETSET 10;
//                           enum nft_chain_attributes: NFTA_CHAIN_TABLE 1, NFTA_CHAIN_NAME 3;
//                           enum nft_set_attributes: NFTA_SET_TABLE 1, NFTA_SET_NAME 2,
//                           NFTA_SET_FLAGS 3 (be32); enum nft_set_flags: NFT_SET_ANONYMOUS 0x1,
//                           NFT_SET_MAP 0x8
//
// The kernel's chain dump (nf_tables_dump_chains) filters by family only, so chains of other
// tables are skipped here, as google/nftables' callers do; the set dump (nf_tables_dump_sets)
// takes NFTA_SET_TABLE and returns that table's sets, maps and anonymous sets: only named sets
// are kept (nft's listings leave maps and anonymous sets out of `list sets` and the sets of a
// table; knftables v0.0.22's netlink List("sets") keeps anonymous non-map sets, which its nft
// path does not). A dump that the table changed under is flagged NLM_F_DUMP_INTR and is
// started again, as libmnl/libnftables do (mnl_cb_run returns EINTR; nft retries).

import { readlinkSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import koffi from 'koffi';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const CLONE_NEWNET = 0x40000000;
const NETLINK_NETFILTER = 12;

export const NLMSG_HDRLEN = 16;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
const NLA_TYPE_MASK = ~((1 << 15) | (1 << 14)) & 0xffff;

export const NFNL_SUBSYS_NFTABLES = 10;
const NFNETLINK_V0 = 0;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;
export const NFT_MSG_NEWSET = 9;
export const NFT_MSG_GETSET = 10;
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_NAME = 3;
export const NFTA_SET_TABLE = 1;
export const NFTA_SET_NAME = 2;
export const NFTA_SET_FLAGS = 3;
export const NFT_SET_ANONYMOUS = 0x1;
export const NFT_SET_MAP = 0x8;

export const NFPROTO: Readonly<Record<string, number>> = { inet: 1, ip: 2, ip6: 10 };

const align4 = (n: number): number => (n + 3) & ~3;

/** A netlink or libc call failed. */
export class NetlinkError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    where: string,
  ) {
    super(`${call} failed${where ? ` (${where})` : ''}: ${errnoName(errno)}`);
    this.name = 'NetlinkError';
  }
}

/** The thread did not return to its own network namespace: nothing may run on it any more. */
export class NamespaceEscapeError extends Error {
  constructor(message: string) {
    super(`${message}: the bench process's main thread may be left in another network namespace; stop it now`);
    this.name = 'NamespaceEscapeError';
  }
}

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

// ---- pure: encoding and parsing ----

/** One netlink message of a receive buffer. */
export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The payload after the nlmsghdr (a view of the receive buffer). */
  payload: Buffer;
}

/** A dump request: nlmsghdr, nfgenmsg, then string attributes (NUL-terminated, as the kernel's
 * nla_strcmp expects from nftables userspace). */
export function dumpRequest(msg: number, family: number, seq: number, attrs: ReadonlyArray<[number, string]> = []): Buffer {
  const attrBufs = attrs.map(([type, value]) => {
    const data = Buffer.from(`${value}\0`, 'utf8');
    const b = Buffer.alloc(align4(4 + data.length));
    b.writeUInt16LE(4 + data.length, 0);
    b.writeUInt16LE(type, 2);
    data.copy(b, 4);
    return b;
  });
  const body = Buffer.concat([Buffer.from([family, NFNETLINK_V0, 0, 0]), ...attrBufs]);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  hdr.writeUInt16LE((NFNL_SUBSYS_NFTABLES << 8) | msg, 4);
  hdr.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  hdr.writeUInt32LE(seq, 8);
  hdr.writeUInt32LE(0, 12); // nlmsg_pid 0: the kernel fills in the socket's port id
  return Buffer.concat([hdr, body]);
}

/** The messages of one received datagram (host byte order: little-endian on x86-64 and arm64). */
export function* messages(buf: Buffer, len = buf.length): Generator<NlMsg> {
  let off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const mlen = buf.readUInt32LE(off);
    if (mlen < NLMSG_HDRLEN || off + mlen > len) throw new Error(`netlink: malformed message length ${mlen} at offset ${off} of ${len}`);
    yield {
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + mlen),
    };
    off += align4(mlen);
  }
}

/** The attributes of an nftables message (after its 4-byte nfgenmsg), by type (the last one wins). */
export function attributes(payload: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 4;
  while (off + 4 <= payload.length) {
    const len = payload.readUInt16LE(off);
    if (len < 4 || off + len > payload.length) throw new Error(`netlink: malformed attribute length ${len} at offset ${off}`);
    out.set(payload.readUInt16LE(off + 2) & NLA_TYPE_MASK, payload.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

const str = (b: Buffer | undefined): string | undefined => {
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
};

/** A NEWCHAIN message of a chain dump: its table and name. */
export function chainOf(payload: Buffer): { table: string; name: string } {
  const a = attributes(payload);
  const table = str(a.get(NFTA_CHAIN_TABLE));
  const name = str(a.get(NFTA_CHAIN_NAME));
  if (table === undefined || name === undefined) throw new Error('netlink: a chain without NFTA_CHAIN_TABLE or NFTA_CHAIN_NAME');
  return { table, name };
}

/** A NEWSET message of a set dump: its table, name and flags (NFTA_SET_FLAGS, big-endian). */
export function setOf(payload: Buffer): { table: string; name: string; flags: number } {
  const a = attributes(payload);
  const table = str(a.get(NFTA_SET_TABLE));
  const name = str(a.get(NFTA_SET_NAME));
  const f = a.get(NFTA_SET_FLAGS);
  if (table === undefined || name === undefined) throw new Error('netlink: a set without NFTA_SET_TABLE or NFTA_SET_NAME');
  return { table, name, flags: f !== undefined && f.length >= 4 ? f.readUInt32BE(0) : 0 };
}

// ---- effects: libc through koffi ----

interface Libc {
  open: (path: string, flags: number) => number;
  close: (fd: number) => number;
  setns: (fd: number, nstype: number) => number;
  socket: (domain: number, type: number, protocol: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  send: (fd: number, buf: Buffer, len: number, flags: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
}

let libc: Libc | undefined;
function c(): Libc {
  if (libc) return libc;
  const so = koffi.load('libc.so.6');
  libc = {
    open: so.func('int open(const char *path, int flags)'),
    close: so.func('int close(int fd)'),
    setns: so.func('int setns(int fd, int nstype)'),
    socket: so.func('int socket(int domain, int type, int protocol)'),
    setsockopt: so.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)'),
    send: so.func('intptr_t send(int fd, const void *buf, size_t len, int flags)'),
    recv: so.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
  } as Libc;
  return libc;
}

const SELF_NET = '/proc/thread-self/ns/net';
let escaped: NamespaceEscapeError | undefined;

/** The namespace's inode as /proc/…/ns/net names it ("net:[4026531840]"). */
const nsLink = (): string => readlinkSync(SELF_NET);

/**
 * A netlink socket created inside /run/netns/NETNS; the calling thread is back in its own
 * namespace when this returns (checked), or it throws NamespaceEscapeError.
 */
export function netfilterSocketIn(netns: string): number {
  if (escaped) throw escaped;
  if (!/^[A-Za-z0-9_.-]+$/.test(netns)) throw new Error(`netlink: bad namespace name ${JSON.stringify(netns)}`);
  const path = `/run/netns/${netns}`;
  const lib = c();
  const before = nsLink();
  const want = `net:[${statSync(path).ino}]`;
  if (want === before) throw new Error(`netlink: ${path} is the bench process's own network namespace`);
  const target = lib.open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) throw new NetlinkError('open', koffi.errno(), path);
  const saved = lib.open(SELF_NET, O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    const e = koffi.errno();
    lib.close(target);
    throw new NetlinkError('open', e, SELF_NET);
  }
  let sock = -1;
  let failure: Error | undefined;
  try {
    if (lib.setns(target, CLONE_NEWNET) !== 0) throw new NetlinkError('setns', koffi.errno(), path);
    // From here until the setns back: synchronous calls only.
    try {
      const inside = nsLink();
      if (inside !== want) failure = new Error(`netlink: setns(${path}) left the thread in ${inside}, not ${want}`);
      else {
        sock = lib.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (sock < 0) failure = new NetlinkError('socket', koffi.errno(), `AF_NETLINK, NETLINK_NETFILTER in ${netns}`);
      }
    } finally {
      const back = lib.setns(saved, CLONE_NEWNET);
      const errno = koffi.errno();
      let after = '';
      try {
        after = nsLink();
      } catch {
        // reported below
      }
      if (back !== 0 || after !== before) {
        escaped = new NamespaceEscapeError(
          `netlink: returning from ${netns} failed (setns ${back === 0 ? 'ok' : errnoName(errno)}; thread in ${after || 'unknown'}, was ${before})`,
        );
        if (sock >= 0) lib.close(sock);
        process.stderr.write(`svcbench: FATAL: ${escaped.message}\n`);
        throw escaped;
      }
    }
  } finally {
    lib.close(target);
    lib.close(saved);
  }
  if (failure) throw failure;
  return sock;
}

export interface DumpStats {
  /** recv() calls that returned data. */
  datagrams: number;
  messages: number;
  bytes: number;
  /** Dumps started again because the table changed under them (NLM_F_DUMP_INTR) or ENOBUFS. */
  restarts: number;
}

const RECV_BYTES = 256 << 10; // the kernel's dump skbs are at most 32 KiB (netlink_dump)
const MAX_RESTARTS = 10;
const MSG_TRUNC = 0x20; // recv returns a datagram's real length even when it did not fit
let recvBuf: Buffer | undefined;
let seqNo = Math.floor(Date.now() / 1000) & 0xffffff;

class Restart extends Error {}

/**
 * Sends one dump request and hands every reply message of that request to `each`, until
 * NLMSG_DONE. NLMSG_ERROR with an error throws NetlinkError (the errno the kernel returned).
 */
export function dump(
  sock: number,
  msg: number,
  family: number,
  attrs: ReadonlyArray<[number, string]>,
  each: (m: NlMsg) => void,
  stats: DumpStats,
): void {
  const lib = c();
  recvBuf ??= Buffer.alloc(RECV_BYTES);
  const buf = recvBuf;
  for (let attempt = 0; ; attempt++) {
    const seq = (seqNo = (seqNo + 1) & 0xffffffff);
    const req = dumpRequest(msg, family, seq, attrs);
    const collected: NlMsg[] = [];
    try {
      if (lib.send(sock, req, req.length, 0) !== req.length) throw new NetlinkError('send', koffi.errno(), 'dump request');
      let done = false;
      let interrupted = false;
      while (!done) {
        const n = lib.recv(sock, buf, buf.length, MSG_TRUNC);
        if (n < 0) {
          const e = koffi.errno();
          if (e === constants.errno.EINTR) continue;
          if (e === constants.errno.ENOBUFS) throw new Restart();
          if (e === constants.errno.EAGAIN) throw new NetlinkError('recv', e, 'no reply from the kernel within 10 s');
          throw new NetlinkError('recv', e, 'dump');
        }
        if (n > buf.length) throw new Error(`netlink: a ${n}-byte datagram exceeds the ${buf.length}-byte receive buffer`);
        stats.datagrams++;
        stats.bytes += n;
        for (const m of messages(buf, n)) {
          if (m.seq !== seq) continue; // left over from an abandoned attempt
          if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (m.type === NLMSG_DONE) {
            const err = m.payload.length >= 4 ? m.payload.readInt32LE(0) : 0;
            if (err < 0) throw new NetlinkError('dump', -err, 'NLMSG_DONE');
            done = true;
            break;
          }
          if (m.type === NLMSG_ERROR) {
            const err = m.payload.readInt32LE(0);
            if (err === 0) continue; // an acknowledgement
            throw new NetlinkError('dump', -err, `message type ${msg}`);
          }
          if (m.type === NLMSG_OVERRUN) throw new Restart();
          if (m.type === NLMSG_NOOP) continue;
          stats.messages++;
          // The payload is a view of the reused receive buffer: copy what is kept.
          collected.push({ ...m, payload: Buffer.from(m.payload) });
        }
      }
      if (interrupted) throw new Restart();
    } catch (e) {
      if (e instanceof Restart && attempt < MAX_RESTARTS) {
        stats.restarts++;
        continue;
      }
      if (e instanceof Restart) throw new Error(`netlink: the dump was interrupted ${MAX_RESTARTS + 1} times (the table kept changing)`);
      throw e;
    }
    for (const m of collected) each(m);
    return;
  }
}

export interface NetlinkListing {
  chains: string[];
  sets: string[];
  stats: DumpStats;
}

/**
 * The table's chains (NFT_MSG_GETCHAIN dump of the family, kept by table) and named sets
 * (NFT_MSG_GETSET dump of the table, maps and anonymous sets left out), sorted, over one
 * netlink socket created in the node namespace and closed before returning. A missing table
 * lists as empty (the set dump answers ENOENT; kube-proxy treats that as knftables.IsNotFound).
 */
export function netlinkListTable(netns: string, where: { family: string; table: string }): NetlinkListing {
  const family = NFPROTO[where.family];
  if (family === undefined) throw new Error(`netlink: unknown family ${where.family}`);
  const sock = netfilterSocketIn(netns);
  const lib = c();
  const stats: DumpStats = { datagrams: 0, messages: 0, bytes: 0, restarts: 0 };
  try {
    const tv = Buffer.alloc(16); // struct timeval {long tv_sec; long tv_usec}
    tv.writeBigInt64LE(10n, 0);
    if (lib.setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, tv, tv.length) !== 0)
      throw new NetlinkError('setsockopt', koffi.errno(), 'SO_RCVTIMEO');
    const chains: string[] = [];
    dump(
      sock,
      NFT_MSG_GETCHAIN,
      family,
      [],
      (m) => {
        if (m.type !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN))
          throw new Error(`netlink: unexpected message type ${m.type} in a chain dump`);
        const ch = chainOf(m.payload);
        if (ch.table === where.table) chains.push(ch.name);
      },
      stats,
    );
    const sets: string[] = [];
    try {
      dump(
        sock,
        NFT_MSG_GETSET,
        family,
        [[NFTA_SET_TABLE, where.table]],
        (m) => {
          if (m.type !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSET))
            throw new Error(`netlink: unexpected message type ${m.type} in a set dump`);
          const s = setOf(m.payload);
          if (s.table === where.table && (s.flags & (NFT_SET_ANONYMOUS | NFT_SET_MAP)) === 0) sets.push(s.name);
        },
        stats,
      );
    } catch (e) {
      if (!(e instanceof NetlinkError && e.errno === constants.errno.ENOENT)) throw e;
    }
    return { chains: chains.sort(), sets: sets.sort(), stats };
  } finally {
    lib.close(sock);
  }
}
