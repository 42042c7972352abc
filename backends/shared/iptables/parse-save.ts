// Reading back what the kernel holds: parse `iptables-save` output (iptables-legacy-save and
// iptables-nft-save print the same format), bring rendered and saved rules to one canonical form,
// and list the differences between the desired ruleset and the installed one.
//
// iptables-save does not print rules the way they were written (libxtables *_save functions):
//  - base matches come first, in the order -s -d -i -o -p, and addresses gain a prefix (/32);
//    `-m tcp -p tcp -d X --dport N` prints as `-d X/32 -p tcp -m tcp --dport N`;
//  - match order is kept, but each match prints its options in its own order (recent:
//    `--set --name X --mask 255.255.255.255 --rsource`) and fills in defaults;
//  - MARK prints `--or-mark 0x4000` as `--set-xmark 0x4000/0x4000`, `--xor-mark M` as
//    `--set-xmark M/0x0`; the mark match prints `value/mask` unless the mask is 0xffffffff;
//  - statistic stores the probability as a u32 fraction of 2^31 and prints it with %.11f:
//    0.3333333333 comes back as 0.33333333349;
//  - REJECT gains `--reject-with icmp-port-unreachable`; every comment is quoted.
import { formatIp, maskOf, parseIp } from '../../../src/model/ipv4.js';
import { isServiceChainName } from './hash.js';
import { ALL_JUMP_RULES } from './jumps.js';
import { quoteArg, TABLES } from './ruleset.js';
import type { Chain, JumpRule, Rule, Ruleset, TableName } from './ruleset.js';

export class SaveParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`iptables-save output, line ${line}: ${message}`);
    this.name = 'SaveParseError';
  }
}

/**
 * Split one restore/save line into arguments like iptables-restore does (xshared.c
 * add_param_to_argv): blanks separate arguments, double quotes group, and inside quotes a
 * backslash escapes the next character.
 */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** A chain as iptables-save lists it; `policy` is ACCEPT/DROP for built-in chains and '-' otherwise. */
export interface SavedChain extends Chain {
  readonly policy: string;
}

/** filter and nat as saved (built-in chains included), other tables by name. */
export interface SavedRuleset extends Ruleset {
  filter: SavedChain[];
  nat: SavedChain[];
  other: Record<string, SavedChain[]>;
}

/**
 * Parse `iptables-save` (or `iptables-save -c`, or a restore payload without `-X` lines) output.
 * Tables other than filter and nat land in `other`.
 */
export function parseIptablesSave(text: string): SavedRuleset {
  const result: SavedRuleset = { filter: [], nat: [], other: {} };
  let table: SavedChain[] | undefined;
  let chains = new Map<string, SavedChain>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name === 'filter' || name === 'nat') table = result[name];
      else table = result.other[name] = [];
      chains = new Map();
      continue;
    }
    if (!table) throw new SaveParseError(`"${line}" outside a table`, n + 1);
    if (line === 'COMMIT') {
      table = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name || !policy) throw new SaveParseError(`bad chain line "${line}"`, n + 1);
      const chain: SavedChain = { name, policy, rules: [] };
      chains.set(name, chain);
      table.push(chain);
      continue;
    }
    // `iptables-save -c` prefixes rules with [packets:bytes].
    if (line.startsWith('[')) line = line.slice(line.indexOf(']') + 1).trim();
    const args = tokenize(line);
    if (args[0] !== '-A' || args.length < 2) throw new SaveParseError(`unexpected "${line}"`, n + 1);
    const chain = chains.get(args[1]!);
    if (!chain) throw new SaveParseError(`rule for undeclared chain ${args[1]}`, n + 1);
    chain.rules.push(args.slice(2));
  }
  return result;
}

// --- canonical rules ----------------------------------------------------------------------------

interface Opt {
  neg: boolean;
  name: string;
  values: string[];
}
interface Match {
  name: string;
  opts: Opt[];
}

