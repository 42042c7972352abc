import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { backendByName, type Backend, type Preflight } from '../../backends/index.js';
import type { NodeTarget } from '../../backends/types.js';
import { sandboxSchema } from '../config/sandbox.js';
import { AbortedError, BenchError } from '../errors.js';
import type { Exec, Started } from '../exec/index.js';
import { formatEndpoints } from '../model/endpoint-counts.js';
import { probe, SERVE_SCRIPT, waitListening } from '../probe/client.js';
import { captureEnvironment } from '../run/environment.js';
import { Progress } from '../run/progress.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../sandbox/session.js';
import { newRunId } from '../sandbox/names.js';
import { processStartTime } from '../sandbox/state.js';
import type { ClusterShape } from '../shape/read.js';
import { shapeSummary } from '../shape/scale.js';
import { predictNext } from '../stats/index.js';
import { exceededText, sync, type SyncRecord } from '../sync.js';
import { DEFAULT_ENDPOINTS, DEFAULT_SERVICES, recordedFlags, type SyncFlags } from './config.js';
import { SYNC_SCHEMA, SyncWriter, type SyncPoint, type SyncRun, type SyncSample } from './results.js';
import { partialSteps, pointStates, PROBE_PORT, type Step } from './states.js';
import { durationText } from './text.js';
import type { Variant } from './variants.js';

// `bench sync`: the sync-only benchmark. Per series (backend variant) and scale point, each
// repetition times: a full sync from empty tables (a new node's cold start), optionally the raw
// tool loading the same payload, a full sync with the table already there (a restarted proxy: no
// state kept in memory), then partial syncs from that state: add a service, add an endpoint,
// remove the service, and a churn of --churn services removed and added at once. After each
// repetition one connection through the probe service's ClusterIP proves the rules forward.
// Scale points run smallest first, series interleaved; --time-budget stops a series before a
// point its growth predicts would end past the budget.

/** Seconds --time-budget keeps for the teardown and reports after the last point. */
const WRAP_UP_S = 10;
/** Server pods of each series' sandbox: 3 probe endpoints and one spare (the add-endpoint step). */
const SERVER_PODS = 4;

export interface SyncCtx {
  exec: Exec;
  say: (line: string) => void;
  write: (text: string) => void;
  tty: boolean;
  check: () => void;
}

interface Series {
  variant: Variant;
  backend: Backend;
  preflight: Preflight;
  sandbox?: Sandbox;
  servers: Started[];
  /** Set once the series stops: every later point is recorded as not run with this reason. */
  stopped?: string;
}

const phasesOf = (r: SyncRecord): Record<string, number> =>
  (r as SyncRecord & { phases?: Record<string, number> }).phases ?? { render: r.renderMs, apply: r.applyMs };

function sample(variant: string, services: number, repetition: number, step: Step, r: SyncRecord): SyncSample {
  const memory = (r as SyncRecord & { memory?: Record<string, number> }).memory;
  return {
    variant,
    services,
    repetition,
    step,
    totalMs: r.totalMs,
    phases: phasesOf(r),
    size: r.size,
    commands: r.commands,
    ...(r.exceeded ? { exceeded: r.exceeded } : {}),
    ...(memory ? { memory } : {}),
  };
}

const s = durationText;

