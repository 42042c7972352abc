// Read back what the kernel holds (`nft -j list table ip kube-proxy`) into the description
// render.ts produces (table.ts), and compare the two.
//
// Compared exactly: the set of chains, base chain type/hook/priority/policy, per-chain rule
// counts and each rule's jump/goto targets, every set and map (kind, key type, data type,
// flags, timeout) and every element with its verdict. Not compared: rule text (JSON
// expressions are not turned back into nft syntax; parseListingRules() below reads the text
// listing when exact rule text is wanted), comments (nft 1.0.6 drops table and chain comments
// from JSON), and elements of dynamic sets (the datapath adds them: affinity-*).

import { z } from 'zod';
import { BenchError } from '../../src/errors.js';
import { nftKinds, nftListOutput } from './schema.js';
import type { NftChain, NftListOutput, NftMap, NftRule, NftSet, NftSetElem, NftTable, NftValue } from './schema.js';
import { ruleTargets } from './table.js';
import type { ChainDesc, SetDesc, TableDesc } from './table.js';

/** The installed table could not be read: what nft printed is not what was expected. */
export class ReadbackError extends BenchError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, {
      ...opts,
      hint: 'compare `nft -j list table ip kube-proxy` in the node namespace with backends/nft/schema.ts (written for nft 1.0.6)',
    });
    this.name = 'ReadbackError';
  }
}

/**
 * Validate `nft -j` output (text or parsed). On failure the message names the first
 * offending object, e.g. "nftables[12] (chain): prio: Invalid input: expected number".
 */
