import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { backendByName, BACKENDS, type Backend, type Preflight } from '../../backends/index.js';
import { workloadByName } from '../../workloads/index.js';
import type { Workload } from '../../workloads/types.js';
import { toBackendOptions } from '../config/backend.js';
import { AbortedError, BenchError } from '../errors.js';
import type { Exec } from '../exec/index.js';
import { newRunId } from '../sandbox/names.js';
import { createRng, MIN_CI_SAMPLES, targetPercent } from '../stats/index.js';
import { runCase } from './case.js';
import type { RunFlags } from './config.js';
import { closeEnv, openEnv, type BackendEnv } from './backend-sandbox.js';
import { captureEnvironment } from './environment.js';
import { extraRound, fitsBudget, judgeGroups } from './adaptive.js';
import { planCases, type PlannedCase } from './plan.js';
import { Progress } from './progress.js';
import { RunWriter, RUN_SCHEMA, type CaseResult, type RunJson } from './results.js';
import { prepareScale } from './scale.js';
import { openProfiler } from '../profile/sampler.js';

/** Seconds --time-budget keeps for the teardown and reports after the last case. */
const WRAP_UP_S = 5;

export interface RunCtx {
  exec: Exec;
  say: (line: string) => void;
  write: (text: string) => void;
  tty: boolean;
  check: () => void;
}

/** `bench run`: the matrix backends × paths × workloads × scale points, each case repeated and
 * interleaved, with sync timing at every scale point; run.json is rewritten after every case. */
