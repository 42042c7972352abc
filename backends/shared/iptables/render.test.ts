import { describe, expect, it } from 'vitest';
import type { ClusterState, Endpoint, ProxyConfig, Service, ServicePort } from '../../../src/model/types.js';
import { serviceChainNames } from './hash.js';
import { canonicalRuleText, tokenize } from './parse-save.js';
import { ALL_JUMP_RULES, ensureScript, IPTABLES_JUMP_CHAINS, jumpRuleArgv } from './jumps.js';
import { probability, renderFull, renderPartial } from './render.js';
import type { RenderResult } from './render.js';
import { formatRule } from './ruleset.js';
import type { Ruleset, TableName } from './ruleset.js';
import { applyRestorePayload, applyRuleCommands, simTables, toRuleset } from './simulate.js';

// kube-proxy's test conventions (reference §1): pod CIDR 10.0.0.0/8, mark 0x4000.
const cfg: ProxyConfig = { podCidr: '10.0.0.0/8', masqueradeMark: '0x4000', nodeIPs: ['192.168.0.2'] };

const port = (p: Partial<ServicePort> = {}): ServicePort => ({ name: 'p80', protocol: 'TCP', port: 80, targetPort: 80, ...p });
const svc = (ns: string, name: string, clusterIP: string, extra: Partial<Service> = {}): Service => ({
  namespace: ns,
  name,
  type: 'ClusterIP',
  clusterIP,
  ports: [port()],
  sessionAffinity: 'None',
  stickyMaxAgeSeconds: 10800,
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  ...extra,
});
const eps = (...ips: string[]): Endpoint[] => ips.map((ip) => ({ ip, local: false }));

/** The rendered rules of one chain as restore lines. */
function lines(r: RenderResult | Ruleset, table: TableName, chain: string): string[] {
  const rs = 'desired' in r ? r.desired : r;
  const c = rs[table].find((x) => x.name === chain);
  if (!c) throw new Error(`no chain ${table} ${chain}`);
  return c.rules.map((rule) => formatRule(chain, rule));
}

/** Verbatim kube-proxy lines must equal ours byte for byte, hence also after canonicalisation. */
function expectSameLines(rendered: string[], reference: string[]): void {
  const canon = (l: string): string => canonicalRuleText(tokenize(l).slice(2));
  expect(rendered.map(canon)).toEqual(reference.map(canon));
  expect(rendered).toEqual(reference);
}

const chainNames = (r: RenderResult, table: TableName): string[] => r.desired[table].map((c) => c.name);

