import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterState, Service } from '../../../src/model/types.js';
import {
  canonicalProbability,
  canonicalRule,
  canonicalRuleText,
  diffRulesets,
  formatDifference,
  parseIptablesSave,
  SaveParseError,
  tokenize,
} from './parse-save.js';
import { renderFull } from './render.js';
import type { Ruleset } from './ruleset.js';

// testdata/save-{legacy,nft}.txt: real `iptables-{legacy,nft}-save` output (iptables 1.8.9) of
// renderFull(fixtureState) loaded with `iptables-*-restore --noflush` plus the jump rules ensured
// with -N/-C/-I, in a throwaway network namespace (`unshare --net`).
const fixtureState: ClusterState = (() => {
  const svc = (ns: string, name: string, ip: string, extra: Partial<Service> = {}): Service => ({
    namespace: ns,
    name,
    type: 'ClusterIP',
    clusterIP: ip,
    ports: [{ name: 'p80', protocol: 'TCP', port: 80, targetPort: 80 }],
    sessionAffinity: 'None',
    stickyMaxAgeSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    ...extra,
  });
  const np = (nodePort: number): Service['ports'] => [{ name: 'p80', protocol: 'TCP', port: 80, targetPort: 80, nodePort }];
  return {
    services: [
      svc('ns1', 'svc1', '172.30.0.41'),
      svc('ns2', 'svc2', '172.30.0.42', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: np(3001) }),
      svc('ns3', 'svc3', '172.30.0.43', { type: 'NodePort', ports: np(3003) }),
      svc('ns4', 'svc4', '172.30.0.44', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: np(3004) }),
      svc('ns5', 'svc5', '172.30.0.45', { sessionAffinity: 'ClientIP' }),
      svc('ns6', 'svc6', '172.30.0.46', { ports: [{ name: '', protocol: 'UDP', port: 53, targetPort: 5353 }] }),
    ],
    endpoints: {
      'ns1/svc1': [
        { ip: '10.180.0.3', local: false },
        { ip: '10.180.0.1', local: false },
        { ip: '10.180.0.2', local: false },
      ],
      'ns2/svc2': [{ ip: '10.180.0.2', local: false }],
      'ns3/svc3': [{ ip: '10.180.0.3', local: false }],
      'ns4/svc4': [
        { ip: '10.180.0.4', local: true },
        { ip: '10.180.0.5', local: false },
      ],
      'ns5/svc5': [{ ip: '10.180.0.3', local: false }],
    },
  };
})();
const cfg = { podCidr: '10.0.0.0/8', masqueradeMark: '0x4000', nodeIPs: ['192.168.0.2'] };
const desired = renderFull(fixtureState, cfg).desired;
const saved = {
  legacy: readFileSync(new URL('./testdata/save-legacy.txt', import.meta.url), 'utf8'),
  nft: readFileSync(new URL('./testdata/save-nft.txt', import.meta.url), 'utf8'),
};

