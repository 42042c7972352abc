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
 * (TCG, no usable /dev/kvm), and a Node process there starts 20–40 times slower (measured: `node
 * -e 0` 0.04 s on the host, 1.5 s in the guest; `bench --version` 0.6 s of CPU against 20 s).
 * Deadlines that wait for processes to come up are multiplied by it; measurements are not. */
export const startupSlowdown = (): number => (insideGuest() ? 20 : 1);
