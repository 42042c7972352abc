// Applying iptables state in a node namespace, shared by the backends that install iptables
// rules (iptables, iptables-restore, IPVS): kube-proxy's EnsureChain/EnsureRule for the jumps from
// the built-in chains, iptables-restore's error messages made readable, the read-back of a
// ruleset with iptables-save, and emptying the tables at teardown.
import { BenchError } from '../../../src/errors.js';
import { CommandError } from '../../../src/exec/index.js';
import type { NodeTarget } from '../../types.js';
import { ALL_JUMP_RULES, ensureScript, jumpRuleArgv, type TableChain } from './jumps.js';
import { diffRulesets, formatDifference, parseIptablesSave } from './parse-save.js';
import type { JumpRule, Ruleset } from './ruleset.js';
import { iptablesTools } from './tools.js';

/** kube-proxy's EnsureChain + EnsureRule(Prepend) for one jump from a built-in chain (≈L395):
 * `-N` (failing with "Chain already exists" is fine; skipped when the caller created the chains
 * already), `-C`, and `-I` only when the check fails. Returns the processes run. */
export async function ensureJump(t: NodeTarget, iptables: string, j: JumpRule, createChain = true): Promise<number> {
  const a = jumpRuleArgv(j);
  if (createChain) await t.exec.run({ netns: t.netns, argv: [iptables, '-w', ...a.newChain], allowFailure: true });
  const check = await t.exec.run({ netns: t.netns, argv: [iptables, '-w', ...a.check], allowFailure: true });
  if (check.exitCode !== 0) await t.exec.run({ netns: t.netns, argv: [iptables, '-w', ...a.insert] });
  return (createChain ? 1 : 0) + (check.exitCode !== 0 ? 2 : 1);
}

/**
 * Runs ensureScript in the node namespace: kube-proxy's EnsureChain/EnsureRule calls (proxier.go,
 * syncProxyRules), in its order, each its own iptables process as kube-proxy's are, but started
 * from one shell. kube-proxy already lives in the node's namespace and forks iptables directly;
 * starting each from Node through nsenter would add a harness cost per process that kube-proxy
 * does not pay (backends/shared/README.md). Returns the processes run.
 */
export async function ensureJumps(
  t: NodeTarget,
  iptables: string,
  jumps: readonly JumpRule[],
  opts: { chains?: readonly TableChain[]; createJumpChains?: boolean } = {},
): Promise<number> {
  if (jumps.length === 0 && (opts.chains ?? []).length === 0) return 0;
  const out = await t.exec.run({ netns: t.netns, argv: ['sh', '-c', ensureScript(iptables, jumps, opts)] }).catch((e: unknown) => {
    if (!(e instanceof CommandError)) throw e;
    throw new BenchError(`${iptables} could not insert kube-proxy's jump rules: ${e.stderr.trim()}`, { cause: e });
  });
  const inserted = out.stdout.split('\n').filter((l) => l === 'inserted').length;
  return (opts.chains ?? []).length + ((opts.createJumpChains ?? true) ? 2 : 1) * jumps.length + inserted;
}

/** The payload line iptables-restore's stderr names: "Error occurred at line: N" (iptables-restore)
 * or "line N failed" (iptables-nft-restore, which reports errors found at commit time on the
 * COMMIT line). Undefined when it names none. */
export function reportedLine(stderr: string): number | undefined {
  const m = /(?:Error occurred at line: |line )(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** The offending line of a rejected payload: the reported one, or, when that is a COMMIT (or
 * missing) and the error names a culprit ("Chain 'X' does not exist"), the first rule that names
 * it in the failing table's section. */
function offendingLine(stderr: string, lines: readonly string[]): number | undefined {
  const n = reportedLine(stderr);
  const named = /[`'"]([^'"`\s]+)'/.exec(stderr)?.[1];
  if (named === undefined || (n !== undefined && lines[n - 1] !== 'COMMIT')) return n;
  // The section of the table whose COMMIT failed (from its `*table` line), or the whole payload.
  let from = n === undefined ? 0 : n - 1;
  while (from > 0 && !lines[from - 1]!.startsWith('*')) from--;
  const to = n ?? lines.length;
  for (let i = from; i < to; i++) if (lines[i]!.startsWith('-A ') && lines[i]!.split(' ').includes(named)) return i + 1;
  return n;
}

/** What a rejected restore left installed, for the error's hint. */
const UNCHANGED = 'the transaction was not applied; the rules installed before it are unchanged';

/** Throws a BenchError naming the rejected payload's offending line and iptables-restore's reason.
 * `hint` says what stayed installed (default: nothing of the transaction). */
export function restoreError(e: unknown, payload: string, tool: string, hint = UNCHANGED): never {
  if (!(e instanceof CommandError)) throw e;
  const lines = payload.split('\n');
  const n = offendingLine(e.stderr, lines);
  const where = n === undefined ? '' : ` at line ${n}: ${lines[n - 1]}`;
  const reason =
    e.stderr
      .trim()
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  throw new BenchError(`${tool} rejected the transaction${where}\n${reason}`, { hint, cause: e });
}

/** Reads the node's tables back with iptables-save and lists how they differ from `desired` and
 * the jump rules `jumpRules` (kube-proxy's iptables-mode jumps by default), one line each. */
export async function readBackRuleset(t: NodeTarget, desired: Ruleset, jumpRules: readonly JumpRule[] = ALL_JUMP_RULES): Promise<string[]> {
  const { save } = iptablesTools(t.options.iptablesMode);
  const out = await t.exec.run({ netns: t.netns, argv: [save] });
  return diffRulesets(desired, parseIptablesSave(out.stdout), { jumpRules }).map(formatDifference);
}

/** Empties the filter and nat tables of the node namespace (built-in chains flushed, every other
 * chain deleted) in one restore: without --noflush, iptables-restore replaces each table. */
export async function flushAll(t: NodeTarget): Promise<void> {
  const { restore } = iptablesTools(t.options.iptablesMode);
  const payload =
    '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
  await t.exec.run({ netns: t.netns, argv: [restore, '-w'], stdin: payload });
}
