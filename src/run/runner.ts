import { randomInt } from 'node:crypto';
import { join, resolve } from 'node:path';
import { backendByName, BACKENDS, type Backend, type Preflight } from '../../backends/index.js';
import { workloadByName } from '../../workloads/index.js';
import type { Workload } from '../../workloads/types.js';
import { variants, type Variant } from '../syncbench/variants.js';
import { AbortedError, BenchError } from '../errors.js';
import type { Exec } from '../exec/index.js';
import { openCommandRecord, type CommandRecord } from '../sandbox/command-record.js';
import { tempPathOf } from './run-file.js';
import { guestRunId, resultsRunId } from './run-id.js';
import { createRng, MIN_CI_SAMPLES, targetPercent } from '../stats/index.js';
import { runCase } from './case.js';
import { DEFAULT_RUN_ENDPOINTS, MAX_REAL_ENDPOINTS, withTiming, type RunFlags, type TimedRunFlags } from './config.js';
import { formatEndpoints, medianEndpoints, type EndpointsDist } from '../model/endpoint-counts.js';
import { closeEnv, openEnv, type BackendEnv } from './backend-sandbox.js';
import { captureEnvironment } from './environment.js';
import { extraRound, fitsBudget, judgeGroups, type GroupVerdict } from './adaptive.js';
import { caseGroup, planCases, type PlannedCase } from './plan.js';
import { Progress } from './progress.js';
import { RunWriter, RUN_SCHEMA, type CaseResult, type RunJson } from './results.js';
import { prepareScale } from './scale.js';
import { openProfiler, type Profiler } from '../profile/sampler.js';
import { runPairedCases } from './paired-case.js';
import { pairedUnits } from './paired.js';
import { BASELINE_PATH } from '../model/paths.js';
import { withDamage } from './damage.js';
import { fitScale, probePace, PROBE_SERVICES, type ProbePoint } from './fit-scale.js';
import type { ScaleFit } from './results.js';

/** Seconds --time-budget keeps for the teardown and reports after the last case. */
const WRAP_UP_S = 5;

export interface RunCtx {
  exec: Exec;
  say: (line: string) => void;
  write: (text: string) => void;
  tty: boolean;
  check: () => void;
}

/** A run in progress: what every step of runBench reads and adds to. */
interface Running {
  ctx: RunCtx;
  /** The measured service's endpoints (real pods) and, with a distribution, the other services'. */
  endpoints: number;
  fillers: EndpointsDist | undefined;
  flags: TimedRunFlags;
  seed: number;
  run: RunJson;
  writer: RunWriter;
  workloads: Workload[];
  /** Why each unavailable backend's cases are skipped, by backend name. */
  unavailable: Map<string, string>;
  envs: Map<string, BackendEnv>;
  progress: Progress;
  /** One seeded stream orders the planned rounds and then any extra rounds. */
  rng: ReturnType<typeof createRng>;
  /** Wall time of the completed cases, for the pace that --time-budget extrapolates. */
  completedS: number[];
  /** Kernel attribution (--profile): which repetitions' cases are sampled. */
  profiler: Profiler;
  /** Wall time of the paired units that completed something, with their number of paths. */
  unitsS: { s: number; paths: number }[];
  /** Backends scaled to their sync timeout (fit-scale.ts): each one's probe, run once. */
  probes: Map<string, ProbePoint[]>;
  /** At the current scale point, the backends measured at fewer services than it asks for. */
  fits: Map<string, ScaleFit>;
  /** Scales each backend was measured at so far, and the backends that skip the current scale
   * point because it would repeat one of them (with the reason). */
  measuredAt: Map<string, Set<number>>;
  repeats: Map<string, string>;
}

/** `bench run`: the matrix backends × paths × workloads × scale points, each case repeated and
 * interleaved, with sync timing at every scale point; run.json is rewritten after every case.
 * What the run makes outside its sandboxes (run.json's temporary file, perf's recordings) is in
 * its own state file (command-record.ts), removed last. */
