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
//
// Hybrid hosts (memory controller bound to cgroup v1, e.g. /sys/fs/cgroup/memory): the same
// layout in the v1 memory hierarchy, below the cgroup this process is in (never the v1 root):
// `<own v1 memory cgroup>/svcb-<run>-mem/s<N>`. Figures, from the kernel's
// Documentation/admin-guide/cgroup-v1/memory.rst: memory.max_usage_in_bytes (§1 "Brief summary of control files": "max memory usage
// recorded", user and kernel charges together: kernel memory is charged to the same counter,
// §2.7) as the peak; memory.kmem.usage_in_bytes and memory.kmem.max_usage_in_bytes (§1 and §2.7, "current
// / max kernel memory allocation") as the kernel share now and at its peak. v1's memory.stat (§5.2)
// has no field for kernel or slab memory (its rss/cache are user pages), so slab_unreclaimable has
// no v1 counterpart and is not reported there. Children are hierarchical (memory.use_hierarchy is
// always 1 on current kernels) and a removed child's charges move to its parent, as in v2.

import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command, Exec, ExecResult } from '../exec/index.js';
import { cgroup2Mount, ownCgroupV1Dir } from '../host/kernel.js';
import { removeCgroup, runCgroupName } from './run-cgroup.js';
import type { Recorder } from './state.js';

/** What one measured command (one sync's `nft -f`) cost. Fields are absent where not measurable. */
export interface SyncMemory {
  /** Peak resident set of the command (GNU time %M). */
  peakRssKiB?: number;
  /** memory.peak (v2) or memory.max_usage_in_bytes (v1) of the sync's own cgroup: user and
   * kernel memory charged during the sync, at its peak. */
  cgroupPeakBytes?: number;
  /** memory.stat `kernel` (v2) or memory.kmem.usage_in_bytes (v1) of the sync's cgroup after the
   * command: kernel memory it charged and that is still allocated (for a full sync from nothing:
   * the table's objects). */
  kernelBytes?: number;
  /** memory.kmem.max_usage_in_bytes (v1 only): the kernel share at its peak during the sync. */
  kernelPeakBytes?: number;
  /** memory.stat `slab_unreclaimable` of the sync's cgroup after the command (v2 only). */
  slabUnreclaimableBytes?: number;
}

/** Where the probe measures: a cgroup v2 root whose children get the memory controller, or (on a
 * hybrid host) this process's own cgroup in the v1 memory hierarchy. */
export type MemorySupport = { ok: true; version: 2 | 1; root: string } | { ok: false; reason: string };

type OwnV1 = () => { dir: string; path: string } | undefined;

export const TIME_BINARY = '/usr/bin/time';
const TIME_MARK = 'svcbench-time';

/** Whether cgroup v2 can measure memory here: a cgroup2 mount whose root enables the memory
 * controller for its children (svcbench never changes the root's cgroup.subtree_control). */
export function memorySupport(mount: () => string | undefined = cgroup2Mount, v1: OwnV1 = () => ownCgroupV1Dir('memory')): MemorySupport {
  const v2 = cgroup2Support(mount);
  if (v2.ok) return v2;
  const own = v1();
  if (own === undefined) return v2;
  // Never below the v1 root itself: only below a cgroup this process was placed in.
  if (own.path === '/') return { ok: false, reason: `${v2.reason}; and this process is in the root of the cgroup v1 memory hierarchy` };
  if (!existsSync(join(own.dir, 'memory.max_usage_in_bytes')))
    return { ok: false, reason: `${v2.reason}; and ${own.dir} is not a cgroup v1 memory directory` };
  return { ok: true, version: 1, root: own.dir };
}

function cgroup2Support(mount: () => string | undefined): MemorySupport & { reason?: string } {
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
  return { ok: true, version: 2, root };
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
  const v1 = support.ok && support.version === 1;
  if (cgroup !== undefined) {
    await recorder.record([{ kind: 'cgroup', path: cgroup }]);
    await exec.alter(
      async () => {
        await mkdir(cgroup);
        // v2: children get the controller from their parent's subtree_control; v1 children have it.
        if (!v1) await writeFile(join(cgroup, 'cgroup.subtree_control'), '+memory');
      },
      () => undefined,
    );
  }
  let seq = 0;
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
        const memory: SyncMemory = {
          ...(t.peakRssKiB === undefined ? {} : { peakRssKiB: t.peakRssKiB }),
          ...(v1 ? await readV1(child) : await readV2(child)),
        };
        return { result: { ...result, stderr: t.stderr }, memory };
      } finally {
        await removeCgroup(child);
      }
    },
    async retainedKernelBytes() {
      if (cgroup === undefined) return undefined;
      return exec.observe(
        async () => (v1 ? readNumber(join(cgroup, 'memory.kmem.usage_in_bytes')) : (await readStat(cgroup)).get('kernel')),
        undefined,
      );
    },
  };
}

async function mkdirChild(cgroup: string, seq: number): Promise<string> {
  const child = join(cgroup, `s${seq}`);
  await mkdir(child);
  return child;
}

const readStat = async (dir: string) => parseMemoryStat(await readFile(join(dir, 'memory.stat'), 'utf8'));

/** A cgroup file holding one number; undefined when the kernel does not have it. */
async function readNumber(path: string): Promise<number | undefined> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

async function readV2(dir: string): Promise<SyncMemory> {
  const stat = await readStat(dir);
  return {
    cgroupPeakBytes: Number((await readFile(join(dir, 'memory.peak'), 'utf8')).trim()),
    ...(stat.has('kernel') ? { kernelBytes: stat.get('kernel')! } : {}),
    ...(stat.has('slab_unreclaimable') ? { slabUnreclaimableBytes: stat.get('slab_unreclaimable')! } : {}),
  };
}

/** cgroup-v1/memory.rst §1 and §2.7: the kmem files exist only with kernel memory accounting. */
async function readV1(dir: string): Promise<SyncMemory> {
  const kernel = await readNumber(join(dir, 'memory.kmem.usage_in_bytes'));
  const kernelPeak = await readNumber(join(dir, 'memory.kmem.max_usage_in_bytes'));
  return {
    cgroupPeakBytes: Number((await readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8')).trim()),
    ...(kernel === undefined ? {} : { kernelBytes: kernel }),
    ...(kernelPeak === undefined ? {} : { kernelPeakBytes: kernelPeak }),
  };
}
