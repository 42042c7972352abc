import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nft } from '../../backends/nft/backend.js';
import { LISTING_METHODS, listTable, readElements, ELEMENT_STORES } from '../../backends/nft/listing.js';
import { netfilterSocketIn, netlinkListTable, NamespaceEscapeError } from '../../backends/nft/netlink.js';
import type { NodeTarget } from '../../backends/types.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import { RealExec } from '../../src/exec/index.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { sync } from '../../src/sync.js';
import { scaleStates } from '../../scripts/bench-render.js';
import { isRoot } from '../helpers.js';

// The three per-sync listings of kube-proxy's nftables mode (backends/nft/listing.ts) read the
// same chains and sets from a table the nft backend installed, the netlink dump included, and the
// netlink dump leaves the bench process in the root network namespace.

const exec = new RealExec();
// Objects every listing must leave out: another table of the family, an anonymous set in a
// kube-proxy rule, a named map.
const EXTRAS = `add table ip svcb-other
add chain ip svcb-other other-chain
add set ip svcb-other other-set { type ipv4_addr; }
add chain ip kube-proxy svcb-extra
add rule ip kube-proxy svcb-extra ip daddr { 192.0.2.1, 192.0.2.2 } counter
add set ip kube-proxy svcb-named-set { type ipv4_addr; }
add map ip kube-proxy svcb-named-map { type ipv4_addr : verdict; }
`;

describe.runIf(isRoot)('nft listings: nft --json and netlink agree', () => {
  let sb: Sandbox;
  let t: NodeTarget;
  const ns = () => ({ process: readlinkSync('/proc/self/ns/net'), thread: readlinkSync('/proc/thread-self/ns/net') });
  beforeAll(async () => {
    sb = await openSandbox(exec, sandboxSchema.parse({ pods: 3 }), { command: 'test nft-listing' });
    // kube-proxy 1.35's layout: per-endpoint chains make the 3,000-service table the >12,000-chain
    // dump this test needs, and it declares no hairpin-connections set (1.36+ do).
    t = nodeTarget(exec, sb, { iptablesMode: 'legacy', syncTimeoutMs: 60_000, kubeProxy: '1.35' });
  });
  afterAll(async () => {
    await nft.teardown(t).catch(() => {});
    await exec.run({ netns: t.netns, argv: ['nft', 'delete', 'table', 'ip', 'svcb-other'], allowFailure: true });
    await closeSandbox(exec, sb);
  });

  it('lists an absent table as empty with every method', async () => {
    for (const m of LISTING_METHODS) expect(await listTable(t, m)).toMatchObject({ chains: [], sets: [] });
  });

  it('returns the same chains and named sets with all three methods, and the root namespace is unchanged', async () => {
    const root = ns();
    const { state } = scaleStates(50, sb.plan.serviceCidr, sb.plan.podCidr);
    await sync(nft, t, undefined, state);
    await exec.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin: EXTRAS });
    const [a, b, c] = await Promise.all(LISTING_METHODS.map((m) => listTable(t, m)));
    expect(ns()).toEqual(root);
    expect({ chains: a!.chains, sets: a!.sets }).toEqual({ chains: b!.chains, sets: b!.sets });
    expect({ chains: c!.chains, sets: c!.sets }).toEqual({ chains: a!.chains, sets: a!.sets });
    expect(c!.sets).toEqual(['cluster-ips', 'svcb-named-set']);
    expect(c!.chains).toContain('svcb-extra');
    expect(c!.chains).not.toContain('other-chain');
    expect(c!.chains.filter((x) => /^service-[A-Z0-9]{8}-/.test(x))).toHaveLength(50);
  });

  it('reads every element store', async () => {
    const els = await readElements(t, Object.keys(ELEMENT_STORES));
    expect(els.get('cluster-ips')).toHaveLength(50);
    expect(els.get('service-ips')).toHaveLength(50);
  });

  it('dumps a table of 3,000 services (over 12,000 chains, many datagrams) the same as nft', async () => {
    const { state } = scaleStates(3000, sb.plan.serviceCidr, sb.plan.podCidr);
    await nft.teardown(t);
    await sync(nft, t, undefined, state);
    const root = ns();
    const viaNetlink = netlinkListTable(t.netns, { family: 'ip', table: 'kube-proxy' });
    expect(ns()).toEqual(root);
    const viaNft = await listTable(t, 'nft-terse');
    expect(viaNetlink.chains.length).toBeGreaterThan(12_000);
    expect(viaNetlink.chains).toEqual(viaNft.chains);
    expect(viaNetlink.sets).toEqual(viaNft.sets);
    expect(viaNetlink.stats.datagrams).toBeGreaterThan(10);
  });

  it('refuses the process own namespace and bad names, and stays in the root namespace', () => {
    const root = ns();
    expect(() => netfilterSocketIn('../../proc/self/ns/net')).toThrow(/bad namespace name/);
    expect(() => netfilterSocketIn('svcb-no-such-ns')).toThrow(/ENOENT/);
    expect(ns()).toEqual(root);
    expect(NamespaceEscapeError).toBeDefined();
  });
});
