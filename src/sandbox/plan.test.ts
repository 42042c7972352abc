import { describe, expect, it } from 'vitest';
import { sandboxSchema } from '../config/sandbox.js';
import { netnsName, parseNetnsName } from './names.js';
import {
  planNamespaces,
  planTopology,
  renderExternalBatch,
  renderNodeBatch,
  renderPodBatch,
  renderUnderlayBatch,
  sysctlsFor,
} from './plan.js';

const cfg = sandboxSchema.parse({ pods: 2, clients: 1 });
const plan = planTopology('abc123', cfg);

describe('topology plan', () => {
  it('names every namespace with the run id, node first', () => {
    expect(planNamespaces(plan)).toEqual([
      'svcb-abc123-node',
      'svcb-abc123-ext',
      'svcb-abc123-srv-0',
      'svcb-abc123-srv-1',
      'svcb-abc123-cli-0',
    ]);
    expect(parseNetnsName('svcb-abc123-srv-1')).toEqual({ runId: 'abc123', role: 'srv-1' });
    expect(parseNetnsName('svcb-abc123-ext')).toEqual({ runId: 'abc123', role: 'external' });
    expect(parseNetnsName('svcb-abc12-node')).toBeUndefined();
    expect(parseNetnsName('other-abc123-node')).toBeUndefined();
    expect(netnsName('abc123', 'external')).toBe('svcb-abc123-ext');
  });

  it('allocates pod addresses from .2 and the node–external link from its first two hosts', () => {
    expect(plan.pods.map((p) => [p.role, p.ip, p.nodeIf])).toEqual([
      ['srv-0', '10.244.0.2', 'vs0'],
      ['srv-1', '10.244.0.3', 'vs1'],
      ['cli-0', '10.244.0.4', 'vc0'],
    ]);
    expect(plan.node.ip).toBe('198.18.0.1');
    expect(plan.external.ip).toBe('198.18.0.2');
    // Interface names fit IFNAMSIZ (15 characters) even at the largest pod count.
    const big = planTopology('abc123', sandboxSchema.parse({ pods: 1000, clients: 32 }));
    expect(Math.max(...big.pods.map((p) => p.nodeIf.length))).toBeLessThanOrEqual(15);
  });

  it('renders the ip -batch input (snapshot)', () => {
    expect(renderNodeBatch(plan)).toMatchInlineSnapshot(`
      "link set lo up
      address add 169.254.1.1/32 dev lo
      link add ext0 type veth peer name eth0 netns svcb-abc123-ext
      address add 198.18.0.1/24 dev ext0
      link set ext0 up
      link add vs0 type veth peer name eth0 netns svcb-abc123-srv-0
      link set vs0 up
      route add 10.244.0.2/32 dev vs0 scope link
      link add vs1 type veth peer name eth0 netns svcb-abc123-srv-1
      link set vs1 up
      route add 10.244.0.3/32 dev vs1 scope link
      link add vc0 type veth peer name eth0 netns svcb-abc123-cli-0
      link set vc0 up
      route add 10.244.0.4/32 dev vc0 scope link
      route add default via 198.18.0.2 dev ext0
      "
    `);
    expect(renderPodBatch(plan, plan.pods[0]!)).toMatchInlineSnapshot(`
      "link set lo up
      address add 10.244.0.2/32 dev eth0
      link set eth0 up
      route add 169.254.1.1 dev eth0 scope link
      route add default via 169.254.1.1 dev eth0 onlink
      "
    `);
    expect(renderExternalBatch(plan)).toMatchInlineSnapshot(`
      "link set lo up
      address add 198.18.0.2/24 dev eth0
      link set eth0 up
      "
    `);
  });

  it('gives the node forwarding and proxy ARP, servers no TIME_WAIT buckets, clients wide port ranges', () => {
    expect(sysctlsFor(plan, 'svcb-abc123-node')).toMatchObject({
      'net.ipv4.ip_forward': '1',
      'net.ipv4.conf.default.proxy_arp': '1',
      'net.ipv4.conf.all.rp_filter': '0',
    });
    expect(sysctlsFor(plan, 'svcb-abc123-srv-0')).toMatchObject({ 'net.ipv4.tcp_max_tw_buckets': '0' });
    expect(sysctlsFor(plan, 'svcb-abc123-cli-0')).toMatchObject({
      'net.ipv4.tcp_tw_reuse': '1',
      'net.ipv4.ip_local_port_range': '1024 65535',
    });
    expect(sysctlsFor(plan, 'svcb-abc123-cli-0')).not.toHaveProperty('net.ipv4.tcp_max_tw_buckets');
    expect(sysctlsFor(plan, 'svcb-abc123-ext')).not.toHaveProperty('net.ipv4.ip_forward');
  });
});

