import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATE_DIR } from '../../../src/sandbox/state.js';
import { ownedElsewhere, runIdOfFile, withoutOthers } from '../../owners.js';

// Everything a killed svcbench command could leave on the machine, looked for independently of
// `bench clean`'s own bookkeeping: namespaces, state files and bpffs directories, cgroups named
// svcb-* in every cgroup hierarchy (v2 and each v1 one, a few levels deep: a v1 memory cgroup of a
// run sits below this process's own cgroup there), bpffs mounts, pins named after svcbench in the
// system's bpffs, BPF programs of the eBPF backend still loaded, svcbench's temporary directories,
// temporary files left in a results directory, and processes.

const SVCB = /^svcb[-_]/;
/** Program names of backends/ebpf/bpf/proxy.c as the kernel keeps them (15 characters). */
const OUR_PROGS = /^(sock4_|nodeport_)/;
const TEMP_DIRS = /^svcbench-(perf|guest)-/;

/** A moment's view of what exists, to compare a trial's end with its start. */
export interface Before {
  tempDirs: Set<string>;
  pids: Set<number>;
  progs: number;
}

export function snapshotBefore(): Before {
  return { tempDirs: new Set(tempDirs()), pids: new Set(matchingPids()), progs: ourProgs() };
}

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

function tempDirs(): string[] {
  return list(tmpdir()).filter((n) => TEMP_DIRS.test(n));
}

/** svcb-* directories in every cgroup hierarchy, down to `depth` levels. */
function cgroups(depth = 4): string[] {
  const roots = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2')
    .map((f) => f[1]!);
  const found: string[] = [];
  const walk = (dir: string, left: number): void => {
    for (const e of list(dir)) {
      const path = join(dir, e);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (!isDir) continue;
      if (SVCB.test(e)) found.push(path);
      else if (left > 0) walk(path, left - 1);
    }
  };
  for (const r of new Set(roots)) walk(r, depth);
  return found;
}

function mountsNamingUs(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => /svcb/.test(l));
}

function pins(): string[] {
  return list('/sys/fs/bpf').filter((n) => /svcb|kube/.test(n));
}

function ourProgs(): number {
  try {
    const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { name?: string }[];
    return progs.filter((p) => OUR_PROGS.test(p.name ?? '')).length;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** Processes a svcbench command starts that name it: sandbox commands (svcb- namespaces and
 * cgroups), perf recording into a run's temporary directory, qemu of a guest run. */
function matchingPids(): number[] {
  return list('/proc').flatMap((p) => {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) return [];
    const args = cmdline(Number(p));
    if (args === undefined || args[0] === 'flock' || args.some((a) => a.includes('svcbench-e2e.lock'))) return [];
    const named = args.some((a) => /svcb-[a-z0-9]{6}|svcbench-(perf|guest)-/.test(a)) || /qemu-system/.test(args[0] ?? '');
    return named && !zombie(Number(p)) ? [Number(p)] : [];
  });
}

function stat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const zombie = (pid: number): boolean => stat(pid)?.[0] === 'Z';

/** Live processes of a process group (a trial's command and whatever it started and left there). */
function groupPids(pgid: number): number[] {
  return list('/proc').flatMap((p) => {
    if (!/^\d+$/.test(p)) return [];
    const f = stat(Number(p));
    return f !== undefined && f[0] !== 'Z' && Number(f[2]) === pgid ? [Number(p)] : [];
  });
}

/** Temporary files of a write-then-rename left anywhere under a results directory. */
function tempFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.tmp')) found.push(join(d, e.name));
    }
  };
  walk(dir);
  return found;
}

/** Waits (up to `timeoutMs`) until no more of the eBPF backend's programs are loaded than before:
 * the kernel frees a removed cgroup's attached programs asynchronously (cgroup_bpf_release runs
 * from a workqueue once the cgroup's last reference goes, kernel/bpf/cgroup.c), so right after a
 * bench clean that removed the cgroup they may still be listed. Returns the milliseconds waited
 * (0: none were left); residue() still counts any that outlive the wait. */
export async function bpfProgramsSettled(before: Before, timeoutMs = 5000): Promise<number> {
  if (ourProgs() <= before.progs) return 0;
  const t0 = performance.now();
  while (ourProgs() > before.progs && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 100));
  return Math.round(performance.now() - t0);
}

/** The run an object of ours names: a namespace or cgroup `svcb-<id>…`, a state-directory entry
 * `<id>.json`/`<id>-bpffs`, a mount under the state directory. */
const runOf = (object: string): string => /(?:svcb[-_]|svcbench\/)([a-z0-9]{6})/.exec(object)?.[1] ?? '';

/** The run a temporary directory names: the guest's job directory `svcbench-guest-<id>`, a
 * command record's `svcbench-perf-<id>-<n>` (src/sandbox/command-record.ts). */
const runOfTempDir = (name: string): string => /^svcbench-(?:perf|guest)-([a-z0-9]{6})/.exec(name)?.[1] ?? '';

/** What exists now that should not: each entry names its kind and object. What another test
 * file's live process owns (test/owners.ts: e2e files beside this one) is not counted. */
export function residue(o: { before: Before; out?: string; pgid?: number }): string[] {
  const describe = (pid: number) => `${pid} ${(cmdline(pid) ?? []).join(' ').slice(0, 100)}`;
  const strays = [...new Set([...matchingPids().filter((p) => !o.before.pids.has(p)), ...(o.pgid === undefined ? [] : groupPids(o.pgid))])];
  const progs = ourProgs() - o.before.progs;
  const ours = (listing: () => string[], of = runOf): string[] => withoutOthers(listing, of);
  return [
    ...ours(() => list('/run/netns').filter((n) => SVCB.test(n))).map((n) => `netns ${n}`),
    ...ours(() => list(STATE_DIR), runIdOfFile).map((f) => `state ${f}`),
    ...ours(cgroups).map((c) => `cgroup ${c}`),
    ...ours(mountsNamingUs).map((m) => `mount ${m}`),
    ...pins().map((p) => `pin /sys/fs/bpf/${p}`),
    ...(progs > 0 ? [`bpf programs: ${progs} more of the eBPF backend's loaded`] : []),
    ...ours(tempDirs, runOfTempDir)
      .filter((d) => !o.before.tempDirs.has(d))
      .map((d) => `temp dir ${join(tmpdir(), d)}`),
    ...(o.out === undefined ? [] : tempFiles(o.out).map((f) => `temp file ${f}`)),
    ...strays.filter((p) => !ownedElsewhere(p)).map((p) => `process ${describe(p)}`),
  ];
}
