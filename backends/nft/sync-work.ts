// What one kube-proxy sync does besides writing its transaction, timed per phase (reference §2):
// stale-delete (syncProxyRules' first transaction: chains flushed ≥ 1 s earlier), read-elements
// (full sync: readOrReset of every element store), list (chains and sets, the profile's way),
// apply (`nft -f -`). Order as in kubernetes/kubernetes pkg/proxy/nftables/proxier.go
// syncProxyRules (read at 01d7de5464ba38091b53e0a4d5077ddde9553c08: "If there are
// sufficiently-stale chains left over from previous transactions, try to delete them now" …
// "Figure out which chains are now stale … So we flush them now, and record the time that they
// become stale in staleChains so they can be deleted later").

import type { Applied, NodeTarget, Rendered } from '../types.js';
import { T } from './context.js';
import { listTable, readElements, type TableListing } from './listing.js';
import { profileOf, type ListingMethod } from './profiles.js';
import { elementFixes, staleObjects, type RenderResult } from './render.js';

/** kube-proxy's in-memory state of one node (Proxier.staleChains; the #139878 tracking). */
export interface NftMemory {
  /** Stale service chain → when it was (last) flushed, in clock ms. */
  staleChains: Map<string, number>;
  /** `none` listing: the chains and sets this node's syncs left, as tracked in memory. */
  installed: TableListing;
  clock: () => number;
}

const KEY = 'nft';
/** Delay between flushing a stale chain and deleting it (proxier.go: oneSecondAgo). */
export const STALE_DELETE_DELAY_MS = 1000;

/** The node's memory, created on first use. A target without a memory map gets a fresh one per call. */
export function nftMemory(t: NodeTarget): NftMemory {
  const m = t.memory?.get(KEY) as NftMemory | undefined;
  if (m !== undefined) return m;
  const fresh: NftMemory = { staleChains: new Map(), installed: { chains: [], sets: [] }, clock: Date.now };
  t.memory?.set(KEY, fresh);
  return fresh;
}

/** The listing a sync uses: the profile's own, or `--nft-listing`'s. */
export function listingMethod(t: NodeTarget): ListingMethod {
  const o = t.options.nftListing;
  if (o === 'none') return 'none';
  if (o === 'netlink') return 'netlink';
  if (o === 'nft') return profileOf(t.options.kubeProxy).listing === 'nft-chains-sets' ? 'nft-chains-sets' : 'nft-terse';
  return profileOf(t.options.kubeProxy).listing;
}

/** Runs the sync's `nft -f -`; returns its memory when it was measured. */
type Run = (argv: string[], stdin: string) => Promise<Record<string, number> | undefined>;

export async function applySync(t: NodeTarget, rendered: Rendered<RenderResult>, runNft: Run): Promise<Applied> {
  const r = rendered.payload;
  const mem = nftMemory(t);
  const phases: Record<string, number> = {};
  let commands = 0;
  const timed = async <V>(name: string, fn: () => Promise<V>): Promise<V> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      phases[name] = performance.now() - t0;
    }
  };
  const start = mem.clock();

  commands += await timed('stale-delete', () => deleteStaleChains(t, mem, start));
  let fixes: string[] = [];
  if (rendered.kind === 'full') {
    fixes = await timed('read-elements', async () => {
      const stores = [...r.elements.keys()].map((name) => ({
        name,
        kind: name === 'cluster-ips' || name === 'hairpin-connections' ? ('set' as const) : ('map' as const),
      }));
      commands += stores.length;
      return elementFixes(r, await readElements(t, stores));
    });
  }
  const method = listingMethod(t);
  const listing = await timed('list', async () => {
    if (method === 'none') return mem.installed;
    const l = await listTable(t, method);
    // Processes: ≤ 1.35 lists chains and sets with two nft runs, 1.36 one; netlink dumps none.
    commands += method === 'nft-chains-sets' ? 2 : method === 'nft-terse' ? 1 : 0;
    return l;
  });
  const stale = staleObjects(r, listing);
  const script =
    (fixes.length > 0 ? `${fixes.join('\n')}\n` : '') + r.script + (stale.lines.length > 0 ? `${stale.lines.join('\n')}\n` : '');
  let commitAt: number | undefined;
  let memory: Record<string, number> | undefined;
  await timed('apply', async () => {
    if (script === '') return;
    commands++;
    commitAt = performance.now();
    memory = await runNft(['nft', '-f', '-'], script);
  });
  // proxier.go: a listed chain that is not active is flushed now and recorded with this sync's start.
  for (const c of stale.chains) mem.staleChains.set(c, start);
  for (const c of r.activeChains) mem.staleChains.delete(c);
  const staleSets = new Set(stale.sets);
  mem.installed = {
    chains: [...r.activeChains, ...mem.staleChains.keys()],
    sets: [...r.elements.keys(), ...r.activeAffinitySets, ...listing.sets.filter((s) => !staleSets.has(s) && !r.activeAffinitySets.has(s))],
  };
  return { commands, phases, ...(commitAt === undefined ? {} : { commitAt }), ...(memory ? { memory } : {}) };
}

/** The separate transaction at the start of a sync: `delete chain` of chains flushed ≥ 1 s ago.
 * As kube-proxy, a failure is not fatal (the chains get listed, flushed and recorded again). */
async function deleteStaleChains(t: NodeTarget, mem: NftMemory, start: number): Promise<number> {
  const due = [...mem.staleChains].filter(([, at]) => at <= start - STALE_DELETE_DELAY_MS).map(([c]) => c);
  if (due.length === 0) return 0;
  for (const c of due) mem.staleChains.delete(c);
  const stdin = due.map((c) => `delete chain ${T} ${c}\n`).join('');
  await t.exec.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin, allowFailure: true });
  return 1;
}
