import { BenchError } from '../../src/errors.js';
import { CommandError } from '../../src/exec/index.js';
import { iptablesFlavourChecks, iptablesTools } from '../iptables/tools.js';
import { verdict } from '../preflight.js';
import type { Backend, NodeTarget, Rendered } from '../types.js';
import { diffRulesets, formatDifference, parseIptablesSave } from './parse-save.js';
import { ensureScript, jumpRuleArgv, renderFull, renderPartial, type RenderResult, type TableChain } from './render.js';
import type { JumpRule } from './ruleset.js';

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
 * from one shell. kube-proxy already lives in the node's namespace and forks iptables directly
 * (≈2 ms each here); starting each from Node through nsenter costs ≈10 ms, a harness cost that
 * made half a second of a 10,000-service full sync (42 processes). Returns the processes run.
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

/** iptables-restore reports "Error occurred at line: N" (or "line N failed"). iptables-nft-restore
 * reports errors found at commit time on the COMMIT line, naming the culprit ("Chain 'X' does not
 * exist"): then the first rule that names it is the offending line. */
export function restoreError(e: unknown, payload: string, tool: string): never {
  if (!(e instanceof CommandError)) throw e;
  const lines = payload.split('\n');
  const m = /(?:Error occurred at line: |line )(\d+)/.exec(e.stderr);
  let n = m ? Number(m[1]) : undefined;
  const named = /[`'"]([^'"`\s]+)'/.exec(e.stderr)?.[1];
  if ((n === undefined || lines[n - 1] === 'COMMIT') && named !== undefined) {
    const i = lines.findIndex((l) => l.startsWith('-A ') && l.split(' ').includes(named));
    if (i >= 0) n = i + 1;
  }
  const where = n === undefined ? '' : ` at line ${n}: ${lines[n - 1]}`;
  const reason =
    e.stderr
      .trim()
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  throw new BenchError(`${tool} rejected the transaction${where}\n${reason}`, {
    hint: 'the transaction was not applied; the rules installed before it are unchanged',
    cause: e,
  });
}

/** The filter section of a payload (nat comes first, see toRestorePayload). */
const filterSection = (payload: string): string => payload.slice(payload.indexOf('*filter\n'));

export const iptablesRestore: Backend<RenderResult> = {
  name: 'iptables-restore',
  title: "kube-proxy's iptables mode: one iptables-restore --noflush transaction per sync",
  preflight: async (o) => verdict(await iptablesFlavourChecks('iptables-restore', o.iptablesMode)),

  render(prev, next, cfg): Rendered<RenderResult> {
    const r = prev === undefined ? renderFull(next, cfg) : renderPartial(prev, next, cfg);
    return { kind: r.kind, payload: r, size: { count: r.stats.payloadLines, unit: 'lines' } };
  },

  async apply(t, { payload: r }) {
    const tools = iptablesTools(t.options.iptablesMode);
    let commands = 0;
    // Full syncs ensure the jumps from the built-in chains first, each with its own iptables
    // calls, exactly as kube-proxy does; they are never part of the restore payload.
    commands += await ensureJumps(t, tools.iptables, r.jumpRules);
    // iptables-restore commits table by table: check the small filter section first, so that a
    // rejection in either table leaves both as they were.
    const filter = filterSection(r.payload);
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--test', '--noflush'], stdin: filter })
      .catch((e) => restoreError(e, filter, tools.restore));
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--noflush', '--counters'], stdin: r.payload })
      .catch((e) => restoreError(e, r.payload, tools.restore));
    return { commands: commands + 2 };
  },

  async readBack(t, { payload: r }) {
    const { save } = iptablesTools(t.options.iptablesMode);
    const out = await t.exec.run({ netns: t.netns, argv: [save] });
    return diffRulesets(r.desired, parseIptablesSave(out.stdout)).map(formatDifference);
  },

  async teardown(t) {
    await flushAll(t);
  },

  async rawLoad(t, { payload: r }) {
    const { restore } = iptablesTools(t.options.iptablesMode);
    await t.exec.run({ netns: t.netns, argv: [restore, '-w', '--noflush', '--counters'], stdin: r.payload });
  },
};

/** Empties the filter and nat tables of the node namespace (built-in chains flushed, every other
 * chain deleted) in one restore: without --noflush, iptables-restore replaces each table. */
export async function flushAll(t: NodeTarget): Promise<void> {
  const { restore } = iptablesTools(t.options.iptablesMode);
  const payload =
    '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n';
  await t.exec.run({ netns: t.netns, argv: [restore, '-w'], stdin: payload });
}
