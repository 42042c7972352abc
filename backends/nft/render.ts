// Pure render of kube-proxy's nftables ruleset: one `nft -f` transaction per sync plus the
// structured description (table.ts) of the table that transaction leaves installed, in the
// layout of one kube-proxy line (profiles.ts).
//
// Source: kubernetes/kubernetes pkg/proxy/nftables/proxier.go: setupNFTables (setup.ts),
// syncProxyRules' service loop and writeServiceToEndpointRules (service.ts), nftElementStorage
// (context.ts). Expected output: proxier_test.go TestOverallNFTablesRules at the commits of
// ../shared/reference/kube-proxy-nftables-versions.md (testdata/ and render.test.ts).
//
// Deliberate differences from kube-proxy, all behaviour-neutral:
// - Stale chains and affinity sets are not found here: kube-proxy finds them by listing the
//   table on every sync, so the backend's apply does (staleObjects() below turns its listing
//   into the flush/delete lines), and deletes flushed chains ≥ 1 s later in a transaction of
//   its own (sync-work.ts).
// - Services are emitted in input order (kube-proxy iterates a Go map: random order per sync).
// - No "drop traffic to unallocated ClusterIPs" rule: kube-proxy adds it only when it knows
//   the service CIDRs, and ProxyConfig carries none.
// - NodePorts use the match-all form (no --nodeport-addresses), so cfg.nodeIPs is not used.
// - Rules are written as kube-proxy writes them; the description holds them as `nft list`
//   prints them (listed.ts), for read-back.

import { sameEndpoints, sameService } from '../../src/model/change.js';
import type { ClusterState, Endpoint, ProxyConfig, Service } from '../../src/model/types.js';
import { serviceKey } from '../../src/model/types.js';
import { newContext, TABLE, T, type Context, type RenderStats, type TableIndex } from './context.js';
import { isAffinitySetName, isServiceChainName } from './names.js';
import { profileOf, type KubeProxyProfile, type Profile } from './profiles.js';
import { ScriptWriter } from './script.js';
import { ensureHairpin, isLbChainName, noteService, writeService } from './service.js';
import { trackedContainers, writeSetup } from './setup.js';
import type { TableDesc } from './table.js';
import { sortedEndpoints, validate } from './validate.js';
import { portNames } from './port-names.js';

export { TABLE, formatMark, type RenderStats } from './context.js';
export { CHAIN, SET } from './setup.js';

export interface RenderOptions {
  /** The kube-proxy line whose layout is rendered (default: profiles.ts DEFAULT_PROFILE). */
  profile?: KubeProxyProfile;
  /**
   * kube-proxy's first sync after start also does `add chain` + `delete chain` of every base
   * chain (proxier.flushed) so that changed base chain properties apply. Default true.
   */
  recreateBaseChains?: boolean;
  /**
   * What is installed now (readback.ts): elements are then diffed against it, as kube-proxy's
   * full sync does after reading them (nftElementStorage.readOrReset). Default: nothing
   * installed, every desired element is added.
   */
  installed?: TableDesc;
}

export interface RenderResult {
  readonly profile: Profile;
  /** The `nft -f` transaction, newline-terminated ('' when there is nothing to do). */
  readonly script: string;
  /** The table this transaction leaves installed, computed on first access (describe()) from
   * the state passed in: do not mutate that state before. */
  readonly desired: TableDesc;
  readonly stats: RenderStats;
  /** Service chains and affinity sets that exist after this sync (activeChains/Sets). */
  readonly activeChains: ReadonlySet<string>;
  readonly activeAffinitySets: ReadonlySet<string>;
  /** Element state per tracked container after this sync (nftElementStorage). */
  readonly elements: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** Full sync: setupNFTables + every service's chains; elements added (or diffed against opts.installed). */
export function renderFull(state: ClusterState, cfg: ProxyConfig, opts: RenderOptions = {}): RenderResult {
  const profile = profileOf(opts.profile);
  const eps = validate(state, cfg);
  const installed = opts.installed === undefined ? undefined : indexOf(opts.installed, profile);
  const ctx = newContext(cfg, profile, trackedContainers({ profile }), installed, new ScriptWriter(), undefined);
  writeSetup(ctx, opts.recreateBaseChains ?? true);
  const services = state.services;
  for (let i = 0; i < services.length; i++) writeService(ctx, services[i] as Service, sortedEndpoints(eps[i] ?? []), true);
  return finish(ctx, () => describe(state, cfg, profile.name));
}

/**
 * Partial sync from prev to next: only services whose Service or endpoints changed get their
 * chains rewritten; map and set elements are diffed. Assumes cfg is unchanged (kube-proxy
 * restarts, and so full-syncs, on a config change).
 */
export function renderPartial(
  prev: ClusterState,
  next: ClusterState,
  cfg: ProxyConfig,
  opts: Pick<RenderOptions, 'profile'> = {},
): RenderResult {
  const profile = profileOf(opts.profile);
  const tracked = trackedContainers({ profile });
  const prevKeys = prev.services.map(serviceKey);
  const keys = next.services.map(serviceKey);
  const unchanged = unchangedServices(prev, next, prevKeys, keys);
  const nextEps = validate(next, cfg, unchanged, keys);

  // A service whose Service and endpoints are the same in prev and next writes nothing and its
  // elements are on both sides alike: it is left out of the element diff (skipServiceUpdate),
  // but its chains stay active and its hairpin keys, which other services may share, counted.
  const before = newContext(cfg, profile, tracked, undefined, undefined, undefined);
  writeSetup(before, false);
  for (let i = 0; i < prevKeys.length; i++) {
    const key = prevKeys[i] as string;
    const eps = sortedEndpoints(prev.endpoints[key] ?? []);
    if (!unchanged.has(key)) writeService(before, prev.services[i] as Service, eps, false);
    else if (profile.masquerade === 'services-rule') hairpinOf(before, prev.services[i] as Service, eps);
  }
  const installed: TableIndex = { chains: before.chains, affinitySets: before.affinitySets, elements: before.elements };

  const ctx = newContext(cfg, profile, tracked, installed, new ScriptWriter(), undefined);
  writeSetup(ctx, false, false); // no setupNFTables on a partial sync; only the bookkeeping
  for (let i = 0; i < keys.length; i++) {
    const svc = next.services[i] as Service;
    const eps = sortedEndpoints(nextEps[i] ?? []);
    if (!unchanged.has(keys[i] as string)) writeService(ctx, svc, eps, true);
    else {
      noteService(ctx, svc, eps);
      if (profile.masquerade === 'services-rule') hairpinOf(ctx, svc, eps);
    }
  }
  return finish(ctx, () => describe(next, cfg, profile.name));
}

const hairpinOf = (ctx: Context, svc: Service, eps: readonly Endpoint[]): void => {
  for (const port of svc.ports) ensureHairpin(ctx, portNames(svc, port), eps);
};

/** Services whose Service and endpoints are equal in prev and next (new but equal objects too). */
function unchangedServices(prev: ClusterState, next: ClusterState, prevKeys: readonly string[], keys: readonly string[]): Set<string> {
  const prevByKey = new Map<string, Service>();
  for (let i = 0; i < prevKeys.length; i++) prevByKey.set(prevKeys[i] as string, prev.services[i] as Service);
  const unchanged = new Set<string>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const old = prevByKey.get(key);
    if (old !== undefined && sameService(old, next.services[i] as Service) && sameEndpoints(prev.endpoints[key], next.endpoints[key]))
      unchanged.add(key);
  }
  return unchanged;
}

