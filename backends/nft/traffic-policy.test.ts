import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cfg, service, tcp } from '../../src/model/test-support/states.js';
import type { ClusterState, Endpoint, TrafficPolicy } from '../../src/model/types.js';
import { KUBE_PROXY_PROFILES } from './profiles.js';
import { renderFull, renderPartial } from './render.js';

// internalTrafficPolicy, every kube-proxy profile, against kube-proxy's TestInternalTrafficPolicy
// (testdata/internal-traffic-policy.txt, the test table verbatim). kube-proxy checks these cases
// with packet-flow tests over its ruleset, not with expected text, so the ruleset each profile
// renders is traced here from the ClusterIP to the endpoints it DNATs to, as runPacketFlowTests does.

interface FlowCase {
  name: string;
  policy: TrafficPolicy;
  endpoints: { ip: string; node: string }[];
  output: string;
}

function readCases(): FlowCase[] {
  const text = readFileSync(new URL('./testdata/internal-traffic-policy.txt', import.meta.url), 'utf8');
  return text
    .split(/\n\t\t\{\n\t\t\tname: +/)
    .slice(1)
    .map((block) => ({
      name: JSON.parse(block.slice(0, block.indexOf('\n')).replace(/,$/, '')) as string,
      policy: /ServiceInternalTrafficPolicy(Cluster|Local)/.exec(block)![1] as TrafficPolicy,
      endpoints: [...block.matchAll(/\{"([\d.]+)", ("?[\w-]+"?)\}/g)].map((m) => ({ ip: m[1]!, node: m[2]! })),
      output: /output: +"([^"]*)"/.exec(block)![1]!,
    }));
}

/** The rules (per chain) and map elements (per map: key → value) of a transaction's text. */
function parseScript(script: string): { rules: Map<string, string[]>; elems: Map<string, Map<string, string>> } {
  const rules = new Map<string, string[]>();
  const elems = new Map<string, Map<string, string>>();
  for (const line of script.split('\n')) {
    let m = /^add rule ip kube-proxy (\S+) (.*)$/.exec(line);
    if (m) rules.set(m[1]!, [...(rules.get(m[1]!) ?? []), m[2]!]);
    m = /^add element ip kube-proxy (\S+) \{ (.*?)(?: comment "[^"]*")?(?: : (.*))? \}$/.exec(line);
    if (m) {
      const map = elems.get(m[1]!) ?? new Map<string, string>();
      map.set(m[2]!, m[3] ?? '');
      elems.set(m[1]!, map);
    }
  }
  return { rules, elems };
}

/** Where a new TCP connection to ip:port ends: the endpoints it may be DNATed to ("ip:port, …",
 * sorted as kube-proxy's flow tests print them), or DROP / REJECT. */
function trace(script: string, ip: string, port: number): string {
  const { rules, elems } = parseScript(script);
  const key = `${ip} . tcp . ${port}`;
  const out = new Set<string>();
  const follow = (verdict: string): void => {
    if (verdict === 'drop') out.add('DROP');
    else if (verdict === 'goto reject-chain') out.add('REJECT');
    else if (verdict.startsWith('goto ')) chain(verdict.slice(5));
    else throw new Error(`verdict ${verdict}`);
  };
  const chain = (name: string): void => {
    for (const rule of rules.get(name) ?? []) {
      let m: RegExpExecArray | null;
      if (/jump mark-for-masquerade$|^update @/.test(rule) || rule.startsWith('ip saddr @')) continue; // masquerade, affinity
      if ((m = /vmap \{ (.*) \}$/.exec(rule))) for (const e of m[1]!.split(' , ')) follow(e.split(' : ')[1]!);
      else if ((m = /dnat to ([\d.]+:\d+)$/.exec(rule))) out.add(m[1]!);
      else if ((m = /dnat ip addr \. port to numgen random mod \d+ map \{ (.*) \}$/.exec(rule)))
        for (const e of m[1]!.split(' , ')) out.add(e.split(' : ')[1]!.replace(' . ', ':'));
      else if ((m = /numgen random mod (\d+) map @(endpoints-tcp)$/.exec(rule)))
        for (let i = 0; i < Number(m[1]); i++) out.add(elems.get(m[2]!)!.get(`${ip} . ${port} . ${i}`)!.replace(' . ', ':'));
      else throw new Error(`rule not traced: ${name}: ${rule}`);
      return; // each of these rules ends the chain's evaluation
    }
  };
  const svc = elems.get('service-ips')?.get(key);
  const none = elems.get('no-endpoint-services')?.get(key);
  if (svc !== undefined) follow(svc);
  if (none !== undefined) follow(none);
  return [...out].sort().join(', ');
}

const state = (policy: TrafficPolicy, endpoints: Endpoint[]): ClusterState => ({
  services: [service('ns1', 'svc1', '172.30.1.1', [tcp('', 80)], { internalTrafficPolicy: policy })],
  endpoints: { 'ns1/svc1': endpoints },
});

describe.each(KUBE_PROXY_PROFILES)('internalTrafficPolicy, kube-proxy %s: TestInternalTrafficPolicy', (profile) => {
  const cases = readCases();
  it('reads the four cases', () =>
    expect(cases.map((c) => c.output)).toEqual([
      '10.0.1.1:80, 10.0.1.2:80, 10.0.1.3:80',
      '10.0.1.1:80',
      '10.0.1.1:80, 10.0.1.2:80',
      'DROP',
    ]));

  it.each(cases)('$name', (c) => {
    const s = state(
      c.policy,
      c.endpoints.map((e) => ({ ip: e.ip, local: e.node === 'testNodeName' })),
    );
    const r = renderFull(s, cfg, { profile });
    expect(trace(r.script, '172.30.1.1', 80)).toBe(c.output);
    // The test then deletes the EndpointSlice: "endpoints deleted" → REJECT.
    expect(trace(renderFull(state(c.policy, []), cfg, { profile }).script, '172.30.1.1', 80)).toBe('REJECT');
  });

  it('a policy change is a partial sync of that service: the local chain replaces the service chain', () => {
    const eps = [
      { ip: '10.0.1.1', local: true },
      { ip: '10.0.1.2', local: false },
    ];
    const p = renderPartial(state('Cluster', eps), state('Local', eps), cfg, { profile });
    expect(p.script).toMatch(/service-ips \{ 172\.30\.1\.1 \. tcp \. 80 : goto (local-\S+|lb-1-endpoints) \}/);
  });
});
