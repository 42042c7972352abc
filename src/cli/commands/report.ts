import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ZodError } from 'zod';
import { BenchError, UsageError } from '../../errors.js';
import { readRunChecked, type RunJson } from '../../run/results.js';
import { CHECKSUM_FIELD, RunFileError } from '../../run/run-file.js';
import type { Context } from '../context.js';

/** A run given on the command line: a run directory, or a run id under results/. `name` is the
 * argument's name for error messages. A run.json that is torn or does not match its checksum is a
 * failure (exit 1, saying what to do); one that is not a run.json is a usage error (exit 2); one
 * without a checksum (written before svcbench recorded one) is read with a note. */
export async function loadRun(arg: string, name: string, say: (line: string) => void): Promise<{ dir: string; run: RunJson }> {
  const dir = [arg, join('results', arg)].find((d) => existsSync(join(d, 'run.json')));
  if (dir === undefined)
    throw new UsageError(
      `${name}: no run.json in ${arg}${arg.includes('/') ? '' : ` nor in results/${arg}`}: give a run directory or a run id under results/`,
    );
  const file = join(dir, 'run.json');
  try {
    const { run, checksum } = await readRunChecked(dir);
    if (checksum === 'absent')
      say(`note: ${name}: ${file} has no checksum (${CHECKSUM_FIELD}; runs written before svcbench recorded one): read unverified`);
    return { dir: resolve(dir), run };
  } catch (e) {
    if (e instanceof RunFileError) throw new BenchError(`${name}: ${e.message}`);
    const why =
      e instanceof ZodError
        ? e.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')
        : e instanceof Error
          ? e.message
          : String(e);
    throw new UsageError(`${name}: ${file} is not a svcbench/run@1 file: ${why}`);
  }
}

/** `bench report [RUN]`: re-renders every report of a run from its run.json. */
export async function report(ctx: Context, arg: string | undefined, flags: { json?: boolean }): Promise<number> {
  const syncDir = arg === undefined ? undefined : [arg, join('results', arg)].find((d) => existsSync(join(d, 'sync.json')));
  if (syncDir !== undefined) return reportSync(ctx, resolve(syncDir), flags);
  const { dir, run } = await loadRun(arg ?? join('results', 'latest'), 'RUN', ctx.say);
  // The renderers load vega: imported here so other commands start without it.
  const { renderReports, writeReports } = await import('../../report/write.js');
  const { files, written } = await writeOrList(
    ctx,
    () => writeReports(dir, run),
    async () => [...(await renderReports(run)).files.keys()],
  );
  listFiles(ctx, run.runId, dir, files, flags);
  ctx.say(`run ${run.runId} (${run.state}, ${run.cases.length} cases): ${outcome(dir, written)}`);
  return 0;
}

/** Writing the reports changes the disk, so it goes through the exec port: the real exec writes
 * them; the dry-run (and fake) exec renders them instead (so a run that cannot be rendered still
 * fails) and lists them, writing nothing. `written` says which happened. */
async function writeOrList(
  ctx: Context,
  write: () => Promise<string[]>,
  render: () => Promise<string[]>,
): Promise<{ files: string[]; written: boolean }> {
  let written = true;
  const files = await ctx.exec.alter(write, () => {
    written = false;
    return render();
  });
  return { files, written };
}

function listFiles(ctx: Context, runId: string, dir: string, files: string[], flags: { json?: boolean }): void {
  if (flags.json) ctx.out(`${JSON.stringify({ runId, dir, files: files.map((f) => join(dir, f)) })}\n`);
  else for (const f of files) ctx.out(`${join(dir, f)}\n`);
}

const outcome = (dir: string, written: boolean): string =>
  written ? `reports written; open ${join(dir, 'report.html')}` : 'reports rendered, not written (--dry-run)';

/** `bench report` of a `bench sync` run: its reports again from its sync.json. */
async function reportSync(ctx: Context, dir: string, flags: { json?: boolean }): Promise<number> {
  const { readSyncRun } = await import('../../syncbench/results.js');
  const { renderSyncReports, writeSyncReports } = await import('../../syncbench/report.js');
  const run = await readSyncRun(dir);
  const { files, written } = await writeOrList(
    ctx,
    () => writeSyncReports(dir, run),
    async () => [...(await renderSyncReports(run)).keys()],
  );
  listFiles(ctx, run.runId, dir, files, flags);
  ctx.say(`sync run ${run.runId} (${run.state}, ${run.points.length} points): ${outcome(dir, written)}`);
  return 0;
}
