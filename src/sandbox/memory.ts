// Memory of the processes that program a node (kube-proxy's `nft` processes), measured as
// upstream measures `nft -f` (kubernetes#140362: one cgroup v2 per test,
// `/usr/bin/time -f "%M KiB max RSS, %e s"`, and the cgroup's memory.peak and memory.stat
// `kernel` and `slab_unreclaimable`, the kernel's share: nf_tables allocates its objects with
// GFP_KERNEL_ACCOUNT, charged to the memory cgroup of the process that made them).
//
// Layout: one cgroup per run next to the run's own cgroup, `<cgroup2>/svcb-<run>-mem` (not below
// it: the run's cgroup holds the pods' processes, and cgroup v2's no-internal-process rule forbids
// enabling the memory controller for the children of a cgroup that holds processes). It holds no
// process itself and enables `+memory` for its children; each measured sync gets a fresh child
// `s<N>`, so its memory.peak starts at zero (memory.peak is resettable only from 6.12 on, and then
// per open file: Documentation/admin-guide/cgroup-v2.rst), and the child is removed after the
// sync. Removing a cgroup moves its kernel charges to the parent, so the run cgroup's own
// memory.stat `kernel` is what the objects still alive (the table) hold, across syncs.
//
// Peak RSS: GNU time's %M (getrusage's ru_maxrss of the child, in KiB), through the exec port:
// `/usr/bin/time -f 'svcbench-time %M %e' CMD…` inside the namespace (package `time`).

import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Exec, ExecResult } from '../exec/index.js';
import { cgroup2Mount } from '../host/kernel.js';
import { removeCgroup, runCgroupName } from './run-cgroup.js';
import type { Recorder } from './state.js';

/** What one measured command (one sync's `nft -f`) cost. Fields are absent where not measurable. */
export interface SyncMemory {
  /** Peak resident set of the command (GNU time %M). */
  peakRssKiB?: number;
  /** memory.peak of the sync's own cgroup: user and kernel memory charged during the sync. */
  cgroupPeakBytes?: number;
  /** memory.stat `kernel` of the sync's cgroup after the command: kernel memory it charged and
   * that is still allocated (for a full sync from nothing: the table's objects). */
  kernelBytes?: number;
  /** memory.stat `slab_unreclaimable` of the sync's cgroup after the command. */
  slabUnreclaimableBytes?: number;
}

export type MemorySupport = { ok: true; root: string } | { ok: false; reason: string };

export const TIME_BINARY = '/usr/bin/time';
const TIME_MARK = 'svcbench-time';

/** Whether cgroup v2 can measure memory here: a cgroup2 mount whose root enables the memory
 * controller for its children (svcbench never changes the root's cgroup.subtree_control). */
