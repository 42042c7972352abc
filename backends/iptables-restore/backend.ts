import { ensureJumps, flushAll, readBackRuleset, reportedLine, restoreError } from '../shared/iptables/apply.js';
import { renderFull, renderPartial, type RenderResult } from '../shared/iptables/render.js';
import { iptablesFlavourChecks, iptablesTools } from '../shared/iptables/tools.js';
import { CommandError } from '../../src/exec/index.js';
import { verdict } from '../preflight.js';
import type { Backend, NodeTarget, Rendered } from '../types.js';

/**
 * A rejected sync's restore, made whole again. iptables-restore commits table by table, at each
 * COMMIT line (iptables/iptables-restore.c for legacy; iptables/xtables-restore.c for iptables-nft:
 * "Commit per table, although we support global commit at once"), and the payload has filter
 * first, as kube-proxy's: a rejection past the filter section (or one that names no line) leaves
 * the filter table of this sync committed beside the old nat table. Put filter back as it was
 * before the sync (RenderResult.filterRollback), then throw the original rejection, which names
 * the offending line. kube-proxy itself leaves the committed table in place and retries with a
 * full sync; this recovery runs only on failure, so the sync itself stays kube-proxy's one restore.
 */
async function rejected(t: NodeTarget, restore: string, r: RenderResult, e: unknown): Promise<never> {
  if (!(e instanceof CommandError)) throw e;
  const line = reportedLine(e.stderr);
  if (line !== undefined && line <= r.filterLines) restoreError(e, r.payload, restore); // nothing committed
  const undo = await t.exec.run({ netns: t.netns, argv: [restore, '-w', '--noflush'], stdin: r.filterRollback, allowFailure: true });
  restoreError(
    e,
    r.payload,
    restore,
    undo.exitCode === 0
      ? 'the transaction was not applied: the filter table it had committed before the rejection was put back; the rules installed before it are unchanged'
      : `the filter table of this transaction stayed committed: putting it back failed (${undo.stderr.trim().split('\n')[0] ?? ''}); a full sync rewrites both tables`,
  );
}

export const iptablesRestore: Backend<RenderResult> = {
  name: 'iptables-restore',
  title: "kube-proxy's iptables mode: one iptables-restore --noflush transaction per sync",
  iptablesFlavour: true,
  preflight: async (o, exec) => verdict(await iptablesFlavourChecks(exec, 'iptables-restore', o.iptablesMode)),

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
    // One restore of filter then nat, as kube-proxy's RestoreAll(data, NoFlushTables,
    // RestoreCounters) (pkg/proxy/iptables/proxier.go, syncProxyRules).
    const commitAt = performance.now();
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--noflush', '--counters'], stdin: r.payload })
      .catch((e: unknown) => rejected(t, tools.restore, r, e));
    return { commands: commands + 1, commitAt };
  },

  readBack: (t, { payload: r }) => readBackRuleset(t, r.desired),

  async teardown(t) {
    await flushAll(t);
  },

  async rawLoad(t, { payload: r }) {
    const { restore } = iptablesTools(t.options.iptablesMode);
    await t.exec.run({ netns: t.netns, argv: [restore, '-w', '--noflush', '--counters'], stdin: r.payload });
  },
};
