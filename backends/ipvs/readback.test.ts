import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cfg, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import { diff, parseAddresses, parseInstalled, parseIpsetSave, parseIpvsadmSave, ReadbackParseError, type Installed } from './readback.js';
import { renderFull, renderPartial, SYSCTLS, vsKey } from './render.js';

// testdata/: what `ipvsadm -S -n`, `ipset save`, `ip -o -4 addr show dev kube-ipvs0` and
// `iptables-nft-save` printed in Debian's 6.1 kernel (guest) after this backend applied smallState
// (full sync) and then smallStateNext (partial sync) in a throwaway namespace.
const read = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const SYSCTL_TEXT = SYSCTLS.map(([k, v]) => `${k} = ${v}`).join('\n');
const installed = (step: 'small-full' | 'small-next'): Installed =>
  parseInstalled({
    ipvsadm: read(`${step}.ipvsadm.txt`),
    ipset: read(`${step}.ipset.txt`),
    addresses: read(`${step}.addr.txt`),
    iptables: read(`${step}.iptables-nft.txt`),
    sysctls: SYSCTL_TEXT,
  });

describe('parsers', () => {
  it('parses ipvsadm -S -n: services, persistence, masquerading real servers', () => {
    const vs = parseIpvsadmSave(read('small-full.ipvsadm.txt'));
    expect(vs.size).toBe(7);
    const sticky = vs.get(vsKey('tcp', '172.30.0.42', 80))!;
    expect(sticky).toMatchObject({ scheduler: 'rr', persistent: 10800 });
    expect([...sticky.reals]).toEqual(['10.180.0.3:8080', '10.180.0.4:8080']);
    expect(vs.get(vsKey('udp', '172.30.0.44', 53))!.reals.size).toBe(2);
    expect(vs.get(vsKey('tcp', '172.30.0.45', 80))!.reals.size).toBe(0);
  });

  it('keeps a real server forwarded otherwise, or weighted otherwise, distinct', () => {
    const vs = parseIpvsadmSave(
      '-A -t 1.2.3.4:80 -s rr\n-a -t 1.2.3.4:80 -r 10.0.0.1:80 -g -w 1\n-a -t 1.2.3.4:80 -r 10.0.0.2:80 -m -w 0\n',
    );
    expect([...vs.get(vsKey('tcp', '1.2.3.4', 80))!.reals]).toEqual(['10.0.0.1:80 -g -w 1', '10.0.0.2:80 -m -w 0']);
  });

  it('rejects what it does not understand', () => {
    expect(() => parseIpvsadmSave('-A -s 1.2.3.4:80 -s rr')).toThrow(ReadbackParseError);
    expect(() => parseIpvsadmSave('-a -t 1.2.3.4:80 -r 10.0.0.1:80 -m -w 1')).toThrow(/before its service/);
    expect(() => parseIpsetSave('add KUBE-X 1')).toThrow(/undeclared set/);
  });

  it('parses ipset save with its types and entries', () => {
    const sets = parseIpsetSave(read('small-full.ipset.txt'));
    expect(sets.size).toBe(17);
    expect(sets.get('KUBE-LOOP-BACK')).toEqual({ type: 'hash:ip,port,ip', entries: new Set(['10.180.0.3,tcp:8080,10.180.0.3']) });
    expect(sets.get('KUBE-NODE-PORT-TCP')!.type).toBe('bitmap:port');
    expect([...sets.get('KUBE-NODE-PORT-TCP')!.entries].sort()).toEqual(['30002', '30003']);
  });

  it('parses the addresses of kube-ipvs0', () => {
    expect(parseAddresses(read('small-next.addr.txt'))).toEqual([
      '172.30.0.41/32',
      '172.30.0.42/32',
      '172.30.0.43/32',
      '172.30.0.45/32',
      '172.30.0.46/32',
    ]);
  });
});

describe('diff against what the kernel held', () => {
  it('finds no difference after the full sync and after the partial sync', () => {
    expect(diff(renderFull(smallState, cfg).desired, installed('small-full'), SYSCTLS)).toEqual([]);
    expect(diff(renderPartial(smallState, smallStateNext, cfg).desired, installed('small-next'), SYSCTLS)).toEqual([]);
  });

  it('names every kind of difference: the full-sync state read as if it were the partial sync', () => {
    const d = diff(renderPartial(smallState, smallStateNext, cfg).desired, installed('small-full'), SYSCTLS);
    expect(d).toContain('ipvs: missing virtual server -t 172.30.0.46:8080 -s rr');
    expect(d).toContain('ipvs: unexpected virtual server -u 172.30.0.44:53');
    expect(d).toContain('ipvs: -t 172.30.0.41:80 is missing real server 10.180.0.10:80 (masq, weight 1)');
    expect(d).toContain('ipvs: -t 172.30.0.42:80 has unexpected real server 10.180.0.3:8080');
    expect(d).toContain('ipset: KUBE-LOOP-BACK has unexpected 10.180.0.3,tcp:8080,10.180.0.3');
    expect(d).toContain('ipset: KUBE-CLUSTER-IP is missing 172.30.0.46,tcp:8080');
    expect(d).toContain('kube-ipvs0: missing address 172.30.0.46/32');
    expect(d).toContain('kube-ipvs0: unexpected address 172.30.0.44/32');
  });

  it('reports missing jump rules, chains, sets, a wrong sysctl and a missing device', () => {
    const have = installed('small-full');
    have.iptables.nat = have.iptables.nat.filter((c) => c.name !== 'KUBE-MARK-MASQ');
    const output = have.iptables.nat.find((c) => c.name === 'OUTPUT')!;
    output.rules.length = 0;
    have.sets.delete('KUBE-IPVS-IPS');
    have.sysctls.set('net.ipv4.vs.conntrack', '0');
    have.addresses = undefined;
    const d = diff(renderFull(smallState, cfg).desired, have, SYSCTLS);
    expect(d).toContain('iptables: nat KUBE-MARK-MASQ: chain missing');
    expect(d.some((l) => l.startsWith('iptables: nat OUTPUT: missing rule') && l.includes('kubernetes service portals'))).toBe(true);
    expect(d).toContain('ipset: set KUBE-IPVS-IPS missing');
    expect(d).toContain('sysctl: net.ipv4.vs.conntrack is 0, expected 1');
    expect(d).toContain('kube-ipvs0: device missing');
  });
});
