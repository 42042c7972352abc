import { z } from 'zod';
import type { Workload } from '../../workloads/types.js';
import { backendOptionsShape } from '../config/backend.js';
import { intInRange } from '../config/fields.js';
import { KUBE_PROXY_PROFILES } from '../config/backend.js';
import { endpointsFlag } from '../syncbench/config.js';
import { MAX_ENDPOINTS, type EndpointsDist } from '../model/endpoint-counts.js';

/** The measured service's endpoints are real server pods: at most this many. */
export const MAX_REAL_ENDPOINTS = 64;
export const DEFAULT_RUN_ENDPOINTS: EndpointsDist = { kind: 'fixed', count: 3 };
import { clusterProblem, clusterShape, MAX_NODES, type Placement } from '../config/sandbox.js';
import { BASELINE_PATH, DEFAULT_PATHS, PATHS, pathsProblem, type Path } from '../model/paths.js';

// Flags of `bench run`: one source of truth for parsing, defaults and --help (DESIGN.md §9).
// Lists are comma-separated ("--path pod,clusterip"); repeating a flag also works.

const list = <T extends string>(name: string, allowed: readonly T[]) =>
  z.preprocess(
    (v) => (Array.isArray(v) ? v.flatMap((x) => String(x).split(',')) : typeof v === 'string' ? v.split(',') : v),
    z
      .array(z.enum(allowed as [T, ...T[]], { error: (i) => `${JSON.stringify(i.input)} is not a ${name}; one of ${allowed.join(', ')}` }))
      .min(1, { error: `needs at least one ${name}` }),
  );

const intList = (min: number, max: number) =>
  z.preprocess(
    (v) => (Array.isArray(v) ? v.flatMap((x) => String(x).split(',')) : typeof v === 'string' ? v.split(',') : v),
    z.array(intInRange(min, max)).min(1),
  );

export const TARGETS = ['first', 'middle', 'last', 'random'] as const;

/** What the flags read from a workload (the registry's objects, or a test's). */
export type WorkloadFlagInfo = Pick<Workload, 'name' | 'byDefault' | 'paced' | 'defaultConnections'>;

/** "http 6, the others 1": the workloads' own --connections (Workload.defaultConnections). */
function connectionDefaults(workloads: readonly WorkloadFlagInfo[]): string {
  const own = workloads.filter((w) => (w.defaultConnections ?? 1) !== 1).map((w) => `${w.name} ${w.defaultConnections}`);
  return own.length === 0 ? 'every workload 1' : `${own.join(', ')}, the others 1`;
}

/** --endpoints: a count (real pods), or a distribution the other services draw from. */
const endpointsField = endpointsFlag(MAX_REAL_ENDPOINTS, MAX_ENDPOINTS)
  .optional()
  .describe(
    `endpoints per service: a count N (1 to ${MAX_REAL_ENDPOINTS}, real pods), or a distribution for the other services, zipf:S:MIN..MAX or uniform:MIN..MAX, the measured service taking its median (at most ${MAX_REAL_ENDPOINTS}) (default 3; seeded by --seed)`,
  );

/** --kube-proxy: each line a backend of its own in the matrix (nft (1.37), …). */
const kubeProxyFlag = list('kube-proxy line', KUBE_PROXY_PROFILES)
  .optional()
  .describe(
    `the kube-proxy lines to measure of a backend that has them, each a backend of its own in the matrix: ${KUBE_PROXY_PROFILES.join(', ')} (default 1.37)`,
  );

