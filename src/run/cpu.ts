import { readFileSync } from 'node:fs';

// CPU accounting for a case, from the kernel's own counters.
// /proc/stat's first line sums all CPUs in USER_HZ ticks, which is 100 on every Linux build
// (the ABI fixes it regardless of CONFIG_HZ; man 5 proc).
const USER_HZ = 100;

export interface MachineCpu {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export function readMachineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  return { user: user!, nice: nice!, system: system!, idle: idle!, iowait: iowait!, irq: irq!, softirq: softirq!, steal: steal! };
}

/** Seconds of kernel work (system + irq + softirq: where NAT, conntrack and forwarding run) and of
 * all busy time between two readings. */
export function machineDelta(a: MachineCpu, b: MachineCpu): { kernelS: number; totalBusyS: number } {
  const d = (k: keyof MachineCpu) => (b[k] - a[k]) / USER_HZ;
  const kernelS = d('system') + d('irq') + d('softirq');
  return { kernelS, totalBusyS: kernelS + d('user') + d('nice') + d('steal') };
}

/** CPU seconds of a process and its reaped children (utime, stime, cutime, cstime: fields 14–17 of
 * /proc/PID/stat); 0 when it is gone. */
export function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm field, utime is the 12th value (field 14 overall).
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / USER_HZ;
  } catch {
    return 0;
  }
}
