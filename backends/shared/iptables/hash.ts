// kube-proxy's iptables chain names (pkg/proxy/iptables/proxier.go ≈L576–657).
//
//   portProtoHash(spn, proto)         = base32.StdEncoding(sha256(spn + proto))[:16]
//   KUBE-SVC-/SVL-/EXT-/FW- + portProtoHash(spn, proto)
//   KUBE-SEP- + base32(sha256(spn + proto + "ip:port"))[:16]
//
// spn is ServicePortName.String(): "ns/name:portName", or "ns/name" for an unnamed port
// (pkg/proxy/types.go fmtPortName); proto is the lower-cased protocol ("tcp").
import * as crypto from 'node:crypto';
import type { Service, ServicePort } from '../../../src/model/types.js';

export const SVC_PREFIX = 'KUBE-SVC-';
export const SVL_PREFIX = 'KUBE-SVL-';
export const EXT_PREFIX = 'KUBE-EXT-';
export const FW_PREFIX = 'KUBE-FW-';
export const SEP_PREFIX = 'KUBE-SEP-';

const SERVICE_CHAIN_PREFIXES = [SVC_PREFIX, SVL_PREFIX, SEP_PREFIX, FW_PREFIX, EXT_PREFIX] as const;

const B32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32 with '=' padding, i.e. Go's base32.StdEncoding.EncodeToString. */
export function base32Encode(bytes: Uint8Array): string {
  const out: string[] = [];
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out.push(B32_ALPHABET[(buffer >>> (bits - 5)) & 31]!);
      bits -= 5;
    }
  }
  if (bits > 0) out.push(B32_ALPHABET[(buffer << (5 - bits)) & 31]!);
  while (out.length % 8 !== 0) out.push('=');
  return out.join('');
}

// crypto.hash (Node ≥ 20.12) is the one-shot form, about twice as fast as createHash for short
// inputs; rendering 10,000 services hashes some 40,000 names.
const sha256: (s: string) => Buffer =
  typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'buffer') : (s) => crypto.createHash('sha256').update(s).digest();

// kube-proxy computes these names once per service port and endpoint (newServiceInfo,
// newEndpointInfo), not on every sync; a memo gives renders the same cost model. It is two-level,
// per service port (spn + proto) and then per endpoint string, so that a render looks up one
// long key per service port and only short "ip:port" keys per endpoint. Bounded so a long run
// over many scale points cannot grow it without limit.
const MEMO_LIMIT = 500_000;
let memoSize = 0;
const portMemo = new Map<string, PortNames>();

/** The memoised names of one service port: its four chains and its endpoints' SEP chains. */
export interface PortNames {
  readonly chains: ServicePortChains;
  /** KUBE-SEP-* name of an endpoint of this port; `endpoint` is endpointString(). */
  sep(endpoint: string): string;
}

class PortNameMemo implements PortNames {
  readonly chains: ServicePortChains;
  private readonly seps = new Map<string, string>();
  constructor(private readonly key: string) {
    const h = computeHash16(key);
    this.chains = { svc: SVC_PREFIX + h, svl: SVL_PREFIX + h, ext: EXT_PREFIX + h, fw: FW_PREFIX + h };
  }
  sep(endpoint: string): string {
    let name = this.seps.get(endpoint);
    if (name === undefined) {
      name = SEP_PREFIX + computeHash16(this.key + endpoint);
      this.seps.set(endpoint, name);
      memoSize++;
    }
    return name;
  }
}

/** The names of service port `servicePortName` (`protocol` lower case), memoised. */
export function portNames(servicePortName: string, protocol: string): PortNames {
  const key = servicePortName + protocol;
  let p = portMemo.get(key);
  if (p === undefined) {
    if (memoSize >= MEMO_LIMIT) {
      portMemo.clear();
      memoSize = 0;
    }
    p = new PortNameMemo(key);
    portMemo.set(key, p);
    memoSize++;
  }
  return p;
}

/**
 * base32(sha256(s))[:16]. 16 base32 characters are exactly 80 bits, so only the first 10 digest
 * bytes matter; encode just those (no padding is involved).
 */
function computeHash16(s: string): string {
  const d = sha256(s);
  let out = '';
  // Two 5-byte groups, each giving 8 characters.
  for (let g = 0; g < 10; g += 5) {
    // 40 bits do not fit a 32-bit int: split into the high 8 and low 32 bits.
    const hi = d[g]!;
    const lo = ((d[g + 1]! << 24) | (d[g + 2]! << 16) | (d[g + 3]! << 8) | d[g + 4]!) >>> 0;
    out +=
      B32_ALPHABET[hi >>> 3]! +
      B32_ALPHABET[((hi & 7) << 2) | (lo >>> 30)]! +
      B32_ALPHABET[(lo >>> 25) & 31]! +
      B32_ALPHABET[(lo >>> 20) & 31]! +
      B32_ALPHABET[(lo >>> 15) & 31]! +
      B32_ALPHABET[(lo >>> 10) & 31]! +
      B32_ALPHABET[(lo >>> 5) & 31]! +
      B32_ALPHABET[lo & 31]!;
  }
  return out;
}

/** kube-proxy portProtoHash (≈L590). `protocol` must already be lower case. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return portNames(servicePortName, protocol).chains.svc.slice(SVC_PREFIX.length);
}

/** ServicePortName.String(): "ns/name:port", or "ns/name" when the port is unnamed. */
export function servicePortName(svc: Pick<Service, 'namespace' | 'name'>, port: Pick<ServicePort, 'name'>): string {
  const base = `${svc.namespace}/${svc.name}`;
  return port.name === '' ? base : `${base}:${port.name}`;
}

/** Endpoint.String(): net.JoinHostPort(ip, port), so IPv6 gets brackets. */
export function endpointString(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The four per-service-port chains, which share one hash (≈L600–640). */
export interface ServicePortChains {
  /** KUBE-SVC-*: endpoints for Cluster traffic policy. */
  svc: string;
  /** KUBE-SVL-*: local endpoints for Local traffic policy. */
  svl: string;
  /** KUBE-EXT-*: entry point for external (NodePort/LB/external IP) traffic. */
  ext: string;
  /** KUBE-FW-*: loadBalancerSourceRanges filtering (never used by svcbench: no LB). */
  fw: string;
}

export function serviceChainNames(servicePortName: string, protocol: string): ServicePortChains {
  return { ...portNames(servicePortName, protocol).chains };
}

/** KUBE-SEP-* name (servicePortEndpointChainName ≈L650); `endpoint` is endpointString(). */
export function endpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return portNames(servicePortName, protocol).sep(endpoint);
}

/** isServiceChainName (≈L660): the per-service chains kube-proxy garbage-collects. */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
