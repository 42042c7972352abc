import { mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { workloadResultSchema } from '../../workloads/result-schema.js';
import { BenchError } from '../errors.js';
import { readRunFile, runFileText, writeFileAtomic, type RunFileContent } from './run-file.js';

// run.json: the only input of every report (DESIGN.md §6). It keeps every raw result (each
// client's full latency histogram and counters) and the environment, and is rewritten after every
// case so an interrupted run keeps what it completed. Versioned: `schema` names the version.

export const RUN_SCHEMA = 'svcbench/run@1';

// The same schema the workloads validate their clients' output with: one definition of a result.
const workloadResult = workloadResultSchema;

/** CPU seconds spent during a case, split as the issue asks. */
const cpu = z.object({
  loadGeneratorS: z.number(),
  serversS: z.number(),
  /** system + softirq + irq time of all CPUs, from /proc/stat. */
  kernelS: z.number(),
  /** The machine's total busy time, for context. */
  totalBusyS: z.number(),
});

/** Kernel attribution of a sampled case (src/profile): the raw counts every per-operation figure
 * derives from. groupNs: CPU nanoseconds per group over the window (samples × periodNs). */
const groupCounts = z.record(z.string(), z.number());
export const caseProfile = z.object({
  hz: z.number(),
  periodNs: z.number(),
  /** Time the sampler was enabled: the sampled blocks' total. */
  windowMs: z.number(),
  /** The case's measured blocks in order, sampled and unsampled alternating in pairs (the load
   * generator's counts; the case's result has the totals): the attribution divides by the sampled
   * blocks' operations, the overhead compares each pair. Absent in runs made before sampled cases
   * alternated blocks. */
  blocks: z.array(z.object({ sampled: z.boolean(), plannedMs: z.number(), durationMs: z.number(), ops: z.number() })).optional(),
  samples: z.object({ total: z.number(), counted: z.number(), idle: z.number(), unrelated: z.number() }),
  groupNs: groupCounts,
  groupSamples: groupCounts,
  /** Folded stacks "group;root;…;leaf" (kernel frames, the 16 leaf-most) with sample counts, the
   * 200 largest per case and the rest summed per group. */
  stacks: z.array(z.tuple([z.string(), z.number()])),
});
export type CaseProfileJson = z.infer<typeof caseProfile>;

/** How the run sampled the kernel (src/profile); absent in runs made before profiling existed. */
const profiling = z.object({
  state: z.enum(['on', 'off', 'unavailable']),
  /** Why off or unavailable ("perf not found …"). */
  reason: z.string().optional(),
  hz: z.number().optional(),
  perf: z.string().optional(),
  /** Sampled cases alternate sampled and unsampled blocks this long (at most): the sampler's
   * overhead is the throughput of each sampled block against its unsampled partner's. */
  blockMs: z.number().optional(),
  /** Runs made before that: repetitions whose number was a multiple of this ran unsampled. */
  unsampledEvery: z.number().optional(),
});

const caseBase = z.object({
  id: z.string(),
  backend: z.string(),
  services: z.number(),
  endpoints: z.number(),
  target: z.string(),
  path: z.string(),
  workload: z.string(),
  repetition: z.number(),
  // The load generator's concurrency in this case (--connections, or the workload's own default);
  // absent in runs made before it was recorded, when it was always --connections.
  connections: z.number().optional(),
  startedAt: z.string(),
  // What the server saw of the path check's connections, one entry per host answered: the peer
  // address (the client's own, or a node's after SNAT) and the routers crossed (64 minus the TTL
  // the SYN arrived with; null when the server could not read it); with the address the client
  // sent from (client), the one it connected to (to) and the pod that answered (by), absent in
  // runs written before they were recorded. Absent in older runs.
  seen: z
    .array(
      z.object({
        peer: z.string(),
        hops: z.number().nullable(),
        client: z.string().optional(),
        to: z.string().optional(),
        by: z.string().optional(),
      }),
    )
    .optional(),
  // Set when the case ran at fewer services than the scale point asked for (fit-scale.ts: the
  // backend's sync pace does not fit --sync-timeout there): the requested number and why.
  scaled: z.object({ requested: z.number(), reason: z.string() }).optional(),
});

export const caseResult = z.discriminatedUnion('state', [
  // checkedBy: who answered the path check before the case, one pod per host of the path,
  // comma-separated (the pod path: every endpoint pod; a Service path: the one it picked).
  caseBase.extend({
    state: z.literal('completed'),
    result: workloadResult,
    cpu,
    checkedBy: z.string(),
    /** Present when the case was sampled: the attribution, or why sampling failed. */
    profile: caseProfile.optional(),
    profileError: z.string().optional(),
  }),
  caseBase.extend({ state: z.literal('errored'), reason: z.string(), result: workloadResult.optional() }),
  caseBase.extend({ state: z.literal('skipped'), reason: z.string() }),
  caseBase.extend({ state: z.literal('aborted'), reason: z.string() }),
]);
export type CaseResult = z.infer<typeof caseResult>;

const syncRecord = z.object({
  backend: z.string(),
  services: z.number(),
  step: z.enum(['full', 'add-service', 'add-endpoint', 'remove-service']),
  kind: z.enum(['full', 'partial']),
  renderMs: z.number(),
  applyMs: z.number(),
  totalMs: z.number(),
  size: z.object({ count: z.number(), unit: z.string() }),
  commands: z.number(),
  exceeded: z.object({ budgetMs: z.number(), done: z.number(), total: z.number(), projectedMs: z.number().optional() }).optional(),
  /** Milliseconds per phase (render, then the backend's own: nft list, read-elements, stale-delete, apply); absent in older runs. */
  phases: z.record(z.string(), z.number()).optional(),
  /** Differences found by reading the installed state back (outside the timed region). */
  readBackDifferences: z.array(z.string()),
});
export type SyncRow = z.infer<typeof syncRecord>;

const syncBench = z.object({
  backend: z.string(),
  services: z.number(),
  task: z.string(),
  /** tinybench's statistics, milliseconds; samples are every iteration's time. */
  mean: z.number(),
  p50: z.number(),
  p75: z.number(),
  p99: z.number(),
  min: z.number(),
  max: z.number(),
  samples: z.array(z.number()),
});

/** Network-programming latency at one backend and scale point (src/run/proglat.ts): `ms` is the
 * median over --proglat-repeat repetitions (a single value in runs written before repetitions),
 * `ci` its bootstrap 95% CI, `syncMs` the median of the same add-a-service syncs' own time. */
const programmingSample = z.object({
  ms: z.number().nullable(),
  syncMs: z.number(),
  /** The sync's start to the start of its committing step (SyncRecord.commitStartMs). */
  commitStartMs: z.number().optional(),
  /** The sample's resolution: the rules appeared in (ms - stepMs, ms] (src/probe/poll.ts). */
  stepMs: z.number().optional(),
  attempts: z.number(),
  note: z.string().optional(),
});
const programmingLatency = z.object({
  backend: z.string(),
  services: z.number(),
  ms: z.number().nullable(),
  ci: z.object({ low: z.number(), high: z.number() }).optional(),
  syncMs: z.number().optional(),
  /** Median of the samples' commitStartMs: the rules take effect between it and syncMs. */
  commitStartMs: z.number().optional(),
  samples: z.array(programmingSample).optional(),
  note: z.string().optional(),
});
export type ProgrammingSample = z.infer<typeof programmingSample>;
export type ProgrammingLatency = z.infer<typeof programmingLatency>;

/** A backend scaled to its sync timeout at one requested scale point (src/run/fit-scale.ts): its
 * probe's full syncs, the scale it ran at (services; = requested when that fits) and why. */
const scaleFit = z.object({
  backend: z.string(),
  requested: z.number(),
  services: z.number(),
  budgetMs: z.number(),
  probe: z.array(z.object({ services: z.number(), ms: z.number() })),
  predictedMs: z.number(),
  reason: z.string(),
});
export type ScaleFit = z.infer<typeof scaleFit>;

export const runSchema = z.object({
  schema: z.literal(RUN_SCHEMA),
  runId: z.string(),
  state: z.enum(['running', 'completed', 'aborted', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  argv: z.array(z.string()),
  flags: z.record(z.string(), z.unknown()),
  seed: z.number(),
  environment: z.object({
    kernel: z.string(),
    /** Where the cases ran: this host's kernel, or a guest kernel booted by --kernel guest (src/guest). */
    where: z.enum(['host', 'guest']),
    cpuModel: z.string(),
    cpus: z.number(),
    /** CPU placement (src/run/pin.ts; absent: not pinned): the CPU tcp-rr/udp-rr clients and
     * servers shared, and the CPUs of the http load generator and of its servers. */
    sharedCpu: z.number().optional(),
    loadGeneratorCpu: z.number().optional(),
    serverCpus: z.string().optional(),
    memoryGiB: z.number(),
    node: z.string(),
    commit: z.string(),
    tools: z.record(z.string(), z.string()),
  }),
  backends: z.array(
    z.object({
      name: z.string(),
      // 'not-implemented': a state some stored run.json files hold; accepted so they still read.
      state: z.enum(['ready', 'unavailable', 'not-implemented']),
      reason: z.string().optional(),
      fix: z.string().optional(),
      options: z.record(z.string(), z.unknown()),
      sandbox: z.string().optional(),
      /** Where the backend's sandbox put things (absent in older runs): the node IPs (and the
       * address each node answers its pods from) in node order, the external client's address,
       * and each pod's address and node; the reports read the cases'
       * `seen` against it (whose address the server saw, whose node the endpoint is on). */
      topology: z
        .object({
          nodes: z.array(z.object({ ip: z.string(), podCidr: z.string(), gateway: z.string().optional() })),
          external: z.string(),
          pods: z.array(z.object({ role: z.string(), ip: z.string(), node: z.number() })),
        })
        .optional(),
    }),
  ),
  profiling: profiling.optional(),
  syncs: z.array(syncRecord),
  programmingLatency: z.array(programmingLatency),
  syncBench: z.array(syncBench),
  /** Absent in runs made before backends were scaled to their sync timeout. */
  scaleFits: z.array(scaleFit).optional(),
  cases: z.array(caseResult),
});
export type RunJson = z.infer<typeof runSchema>;

export class RunWriter {
  readonly dir: string;
  constructor(
    readonly root: string,
    readonly data: RunJson,
  ) {
    this.dir = join(root, data.runId);
  }

  async init(): Promise<void> {
    await written(this.dir, 'create', async () => void (await mkdir(this.dir, { recursive: true })));
    await this.flush();
    // results/latest → the newest run (relative, so the results tree can be moved).
    const latest = join(this.root, 'latest');
    await written(latest, 'point', async () => {
      await rm(latest, { force: true });
      await symlink(this.data.runId, latest);
    });
  }

  /** Rewrites run.json atomically with its checksum (run-file.ts): a kill at any moment leaves
   * the previous complete version or this one. */
  async flush(): Promise<void> {
    const file = join(this.dir, 'run.json');
    await written(file, 'write', () => writeFileAtomic(file, runFileText(this.data)));
  }
}

/** A write to the results directory; a file system's refusal (ENOSPC: full, EROFS: read-only,
 * EACCES, EDQUOT …) becomes a BenchError naming the file and the cause, which ends the run with
 * exit 1 after its teardown: measuring on without keeping the results would waste the run. */
export async function written(path: string, verb: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    const why = FS_CAUSES[code] ?? code;
    throw new BenchError(`cannot ${verb} ${path}: ${why} (${(e as Error).message})`, {
      hint: `free space in or make writable the results directory (--out); the file keeps what was written before this`,
      cause: e,
    });
  }
}

const FS_CAUSES: Record<string, string> = {
  ENOSPC: 'the results directory is full',
  EDQUOT: 'the disk quota of the results directory is used up',
  EROFS: 'the results directory is on a read-only file system',
  EACCES: 'the results directory is not writable',
  EPERM: 'the results directory is not writable',
};

/** Reads a run directory's run.json: complete JSON (else RunFileError 'torn'), matching its
 * checksum when it has one (else RunFileError 'mismatch'), and valid against the schema (else a
 * ZodError). `checksum` says whether the content was verified. */
export async function readRunChecked(dir: string): Promise<{ run: RunJson; checksum: RunFileContent['checksum'] }> {
  const { value, checksum } = await readRunFile(join(dir, 'run.json'));
  return { run: runSchema.parse(value), checksum };
}

export async function readRun(dir: string): Promise<RunJson> {
  return (await readRunChecked(dir)).run;
}