/** The table a full sync of `state` installs (no transaction text). */
export function describe(state: ClusterState, cfg: ProxyConfig, profile?: KubeProxyProfile): TableDesc {
  const p = profileOf(profile);
  const desc: TableDesc = { family: 'ip', name: TABLE, comment: 'rules for kube-proxy', chains: new Map(), sets: new Map() };
  const ctx = newContext(cfg, p, trackedContainers({ profile: p }), undefined, undefined, desc);
  writeSetup(ctx, false);
  for (const svc of state.services) writeService(ctx, svc, sortedEndpoints(state.endpoints[serviceKey(svc)] ?? []), true);
  return desc;
}

function indexOf(t: TableDesc, profile: Profile): TableIndex {
  const elements = new Map<string, Map<string, string>>();
  for (const name of trackedContainers({ profile })) {
    const s = t.sets.get(name);
    if (s !== undefined) elements.set(name, s.elements);
  }
  return { chains: new Set(t.chains.keys()), affinitySets: new Set([...t.sets.keys()].filter(isAffinitySetName)), elements };
}

/** cleanupLeftoverKeys, then the result. */
function finish(ctx: Context, describeNext: () => TableDesc): RenderResult {
  const w = ctx.w as ScriptWriter;
  for (const [name, keys] of ctx.leftover) {
    for (const key of keys) {
      w.line(`delete element ${T} ${name} { ${key} }`);
      (ctx.elements.get(name) as Map<string, string>).delete(key);
      ctx.stats.elementsDeleted++;
    }
  }
  ctx.stats.lines = w.lines;
  const script = w.toString();
  let desired: TableDesc | undefined;
  return {
    profile: ctx.profile,
    script,
    stats: ctx.stats,
    activeChains: ctx.chains,
    activeAffinitySets: ctx.affinitySets,
    elements: ctx.elements,
    get desired(): TableDesc {
      desired ??= describeNext();
      return desired;
    },
  };
}

/**
 * What a listing of the table makes stale (syncProxyRules, "Figure out which chains are now
 * stale"): service chains that this sync does not keep are flushed now and deleted ≥ 1 s
 * later (kernels before 6.2 notice only some time after a map element went that a chain is no
 * longer referenced); affinity sets that it does not keep are deleted now. The lines go after
 * the sync's own, so that nothing refers to a flushed chain or deleted set any more.
 */
export function staleObjects(
  r: RenderResult,
  listing: { chains: Iterable<string>; sets: Iterable<string> },
): { chains: string[]; sets: string[]; lines: string[] } {
  const chains: string[] = [];
  const sets: string[] = [];
  // single-map's shared lb-N-endpoints chains go the same way once no service uses them.
  for (const c of listing.chains) if ((isServiceChainName(c) || isLbChainName(c)) && !r.activeChains.has(c)) chains.push(c);
  for (const s of listing.sets) if (isAffinitySetName(s) && !r.activeAffinitySets.has(s)) sets.push(s);
  const lines = [...chains.map((c) => `flush chain ${T} ${c}`), ...sets.map((s) => `delete set ${T} ${s}`)];
  return { chains, sets, lines };
}

/**
 * A full sync after reading the element stores (readOrReset): the read elements that this sync
 * does not want, or wants with another value, are deleted first (an `add` cannot change a map
 * element's value). `read` holds, per container, "KEY" or "KEY : VALUE" texts.
 */
export function elementFixes(r: RenderResult, read: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [name, texts] of read) {
    const want = r.elements.get(name);
    if (want === undefined) continue;
    for (const text of texts) {
      const sep = text.indexOf(' : ');
      const key = sep < 0 ? text : text.slice(0, sep);
      const value = sep < 0 ? '' : text.slice(sep + 3);
      if (want.get(key) !== value) out.push(`delete element ${T} ${name} { ${key} }`);
    }
  }
  return out;
}
