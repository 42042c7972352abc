import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/model/types.js';
import { cfg, eps, largeState, referenceState, service, smallState, smallStateNext, tcp } from '../../src/model/test-support/states.js';
import * as render from './render.js';
import { listed } from './listed.js';
import { formatMark, staleObjects, type RenderOptions } from './render.js';

// These tests are the 1.35 layout's (testdata/ and profiles.test.ts cover the others).
const renderFull = (s: ClusterState, c: typeof cfg, o: RenderOptions = {}) => render.renderFull(s, c, { profile: '1.35', ...o });
const renderPartial = (p: ClusterState, n: ClusterState, c: typeof cfg) => render.renderPartial(p, n, c, { profile: '1.35' });
const describeTable = (s: ClusterState, c: typeof cfg) => render.describe(s, c, '1.35');

/** Collapse whitespace runs and trim: "whitespace canonicalisation". */
const canon = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Rules per chain from a transaction's `add rule ip kube-proxy CHAIN RULE` lines. */
function rulesByChain(script: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of script.split('\n')) {
    const m = /^add rule ip kube-proxy (\S+) (.*)$/.exec(line);
    if (m === null) continue;
    const list = out.get(m[1] as string) ?? [];
    list.push(canon(m[2] as string));
    out.set(m[1] as string, list);
  }
  return out;
}

/** Chain blocks of an `nft list table` text: name → rule lines (without type/policy lines). */
function listingChains(listing: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const raw of listing.split('\n')) {
    const line = canon(raw);
    const m = /^chain (\S+) \{$/.exec(line);
    if (m !== null) {
      cur = [];
      out.set(m[1] as string, cur);
    } else if (line === '}') {
      cur = undefined;
    } else if (cur !== undefined && line !== '' && !line.startsWith('type ')) {
      cur.push(line);
    }
  }
  return out;
}

// Verbatim from ../shared/reference/kube-proxy-rules.md §2 (real nft 1.0.6 output), with the
// elided second endpoint chain written out ("…same shape, 10.180.0.2…").
const REFERENCE_LISTING = `
table ip kube-proxy {
	comment "rules for kube-proxy"
	set cluster-ips {
		type ipv4_addr
		comment "Active ClusterIPs"
		elements = { 172.30.0.41 }
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
		elements = { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000
	}
	chain masquerading {
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
		fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
	}
	chain service-ULMVA6XW-ns1/svc1/tcp/p80 {
		ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
		numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80, 1 : goto endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80 }
	}
	chain endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 {
		ip saddr 10.180.0.1 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.180.0.1:80
	}
	chain endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80 {
		ip saddr 10.180.0.2 jump mark-for-masquerade
		meta l4proto tcp dnat to 10.180.0.2:80
	}
}
`;