type BaseKey = 's' | 'd' | 'i' | 'o' | 'p';
const BASE_OPTS = new Map<string, BaseKey>([
  ['-s', 's'],
  ['--source', 's'],
  ['--src', 's'],
  ['-d', 'd'],
  ['--destination', 'd'],
  ['--dst', 'd'],
  ['-i', 'i'],
  ['--in-interface', 'i'],
  ['-o', 'o'],
  ['--out-interface', 'o'],
  ['-p', 'p'],
  ['--protocol', 'p'],
]);
const BASE_ORDER: readonly BaseKey[] = ['s', 'd', 'i', 'o', 'p'];
const BASE_FLAG: Record<BaseKey, string> = { s: '-s', d: '-d', i: '-i', o: '-o', p: '-p' };
/** Options whose value may start with '-' or be '!': take exactly this many arguments. */
const ARITY = new Map([
  ['--comment', 1],
  ['--log-prefix', 1],
]);
const PROTO_NUMBERS = new Map([
  ['1', 'icmp'],
  ['6', 'tcp'],
  ['17', 'udp'],
  ['58', 'ipv6-icmp'],
  ['132', 'sctp'],
]);

/** `10.1.2.3` → `10.1.2.3/32`, `10.1.2.3/8` → `10.0.0.0/8`, dotted masks → prefix length. */
function normaliseAddress(value: string): string {
  if (value.includes(':')) return value.includes('/') ? value.toLowerCase() : `${value.toLowerCase()}/128`;
  const [ip = '', maskText] = value.split('/');
  const addr = parseIp(ip);
  if (addr === undefined) return value; // a host name: leave it
  let len = 32;
  if (maskText !== undefined) {
    const dotted = parseIp(maskText);
    if (maskText.includes('.') && dotted !== undefined) {
      const bits = dotted.toString(2).padStart(32, '0');
      if (!/^1*0*$/.test(bits)) return `${formatIp(addr)}/${maskText}`;
      len = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
    } else {
      len = Number(maskText);
    }
  }
  return `${formatIp((addr & maskOf(len)) >>> 0)}/${len}`;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const parseNum = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

/** `0x4000/0x4000` → [0x4000, 0x4000]; no mask → 0xffffffff. */
function parseMark(v: string | undefined): [number, number] {
  const [val, mask] = (v ?? '').split('/');
  return [parseNum(val) >>> 0, mask === undefined ? 0xffffffff : parseNum(mask) >>> 0];
}

/** libxt_statistic: u32 = lround(p * 2^31), printed as %.11f of u32 / 2^31. */
export function canonicalProbability(p: string): string {
  const u = Math.round(Number(p) * 0x80000000);
  return (u / 0x80000000).toFixed(11);
}

const orderBy =
  (order: readonly string[]) =>
  (a: Opt, b: Opt): number => {
    const ia = order.indexOf(a.name);
    const ib = order.indexOf(b.name);
    return (ia === -1 ? order.length : ia) - (ib === -1 ? order.length : ib);
  };

const CT_STATES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];
const ADDR_TYPES = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];
const sortList = (value: string | undefined, order: readonly string[]): string =>
  (value ?? '')
    .toUpperCase()
    .split(',')
    .sort((a, b) => order.indexOf(a) - order.indexOf(b))
    .join(',');