describe('multi-node topology plan', () => {
  const three = planTopology('abc123', sandboxSchema.parse({ pods: 4, clients: 1, nodes: 3 }));

  it('adds nodes and an underlay namespace, each named with the run id', () => {
    expect(planNamespaces(three).slice(0, 5)).toEqual([
      'svcb-abc123-node',
      'svcb-abc123-node-1',
      'svcb-abc123-node-2',
      'svcb-abc123-ul',
      'svcb-abc123-ext',
    ]);
    expect(parseNetnsName('svcb-abc123-node-2')).toEqual({ runId: 'abc123', role: 'node-2' });
    expect(parseNetnsName('svcb-abc123-ul')).toEqual({ runId: 'abc123', role: 'underlay' });
  });

  it('gives each node a slice of the pod CIDR and a node IP on the underlay', () => {
    expect(three.nodes.map((n) => [n.netns, n.ip, n.podCidr])).toEqual([
      ['svcb-abc123-node', '198.18.0.1', '10.244.0.0/18'],
      ['svcb-abc123-node-1', '198.18.0.3', '10.244.64.0/18'],
      ['svcb-abc123-node-2', '198.18.0.4', '10.244.128.0/18'],
    ]);
    expect(three.external.ip).toBe('198.18.0.2');
    // spread: round robin; clients on node 0.
    expect(three.pods.map((p) => [p.role, p.node, p.ip])).toEqual([
      ['srv-0', 0, '10.244.0.2'],
      ['srv-1', 1, '10.244.64.2'],
      ['srv-2', 2, '10.244.128.2'],
      ['srv-3', 0, '10.244.0.3'],
      ['cli-0', 0, '10.244.0.4'],
    ]);
  });

  it('places server pods by --placement', () => {
    const nodesOf = (placement: string) =>
      planTopology('abc123', sandboxSchema.parse({ pods: 4, nodes: 3, placement }))
        .pods.filter((p) => p.kind === 'server')
        .map((p) => p.node);
    expect(nodesOf('spread')).toEqual([0, 1, 2, 0]);
    expect(nodesOf('remote')).toEqual([1, 2, 1, 2]);
    expect(nodesOf('local')).toEqual([0, 0, 0, 0]);
  });

  it('routes other nodes’ pod CIDRs via their node IPs, with no encapsulation', () => {
    const two = planTopology('abc123', sandboxSchema.parse({ pods: 2, clients: 1, nodes: 2 }));
    expect(renderNodeBatch(two, two.nodes[1])).toMatchInlineSnapshot(`
      "link set lo up
      address add 169.254.1.1/32 dev lo
      address add 198.18.0.3/24 dev ext0
      link set ext0 up
      link add vs1 type veth peer name eth0 netns svcb-abc123-srv-1
      link set vs1 up
      route add 10.244.128.2/32 dev vs1 scope link
      route add 10.244.0.0/17 via 198.18.0.1 dev ext0
      route add default via 198.18.0.2 dev ext0
      "
    `);
    expect(renderUnderlayBatch(two)).toMatchInlineSnapshot(`
      "link set lo up
      link add br0 type bridge
      link set br0 up
      link add x0 type veth peer name eth0 netns svcb-abc123-ext
      link set x0 master br0
      link set x0 up
      link add n0 type veth peer name ext0 netns svcb-abc123-node
      link set n0 master br0
      link set n0 up
      link add n1 type veth peer name ext0 netns svcb-abc123-node-1
      link set n1 master br0
      link set n1 up
      "
    `);
    expect(sysctlsFor(two, 'svcb-abc123-node-1')['net.ipv4.ip_forward']).toBe('1');
    expect(sysctlsFor(two, 'svcb-abc123-ul')).toEqual({});
  });

  it('rejects what cannot be built, naming the flag', () => {
    const err = (x: object) => sandboxSchema.safeParse(x).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(err({ nodes: 0 })).toEqual(['nodes: must be at least 1 (got 0)']);
    expect(err({ nodes: 9 })).toEqual(['nodes: must be at most 4 (got 9)']);
    expect(err({ placement: 'far' })?.[0]).toMatch(/^placement: must be one of spread, remote, local/);
    expect(err({ placement: 'remote' })?.[0]).toMatch(/^placement: .*--nodes 2 or more/);
    expect(err({ nodes: 4, podCidr: '10.244.0.0/28', pods: 8 })?.[0]).toMatch(/^podCidr: .* too small/);
    expect(err({ nodes: 4, externalCidr: '198.18.0.0/30' })?.[0]).toMatch(/^externalCidr: must hold at least 7/);
  });
});
