// A structured iptables ruleset and its two serialisations:
//  - toRestorePayload: one `iptables-restore --noflush` transaction, shaped like kube-proxy's
//    (per table "*table", chain lines, rules, "COMMIT"), nat before filter as kube-proxy's IPVS
//    mode writes them (its only user; the iptables mode's filter-first payload is render.ts's);
//  - toRuleCommands: one iptables argv per change, for a naive controller that edits rule by rule.
import { isServiceChainName } from './hash.js';

export type TableName = 'filter' | 'nat';
/** The tables, in the order the rule-by-rule commands and the read-back visit them. */
export const TABLES: readonly TableName[] = ['filter', 'nat'];

/**
 * One rule: the argv that follows `-A CHAIN`, unquoted. A comment with spaces is a single
 * element, e.g. ['-m', 'comment', '--comment', 'ns1/svc1:p80 cluster IP', '-j', 'KUBE-SVC-…'].
 */
export type Rule = readonly string[];

export interface Chain {
  readonly name: string;
  readonly rules: Rule[];
}

/** Per table, an ordered list of chains, each with an ordered list of rules. */
export interface Ruleset {
  filter: Chain[];
  nat: Chain[];
}

/** Chains to remove per table (flushed by a chain line, then `-X`). */
export type ChainDeletions = Partial<Record<TableName, readonly string[]>>;

/**
 * A jump rule from a built-in chain into one of ours (kube-proxy's iptablesJumpChains ≈L395).
 * These are never part of the restore payload: kube-proxy installs each one on full syncs with
 * EnsureChain (`-N dstChain`, "already exists" is fine) and EnsureRule(Prepend) (`-C`, then `-I`).
 */
export interface JumpRule {
  readonly table: TableName;
  /** Built-in chain holding the rule (PREROUTING, INPUT, …). */
  readonly srcChain: string;
  /** Our chain it jumps to. */
  readonly dstChain: string;
  /** The rule after `-A srcChain`. */
  readonly rule: Rule;
}

export const emptyRuleset = (): Ruleset => ({ filter: [], nat: [] });

// iptables-restore's tokenizer (xshared.c add_param_to_argv) splits on blanks and only knows
// double quotes, inside which a backslash escapes the next character.
const ESCAPE_IN_QUOTES = /["'\\]/g;

/** A character scan rather than a regex: the payload of 10,000 services has 1.5M arguments. */
function needsQuotes(arg: string): boolean {
  if (arg.length === 0) return true;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    // blanks and control characters, '"', "'", '\\'
    if (c <= 32 || c === 34 || c === 39 || c === 92) return true;
  }
  return false;
}

/**
 * Quote one argument for iptables-restore. Like kube-proxy, only arguments that need it are
 * quoted ("ns1/svc1:p80 cluster IP" is, ns1/svc1:p80 is not); escapes follow iptables-save's
 * xtables_save_string (\" \' \\).
 */
export function quoteArg(arg: string): string {
  if (!needsQuotes(arg)) return arg;
  return `"${arg.replace(ESCAPE_IN_QUOTES, (c) => `\\${c}`)}"`;
}

/** `-A CHAIN args…` as one restore-file line (op may be -I/-D/-C for display). */
export function formatRule(chain: string, rule: Rule, op = '-A'): string {
  return rule.length === 0 ? `${op} ${chain}` : `${op} ${chain} ${joinArgs(rule)}`;
}

/** Arguments quoted into a copy only when needed, then one join (a flat string, no ropes). */
function joinArgs(rule: Rule): string {
  let args: readonly string[] = rule;
  for (let i = 0; i < rule.length; i++) {
    if (!needsQuotes(rule[i]!)) continue;
    if (args === rule) args = rule.slice();
    (args as string[])[i] = quoteArg(rule[i]!);
  }
  return args.join(' ');
}

/**
 * Accumulates the lines of one payload section (chain lines, a top-level chain's rules), joined
 * in batches of 512: a batch array dies young and its joined text is one flat string, so the
 * lines themselves, ropes of a few parts each, rarely survive a scavenge. (The bulk of a payload,
 * the per-service rules, goes through ../text-buffer.ts's ScriptWriter into a reused Buffer.)
 */
