import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHAIN_NAME_BASE_LENGTH_MAX,
  base32,
  endpointNames,
  hashAndTruncate,
  isAffinitySetName,
  isServiceChainName,
  serviceChainNames,
  servicePortEndpointChainNameBase,
  servicePortNameString,
} from './names.js';

const svc = (namespace: string, name: string) => ({ namespace, name });
const tcp = (name: string) => ({ name, protocol: 'TCP' as const });

describe('base32', () => {
  it('matches the RFC 4648 §10 test vectors', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'MY======'],
      ['fo', 'MZXQ===='],
      ['foo', 'MZXW6==='],
      ['foob', 'MZXW6YQ='],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI======'],
    ];
    for (const [input, want] of vectors) expect(base32(Buffer.from(input))).toBe(want);
  });

  it('encodes a whole sha256 digest to 56 characters (52 + padding), as Go does', () => {
    const digest = createHash('sha256').update('ns1/svc1/tcp/p80').digest();
    const enc = base32(digest);
    expect(enc).toHaveLength(56);
    expect(enc.endsWith('====')).toBe(true);
    expect(enc.slice(0, 8)).toBe('ULMVA6XW');
  });
});

describe('kube-proxy nftables chain names', () => {
  it('reproduces the reference fixtures (kube-proxy-rules.md §2)', () => {
    expect(serviceChainNames(svc('ns1', 'svc1'), tcp('p80')).service).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
    expect(endpointNames(svc('ns1', 'svc1'), tcp('p80'), '10.180.0.1', 80).chain).toBe('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    expect(endpointNames(svc('ns1', 'svc1'), tcp('p80'), '10.180.0.2', 80).chain).toBe('endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80');
    expect(endpointNames(svc('ns1', 'svc1'), tcp('p80'), '10.180.0.3', 80).chain).toBe('endpoint-WUHIZN2H-ns1/svc1/tcp/p80__10.180.0.3/80');
  });

  it("reproduces names from kube-proxy's TestOverallNFTablesRules", () => {
    // pkg/proxy/nftables/proxier_test.go
    expect(serviceChainNames(svc('ns2', 'svc2'), tcp('p80'))).toEqual({
      service: 'service-42NFTM6N-ns2/svc2/tcp/p80',
      local: 'local-42NFTM6N-ns2/svc2/tcp/p80',
      external: 'external-42NFTM6N-ns2/svc2/tcp/p80',
      firewall: 'firewall-42NFTM6N-ns2/svc2/tcp/p80',
    });
    expect(endpointNames(svc('ns2', 'svc2'), tcp('p80'), '10.180.0.2', 80).chain).toBe('endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80');
    expect(serviceChainNames(svc('ns3', 'svc3'), tcp('p80')).external).toBe('external-4AT6LBPK-ns3/svc3/tcp/p80');
    expect(endpointNames(svc('ns3', 'svc3'), tcp('p80'), '10.180.0.3', 80).chain).toBe('endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80');
    expect(serviceChainNames(svc('ns4', 'svc4'), tcp('p80')).service).toBe('service-LAUZTJTB-ns4/svc4/tcp/p80');
    expect(endpointNames(svc('ns4', 'svc4'), tcp('p80'), '10.180.0.4', 80).chain).toBe('endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80');
    expect(endpointNames(svc('ns4', 'svc4'), tcp('p80'), '10.180.0.5', 80).chain).toBe('endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80');
    expect(serviceChainNames(svc('ns5', 'svc5'), tcp('p80')).firewall).toBe('firewall-HVFWP5L3-ns5/svc5/tcp/p80');
    expect(endpointNames(svc('ns5', 'svc5'), tcp('p80'), '10.180.0.3', 80)).toEqual({
      chain: 'endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
      affinitySet: 'affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80',
    });
  });

  it('keeps an empty port name as an empty path segment', () => {
    const names = serviceChainNames(svc('ns4', 'svc4'), { name: '', protocol: 'UDP' });
    expect(names.service).toMatch(/^service-[A-Z2-7]{8}-ns4\/svc4\/udp\/$/);
  });

  it('turns the colons of an IPv6 endpoint into dots', () => {
    expect(servicePortEndpointChainNameBase('ns1', 'svc1', 'tcp', 'p80', 'fd00:10::1', 80)).toMatch(
      /^[A-Z2-7]{8}-ns1\/svc1\/tcp\/p80__fd00\.10\.\.1\/80$/,
    );
  });

  it('truncates like hashAndTruncate: 237 characters + "..." with the hash of the full name', () => {
    const label = (c: string) => c.repeat(63);
    const name = `${label('a')}/${label('b')}/tcp/${label('c')}__fd00.1111.2222.3333.4444.5555.6666.7777/65535`;
    const out = hashAndTruncate(name);
    expect(out).toHaveLength(CHAIN_NAME_BASE_LENGTH_MAX);
    expect(out.endsWith('...')).toBe(true);
    expect(out.slice(0, 8)).toBe(base32(createHash('sha256').update(name).digest()).slice(0, 8));
    expect(out.slice(9, 237)).toBe(name.slice(0, 228));
    // The longest prefix still fits nft's 255-character names.
    expect(`endpoint-${out}`.length).toBeLessThanOrEqual(255);
    // Names at the limit are kept whole.
    const exact = 'x'.repeat(CHAIN_NAME_BASE_LENGTH_MAX - 9);
    expect(hashAndTruncate(exact)).toHaveLength(CHAIN_NAME_BASE_LENGTH_MAX);
    expect(hashAndTruncate(exact).endsWith('x')).toBe(true);
  });

  it('formats ServicePortName.String() and classifies names as kube-proxy does', () => {
    expect(servicePortNameString(svc('ns1', 'svc1'), { name: 'p80' })).toBe('ns1/svc1:p80');
    expect(servicePortNameString(svc('ns1', 'svc1'), { name: '' })).toBe('ns1/svc1');
    expect(isServiceChainName('service-ULMVA6XW-ns1/svc1/tcp/p80')).toBe(true);
    expect(isServiceChainName('services')).toBe(false);
    expect(isAffinitySetName('affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80')).toBe(true);
    expect(isAffinitySetName('cluster-ips')).toBe(false);
  });
});
