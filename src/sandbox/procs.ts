import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

// Processes inside a named network namespace, found as `ip netns pids` does: by comparing the inode
// of /proc/PID/ns/net with that of the bind mount /run/netns/NAME.

export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

export function pidsInNetns(names: readonly string[]): number[] {
  const inodes = new Set(names.map(netnsInode).filter((i): i is number => i !== undefined && i !== 0));
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const link = readlinkSync(`/proc/${entry}/ns/net`); // "net:[4026532123]"
      if (inodes.has(Number(link.slice(5, -1)))) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return pids.filter((p) => p !== process.pid);
}

/** Processes in cgroup2 directories (a run's cgroup). */
export function pidsInCgroups(paths: readonly string[]): number[] {
  return paths
    .flatMap((p) => {
      try {
        return readFileSync(`${p}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    })
    .filter((p) => p !== process.pid);
}

export function killAll(pids: readonly number[], signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}