export async function runBench(ctx: RunCtx, given: RunFlags, argv: string[]): Promise<{ run: RunJson; dir: string }> {
  const record = await openCommandRecord(ctx.exec, 'run', guestRunId()?.slice(-6));
  try {
    return await measure(ctx, given, argv, record);
  } finally {
    await record.close();
  }
}

async function measure(ctx: RunCtx, given: RunFlags, argv: string[], record: CommandRecord): Promise<{ run: RunJson; dir: string }> {
  const flags = withTiming(
    given,
    given.workload.some((n) => pairedWorkload(given, workloadByName(n)!)),
  );
  const seed = flags.seed ?? randomInt(2 ** 31 - 1);
  // With no --backend: every registered backend (unavailable ones are recorded as skipped). The nft
  // backend is one variant per --kube-proxy line (nft (1.37)), each a backend of the matrix.
  const candidates = variants(
    {
      backend: flags.backend ?? BACKENDS.map((b) => b.name),
      kubeProxy: flags.kubeProxy,
      iptablesMode: [flags.iptablesMode],
      syncTimeout: flags.syncTimeout,
    },
    { flavourLabels: false },
  );
  const { preflights, ready, unavailable } = await preflightAll(ctx, candidates);
  const profiler = await openProfiler(ctx.exec, flags.profile, flags.profileHz, record, seed);
  if (profiler.record.state === 'unavailable') ctx.say(`kernel attribution unavailable: ${profiler.record.reason}; cases run unsampled`);
  const run = await newRun(ctx, { flags, argv, seed, preflights, profiling: profiler.record, id: record.id });
  const writer = new RunWriter(resolve(flags.out), run);
  await record.record([{ kind: 'file', path: tempPathOf(join(writer.dir, 'run.json')) }]);
  await ctx.exec.alter(
    () => writer.init(),
    () => undefined,
  );
  ctx.say(`run ${run.runId}: results in ${writer.dir}/run.json (seed ${seed})`);

  const rng = createRng(seed);
  const plan = planCases({
    backends: candidates.map((v) => v.id),
    services: flags.services,
    paths: flags.path,
    workloads: flags.workload,
    repeat: flags.repeat,
    seed,
    rng,
  });
  const r: Running = {
    ...{ ctx, flags, seed, run, writer, unavailable, rng, profiler },
    ...endpointsOf(flags),
    workloads: flags.workload.map((n) => workloadByName(n)!),
    envs: new Map(),
    progress: new Progress(plan.flat().length, ctx.write, ctx.tty),
    completedS: [],
    unitsS: [],
    probes: new Map(),
    fits: new Map(),
    measuredAt: new Map(),
    repeats: new Map(),
  };
  try {
    await openEnvs(r, ready);
    for (const cases of plan) await runScalePoint(r, cases);
    run.state = 'completed';
  } catch (e) {
    const err = interruptedOr(ctx, e);
    run.state = err instanceof AbortedError ? 'aborted' : 'failed';
    await wrapUp(r, err);
    throw err;
  }
  await wrapUp(r, undefined);
  return { run, dir: writer.dir };
}

interface Candidate {
  variant: Variant;
  backend: Backend;
  preflight: Preflight;
}

/** --endpoints: a count is the measured service's and every other's; with a distribution the others
 * draw from it and the measured service, whose endpoints are real pods, takes its median. */
function endpointsOf(flags: RunFlags): { endpoints: number; fillers: EndpointsDist | undefined } {
  const dist = flags.endpoints ?? DEFAULT_RUN_ENDPOINTS;
  return { endpoints: Math.min(MAX_REAL_ENDPOINTS, medianEndpoints(dist)), fillers: dist.kind === 'fixed' ? undefined : dist };
}

const recordedEndpoints = (d: EndpointsDist): number | string => (d.kind === 'fixed' ? d.count : formatEndpoints(d));