export function runShape(backendNames: readonly string[], workloads: readonly WorkloadFlagInfo[]) {
  const workloadNames = workloads.map((w) => w.name);
  const paced = workloads.filter((w) => w.paced === true).map((w) => w.name);
  return {
    backend: list('backend', backendNames)
      .optional()
      .describe(`backends to compare (default: every backend ready here): ${backendNames.join(', ')}`),
    path: list('path', PATHS)
      .default(DEFAULT_PATHS)
      .describe(`paths: ${PATHS.join(', ')} (${BASELINE_PATH.name}: ${BASELINE_PATH.description})`),
    workload: list('workload', workloadNames)
      .default(workloads.filter((w) => w.byDefault === true).map((w) => w.name))
      .describe(`workloads: ${workloadNames.join(', ')}`),
    services: intList(1, 30000).default([1000]).describe('number of services, or a comma-separated sweep (e.g. 100,1000,10000)'),
    endpoints: endpointsField,
    target: z
      .enum(TARGETS, { error: `must be one of ${TARGETS.join(', ')}` })
      .default('last')
      .describe("where the measured service sits in the backend's lookup order"),
    ...repetitionShape(),
    ciTarget: z.coerce
      .number({ error: 'must be a percentage' })
      .min(0, { error: (i) => `must be at least 0 (got ${String(i.input)})` })
      .max(100, { error: (i) => `must be at most 100 (got ${String(i.input)})` })
      .default(5)
      .describe(
        "percent: repeat a case group (up to --max-repeat) while the 95% CI of its median throughput is wider than ± this much of the median (netperf's -I 95,width); 0: exactly --repeat",
      ),
    timeBudget: intInRange(0, 86_400)
      .default(180)
      .describe(
        'seconds: an extra round for --ci-target starts only if, at the pace of the cases so far, the command still ends within this many seconds of its start, 5 s kept for teardown and reports (180 keeps a default run within 3 minutes); 0: no limit',
      ),
    duration: z.coerce
      .number({ error: 'must be a number of seconds' })
      .min(0.2, { error: 'must be at least 0.2 s' })
      .max(3600)
      .optional()
      .describe(
        `measured seconds per case (default: ${UNPAIRED_TIMING.duration}; with paired blocks, --block, ${PAIRED_TIMING.duration} per path and repetition; with --profile on and single cases ${PROFILED_TIMING.duration}, half of it sampled)`,
      ),
    warmup: z.coerce
      .number({ error: 'must be a number of seconds' })
      .min(0)
      .max(600)
      .optional()
      .describe(
        `warm-up seconds per case (load applied, not recorded; default: ${UNPAIRED_TIMING.warmup}; with paired blocks ${PAIRED_TIMING.warmup}, once per path and repetition)`,
      ),
    connections: intInRange(1, 1024)
      .optional()
      .describe(`concurrent connections of the load generator (default: the workload's own: ${connectionDefaults(workloads)})`),
    rate: intInRange(1, 10_000_000)
      .optional()
      .describe(
        `fixed request rate per second (${paced.length === 0 ? 'no workload paces itself' : `${paced.join(', ')}: coordinated-omission-corrected latency`})`,
      ),
    messageSize: intInRange(1, 1 << 20)
      .default(64)
      .describe('bytes per request/response message'),
    seed: intInRange(0, 2 ** 31 - 1)
      .optional()
      .describe('seed of the case order and the statistics (default: random, recorded)'),
    syncIterations: intInRange(0, 1000)
      .default(5)
      .describe('iterations of the repeated partial-sync benchmark (tinybench) per backend and scale point'),
    ...profileShape(),
    ...pairedShape(),
    ...programmingShape(),
    out: z.string().default('results').describe('directory under which results/<run-id>/ is written'),
    ...backendOptionsShape,
    kubeProxy: kubeProxyFlag,
    ...clusterShape,
  };
}

/** The default measured time and warm-up of a case, and of a path in a repetition of paired blocks
 * with their block length. A default run (3 backends here × 2 workloads × 3 repetitions, 3 paths
 * each) must end within its 3-minute --time-budget with room for extra rounds: see the README's
 * "Paired comparisons" for the wall times behind these. */
export const UNPAIRED_TIMING = { duration: 2, warmup: 0.5, repeat: 3 } as const;
export const PAIRED_TIMING = { duration: 1, warmup: 0.25, block: 0.25, repeat: 3 } as const;
/** Single cases under --profile on: sampled time is what the kernel attribution's CI rests on (the
 * count of samples of a function group is Poisson), so cases run longer and more often. See
 * src/profile/README.md "Measured" for the figures behind these. */
export const PROFILED_TIMING = { duration: 8, warmup: 0.5, repeat: 10 } as const;

const DEFAULT_MAX_REPEAT = 10;

/** --repeat and its cap; --repeat's default depends on the run's mode (withTiming). */
function repetitionShape() {
  return {
    repeat: intInRange(1, 100)
      .optional()
      .describe(
        `repetitions of every case, interleaved (the minimum with --ci-target; default: ${UNPAIRED_TIMING.repeat}; with --profile on and single cases, --block 0, ${PROFILED_TIMING.repeat})`,
      ),
    maxRepeat: intInRange(1, 100)
      .optional()
      .describe(
        `at most this many repetitions of a case group while its CI misses --ci-target (at least --repeat; default: ${DEFAULT_MAX_REPEAT}, or --repeat when that is more)`,
      ),
  };
}

/** The flags of kernel attribution (src/profile). */
function profileShape() {
  return {
    profile: z
      .enum(['on', 'off'], { error: 'must be on or off' })
      .default('off')
      .describe(
        "sample the kernel with perf and attribute CPU time per operation to netfilter, conntrack, NAT, IPVS, eBPF programs, routing, the socket layer and user time (src/profile); each single case (--block 0) alternates sampled and unsampled half-second blocks, so the run measures the sampler's overhead pair by pair; paired path blocks run unsampled (src/profile/README.md)",
      ),
    profileHz: intInRange(10, 20_000).default(250).describe('perf samples per second per CPU (cpu-clock)'),
  };
}