function canonicalMatch(m: Match): void {
  switch (m.name) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      for (const o of m.opts) {
        if (o.name === '--source-port') o.name = '--sport';
        if (o.name === '--destination-port') o.name = '--dport';
      }
      m.opts.sort(orderBy(['--sport', '--dport']));
      break;
    case 'mark':
      for (const o of m.opts) {
        if (o.name !== '--mark') continue;
        const [v, mask] = parseMark(o.values[0]);
        o.values = [mask === 0xffffffff ? hex(v) : `${hex(v)}/${hex(mask)}`];
      }
      break;
    case 'statistic':
      for (const o of m.opts) if (o.name === '--probability') o.values = [canonicalProbability(o.values[0] ?? '')];
      m.opts.sort(orderBy(['--mode', '--probability', '--every', '--packet']));
      break;
    case 'recent': {
      // recent_save: [!] mode, --seconds, --reap, --hitcount, --rttl, --name, --mask, side.
      const has = (n: string): Opt | undefined => m.opts.find((o) => o.name === n);
      if (!has('--name')) m.opts.push({ neg: false, name: '--name', values: ['DEFAULT'] });
      if (!has('--mask')) m.opts.push({ neg: false, name: '--mask', values: ['255.255.255.255'] });
      if (!has('--rsource') && !has('--rdest')) m.opts.push({ neg: false, name: '--rsource', values: [] });
      m.opts.sort(
        orderBy([
          '--set',
          '--rcheck',
          '--update',
          '--remove',
          '--seconds',
          '--reap',
          '--hitcount',
          '--rttl',
          '--name',
          '--mask',
          '--rsource',
          '--rdest',
        ]),
      );
      break;
    }
    case 'addrtype':
      for (const o of m.opts) if (o.name === '--src-type' || o.name === '--dst-type') o.values = [sortList(o.values[0], ADDR_TYPES)];
      m.opts.sort(orderBy(['--src-type', '--dst-type', '--limit-iface-in', '--limit-iface-out']));
      break;
    case 'conntrack':
    case 'state':
      for (const o of m.opts) if (o.name === '--ctstate' || o.name === '--state') o.values = [sortList(o.values[0], CT_STATES)];
      m.opts.sort(orderBy(['--ctstate']));
      break;
    case 'comment':
      // XT_MAX_COMMENT_LEN is 256 including the NUL.
      for (const o of m.opts) if (o.name === '--comment') o.values = [(o.values[0] ?? '').slice(0, 255)];
      break;
    default:
      break;
  }
}

function canonicalTarget(name: string, opts: Opt[]): Opt[] {
  switch (name) {
    case 'MARK': {
      // libxt_MARK v2 parse: set-xmark v/m; set-mark v/m → v, v|m; and → 0, ~v; or → v, v; xor → v, 0.
      return opts.map((o) => {
        const [v, m] = parseMark(o.values[0]);
        let mark = v;
        let mask = m;
        if (o.name === '--set-mark') mask = (v | m) >>> 0;
        else if (o.name === '--and-mark') [mark, mask] = [0, ~v >>> 0];
        else if (o.name === '--or-mark') [mark, mask] = [v, v];
        else if (o.name === '--xor-mark') [mark, mask] = [v, 0];
        else if (o.name !== '--set-xmark') return o;
        return { neg: false, name: '--set-xmark', values: [`${hex(mark)}/${hex(mask)}`] };
      });
    }
    case 'REJECT':
      return opts.length === 0 ? [{ neg: false, name: '--reject-with', values: ['icmp-port-unreachable'] }] : opts;
    case 'MASQUERADE':
      return [...opts].sort(orderBy(['--to-ports', '--random', '--random-fully']));
    default:
      return opts;
  }
}

/**
 * The canonical argv of a rule (what iptables-save would print after `-A CHAIN`), so that a rule
 * as rendered and the same rule read back compare equal.
 */
export function canonicalRule(rule: Rule): string[] {
  const base = new Map<BaseKey, { neg: boolean; value: string }>();
  const matches: Match[] = [];
  let cur: Match | undefined;
  let target: { flag: string; name: string; opts: Opt[] } | undefined;
  let neg = false;
  for (let i = 0; i < rule.length; i++) {
    const t = rule[i]!;
    if (t === '!') {
      neg = true;
      continue;
    }
    const key = BASE_OPTS.get(t);
    if (key && !target) {
      let value = rule[++i] ?? '';
      if (key === 'p') value = PROTO_NUMBERS.get(value) ?? value.toLowerCase();
      else if (key === 's' || key === 'd') value = normaliseAddress(value);
      base.set(key, { neg, value });
      neg = false;
      continue;
    }
    if (t === '-m' || t === '--match') {
      cur = { name: rule[++i] ?? '', opts: [] };
      matches.push(cur);
      neg = false;
      continue;
    }
    if (t === '-j' || t === '--jump' || t === '-g' || t === '--goto') {
      target = { flag: t.startsWith('-g') || t === '--goto' ? '-g' : '-j', name: rule[++i] ?? '', opts: [] };
      neg = false;
      continue;
    }
    const opt: Opt = { neg, name: t, values: [] };
    neg = false;
    const arity = ARITY.get(t);
    if (arity !== undefined) {
      for (let k = 0; k < arity; k++) opt.values.push(rule[++i] ?? '');
    } else {
      while (i + 1 < rule.length && rule[i + 1] !== '!' && !rule[i + 1]!.startsWith('-')) opt.values.push(rule[++i]!);
    }
    if (target) {
      target.opts.push(opt);
    } else {
      if (!cur) {
        // An option without -m: iptables loads the protocol's match implicitly (`-p tcp --dport`).
        cur = { name: base.get('p')?.value ?? '', opts: [] };
        matches.push(cur);
      }
      cur.opts.push(opt);
    }
  }
  const out: string[] = [];
  for (const k of BASE_ORDER) {
    const b = base.get(k);
    if (!b) continue;
    if (!b.neg && (k === 's' || k === 'd') && b.value === '0.0.0.0/0') continue; // printed as nothing
    if (b.neg) out.push('!');
    out.push(BASE_FLAG[k], b.value);
  }
  for (const m of matches) {
    canonicalMatch(m);
    out.push('-m', m.name);
    for (const o of m.opts) {
      if (o.neg) out.push('!');
      out.push(o.name, ...o.values);
    }
  }
  if (target) {
    out.push(target.flag, target.name);
    for (const o of canonicalTarget(target.name, target.opts)) {
      if (o.neg) out.push('!');
      out.push(o.name, ...o.values);
    }
  }
  return out;
}

