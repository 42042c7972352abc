import { describe, expect, it } from 'vitest';
import { cidrContains, cidrSize, cidrsOverlap, formatIp, isIPv4, isIPv4Cidr, nthIp, parseCidr, parseIp } from './ipv4.js';

describe('ipv4', () => {
  it('parses and formats addresses', () => {
    expect(parseIp('10.244.0.1')).toBe(0x0af40001);
    expect(formatIp(0xc6120002)).toBe('198.18.0.2');
    expect(parseIp('256.1.1.1')).toBeUndefined();
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('01.2.3.4')).toBeUndefined();
    expect(parseIp('0.0.0.0')).toBe(0);
    expect(parseIp('255.255.255.255')).toBe(0xffffffff);
    for (const bad of ['', '1.2.3.4.', '.1.2.3', '1..2.3', '1.2.3.4 ', '1.2.3.1000', '1.2.3.a', '1.2.3.4/32'])
      expect(parseIp(bad)).toBeUndefined();
  });
  it('tells addresses and CIDRs (host bits allowed) apart from anything else', () => {
    expect(isIPv4('172.30.0.41')).toBe(true);
    expect(isIPv4('172.30.0.041')).toBe(false);
    expect(isIPv4Cidr('10.0.0.0/8')).toBe(true);
    expect(isIPv4Cidr('10.1.2.3/8')).toBe(true);
    expect(isIPv4Cidr('10.0.0.0/0')).toBe(true);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0/8']) expect(isIPv4Cidr(bad)).toBe(false);
  });
  it('parses CIDRs and rejects host bits', () => {
    expect(parseCidr('10.96.0.0/12')).toEqual({ base: 0x0a600000, prefix: 12 });
    expect(parseCidr('10.96.0.1/12')).toBeUndefined();
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0')).toBeUndefined();
  });
  it('computes sizes, membership and overlap', () => {
    const pods = parseCidr('10.244.0.0/16')!;
    const svcs = parseCidr('10.96.0.0/12')!;
    expect(cidrSize(pods)).toBe(65536);
    expect(cidrContains(svcs, parseIp('10.111.255.255')!)).toBe(true);
    expect(cidrContains(svcs, parseIp('10.112.0.0')!)).toBe(false);
    expect(cidrsOverlap(pods, svcs)).toBe(false);
    expect(cidrsOverlap(parseCidr('10.0.0.0/8')!, svcs)).toBe(true);
    expect(nthIp(pods, 2)).toBe('10.244.0.2');
    expect(() => nthIp(parseCidr('198.18.0.0/30')!, 4)).toThrow(RangeError);
  });
});
