import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Three tiers (DESIGN.md §11) in three projects, in two groups that run one after the other:
// - unit (group 0): pure units, CLI-against-fake-exec tests and fault injection on files
//   (test/faults); they create nothing on the machine and need no root. In worker threads (the
//   `threads` pool, up to `maxWorkers`), beside e2e-alone.
// - e2e-alone (group 0): the real-namespace files that look at the whole machine (no svcb-
//   namespace, state file, process, BPF program or mount anywhere; `bench clean` with nothing else
//   dead-owned around; perf sampling every CPU; ±3 ms timing): one at a time, in one process.
// - e2e (group 1): the other real-namespace files, whose checks are scoped to what they created
//   (helpers.ts `leftovers`: objects of runs that have ended) and to the root namespace, which no
//   file may change: up to `maxWorkers` files at once.
// `npx vitest run` runs all three; `--project unit`, `--project 'e2e*'` and so on pick.
//
// vitest 3 applies the root's maxWorkers to all projects of a group and pool together (a project's
// own fileParallelism does not limit it: with the default, CPUs − 1, this 2-vCPU machine ran every
// file one at a time); projects of one group on different pools run at the same time; a project
// with poolOptions.forks.singleFork runs its files one after another in one process.

const ALONE = [
  // Machine-wide residue checks after each random kill (namespaces, state files, cgroups, mounts,
  // pins, BPF program counts, processes named after any run, temporary directories).
  'test/e2e/random-kill.test.ts',
  // `bench up` sandboxes (kept, owner gone: another file's `bench clean` removes them) and
  // `bench clean` after SIGKILL (it would remove another file's kept sandbox or killed run).
  'test/e2e/interrupt.test.ts',
  'test/e2e/sandbox.test.ts',
  'test/e2e/concurrent.test.ts',
  'test/e2e/doctor-exec.test.ts',
  'test/e2e/guest-kill.test.ts',
  'test/e2e/nft-memory.test.ts',
  // No eBPF program of ours loaded anywhere, no pin in the system's bpffs; bench clean after SIGKILL.
  'test/e2e/ebpf.test.ts',
  // perf samples every CPU: another file's traffic would be attributed to this run's cases.
  'test/e2e/profile.test.ts',
  // No svcb- process, namespace or state file anywhere; servers killed by name (pkill -f); a
  // ±100% CI target met at 6 repetitions, which other runs' load can keep out of reach.
  'test/e2e/run-alone.test.ts',
  // Rules that take effect 37 ms after the sync starts, measured within ±3 ms.
  'test/e2e/programming-latency.test.ts',
];

// The order files start in. e2e-alone: random-kill first, beside the unit project's busiest
// minute, the timing-sensitive files last, once unit is over. e2e: longest first, so the last to
// start are short ones (on a fresh clone vitest has no durations of earlier runs and sorts by file
// size). The two qemu files (TCG, a vCPU per host CPU) start apart, with nodes and run between
// them: the one started last sets the end.
const ORDER = [
  ...ALONE,
  'test/e2e/ipvs-guest.test.ts',
  'test/e2e/nodes.test.ts',
  'test/e2e/run.test.ts',
  'test/e2e/guest.test.ts',
  'test/e2e/faults-mid-run.test.ts',
  'test/e2e/verify.test.ts',
  'test/e2e/sync.test.ts',
  'test/faults/fuzz.test.ts',
  'test/faults/torn-write.test.ts',
];

class KnownOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = ORDER.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? ORDER.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 3,
    minWorkers: 1,
    sequence: { sequencer: KnownOrder },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{src,backends,workloads,scripts}/**/*.test.ts', 'test/{cli,faults}/**/*.test.ts'],
          pool: 'threads',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e-alone',
          include: ALONE,
          poolOptions: { forks: { singleFork: true } },
          // Tests a file marks concurrent (it.concurrent: each its own sandbox and run id, nothing
          // global asserted while they run) overlap up to this many at once.
          maxConcurrency: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ALONE,
          maxConcurrency: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