export async function runBench(ctx: RunCtx, flags: RunFlags, argv: string[]): Promise<{ run: RunJson; dir: string }> {
  const seed = flags.seed ?? randomInt(2 ** 31 - 1);
  const options = toBackendOptions(flags);
  const workloads = flags.workload.map((n) => workloadByName(n)!);
  // With no --backend: every registered backend (unavailable ones are recorded as skipped).
  const requested = (flags.backend ?? []).map((n) => backendByName(n)!);
  const candidates = requested.length > 0 ? requested : [...BACKENDS];
  const preflights: { backend: Backend; preflight: Preflight }[] = [];
  for (const backend of candidates) preflights.push({ backend, preflight: await backend.preflight(options) });
  const ready = preflights.flatMap(({ backend, preflight }) => (preflight.state === 'ready' ? [backend] : []));
  const unavailable = new Map<string, string>();
  for (const { backend, preflight } of preflights)
    if (preflight.state === 'unavailable') unavailable.set(backend.name, `unavailable: ${preflight.reason} (fix: ${preflight.fix})`);
  for (const [name, why] of unavailable) ctx.say(`${name}: skipped, ${why}`);
  if (ready.length === 0)
    throw new BenchError(`no backend can run here: ${[...unavailable].map(([n, w]) => `${n} ${w}`).join('; ')}`, {
      hint: 'bench doctor shows what each backend needs',
    });

  const profiler = await openProfiler(ctx.exec, flags.profile, flags.profileHz);
  if (profiler.record.state === 'unavailable') ctx.say(`kernel attribution unavailable: ${profiler.record.reason}; cases run unsampled`);

  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${newRunId()}`;
  const run: RunJson = {
    schema: RUN_SCHEMA,
    runId,
    state: 'running',
    startedAt: new Date().toISOString(),
    argv,
    flags: { ...flags, seed },
    seed,
    environment: await captureEnvironment(ctx.exec, preflights),
    backends: preflights.map(({ backend, preflight }) => ({
      name: backend.name,
      state: preflight.state,
      ...(preflight.state === 'unavailable' ? { reason: preflight.reason, fix: preflight.fix } : {}),
      options: { ...options },
    })),
    profiling: profiler.record,
    syncs: [],
    programmingLatency: [],
    syncBench: [],
    cases: [],
  };
  const writer = new RunWriter(resolve(flags.out), run);
  if (!ctx.exec.dryRun) await writer.init();
  ctx.say(`run ${runId}: results in ${writer.dir}/run.json (seed ${seed})`);

  // One seeded stream orders the planned rounds and then any extra rounds.
  const rng = createRng(seed);
  const plan = planCases({
    backends: candidates.map((b) => b.name),
    services: flags.services,
    paths: flags.path,
    workloads: flags.workload,
    repeat: flags.repeat,
    seed,
    rng,
  });
  const progress = new Progress(plan.flat().length, ctx.write, ctx.tty);
  const envs = new Map<string, BackendEnv>();
  const settings = {
    endpoints: flags.endpoints,
    target: flags.target,
    durationMs: flags.duration * 1000,
    warmupMs: flags.warmup * 1000,
    messageSize: flags.messageSize,
    ...(flags.rate === undefined ? {} : { rate: flags.rate }),
  };
  // Wall time of the completed cases, for the pace that --time-budget extrapolates.
  const completedS: number[] = [];
  const runOne = async (c: PlannedCase): Promise<void> => {
    ctx.check();
    const t0 = performance.now();
    progress.step(`${c.backend} ${c.path} ${c.workload} @${c.services} services, repetition ${c.repetition}`);
    const env = envs.get(c.backend);
    const w = workloads.find((x) => x.name === c.workload) as Workload;
    const result: CaseResult = env
      ? await runCase(env.sandbox.exec, env, c, w, {
          ...settings,
          connections: flags.connections ?? w.defaultConnections ?? 1,
          ...profiler.forRepetition(c.repetition),
        })
      : {
          id: c.id,
          backend: c.backend,
          services: c.services,
          endpoints: flags.endpoints,
          target: flags.target,
          path: c.path,
          workload: c.workload,
          repetition: c.repetition,
          connections: flags.connections ?? w.defaultConnections ?? 1,
          startedAt: new Date().toISOString(),
          state: 'skipped',
          reason: unavailable.get(c.backend) ?? 'not ready',
        };
    run.cases.push(result);
    if (result.state === 'completed') completedS.push((performance.now() - t0) / 1000);
    progress.finishStep(
      result.state === 'completed'
        ? `${(result.result.ops / (result.result.durationMs / 1000)).toFixed(0)} ${w.opUnit}/s, p50 ${result.result.latencyUs.p50} µs`
        : `${result.state}: ${result.reason}`,
    );
    await flush(writer, ctx.exec);
  };
  try {
    for (const backend of ready as Backend[]) {
      const env = await openEnv(ctx.exec, backend, options, { endpoints: flags.endpoints, workloads, check: ctx.check });
      envs.set(backend.name, env);
      run.backends.find((b) => b.name === backend.name)!.sandbox = env.sandbox.plan.runId;
    }
    for (const cases of plan) {
      const services = cases[0]!.services;
      for (const env of envs.values()) {
        await prepareScale(
          env.sandbox.exec,
          env,
          {
            services,
            endpoints: flags.endpoints,
            target: flags.target,
            seed,
            workloads,
            syncIterations: flags.syncIterations,
            say: ctx.say,
            check: ctx.check,
          },
          run,
        );
        await flush(writer, ctx.exec);
      }
      for (const c of cases) await runOne(c);
      // Adaptive repetitions (--ci-target, --max-repeat): extra rounds of the groups whose CI is
      // still too wide, judged on this scale point's cases only.
      for (let extra = 1; ; extra++) {
        const scaleCases = run.cases.filter((c) => c.services === services);
        const verdicts = judgeGroups(scaleCases, {
          repeat: flags.repeat,
          maxRepeat: flags.maxRepeat,
          ciTargetPct: flags.ciTarget,
          seed,
        });
        const round = extraRound(verdicts, rng);
        if (round.length === 0) break;
        const wide = verdicts.filter((v) => v.decision === 'more').map((v) => `${v.key.backend} ${v.key.path} ${v.key.workload}`);
        const paceS = completedS.length === 0 ? 0 : completedS.reduce((a, b) => a + b, 0) / completedS.length;
        const why = `CI wider than ±${targetPercent(flags.ciTarget / 100)}% or n < ${MIN_CI_SAMPLES}`;
        // The budget is the whole command's wall time: since this process started (performance.now()
        // counts from Node's start, which precedes run.startedAt by ≈1-2 s of preflight), plus what
        // follows the last case (teardown and reports: 1-3 s measured here).
        const elapsedS = performance.now() / 1000;
        if (!fitsBudget(round.length, paceS, elapsedS + WRAP_UP_S, flags.timeBudget)) {
          ctx.say(
            `no extra round @${services} services: ${round.length} case ${round.length === 1 ? 'group' : 'groups'} (${why}), but a round of ≈${(round.length * paceS).toFixed(0)} s would end past the ${flags.timeBudget} s --time-budget (run so far: ${elapsedS.toFixed(0)} s)`,
          );
          break;
        }
        ctx.say(
          `extra round ${extra} @${services} services: ${round.length} case ${round.length === 1 ? 'group' : 'groups'} (${why}: ${wide.slice(0, 4).join(', ')}${wide.length > 4 ? ', …' : ''})`,
        );
        progress.grow(round.length);
        for (const c of round) await runOne(c);
      }
    }
    run.state = 'completed';
  } catch (e) {
    // Ctrl-C at a terminal signals the whole foreground process group: a load generator can die
    // of it and fail its step before our own handler's AbortedError surfaces. Once a signal has
    // arrived the run is aborted, whatever error came first (ctx.check throws the AbortedError).
    let err = e;
    if (!(err instanceof AbortedError))
      try {
        ctx.check();
      } catch (signalled) {
        err = signalled;
      }
    run.state = err instanceof AbortedError ? 'aborted' : 'failed';
    throw err;
  } finally {
    progress.end();
    for (const env of envs.values()) await closeEnv(ctx.exec, env);
    run.finishedAt = new Date().toISOString();
    await flush(writer, ctx.exec);
    if (!ctx.exec.dryRun) await renderReports(ctx, writer.dir, run);
  }
  return { run, dir: writer.dir };
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

async function flush(w: RunWriter, exec: Exec): Promise<void> {
  if (!exec.dryRun) await w.flush();
}