/** The canonical rule as one readable line (arguments quoted where needed). */
export const canonicalRuleText = (rule: Rule): string => canonicalRule(rule).map(quoteArg).join(' ');

// --- differences --------------------------------------------------------------------------------

export type RulesetDifference =
  | { kind: 'missing-chain'; table: TableName; chain: string }
  | { kind: 'extra-chain'; table: TableName; chain: string }
  /** `index`: position in the desired chain (0-based). */
  | { kind: 'missing-rule'; table: TableName; chain: string; rule: string; index: number }
  /** `index`: position in the installed chain (0-based). */
  | { kind: 'extra-rule'; table: TableName; chain: string; rule: string; index: number }
  | { kind: 'misordered-rule'; table: TableName; chain: string; rule: string; expectedIndex: number; actualIndex: number };

export interface DiffOptions {
  /**
   * Jump rules expected in built-in chains; default: kube-proxy's, ALL_JUMP_RULES. Each must be
   * present (order is not checked: other software may insert rules too); rules in built-in chains
   * that jump to a KUBE-* chain but are not expected, or are duplicates, are reported as extra.
   * Their destination chains must exist; when the desired ruleset does not define them (such as
   * KUBE-FIREWALL, which kube-proxy creates but leaves to kubelet) their rules are not compared.
   * Pass [] to look at KUBE-* chains only.
   */
  jumpRules?: readonly JumpRule[];
}

const isOurs = (chain: string): boolean => chain.startsWith('KUBE-');

