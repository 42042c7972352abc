import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Three tiers (DESIGN.md §11) in two projects:
// - unit: pure units, CLI-against-fake-exec tests and fault injection on files (test/faults); they
//   create nothing on the machine, so their files run in parallel (worker threads, up to 3) and
//   need no root;
// - e2e (test/e2e): builds real namespaces, nft tables, BPF pins and cgroups and snapshots the root
//   namespace, so it needs root and its files run one at a time (no test sees another's sandbox),
//   after the unit group.
// `npx vitest run` runs both; `--project unit` or `--project e2e` one of them.
//
// vitest 3 sizes each pool from the root config, for every project using it: the forks pool (e2e)
// from maxWorkers, by default CPUs - 1, which on a 2-vCPU machine is 1 (one e2e file at a time);
// the threads pool (unit) from poolOptions.threads.maxThreads.
// Unit files whose one test runs a long campaign of CLI processes one after another: started
// first, they run beside the many short files instead of after them. Without a results cache (a
// fresh clone) vitest starts the largest files first, and these are among the smallest.
const LONG_FIRST = ['test/faults/fuzz.test.ts', 'test/faults/torn-write.test.ts'];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => LONG_FIRST.findIndex((p) => f.moduleId.endsWith(p));
    return [...sorted.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b)), ...sorted.filter((f) => rank(f) < 0)];
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    poolOptions: { threads: { maxThreads: 3, minThreads: 1 } },
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
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Tests a file marks concurrent (it.concurrent: each its own sandbox and run id, nothing
          // global asserted while they run) overlap up to this many at once; the rest of the file
          // runs one test at a time.
          maxConcurrency: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
