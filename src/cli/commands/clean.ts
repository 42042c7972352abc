import { clean as cleanAll } from '../../sandbox/clean.js';
import type { Context } from '../context.js';

/** `bench clean`: removes what killed runs and kept sandboxes left; says what it removed. */
export async function clean(ctx: Context, flags: { json?: boolean }): Promise<void> {
  const report = await cleanAll(ctx.exec);
  if (flags.json) ctx.out(`${JSON.stringify(report)}\n`);
  const removed = await ctx.exec.alter(
    async () => 'removed',
    () => 'would remove',
  );
  for (const r of report.removed)
    ctx.say(
      `${removed} run ${r.runId} (found by ${r.source}): ${r.namespaces.length} namespaces, ${r.processes} processes${r.cgroups.length ? `, ${r.cgroups.length} cgroups` : ''}${r.mounts.length ? `, ${r.mounts.length} bpffs mounts` : ''}${r.files.length ? `, ${r.files.length} files` : ''}`,
    );
  for (const u of report.inUse) ctx.say(`left run ${u.runId} alone: bench ${u.command} is still running as pid ${u.pid}`);
  if (report.removed.length === 0) ctx.say('nothing to clean');
}