describe('renderFull: fidelity to the reference listing (kube-proxy-rules.md §2)', () => {
  const r = renderFull(referenceState, cfg);
  // The script holds kube-proxy's text; nft lists a few expressions differently (listed.ts).
  const rendered = new Map([...rulesByChain(r.script)].map(([c, rules]) => [c, rules.map((x) => listed(x, cfg.masqueradeMark))]));
  const reference = listingChains(REFERENCE_LISTING);

  it('renders exactly the listed rules of every chain shown', () => {
    expect([...reference.keys()]).toHaveLength(7);
    for (const [chain, lines] of reference) {
      expect({ chain, rules: rendered.get(chain) }).toEqual({ chain, rules: lines });
      expect({ chain, rules: r.desired.chains.get(chain)?.rules.map(canon) }).toEqual({ chain, rules: lines });
    }
  });

  it('declares the base chain and the map element the reference lists', () => {
    expect(r.script).toContain('add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }');
    expect(r.desired.chains.get('nat-prerouting')?.base).toEqual({ type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' });
    expect(r.script).toContain('add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }');
    expect(r.script).toContain('add element ip kube-proxy cluster-ips { 172.30.0.41 }');
    expect([...(r.desired.sets.get('service-ips')?.elements ?? [])]).toEqual([
      ['172.30.0.41 . tcp . 80', 'goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
    ]);
    expect([...(r.desired.sets.get('cluster-ips')?.elements ?? [])]).toEqual([['172.30.0.41', '']]);
    expect(r.desired.sets.get('service-ips')).toMatchObject({
      kind: 'map',
      type: 'ipv4_addr . inet_proto . inet_service',
      map: 'verdict',
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    });
  });

  it('orders endpoints by address string, as kube-proxy does', () => {
    // referenceState lists 10.180.0.2 before 10.180.0.1; byAddress sorts them.
    expect(rendered.get('service-ULMVA6XW-ns1/svc1/tcp/p80')?.[1]).toContain('0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    const r2 = renderFull({ services: referenceState.services, endpoints: { 'ns1/svc1': eps('10.180.0.2', '10.180.0.10') } }, cfg);
    expect(rulesByChain(r2.script).get('service-ULMVA6XW-ns1/svc1/tcp/p80')?.[1]).toMatch(
      /0 : goto \S+__10\.180\.0\.10\/80 , 1 : goto \S+__10\.180\.0\.2\/80/,
    );
    // By "IP:port", not by IP: "10.180.0.10:80" < "10.180.0.1:80" (':' sorts after the digits).
    const r3 = renderFull({ services: referenceState.services, endpoints: { 'ns1/svc1': eps('10.180.0.1', '10.180.0.10') } }, cfg);
    expect(rulesByChain(r3.script).get('service-ULMVA6XW-ns1/svc1/tcp/p80')?.[1]).toMatch(
      /0 : goto \S+__10\.180\.0\.10\/80 , 1 : goto \S+__10\.180\.0\.1\/80/,
    );
  });
});

describe("renderFull: kube-proxy's TestOverallNFTablesRules fixtures", () => {
  // pkg/proxy/nftables/proxier_test.go: svc2 (eTP=Local, no local endpoint), svc3 (NodePort),
  // svc5 (ClientIP affinity) and svc6 (no endpoints), restricted to what this model has.
  const state: ClusterState = {
    services: [
      service('ns2', 'svc2', '172.30.0.42', [tcp('p80', 80, 80, 3001)], { externalTrafficPolicy: 'Local' }),
      service('ns3', 'svc3', '172.30.0.43', [tcp('p80', 80, 80, 3003)]),
      service('ns5', 'svc5', '172.30.0.45', [tcp('p80', 80, 80, 3002)], { sessionAffinity: 'ClientIP' }),
      service('ns6', 'svc6', '172.30.0.46', [tcp('p80', 80)]),
    ],
    endpoints: { 'ns2/svc2': eps('10.180.0.2'), 'ns3/svc3': eps('10.180.0.3'), 'ns5/svc5': eps('10.180.0.3') },
  };
  const lines = new Set(renderFull(state, cfg).script.split('\n'));
  const expected = `
    add chain ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80
    add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
    add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 }
    add chain ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80
    add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit pod traffic"
    add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
    add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit local traffic"
    add chain ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80
    add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 ip saddr 10.180.0.2 jump mark-for-masquerade
    add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 meta l4proto tcp dnat to 10.180.0.2:80
    add element ip kube-proxy cluster-ips { 172.30.0.42 }
    add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80 }
    add element ip kube-proxy service-nodeports { tcp . 3001 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }
    add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment "ns2/svc2:p80" : drop }
    add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
    add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
    add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 }
    add chain ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80
    add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 jump mark-for-masquerade
    add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 goto service-4AT6LBPK-ns3/svc3/tcp/p80
    add chain ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80
    add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
    add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80
    add element ip kube-proxy cluster-ips { 172.30.0.43 }
    add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
    add element ip kube-proxy service-nodeports { tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80 }
    add set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
    add chain ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80
    add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip daddr 172.30.0.45 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
    add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
    add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 }
    add chain ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80
    add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 jump mark-for-masquerade
    add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 goto service-HVFWP5L3-ns5/svc5/tcp/p80
    add chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
    add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
    add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }
    add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80
    add element ip kube-proxy cluster-ips { 172.30.0.45 }
    add element ip kube-proxy service-ips { 172.30.0.45 . tcp . 80 : goto service-HVFWP5L3-ns5/svc5/tcp/p80 }
    add element ip kube-proxy service-nodeports { tcp . 3002 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }
    add element ip kube-proxy cluster-ips { 172.30.0.46 }
    add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

  it.each(expected)('%s', (line) => {
    expect(lines.has(line)).toBe(true);
  });

  it('writes nothing else for these services', () => {
    const perService = [...lines].filter((l) => /ns[2356]\/svc/.test(l) || /172\.30\.0\.4[2356]/.test(l));
    const flushes = perService.filter((l) => l.startsWith('flush chain '));
    expect(perService.filter((l) => !l.startsWith('flush chain ')).sort()).toEqual([...expected].sort());
    expect(flushes.map((l) => l.replace('flush', 'add')).sort()).toEqual(expected.filter((l) => l.startsWith('add chain ')).sort());
  });
});

describe('renderFull: transaction structure', () => {
  it('matches the snapshot for a small state', () => {
    expect(renderFull(smallState, cfg).script).toMatchSnapshot();
  });

  it('sets up the table as setupNFTables does, without flushing maps', () => {
    const { script } = renderFull(smallState, cfg);
    const lines = script.split('\n');
    expect(lines[0]).toBe('add table ip kube-proxy { comment "rules for kube-proxy" ; }');
    expect(lines).toContain('add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }');
    expect(lines).toContain('add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }');
    expect(lines).toContain('add rule ip kube-proxy filter-output ct state new jump cluster-ips-check');
    expect(lines).toContain(
      'add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    );
    expect(lines).toContain('add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
    expect(lines).toContain(
      'add rule ip kube-proxy nodeport-endpoints-check ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports',
    );
    expect(lines.filter((l) => /^flush (map|set) /.test(l))).toEqual([]);
    // First sync after start: add + delete of every base chain before re-creating them.
    expect(lines.slice(1, 3)).toEqual([
      'add chain ip kube-proxy filter-prerouting-pre-dnat',
      'delete chain ip kube-proxy filter-prerouting-pre-dnat',
    ]);
    expect(renderFull(smallState, cfg, { recreateBaseChains: false }).script).not.toContain('delete chain');
    // Every chain is added before any rule, set or element refers to it.
    const added = new Set<string>();
    for (const l of lines) {
      const chain = /^add chain ip kube-proxy (\S+)/.exec(l);
      if (chain !== null) added.add(chain[1] as string);
      for (const m of l.matchAll(/(?:jump|goto) ([^\s,}]+)/g)) expect(added.has(m[1] as string), l).toBe(true);
    }
  });

  it('describes the same table whether built with the script or alone', () => {
    const r = renderFull(smallState, cfg);
    const d = describeTable(smallState, cfg);
    expect([...r.desired.chains.keys()].sort()).toEqual([...d.chains.keys()].sort());
    expect(r.desired.sets.get('affinity-CJNO4NV4-ns2/svc2/tcp/p80__10.180.0.3/8080')).toMatchObject({
      flags: ['dynamic', 'timeout'],
      timeout: 10800,
    });
    expect(r.stats).toMatchObject({ servicesWritten: 5, elementsDeleted: 0 });
    expect(r.stats.lines).toBe(r.script.split('\n').length - 1);
  });

  it('diffs elements against an installed table and drops its stale objects', () => {
    const installed = describeTable(smallState, cfg);
    const r = renderFull(smallStateNext, cfg, { installed, recreateBaseChains: false });
    const lines = r.script.split('\n');
    expect(lines).toContain('delete element ip kube-proxy service-ips { 172.30.0.44 . udp . 53 }');
    // Stale chains and sets come from a listing of the table (the backend's apply).
    const stale = staleObjects(r, { chains: installed.chains.keys(), sets: installed.sets.keys() });
    expect(stale.lines).toContain('flush chain ip kube-proxy service-JQMHE2DE-ns4/svc4/udp/');
    expect(stale.lines).toContain('delete set ip kube-proxy affinity-CJNO4NV4-ns2/svc2/tcp/p80__10.180.0.3/8080');
    expect(stale.lines.filter((l) => l.startsWith('delete chain'))).toEqual([]); // ≥ 1 s later, in a transaction of its own
    expect(lines).not.toContain('add element ip kube-proxy cluster-ips { 172.30.0.41 }'); // already there
    // A full sync rewrites every service's chains.
    expect(r.stats.servicesWritten).toBe(5);
  });
});

describe('renderPartial', () => {
  const r = renderPartial(smallState, smallStateNext, cfg);
  const lines = r.script.split('\n');

  it('matches the snapshot', () => {
    expect(r.script).toMatchSnapshot();
  });

  it('rewrites only services whose Service or endpoints changed', () => {
    expect(r.script).not.toMatch(/^add table/m);
    expect(r.script).not.toMatch(/ns5\/svc5/); // unchanged: skipServiceUpdate
    expect(r.script).toMatch(/^flush chain ip kube-proxy service-ULMVA6XW-ns1\/svc1\/tcp\/p80$/m);
    expect(r.script).toContain('numgen random mod 3 vmap');
    expect(r.stats.servicesWritten).toBe(4); // svc1, svc2, svc3, svc6
  });

  it('diffs elements: new keys added, stale keys deleted, unchanged keys left alone', () => {
    expect(lines).toContain('add element ip kube-proxy service-ips { 172.30.0.46 . tcp . 8080 : goto service-IMCI5ZDK-ns6/svc6/tcp/http }');
    expect(lines).toContain(
      'add element ip kube-proxy no-endpoint-services { 172.30.0.43 . tcp . 80 comment "ns3/svc3:p80" : goto reject-chain }',
    );
    expect(lines).toContain('add element ip kube-proxy no-endpoint-nodeports { tcp . 30002 comment "ns2/svc2:p80" : drop }');
    expect(lines).toContain('delete element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 }');
    expect(lines).toContain('delete element ip kube-proxy cluster-ips { 172.30.0.44 }');
    expect(lines).not.toContain('add element ip kube-proxy cluster-ips { 172.30.0.41 }');
  });

  it('leaves stale chains to the listing: flushed after the sync, affinity sets deleted after the flush', () => {
    const installed = describeTable(smallState, cfg);
    const stale = staleObjects(r, { chains: installed.chains.keys(), sets: installed.sets.keys() });
    const chain = 'endpoint-VMM5FPNP-ns3/svc3/tcp/p80__10.180.0.5/80';
    expect(stale.chains).toContain(chain);
    expect(stale.chains).toContain('service-4AT6LBPK-ns3/svc3/tcp/p80');
    expect(stale.lines.indexOf('delete set ip kube-proxy affinity-CJNO4NV4-ns2/svc2/tcp/p80__10.180.0.3/8080')).toBeGreaterThan(
      stale.lines.indexOf('flush chain ip kube-proxy endpoint-CJNO4NV4-ns2/svc2/tcp/p80__10.180.0.3/8080'),
    );
    expect(r.script).not.toMatch(/^delete chain/m);
    expect({ chains: stale.chains.length, sets: stale.sets.length, elementsDeleted: r.stats.elementsDeleted }).toEqual({
      chains: 8,
      sets: 1,
      elementsDeleted: 4,
    });
  });

  it('replaces an element whose verdict changed with delete + add', () => {
    const next2: ClusterState = { ...smallStateNext, endpoints: { ...smallStateNext.endpoints, 'ns2/svc2': [] } };
    const r2 = renderPartial(smallStateNext, next2, cfg);
    const l2 = r2.script.split('\n');
    const del = l2.indexOf('delete element ip kube-proxy no-endpoint-nodeports { tcp . 30002 }');
    expect(del).toBeGreaterThan(-1);
    expect(l2[del + 1]).toBe('add element ip kube-proxy no-endpoint-nodeports { tcp . 30002 comment "ns2/svc2:p80" : goto reject-chain }');
  });

  it('is empty when nothing changed, even with new but equal objects', () => {
    expect(renderPartial(smallState, smallState, cfg).script).toBe('');
    const copy = JSON.parse(JSON.stringify(smallState)) as ClusterState;
    copy.endpoints['ns1/svc1'] = [...(copy.endpoints['ns1/svc1'] ?? [])].reverse();
    expect(renderPartial(smallState, copy, cfg).script).toBe('');
  });

  it('describes the next table', () => {
    const want = describeTable(smallStateNext, cfg);
    expect([...r.desired.chains.keys()].sort()).toEqual([...want.chains.keys()].sort());
    expect(r.desired.sets.get('service-ips')?.elements).toEqual(want.sets.get('service-ips')?.elements);
  });
});

describe('render inputs', () => {
  it('formats the masquerade mark as nft lists it', () => {
    expect(formatMark('0x4000')).toBe('0x00004000');
    expect(formatMark('16384')).toBe('0x00004000');
    expect(() => formatMark('bit 14')).toThrow(/invalid masquerade mark/);
  });

  it('refuses names and addresses that could break the nft script', () => {
    const bad = (patch: Partial<ReturnType<typeof service>>, endpoints = eps('10.0.0.1')): ClusterState => ({
      services: [{ ...service('ns', 'svc', '172.30.0.1', [tcp('http', 80)]), ...patch }],
      endpoints: { [`${patch.namespace ?? 'ns'}/${patch.name ?? 'svc'}`]: endpoints },
    });
    expect(() => renderFull(bad({ name: 'svc\nflush ruleset' }), cfg)).toThrow(/DNS labels/);
    expect(() => renderFull(bad({ clusterIP: 'fd00::1' }), cfg)).toThrow(/not an IPv4 address/);
    expect(() => renderFull(bad({}, eps('10.0.0.1 }')), cfg)).toThrow(/endpoint/);
    expect(() => renderFull(bad({ ports: [tcp('Http', 80)] }), cfg)).toThrow(/port name/);
    expect(() => renderFull(bad({ ports: [tcp('http', 70000)] }), cfg)).toThrow(/1-65535/);
    expect(() => renderFull(bad({}), { ...cfg, podCidr: '10.0.0.0' })).toThrow(/pod CIDR/);
  });

  it('a partial render checks the changed services, and clashes with unchanged ones', () => {
    const base = smallState.services[0]!;
    const withNew = (svc: typeof base, endpoints = eps('10.0.0.9')): ClusterState => ({
      services: [...smallState.services, svc],
      endpoints: { ...smallState.endpoints, [`${svc.namespace}/${svc.name}`]: endpoints },
    });
    const fresh = service('nsx', 'svcx', '172.30.9.9', [tcp('http', 80)]);
    expect(() => renderPartial(smallState, withNew(fresh), cfg)).not.toThrow();
    expect(() => renderPartial(smallState, withNew({ ...fresh, name: 'svc\nflush ruleset' }), cfg)).toThrow(/DNS labels/);
    expect(() => renderPartial(smallState, withNew(fresh, eps('10.0.0.1 }')), cfg)).toThrow(/endpoint/);
    expect(() => renderPartial(smallState, withNew({ ...fresh, clusterIP: base.clusterIP }), cfg)).toThrow(/used by another service/);
    expect(() => renderPartial(smallState, withNew({ ...fresh, namespace: base.namespace, name: base.name }), cfg)).toThrow(/listed twice/);
  });

  it('omits the masquerade rule without a pod CIDR (no local detector)', () => {
    const r = renderFull(referenceState, { ...cfg, podCidr: '' });
    expect(r.script).not.toContain('ip saddr != ');
  });
});

describe('render at scale', () => {
  it('renders 10,000 services × 3 endpoints in linear time', () => {
    const state = largeState(10_000, 3);
    const t0 = performance.now();
    const r = renderFull(state, cfg);
    const ms = performance.now() - t0;
    expect(r.stats.chainsWritten).toBe(10_000 * 4 + 1_000); // service + 3 endpoints, + external for NodePorts
    expect(r.stats.elementsAdded).toBe(10_000 * 2 + 1_000);
    // Generous bound (shared CI machines): catches quadratic work, not small regressions.
    expect(ms).toBeLessThan(5_000);
    const next = largeState(10_000, 3);
    next.endpoints['ns7/svc7'] = eps('10.250.0.1');
    const t1 = performance.now();
    const p = renderPartial(state, next, cfg);
    expect(performance.now() - t1).toBeLessThan(5_000);
    expect(p.stats.servicesWritten).toBe(1);
    expect(staleObjects(p, { chains: r.activeChains, sets: [] }).chains).toHaveLength(3);
  });
});
