import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZodError } from 'zod';
import { UsageError } from '../../errors.js';
import { readRun, type RunJson } from '../../run/results.js';
import type { Context } from '../context.js';

/** A run given on the command line: a run directory, or a run id under results/. `name` is the
 * argument's name for error messages. */
export async function loadRun(arg: string, name: string): Promise<{ dir: string; run: RunJson }> {
  const dir = [arg, join('results', arg)].find((d) => existsSync(join(d, 'run.json')));
  if (dir === undefined)
    throw new UsageError(
      `${name}: no run.json in ${arg}${arg.includes('/') ? '' : ` nor in results/${arg}`}: give a run directory or a run id under results/`,
    );
  try {
    return { dir: resolve(dir), run: await readRun(dir) };
  } catch (e) {
    const why =
      e instanceof ZodError
        ? e.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')
        : e instanceof Error
          ? e.message
          : String(e);
    throw new UsageError(`${name}: ${join(dir, 'run.json')} is not a svcbench/run@1 file: ${why}`);
  }
}

/** `bench report [RUN]`: re-renders every report of a run from its run.json. */
export async function report(ctx: Context, arg: string | undefined, flags: { json?: boolean }): Promise<number> {
  const { dir, run } = await loadRun(arg ?? join('results', 'latest'), 'RUN');
  // The renderers load vega: imported here so other commands start without it.
  const { writeReports } = await import('../../report/write.js');
  const files = await writeReports(dir, run);
  if (flags.json) ctx.out(`${JSON.stringify({ runId: run.runId, dir, files: files.map((f) => join(dir, f)) })}\n`);
  else for (const f of files) ctx.out(`${join(dir, f)}\n`);
  ctx.say(`run ${run.runId} (${run.state}, ${run.cases.length} cases): reports written; open ${join(dir, 'report.html')}`);
  return 0;
}
