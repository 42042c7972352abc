import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/model/types.js';
import { cfg, service, tcp } from '../../src/model/test-support/states.js';
import { renderFull, renderPartial } from './render.js';

// kube-proxy's TestOverallNFTablesRules services, in this model (no ExternalIPs, LoadBalancer IPs
// or source ranges). `local` is kube-proxy's NodeName == testNodeName.
const overall: ClusterState = {
  services: [
    service('ns1', 'svc1', '172.30.0.41', [tcp('p80', 80)]),
    service('ns2', 'svc2', '172.30.0.42', [tcp('p80', 80, 80, 3001)], { externalTrafficPolicy: 'Local' }),
    service('ns3', 'svc3', '172.30.0.43', [tcp('p80', 80, 80, 3003)]),
    service('ns4', 'svc4', '172.30.0.44', [tcp('p80', 80)]),
    service('ns5', 'svc5', '172.30.0.45', [tcp('p80', 80, 80, 3002)], { sessionAffinity: 'ClientIP' }),
    service('ns6', 'svc6', '172.30.0.46', [tcp('p80', 80)]),
  ],
  endpoints: {
    'ns1/svc1': [{ ip: '10.180.0.1', local: true }],
    'ns2/svc2': [{ ip: '10.180.0.2', local: false }],
    'ns3/svc3': [{ ip: '10.180.0.3', local: true }],
    'ns4/svc4': [
      { ip: '10.180.0.4', local: false },
      { ip: '10.180.0.5', local: true },
    ],
    'ns5/svc5': [{ ip: '10.180.0.3', local: true }],
  },
};

/** Expected lines of a testdata file (quoted from kube-proxy's proxier_test.go; see each header). */
const expectedLines = (file: string): string[] =>
  readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

/** The rendered lines that concern these services, the hairpin set and the shared masquerade chains. */
function relevant(script: string): string[] {
  return script
    .split('\n')
    .filter((l) => !l.startsWith('flush '))
    .filter((l) => /ns[1-6]\/svc|172\.30\.0\.4[1-6]|hairpin-connections|kube-proxy (masquerading|services|mark-for-masquerade) /.test(l))
    .filter((l) => !/services fib daddr type local/.test(l)); // match-all NodePorts (no --nodeport-addresses)
}

describe.each([
  { profile: '1.35' as const, file: 'overall-1.35.txt', fix: (l: string) => l },
  { profile: '1.36' as const, file: 'overall-1.36.txt', fix: (l: string) => l },
  // v1.37 replaced the cycle's single-endpoint form before release (#140960, proxier.go @736e3b68).
  {
    profile: '1.37' as const,
    file: 'overall-1.37-cycle.txt',
    fix: (l: string) => l.replace(/dnat ip addr \. port to (\d+\.\d+\.\d+\.\d+) \. (\d+)$/, 'dnat to $1:$2'),
  },
])("kube-proxy $profile: TestOverallNFTablesRules at that version's commit", ({ profile, file, fix }) => {
  const want = expectedLines(file).map(fix);
  const got = relevant(renderFull(overall, cfg, { profile }).script);

  it('writes exactly the expected lines for these services, each once', () => {
    expect([...got].sort()).toEqual([...want].sort());
  });
});

describe('1.37 single endpoint (#140960)', () => {
  it('is a plain dnat to IP:PORT; two endpoints still use the numgen map', () => {
    const s = renderFull(overall, cfg, { profile: '1.37' }).script;
    expect(s).toContain('add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 meta l4proto tcp dnat to 10.180.0.1:80');
    expect(s).toContain('numgen random mod 2 map { 0 : 10.180.0.4 . 80 , 1 : 10.180.0.5 . 80 }');
  });
});

/** The PR's diff lines of a testdata file: "-" lines it removes, "+" lines it adds. */
function diffLines(file: string): { removed: string[]; added: string[] } {
  const lines = readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8').split('\n');
  const pick = (sign: string) => lines.filter((l) => l.startsWith(sign)).map((l) => l.slice(1).replace(/\s+/g, ' ').trim());
  return { removed: pick('-'), added: pick('+') };
}

