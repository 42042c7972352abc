import { readFileSync } from 'node:fs';
import { JOB_PARAM } from './stage1.js';

/** True inside a svcbench guest: its kernel command line names the job (src/guest/stage1.ts). */
export function insideGuest(): boolean {
  try {
    return readFileSync('/proc/cmdline', 'utf8')
      .split(/\s+/)
      .some((p) => p.startsWith(`${JOB_PARAM}=`));
  } catch {
    return false;
  }
}

/** How much longer than on the host things take to start in the guest: qemu emulates the CPU
 * (TCG, no usable /dev/kvm), so a Node process there starts far slower (src/guest/README.md).
 * Deadlines that wait for processes to come up are multiplied by it; measurements are not. */
export const startupSlowdown = (): number => (insideGuest() ? 20 : 1);
