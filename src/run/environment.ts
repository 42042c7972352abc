import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { cpuPlan } from './pin.js';
import type { BackendInfo, Preflight } from '../../backends/types.js';
import type { Exec } from '../exec/index.js';
import { insideGuest } from '../guest/detect.js';
import { PACKAGE_ROOT } from '../package-root.js';
import type { RunJson } from './results.js';

/** The environment recorded with every run: kernel, CPU, memory, Node, commit and tool versions
 * (from the backends' own preflight checks). */
export async function captureEnvironment(
  exec: Exec,
  preflights: { backend: BackendInfo; preflight: Preflight }[],
): Promise<RunJson['environment']> {
  const tools: Record<string, string> = {};
  for (const { preflight } of preflights)
    for (const c of preflight.checks) if (c.state === 'ok' && c.detail && !c.what.startsWith('CONFIG_')) tools[c.what] = c.detail;
  const commit = await exec
    // svcbench's own checkout, wherever bench runs from.
    .run({ argv: ['git', '-C', PACKAGE_ROOT, 'rev-parse', '--short', 'HEAD'], allowFailure: true })
    .catch(() => ({ stdout: '', exitCode: 1 }));
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // keep os.cpus()'s
  }
  const plan = cpuPlan();
  return {
    kernel: release(),
    where: insideGuest() ? 'guest' : 'host',
    cpuModel,
    cpus: cpus().length,
    ...(plan === undefined ? {} : { sharedCpu: plan.shared, loadGeneratorCpu: plan.loadGenerator, serverCpus: plan.servers }),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    commit: commit.exitCode === 0 ? commit.stdout.trim() : 'unknown',
    tools,
  };
}
