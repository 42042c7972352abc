import { ensureJumps, flushAll, readBackRuleset, restoreError } from '../shared/iptables/apply.js';
import { renderFull, renderPartial, type RenderResult } from '../shared/iptables/render.js';
import { iptablesFlavourChecks, iptablesTools } from '../shared/iptables/tools.js';
import { verdict } from '../preflight.js';
import type { Backend, Rendered } from '../types.js';

/** The filter section of a payload (nat comes first, see toRestorePayload). */
const filterSection = (payload: string): string => payload.slice(payload.indexOf('*filter\n'));

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
    // iptables-restore commits table by table: check the small filter section first, so that a
    // rejection in either table leaves both as they were.
    const filter = filterSection(r.payload);
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--test', '--noflush'], stdin: filter })
      .catch((e) => restoreError(e, filter, tools.restore));
    const commitAt = performance.now();
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--noflush', '--counters'], stdin: r.payload })
      .catch((e) => restoreError(e, r.payload, tools.restore));
    return { commands: commands + 2, commitAt };
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