/** Every candidate's preflight; says why each unavailable one is skipped, and fails when none is ready. */
async function preflightAll(ctx: RunCtx, candidates: readonly Variant[]) {
  const preflights: Candidate[] = [];
  for (const variant of candidates) {
    const backend = backendByName(variant.backend)!;
    preflights.push({ variant, backend, preflight: await backend.preflight(variant.options, ctx.exec) });
  }
  const ready = preflights.filter(({ preflight }) => preflight.state === 'ready');
  const unavailable = new Map<string, string>();
  for (const { variant, preflight } of preflights)
    if (preflight.state === 'unavailable') unavailable.set(variant.id, `unavailable: ${preflight.reason} (fix: ${preflight.fix})`);
  for (const [name, why] of unavailable) ctx.say(`${name}: skipped, ${why}`);
  if (ready.length === 0)
    throw new BenchError(`no backend can run here: ${[...unavailable].map(([n, w]) => `${n} ${w}`).join('; ')}`, {
      hint: 'bench doctor shows what each backend needs',
    });
  return { preflights, ready, unavailable };
}

/** run.json's opening content: the run id, flags, environment and each backend's preflight. */
async function newRun(
  ctx: RunCtx,
  o: {
    flags: RunFlags;
    argv: string[];
    seed: number;
    preflights: Candidate[];
    profiling: RunJson['profiling'];
    /** The run's short id: its state file's (command-record.ts). */
    id: string;
  },
): Promise<RunJson> {
  const { flags, argv, seed, preflights } = o;
  const runId = guestRunId() ?? resultsRunId(o.id);
  return {
    schema: RUN_SCHEMA,
    runId,
    state: 'running',
    startedAt: new Date().toISOString(),
    argv,
    // --endpoints as a person typed it: a count as a number (as runs always recorded it), a
    // distribution in its syntax (zipf:1.2:1..500).
    flags: { ...flags, endpoints: recordedEndpoints(flags.endpoints ?? DEFAULT_RUN_ENDPOINTS), seed },
    seed,
    environment: await captureEnvironment(ctx.exec, preflights),
    backends: preflights.map(({ variant, preflight }) => ({
      name: variant.id,
      state: preflight.state,
      ...(preflight.state === 'unavailable' ? { reason: preflight.reason, fix: preflight.fix } : {}),
      options: { ...variant.options },
    })),
    profiling: o.profiling,
    syncs: [],
    programmingLatency: [],
    syncBench: [],
    scaleFits: [],
    cases: [],
  };
}

/** One sandbox per ready backend (variant), for the whole run. */
async function openEnvs(r: Running, ready: readonly Candidate[]): Promise<void> {
  for (const { variant, backend } of ready) {
    const env = await openEnv(r.ctx.exec, backend, variant.options, {
      endpoints: r.endpoints,
      workloads: r.workloads,
      check: r.ctx.check,
      cluster: { nodes: r.flags.nodes, placement: r.flags.placement },
    });
    env.label = variant.id;
    r.envs.set(variant.id, env);
    const entry = r.run.backends.find((b) => b.name === variant.id)!;
    const { plan } = env.sandbox;
    entry.sandbox = plan.runId;
    entry.topology = {
      nodes: plan.nodes.map((n) => ({ ip: n.ip, podCidr: n.podCidr, gateway: n.gateway })),
      external: plan.external.ip,
      pods: plan.pods.map((p) => ({ role: p.role, ip: p.ip, node: p.node })),
    };
  }
}

/** One scale point: every backend's syncs at it, its planned cases, then any extra rounds. */
async function runScalePoint(r: Running, cases: PlannedCase[]): Promise<void> {
  const services = cases[0]!.services;
  for (const [id, env] of r.envs) {
    await syncsOrUnusable(r, env, services, async () => {
      const at = await scaleFor(r, id, env, services);
      if (at === undefined) return;
      await prepareScale(env.sandbox.exec, env, { ...scaleOptions(r), services: at }, r.run);
      const lower = refit(r, id, env, at);
      if (lower !== undefined) await prepareScale(env.sandbox.exec, env, { ...scaleOptions(r), services: lower }, r.run);
    });
    await flush(r);
  }
  for (const unit of units(
    r,
    cases.map((c) => atScale(r, c)),
  ))
    await runUnit(r, unit);
  await extraRounds(r, services);
}

