import { resolve } from 'node:path';
import { BACKEND_NAMES, BACKENDS } from '../../../backends/index.js';
import { kernelProblem, kernelShape } from '../../config/kernel.js';
import { clusterProblem } from '../../config/sandbox.js';
import { UsageError } from '../../errors.js';
import { insideGuest } from '../../guest/detect.js';
import { runInGuest } from '../../guest/runner.js';
import { Interrupts } from '../../lifecycle.js';
import { readShape } from '../../shape/read.js';
import { syncShape } from '../../syncbench/config.js';
import { runSync } from '../../syncbench/run.js';
import { durationText } from '../../syncbench/text.js';
import { variants } from '../../syncbench/variants.js';
import type { Context } from '../context.js';
import { parseShape } from '../options.js';

export const syncFlagsShape = {
  ...syncShape(
    BACKEND_NAMES,
    BACKENDS.filter((b) => b.kubeProxyProfiles === true).map((b) => b.name),
  ),
  ...kernelShape,
};

/** `bench sync`: times syncs only (no workload, no traffic but a probe); a table of the points on
 * stdout (JSON with --json), progress on stderr, everything in results/<run-id>/sync.json. */
export async function syncCommand(ctx: Context, flags: Record<string, unknown> & { json?: boolean }, argv: string[]): Promise<number> {
  const f = parseShape(syncFlagsShape, flags);
  const series = variants(f);
  // The same cross-flag rule as bench run's and bench up's; the message names the flag.
  const cluster = clusterProblem(f) ?? kernelProblem(f);
  if (cluster !== undefined) throw new UsageError(cluster);
  if (f.shape !== undefined && f.endpoints !== undefined)
    throw new UsageError('--endpoints: the services follow --shape FILE, which gives each its endpoints; give one or the other');
  // The shape is read (and checked) before anything is created.
  const shape = f.shape === undefined ? undefined : await readShape(f.shape);
  if (f.kernel === 'guest' && !insideGuest())
    return runInGuest(ctx, { args: argv, results: resolve(f.out), resultsFile: 'sync.json', cpus: f.guestCpus });
  const interrupts = new Interrupts(ctx.say);
  try {
    const { run, dir } = await runSync(
      { exec: ctx.exec, say: ctx.say, write: (t) => process.stderr.write(t), tty: process.stderr.isTTY === true, check: interrupts.check },
      f,
      { variants: series, ...(shape ? { shape } : {}), argv },
    );
    if (flags.json) ctx.out(`${JSON.stringify({ runId: run.runId, dir, points: run.points })}\n`);
    else {
      const lines = run.points.map((p) => {
        const cold = run.samples.filter(
          (s) => s.variant === p.variant && s.services === p.services && s.step === 'full-cold' && !s.exceeded,
        );
        const median = cold.length === 0 ? undefined : [...cold].sort((a, b) => a.totalMs - b.totalMs)[(cold.length - 1) >> 1]!.totalMs;
        return `${p.variant.padEnd(26)} ${p.services.toLocaleString('en-US').padStart(8)}  ${p.state.padEnd(9)} ${median === undefined ? '' : `cold full sync ${durationText(median)}`}${p.reason ? `  ${p.reason}` : ''}`;
      });
      ctx.out(`${['series                     services  state     ', ...lines].join('\n')}\n`);
    }
    const errored = run.points.filter((p) => p.state === 'errored').length;
    ctx.say(
      `\nsync run ${run.runId}: ${run.points.filter((p) => p.state === 'completed').length} points completed, ${errored} errored, ${run.points.filter((p) => p.state === 'not-run').length} not run, ${run.points.filter((p) => p.state === 'skipped').length} skipped; ${dir}/sync.json`,
    );
    return 0;
  } finally {
    interrupts.dispose();
  }
}
