import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nft } from '../../backends/nft/backend.js';
import { readElements } from '../../backends/nft/listing.js';
import { KUBE_PROXY_PROFILES } from '../../backends/nft/profiles.js';
import type { RenderResult } from '../../backends/nft/render.js';
import type { NodeTarget, Rendered } from '../../backends/types.js';
import type { ClusterState } from '../../src/model/types.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import { RealExec } from '../../src/exec/index.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { sync } from '../../src/sync.js';
import { scaleStates } from '../../scripts/bench-render.js';
import { isRoot } from '../helpers.js';

// kube-proxy restarting onto a table it left (proxier.go: the first sync is a full sync, whose
// nftElementStorage.readOrReset reads every element store and deletes what the new state does
// not want), for every profile: the installed table comes from one state, the restart's full
// sync from another, with a fresh in-memory state (no stale-chain record, nothing tracked).

const exec = new RealExec();
const storeKind = (name: string) => (name === 'cluster-ips' || name === 'hairpin-connections' ? ('set' as const) : ('map' as const));
/** The element texts readElements returns, as render.ts keeps them ("KEY" or "KEY : VALUE"). */
const texts = (els: ReadonlyMap<string, string>): string[] => [...els].map(([k, v]) => (v === '' ? k : `${k} : ${v}`)).sort();

describe.runIf(isRoot)('nft restart: a full sync onto a table a different state left', () => {
  let sb: Sandbox;
  let before: ClusterState;
  let after: ClusterState;
  beforeAll(async () => {
    sb = await openSandbox(exec, sandboxSchema.parse({ pods: 3 }), { command: 'test nft-restart' });
    before = scaleStates(60, sb.plan.serviceCidr, sb.plan.podCidr).state;
    // The restart's state: 10 services gone, 10 with one endpoint fewer (slot 0's), 5 without
    // endpoints, 5 new (scaleStates(65) allocates the first 60 as scaleStates(60) does).
    const grown = scaleStates(65, sb.plan.serviceCidr, sb.plan.podCidr).state;
    const services = grown.services.slice(10);
    const endpoints = { ...grown.endpoints };
    for (const s of services.slice(0, 10)) endpoints[`${s.namespace}/${s.name}`] = (endpoints[`${s.namespace}/${s.name}`] ?? []).slice(1);
    for (const s of services.slice(10, 15)) endpoints[`${s.namespace}/${s.name}`] = [];
    after = { services, endpoints };
  });
  afterAll(async () => {
    await nft.teardown(nodeTarget(exec, sb, { iptablesMode: 'legacy', syncTimeoutMs: 60_000 })).catch(() => {});
    await closeSandbox(exec, sb);
  });

  it.each(KUBE_PROXY_PROFILES.map((p) => [p]))(
    'kube-proxy %s: stale elements are found and deleted, read-back has no difference',
    async (profile) => {
      const target = (): NodeTarget => nodeTarget(exec, sb, { iptablesMode: 'legacy', syncTimeoutMs: 60_000, kubeProxy: profile });
      const first = target();
      await nft.teardown(first);
      const cold = await sync(nft, first, undefined, before);
      expect(await nft.readBack(first, cold.rendered)).toEqual([]);

      const restarted = target(); // a new process: empty memory
      const wanted = nft.render(undefined, after, restarted.cfg, restarted.options).payload.elements;
      const stores = [...wanted.keys()].map((name) => ({ name, kind: storeKind(name) }));
      const installed = await readElements(restarted, stores);
      const stale = [...installed].flatMap(([name, els]) => {
        const want = new Set(texts(wanted.get(name) ?? new Map()));
        return els.filter((e) => !want.has(e)).map((e) => `${name}: ${e}`);
      });
      // At least the 10 services gone and the 5 without endpoints (single-map: also the services
      // whose lb-N-endpoints chain changed).
      expect(stale.filter((s) => s.startsWith('service-ips: ')).length).toBeGreaterThanOrEqual(15);
      if (profile === 'single-map') expect(stale.filter((s) => s.startsWith('endpoints-tcp: ')).length).toBeGreaterThan(0);

      const restart = (await sync(nft, restarted, undefined, after)) as {
        rendered: Rendered<RenderResult>;
        record: { phases: Record<string, number> };
      };
      expect(Object.keys(restart.record.phases)).toContain('read-elements');
      expect(await nft.readBack(restarted, restart.rendered)).toEqual([]);
      // readElements formats concatenated keys and values as render.ts keeps them: every store
      // reads back exactly the elements this sync wants.
      const now = await readElements(restarted, stores);
      for (const [name, els] of restart.rendered.payload.elements)
        expect({ name, els: [...(now.get(name) ?? [])].sort() }).toEqual({ name, els: texts(els) });
    },
  );
});
