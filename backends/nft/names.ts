// Chain and set names of kube-proxy's nftables proxier.
//
// Source: kubernetes/kubernetes pkg/proxy/nftables/proxier.go, hashAndTruncate(),
// servicePortChainNameBase() and servicePortEndpointChainNameBase() (≈L757–830), and
// the chain name prefixes next to them. Checked against the fixtures quoted in
// ../shared/reference/kube-proxy-rules.md §2: service-ULMVA6XW-ns1/svc1/tcp/p80 and
// endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80.

import { hash } from 'node:crypto';
import type { Service, ServicePort } from '../../src/model/types.js';

/** knftables.NameLengthMax: NFT_NAME_MAXLEN, the kernel's limit for table/chain/set names. */
export const NAME_LENGTH_MAX = 256;
/** chainNamePrefixLengthMax: room kube-proxy reserves for "service-", "endpoint-", … */
export const CHAIN_NAME_PREFIX_LENGTH_MAX = 16;
/** chainNameBaseLengthMax = knftables.NameLengthMax - chainNamePrefixLengthMax = 240. */
export const CHAIN_NAME_BASE_LENGTH_MAX = NAME_LENGTH_MAX - CHAIN_NAME_PREFIX_LENGTH_MAX;

export const PREFIX = {
  service: 'service-', // servicePortPolicyClusterChainNamePrefix
  local: 'local-', // servicePortPolicyLocalChainNamePrefix
  external: 'external-', // serviceExternalChainNamePrefix
  firewall: 'firewall-', // servicePortFirewallChainNamePrefix
  endpoint: 'endpoint-', // servicePortEndpointChainNamePrefix
  affinity: 'affinity-', // servicePortEndpointAffinityNamePrefix
} as const;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with '=' padding, as Go's base32.StdEncoding.EncodeToString. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | (bytes[i] as number)) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

/** The first 8 base32 characters of sha256(name): 40 bits need exactly the first 5 bytes. */
function hashPrefix(name: string): string {
  const digest = hash('sha256', name, 'buffer');
  return base32(digest.subarray(0, 5));
}

/**
 * kube-proxy's hashAndTruncate: `base32(sha256(name))[:8] + "-" + name`, and when that is
 * longer than chainNameBaseLengthMax (240) it is cut to 237 characters plus "...".
 * (The hash keeps truncated names unique; the longest prefix, "endpoint-", keeps the full
 * name at 249 characters, within nft's 255.) Only endpoint names with IPv6 addresses and
 * near-maximal namespace/service/port names can ever reach the limit.
 */
export function hashAndTruncate(name: string): string {
  const out = `${hashPrefix(name)}-${name}`;
  return out.length > CHAIN_NAME_BASE_LENGTH_MAX ? `${out.slice(0, CHAIN_NAME_BASE_LENGTH_MAX - 3)}...` : out;
}

// Names are pure functions of their input, and a 10,000-service render needs ~40,000 of
// them; sha256 through node:crypto costs ~2.5 µs per call on the CI machines. The finished
// names are memoised (bounded: dropped wholesale when large), which also hands out the same
// string objects every time, so their hashes for Set/Map lookups are computed only once.
const MEMO_MAX = 250_000;
const serviceMemo = new Map<string, ServicePortChainNames>();
const endpointMemo = new Map<string, EndpointNames>();

function remember<T>(memo: Map<string, T>, key: string, value: T): T {
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, value);
  return value;
}

/** Lower-case protocol as kube-proxy puts it in names and rules ("tcp", "udp"). */
export const protoLower = (p: ServicePort['protocol']): 'tcp' | 'udp' => (p === 'TCP' ? 'tcp' : 'udp');

/** servicePortChainNameBase: "HASH-ns/svc/proto/portName" (portName may be ''). */
export function servicePortChainNameBase(namespace: string, name: string, protocol: string, portName: string): string {
  return hashAndTruncate(`${namespace}/${name}/${protocol}/${portName}`);
}

/**
 * servicePortEndpointChainNameBase: "HASH-ns/svc/proto/portName__IP/port". Colons of an
 * IPv6 address become dots, as kube-proxy does (colons are not allowed in chain names).
 */
export function servicePortEndpointChainNameBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
  endpointIP: string,
  endpointPort: number,
): string {
  const ip = endpointIP.includes(':') ? endpointIP.replaceAll(':', '.') : endpointIP;
  return hashAndTruncate(`${namespace}/${name}/${protocol}/${portName}__${ip}/${endpointPort}`);
}

/** Shared, memoised objects: do not mutate. */
export interface ServicePortChainNames {
  /** clusterPolicyChainName */
  readonly service: string;
  /** localPolicyChainName */
  readonly local: string;
  /** externalChainName */
  readonly external: string;
  /** firewallChainName */
  readonly firewall: string;
}

/** The four per-service-port chain names; they share one hash (newServiceInfo). */
export function serviceChainNames(
  svc: Pick<Service, 'namespace' | 'name'>,
  port: Pick<ServicePort, 'name' | 'protocol'>,
): ServicePortChainNames {
  const key = `${svc.namespace}/${svc.name}/${protoLower(port.protocol)}/${port.name}`;
  const hit = serviceMemo.get(key);
  if (hit !== undefined) return hit;
  const base = hashAndTruncate(key);
  return remember(serviceMemo, key, {
    service: PREFIX.service + base,
    local: PREFIX.local + base,
    external: PREFIX.external + base,
    firewall: PREFIX.firewall + base,
  });
}

/** Shared, memoised objects: do not mutate. */
export interface EndpointNames {
  /** endpointInfo.chainName */
  readonly chain: string;
  /** endpointInfo.affinitySetName */
  readonly affinitySet: string;
}

/** Endpoint chain and affinity set names (newEndpointInfo); the port is the endpoint's port. */
export function endpointNames(
  svc: Pick<Service, 'namespace' | 'name'>,
  port: Pick<ServicePort, 'name' | 'protocol'>,
  endpointIP: string,
  endpointPort: number,
): EndpointNames {
  const ip = endpointIP.includes(':') ? endpointIP.replaceAll(':', '.') : endpointIP;
  const key = `${svc.namespace}/${svc.name}/${protoLower(port.protocol)}/${port.name}__${ip}/${endpointPort}`;
  const hit = endpointMemo.get(key);
  if (hit !== undefined) return hit;
  const base = hashAndTruncate(key);
  return remember(endpointMemo, key, { chain: PREFIX.endpoint + base, affinitySet: PREFIX.affinity + base });
}

/**
 * ServicePortName.String(): "ns/name:portName", or "ns/name" for an unnamed port. Used in
 * element comments ("ns1/svc1:p80").
 */
export const servicePortNameString = (svc: Pick<Service, 'namespace' | 'name'>, port: Pick<ServicePort, 'name'>): string =>
  port.name === '' ? `${svc.namespace}/${svc.name}` : `${svc.namespace}/${svc.name}:${port.name}`;

/**
 * isServiceChainName: per-service chains always contain a "/", none of the fixed chains do
 * (that is how kube-proxy finds stale service chains).
 */
export const isServiceChainName = (chain: string): boolean => chain.includes('/');

/** isAffinitySetName */
export const isAffinitySetName = (set: string): boolean => set.startsWith(PREFIX.affinity);
