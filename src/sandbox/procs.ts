import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';

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

/** Processes whose command line names one of the directories (an argument that is the path, lies
 * inside it or ends with it, as qemu's `svcbench.job=DIR`). Only the temporary directories a run
 * makes (named svcbench-…) count: perf recording into one, qemu booting a guest job. They find
 * such a process when a kill landed between its start and the record of its pid. */
export function pidsNaming(paths: readonly string[]): number[] {
  const dirs = paths.filter((p) => basename(p).startsWith('svcbench-'));
  if (dirs.length === 0) return [];
  const names = (arg: string, dir: string): boolean => {
    const at = arg.indexOf(dir);
    if (at < 0) return false;
    const next = arg[at + dir.length];
    return next === undefined || next === '/';
  };
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => dirs.some((d) => names(a, d)))) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return pids;
}

/** The processes and all their descendants, found by each process's parent in /proc/PID/stat. A
 * recorded process's children outlive it when it is killed (they are re-parented, not signalled):
 * perf record's `sleep` workload is one. */
export function withDescendants(pids: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process exited meanwhile
    }
  }
  const all = new Set(pids);
  const queue = [...pids];
  while (queue.length > 0) {
    for (const c of children.get(queue.pop()!) ?? []) {
      if (all.has(c) || c === process.pid) continue;
      all.add(c);
      queue.push(c);
    }
  }
  return [...all];
}