/** A backend's syncs at a scale point. When they fail (a command of the backend's tool fails: its
 * binary gone, its kernel state refused), the backend's cases at this point are errored with the
 * failure as their reason (BackendEnv.unusable) and the other backends go on; an interrupt still
 * ends the run. */
async function syncsOrUnusable(r: Running, env: BackendEnv, services: number, syncs: () => Promise<void>): Promise<void> {
  try {
    await syncs();
  } catch (e) {
    const err = interruptedOr(r.ctx, e);
    if (err instanceof AbortedError) throw err;
    env.unusable = `the syncs at ${services} services failed: ${err instanceof Error ? err.message : String(err)}`;
    r.ctx.say(`${env.label ?? env.backend.name} @${services}: ${env.unusable}`);
  }
}

/** What prepareScale needs of the run at every scale point (services aside). */
function scaleOptions(r: Running) {
  return {
    endpoints: r.endpoints,
    ...(r.fillers ? { fillers: r.fillers } : {}),
    target: r.flags.target,
    seed: r.seed,
    workloads: r.workloads,
    syncIterations: r.flags.syncIterations,
    proglatRepeat: r.flags.proglatRepeat,
    say: r.ctx.say,
    check: r.ctx.check,
  };
}

/** A backend scaled to its sync timeout whose full sync at the fitted scale still exceeded the
 * budget (the machine slowed down, or the pace grew faster than the probe showed) gets one more
 * try: that sync's projected time joins the probe's points and the fit is made again, below it.
 * The lower scale, or undefined when there is nothing to retry. */
function refit(r: Running, id: string, env: BackendEnv, at: number): number | undefined {
  const fit = r.fits.get(id);
  const ex = r.run.syncs.filter((x) => x.backend === id && x.services === at && x.step === 'full').at(-1)?.exceeded;
  if (fit === undefined || ex === undefined) return undefined;
  // The new point supersedes the probe's at larger scales (predictNext goes through the last two).
  const points = [
    ...r.probes.get(id)!.filter((p) => p.x < at),
    { x: at, y: ex.projectedMs ?? (ex.budgetMs * ex.total) / Math.max(1, ex.done) },
  ];
  const again = fitScale(env, fit.requested, points);
  if (again === undefined || again.services >= at) return undefined;
  const next = { ...again, reason: `its full sync of ${at} services exceeded --sync-timeout after all, so ${again.reason}` };
  r.run.scaleFits![r.run.scaleFits!.lastIndexOf(fit)] = next;
  r.fits.set(id, next);
  r.measuredAt.get(id)!.add(next.services);
  r.ctx.say(`${id} @${fit.requested}: measured at ${next.services} services instead: ${next.reason}`);
  return next.services;
}

/** The services a backend is measured at for the requested scale point: the requested number, or
 * for a backend scaled to its sync timeout the largest its probed pace fits (fit-scale.ts; the
 * probe runs before its first scale point). Undefined when that repeats a scale it was already
 * measured at (its cases at this point are skipped, saying so). */
async function scaleFor(r: Running, id: string, env: BackendEnv, requested: number): Promise<number | undefined> {
  r.fits.delete(id);
  r.repeats.delete(id);
  let at = requested;
  if (env.backend.scaledToSyncTimeout === true && requested > PROBE_SERVICES.at(-1)!) {
    let points = r.probes.get(id);
    if (points === undefined) {
      r.ctx.say(
        `${id}: timing its sync pace on full syncs of ${PROBE_SERVICES.join(' and ')} services against the ${r.flags.syncTimeout} s --sync-timeout`,
      );
      points = await probePace(env.sandbox.exec, env, { ...fitOptions(r), requested });
      r.probes.set(id, points);
    }
    const fit = fitScale(env, requested, points);
    if (fit !== undefined) {
      r.run.scaleFits!.push(fit);
      at = fit.services;
      r.ctx.say(`${id} @${requested}: ${at < requested ? `measured at ${at} services instead` : 'measured as asked'}: ${fit.reason}`);
      if (at < requested) r.fits.set(id, fit);
    }
  }
  const seen = r.measuredAt.get(id) ?? new Set<number>();
  r.measuredAt.set(id, seen);
  if (at !== requested && seen.has(at)) {
    r.repeats.set(id, `already measured at ${at} services, the largest its sync pace fits within --sync-timeout`);
    return undefined;
  }
  seen.add(at);
  return at;
}

