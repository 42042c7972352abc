import { readFileSync } from 'node:fs';
import type { Workload } from '../../workloads/types.js';

// Round-trip workloads (tcp-rr, udp-rr) bounce one message between one client and one server
// process. When the two run on different CPUs, every half round trip wakes an idle vCPU (an IPI
// and a halt exit on a VM), and the scheduler's placement changes from run to run: measured on
// this 2-vCPU machine, tcp-rr on the pod path did 3,000–5,100 transactions/s free, 3,900–5,900
// pinned to two CPUs, and 15,600–19,100 with client and server on one CPU (p50 44–63 µs against
// 159–380). So, as netperf's -T does, their client and servers share one CPU: the last CPU this
// process may use. The other workloads keep the scheduler's placement (pinning a connection-per-
// request client and its servers together made no difference; a keep-alive load generator needs
// its own CPU).

/** CPUs this process may run on (/proc/self/status Cpus_allowed_list: "0-3,6"). */
export function allowedCpus(status: string): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  if (list === undefined) return [];
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** The CPU round-trip workloads share, or undefined with fewer than two CPUs (nothing to gain). */
export function sharedCpu(): number | undefined {
  let cpus: number[] = [];
  try {
    cpus = allowedCpus(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    // not Linux: no pinning
  }
  return cpus.length >= 2 ? cpus.at(-1) : undefined;
}

/** argv under `taskset -c CPU` when the workload shares one CPU between client and servers. */
export const pinned = (w: Pick<Workload, 'sameCpu'>, cpu: number | undefined, argv: string[]): string[] =>
  w.sameCpu === true && cpu !== undefined ? ['taskset', '-c', String(cpu), ...argv] : argv;