export class LineWriter {
  private batch: string[] = [];
  private readonly chunks: string[] = [];
  /** Lines written so far. */
  lines = 0;

  line(s: string): void {
    this.batch.push(s);
    this.lines++;
    if (this.batch.length === 512) {
      this.chunks.push(this.batch.join('\n'));
      this.batch = [];
    }
  }

  /** Appends every line written so far to `out` as newline-free chunks (none when empty). */
  flushTo(out: string[]): void {
    if (this.batch.length > 0) {
      this.chunks.push(this.batch.join('\n'));
      this.batch = [];
    }
    for (const c of this.chunks) out.push(c);
    this.chunks.length = 0;
  }
}

/** kube-proxy's MakeChainLine: `:CHAIN - [0:0]` creates the chain, or flushes it if it exists. */
export const chainLine = (chain: string): string => `:${chain} - [0:0]`;

/**
 * Serialise to an `iptables-restore --noflush` payload, nat then filter: kube-proxy's IPVS mode
 * (pkg/proxy/ipvs/proxier.go, syncProxyRules) writes natChains, natRules, then filterChains,
 * filterRules into its one restore. The order matters: iptables-restore commits table by table, at
 * each COMMIT line, so nat is live before filter is parsed, and a payload rejected in filter leaves
 * nat committed. Every chain listed is declared (created or flushed) and rewritten in full; chains
 * not listed are left alone by --noflush. Deleted chains are declared too (which flushes them) and
 * then removed with `-X`, as kube-proxy does for stale service chains (≈L1381). Within a table: all
 * chain lines, then the rules chain by chain, then the deletions; kube-proxy interleaves rules of
 * different chains, which iptables treats the same.
 */
export function toRestorePayload(ruleset: Ruleset, deletions: ChainDeletions = {}): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const chains = ruleset[table];
    const deleted = deletions[table] ?? [];
    out.push(`*${table}`);
    for (const c of chains) out.push(chainLine(c.name));
    for (const name of deleted) out.push(chainLine(name));
    for (const c of chains) {
      const prefix = `-A ${c.name} `;
      for (const r of c.rules) out.push(r.length === 0 ? `-A ${c.name}` : prefix + joinArgs(r));
    }
    for (const name of deleted) out.push(`-X ${name}`);
    out.push('COMMIT');
  }
  out.push('');
  return out.join('\n');
}

export interface RuleCommandOptions {
  /**
   * Chains edited rule by rule (`-D` for removed rules, `-I pos`/`-A` for new ones) rather than
   * rewritten (`-F`, then `-A` for every rule). Default: every chain except kube-proxy's per-service
   * chains, i.e. KUBE-SERVICES, KUBE-NODEPORTS and the filter chains get per-rule edits, while a
   * changed KUBE-SVC/SVL/EXT/FW/SEP chain is rewritten.
   */
  editInPlace?: (table: TableName, chain: string) => boolean;
}

const defaultEditInPlace = (_t: TableName, chain: string): boolean => !isServiceChainName(chain);

/** A string that identifies a rule's argv exactly (used for multiset comparisons). */
export const ruleKey = (rule: Rule): string => rule.join('\u0000');

function chainsByName(chains: readonly Chain[]): Map<string, Chain> {
  const m = new Map<string, Chain>();
  for (const c of chains) m.set(c.name, c);
  return m;
}