const fitOptions = (r: Running) => ({
  endpoints: r.endpoints,
  ...(r.fillers ? { fillers: r.fillers } : {}),
  target: r.flags.target,
  seed: r.seed,
  workloads: r.workloads,
});

/** A planned case at the scale its backend is measured at this scale point (scaleFor). */
function atScale(r: Running, c: PlannedCase): PlannedCase {
  const fit = r.fits.get(c.backend);
  if (fit === undefined) return c;
  const moved = { ...c, services: fit.services };
  return { ...moved, id: `${caseGroup(moved)}#${c.repetition}` };
}

/** A case's result with the reason it ran at fewer services than its scale point asked for. */
function withScale(r: Running, x: CaseResult): CaseResult {
  const fit = r.fits.get(x.backend);
  return fit === undefined || x.services !== fit.services ? x : { ...x, scaled: { requested: fit.requested, reason: fit.reason } };
}

/** Adaptive repetitions (--ci-target, --max-repeat): extra rounds of the groups whose CI is still
 * too wide, judged on this scale point's cases only, while they fit --time-budget. */
async function extraRounds(r: Running, services: number): Promise<void> {
  const { ctx, flags } = r;
  for (let extra = 1; ; extra++) {
    const scaleCases = r.run.cases.filter((c) => c.services === (r.fits.get(c.backend)?.services ?? services));
    const verdicts = judgeGroups(scaleCases, {
      repeat: flags.repeat,
      maxRepeat: flags.maxRepeat,
      ciTargetPct: flags.ciTarget,
      seed: r.seed,
      paired: (workload) => isPaired(r, workload),
      ratioCiTargetPct: flags.ratioCiTarget,
      maxPairedRepeat: flags.maxPairedRepeat,
    });
    const round = extraRound(verdicts, r.rng);
    if (round.length === 0) return;
    const wide = verdicts.filter((v) => v.decision === 'more').map((v) => `${v.key.backend} ${v.key.path} ${v.key.workload}`);
    const paceS = r.completedS.length === 0 ? 0 : r.completedS.reduce((a, b) => a + b, 0) / r.completedS.length;
    const roundS = units(r, round).reduce((a, u) => a + unitCostS(r, u.length, paceS), 0);
    const why = extraWhy(verdicts, flags);
    // The budget is the whole command's wall time: since this process started (performance.now()
    // counts from Node's start, which precedes run.startedAt by ≈1-2 s of preflight), plus what
    // follows the last case (teardown and reports: 1-3 s measured here).
    const elapsedS = performance.now() / 1000;
    if (!fitsBudget(1, roundS, elapsedS + WRAP_UP_S, flags.timeBudget)) {
      ctx.say(
        `no extra round @${services} services: ${round.length} case ${round.length === 1 ? 'group' : 'groups'} (${why}), but a round of ≈${roundS.toFixed(0)} s would end past the ${flags.timeBudget} s --time-budget (run so far: ${elapsedS.toFixed(0)} s)`,
      );
      return;
    }
    ctx.say(
      `extra round ${extra} @${services} services: ${round.length} case ${round.length === 1 ? 'group' : 'groups'} (${why}: ${wide.slice(0, 4).join(', ')}${wide.length > 4 ? ', …' : ''})`,
    );
    r.progress.grow(round.length);
    for (const unit of units(r, round)) await runUnit(r, unit);
  }
}

/** The expected wall time of a unit of `paths` cases: a single case at the run's pace; paired
 * blocks from the paired units so far, scaled by paths + 1 (a unit's fixed part, the clients'
 * start, the checks and the lead before the schedule, costs about one path's share), or the
 * single-case pace per path until one has run. */
