import { systemClock } from '../../src/clock.js';
import { verdict } from '../preflight.js';
import { ensureJump, flushAll, readBackRuleset } from '../shared/iptables/apply.js';
import { renderFull, renderPartial, type RenderResult } from '../shared/iptables/render.js';
import { iptablesFlavourChecks, iptablesTools } from '../shared/iptables/tools.js';
import type { Backend } from '../types.js';

/** The same ruleset as iptables-restore, installed one iptables command per rule, as a naive
 * controller would: every command reads, edits and writes back the whole table, so the cost grows
 * with the ruleset. The sync stops at its time budget (--sync-timeout) and says so. */
export const iptables: Backend<RenderResult> = {
  name: 'iptables',
  title: 'kube-proxy iptables ruleset installed one iptables command per rule (a naive controller)',
  iptablesFlavour: true,
  scaledToSyncTimeout: true,
  preflight: async (o, exec) => verdict(await iptablesFlavourChecks(exec, 'iptables', o.iptablesMode)),
  render: (prev, next, cfg) => {
    const r = prev === undefined ? renderFull(next, cfg) : renderPartial(prev, next, cfg);
    return { kind: r.kind, payload: r, size: { count: r.commands.length, unit: 'commands' } };
  },

  async apply(t, { payload: r }) {
    const { iptables: bin } = iptablesTools(t.options.iptablesMode);
    const budget = t.options.syncTimeoutMs;
    const now = (t.clock ?? systemClock).now;
    const started = now();
    const total = r.commands.length;
    let done = 0;
    for (const argv of r.commands) {
      const left = budget - (now() - started);
      if (left <= 0) return { commands: done, exceeded: { budgetMs: budget, done, total } };
      // The budget also bounds a single command (one command can take seconds at 10k services).
      try {
        await t.exec.run({ netns: t.netns, argv: [bin, '-w', ...argv], timeoutMs: Math.ceil(left) });
      } catch (e) {
        if (now() - started >= budget) return { commands: done + 1, exceeded: { budgetMs: budget, done, total } };
        // A full sync after a restart finds its chains in place: it flushes each instead of
        // creating it, as iptables-restore's ":CHAIN - [0:0]" line does for kube-proxy.
        const flush = existingChain(argv, e);
        if (flush === undefined) throw e;
        await t.exec.run({ netns: t.netns, argv: [bin, '-w', ...flush], timeoutMs: Math.ceil(Math.max(1, budget - (now() - started))) });
      }
      done++;
      // Stop as soon as the pace so far cannot fit the budget, rather than at the budget: every
      // command reads and writes back the whole table and a full sync only grows it, so later
      // commands cost at least as much as earlier ones and this projection is a lower bound. It is
      // trusted only after a tenth of the budget, when start-up costs are spread over many commands.
      const elapsed = now() - started;
      const projectedMs = (elapsed / done) * total;
      if (done < total && elapsed >= budget / 10 && projectedMs > budget)
        return { commands: done, exceeded: { budgetMs: budget, done, total, projectedMs } };
    }
    // The rule-by-rule path ensures the jumps after its commands, whose -N would otherwise collide.
    let commands = done;
    for (const j of r.jumpRules) commands += await ensureJump(t, bin, j);
    return { commands };
  },

  readBack: (t, { payload: r }) => readBackRuleset(t, r.desired),
  teardown: flushAll,
};

/** The flush that stands in for a `-N` whose chain exists already (iptables: "Chain already exists."). */
function existingChain(argv: readonly string[], e: unknown): string[] | undefined {
  const n = argv.indexOf('-N');
  if (n < 0 || !/Chain already exists/i.test(e instanceof Error ? e.message : String(e))) return undefined;
  return [...argv.slice(0, n), '-F', ...argv.slice(n + 1)];
}