export function memorySupport(mount: () => string | undefined = cgroup2Mount): MemorySupport {
  const root = mount();
  if (root === undefined) return { ok: false, reason: 'no cgroup2 mount' };
  try {
    const enabled = readFileSync(join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (!enabled.includes('memory')) {
      const available = readFileSync(join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory');
      return {
        ok: false,
        reason: available
          ? `the cgroup2 root ${root} does not enable the memory controller for its children (cgroup.subtree_control)`
          : `the cgroup2 hierarchy at ${root} has no memory controller (it is bound to a cgroup v1 hierarchy: a hybrid setup); boot with systemd.unified_cgroup_hierarchy=1`,
      };
    }
  } catch (e) {
    return { ok: false, reason: `cannot read ${root}: ${(e as Error).message}` };
  }
  return { ok: true, root };
}

/** The run's memory cgroup (see above); `bench clean` finds it by this name. */
export const memoryCgroupName = (runId: string): string => `${runCgroupName(runId)}-mem`;

/** `memory.stat` as numbers by key. */
export function parseMemoryStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** The command wrapped in GNU time, its report marked so that it can be told from the command's own stderr. */
export function timedArgv(argv: readonly string[]): string[] {
  return [TIME_BINARY, '-f', `${TIME_MARK} %M %e`, ...argv];
}

/** GNU time's line out of stderr: the peak RSS, and stderr as the command wrote it. */
export function parseTimed(stderr: string): { peakRssKiB?: number; elapsedS?: number; stderr: string } {
  const re = new RegExp(`(?:^|\\n)${TIME_MARK} (\\d+) ([\\d.]+)\\n?$`);
  const m = re.exec(stderr);
  if (!m) return { stderr };
  return { peakRssKiB: Number(m[1]), elapsedS: Number(m[2]), stderr: stderr.slice(0, m.index + (stderr[m.index] === '\n' ? 1 : 0)) };
}

export interface MemoryProbe {
  readonly support: MemorySupport;
  /** The run's memory cgroup, when cgroup v2 can measure here. */
  readonly cgroup?: string;
  /**
   * Runs one command (e.g. `nft -f -` in the node namespace) under GNU time, inside a fresh child
   * cgroup when supported, and returns its result with what it cost. GNU time's line is taken
   * out of stderr.
   */
  run(cmd: Command): Promise<{ result: ExecResult; memory: SyncMemory }>;
  /** memory.stat `kernel` of the run's memory cgroup: kernel memory still charged to every
   * command measured so far (the table's objects, after the per-sync cgroups are gone). */
  retainedKernelBytes(): Promise<number | undefined>;
}

/**
 * Opens the run's memory probe: records, then creates `<cgroup2>/svcb-<run>-mem` with `+memory`
 * for its children, when cgroup v2 can measure memory here; otherwise a probe that measures
 * peak RSS only (support says why). Teardown and `bench clean` remove the cgroup with the run's
 * other recorded objects (a leftover per-sync child goes first: removeCgroup).
 */
export async function openMemoryProbe(exec: Exec, runId: string, recorder: Recorder, support = memorySupport()): Promise<MemoryProbe> {
  const cgroup = support.ok ? join(support.root, memoryCgroupName(runId)) : undefined;
  if (cgroup !== undefined) {
    await recorder.record([{ kind: 'cgroup', path: cgroup }]);
    await exec.alter(
      async () => {
        await mkdir(cgroup);
        await writeFile(join(cgroup, 'cgroup.subtree_control'), '+memory');
      },
      () => undefined,
    );
  }
  let seq = 0;
  const readStat = async (dir: string) => parseMemoryStat(await readFile(join(dir, 'memory.stat'), 'utf8'));
  return {
    support,
    ...(cgroup === undefined ? {} : { cgroup }),
    async run(cmd) {
      const timed: Command = { ...cmd, argv: timedArgv(cmd.argv) };
      // A per-sync child cgroup exists only where the run's memory cgroup was made.
      const child =
        cgroup === undefined
          ? undefined
          : await exec.alter(
              async () => mkdirChild(cgroup, ++seq),
              () => undefined,
            );
      if (child === undefined) {
        const result = await exec.run(timed);
        const t = parseTimed(result.stderr);
        return { result: { ...result, stderr: t.stderr }, memory: t.peakRssKiB === undefined ? {} : { peakRssKiB: t.peakRssKiB } };
      }
      try {
        const result = await exec.run({ ...timed, cgroup: child });
        const t = parseTimed(result.stderr);
        const peak = Number((await readFile(join(child, 'memory.peak'), 'utf8')).trim());
        const stat = await readStat(child);
        const memory: SyncMemory = {
          ...(t.peakRssKiB === undefined ? {} : { peakRssKiB: t.peakRssKiB }),
          cgroupPeakBytes: peak,
          ...(stat.has('kernel') ? { kernelBytes: stat.get('kernel')! } : {}),
          ...(stat.has('slab_unreclaimable') ? { slabUnreclaimableBytes: stat.get('slab_unreclaimable')! } : {}),
        };
        return { result: { ...result, stderr: t.stderr }, memory };
      } finally {
        await removeCgroup(child);
      }
    },
    async retainedKernelBytes() {
      if (cgroup === undefined) return undefined;
      return exec.observe(async () => (await readStat(cgroup)).get('kernel'), undefined);
    },
  };
}

async function mkdirChild(cgroup: string, seq: number): Promise<string> {
  const child = join(cgroup, `s${seq}`);
  await mkdir(child);
  return child;
}