function unitCostS(r: Running, paths: number, paceS: number): number {
  if (paths === 1 || r.unitsS.length === 0) return paths * paceS;
  return r.unitsS.reduce((a, u) => a + (u.s * (paths + 1)) / (u.paths + 1), 0) / r.unitsS.length;
}

/** Why groups get another round, naming the target in play: the paired ratio's (--ratio-ci-target)
 * for Service paths of paired blocks, the median's (--ci-target) for the others. */
function extraWhy(verdicts: readonly GroupVerdict[], flags: RunFlags): string {
  const more = verdicts.filter((v) => v.decision === 'more');
  const ratioPct = flags.ratioCiTarget > 0 ? flags.ratioCiTarget : flags.ciTarget;
  const reasons = [
    ...(more.some((v) => v.pairs !== undefined) ? [`ratio to pod's CI wider than ±${targetPercent(ratioPct / 100)}%`] : []),
    ...(more.some((v) => v.pairs === undefined && !pairedBaseline(v))
      ? [`median's CI wider than ±${targetPercent(flags.ciTarget / 100)}% or n < ${MIN_CI_SAMPLES}`]
      : []),
  ];
  return reasons.length === 0 ? 'their Service paths need more block pairs' : reasons.join('; ');
}

/** A pod-path group that repeats only because its paired Service paths do (adaptive.ts). */
const pairedBaseline = (v: GroupVerdict): boolean => v.followsPaired === true;

/** Whether a workload's paths run as paired blocks: --block > 0, the workload follows schedules,
 * and the pod path is measured beside at least one other. */
function isPaired(r: Running, workload: string): boolean {
  const w = r.workloads.find((x) => x.name === workload);
  return w !== undefined && pairedWorkload(r.flags, w);
}

const pairedWorkload = (flags: RunFlags, w: Workload): boolean =>
  flags.block > 0 && w.blocks === true && flags.path.length > 1 && flags.path.includes(BASELINE_PATH.name);

const units = (r: Running, cases: readonly PlannedCase[]) => pairedUnits(cases, (c) => isPaired(r, c.workload));

/** A unit of the plan: one case, or the paths of one paired repetition (a backend that is not
 * ready skips each of them as a case). */
async function runUnit(r: Running, unit: PlannedCase[]): Promise<void> {
  const env = r.envs.get(unit[0]!.backend);
  if (unit.length === 1 || env === undefined || r.repeats.has(unit[0]!.backend)) {
    for (const c of unit) await runOne(r, c);
    return;
  }
  const { ctx, flags } = r;
  ctx.check();
  const t0 = performance.now();
  const c0 = unit[0]!;
  const w = r.workloads.find((x) => x.name === c0.workload) as Workload;
  r.progress.step(
    `${c0.backend} ${unit.map((c) => c.path).join('/')} ${c0.workload} @${c0.services} services, repetition ${c0.repetition} (paired blocks)`,
  );
  const results = (
    await withDamage(
      ctx.exec,
      env,
      await runPairedCases(env.sandbox.exec, env, unit, w, { ...caseSettings(r, w), blockMs: flags.block * 1000 }, r.rng),
    )
  ).map((x) => withScale(r, x));
  r.run.cases.push(...results);
  const completed = results.filter((x) => x.state === 'completed');
  // The pace --time-budget extrapolates is per case: the unit's time over its cases.
  const unitS = (performance.now() - t0) / 1000;
  for (const _ of completed) r.completedS.push(unitS / unit.length);
  if (completed.length > 0) r.unitsS.push({ s: unitS, paths: unit.length });
  r.progress.finishStep(
    results
      .map((x) =>
        x.state === 'completed'
          ? `${x.path} ${(x.result.ops / (x.result.durationMs / 1000)).toFixed(0)} ${w.opUnit}/s`
          : `${x.path} ${x.state}`,
      )
      .join(', '),
    unit.length,
  );
  await flush(r);
}

