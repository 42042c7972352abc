import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base32Encode,
  endpointChainName,
  endpointString,
  isServiceChainName,
  portProtoHash,
  serviceChainNames,
  servicePortName,
} from './hash.js';

describe('base32Encode (RFC 4648, Go base32.StdEncoding)', () => {
  it('matches the RFC 4648 §10 test vectors', () => {
    const enc = (s: string): string => base32Encode(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('MY======');
    expect(enc('fo')).toBe('MZXQ====');
    expect(enc('foo')).toBe('MZXW6===');
    expect(enc('foob')).toBe('MZXW6YQ=');
    expect(enc('fooba')).toBe('MZXW6YTB');
    expect(enc('foobar')).toBe('MZXW6YTBOI======');
  });

  it('agrees with the fast 16-character path used for chain names', () => {
    for (const s of ['ns1/svc1:p80tcp', 'x', 'ns/a-very-long-service-name:https-alt-port-namesctp10.1.2.3:8443']) {
      const full = base32Encode(createHash('sha256').update(s).digest());
      expect(portProtoHash(s, '')).toBe(full.slice(0, 16));
    }
  });
});

describe('kube-proxy chain names (proxier.go ≈L576–657)', () => {
  // Hashes quoted in the reference (§1 (a), (e), (f)) and TestOverallIPTablesRules.
  it('reproduces the KUBE-SVC/EXT names of the fixtures', () => {
    expect(serviceChainNames('ns1/svc1:p80', 'tcp').svc).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(serviceChainNames('ns2/svc2:p80', 'tcp').ext).toBe('KUBE-EXT-GNZBNJ2PO5MGZ6GT');
    expect(serviceChainNames('ns3/svc3:p80', 'tcp').ext).toBe('KUBE-EXT-X27LE4BHSL4DOUIK');
    expect(serviceChainNames('ns5/svc5:p80', 'tcp').svc).toBe('KUBE-SVC-NUKIZ6OKUXPJNT4C');
    // The reference writes this one as "ns2/svc2:p8080"; the protocol is appended as always.
    expect(portProtoHash('ns2/svc2:p8080', 'tcp')).toBe('2VJB64SDSIJUP5T6');
  });

  it('shares one hash across SVC/SVL/EXT/FW', () => {
    expect(serviceChainNames('ns4/svc4:p80', 'tcp')).toEqual({
      svc: 'KUBE-SVC-4SW47YFZTEDKD3PK',
      svl: 'KUBE-SVL-4SW47YFZTEDKD3PK',
      ext: 'KUBE-EXT-4SW47YFZTEDKD3PK',
      fw: 'KUBE-FW-4SW47YFZTEDKD3PK',
    });
  });

  it('reproduces the KUBE-SEP names of the fixtures', () => {
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.0.1.1:80')).toBe('KUBE-SEP-SNQ3ZNILQDEJNDQO');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.2:80')).toBe('KUBE-SEP-LXVODXWDISEETFEF');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.3:80')).toBe('KUBE-SEP-ICDUIKC33SFI6ZPR');
    expect(endpointChainName('ns5/svc5:p80', 'tcp', '10.180.0.3:80')).toBe('KUBE-SEP-I77PXRDZVX7PMWMN');
  });

  it('hashes are stable when memoised', () => {
    const a = endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80');
    expect(endpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80')).toBe(a);
  });

  it('formats ServicePortName and Endpoint strings as kube-proxy does', () => {
    expect(servicePortName({ namespace: 'ns1', name: 'svc1' }, { name: 'p80' })).toBe('ns1/svc1:p80');
    expect(servicePortName({ namespace: 'ns1', name: 'svc1' }, { name: '' })).toBe('ns1/svc1');
    expect(endpointString('10.0.1.1', 80)).toBe('10.0.1.1:80');
    expect(endpointString('fd00::1', 80)).toBe('[fd00::1]:80');
  });

  it('recognises the per-service chains that get garbage-collected', () => {
    for (const c of ['KUBE-SVC-X', 'KUBE-SVL-X', 'KUBE-EXT-X', 'KUBE-FW-X', 'KUBE-SEP-X']) expect(isServiceChainName(c)).toBe(true);
    for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-MARK-MASQ', 'KUBE-FORWARD']) expect(isServiceChainName(c)).toBe(false);
  });
});
