// The state of one render (what it writes, what it tracks) and the transaction primitives of
// knftables' text form: ensureChain, rules, sets and maps, nftElementStorage.ensureElem.

import type { ProxyConfig } from '../../src/model/types.js';
import { formatMark, listed } from './listed.js';
import type { Profile } from './profiles.js';
import type { ScriptWriter } from './script.js';
import type { ChainDesc, SetDesc, TableDesc } from './table.js';

export const TABLE = 'kube-proxy';
export const T = `ip ${TABLE}`;
const ADD_CHAIN = `add chain ${T} `;
const FLUSH_CHAIN = `flush chain ${T} `;
const ADD_RULE = `add rule ${T} `;
const ADD_ELEMENT = `add element ${T} `;
const DELETE_ELEMENT = `delete element ${T} `;

export interface RenderStats {
  /** Lines of the transaction. */
  lines: number;
  /** Services ("ns/name") whose chains were (re)written. */
  servicesWritten: number;
  /** Per-service chains written (add + flush + rules). */
  chainsWritten: number;
  rulesWritten: number;
  elementsAdded: number;
  elementsDeleted: number;
}

/** What a sync diffs its elements against (nftElementStorage's view of the kernel). */
export interface TableIndex {
  chains: Set<string>;
  affinitySets: Set<string>;
  elements: Map<string, Map<string, string>>;
}

export interface Context {
  cfg: ProxyConfig;
  profile: Profile;
  /** Transaction output; undefined when only bookkeeping or the description is wanted. */
  w: ScriptWriter | undefined;
  /** Full description being recorded (describe() only). */
  desc: TableDesc | undefined;
  /** Chains and affinity sets that exist after this sync (kube-proxy's activeChains/Sets). */
  chains: Set<string>;
  affinitySets: Set<string>;
  /** Element state per tracked container (nftElementStorage.elements). */
  elements: Map<string, Map<string, string>>;
  /** Keys installed before this sync and not ensured yet (nftElementStorage.leftoverKeys). */
  leftover: Map<string, Set<string>>;
  stats: RenderStats;
}

export function newContext(
  cfg: ProxyConfig,
  profile: Profile,
  tracked: readonly string[],
  installed: TableIndex | undefined,
  w: ScriptWriter | undefined,
  desc: TableDesc | undefined,
): Context {
  const elements = new Map<string, Map<string, string>>();
  const leftover = new Map<string, Set<string>>();
  for (const name of tracked) {
    const cur = installed?.elements.get(name);
    elements.set(name, new Map(cur ?? []));
    leftover.set(name, new Set(cur?.keys() ?? []));
  }
  const stats = { lines: 0, servicesWritten: 0, chainsWritten: 0, rulesWritten: 0, elementsAdded: 0, elementsDeleted: 0 };
  return { cfg, profile, w, desc, chains: new Set(), affinitySets: new Set(), elements, leftover, stats };
}

export { formatMark };

export const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** ensureChain: `add chain` + `flush chain` once per chain and sync. */
export function ensureChain(ctx: Context, name: string, write: boolean, comment?: string): void {
  if (ctx.chains.has(name)) return;
  ctx.chains.add(name);
  if (ctx.desc !== undefined) ctx.desc.chains.set(name, comment === undefined ? { name, rules: [] } : { name, comment, rules: [] });
  if (write && ctx.w !== undefined) {
    ctx.w.line(comment === undefined ? ADD_CHAIN + name : `${ADD_CHAIN}${name} { comment ${quote(comment)} ; }`);
    ctx.w.line(FLUSH_CHAIN + name);
  }
}

/** One rule, as kube-proxy writes it; the description keeps the form `nft list` prints (listed.ts). */
export function addRule(ctx: Context, chain: string, rule: string, write: boolean): void {
  if (ctx.desc !== undefined) (ctx.desc.chains.get(chain) as ChainDesc).rules.push(listed(rule, ctx.cfg.masqueradeMark));
  if (write && ctx.w !== undefined) {
    ctx.w.line(`${ADD_RULE}${chain} ${rule}`);
    ctx.stats.rulesWritten++;
  }
}

export function addContainer(ctx: Context, set: Omit<SetDesc, 'elements'>, write: boolean): void {
  if (ctx.desc !== undefined && !ctx.desc.sets.has(set.name)) {
    // The description shares the element state map, so ensureElem fills both.
    const elements = ctx.elements.get(set.name) ?? new Map<string, string>();
    ctx.desc.sets.set(set.name, { ...set, elements });
  }
  if (!write || ctx.w === undefined) return;
  let body =
    set.typeof !== undefined ? `typeof ${set.typeof} ;` : `type ${set.map === undefined ? set.type : `${set.type} : ${set.map}`} ;`;
  if (set.flags.length > 0) body += ` flags ${set.flags.join(',')} ;`;
  if (set.timeout !== undefined) body += ` timeout ${set.timeout}s ;`;
  if (set.comment !== undefined) body += ` comment ${quote(set.comment)} ;`;
  ctx.w.line(`add ${set.kind} ${T} ${set.name} { ${body} }`);
}

/** nftElementStorage.ensureElem: add new keys, delete + add changed values, keep the rest. */
export function ensureElem(ctx: Context, container: string, key: string, value: string, comment?: string): void {
  const state = ctx.elements.get(container) as Map<string, string>;
  ctx.leftover.get(container)?.delete(key);
  const existing = state.get(key);
  if (existing === value) return;
  state.set(key, value);
  const w = ctx.w;
  if (w === undefined) return;
  if (existing !== undefined) {
    w.line(`${DELETE_ELEMENT}${container} { ${key} }`);
    ctx.stats.elementsDeleted++;
  }
  const c = comment === undefined ? '' : ` comment ${quote(comment)}`;
  w.line(value === '' ? `${ADD_ELEMENT}${container} { ${key}${c} }` : `${ADD_ELEMENT}${container} { ${key}${c} : ${value} }`);
  ctx.stats.elementsAdded++;
}