/** The settings a case of workload `w` runs with. */
function caseSettings(r: Running, w: Workload) {
  const { flags } = r;
  return {
    endpoints: r.endpoints,
    target: flags.target,
    durationMs: flags.duration * 1000,
    warmupMs: flags.warmup * 1000,
    messageSize: flags.messageSize,
    ...(flags.rate === undefined ? {} : { rate: flags.rate }),
    connections: flags.connections ?? w.defaultConnections ?? 1,
  };
}

/** Runs (or, for a backend that is not ready, skips) one case and rewrites run.json. */
async function runOne(r: Running, c: PlannedCase): Promise<void> {
  const { ctx, flags } = r;
  ctx.check();
  const t0 = performance.now();
  r.progress.step(`${c.backend} ${c.path} ${c.workload} @${c.services} services, repetition ${c.repetition}`);
  const env = r.envs.get(c.backend);
  const w = r.workloads.find((x) => x.name === c.workload) as Workload;
  const sampling = r.profiler.forCase(flags.duration * 1000);
  const settings = { ...caseSettings(r, w), ...(sampling === undefined ? {} : { sampling }) };
  const connections = settings.connections;
  const repeated = r.repeats.get(c.backend);
  const result: CaseResult =
    env && repeated === undefined
      ? withScale(r, (await withDamage(ctx.exec, env, [await runCase(env.sandbox.exec, env, c, w, settings)]))[0]!)
      : {
          id: c.id,
          backend: c.backend,
          services: c.services,
          endpoints: r.endpoints,
          target: flags.target,
          path: c.path,
          workload: c.workload,
          repetition: c.repetition,
          connections,
          startedAt: new Date().toISOString(),
          state: 'skipped',
          reason: repeated ?? r.unavailable.get(c.backend) ?? 'not ready',
        };
  r.run.cases.push(result);
  if (result.state === 'completed') r.completedS.push((performance.now() - t0) / 1000);
  r.progress.finishStep(
    result.state === 'completed'
      ? `${(result.result.ops / (result.result.durationMs / 1000)).toFixed(0)} ${w.opUnit}/s, p50 ${result.result.latencyUs.p50} µs`
      : `${result.state}: ${result.reason}`,
  );
  await flush(r);
}

/** Ctrl-C at a terminal signals the whole foreground process group: a load generator can die of it
 * and fail its step before our own handler's AbortedError surfaces. Once a signal has arrived the
 * run is aborted, whatever error came first (ctx.check throws the AbortedError). */
function interruptedOr(ctx: RunCtx, e: unknown): unknown {
  if (e instanceof AbortedError) return e;
  try {
    ctx.check();
  } catch (signalled) {
    return signalled;
  }
  return e;
}

/** Teardown of every sandbox, then run.json's last rewrite and the reports, whatever happened.
 * When the run already failed (`failure`), a failing last rewrite (the same full or read-only
 * results directory, most likely) is said and the run's own failure is the one reported. */
async function wrapUp(r: Running, failure: unknown): Promise<void> {
  r.progress.end();
  for (const env of r.envs.values()) await closeEnv(r.ctx.exec, env);
  r.run.finishedAt = new Date().toISOString();
  try {
    await flush(r);
  } catch (e) {
    if (failure === undefined) throw e;
    r.ctx.say(`run.json could not be rewritten after the failure: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  await r.ctx.exec.alter(
    () => renderReports(r.ctx, r.writer.dir, r.run),
    () => undefined,
  );
}

/** Every run, also an aborted or failed one, gets its reports (summary.csv, report.md, charts,
 * report.html); a rendering failure is said and never hides the run's own outcome. */
async function renderReports(ctx: RunCtx, dir: string, run: RunJson): Promise<void> {
  try {
    const { writeReports } = await import('../report/write.js');
    await writeReports(dir, run);
    ctx.say(`reports: ${dir}/report.md, ${dir}/report.html`);
  } catch (e) {
    ctx.say(`reports could not be rendered (${e instanceof Error ? e.message : String(e)}); bench report ${dir} retries`);
  }
}

async function flush(r: Running): Promise<void> {
  await r.ctx.exec.alter(
    () => r.writer.flush(),
    () => undefined,
  );
}
