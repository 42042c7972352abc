// The byte layout of svc_map's key and value, mirroring struct svc_key and struct svc_val in
// bpf/maps.h (keep both in step). Addresses and ports are in network byte order (as the kernel
// hands them to the programs), slot, count and affinity in host order (x86-64: little-endian).
import { formatIp, parseIp } from '../../src/model/ipv4.js';

export const KEY_SIZE = 12;
export const VALUE_SIZE = 12;

export const PROTO = { TCP: 6, UDP: 17 } as const;

/** One svc_map entry: slot 0 is the frontend's head (count, affinity), slots 1..count endpoints. */
export interface SvcEntry {
  addr: string;
  port: number;
  proto: number;
  slot: number;
  value: { addr: string; port: number; count: number; affinity: number };
}

/** An address of a (validated) cluster state as a number; src/model/ipv4.ts parses it. */
export function ipToInt(ip: string): number {
  const n = parseIp(ip);
  if (n === undefined) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

export const intToIp = formatIp;

// Byte by byte: the full sync writes some 44,000 of each at 10,000 services, and plain index
// stores skip Buffer's per-call range checks.
/** The __be32 address and __be16 port both structs start with. */
function writeAddrPort(buf: Buffer, at: number, addr: number, port: number): void {
  buf[at] = addr >>> 24;
  buf[at + 1] = addr >>> 16;
  buf[at + 2] = addr >>> 8;
  buf[at + 3] = addr;
  buf[at + 4] = port >>> 8;
  buf[at + 5] = port;
}

export function writeKey(buf: Buffer, at: number, addr: number, port: number, proto: number, slot: number): void {
  writeAddrPort(buf, at, addr, port);
  buf[at + 6] = slot;
  buf[at + 7] = slot >>> 8;
  buf[at + 8] = proto;
  buf[at + 9] = 0;
  buf[at + 10] = 0;
  buf[at + 11] = 0;
}

export function writeValue(buf: Buffer, at: number, addr: number, port: number, count: number, affinity: number): void {
  writeAddrPort(buf, at, addr, port);
  buf[at + 6] = count;
  buf[at + 7] = count >>> 8;
  buf[at + 8] = affinity;
  buf[at + 9] = affinity >>> 8;
  buf[at + 10] = affinity >>> 16;
  buf[at + 11] = affinity >>> 24;
}

export function readEntry(keys: Buffer, values: Buffer, i: number): SvcEntry {
  const k = i * KEY_SIZE;
  const v = i * VALUE_SIZE;
  return {
    addr: intToIp(keys.readUInt32BE(k)),
    port: keys.readUInt16BE(k + 4),
    slot: keys.readUInt16LE(k + 6),
    proto: keys.readUInt8(k + 8),
    value: {
      addr: intToIp(values.readUInt32BE(v)),
      port: values.readUInt16BE(v + 4),
      count: values.readUInt16LE(v + 6),
      affinity: values.readUInt32LE(v + 8),
    },
  };
}

const protoName = (p: number): string => (p === PROTO.TCP ? 'tcp' : p === PROTO.UDP ? 'udp' : `proto ${p}`);

/** How people read an entry: "10.96.0.10:53/udp slot 1 → 10.244.0.2:5353". */
export function describeKey(e: Pick<SvcEntry, 'addr' | 'port' | 'proto' | 'slot'>): string {
  return `${e.addr}:${e.port}/${protoName(e.proto)} slot ${e.slot}`;
}

export function describeValue(e: SvcEntry): string {
  return e.slot === 0
    ? `${e.value.count} endpoints${e.value.affinity ? `, ClientIP affinity ${e.value.affinity} s` : ''}`
    : `${e.value.addr}:${e.value.port}`;
}

export function encodeKeys(entries: readonly Pick<SvcEntry, 'addr' | 'port' | 'proto' | 'slot'>[]): Buffer {
  const keys = Buffer.allocUnsafe(entries.length * KEY_SIZE);
  entries.forEach((e, i) => writeKey(keys, i * KEY_SIZE, ipToInt(e.addr), e.port, e.proto, e.slot));
  return keys;
}
