import { backendByName, BACKEND_NAMES } from '../../../backends/index.js';
import { backendOptionsShape, nftOptionsShape, toBackendOptions } from '../../config/backend.js';
import { intInRange } from '../../config/fields.js';
import { kernelProblem, kernelShape } from '../../config/kernel.js';
import { clusterProblem, clusterShape } from '../../config/sandbox.js';
import { BenchError, UsageError } from '../../errors.js';
import { insideGuest } from '../../guest/detect.js';
import { runInGuest } from '../../guest/runner.js';
import { Interrupts } from '../../lifecycle.js';
import { verify as runVerify } from '../../verify/run.js';
import { TESTED } from '../../verify/services.js';
import type { Context } from '../context.js';
import { parseShape } from '../options.js';
import { z } from 'zod';

export const verifyShape = {
  backend: z.string({ error: `is required: one of ${BACKEND_NAMES.join(', ')}` }).describe(`backend to check: ${BACKEND_NAMES.join(', ')}`),
  services: intInRange(TESTED.length, 30000)
    .default(TESTED.length)
    .describe(`services to install (the ${TESTED.length} tested ones plus fillers pointing at real pods)`),
  ...backendOptionsShape,
  ...nftOptionsShape,
  ...kernelShape,
  ...clusterShape,
};

/** `bench verify --backend B`: the conformance suite; exits 1 when any check fails. */
export async function verify(ctx: Context, flags: Record<string, unknown> & { json?: boolean }, argv: readonly string[]): Promise<number> {
  const f = parseShape(verifyShape, flags);
  const backend = backendByName(f.backend);
  if (!backend) throw new UsageError(`--backend: unknown backend ${JSON.stringify(f.backend)}; one of ${BACKEND_NAMES.join(', ')}`);
  for (const [flag, value] of [
    ['--kube-proxy', f.kubeProxy],
    ['--nft-listing', f.nftListing],
  ] as const)
    if (value !== undefined && backend.kubeProxyProfiles !== true)
      throw new UsageError(`${flag}: only the nft backend has kube-proxy profiles, not ${backend.name}`);
  const problem = clusterProblem(f) ?? kernelProblem(f);
  if (problem) throw new UsageError(problem);
  // In a guest kernel the backend's preflight runs inside the guest, on the kernel it checks.
  if (f.kernel === 'guest' && !insideGuest()) return runInGuest(ctx, { args: argv, cpus: f.guestCpus });
  const options = toBackendOptions(f);
  const pre = await backend.preflight(options, ctx.exec);
  if (pre.state === 'unavailable') throw new BenchError(`backend ${backend.name} is unavailable here: ${pre.reason}`, { hint: pre.fix });

  const interrupts = new Interrupts(ctx.say);
  try {
    ctx.say(
      `verifying ${backend.name}${backend.iptablesFlavour ? ` (${options.iptablesMode})` : ''}${backend.kubeProxyProfiles === true ? ` (kube-proxy ${options.kubeProxy ?? '1.37'})` : ''} with ${f.services} services${f.nodes > 1 ? ` on ${f.nodes} nodes (${f.placement})` : ''}…`,
    );
    const cluster = { nodes: f.nodes, placement: f.placement };
    const report = await runVerify({ exec: ctx.exec, say: ctx.say, check: interrupts.check }, backend, options, f.services, cluster).catch(
      (e: unknown) => {
        throw interrupts.reason(e);
      },
    );
    // A check that failed because a signal killed its probe: the command was interrupted.
    interrupts.check();
    if (flags.json) ctx.out(`${JSON.stringify(report)}\n`);
    const w = Math.max(...report.checks.map((c) => c.name.length));
    ctx.say(`\n${'check'.padEnd(w)}  result  detail`);
    for (const c of report.checks) ctx.say(`${c.name.padEnd(w)}  ${c.skipped ? 'skip  ' : c.pass ? 'pass  ' : 'FAIL  '}  ${c.detail}`);
    const failed = report.checks.filter((c) => !c.pass).length;
    ctx.say(
      `\n${backend.name}: ${failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks FAILED`}`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    interrupts.dispose();
  }
}
