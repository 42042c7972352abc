import { UsageError } from '../../errors.js';
import { compareRuns, comparisonText } from '../../report/compare.js';
import type { Context } from '../context.js';
import { loadRun } from './report.js';

/** `bench compare RUN_A RUN_B`: per-case changes of B against A with their significance; exit 1
 * with --fail-on-regression PCT when a significant regression exceeds PCT. */
export async function compareCommand(
  ctx: Context,
  argA: string,
  argB: string,
  flags: { failOnRegression?: string; json?: boolean },
): Promise<number> {
  let pct: number | undefined;
  if (flags.failOnRegression !== undefined) {
    pct = Number(flags.failOnRegression);
    if (flags.failOnRegression.trim() === '' || !Number.isFinite(pct) || pct < 0)
      throw new UsageError(`--fail-on-regression: "${flags.failOnRegression}" is not a percentage: give a number ≥ 0, e.g. 10`);
  }
  const a = await loadRun(argA, 'RUN_A', ctx.say);
  const b = await loadRun(argB, 'RUN_B', ctx.say);
  const r = compareRuns(a.run, b.run, pct === undefined ? {} : { failOnRegressionPct: pct });
  for (const w of r.warnings) ctx.say(`warning: ${w}`);
  ctx.out(flags.json ? `${JSON.stringify(r)}\n` : comparisonText(r));
  return r.counts.failing > 0 ? 1 : 0;
}
