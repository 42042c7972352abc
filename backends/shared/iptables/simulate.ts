// An in-memory model of the iptables semantics the renderers rely on, to check payloads and command
// lists without a kernel (unit tests, dry runs). It enforces what the kernel enforces: a chain must
// exist before a rule jumps to it, `-N` of an existing chain fails, and `-X` needs an empty chain
// that no rule references. Rules are compared as argv, exactly as written (no canonicalisation).
import { tokenize } from './parse-save.js';
import { TABLES } from './ruleset.js';
import type { Rule, Ruleset, TableName } from './ruleset.js';

const BUILTIN_CHAINS: Record<TableName, readonly string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

export class SimulationError extends Error {
  override name = 'SimulationError';
}

/** Tables as ordered maps of chain name → rules (built-in chains included). */
export type SimTables = Record<TableName, Map<string, Rule[]>>;

export function simTables(from?: Ruleset): SimTables {
  const t: SimTables = { filter: new Map(), nat: new Map() };
  for (const table of TABLES) {
    for (const c of BUILTIN_CHAINS[table]) t[table].set(c, []);
    for (const c of from?.[table] ?? []) t[table].set(c.name, [...c.rules]);
  }
  return t;
}

/** The user-defined chains, as a Ruleset. */
export function toRuleset(t: SimTables): Ruleset {
  const out: Ruleset = { filter: [], nat: [] };
  for (const table of TABLES) {
    for (const [name, rules] of t[table]) {
      if (!BUILTIN_CHAINS[table].includes(name)) out[table].push({ name, rules });
    }
  }
  return out;
}

const sameRule = (a: Rule, b: Rule): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function jumpTarget(rule: Rule): string | undefined {
  for (let i = 0; i + 1 < rule.length; i++) if (rule[i] === '-j' || rule[i] === '-g') return rule[i + 1];
  return undefined;
}

function checkTarget(chains: Map<string, Rule[]>, table: string, rule: Rule): void {
  const target = jumpTarget(rule);
  // Targets in capitals without a dash are extensions (ACCEPT, DNAT, MARK…); KUBE-* are chains.
  if (target?.startsWith('KUBE-') && !chains.has(target)) {
    throw new SimulationError(`${table}: rule jumps to missing chain ${target}: ${rule.join(' ')}`);
  }
}

function deleteChain(chains: Map<string, Rule[]>, table: string, name: string): void {
  const rules = chains.get(name);
  if (!rules) throw new SimulationError(`${table}: -X ${name}: no such chain`);
  if (rules.length > 0) throw new SimulationError(`${table}: -X ${name}: chain is not empty`);
  for (const [other, rs] of chains) {
    if (rs.some((r) => jumpTarget(r) === name)) throw new SimulationError(`${table}: -X ${name}: still referenced from ${other}`);
  }
  chains.delete(name);
}

/** Apply argv lists as produced by toRuleCommands (each starts with `-t TABLE`). Mutates `t`. */
export function applyRuleCommands(t: SimTables, commands: readonly (readonly string[])[]): SimTables {
  for (const argv of commands) {
    if (argv[0] !== '-t' || (argv[1] !== 'filter' && argv[1] !== 'nat')) throw new SimulationError(`no table in ${argv.join(' ')}`);
    const table = argv[1];
    const chains = t[table];
    const op = argv[2];
    const name = argv[3] ?? '';
    const rules = chains.get(name);
    switch (op) {
      case '-N':
        if (rules) throw new SimulationError(`${table}: -N ${name}: chain already exists`);
        chains.set(name, []);
        break;
      case '-F':
        if (!rules) throw new SimulationError(`${table}: -F ${name}: no such chain`);
        rules.length = 0;
        break;
      case '-X':
        deleteChain(chains, table, name);
        break;
      case '-A': {
        if (!rules) throw new SimulationError(`${table}: -A ${name}: no such chain`);
        const rule = argv.slice(4);
        checkTarget(chains, table, rule);
        rules.push(rule);
        break;
      }
      case '-I': {
        if (!rules) throw new SimulationError(`${table}: -I ${name}: no such chain`);
        const pos = /^\d+$/.test(argv[4] ?? '') ? Number(argv[4]) : 1;
        const rule = argv.slice(/^\d+$/.test(argv[4] ?? '') ? 5 : 4);
        if (pos < 1 || pos > rules.length + 1) throw new SimulationError(`${table}: -I ${name} ${pos}: index out of range`);
        checkTarget(chains, table, rule);
        rules.splice(pos - 1, 0, rule);
        break;
      }
      case '-D': {
        if (!rules) throw new SimulationError(`${table}: -D ${name}: no such chain`);
        const rule = argv.slice(4);
        const at = rules.findIndex((r) => sameRule(r, rule));
        if (at === -1) throw new SimulationError(`${table}: -D ${name}: no such rule: ${rule.join(' ')}`);
        rules.splice(at, 1);
        break;
      }
      default:
        throw new SimulationError(`unsupported command ${argv.join(' ')}`);
    }
  }
  return t;
}

/**
 * Apply an `iptables-restore --noflush` payload: a chain line creates or flushes its chain, `-A`
 * appends, `-X` deletes; chains not mentioned are left alone. Like iptables-restore, a table is
 * applied as a whole at COMMIT or not at all. Mutates `t`.
 */
export function applyRestorePayload(t: SimTables, payload: string): SimTables {
  let table: TableName | undefined;
  let work: Map<string, Rule[]> | undefined;
  for (const raw of payload.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      if (name !== 'filter' && name !== 'nat') throw new SimulationError(`unsupported table ${name}`);
      table = name;
      work = new Map([...t[name]].map(([k, v]) => [k, [...v]]));
      continue;
    }
    if (!table || !work) throw new SimulationError(`"${line}" outside a table`);
    if (line === 'COMMIT') {
      t[table] = work;
      table = undefined;
      work = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0]!;
      work.set(name, []);
      continue;
    }
    const args = tokenize(line);
    if (args[0] === '-X') {
      deleteChain(work, table, args[1] ?? '');
    } else if (args[0] === '-A') {
      const rules = work.get(args[1] ?? '');
      if (!rules) throw new SimulationError(`${table}: -A ${args[1]}: no such chain`);
      const rule = args.slice(2);
      checkTarget(work, table, rule);
      rules.push(rule);
    } else {
      throw new SimulationError(`unsupported payload line "${line}"`);
    }
  }
  if (table) throw new SimulationError(`table ${table} has no COMMIT`);
  return t;
}
