import { readFileSync } from 'node:fs';
import type { Workload } from '../../workloads/types.js';

// Where a workload's client and servers run (Workload.cpus); the measurements behind each choice
// are in workloads/README.md ("Where processes run").
// - 'shared' (tcp-rr, udp-rr): round trips of one client and one server process. On different
//   CPUs every half round trip wakes an idle vCPU (an IPI and a halt exit on a VM) and the
//   scheduler's placement changes from run to run. So, as netperf's -T does, they share one CPU:
//   the last CPU this process may use.
// - 'split' (http): a keep-alive load generator gets a CPU of its own and the servers the others,
//   as a load generator on its own machine would; left to the scheduler, the load generator and
//   the servers keep waking each other across CPUs (scripts/bench-loadgen.ts measures it).
// - unset: the scheduler's placement (pinning a connection-per-request client and its servers
//   together made no difference).

/** CPUs this process may run on (/proc/self/status Cpus_allowed_list: "0-3,6"). */
export function allowedCpus(status: string): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  if (list === undefined) return [];
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

/** The CPUs each placement uses. */
export interface CpuPlan {
  /** 'shared': client and servers. */
  shared: number;
  /** 'split': the load generator. */
  loadGenerator: number;
  /** 'split': the servers, as a taskset list ("1", "1,2,3"). */
  servers: string;
}

/** The plan for these CPUs, or undefined with fewer than two (nothing to place). */
export function planCpus(cpus: number[]): CpuPlan | undefined {
  if (cpus.length < 2) return undefined;
  return { shared: cpus.at(-1)!, loadGenerator: cpus[0]!, servers: cpus.slice(1).join(',') };
}

/** The plan for the CPUs this process may use. */
export function cpuPlan(): CpuPlan | undefined {
  try {
    return planCpus(allowedCpus(readFileSync('/proc/self/status', 'utf8')));
  } catch {
    return undefined; // not Linux: no pinning
  }
}

/** argv under `taskset -c LIST` when the workload places its `role`'s processes. */
export function pinned(w: Pick<Workload, 'cpus'>, plan: CpuPlan | undefined, role: 'client' | 'server', argv: string[]): string[] {
  if (plan === undefined || w.cpus === undefined) return argv;
  const list = w.cpus === 'shared' ? String(plan.shared) : role === 'client' ? String(plan.loadGenerator) : plan.servers;
  return ['taskset', '-c', list, ...argv];
}
