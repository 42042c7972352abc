import { BACKEND_NAMES } from '../../../backends/index.js';
import { resolve } from 'node:path';
import { WORKLOADS } from '../../../workloads/index.js';
import { kernelProblem, kernelShape } from '../../config/kernel.js';
import { insideGuest } from '../../guest/detect.js';
import { runInGuest } from '../../guest/runner.js';
import { UsageError } from '../../errors.js';
import { Interrupts } from '../../lifecycle.js';
import { runFlagsSchema, runShape } from '../../run/config.js';
import { runBench } from '../../run/runner.js';
import { scaleNotes, summarizeRun, summaryTable } from '../../run/summary.js';
import { verdictLines, verdicts } from '../../report/verdicts.js';
import type { Context } from '../context.js';
import { parseShape } from '../options.js';

export const runFlagsShape = {
  ...runShape(BACKEND_NAMES, WORKLOADS),
  ...kernelShape,
};

/** `bench run`: measures; prints the summary table on stdout (JSON with --json), progress on stderr. */
export async function run(ctx: Context, flags: Record<string, unknown> & { json?: boolean }, argv: string[]): Promise<number> {
  const f = parseShape(runFlagsShape, flags, runFlagsSchema(runFlagsShape));
  // The guest writes run.json straight into this results directory, shared with it.
  const kernel = kernelProblem(f);
  if (kernel !== undefined) throw new UsageError(kernel);
  if (f.kernel === 'guest' && !insideGuest())
    return runInGuest(ctx, { args: argv, results: resolve(f.out), resultsFile: 'run.json', cpus: f.guestCpus });
  const interrupts = new Interrupts(ctx.say);
  try {
    const { run: r, dir } = await runBench(
      { exec: ctx.exec, say: ctx.say, write: (t) => process.stderr.write(t), tty: process.stderr.isTTY === true, check: interrupts.check },
      f,
      argv,
    );
    const groups = summarizeRun(r);
    if (flags.json) ctx.out(`${JSON.stringify({ runId: r.runId, dir, groups })}\n`);
    else ctx.out(`${summaryTable(groups, scaleNotes(r))}\n`);
    const errored = r.cases.filter((c) => c.state === 'errored').length;
    ctx.say(
      `\nrun ${r.runId}: ${r.cases.filter((c) => c.state === 'completed').length} cases completed, ${errored} errored, ${r.cases.filter((c) => c.state === 'skipped').length} skipped; ${dir}/run.json`,
    );
    // Warnings that say what to do, once per case group, from its headline metric (throughput).
    // The sample-count warning applies to every group alike: say it once.
    // Paired groups' ratios have their own interval (a t interval over repetitions, stats/paired.ts).
    // The pod path's group of such a unit is their baseline: its count says nothing about them.
    const pairedUnit = new Set(groups.filter((g) => g.metrics.throughput?.paired).map((g) => `${g.backend}/${g.services}/${g.workload}`));
    const few = groups.flatMap((g) =>
      pairedUnit.has(`${g.backend}/${g.services}/${g.workload}`)
        ? []
        : (g.metrics.throughput?.summary.warnings.filter((w) => w.code === 'few-samples') ?? []),
    )[0];
    if (few) ctx.say(`note: ${few.message}`);
    for (const g of groups) {
      const warnings = (g.metrics.throughput?.summary.warnings ?? []).filter((w) => w.code !== 'few-samples');
      if (warnings.length > 0)
        ctx.say(`warning: ${g.backend} ${g.path} ${g.workload} @${g.services}: ${warnings.map((w) => w.message).join('; ')}`);
    }
    // The answers, last (with the table, on stdout): one sentence per backend and question.
    if (!flags.json) ctx.out(`\n${verdictLines(verdicts(r, groups)).join('\n')}\n`);
    return 0;
  } finally {
    interrupts.dispose();
  }
}