/** The flag of the network-programming latency measurement (src/run/proglat.ts). */
function programmingShape() {
  return {
    proglatRepeat: intInRange(1, 100)
      .default(5)
      .describe(
        'repetitions of the network-programming latency measurement (add a service while a client pod opens a new connection to it every millisecond) per backend and scale point; reported as median and 95% CI',
      ),
  };
}

/** The flags of paired path blocks (src/run/paired.ts). */
function pairedShape() {
  return {
    block: z.coerce
      .number({ error: 'must be a number of seconds' })
      .min(0)
      .max(60)
      .default(PAIRED_TIMING.block)
      .describe(
        "seconds per block: the paths of a backend, scale point and workload take turns in blocks this long within each repetition (one warm-up per path, then rounds in a seeded shuffled order; --duration / --block rounds), and each path is compared with the pod path block pair by block pair, so the machine's drift cancels; 0: each path its own case",
      ),
    ratioCiTarget: z.coerce
      .number({ error: 'must be a percentage' })
      .min(0, { error: (i) => `must be at least 0 (got ${String(i.input)})` })
      .max(100, { error: (i) => `must be at most 100 (got ${String(i.input)})` })
      .default(2.5)
      .describe(
        'percent: with paired blocks (--block), repeat a Service path (up to --max-paired-repeat) while the 95% CI of its ratio to the pod path is wider than ± this (the effects asked about are a few percent); 0: as --ci-target',
      ),
    maxPairedRepeat: intInRange(1, 100)
      .default(30)
      .describe(
        "with paired blocks, the most repetitions a backend's paths of one workload and scale point get while a Service path's ratio to the pod path is wider than --ratio-ci-target (its interval is over repetitions, and a paired repetition costs about 5 s); --time-budget stops them first",
      ),
  };
}

export type RunFlags = z.output<z.ZodObject<ReturnType<typeof runShape>>>;

/** The flags with the timing a run uses: --duration and --warmup as given, else the defaults of
 * its mode (paired blocks when `paired`). */
export type TimedRunFlags = RunFlags & { duration: number; warmup: number; repeat: number; maxRepeat: number };
export function withTiming(flags: RunFlags, paired: boolean): TimedRunFlags {
  const d = paired ? PAIRED_TIMING : flags.profile === 'on' ? PROFILED_TIMING : UNPAIRED_TIMING;
  const repeat = flags.repeat ?? d.repeat;
  return {
    ...flags,
    duration: flags.duration ?? d.duration,
    warmup: flags.warmup ?? d.warmup,
    repeat,
    // Without --max-repeat the cap rises to --repeat (as hyperfine's --max-runs follows --runs); a
    // given one must be at least --repeat (runFlagsSchema).
    maxRepeat: flags.maxRepeat ?? Math.max(DEFAULT_MAX_REPEAT, repeat),
  };
}

/** The checks across flags of `bench run`, for parseShape's refine (field errors come first). */
export function runFlagsSchema<S extends ReturnType<typeof runShape>>(shape: S) {
  return z.object(shape).superRefine((f, ctx) => {
    const { repeat, maxRepeat } = f as unknown as { repeat: unknown; maxRepeat: unknown };
    // Without --repeat, the default of a run without --profile (a profiled run's larger default
    // raises --max-repeat: withTiming).
    const atLeast = typeof repeat === 'number' ? repeat : UNPAIRED_TIMING.repeat;
    if (typeof maxRepeat === 'number' && maxRepeat < atLeast)
      ctx.addIssue({
        code: 'custom',
        path: ['maxRepeat'],
        message: `must be at least --repeat (${atLeast}); got ${maxRepeat}`,
      });
    const { path, nodes, placement } = f as unknown as { path: unknown; nodes: unknown; placement: unknown };
    if (typeof nodes === 'number' && nodes >= 1 && nodes <= MAX_NODES && typeof placement === 'string') {
      const problem =
        clusterProblem({ nodes, placement: placement as Placement }) ??
        (Array.isArray(path) ? pathsProblem(path as Path[], nodes, placement) : undefined);
      // The message names its flag itself ("--path: …"); the issue's path says which one.
      if (problem)
        ctx.addIssue({
          code: 'custom',
          path: [problem.startsWith('--path') ? 'path' : 'placement'],
          message: problem.replace(/^--[a-z-]+: /, ''),
        });
    }
  });
}
