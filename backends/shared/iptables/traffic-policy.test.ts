import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cfg, service, tcp } from '../../../src/model/test-support/states.js';
import type { ClusterState, Endpoint, Service } from '../../../src/model/types.js';
import { parseIptablesSave } from './parse-save.js';
import { renderFull, renderPartial } from './render.js';
import { formatRule, type Ruleset, type TableName } from './ruleset.js';

// internalTrafficPolicy against kube-proxy's own expected rules (testdata/internal-traffic-policy.txt,
// TestInternalTrafficPolicyE2E). That test runs with localhostNodePorts on and an iptables without
// --random-fully, so the KUBE-SERVICES tail call, KUBE-FIREWALL and KUBE-POSTROUTING differ from
// ours by those settings alone (render.test.ts covers them); every per-service rule and chain is compared.

const TOP_LEVEL = new Set(['KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-FIREWALL', 'KUBE-FORWARD']);
const TAIL = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';

const cases = readFileSync(new URL('./testdata/internal-traffic-policy.txt', import.meta.url), 'utf8')
  .split(/^# case: /m)
  .slice(1)
  .map((text) => ({ name: text.slice(0, text.indexOf('\n')), expected: parseIptablesSave(text.slice(text.indexOf('\n') + 1)) }));

const itpLocal = (eps: Endpoint[], extra: Partial<Service> = {}): ClusterState => ({
  services: [service('ns1', 'svc1', '172.30.1.1', [tcp('', 80)], { internalTrafficPolicy: 'Local', ...extra })],
  endpoints: { 'ns1/svc1': eps },
});
const ep = (ip: string, local: boolean): Endpoint => ({ ip, local });

/** The service's own lines of a ruleset: per-service chains, and KUBE-SERVICES without the tail call. */
function serviceLines(rs: Ruleset, table: TableName): string[] {
  return rs[table]
    .filter((c) => !TOP_LEVEL.has(c.name))
    .flatMap((c) => c.rules.filter((r) => !r.includes(TAIL)).map((r) => formatRule(c.name, r)))
    .sort();
}
const chainNames = (rs: Ruleset, table: TableName): string[] =>
  rs[table]
    .map((c) => c.name)
    .filter((n) => !TOP_LEVEL.has(n))
    .sort();

describe('internalTrafficPolicy Local: kube-proxy TestInternalTrafficPolicyE2E', () => {
  it('reads both cases from testdata', () => {
    expect(cases.map((c) => [serviceLines(c.expected, 'nat').length, serviceLines(c.expected, 'filter').length])).toEqual([
      [5, 0],
      [0, 1],
    ]);
  });

  const states = [
    itpLocal([ep('10.0.1.1', true), ep('10.0.1.2', false), ep('10.0.1.3', false)]),
    itpLocal([ep('10.0.1.1', false), ep('10.0.1.2', false), ep('10.0.1.3', false)]),
  ];
  cases.forEach((c, i) => {
    it(c.name, () => {
      const r = renderFull(states[i]!, cfg);
      for (const table of ['nat', 'filter'] as const) {
        expect(serviceLines(r.desired, table)).toEqual(serviceLines(c.expected, table));
        expect(chainNames(r.desired, table)).toEqual(chainNames(c.expected, table));
      }
    });
  });

  it('the same rules come out of a partial sync from the Cluster policy (a policy change re-renders the service)', () => {
    const local = states[0]!;
    const cluster = itpLocal(local.endpoints['ns1/svc1']!, { internalTrafficPolicy: 'Cluster' });
    const p = renderPartial(cluster, local, cfg);
    expect(p.changedServices).toEqual(['ns1/svc1']);
    // KUBE-SVC and the remote endpoints' KUBE-SEP chains are no longer used.
    expect(p.staleChains.sort()).toEqual(['KUBE-SEP-IO5XOSKPAXIFQXAJ', 'KUBE-SEP-XGJFVO3L2O5SRFNT', 'KUBE-SVC-AQI2S6QIMU7PVVRP']);
    expect(serviceLines(p.desired, 'nat')).toEqual(serviceLines(cases[0]!.expected, 'nat'));
  });

  it('NodePort with internal Local and external Cluster: ClusterIP to KUBE-SVL (which masquerades), the node port to KUBE-SVC (which does not)', () => {
    const state = itpLocal([ep('10.0.1.1', true), ep('10.0.1.2', false)], { type: 'NodePort', ports: [tcp('', 80, 80, 30001)] });
    const r = renderFull(state, cfg);
    const nat = serviceLines(r.desired, 'nat');
    expect(nat).toContain(
      '-A KUBE-SERVICES -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 -j KUBE-SVL-AQI2S6QIMU7PVVRP',
    );
    expect(nat).toContain('-A KUBE-EXT-AQI2S6QIMU7PVVRP -j KUBE-SVC-AQI2S6QIMU7PVVRP');
    expect(nat.filter((l) => l.includes('! -s 10.0.0.0/8'))).toEqual([
      '-A KUBE-SVL-AQI2S6QIMU7PVVRP -m comment --comment "ns1/svc1 cluster IP" -m tcp -p tcp -d 172.30.1.1 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    ]);
    // Cluster policy is used (for the node port), so every endpoint keeps its KUBE-SEP chain.
    expect(chainNames(r.desired, 'nat').filter((n) => n.startsWith('KUBE-SEP-'))).toHaveLength(2);
    expect(r.stats.natRules).toBe(r.desired.nat.reduce((n, c) => n + c.rules.length, 0));
  });

  it('stats count the rules written', () => {
    for (const s of states) {
      const r = renderFull(s, cfg);
      expect(r.stats.natRules).toBe(r.desired.nat.reduce((n, c) => n + c.rules.length, 0));
      expect(r.stats.natChains).toBe(r.desired.nat.length);
      expect(r.stats.filterRules).toBe(r.desired.filter.reduce((n, c) => n + c.rules.length, 0));
    }
  });
});