/** Longest increasing subsequence of `seq`; returns the set of positions in it. */
function lisPositions(seq: readonly number[]): Set<number> {
  const tailsIdx: number[] = [];
  const prevIdx = new Array<number>(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    const v = seq[i]!;
    let lo = 0;
    let hi = tailsIdx.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seq[tailsIdx[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prevIdx[i] = tailsIdx[lo - 1]!;
    tailsIdx[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tailsIdx.length ? tailsIdx[tailsIdx.length - 1]! : -1; i !== -1; i = prevIdx[i]!) keep.add(i);
  return keep;
}

function diffChain(table: TableName, chain: string, desired: readonly Rule[], installed: readonly Rule[], out: RulesetDifference[]): void {
  const want = desired.map(canonicalRuleText);
  const have = installed.map(canonicalRuleText);
  // Pair the k-th occurrence of a rule in `want` with its k-th occurrence in `have`.
  const positions = new Map<string, { at: number[]; next: number }>();
  want.forEach((r, i) => {
    const p = positions.get(r);
    if (p) p.at.push(i);
    else positions.set(r, { at: [i], next: 0 });
  });
  const paired = new Array<boolean>(want.length).fill(false);
  const pairs: Array<{ want: number; have: number }> = [];
  have.forEach((r, i) => {
    const p = positions.get(r);
    const w = p ? p.at[p.next++] : undefined;
    if (w === undefined) out.push({ kind: 'extra-rule', table, chain, rule: r, index: i });
    else {
      paired[w] = true;
      pairs.push({ want: w, have: i });
    }
  });
  want.forEach((r, i) => {
    if (!paired[i]) out.push({ kind: 'missing-rule', table, chain, rule: r, index: i });
  });
  // Rules present in both but outside the longest run that is in the desired order.
  const inOrder = lisPositions(pairs.map((p) => p.want));
  pairs.forEach((p, k) => {
    if (!inOrder.has(k))
      out.push({ kind: 'misordered-rule', table, chain, rule: want[p.want]!, expectedIndex: p.want, actualIndex: p.have });
  });
}

/**
 * Differences between the desired ruleset and an installed one (usually parseIptablesSave
 * output), limited to KUBE-* chains and the jump rules in built-in chains.
 * Rules are compared in canonical form; chain order is irrelevant, rule order is not.
 */
export function diffRulesets(desired: Ruleset, installed: Ruleset, opts: DiffOptions = {}): RulesetDifference[] {
  const out: RulesetDifference[] = [];
  for (const table of TABLES) {
    const want = new Map<string, Chain>();
    for (const c of desired[table]) if (isOurs(c.name)) want.set(c.name, c);
    const have = new Map<string, Chain>();
    for (const c of installed[table]) have.set(c.name, c);
    const jumps = (opts.jumpRules ?? ALL_JUMP_RULES).filter((j) => j.table === table);
    const ensured = new Set(jumps.map((j) => j.dstChain).filter((c) => !want.has(c)));

    for (const [name, c] of want) {
      const got = have.get(name);
      if (!got) out.push({ kind: 'missing-chain', table, chain: name });
      else diffChain(table, name, c.rules, got.rules, out);
    }
    for (const name of ensured) if (!have.has(name)) out.push({ kind: 'missing-chain', table, chain: name });
    for (const name of have.keys()) {
      if (isOurs(name) && !want.has(name) && !ensured.has(name)) out.push({ kind: 'extra-chain', table, chain: name });
    }

    if (jumps.length === 0) continue;
    const builtins = new Set(jumps.map((j) => j.srcChain));
    for (const c of installed[table]) if (!isOurs(c.name)) builtins.add(c.name);
    for (const chain of builtins) {
      const expected = new Map<string, number>();
      for (const j of jumps) {
        if (j.srcChain !== chain) continue;
        const r = canonicalRuleText(j.rule);
        expected.set(r, (expected.get(r) ?? 0) + 1);
      }
      const rules = have.get(chain)?.rules ?? [];
      rules.forEach((rule, index) => {
        const r = canonicalRuleText(rule);
        const n = expected.get(r);
        if (n !== undefined && n > 0) expected.set(r, n - 1);
        else if (jumpsToOurs(rule)) out.push({ kind: 'extra-rule', table, chain, rule: r, index });
      });
      for (const [r, n] of expected) {
        for (let k = 0; k < n; k++) out.push({ kind: 'missing-rule', table, chain, rule: r, index: -1 });
      }
    }
  }
  return out;
}

function jumpsToOurs(rule: Rule): boolean {
  for (let i = 0; i + 1 < rule.length; i++) {
    if ((rule[i] === '-j' || rule[i] === '-g' || rule[i] === '--jump' || rule[i] === '--goto') && isOurs(rule[i + 1]!)) return true;
  }
  return false;
}

/** One line per difference, for logs and error messages. */
export function formatDifference(d: RulesetDifference): string {
  const where = `${d.table} ${d.chain}`;
  switch (d.kind) {
    case 'missing-chain':
      return `${where}: chain missing`;
    case 'extra-chain':
      return `${where}: unexpected chain${isServiceChainName(d.chain) ? ' (stale service chain?)' : ''}`;
    case 'missing-rule':
      return `${where}: missing rule${d.index >= 0 ? ` #${d.index + 1}` : ''}: ${d.rule}`;
    case 'extra-rule':
      return `${where}: unexpected rule #${d.index + 1}: ${d.rule}`;
    case 'misordered-rule':
      return `${where}: rule at #${d.actualIndex + 1}, expected at #${d.expectedIndex + 1}: ${d.rule}`;
  }
}