describe('single-map: #140362 TestOverallNFTablesRules diff (svc1)', () => {
  const { removed, added } = diffLines('single-map-140362.txt');
  const r = renderFull(overall, cfg, { profile: 'single-map' });
  const lines = r.script.split('\n');
  it("writes the PR's lb-1-endpoints chain and its three per-protocol rules, each once", () => {
    for (const l of added) expect(lines.filter((x) => x === l)).toEqual([l]);
    const lb1 = lines.filter((l) => /kube-proxy lb-1-endpoints( |$)/.test(l) && !l.startsWith('flush '));
    expect(lb1).toEqual(added);
  });
  it('writes no service chain for svc1', () => {
    for (const l of removed) expect(lines).not.toContain(l);
    expect(r.script).not.toContain('service-ULMVA6XW-ns1/svc1/tcp/p80');
  });
  it('sends svc1 to lb-1-endpoints and fills its slot (ours: the hunk stops before the elements)', () => {
    expect(lines).toContain('add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto lb-1-endpoints }');
    expect(lines).toContain('add element ip kube-proxy endpoints-tcp { 172.30.0.41 . 80 . 0 : 10.180.0.1 . 80 }');
    expect(lines).toContain(
      'add map ip kube-proxy endpoints-tcp { typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport ; }',
    );
  });
});

describe('single-map (#140362): what is ours', () => {
  const r = renderFull(overall, cfg, { profile: 'single-map' });
  it('shares lb-N-endpoints between services with N endpoints', () => {
    expect(r.script).toContain('add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto lb-2-endpoints }');
    expect(r.script).toContain('add element ip kube-proxy endpoints-tcp { 172.30.0.44 . 80 . 1 : 10.180.0.5 . 80 }');
    expect(r.script).toContain(
      'add rule ip kube-proxy lb-2-endpoints meta l4proto tcp dnat ip addr . port to ip daddr . tcp dport . numgen random mod 2 map @endpoints-tcp',
    );
    expect(r.script).not.toContain('service-LAUZTJTB-ns4/svc4/tcp/p80');
  });
  it('keeps 1.37 service chains for node ports and affinity', () => {
    expect(r.script).toContain('add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 meta l4proto tcp dnat to 10.180.0.3:80');
    expect(r.script).toContain('add chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
  });
  it('a partial sync rewrites the slots of a changed service: slots follow kube-proxy order, the last one goes', () => {
    // svc4 loses 10.180.0.4 (slot 0): 10.180.0.5 moves from slot 1 to slot 0, slot 1 is deleted.
    const next: ClusterState = { ...overall, endpoints: { ...overall.endpoints, 'ns4/svc4': [{ ip: '10.180.0.5', local: true }] } };
    const p = renderPartial(overall, next, cfg, { profile: 'single-map' });
    expect(p.script.split('\n')).toEqual(
      expect.arrayContaining([
        'delete element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 }',
        'add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto lb-1-endpoints }',
        'delete element ip kube-proxy endpoints-tcp { 172.30.0.44 . 80 . 0 }',
        'add element ip kube-proxy endpoints-tcp { 172.30.0.44 . 80 . 0 : 10.180.0.5 . 80 }',
        'delete element ip kube-proxy endpoints-tcp { 172.30.0.44 . 80 . 1 }',
      ]),
    );
  });
});

describe('hairpin-connections on partial syncs (1.36+)', () => {
  it('keeps a key that an unchanged service still shares', () => {
    // svc3 and svc5 share 10.180.0.3:80; removing svc5 must not delete it.
    const next: ClusterState = { services: overall.services.filter((s) => s.name !== 'svc5'), endpoints: overall.endpoints };
    const p = renderPartial(overall, next, cfg, { profile: '1.37' });
    expect(p.script).not.toContain('hairpin-connections');
  });
});