export async function runSync(
  ctx: SyncCtx,
  f: SyncFlags,
  o: { variants: Variant[]; shape?: ClusterShape; argv: string[] },
): Promise<{ run: SyncRun; dir: string }> {
  const seed = f.seed ?? randomInt(2 ** 31 - 1);
  const servicesList = [...new Set(f.services ?? (o.shape ? [o.shape.services.length + 1] : DEFAULT_SERVICES))].sort((a, b) => a - b);
  const endpoints = o.shape ? undefined : (f.endpoints ?? DEFAULT_ENDPOINTS);
  const series: Series[] = [];
  for (const variant of o.variants) {
    const backend = backendByName(variant.backend)!;
    series.push({ variant, backend, preflight: await backend.preflight(variant.options), servers: [] });
  }
  for (const x of series)
    if (x.preflight.state === 'unavailable')
      ctx.say(`${x.variant.id}: skipped, unavailable: ${x.preflight.reason} (fix: ${x.preflight.fix})`);
  if (series.every((x) => x.preflight.state === 'unavailable'))
    throw new BenchError('no backend can run here', { hint: 'bench doctor shows what each backend needs' });

  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${newRunId()}`;
  const run: SyncRun = {
    schema: SYNC_SCHEMA,
    runId,
    state: 'running',
    startedAt: new Date().toISOString(),
    argv: o.argv,
    flags: recordedFlags(f, seed),
    seed,
    environment: await captureEnvironment(
      ctx.exec,
      series.map((x) => ({ backend: x.backend, preflight: x.preflight })),
    ),
    endpoints: o.shape ? `shape of ${o.shape.services.length} services (scaled)` : formatEndpoints(endpoints!),
    ...(o.shape
      ? { shape: { ...shapeSummary(o.shape.services), ...o.shape.skipped, slices: o.shape.slices, orphanSlices: o.shape.orphanSlices } }
      : {}),
    variants: series.map((x) => ({
      id: x.variant.id,
      backend: x.variant.backend,
      options: x.variant.options,
      state: x.preflight.state,
      ...(x.preflight.state === 'unavailable' ? { reason: x.preflight.reason, fix: x.preflight.fix } : {}),
    })),
    points: [],
    samples: [],
    probes: [],
  };
  const writer = new SyncWriter(resolve(f.out), run);
  const real = !ctx.exec.dryRun;
  if (real) await writer.init();
  ctx.say(
    `sync run ${runId}: ${o.variants.map((v) => v.id).join(', ')} at ${servicesList.map((n) => n.toLocaleString('en-US')).join(', ')} services, ${f.repeat} repetitions; results in ${writer.dir}/sync.json (seed ${seed})`,
  );
  const progress = new Progress(series.length * servicesList.length, ctx.write, ctx.tty);
  const budgetS = f.timeBudget;

  try {
    for (const x of series) {
      if (x.preflight.state === 'unavailable') continue;
      const cfg = sandboxSchema.parse({ pods: SERVER_PODS, clients: 1 });
      x.sandbox = await openSandbox(ctx.exec, cfg, { command: `sync (${x.variant.id})`, check: ctx.check });
      const { plan } = x.sandbox;
      for (const pod of plan.pods.filter((p) => p.kind === 'server'))
        x.servers.push(
          x.sandbox.exec.start({
            netns: pod.netns,
            argv: [process.execPath, SERVE_SCRIPT, '--name', pod.role, '--tcp', String(PROBE_PORT)],
          }),
        );
      await x.sandbox.state?.record(x.servers.map((p) => ({ kind: 'process', pid: p.pid, startTime: processStartTime(p.pid) ?? '' })));
      const client = plan.pods.find((p) => p.kind === 'client')!.netns;
      await waitListening(
        x.sandbox.exec,
        client,
        plan.pods.filter((p) => p.kind === 'server').map((p) => `${p.ip}:${PROBE_PORT}`),
      );
    }

    for (const services of servicesList) {
      // Cheapest predicted first, so the budget a slow series uses cannot starve the fast ones.
      const order = series
        .map((x) => ({ x, prediction: predictNext(pointsOf(run, x.variant.id), services) }))
        .sort((a, b) => (a.prediction?.y ?? 0) - (b.prediction?.y ?? 0));
      for (const { x, prediction } of order) {
        ctx.check();
        const id = x.variant.id;
        const at = `${id} @${services.toLocaleString('en-US')}`;
        if (x.preflight.state === 'unavailable') {
          run.points.push({
            variant: id,
            services,
            state: 'skipped',
            reason: `unavailable: ${x.preflight.reason} (fix: ${x.preflight.fix})`,
          });
          continue;
        }
        if (x.stopped) {
          run.points.push({
            variant: id,
            services,
            state: 'not-run',
            reason: x.stopped,
            ...(prediction ? { predictedMs: prediction.y, model: prediction.model } : {}),
          });
          continue;
        }
        const elapsedS = performance.now() / 1000;
        if (budgetS > 0 && prediction && elapsedS + prediction.y / 1000 + WRAP_UP_S > budgetS) {
          const why = `${services.toLocaleString('en-US')} services: predicted ${s(prediction.y)}, not run (${prediction.model}; ${s(Math.max(0, budgetS - elapsedS) * 1000)} of the ${s(budgetS * 1000)} --time-budget left)`;
          ctx.say(`${id}: ${why}`);
          x.stopped = `an earlier point was predicted past --time-budget (${why})`;
          run.points.push({
            variant: id,
            services,
            state: 'not-run',
            reason: 'predicted past --time-budget',
            predictedMs: prediction.y,
            model: prediction.model,
          });
          continue;
        }
        progress.step(`${at} services`);
        const point = await runPoint(ctx, x, services, { f, seed, endpoints, shape: o.shape }, run);
        run.points.push(point);
        if (point.state === 'errored' || point.reason?.startsWith('full sync')) x.stopped = `${at}: ${point.reason}`;
        progress.finishStep(point.state === 'completed' ? `done in ${s(point.wallMs ?? 0)}` : `${point.state}: ${point.reason}`);
        if (real) await writer.flush();
      }
    }
    run.state = 'completed';
  } catch (e) {
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
    for (const x of series) if (x.sandbox) await closeSandbox(ctx.exec, x.sandbox);
    run.finishedAt = new Date().toISOString();
    if (real) {
      await writer.flush();
      try {
        const { writeSyncReports } = await import('./report.js');
        await writeSyncReports(writer.dir, run);
        ctx.say(`reports: ${writer.dir}/report.md, ${writer.dir}/report.html`);
      } catch (e) {
        ctx.say(`reports could not be rendered (${e instanceof Error ? e.message : String(e)})`);
      }
    }
  }
  return { run, dir: writer.dir };
}

/** Every repetition's point of a series so far, as (services, wall time of the point per repetition). */
function pointsOf(run: SyncRun, variant: string): { x: number; y: number }[] {
  return run.points
    .filter((p) => p.variant === variant && p.state === 'completed' && p.wallMs !== undefined && p.wallMs > 0)
    .map((p) => ({ x: p.services, y: p.wallMs! }));
}

async function runPoint(
  ctx: SyncCtx,
  x: Series,
  services: number,
  o: { f: SyncFlags; seed: number; endpoints: SyncFlags['endpoints']; shape: ClusterShape | undefined },
  run: SyncRun,
): Promise<SyncPoint> {
  const started = performance.now();
  const { backend, variant } = x;
  const sb = x.sandbox!;
  const { plan } = sb;
  const id = variant.id;
  const servers = plan.pods.filter((p) => p.kind === 'server');
  const client = plan.pods.find((p) => p.kind === 'client')!.netns;
  const pt = pointStates({
    services,
    endpoints: o.shape ? { kind: 'shape', services: o.shape.services } : o.endpoints!,
    seed: o.seed,
    podCidr: plan.podCidr,
    serviceCidr: plan.serviceCidr,
    probeEndpoints: servers.slice(0, 3).map((p) => p.ip),
  });
  const steps = partialSteps(pt, { serviceCidr: plan.serviceCidr, podCidr: plan.podCidr, churn: o.f.churn, spareEndpoint: servers[3]!.ip });
  const point: SyncPoint = {
    variant: id,
    services,
    state: 'completed',
    endpoints: pt.endpoints,
    withoutNodePort: pt.withoutNodePort,
    readBackDifferences: [],
  };
  // A new target per full sync: kube-proxy restarted (or a new node) keeps nothing in memory.
  const fresh = (): NodeTarget => nodeTarget(ctx.exec, sb, variant.options);
  const push = (rep: number, step: Step, r: SyncRecord) => run.samples.push(sample(id, services, rep, step, r));
  const real = !ctx.exec.dryRun;
  try {
    for (let rep = 1; rep <= o.f.repeat; rep++) {
      ctx.check();
      let target = fresh();
      await backend.teardown(target);
      const cold = await sync(backend, target, undefined, pt.state);
      push(rep, 'full-cold', cold.record);
      if (cold.record.exceeded) {
        point.reason = `full sync ${exceededText(cold.record.exceeded)} (--sync-timeout)`;
        ctx.say(`${id} @${services}: ${point.reason}`);
        break;
      }
      if (rep === 1 && real) {
        const diffs = await backend.readBack(target, cold.rendered);
        point.readBackDifferences!.push(diffs.length);
        if (diffs.length > 0) {
          point.state = 'errored';
          point.reason = `read-back after the full sync found ${diffs.length} differences: ${diffs.slice(0, 3).join('; ')}`;
          break;
        }
      }
      ctx.check();
      if (o.f.rawTool === 'yes' && backend.rawLoad) {
        await backend.teardown(target);
        const t0 = performance.now();
        await backend.rawLoad(target, cold.rendered);
        const ms = performance.now() - t0;
        run.samples.push({
          variant: id,
          services,
          repetition: rep,
          step: 'raw-load',
          totalMs: ms,
          phases: { apply: ms },
          size: cold.record.size,
          commands: 1,
        });
        await backend.teardown(target);
        target = fresh();
        await sync(backend, target, undefined, pt.state); // the table back, untimed
      }
      target = fresh();
      const restart = await sync(backend, target, undefined, pt.state);
      push(rep, 'full-restart', restart.record);
      ctx.check();
      const add = await sync(backend, target, pt.state, steps.added);
      push(rep, 'add-service', add.record);
      const ep = await sync(backend, target, steps.added, steps.grown);
      push(rep, 'add-endpoint', ep.record);
      const rm = await sync(backend, target, steps.grown, steps.removed);
      push(rep, 'remove-service', rm.record);
      ctx.check();
      const churn = await sync(backend, target, steps.removed, steps.churned);
      push(rep, 'churn', churn.record);
      // The probe: one new connection to the probe service's ClusterIP, answered by one of its pods.
      if (real) {
        const vip = `${pt.probe.clusterIP}:80`;
        const [r] = await probe(sb.exec, client, [vip]);
        const expected = servers.slice(0, 3).map((p) => p.role as string);
        const pass = r !== undefined && r.ok && expected.includes(r.reply ?? '');
        run.probes.push({
          variant: id,
          services,
          repetition: rep,
          pass,
          detail: `${vip} ${r === undefined ? 'no result' : r.ok ? `answered by ${r.reply}` : `failed: ${r.error}`}`,
        });
        if (!pass) {
          point.state = 'errored';
          point.reason = `the probe service did not answer after the syncs: ${run.probes.at(-1)!.detail}`;
          break;
        }
      }
      ctx.say(
        `${id} @${services}: repetition ${rep}: cold ${s(cold.record.totalMs)}, restart ${s(restart.record.totalMs)}, add a service ${s(add.record.totalMs)}, add an endpoint ${s(ep.record.totalMs)}, remove a service ${s(rm.record.totalMs)}, churn ${o.f.churn} ${s(churn.record.totalMs)}`,
      );
    }
  } catch (e) {
    if (e instanceof AbortedError) throw e;
    try {
      ctx.check();
    } catch (signalled) {
      throw signalled;
    }
    point.state = 'errored';
    point.reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    ctx.say(`${id} @${services}: ERROR: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await backend.teardown(fresh()).catch(() => {});
  }
  point.wallMs = performance.now() - started;
  return point;
}
