// A structured description of the `ip kube-proxy` table: what render.ts wants installed
// and what readback.ts finds installed, in one shape so that diff() can compare them.

export type ChainType = 'filter' | 'nat' | 'route';
export type ChainHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';

/** Type, hook and priority of a base chain (one attached to a netfilter hook). */
export interface BaseChainSpec {
  type: ChainType;
  hook: ChainHook;
  /** Numeric priority: dstnat is -100, srcnat 100, filter 0. */
  priority: number;
  policy: 'accept' | 'drop';
}

export interface ChainDesc {
  name: string;
  /** Present for base chains only. */
  base?: BaseChainSpec;
  comment?: string;
  /**
   * Rule texts. render.ts writes them the way `nft list` prints them (so a text listing can
   * be compared line by line); readback.ts cannot rebuild the text from JSON and fills in a
   * summary instead (see readback.ts), so diff() compares rule counts and jump/goto targets.
   */
  rules: string[];
}

export interface SetDesc {
  name: string;
  kind: 'set' | 'map';
  /** Key type as nft writes it: "ipv4_addr . inet_proto . inet_service". */
  type: string;
  /** Data type of a map ("verdict"); undefined for a set. */
  map?: string;
  /** Written as `typeof …` instead of `type … : …` (type and map are then what nft lists). */
  typeof?: string;
  /** Sorted flag names ("dynamic", "timeout", "interval", "constant"). */
  flags: string[];
  /** Default element timeout in seconds. */
  timeout?: number;
  comment?: string;
  /**
   * Elements: key text ("172.30.0.41 . tcp . 80") → verdict text for maps ("goto X", "drop")
   * or '' for plain sets. Element comments are not part of the description.
   */
  elements: Map<string, string>;
}

export interface TableDesc {
  family: 'ip';
  name: string;
  comment?: string;
  chains: Map<string, ChainDesc>;
  /** Sets and maps by name (nft keeps them in one namespace). */
  sets: Map<string, SetDesc>;
}

export const emptyTable = (name = 'kube-proxy'): TableDesc => ({ family: 'ip', name, chains: new Map(), sets: new Map() });

const TARGET_RE = /\b(?:jump|goto) ([^\s,}]+)/g;

/**
 * The jump/goto targets of a rule text, sorted (an anonymous vmap's elements may come back
 * from the kernel in another order). `numgen … vmap { 0 : goto A, 1 : goto B }` → [A, B].
 */
export function ruleTargets(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(TARGET_RE)) out.push(m[1] as string);
  return out.sort();
}