describe('tokenize', () => {
  it('splits like iptables-restore: double quotes group, backslash escapes inside them', () => {
    expect(tokenize('-A X -m comment --comment "a b"  -j  Y')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a b', '-j', 'Y']);
    expect(tokenize(`--comment "a \\"q\\" \\\\ \\'s\\'"`)).toEqual(['--comment', `a "q" \\ 's'`]);
    expect(tokenize('--comment ""')).toEqual(['--comment', '']);
    expect(tokenize('--comment ns1/svc1:p80')).toEqual(['--comment', 'ns1/svc1:p80']);
  });
});

describe('parseIptablesSave', () => {
  for (const [flavour, text] of Object.entries(saved)) {
    it(`parses real iptables-${flavour}-save output`, () => {
      const s = parseIptablesSave(text);
      expect(s.nat.slice(0, 4).map((c) => [c.name, c.policy])).toEqual([
        ['PREROUTING', 'ACCEPT'],
        ['INPUT', 'ACCEPT'],
        ['OUTPUT', 'ACCEPT'],
        ['POSTROUTING', 'ACCEPT'],
      ]);
      expect(s.filter.map((c) => c.name)).toEqual([
        'INPUT',
        'FORWARD',
        'OUTPUT',
        'KUBE-EXTERNAL-SERVICES',
        'KUBE-FIREWALL',
        'KUBE-FORWARD',
        'KUBE-NODEPORTS',
        'KUBE-PROXY-FIREWALL',
        'KUBE-SERVICES',
      ]);
      const sep = s.nat.find((c) => c.name === 'KUBE-SEP-I77PXRDZVX7PMWMN');
      expect(sep?.policy).toBe('-');
      expect(sep?.rules[1]).toEqual([
        '-p',
        'tcp',
        '-m',
        'comment',
        '--comment',
        'ns5/svc5:p80',
        '-m',
        'recent',
        '--set',
        '--name',
        'KUBE-SEP-I77PXRDZVX7PMWMN',
        '--mask',
        '255.255.255.255',
        '--rsource',
        '-m',
        'tcp',
        '-j',
        'DNAT',
        '--to-destination',
        '10.180.0.3:80',
      ]);
      expect(s.other).toEqual({});
    });

    it(`finds no difference between the rendered ruleset and iptables-${flavour}-save`, () => {
      const installed = parseIptablesSave(text);
      expect(diffRulesets(desired, installed).map(formatDifference)).toEqual([]);
    });
  }

  it('accepts `iptables-save -c` counters and other tables', () => {
    const s = parseIptablesSave(
      '*mangle\n:KUBE-PROXY-CANARY - [0:0]\nCOMMIT\n*nat\n:KUBE-X - [0:0]\n[12:3456] -A KUBE-X -j RETURN\nCOMMIT\n',
    );
    expect(s.nat).toEqual([{ name: 'KUBE-X', policy: '-', rules: [['-j', 'RETURN']] }]);
    expect(Object.keys(s.other)).toEqual(['mangle']);
  });

  it('reports malformed input with its line number', () => {
    expect(() => parseIptablesSave('*nat\n-A NOPE -j X\nCOMMIT\n')).toThrow(SaveParseError);
    expect(() => parseIptablesSave('-A X -j Y\n')).toThrow(/line 1/);
  });
});

describe('canonicalRule: what iptables-save does to a rule', () => {
  const same = (rendered: string, savedLine: string): void => {
    expect(canonicalRuleText(tokenize(rendered))).toBe(canonicalRuleText(tokenize(savedLine)));
    expect(canonicalRuleText(tokenize(rendered))).toBe(savedLine); // saved output is already canonical
  };

  it('moves base matches first, adds /32 and quotes the comment', () => {
    same(
      '-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '! -s 10.0.0.0/8 -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ',
    );
    same(
      '-m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ',
      '-s 10.0.1.1/32 -m comment --comment ns1/svc1:p80 -j KUBE-MARK-MASQ',
    );
  });

  it('rewrites MARK targets as --set-xmark', () => {
    same('-j MARK --or-mark 0x4000', '-j MARK --set-xmark 0x4000/0x4000');
    same('-j MARK --xor-mark 0x4000', '-j MARK --set-xmark 0x4000/0x0');
    same('-j MARK --set-mark 0x00004000', '-j MARK --set-xmark 0x4000/0xffffffff');
    same('-m mark ! --mark 0x00004000/0x00004000 -j RETURN', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
  });

  it('stores probabilities as fractions of 2^31', () => {
    expect(canonicalProbability('0.3333333333')).toBe('0.33333333349');
    expect(canonicalProbability('0.5000000000')).toBe('0.50000000000');
    same('-m statistic --mode random --probability 0.3333333333 -j X', '-m statistic --mode random --probability 0.33333333349 -j X');
  });

  it('fills in recent and REJECT defaults, orders conntrack states', () => {
    same(
      '-m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap -j KUBE-SEP-X',
      '-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j KUBE-SEP-X',
    );
    same('-j REJECT', '-j REJECT --reject-with icmp-port-unreachable');
    same('-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
  });

  it('normalises addresses, protocols and implicit matches', () => {
    expect(canonicalRule(['-s', '10.1.2.3/8', '-d', '1.2.3.4/255.255.255.0', '-p', '6', '--dport', '80', '-j', 'X'])).toEqual([
      '-s',
      '10.0.0.0/8',
      '-d',
      '1.2.3.0/24',
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      '80',
      '-j',
      'X',
    ]);
    expect(canonicalRule(['-s', '0.0.0.0/0', '-j', 'X'])).toEqual(['-j', 'X']);
    expect(canonicalRule(['-d', 'FD00::1', '-j', 'X'])).toEqual(['-d', 'fd00::1/128', '-j', 'X']);
  });
});

describe('diffRulesets', () => {
  const installed = (): Ruleset => parseIptablesSave(saved.legacy);
  const svc1 = 'KUBE-SVC-XPGD46QRK7WJZT7O';

  it('lists missing, extra and misordered rules', () => {
    const got = installed();
    const chain = got.nat.find((c) => c.name === svc1)!;
    const [masq, a, b, c] = chain.rules;
    chain.rules.splice(0, chain.rules.length, a!, masq!, b!, ['-j', 'KUBE-MARK-MASQ']); // c removed, one extra
    const diffs = diffRulesets(desired, got);
    expect(diffs).toEqual([
      { kind: 'extra-rule', table: 'nat', chain: svc1, rule: '-j KUBE-MARK-MASQ', index: 3 },
      { kind: 'missing-rule', table: 'nat', chain: svc1, rule: canonicalRuleText(c!), index: 3 },
      { kind: 'misordered-rule', table: 'nat', chain: svc1, rule: canonicalRuleText(a!), expectedIndex: 1, actualIndex: 0 },
    ]);
    expect(formatDifference(diffs[2]!)).toMatch(/^nat KUBE-SVC-XPGD46QRK7WJZT7O: rule at #1, expected at #2: -m comment/);
  });

  it('lists missing and extra (stale) chains, ignoring chains that are not ours', () => {
    const got = installed();
    got.nat = got.nat.filter((c) => c.name !== 'KUBE-SEP-I77PXRDZVX7PMWMN');
    got.nat.push({ name: 'KUBE-SEP-STALESTALESTALE', rules: [] }, { name: 'DOCKER', rules: [] });
    expect(diffRulesets(desired, got).map(formatDifference)).toEqual([
      'nat KUBE-SEP-I77PXRDZVX7PMWMN: chain missing',
      'nat KUBE-SEP-STALESTALESTALE: unexpected chain (stale service chain?)',
    ]);
  });

  it('checks the jump rules in built-in chains', () => {
    const got = installed();
    const pre = got.nat.find((c) => c.name === 'PREROUTING')!;
    pre.rules.length = 0;
    pre.rules.push(['-j', 'DOCKER'], ['-j', 'KUBE-SERVICES']);
    expect(diffRulesets(desired, got).map(formatDifference)).toEqual([
      'nat PREROUTING: unexpected rule #2: -j KUBE-SERVICES',
      'nat PREROUTING: missing rule: -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ]);
    got.filter = got.filter.filter((c) => c.name !== 'KUBE-FIREWALL');
    expect(diffRulesets(desired, got).map(formatDifference)).toContain('filter KUBE-FIREWALL: chain missing');
    // Without jump rules only KUBE-* chains count, and nothing ensures KUBE-FIREWALL any more.
    expect(diffRulesets(desired, installed(), { jumpRules: [] }).map(formatDifference)).toEqual(['filter KUBE-FIREWALL: unexpected chain']);
  });
});