function sameRules(a: readonly Rule[], b: readonly Rule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/**
 * Per-rule edits turning `prev` into `next` for one chain, or undefined when the rules that are
 * kept would have to move (then the caller rewrites the chain). Removed rules go by spec (`-D
 * CHAIN rule…`); new ones are inserted at their final 1-based position, or appended at the end.
 */
function editChain(t: string, chain: string, prev: readonly Rule[], next: readonly Rule[]): string[][] | undefined {
  const wanted = new Map<string, number>();
  for (const r of next) {
    const k = ruleKey(r);
    wanted.set(k, (wanted.get(k) ?? 0) + 1);
  }
  const deletes: string[][] = [];
  const deletedKeys = new Set<string>();
  const kept: string[] = [];
  for (const r of prev) {
    const k = ruleKey(r);
    const n = wanted.get(k) ?? 0;
    if (n > 0) {
      wanted.set(k, n - 1);
      kept.push(k);
    } else {
      deletes.push(['-t', t, '-D', chain, ...r]);
      deletedKeys.add(k);
    }
  }
  // `-D CHAIN rule…` removes the first identical rule: ambiguous if a copy is also kept.
  for (const k of kept) if (deletedKeys.has(k)) return undefined;
  const inserts: string[][] = [];
  let j = 0;
  let length = kept.length;
  for (let i = 0; i < next.length; i++) {
    const r = next[i]!;
    if (j < kept.length && kept[j] === ruleKey(r)) {
      j++;
      continue;
    }
    // Position i+1 once all earlier rules are in place; appending avoids a rule number.
    inserts.push(i >= length ? ['-t', t, '-A', chain, ...r] : ['-t', t, '-I', chain, String(i + 1), ...r]);
    length++;
  }
  if (j !== kept.length) return undefined; // kept rules are out of order
  return [...deletes, ...inserts];
}

/**
 * argv lists (without the iptables binary) for a rule-by-rule controller.
 *
 * Without `prev` (full sync onto tables that hold none of these chains): `-N` every chain, then
 * `-A` every rule. With `prev` (what is installed), only differences, in an order that never
 * references a missing chain nor deletes a referenced one:
 *   1. `-N` chains that are new;
 *   2. fill new chains and rewrite changed ones that are not edited in place (`-F`, then `-A`);
 *   3. per-rule `-D`/`-I`/`-A` in the edited-in-place chains, which hook the chains of step 2 in
 *      (falling back to `-F` + `-A` when kept rules would have to move);
 *   4. `-F` every chain that is gone, then 5. `-X` them.
 * Jump rules from built-in chains are not included (see JumpRule).
 */
export function toRuleCommands(next: Ruleset, prev?: Ruleset, opts: RuleCommandOptions = {}): string[][] {
  const out: string[][] = [];
  if (!prev) {
    for (const t of TABLES) for (const c of next[t]) out.push(['-t', t, '-N', c.name]);
    for (const t of TABLES) for (const c of next[t]) for (const r of c.rules) out.push(['-t', t, '-A', c.name, ...r]);
    return out;
  }
  const editInPlace = opts.editInPlace ?? defaultEditInPlace;
  const created: string[][] = [];
  const rewritten: string[][] = [];
  const edited: string[][] = [];
  const flushed: string[][] = [];
  const removed: string[][] = [];
  for (const t of TABLES) {
    const before = chainsByName(prev[t]);
    const after = chainsByName(next[t]);
    for (const c of next[t]) {
      const old = before.get(c.name);
      const inPlace = editInPlace(t, c.name);
      if (!old) {
        created.push(['-t', t, '-N', c.name]);
        const into = inPlace ? edited : rewritten;
        for (const r of c.rules) into.push(['-t', t, '-A', c.name, ...r]);
        continue;
      }
      if (sameRules(old.rules, c.rules)) continue;
      const edits = inPlace ? editChain(t, c.name, old.rules, c.rules) : undefined;
      if (edits) {
        edited.push(...edits);
      } else {
        // A hook chain that cannot be edited in place is still rewritten in step 3, after the
        // chains it jumps to are complete.
        const into = inPlace ? edited : rewritten;
        into.push(['-t', t, '-F', c.name]);
        for (const r of c.rules) into.push(['-t', t, '-A', c.name, ...r]);
      }
    }
    for (const c of prev[t]) {
      if (after.has(c.name)) continue;
      if (c.rules.length > 0) flushed.push(['-t', t, '-F', c.name]);
      removed.push(['-t', t, '-X', c.name]);
    }
  }
  out.push(...created, ...rewritten, ...edited, ...flushed, ...removed);
  return out;
}
