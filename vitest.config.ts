import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Three tiers (DESIGN.md §11) in five projects, run in three groups (sequence.groupOrder); the
// projects of a group run at once:
// - group 0: unit (pure units, CLI-against-fake-exec tests and fault injection on files in
//   test/faults: they create nothing on the machine, so their files run in parallel, in worker
//   threads, up to 3, and need no root) beside e2e-machine (the e2e files that look at or act on
//   the machine as a whole: SIGKILLed runs left for `bench clean`, `bench up` sandboxes that outlive
//   their command, every BPF program loaded; one file at a time) and e2e-guest (the two files that
//   run commands in the guest kernel, one after the other: their runs create nothing in the host's
//   network, only qemu, a job directory and a state file, which the machine-wide files leave out
//   while another file's live process owns them, test/owners.ts; they run `bench clean` only to
//   remove what one of their own runs left);
// - group 1: e2e (the other files under test/e2e: real namespaces, nft tables, BPF pins and
//   cgroups; root), two files at once: each sees only its own runs (test/owners.ts leaves out what
//   another file's live process owns), and none leaves an ownerless object for the other to see;
// - group 2: timing (files whose figures a busy machine would disturb, e2e and one unit file that
//   times real work against a budget), one at a time, alone.
// Two e2e files at once because most of a file's time is spent waiting (on probes, sleeps): one at a
// time left one of the two vCPUs idle much of the time. The guest files are in group 0 because the
// machine-wide files leave a vCPU idle there once the unit files are done; qemu emulates one vCPU
// (--guest-cpus 1), one host CPU's work at most.
// `npx vitest run` runs them all; `--project unit`, `--project 'e2e*' --project timing` a tier (the
// unit tier's one file under timing runs with the latter).
//
// vitest 3 sizes each pool from the root config for every project using it (forks: maxForks), and
// runs one pool's projects one after another: the projects of a group that run at once use
// different pools (threads, forks, vmForks). A project with poolOptions.forks.singleFork runs its
// files one after another in one fork.
// Files whose campaigns run long, started first (longest processing time first: with no results
// cache, as in a fresh clone, vitest would start the largest files first): the unit files that run
// a long campaign of CLI processes one after another, and the longest e2e files.
const LONG_FIRST = [
  'test/faults/fuzz.test.ts',
  'test/faults/torn-write.test.ts',
  'test/e2e/random-kill.test.ts',
  'test/e2e/ipvs-guest.test.ts',
  'test/e2e/guest.test.ts',
  'test/e2e/run.test.ts',
  'test/e2e/nodes.test.ts',
  'test/e2e/faults-mid-run.test.ts',
  'test/e2e/verify.test.ts',
];

/** The machine-wide e2e files (group 0, beside the unit files). */
const E2E_MACHINE = [
  'test/e2e/interrupt.test.ts',
  'test/e2e/random-kill.test.ts',
  'test/e2e/concurrent.test.ts',
  'test/e2e/ebpf.test.ts',
  'test/e2e/nft-memory.test.ts',
  'test/e2e/doctor-exec.test.ts',
  'test/e2e/sandbox.test.ts',
  'test/e2e/guest-kill.test.ts',
];
/** The files that run commands in the guest kernel to their end (group 0, one at a time). */
const GUEST = ['test/e2e/ipvs-guest.test.ts', 'test/e2e/guest.test.ts'];
/** Figures a busy machine would disturb: kernel samples per program, a 37 ms delay within ±3 ms,
 * six repetitions' throughputs within 2x of each other, and (no root needed) a sync pace probed on
 * commands that take 1 ms of real time each against a 1 s budget. */
const TIMING = [
  'test/e2e/profile.test.ts',
  'test/e2e/programming-latency.test.ts',
  'test/e2e/run-adaptive.test.ts',
  'test/cli/fit-scale.test.ts',
];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => LONG_FIRST.findIndex((p) => f.moduleId.endsWith(p));
    return [...sorted.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b)), ...sorted.filter((f) => rank(f) < 0)];
  }
}

const oneAtATime = { forks: { singleFork: true } };

export default defineConfig({
  test: {
    sequence: { sequencer: LongFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Threads (the unit files' pool; vitest 3 reads its options here, not per project): the files
    // share their thread's modules, isolate false. No file mocks a module or keeps state in one;
    // the two that point state.ts elsewhere load it afresh and put it back (test/state-dir.ts).
    // Each file importing the CLI's modules anew cost about a third of the tier's CPU (unit alone:
    // 94 CPU-s in 49 s isolated, 62 CPU-s in 36 s shared). minThreads = maxThreads: a shared
    // thread above the minimum was ended while its file ran ("Terminating worker thread").
    // Forks (the e2e files) are shared the same way, one process running file after file: none sets
    // the environment, a signal handler or module state, and what a file looks for (its own runs,
    // test/owners.ts) is found by process ancestry and run ids, which sharing does not change.
    // A fresh-clone suite spent 18 s of CPU starting forks and 53 s importing modules isolated;
    // shared, 1 s and 24 s.
    poolOptions: {
      threads: { maxThreads: 3, minThreads: 3, isolate: false },
      forks: { maxForks: 2, minForks: 2, isolate: false },
      vmForks: { maxForks: 1, minForks: 1 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['{src,backends,workloads,scripts}/**/*.test.ts', 'test/{cli,faults}/**/*.test.ts'],
          exclude: TIMING,
          pool: 'threads',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'e2e-machine', include: E2E_MACHINE, pool: 'forks', poolOptions: oneAtATime, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        // vmForks: a pool of its own, so that it runs beside group 0's threads and forks. Its files
        // run in a VM context in a child process: objects from node's own modules (node:fs's
        // arrays) have that context's outer prototypes, so compare them with expect's toEqual or
        // field by field, never node:util's isDeepStrictEqual (guest-helpers.ts leftSomething).
        test: { name: 'e2e-guest', include: GUEST, pool: 'vmForks', sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [...E2E_MACHINE, ...TIMING, ...GUEST],
          pool: 'forks',
          // Tests a file marks concurrent (it.concurrent: each its own sandbox and run id, nothing
          // global asserted while they run) overlap up to this many at once; the rest of the file
          // runs one test at a time.
          maxConcurrency: 3,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: 'timing', include: TIMING, pool: 'forks', poolOptions: oneAtATime, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
