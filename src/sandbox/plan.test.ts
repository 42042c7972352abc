import { describe, expect, it } from 'vitest';
import { sandboxSchema } from '../config/sandbox.js';
import { netnsName, parseNetnsName } from './names.js';
import { planNamespaces, planTopology, renderExternalBatch, renderNodeBatch, renderPodBatch, sysctlsFor } from './plan.js';

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
