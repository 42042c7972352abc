import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/model/types.js';
import { cfg, largeState, referenceState, service, smallState, smallStateNext, tcp } from '../../src/model/test-support/states.js';
import { parseIptablesSave } from '../shared/iptables/parse-save.js';
import { desiredState, renderFull, renderPartial, SETS, vsKey } from './render.js';

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

describe('renderFull', () => {
  it("renders the reference's ipvsadm equivalent (kube-proxy-rules.md §3) for one ClusterIP service", () => {
    const p = renderFull(referenceState, cfg);
    expect(lines(p.ipvsadm)).toEqual([
      '-A -t 172.30.0.41:80 -s rr',
      '-a -t 172.30.0.41:80 -r 10.180.0.2:80 -m -w 1',
      '-a -t 172.30.0.41:80 -r 10.180.0.1:80 -m -w 1',
    ]);
    expect(lines(p.bind)).toEqual(['address flush dev kube-ipvs0', 'address add 172.30.0.41/32 dev kube-ipvs0']);
    expect(p.ensureDevice).toBe(true);
    expect(p.unbind).toBe('');
  });

  it('snapshots every payload of the small state', () => {
    const p = renderFull(smallState, cfg);
    expect({ bind: p.bind, ipvsadm: p.ipvsadm, ipset: p.ipset, iptables: p.iptables, stats: p.stats }).toMatchSnapshot();
  });

  it('gives NodePorts one virtual server per node IP, ClientIP affinity as persistence, eTP Local only local endpoints', () => {
    const two = { ...cfg, nodeIPs: ['192.168.0.2', '192.168.1.2'] };
    const d = desiredState(smallState, two);
    const np = d.virtualServers.get(vsKey('tcp', '192.168.1.2', 30002))!;
    expect(np.persistent).toBe(10800);
    expect([...np.reals]).toEqual(['10.180.0.3:8080']); // svc2 is eTP Local; 10.180.0.4 is remote
    expect([...d.virtualServers.get(vsKey('tcp', '172.30.0.42', 80))!.reals]).toEqual(['10.180.0.3:8080', '10.180.0.4:8080']);
    expect([...d.virtualServers.get(vsKey('tcp', '192.168.0.2', 30003))!.reals]).toEqual(['10.180.0.5:80']);
    expect(d.virtualServers.get(vsKey('udp', '172.30.0.44', 53))!.reals).toEqual(new Set(['10.180.0.6:5353', '10.180.0.7:5353']));
    // A service without endpoints still has its virtual server (and its address).
    expect(d.virtualServers.get(vsKey('tcp', '172.30.0.45', 80))!.reals.size).toBe(0);
    expect(d.addresses).toEqual(new Set(['172.30.0.41', '172.30.0.42', '172.30.0.43', '172.30.0.44', '172.30.0.45']));
    // Node IPs are never bound to kube-ipvs0.
    expect(d.addresses.has('192.168.0.2')).toBe(false);
  });

  it('fills the sets as kube-proxy does: cluster IP+port, local endpoints for hairpin, node ports, bound addresses', () => {
    const d = desiredState(smallState, cfg);
    const set = (name: string) => [...d.sets.get(name)!].sort();
    expect(set('KUBE-CLUSTER-IP')).toEqual([
      '172.30.0.41,tcp:80',
      '172.30.0.42,tcp:80',
      '172.30.0.43,tcp:80',
      '172.30.0.44,udp:53',
      '172.30.0.45,tcp:80',
    ]);
    expect(set('KUBE-LOOP-BACK')).toEqual(['10.180.0.3,tcp:8080,10.180.0.3']); // the only local endpoint
    expect(set('KUBE-NODE-PORT-TCP')).toEqual(['30002', '30003']);
    expect(set('KUBE-NODE-PORT-LOCAL-TCP')).toEqual(['30002']);
    expect(set('KUBE-NODE-PORT-UDP')).toEqual([]);
    expect(set('KUBE-IPVS-IPS')).toEqual([...d.addresses].sort());
    expect([...d.sets.keys()]).toEqual(SETS.map((s) => s.name));
  });

  it('emits a set-matching rule only for non-empty sets', () => {
    const empty = renderFull({ services: [], endpoints: {} }, cfg).iptables;
    expect(empty).not.toContain('KUBE-CLUSTER-IP dst,dst ! -s');
    expect(empty).not.toContain('KUBE-LOOP-BACK');
    expect(empty).not.toContain('KUBE-NODE-PORT-TCP');
    // …while the filter rules name their sets unconditionally.
    expect(empty).toContain('-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN');
    const full = renderFull(smallState, cfg).iptables;
    expect(full).toContain(
      '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    );
    expect(full).toContain(
      '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    );
  });

  it('keeps the accept rule last in KUBE-SERVICES and the RETURN of KUBE-NODE-PORT-LOCAL before the masquerade', () => {
    const rs = parseIptablesSave(renderFull(smallState, cfg).iptables);
    const services = rs.nat.find((c) => c.name === 'KUBE-SERVICES')!.rules.map((r) => r.join(' '));
    expect(services[0]).toBe('-s 127.0.0.0/8 -j RETURN');
    expect(services.at(-1)).toBe('-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
    const nodePort = rs.nat.find((c) => c.name === 'KUBE-NODE-PORT')!.rules.map((r) => r.at(-1));
    expect(nodePort).toEqual(['RETURN', 'KUBE-MARK-MASQ']);
  });

  it('without a pod CIDR masquerades node traffic whose source is a VIP (src,dst)', () => {
    const p = renderFull(referenceState, { ...cfg, podCidr: '' });
    expect(p.iptables).toContain('--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ');
  });

  it('counts what it sends', () => {
    const p = renderFull(largeState(1000), cfg);
    expect(p.stats.virtualServers).toBe(1100); // 1,000 ClusterIPs + 100 NodePorts on one node IP
    expect(p.stats.realServers).toBe(3300);
    expect(p.stats.lines).toBe(lines(p.bind).length + lines(p.ipvsadm).length + lines(p.ipset).length + lines(p.iptables).length);
  });
});

describe('renderPartial', () => {
  it('snapshots the diff from the small state to the next one', () => {
    const p = renderPartial(smallState, smallStateNext, cfg);
    expect({ bind: p.bind, ipvsadm: p.ipvsadm, ipset: p.ipset, unbind: p.unbind }).toMatchSnapshot();
    expect(p.ensureDevice).toBe(false);
  });

  it('adds one service as one virtual server, its real servers, its set entries and its address', () => {
    const prev = largeState(100);
    const added = service('nsx', 'new', '172.31.0.1', [tcp('http', 80, 8080)]);
    const next: ClusterState = {
      services: [...prev.services, added],
      endpoints: { ...prev.endpoints, 'nsx/new': [{ ip: '10.99.0.1', local: true }] },
    };
    const p = renderPartial(prev, next, cfg);
    expect(lines(p.ipvsadm)).toEqual(['-A -t 172.31.0.1:80 -s rr', '-a -t 172.31.0.1:80 -r 10.99.0.1:8080 -m -w 1']);
    expect(lines(p.ipset).sort()).toEqual([
      'add KUBE-CLUSTER-IP 172.31.0.1,tcp:80',
      'add KUBE-IPVS-IPS 172.31.0.1',
      'add KUBE-LOOP-BACK 10.99.0.1,tcp:8080,10.99.0.1',
    ]);
    expect(lines(p.bind)).toEqual(['address add 172.31.0.1/32 dev kube-ipvs0']);
    expect(p.unbind).toBe('');
    // The iptables payload is always whole (kube-proxy rewrites it on every sync).
    expect(p.iptables).toBe(renderFull(next, cfg).iptables);
  });

  it('renders nothing for IPVS, sets and addresses when nothing changed', () => {
    const p = renderPartial(smallState, smallState, cfg);
    expect([p.ipvsadm, p.ipset, p.bind, p.unbind]).toEqual(['', '', '', '']);
  });

  it('changes persistence with -E and keeps a loop-back entry another service still needs', () => {
    const a = service('ns', 'a', '172.30.1.1', [tcp('p', 80, 8080)]);
    const b = service('ns', 'b', '172.30.1.2', [tcp('p', 80, 8080)]);
    const shared = [{ ip: '10.1.0.1', local: true }];
    const prev: ClusterState = { services: [a, b], endpoints: { 'ns/a': shared, 'ns/b': shared } };
    const next: ClusterState = {
      services: [{ ...a, sessionAffinity: 'ClientIP', stickyMaxAgeSeconds: 60 }],
      endpoints: { 'ns/a': shared },
    };
    const p = renderPartial(prev, next, cfg);
    expect(lines(p.ipvsadm)).toEqual(['-E -t 172.30.1.1:80 -s rr -p 60', '-D -t 172.30.1.2:80']);
    expect(p.ipset).not.toContain('KUBE-LOOP-BACK');
    expect(lines(p.unbind)).toEqual(['address del 172.30.1.2/32 dev kube-ipvs0']);
  });

  it('moves a service whose cluster IP changed: new virtual server, old one deleted', () => {
    const next: ClusterState = {
      services: smallState.services.map((s) => (s.name === 'svc1' ? { ...s, clusterIP: '172.30.9.9' } : s)),
      endpoints: smallState.endpoints,
    };
    const p = renderPartial(smallState, next, cfg);
    expect(lines(p.ipvsadm)).toEqual([
      '-A -t 172.30.9.9:80 -s rr',
      '-a -t 172.30.9.9:80 -r 10.180.0.1:80 -m -w 1',
      '-a -t 172.30.9.9:80 -r 10.180.0.2:80 -m -w 1',
      '-D -t 172.30.0.41:80',
    ]);
    expect(lines(p.bind)).toEqual(['address add 172.30.9.9/32 dev kube-ipvs0']);
    expect(lines(p.unbind)).toEqual(['address del 172.30.0.41/32 dev kube-ipvs0']);
  });

  it('applied to the full sync of prev, gives the full sync of next (ipvsadm lines as a set)', () => {
    const prev = renderFull(smallState, cfg).desired;
    const p = renderPartial(smallState, smallStateNext, cfg);
    const vs = new Map([...prev.virtualServers].map(([k, v]) => [k, { ...v, reals: new Set(v.reals) }]));
    for (const line of lines(p.ipvsadm)) {
      const t = line.split(' ');
      const key = `${t[1]} ${t[2]}`;
      if (t[0] === '-A' || t[0] === '-E')
        vs.set(key, {
          ...(vs.get(key) ?? { reals: new Set<string>() }),
          persistent: t.includes('-p') ? Number(t.at(-1)) : undefined,
        } as never);
      else if (t[0] === '-D') vs.delete(key);
      else if (t[0] === '-a') vs.get(key)!.reals.add(t[4]!);
      else if (t[0] === '-d') vs.get(key)!.reals.delete(t[4]!);
    }
    const want = p.desired.virtualServers;
    expect([...vs.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) expect(vs.get(k)!.reals).toEqual(v.reals);
  });
});
