import { z } from 'zod';

/** `--kernel`: run on this host's kernel, or boot Debian's kernel under qemu and run the same
 * command inside it (src/guest). */
export const kernelShape = {
  kernel: z
    .enum(['host', 'guest'], { error: (i) => `must be host or guest (got ${JSON.stringify(i.input)})` })
    .default('host')
    .describe("where to run: this host's kernel, or Debian's kernel booted under qemu (guest; see bench doctor)"),
};
