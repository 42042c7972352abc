// The netlink encoding and parsing, on byte layouts built by hand from the kernel's uapi
// (netlink.h, nfnetlink.h, nf_tables.h). The dumps themselves run in test/e2e/nft-listing.test.ts.
import { describe, expect, it } from 'vitest';
import {
  attributes,
  chainOf,
  dumpRequest,
  messages,
  NFNL_SUBSYS_NFTABLES,
  NFT_MSG_GETSET,
  NFT_MSG_NEWCHAIN,
  NFT_SET_ANONYMOUS,
  NFT_SET_MAP,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_TABLE,
  NFTA_SET_FLAGS,
  NFTA_SET_NAME,
  NFTA_SET_TABLE,
  NLM_F_MULTI,
  NLMSG_DONE,
  setOf,
} from './netlink.js';

function attr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc((4 + data.length + 3) & ~3);
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}
const strAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`));
const u32be = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

function msg(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  return Buffer.concat([h, body, Buffer.alloc(((body.length + 3) & ~3) - body.length)]);
}
const nfgen = Buffer.from([2, 0, 0, 0]);

describe('dumpRequest', () => {
  it('is nlmsghdr + nfgenmsg + NUL-terminated, 4-aligned string attributes', () => {
    const req = dumpRequest(NFT_MSG_GETSET, 2, 7, [[NFTA_SET_TABLE, 'kube-proxy']]);
    // 16 header + 4 nfgenmsg + attribute (4 + 11 bytes, padded to 16)
    expect(req.length).toBe(36);
    expect(req.readUInt32LE(0)).toBe(36);
    expect(req.readUInt16LE(4)).toBe((10 << 8) | 10); // NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETSET
    expect(req.readUInt16LE(6)).toBe(0x301); // NLM_F_REQUEST | NLM_F_DUMP
    expect(req.readUInt32LE(8)).toBe(7);
    expect([...req.subarray(16, 20)]).toEqual([2, 0, 0, 0]); // NFPROTO_IPV4, NFNETLINK_V0, res_id 0
    expect(req.readUInt16LE(20)).toBe(15);
    expect(req.readUInt16LE(22)).toBe(NFTA_SET_TABLE);
    expect(req.toString('utf8', 24, 35)).toBe('kube-proxy\0');
  });
});

describe('messages and attributes', () => {
  const chainType = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN;
  const dgram = Buffer.concat([
    msg(chainType, NLM_F_MULTI, 9, Buffer.concat([nfgen, strAttr(NFTA_CHAIN_TABLE, 'kube-proxy'), strAttr(NFTA_CHAIN_NAME, 'services')])),
    msg(
      chainType,
      NLM_F_MULTI,
      9,
      Buffer.concat([nfgen, strAttr(NFTA_CHAIN_TABLE, 'other'), strAttr(NFTA_CHAIN_NAME, 'endpoint-ABCDEFGH-ns/svc/tcp/p__10.0.0.1/80')]),
    ),
    msg(NLMSG_DONE, NLM_F_MULTI, 9, Buffer.alloc(4)),
  ]);

  it('walks a multi-part datagram message by message', () => {
    const ms = [...messages(dgram)];
    expect(ms.map((m) => m.type)).toEqual([chainType, chainType, NLMSG_DONE]);
    expect(ms.every((m) => m.seq === 9 && (m.flags & NLM_F_MULTI) !== 0)).toBe(true);
    expect(chainOf(ms[0]!.payload)).toEqual({ table: 'kube-proxy', name: 'services' });
    expect(chainOf(ms[1]!.payload)).toEqual({ table: 'other', name: 'endpoint-ABCDEFGH-ns/svc/tcp/p__10.0.0.1/80' });
  });

  it('stops at the received length and rejects a truncated message', () => {
    expect([...messages(dgram, 0)]).toEqual([]);
    expect(() => [...messages(dgram, 20)]).toThrow(/malformed message length/);
  });

  it('masks NLA_F_NESTED and NLA_F_NET_BYTEORDER off attribute types', () => {
    const a = attributes(Buffer.concat([nfgen, attr(NFTA_SET_FLAGS | 0x4000, u32be(1))]));
    expect(a.get(NFTA_SET_FLAGS)?.readUInt32BE(0)).toBe(1);
  });

  it('reads a set: name, table and big-endian flags', () => {
    const body = Buffer.concat([
      nfgen,
      strAttr(NFTA_SET_TABLE, 'kube-proxy'),
      strAttr(NFTA_SET_NAME, '__map0'),
      attr(NFTA_SET_FLAGS, u32be(NFT_SET_ANONYMOUS | NFT_SET_MAP | 0x2)),
    ]);
    expect(setOf(body)).toEqual({ table: 'kube-proxy', name: '__map0', flags: 0xb });
    expect(() => setOf(nfgen)).toThrow(/without NFTA_SET_TABLE/);
  });
});
