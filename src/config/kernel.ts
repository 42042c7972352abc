import { z } from 'zod';
import { intInRange } from './fields.js';

/** `--kernel`: run on this host's kernel, or boot Debian's kernel under qemu and run the same
 * command inside it (src/guest); `--guest-cpus`: that guest's vCPUs. */
export const kernelShape = {
  kernel: z
    .enum(['host', 'guest'], { error: (i) => `must be host or guest (got ${JSON.stringify(i.input)})` })
    .default('host')
    .describe("where to run: this host's kernel, or Debian's kernel booted under qemu (guest; see bench doctor)"),
  guestCpus: intInRange(1, 64)
    .optional()
    .describe(
      "--kernel guest: the guest's vCPUs (qemu -smp; default: this host's cores). On a busy host, no more than its idle cores: emulated vCPUs that wait on each other burn CPU (src/guest/README.md)",
    ),
};

/** What is wrong with the kernel flags together, if anything. */
export function kernelProblem(f: { kernel: 'host' | 'guest'; guestCpus?: number | undefined }): string | undefined {
  if (f.guestCpus !== undefined && f.kernel !== 'guest') return '--guest-cpus: only with --kernel guest';
  return undefined;
}