describe('renderFull: fidelity to kube-proxy (reference §1)', () => {
  it('(a) ClusterIP with one endpoint: TestSyncProxyRulesRepeated lines', () => {
    const r = renderFull({ services: [svc('ns1', 'svc1', '172.30.0.41')], endpoints: { 'ns1/svc1': eps('10.0.1.1') } }, cfg);
    expectSameLines(lines(r, 'nat', 'KUBE-SERVICES').slice(0, 1), [
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O',
    ]);
    expectSameLines(lines(r, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O'), [
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.0.1.1:80" -j KUBE-SEP-SNQ3ZNILQDEJNDQO',
    ]);
    expectSameLines(lines(r, 'nat', 'KUBE-SEP-SNQ3ZNILQDEJNDQO'), [
      '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ',
      '-A KUBE-SEP-SNQ3ZNILQDEJNDQO -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.1.1:80',
    ]);
    expect(chainNames(r, 'nat')).toEqual([
      'KUBE-SERVICES',
      'KUBE-NODEPORTS',
      'KUBE-POSTROUTING',
      'KUBE-MARK-MASQ',
      'KUBE-SVC-XPGD46QRK7WJZT7O',
      'KUBE-SEP-SNQ3ZNILQDEJNDQO',
    ]);
  });

  it('(a) three endpoints: probabilities 1/(n-i), ascending order, last without statistic', () => {
    // Given out of order: kube-proxy sorts them (EndpointSliceCache byEndpoint).
    const state = {
      services: [svc('ns1', 'svc1', '172.30.0.41')],
      endpoints: { 'ns1/svc1': eps('10.180.0.3', '10.180.0.1', '10.180.0.2') },
    };
    const r = renderFull(state, cfg);
    expectSameLines(lines(r, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O'), [
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-LXVODXWDISEETFEF',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j KUBE-SEP-ICDUIKC33SFI6ZPR',
    ]);
    for (const [sep, ip] of [
      ['KUBE-SEP-SXIVWICOYRO3J4NJ', '10.180.0.1'],
      ['KUBE-SEP-LXVODXWDISEETFEF', '10.180.0.2'],
      ['KUBE-SEP-ICDUIKC33SFI6ZPR', '10.180.0.3'],
    ] as const) {
      expectSameLines(lines(r, 'nat', sep), [
        `-A ${sep} -m comment --comment ns1/svc1:p80 -s ${ip} -j KUBE-MARK-MASQ`,
        `-A ${sep} -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination ${ip}:80`,
      ]);
    }
  });

  // svc2/svc3/svc5 of TestOverallIPTablesRules: the hashes pin "nsN/svcN:p80" + "tcp"; svc2's node
  // port (3001) and svc5's endpoint (10.180.0.3:80) are in the quoted lines. Cluster IPs are ours.
  const overall: ClusterState = {
    services: [
      svc('ns2', 'svc2', '172.30.0.42', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [port({ nodePort: 3001 })] }),
      svc('ns3', 'svc3', '172.30.0.43', { type: 'NodePort', ports: [port({ nodePort: 3003 })] }),
      svc('ns5', 'svc5', '172.30.0.45', { sessionAffinity: 'ClientIP' }),
    ],
    endpoints: { 'ns2/svc2': eps('10.180.0.2'), 'ns3/svc3': eps('10.180.0.3'), 'ns5/svc5': eps('10.180.0.3') },
  };
  const r = renderFull(overall, cfg);

  it('(b) externalTrafficPolicy Cluster: svc3 EXT chain', () => {
    expectSameLines(lines(r, 'nat', 'KUBE-EXT-X27LE4BHSL4DOUIK'), [
      '-A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK',
    ]);
  });

  it('(b) externalTrafficPolicy Local without local endpoints: svc2 EXT chain and the filter DROP', () => {
    expectSameLines(lines(r, 'nat', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT'), [
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "pod traffic for ns2/svc2:p80 external destinations" -s 10.0.0.0/8 -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "masquerade LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ',
      '-A KUBE-EXT-GNZBNJ2PO5MGZ6GT -m comment --comment "route LOCAL traffic for ns2/svc2:p80 external destinations" -m addrtype --src-type LOCAL -j KUBE-SVC-GNZBNJ2PO5MGZ6GT',
    ]);
    expectSameLines(lines(r, 'filter', 'KUBE-EXTERNAL-SERVICES'), [
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns2/svc2:p80 has no local endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3001 -j DROP',
    ]);
    expect(chainNames(r, 'nat')).not.toContain('KUBE-SVL-GNZBNJ2PO5MGZ6GT');
  });

  it('(b) KUBE-NODEPORTS jumps to the EXT chains', () => {
    expect(lines(r, 'nat', 'KUBE-NODEPORTS')).toEqual([
      '-A KUBE-NODEPORTS -m comment --comment ns2/svc2:p80 -m tcp -p tcp --dport 3001 -j KUBE-EXT-GNZBNJ2PO5MGZ6GT',
      '-A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK',
    ]);
  });

  it('(b) the KUBE-NODEPORTS tail call is the last KUBE-SERVICES rule (localhostNodePorts=false form)', () => {
    const svcLines = lines(r, 'nat', 'KUBE-SERVICES');
    const reference =
      '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';
    // kube-proxy adds `! -d 127.0.0.0/8` when localhost node ports are off (≈L1425), as here.
    expect(svcLines.at(-1)).toBe(reference.replace(' -j KUBE-NODEPORTS', ' ! -d 127.0.0.0/8 -j KUBE-NODEPORTS'));
    expect(svcLines).toHaveLength(4);
  });

  it('(e) sessionAffinity ClientIP: svc5 recent rules', () => {
    expectSameLines(lines(r, 'nat', 'KUBE-SVC-NUKIZ6OKUXPJNT4C').slice(1), [
      '-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN',
      '-A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN',
    ]);
    expectSameLines(lines(r, 'nat', 'KUBE-SEP-I77PXRDZVX7PMWMN').slice(1), [
      '-A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80',
    ]);
  });

  it('(c) masquerade chains, with --random-fully', () => {
    expectSameLines(lines(r, 'nat', 'KUBE-POSTROUTING'), [
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
      '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]);
    expectSameLines(lines(r, 'nat', 'KUBE-MARK-MASQ'), ['-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000']);
  });

  it('(d) filter table: all chains declared, KUBE-FORWARD with the INVALID drop, no KUBE-FIREWALL', () => {
    expect(chainNames(r, 'filter')).toEqual([
      'KUBE-SERVICES',
      'KUBE-EXTERNAL-SERVICES',
      'KUBE-FORWARD',
      'KUBE-NODEPORTS',
      'KUBE-PROXY-FIREWALL',
    ]);
    expectSameLines(lines(r, 'filter', 'KUBE-FORWARD'), [
      '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
      '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]);
    expect(r.payload.split('\n').filter((l) => l.startsWith(':'))).toContain(':KUBE-PROXY-FIREWALL - [0:0]');
  });

  it('jump rules from built-in chains are data, not payload (iptablesJumpChains)', () => {
    const show = (j: (typeof ALL_JUMP_RULES)[number]): string => `${j.table} ${formatRule(j.srcChain, j.rule).slice(3)}`;
    expect(IPTABLES_JUMP_CHAINS.map(show)).toEqual([
      'filter INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      'filter FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      'filter INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
      'filter FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'filter OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'filter FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      'filter INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'filter OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'filter FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'nat OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    ]);
    expect(ALL_JUMP_RULES.slice(-2).map(show)).toEqual(['filter INPUT -j KUBE-FIREWALL', 'filter OUTPUT -j KUBE-FIREWALL']);
    expect(r.jumpRules).toBe(ALL_JUMP_RULES);
    expect(r.payload).not.toMatch(/^(-A|:)(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)\b/m);
    expect(jumpRuleArgv(ALL_JUMP_RULES[10]!)).toEqual({
      newChain: ['-t', 'nat', '-N', 'KUBE-SERVICES'],
      check: ['-t', 'nat', '-C', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
      insert: ['-t', 'nat', '-I', 'PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
    });
  });

  it('one payload, filter then nat, as syncProxyRules writes iptablesData for RestoreAll', () => {
    const text = r.payload.split('\n');
    expect(text.filter((l) => l.startsWith('*') || l === 'COMMIT')).toEqual(['*filter', 'COMMIT', '*nat', 'COMMIT']);
    expect(text[0]).toBe('*filter');
    expect(text[r.filterLines - 1]).toBe('COMMIT');
    expect(text[r.filterLines]).toBe('*nat');
  });
});

describe('ensureScript', () => {
  const portals = ALL_JUMP_RULES[10]!;
  it("runs kube-proxy's EnsureChain then EnsureRule(Prepend) per jump, each its own iptables process, quoted", () => {
    expect(ensureScript('iptables-legacy', [portals])).toBe(
      'iptables-legacy -w -t nat -N KUBE-SERVICES 2>/dev/null || true\n' +
        "iptables-legacy -w -t nat -C PREROUTING -m comment --comment 'kubernetes service portals' -j KUBE-SERVICES 2>/dev/null" +
        " || { iptables-legacy -w -t nat -I PREROUTING -m comment --comment 'kubernetes service portals' -j KUBE-SERVICES && echo inserted; } || exit 1\n",
    );
  });
  it('creates the given chains first and, when asked, not the jump targets', () => {
    const lines = ensureScript('iptables-nft', ALL_JUMP_RULES, { chains: [['nat', 'KUBE-MARK-MASQ']], createJumpChains: false })
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('iptables-nft -w -t nat -N KUBE-MARK-MASQ 2>/dev/null || true');
    expect(lines).toHaveLength(1 + ALL_JUMP_RULES.length);
    expect(lines.slice(1).every((l) => l.includes(' -C ') && l.endsWith('|| exit 1'))).toBe(true);
  });
});

describe('renderFull: other cases', () => {
  it('no endpoints: filter REJECT for the cluster IP and node port, no nat chains', () => {
    const r = renderFull(
      { services: [svc('ns6', 'svc6', '172.30.0.46', { type: 'NodePort', ports: [port({ nodePort: 3006 })] })], endpoints: {} },
      cfg,
    );
    expect(lines(r, 'filter', 'KUBE-SERVICES')).toEqual([
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT',
    ]);
    expect(lines(r, 'filter', 'KUBE-EXTERNAL-SERVICES')).toEqual([
      '-A KUBE-EXTERNAL-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m addrtype --dst-type LOCAL -m tcp -p tcp --dport 3006 -j REJECT',
    ]);
    expect(chainNames(r, 'nat')).toEqual(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
    expect(lines(r, 'nat', 'KUBE-NODEPORTS')).toEqual([]);
  });

  it('externalTrafficPolicy Local with a local endpoint: EXT ends in KUBE-SVL, which holds only local endpoints', () => {
    const r = renderFull(
      {
        services: [
          svc('ns4', 'svc4', '172.30.0.44', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [port({ nodePort: 3004 })] }),
        ],
        endpoints: {
          'ns4/svc4': [
            { ip: '10.180.0.4', local: true },
            { ip: '10.180.0.5', local: false },
          ],
        },
      },
      cfg,
    );
    expect(lines(r, 'nat', 'KUBE-EXT-4SW47YFZTEDKD3PK').at(-1)).toBe('-A KUBE-EXT-4SW47YFZTEDKD3PK -j KUBE-SVL-4SW47YFZTEDKD3PK');
    expect(lines(r, 'nat', 'KUBE-SVL-4SW47YFZTEDKD3PK')).toEqual([
      '-A KUBE-SVL-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -j KUBE-SEP-UKSFD7AGPMPPLUHC',
    ]);
    expect(lines(r, 'nat', 'KUBE-SVC-4SW47YFZTEDKD3PK')).toHaveLength(3); // masquerade + 2 endpoints
    expect(lines(r, 'filter', 'KUBE-EXTERNAL-SERVICES')).toEqual([]);
    expect(chainNames(r, 'nat').slice(4)).toEqual([
      'KUBE-EXT-4SW47YFZTEDKD3PK',
      'KUBE-SVC-4SW47YFZTEDKD3PK',
      'KUBE-SVL-4SW47YFZTEDKD3PK',
      'KUBE-SEP-UKSFD7AGPMPPLUHC',
      'KUBE-SEP-C6EBXVWJJZMIWKLZ',
    ]);
  });

  it('sorts endpoints by "ip:port" string like EndpointSliceCache, and deduplicates them', () => {
    const r = renderFull(
      { services: [svc('ns', 's', '172.30.0.1')], endpoints: { 'ns/s': eps('10.0.0.2', '10.0.0.10', '10.0.0.1', '10.0.0.2') } },
      cfg,
    );
    const svcChain = r.desired.nat.find((c) => c.name.startsWith('KUBE-SVC-'))!;
    expect(svcChain.rules.slice(1).map((x) => x[3])).toEqual([
      'ns/s:p80 -> 10.0.0.10:80',
      'ns/s:p80 -> 10.0.0.1:80',
      'ns/s:p80 -> 10.0.0.2:80',
    ]);
  });

  it('formats probabilities as Go %0.10f', () => {
    expect(probability(1)).toBe('1.0000000000');
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(7)).toBe('0.1428571429');
    expect(probability(2048)).toBe('0.0004882812'); // a tie: Go rounds to even
    expect(probability(1000)).toBe('0.0010000000');
  });

  it('handles several ports, UDP, unnamed ports and target ports', () => {
    const r = renderFull(
      {
        services: [
          svc('ns', 'dns', '172.30.0.10', {
            ports: [
              port({ name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353 }),
              port({ name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 5353 }),
            ],
          }),
          svc('ns', 'web', '172.30.0.11', { ports: [port({ name: '', port: 80, targetPort: 8080 })] }),
        ],
        endpoints: { 'ns/dns': eps('10.1.0.1'), 'ns/web': eps('10.1.0.2') },
      },
      cfg,
    );
    expect(lines(r, 'nat', 'KUBE-SERVICES').slice(0, 3)).toEqual([
      `-A KUBE-SERVICES -m comment --comment "ns/dns:dns cluster IP" -m udp -p udp -d 172.30.0.10 --dport 53 -j ${serviceChainNames('ns/dns:dns', 'udp').svc}`,
      expect.stringContaining('"ns/dns:dns-tcp cluster IP" -m tcp -p tcp -d 172.30.0.10 --dport 53'),
      expect.stringContaining('"ns/web cluster IP" -m tcp -p tcp -d 172.30.0.11 --dport 80'),
    ]);
    expect(r.payload).toContain('-m udp -p udp -j DNAT --to-destination 10.1.0.1:5353');
    expect(r.payload).toContain('--comment ns/web -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:8080');
    expect(r.stats).toMatchObject({ services: 2, servicePorts: 3, endpoints: 3 });
  });

  it('drops SVC→SEP and SEP comments above 1000 endpoints (large-cluster mode)', () => {
    const many = (n: number): ClusterState => {
      const ips = Array.from({ length: n }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
      return { services: [svc('ns1', 'svc1', '172.30.0.41')], endpoints: { 'ns1/svc1': eps(...ips) } };
    };
    const at = renderFull(many(1000), cfg);
    expect(at.largeClusterMode).toBe(false);
    expect(lines(at, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O')[1]).toContain('--comment');

    const above = renderFull(many(1001), cfg);
    expect(above.largeClusterMode).toBe(true);
    const svcLines = lines(above, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(svcLines[0]).toContain('--comment "ns1/svc1:p80 cluster IP"'); // kept
    expect(svcLines[1]).toBe(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m statistic --mode random --probability 0.0009990010 -j ' + above.desired.nat[5]!.name,
    );
    expect(svcLines.slice(1).some((l) => l.includes('--comment'))).toBe(false);
    const sep = above.desired.nat[5]!;
    expect(lines(above, 'nat', sep.name)).toEqual([
      `-A ${sep.name} -s 10.0.0.0 -j KUBE-MARK-MASQ`,
      `-A ${sep.name} -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80`,
    ]);
    expect(lines(above, 'nat', 'KUBE-SERVICES')[0]).toContain('"ns1/svc1:p80 cluster IP"');
  });

  it('omits the masquerade and pod-traffic rules without a local detector (podCidr "")', () => {
    const r = renderFull(
      {
        services: [
          svc('ns2', 'svc2', '172.30.0.42', { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [port({ nodePort: 3001 })] }),
        ],
        endpoints: { 'ns2/svc2': eps('10.180.0.2') },
      },
      { ...cfg, podCidr: '' },
    );
    expect(lines(r, 'nat', 'KUBE-SVC-GNZBNJ2PO5MGZ6GT')).toHaveLength(1);
    expect(lines(r, 'nat', 'KUBE-EXT-GNZBNJ2PO5MGZ6GT')).toHaveLength(2);
  });
});

// --- snapshots and partial syncs ----------------------------------------------------------------

const base: ClusterState = {
  services: [
    svc('ns1', 'svc1', '172.30.0.41'),
    svc('ns3', 'svc3', '172.30.0.43', { type: 'NodePort', ports: [port({ nodePort: 3003 })] }),
    svc('ns5', 'svc5', '172.30.0.45', { sessionAffinity: 'ClientIP' }),
  ],
  endpoints: { 'ns1/svc1': eps('10.180.0.1', '10.180.0.2'), 'ns3/svc3': eps('10.180.0.3'), 'ns5/svc5': eps('10.180.0.3') },
};
// svc1 gains an endpoint, svc3 is deleted, svc6 is new (no endpoints), svc5 is unchanged.
const changed: ClusterState = {
  services: [base.services[0]!, base.services[2]!, svc('ns6', 'svc6', '172.30.0.46')],
  endpoints: { 'ns1/svc1': eps('10.180.0.1', '10.180.0.2', '10.180.0.3'), 'ns5/svc5': eps('10.180.0.3') },
};

const sorted = (rs: Ruleset): Ruleset => ({
  filter: [...rs.filter].sort((a, b) => a.name.localeCompare(b.name)),
  nat: [...rs.nat].sort((a, b) => a.name.localeCompare(b.name)),
});

describe('snapshots', () => {
  it('full payload', () => {
    expect(renderFull(base, cfg).payload).toMatchInlineSnapshot(`
      "*filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SEP-LXVODXWDISEETFEF - [0:0]
      :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      :KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]
      :KUBE-SEP-I77PXRDZVX7PMWMN - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS
      -A KUBE-NODEPORTS -m comment --comment ns3/svc3:p80 -m tcp -p tcp --dport 3003 -j KUBE-EXT-X27LE4BHSL4DOUIK
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -j KUBE-SEP-LXVODXWDISEETFEF
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-EXT-X27LE4BHSL4DOUIK -m comment --comment "masquerade traffic for ns3/svc3:p80 external destinations" -j KUBE-MARK-MASQ
      -A KUBE-EXT-X27LE4BHSL4DOUIK -j KUBE-SVC-X27LE4BHSL4DOUIK
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 cluster IP" -m tcp -p tcp -d 172.30.0.43 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-X27LE4BHSL4DOUIK -m comment --comment "ns3/svc3:p80 -> 10.180.0.3:80" -j KUBE-SEP-OYPFS5VJICHGATKP
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-OYPFS5VJICHGATKP -m comment --comment ns3/svc3:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --rcheck --seconds 10800 --reap -j KUBE-SEP-I77PXRDZVX7PMWMN
      -A KUBE-SVC-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 -> 10.180.0.3:80" -j KUBE-SEP-I77PXRDZVX7PMWMN
      -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-I77PXRDZVX7PMWMN -m comment --comment ns5/svc5:p80 -m recent --name KUBE-SEP-I77PXRDZVX7PMWMN --set -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      COMMIT
      "
    `);
  });

  it('partial payload', () => {
    expect(renderPartial(base, changed, cfg).payload).toMatchInlineSnapshot(`
      "*filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      :KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]
      :KUBE-SEP-LXVODXWDISEETFEF - [0:0]
      :KUBE-SEP-ICDUIKC33SFI6ZPR - [0:0]
      :KUBE-EXT-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SVC-X27LE4BHSL4DOUIK - [0:0]
      :KUBE-SEP-OYPFS5VJICHGATKP - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP" -m tcp -p tcp -d 172.30.0.45 --dport 80 -j KUBE-SVC-NUKIZ6OKUXPJNT4C
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS
      -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-SXIVWICOYRO3J4NJ
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-LXVODXWDISEETFEF
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j KUBE-SEP-ICDUIKC33SFI6ZPR
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ
      -A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80
      -A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -s 10.180.0.2 -j KUBE-MARK-MASQ
      -A KUBE-SEP-LXVODXWDISEETFEF -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-SEP-ICDUIKC33SFI6ZPR -m comment --comment ns1/svc1:p80 -s 10.180.0.3 -j KUBE-MARK-MASQ
      -A KUBE-SEP-ICDUIKC33SFI6ZPR -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.3:80
      -X KUBE-EXT-X27LE4BHSL4DOUIK
      -X KUBE-SVC-X27LE4BHSL4DOUIK
      -X KUBE-SEP-OYPFS5VJICHGATKP
      COMMIT
      "
    `);
  });
});

describe('renderPartial', () => {
  const p = renderPartial(base, changed, cfg);

  it('rewrites top-level chains, changed services only, and deletes stale chains', () => {
    expect(p.kind).toBe('partial');
    expect(p.changedServices).toEqual(['ns1/svc1', 'ns6/svc6']);
    expect(p.jumpRules).toEqual([]);
    const declared = p.payload.split('\n').filter((l) => l.startsWith(':'));
    expect(declared).toContain(':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]');
    expect(declared).not.toContain(':KUBE-SVC-NUKIZ6OKUXPJNT4C - [0:0]'); // svc5 unchanged: absent
    expect(p.staleChains).toEqual(['KUBE-EXT-X27LE4BHSL4DOUIK', 'KUBE-SVC-X27LE4BHSL4DOUIK', 'KUBE-SEP-OYPFS5VJICHGATKP']);
    for (const c of p.staleChains) {
      expect(declared).toContain(`:${c} - [0:0]`);
      expect(p.payload).toContain(`\n-X ${c}\n`);
    }
    // top-level chains are always rewritten, for all services
    expect(p.payload).toContain('-A KUBE-SERVICES -m comment --comment "ns5/svc5:p80 cluster IP"');
    expect(p.stats.payloadLines).toBe(p.payload.split('\n').length - 1);
    expect(p.payload).toContain('-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints"');
  });

  it('the payload turns the installed prev into next (restore --noflush semantics)', () => {
    const t = applyRestorePayload(simTables(), renderFull(base, cfg).payload);
    expect(sorted(toRuleset(t))).toEqual(sorted(renderFull(base, cfg).desired));
    applyRestorePayload(t, p.payload);
    expect(sorted(toRuleset(t))).toEqual(sorted(p.desired));
    expect(sorted(p.desired)).toEqual(sorted(renderFull(changed, cfg).desired));
  });

  it('filterRollback puts the filter table back as prev had it after the filter section committed', () => {
    const t = applyRestorePayload(simTables(), renderFull(base, cfg).payload);
    const before = structuredClone(toRuleset(t).filter);
    // iptables-restore committed the filter section, then rejected nat: only filter changed.
    applyRestorePayload(t, `${p.payload.split('\n').slice(0, p.filterLines).join('\n')}\n`);
    expect(sorted(toRuleset(t)).filter).toEqual(sorted(p.desired).filter);
    expect(toRuleset(t).filter).not.toEqual(before); // svc6 has no endpoints: a REJECT in filter
    applyRestorePayload(t, p.filterRollback);
    expect(toRuleset(t).filter).toEqual(before);
    expect(p.filterRollback.split('\n').filter((l) => l.startsWith('*'))).toEqual(['*filter']);
  });

  it("a full sync's filterRollback declares our filter chains empty, as its jump step leaves them on fresh tables", () => {
    expect(renderFull(base, cfg).filterRollback).toBe(
      [
        '*filter',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-EXTERNAL-SERVICES - [0:0]',
        ':KUBE-FORWARD - [0:0]',
        ':KUBE-NODEPORTS - [0:0]',
        ':KUBE-PROXY-FIREWALL - [0:0]',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('the rule-by-rule commands turn prev into next, never referencing missing chains', () => {
    const t = applyRuleCommands(simTables(), renderFull(base, cfg).commands);
    applyRuleCommands(t, p.commands);
    expect(sorted(toRuleset(t))).toEqual(sorted(p.desired));
    // Only edits: KUBE-SERVICES is not rewritten.
    expect(p.commands.some((c) => c[2] === '-F' && c[3] === 'KUBE-SERVICES')).toBe(false);
    expect(p.commands.filter((c) => c[3] === 'KUBE-SERVICES').map((c) => c[2])).toEqual(['-A', '-D']);
  });

  it('with nothing changed: only top-level chains, no commands', () => {
    const same = renderPartial(base, structuredClone(base), cfg);
    expect(same.changedServices).toEqual([]);
    expect(same.staleChains).toEqual([]);
    expect(same.commands).toEqual([]);
    expect(same.payload.split('\n').filter((l) => l.startsWith(':'))).toEqual([
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-EXTERNAL-SERVICES - [0:0]',
      ':KUBE-FORWARD - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-PROXY-FIREWALL - [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-NODEPORTS - [0:0]',
      ':KUBE-POSTROUTING - [0:0]',
      ':KUBE-MARK-MASQ - [0:0]',
    ]);
    expect(same.stats.payloadLines).toBe(same.payload.split('\n').length - 1);
  });

  it('treats every service as changed when large-cluster mode flips', () => {
    const ips = Array.from({ length: 1001 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
    const big: ClusterState = { ...base, endpoints: { ...base.endpoints, 'ns1/svc1': eps(...ips) } };
    const flip = renderPartial(base, big, cfg);
    expect(flip.largeClusterMode).toBe(true);
    expect(flip.changedServices).toEqual(['ns1/svc1', 'ns3/svc3', 'ns5/svc5']);
    const t = applyRestorePayload(simTables(), renderFull(base, cfg).payload);
    applyRestorePayload(t, flip.payload);
    expect(sorted(toRuleset(t))).toEqual(sorted(flip.desired));
  });
});

describe('scale', () => {
  it('renders 10,000 services × 3 endpoints in linear time', () => {
    const state: ClusterState = { services: [], endpoints: {} };
    for (let i = 0; i < 10_000; i++) {
      state.services.push(svc('scale', `svc${i}`, `172.30.${i >> 8}.${i & 255}`));
      state.endpoints[`scale/svc${i}`] = eps(`10.1.${i >> 8}.${i & 255}`, `10.2.${i >> 8}.${i & 255}`, `10.3.${i >> 8}.${i & 255}`);
    }
    const t0 = performance.now();
    const r = renderFull(state, cfg);
    const ms = performance.now() - t0;
    expect(r.stats).toMatchObject({ services: 10_000, natChains: 4 + 40_000, natRules: 10_001 + 3 + 1 + 40_000 + 60_000 });
    expect(r.stats.payloadLines).toBe(r.payload.split('\n').length - 1);
    // A loose bound that only a super-linear algorithm would miss, even on a loaded CI machine.
    expect(ms).toBeLessThan(5000);
  });
});