export function parseNftJson(input: string | unknown): NftListOutput {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new ReadbackError(`nft -j output is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const res = nftListOutput.safeParse(json);
  if (res.success) return res.data;
  throw new ReadbackError(`nft -j output does not match the libnftables JSON schema: ${explain(json, res.error)}`, { cause: res.error });
}

/** Re-validate the failing object against its own kind's schema for a readable message. */
function explain(json: unknown, error: z.ZodError): string {
  const idx = error.issues[0]?.path[1];
  const items = (json as { nftables?: unknown })?.nftables;
  if (typeof idx === 'number' && Array.isArray(items)) {
    const obj = items[idx] as Record<string, unknown> | null;
    const kind = obj !== null && typeof obj === 'object' ? Object.keys(obj)[0] : undefined;
    if (kind !== undefined && kind in nftKinds) {
      const r = nftKinds[kind as keyof typeof nftKinds].safeParse(obj?.[kind]);
      if (!r.success) return `nftables[${idx}] (${kind}): ${z.prettifyError(r.error).replaceAll('\n', '; ')}`;
    }
  }
  return z.prettifyError(error).replaceAll('\n', '; ');
}

/** Element key/value text as nft writes it: "172.30.0.41 . tcp . 80", "10.0.0.0/8". */
export function valueText(v: NftValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if ('concat' in v) return v.concat.map((a) => valueText(a)).join(' . ');
  if ('prefix' in v) return `${v.prefix.addr}/${v.prefix.len}`;
  return `${v.range[0]}-${v.range[1]}`;
}

const elemKey = (e: NftSetElem): string => (typeof e === 'object' && 'elem' in e ? valueText(e.elem.val) : valueText(e));

/** Verdict (or plain data) text: "goto X", "jump X", "drop", … */
export function verdictText(v: unknown): string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const [kind, arg] = Object.entries(v)[0] ?? [];
    if (kind === 'goto' || kind === 'jump') return `${kind} ${(arg as { target: string }).target}`;
    if (kind === 'drop' || kind === 'accept' || kind === 'continue' || kind === 'return') return kind;
  }
  return valueText(v as NftValue);
}

/** The jump/goto statements of a rule's expressions, in walk order ("jump X", "goto Y"). */
function exprVerdicts(expr: unknown, out: string[]): void {
  if (Array.isArray(expr)) {
    for (const e of expr) exprVerdicts(e, out);
  } else if (typeof expr === 'object' && expr !== null) {
    for (const [k, v] of Object.entries(expr)) {
      if ((k === 'jump' || k === 'goto') && typeof v === 'object' && v !== null && 'target' in v)
        out.push(`${k} ${String((v as { target: unknown }).target)}`);
      else exprVerdicts(v, out);
    }
  }
}

/**
 * The installed table as a description. A read-back rule is summarised as its jump/goto
 * verdicts (and comment), e.g. `goto endpoint-A, goto endpoint-B comment "…"`: enough for
 * diff() to compare rule counts and targets with the rendered rule text.
 */
export function readback(input: string | unknown, table = 'kube-proxy'): TableDesc {
  const list = parseNftJson(input);
  const desc: TableDesc = { family: 'ip', name: table, chains: new Map(), sets: new Map() };
  let seenTable = false;
  for (const obj of list.nftables) {
    if ('table' in obj) {
      const t = obj.table as NftTable;
      if (t.family === 'ip' && t.name === table) {
        seenTable = true;
        if (t.comment !== undefined) desc.comment = t.comment;
      }
    } else if ('chain' in obj) {
      const c = obj.chain as NftChain;
      if (c.family !== 'ip' || c.table !== table) continue;
      const chain: ChainDesc = { name: c.name, rules: [] };
      if (c.type !== undefined && c.hook !== undefined)
        chain.base = { type: c.type, hook: c.hook, priority: c.prio ?? 0, policy: c.policy ?? 'accept' };
      if (c.comment !== undefined) chain.comment = c.comment;
      desc.chains.set(c.name, chain);
    } else if ('rule' in obj) {
      const r = obj.rule as NftRule;
      if (r.family !== 'ip' || r.table !== table) continue;
      const chain = desc.chains.get(r.chain);
      if (chain === undefined) throw new ReadbackError(`rule ${r.handle} refers to chain ${r.chain}, which was not listed before it`);
      const verdicts: string[] = [];
      exprVerdicts(r.expr, verdicts);
      const comment = r.comment === undefined ? '' : ` comment "${r.comment}"`;
      chain.rules.push(`${verdicts.join(', ')}${comment}`.trim());
    } else if ('map' in obj || 'set' in obj) {
      const m = 'map' in obj ? (obj.map as NftMap) : undefined;
      const s = m ?? (obj as { set: NftSet }).set;
      if (s.family !== 'ip' || s.table !== table) continue;
      const set: SetDesc = {
        name: s.name,
        kind: m === undefined ? 'set' : 'map',
        type: Array.isArray(s.type) ? s.type.join(' . ') : s.type,
        flags: [...(s.flags ?? [])].sort(),
        elements: new Map(),
      };
      if (s.timeout !== undefined) set.timeout = s.timeout;
      if (s.comment !== undefined) set.comment = s.comment;
      if (m !== undefined) {
        set.map = Array.isArray(m.map) ? m.map.join(' . ') : m.map;
        for (const [k, v] of m.elem ?? []) set.elements.set(elemKey(k), verdictText(v));
      } else {
        for (const e of (s as NftSet).elem ?? []) set.elements.set(elemKey(e), '');
      }
      desc.sets.set(s.name, set);
    }
  }
  if (!seenTable) throw new ReadbackError(`table ip ${table} is not in the nft -j output`);
  return desc;
}

export interface DiffOptions {
  /** Stop after this many differences (default: all). */
  max?: number;
}

/**
 * Differences between the desired and the installed table, one readable line each; empty
 * when they agree. Lines start with the object they concern ("chain X: …", "map Y: …").
 */
export function diff(desired: TableDesc, installed: TableDesc, opts: DiffOptions = {}): string[] {
  const out = new DiffSink(opts.max ?? Infinity);
  if (desired.comment !== undefined && installed.comment !== undefined && desired.comment !== installed.comment) {
    out.add(`table: comment ${JSON.stringify(installed.comment)}, want ${JSON.stringify(desired.comment)}`);
  }
  diffChains(desired, installed, out);
  diffSets(desired, installed, out);
  return out.lines;
}

/** Collects difference lines up to a maximum. */
class DiffSink {
  readonly lines: string[] = [];
  constructor(private readonly max: number) {}
  get full(): boolean {
    return this.lines.length >= this.max;
  }
  add(line: string): void {
    if (!this.full) this.lines.push(line);
  }
}

/** Chains: missing, unexpected, base-chain properties, comments, rule counts and rule targets. */
function diffChains(desired: TableDesc, installed: TableDesc, out: DiffSink): void {
  for (const [name, want] of desired.chains) {
    if (out.full) return;
    const have = installed.chains.get(name);
    if (have === undefined) {
      out.add(`chain ${name}: missing`);
      continue;
    }
    const wb = want.base === undefined ? 'regular chain' : baseText(want.base);
    const hb = have.base === undefined ? 'regular chain' : baseText(have.base);
    if (wb !== hb) out.add(`chain ${name}: is ${hb}, want ${wb}`);
    if (want.comment !== undefined && have.comment !== undefined && want.comment !== have.comment) {
      out.add(`chain ${name}: comment ${JSON.stringify(have.comment)}, want ${JSON.stringify(want.comment)}`);
    }
    if (want.rules.length !== have.rules.length) {
      out.add(`chain ${name}: ${have.rules.length} rules, want ${want.rules.length}`);
      continue;
    }
    for (let i = 0; i < want.rules.length; i++) {
      const wt = ruleTargets(want.rules[i] as string).join(', ');
      const ht = ruleTargets(have.rules[i] as string).join(', ');
      if (wt !== ht) out.add(`chain ${name}: rule ${i + 1} jumps to [${ht}], want [${wt}] (${want.rules[i]})`);
    }
  }
  for (const name of installed.chains.keys()) {
    if (out.full) return;
    if (!desired.chains.has(name)) out.add(`chain ${name}: unexpected`);
  }
}

/** Sets and maps: missing, unexpected, kind, type, flags, timeout and (unless dynamic) elements. */
function diffSets(desired: TableDesc, installed: TableDesc, out: DiffSink): void {
  for (const [name, want] of desired.sets) {
    if (out.full) return;
    const have = installed.sets.get(name);
    const label = `${want.kind} ${name}`;
    if (have === undefined) {
      out.add(`${label}: missing`);
      continue;
    }
    if (have.kind !== want.kind) out.add(`${label}: is a ${have.kind}`);
    const wType = want.map === undefined ? want.type : `${want.type} : ${want.map}`;
    const hType = have.map === undefined ? have.type : `${have.type} : ${have.map}`;
    if (wType !== hType) out.add(`${label}: type ${hType}, want ${wType}`);
    // nft 1.0.6 leaves "dynamic" out of JSON set flags (schema.ts).
    const flagsText = (flags: readonly string[]) =>
      flags
        .filter((f) => f !== 'dynamic')
        .sort()
        .join(',');
    const wf = flagsText(want.flags);
    const hf = flagsText(have.flags);
    if (wf !== hf) out.add(`${label}: flags [${hf}], want [${wf}]`);
    if (want.timeout !== have.timeout) out.add(`${label}: timeout ${have.timeout ?? 'none'}, want ${want.timeout ?? 'none'}`);
    if (want.flags.includes('dynamic')) continue; // elements come from the datapath
    diffElements(label, want.elements, have.elements, out);
  }
  for (const [name, have] of installed.sets) {
    if (out.full) return;
    if (!desired.sets.has(name)) out.add(`${have.kind} ${name}: unexpected`);
  }
}

function diffElements(label: string, want: ReadonlyMap<string, string>, have: ReadonlyMap<string, string>, out: DiffSink): void {
  for (const [key, value] of want) {
    if (out.full) return;
    const got = have.get(key);
    if (got === undefined) out.add(`${label}: missing element ${elemText(key, value)}`);
    else if (got !== value) out.add(`${label}: element ${key} maps to ${got}, want ${value}`);
  }
  for (const [key, value] of have) {
    if (out.full) return;
    if (!want.has(key)) out.add(`${label}: unexpected element ${elemText(key, value)}`);
  }
}

const baseText = (b: NonNullable<ChainDesc['base']>): string => `type ${b.type} hook ${b.hook} priority ${b.priority} policy ${b.policy}`;
const elemText = (key: string, value: string): string => (value === '' ? `{ ${key} }` : `{ ${key} : ${value} }`);

/**
 * Rule texts per chain from the text listing (`nft list table ip kube-proxy`), for an exact
 * comparison with the rendered rules: render.ts writes rules the way nft lists them.
 */
export function parseListingRules(listing: string): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    if (current === undefined) {
      const m = /^chain (\S+) \{$/.exec(line);
      if (m !== null) {
        current = [];
        chains.set(m[1] as string, current);
      }
      continue;
    }
    if (line === '}') {
      current = undefined;
    } else if (
      line !== '' &&
      !/^type \S+ hook \S+ (?:device \S+ )?priority .*;/.test(line) &&
      !(current.length === 0 && /^comment ".*"$/.test(line))
    ) {
      current.push(line);
    }
  }
  return chains;
}

/** Exact rule text differences between the desired table and a parsed text listing. */
export function diffRuleText(desired: TableDesc, listed: Map<string, string[]>, opts: DiffOptions = {}): string[] {
  const max = opts.max ?? Infinity;
  const out: string[] = [];
  for (const [name, chain] of desired.chains) {
    if (out.length >= max) break;
    const have = listed.get(name);
    if (have === undefined) {
      out.push(`chain ${name}: missing from listing`);
      continue;
    }
    const n = Math.max(chain.rules.length, have.length);
    for (let i = 0; i < n && out.length < max; i++) {
      if (chain.rules[i] !== have[i])
        out.push(`chain ${name}: rule ${i + 1} is ${JSON.stringify(have[i] ?? null)}, want ${JSON.stringify(chain.rules[i] ?? null)}`);
    }
  }
  return out;
}
