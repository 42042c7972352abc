import { runId as runIdSchema } from '../../config/fields.js';
import { BenchError, UsageError } from '../../errors.js';
import { clean, listSandboxes } from '../../sandbox/clean.js';
import type { Context } from '../context.js';

/** Picks the sandbox a command means: the one named, or the only one there is. */
export async function resolveRun(run: string | undefined): Promise<string> {
  if (run !== undefined) {
    const parsed = runIdSchema.safeParse(run);
    if (!parsed.success) throw new UsageError(`RUN: ${parsed.error.issues[0]!.message}`);
  }
  const all = await listSandboxes();
  const ids = all.map((s) => s.runId);
  if (run !== undefined) {
    if (!ids.includes(run)) throw new UsageError(`RUN: no sandbox ${run}; existing: ${ids.join(', ') || 'none'}`);
    return run;
  }
  if (ids.length === 0) throw new UsageError('no sandbox exists; create one with bench up');
  if (ids.length > 1) throw new UsageError(`several sandboxes exist (${ids.join(', ')}); name one, e.g. --run ${ids[0]}`);
  return ids[0]!;
}

/** `bench down [RUN]`: removes a sandbox kept by `bench up`. */
export async function down(ctx: Context, run: string | undefined): Promise<void> {
  const runId = await resolveRun(run);
  const started = performance.now();
  const report = await clean(ctx.exec, { only: runId });
  const busy = report.inUse[0];
  if (busy)
    throw new BenchError(`sandbox ${runId} belongs to a running bench ${busy.command} (pid ${busy.pid})`, {
      hint: `stop that process first (kill ${busy.pid}); its teardown removes the sandbox`,
    });
  const removed = report.removed.flatMap((r) => r.namespaces).length;
  const did = await ctx.exec.alter(
    async () => 'removed',
    () => 'would remove',
  );
  ctx.say(`${did} sandbox ${runId} (${removed} namespaces) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}
