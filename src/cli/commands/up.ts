import { loadScenario, podsNeeded } from '../../config/scenario.js';
import { sandboxSchema, sandboxShape } from '../../config/sandbox.js';
import { UsageError } from '../../errors.js';
import { Interrupts } from '../../lifecycle.js';
import { closeSandbox, openSandbox, type Sandbox } from '../../sandbox/session.js';
import type { Context } from '../context.js';
import { parseShape } from '../options.js';

export interface UpFlags extends Record<string, unknown> {
  scenario?: string;
  json?: boolean;
}

/** `bench up`: builds a sandbox and leaves it to explore. */
export async function up(ctx: Context, flags: UpFlags): Promise<void> {
  let raw: Record<string, unknown> = flags;
  let minPods = 1;
  if (flags.scenario !== undefined) {
    const scenario = await loadScenario(flags.scenario);
    // Flags win over the file's sandbox section; the file's endpoints decide the least pod count.
    minPods = podsNeeded(scenario);
    raw = { pods: minPods, ...scenario.sandbox, ...definedOnly(flags) };
  }
  const cfg = parseShape(sandboxShape, raw, sandboxSchema);
  if (cfg.pods < minPods)
    throw new UsageError(
      // The pod count came from --pods or, without it, from the file's sandbox section.
      `${flags.pods === undefined ? `${flags.scenario}: sandbox.pods` : '--pods'}: the scenario's endpoints name srv-${minPods - 1}, so at least ${minPods} pods are needed (got ${cfg.pods})`,
    );

  const interrupts = new Interrupts(ctx.say);
  let sb: Sandbox | undefined;
  try {
    sb = await openSandbox(ctx.exec, cfg, { command: 'up', check: interrupts.check });
    interrupts.check();
    await sb.state?.setKeep(true);
  } catch (e) {
    if (sb) await closeSandbox(ctx.exec, sb);
    throw interrupts.reason(e);
  } finally {
    interrupts.dispose();
  }
  report(ctx, sb, flags.json === true);
}

function report(ctx: Context, sb: Sandbox, json: boolean): void {
  const { plan } = sb;
  const seconds = (sb.buildMs / 1000).toFixed(2);
  if (json) {
    ctx.out(
      `${JSON.stringify({
        runId: plan.runId,
        buildSeconds: Number(seconds),
        node: plan.node,
        ...(plan.underlay ? { nodes: plan.nodes, underlay: plan.underlay } : {}),
        external: plan.external,
        pods: plan.pods.map(({ role, netns, ip, node }) => ({ name: role, netns, ip, ...(plan.underlay ? { node } : {}) })),
      })}\n`,
    );
  }
  const servers = plan.pods.filter((p) => p.kind === 'server').length;
  ctx.say(
    `sandbox ${plan.runId} ${sb.state ? 'ready' : 'planned (dry run)'} in ${seconds} s: ${plan.underlay ? `${plan.nodes.length} nodes (${plan.placement})` : 'node'}, external, ${servers} server pod(s), ${plan.pods.length - servers} client pod(s)`,
  );
  const multi = plan.underlay !== undefined;
  const rows: [string, string, string][] = [
    ...plan.nodes.map((n): [string, string, string] => [
      n.index === 0 ? 'node' : `node-${n.index}`,
      n.netns,
      `${n.ip} (pods' gateway ${n.gateway}${multi ? `, pods ${n.podCidr}` : ''})`,
    ]),
    ...(plan.underlay ? [['underlay', plan.underlay.netns, `bridge ${plan.underlay.bridge}`] as [string, string, string]] : []),
    ['external', plan.external.netns, plan.external.ip],
    ...plan.pods.map((p): [string, string, string] => [p.role, p.netns, multi ? `${p.ip} (node ${p.node})` : p.ip]),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) ctx.say(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  const first = plan.pods[0]!;
  ctx.say(`enter it:  bench exec ${first.role}    (or: nsenter --net=/run/netns/${first.netns} bash)`);
  ctx.say(`remove it: bench down ${plan.runId}`);
}

const definedOnly = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
