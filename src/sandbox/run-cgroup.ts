import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command, Exec, ExecResult, Started } from '../exec/index.js';
import { cgroup2Mount, mounts, ownCgroupV1Dir } from '../host/kernel.js';
import { isRunId, NS_PREFIX } from './names.js';
import { STATE_DIR, type Recorder } from './state.js';

// A run's own cgroup and bpffs (../shared/reference/environment.md, "Gotchas"):
// - cgroup sock_addr programs act on every process of the cgroup they are attached to, whatever
//   its network namespace, so they go on a cgroup made for the run that only the run's pod-side
//   and node-side processes join (never on the cgroup2 root);
// - pins live in a bpffs instance mounted for the run (each bpffs mount is its own instance, so
//   unmounting it drops every pin at once and nothing appears under /sys/fs/bpf).
// Both carry the run id, are recorded before they are created, and are removed by teardown and
// `bench clean` (removeObjects) like the namespaces.

export interface RunPaths {
  /** cgroup2 directory the run's pod and node processes join; absent without cgroup2. */
  cgroup?: string;
  /** The run's own bpffs mount point. */
  bpffs: string;
}

export const runCgroupName = (runId: string): string => `${NS_PREFIX}${runId}`;
export const runBpffsPath = (runId: string): string => join(STATE_DIR, `${runId}-bpffs`);

export function planRunPaths(runId: string): RunPaths {
  const root = cgroup2Mount();
  return { ...(root === undefined ? {} : { cgroup: join(root, runCgroupName(runId)) }), bpffs: runBpffsPath(runId) };
}

/** Records, then creates the run's cgroup and mounts its bpffs. */
export async function createRunPaths(exec: Exec, paths: RunPaths, recorder: Recorder): Promise<void> {
  await recorder.record([
    ...(paths.cgroup === undefined ? [] : [{ kind: 'cgroup' as const, path: paths.cgroup }]),
    { kind: 'mount', path: paths.bpffs },
  ]);
  await exec.alter(
    async () => {
      if (paths.cgroup !== undefined) await mkdir(paths.cgroup);
      await mkdir(paths.bpffs, { mode: 0o700 });
    },
    () => undefined,
  );
  await exec.run({ argv: ['mount', '-t', 'bpf', 'bpf', paths.bpffs] });
}

/** An exec whose commands in the given namespaces (the node and the pods) join the run's cgroup
 * before entering them; commands elsewhere (the external client, the root namespace) do not. */
export function joiningCgroup(inner: Exec, cgroup: string | undefined, namespaces: readonly string[]): Exec {
  if (cgroup === undefined) return inner;
  const members = new Set(namespaces);
  const join_ = (cmd: Command): Command =>
    cmd.cgroup === undefined && cmd.netns !== undefined && members.has(cmd.netns) ? { ...cmd, cgroup } : cmd;
  return {
    observe: (read, asMade) => inner.observe(read, asMade),
    alter: (change, instead) => inner.alter(change, instead),
    run: (cmd: Command): Promise<ExecResult> => inner.run(join_(cmd)),
    start: (cmd: Command): Started => inner.start(join_(cmd)),
  };
}

/** Removes a recorded cgroup: its processes were killed just before, and a cgroup stays busy until
 * the last of them has exited, so retry for a while. Programs attached to it are detached and
 * freed by the kernel when the cgroup goes. */
export async function removeCgroup(path: string, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // A cgroup with children cannot go (EBUSY): a run's child cgroups (the per-sync memory
  // cgroups of memory.ts, left by a killed run) go first. Their files are the kernel's; only
  // directories are children.
  let children: string[] = [];
  try {
    children = readdirSync(path, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [join(path, d.name)] : []));
  } catch {
    // gone already, or not readable: rmdir below says which
  }
  for (const child of children) await removeCgroup(child, timeoutMs);
  for (;;) {
    try {
      await rmdir(path);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EBUSY' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Unmounts a recorded bpffs (dropping its pins) and removes the mount point. A plain unmount
 * fails with EBUSY while anything still uses the instance (a process whose working directory or
 * open file is inside it, in this or a propagated mount namespace: umount(2)), and the run's state
 * file would go with the mount still in place. Then it is detached (MNT_DETACH, `umount --lazy`):
 * gone from every namespace's view at once, its pins freed when the last user lets go. */
export async function removeMount(exec: Exec, path: string): Promise<boolean> {
  const mounted = () => mounts().some((m) => m.point === path);
  if (!mounted()) {
    if (existsSync(path)) await rmdir(path).catch(() => {});
    return false;
  }
  await exec.run({ argv: ['umount', path], allowFailure: true });
  if (mounted()) await exec.run({ argv: ['umount', '--lazy', path], allowFailure: true });
  if (existsSync(path)) await rmdir(path).catch(() => {});
  return true;
}

/** The run id of a run's memory cgroup name (memory.ts: svcb-<run>-mem). */
function memoryRunId(name: string): string | undefined {
  const m = /^([a-z0-9]+)-mem$/.exec(name.slice(NS_PREFIX.length));
  return m && isRunId(m[1]!) && name === `${runCgroupName(m[1]!)}-mem` ? m[1] : undefined;
}

/** Our cgroups and bpffs mounts that exist now, by run id (for `bench clean` without a state file):
 * the names runCgroupName and runBpffsPath give, read back. */
export function leftoverRunPaths(): Map<string, { cgroups: string[]; mounts: string[] }> {
  const byRun = new Map<string, { cgroups: string[]; mounts: string[] }>();
  const entry = (id: string) => byRun.get(id) ?? byRun.set(id, { cgroups: [], mounts: [] }).get(id)!;
  const root = cgroup2Mount();
  if (root !== undefined) {
    try {
      for (const name of readdirSync(root)) {
        const id = name.slice(NS_PREFIX.length);
        if (isRunId(id) && name === runCgroupName(id)) entry(id).cgroups.push(join(root, name));
        const mem = memoryRunId(name);
        if (mem !== undefined) entry(mem).cgroups.push(join(root, name));
      }
    } catch {
      // no cgroup2
    }
  }
  // On a hybrid host the memory cgroups are in the v1 memory hierarchy, below our own cgroup
  // there (memory.ts); a run started from another v1 cgroup is found through its state file.
  const v1 = ownCgroupV1Dir('memory');
  if (v1 !== undefined && v1.path !== '/') {
    try {
      for (const name of readdirSync(v1.dir)) {
        const mem = memoryRunId(name);
        if (mem !== undefined) entry(mem).cgroups.push(join(v1.dir, name));
      }
    } catch {
      // not readable
    }
  }
  for (const { point: mp } of mounts()) {
    const id = mp.slice(STATE_DIR.length + 1, -'-bpffs'.length);
    if (isRunId(id) && mp === runBpffsPath(id)) entry(id).mounts.push(mp);
  }
  return byRun;
}
