import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { backendByName, type Backend, type Preflight } from '../../backends/index.js';
import type { NodeTarget, Rendered } from '../../backends/types.js';
import { sandboxSchema } from '../config/sandbox.js';
import { AbortedError, BenchError } from '../errors.js';
import type { Command, Exec, Started } from '../exec/index.js';
import { formatEndpoints } from '../model/endpoint-counts.js';
import { probe, SERVE_SCRIPT, waitListening } from '../probe/client.js';
import { captureEnvironment } from '../run/environment.js';
import { Progress } from '../run/progress.js';
import { openMemoryProbe, TIME_BINARY, type MemoryProbe } from '../sandbox/memory.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../sandbox/session.js';
import { openCommandRecord, type CommandRecord } from '../sandbox/command-record.js';
import { tempPathOf } from '../run/run-file.js';
import { guestRunId, resultsRunId } from '../run/run-id.js';
import { processStartTime } from '../sandbox/state.js';
import type { ClusterShape } from '../shape/read.js';
import { shapeSummary } from '../shape/scale.js';
import { predictNext, type Prediction } from '../stats/index.js';
import { exceededText, sync, type SyncRecord } from '../sync.js';
import { DEFAULT_ENDPOINTS, DEFAULT_SERVICES, recordedFlags, type SyncFlags } from './config.js';
import { SYNC_SCHEMA, SyncWriter, type SyncPoint, type SyncRun, type SyncSample } from './results.js';
import { partialSteps, pointStates, PROBE_PORT, type PartialSteps, type PointStates, type Step } from './states.js';
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
  /** Measures each sync's apply (peak RSS, cgroup and kernel memory) where it can: memory.ts. */
  probe?: MemoryProbe;
  servers: Started[];
  /** Set once the series stops: every later point is recorded as not run with this reason. */
  stopped?: string;
}

/** A change outside commands (results on disk): only a real exec makes it. */
const alter = (exec: Exec, change: () => Promise<void>): Promise<void> => exec.alter(change, () => undefined);

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

type PointSetup = { f: SyncFlags; seed: number; endpoints: SyncFlags['endpoints']; shape: ClusterShape | undefined };

async function preflightSeries(ctx: SyncCtx, variants: readonly Variant[]): Promise<Series[]> {
  const series: Series[] = [];
  for (const variant of variants) {
    const backend = backendByName(variant.backend)!;
    series.push({ variant, backend, preflight: await backend.preflight(variant.options, ctx.exec), servers: [] });
  }
  for (const x of series)
    if (x.preflight.state === 'unavailable')
      ctx.say(`${x.variant.id}: skipped, unavailable: ${x.preflight.reason} (fix: ${x.preflight.fix})`);
  if (series.every((x) => x.preflight.state === 'unavailable'))
    throw new BenchError('no backend can run here', { hint: 'bench doctor shows what each backend needs' });
  return series;
}

async function newSyncRun(
  ctx: SyncCtx,
  f: SyncFlags,
  o: { series: Series[]; shape: ClusterShape | undefined; argv: string[]; seed: number; endpoints: SyncFlags['endpoints']; id: string },
): Promise<SyncRun> {
  const { shape } = o;
  return {
    schema: SYNC_SCHEMA,
    runId: guestRunId() ?? resultsRunId(o.id),
    state: 'running',
    startedAt: new Date().toISOString(),
    argv: o.argv,
    flags: recordedFlags(f, o.seed),
    seed: o.seed,
    environment: await captureEnvironment(
      ctx.exec,
      o.series.map((x) => ({ backend: x.backend, preflight: x.preflight })),
    ),
    endpoints: shape ? `shape of ${shape.services.length} services (scaled)` : formatEndpoints(o.endpoints!),
    ...(shape
      ? { shape: { ...shapeSummary(shape.services), ...shape.skipped, slices: shape.slices, orphanSlices: shape.orphanSlices } }
      : {}),
    variants: o.series.map((x) => ({
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
}

/** One sandbox per ready series, with the probe servers listening in its server pods. */
async function openSeries(ctx: SyncCtx, x: Series, f: Pick<SyncFlags, 'nodes' | 'placement'>): Promise<void> {
  const cfg = sandboxSchema.parse({ pods: SERVER_PODS, clients: 1, nodes: f.nodes, placement: f.placement });
  x.sandbox = await openSandbox(ctx.exec, cfg, { command: `sync (${x.variant.id})`, check: ctx.check });
  const { plan } = x.sandbox;
  // GNU time is the probe's peak-RSS reader: without it (setup installs it) nothing is measured.
  if (x.sandbox.state && existsSync(TIME_BINARY)) x.probe = await openMemoryProbe(ctx.exec, plan.runId, x.sandbox.state);
  const servers = plan.pods.filter((p) => p.kind === 'server');
  for (const pod of servers)
    x.servers.push(
      x.sandbox.exec.start({ netns: pod.netns, argv: [process.execPath, SERVE_SCRIPT, '--name', pod.role, '--tcp', String(PROBE_PORT)] }),
    );
  await x.sandbox.state?.record(x.servers.map((p) => ({ kind: 'process', pid: p.pid, startTime: processStartTime(p.pid) ?? '' })));
  const client = plan.pods.find((p) => p.kind === 'client')!.netns;
  await waitListening(
    x.sandbox.exec,
    client,
    servers.map((p) => `${p.ip}:${PROBE_PORT}`),
  );
}

/** The point of a series that is not run: skipped (backend unavailable), stopped earlier, or
 * predicted past the budget (which stops the series); undefined when it runs. */
function notRun(ctx: SyncCtx, x: Series, services: number, prediction: Prediction | undefined, budgetS: number): SyncPoint | undefined {
  const id = x.variant.id;
  if (x.preflight.state === 'unavailable')
    return { variant: id, services, state: 'skipped', reason: `unavailable: ${x.preflight.reason} (fix: ${x.preflight.fix})` };
  const predicted = prediction ? { predictedMs: prediction.y, model: prediction.model } : {};
  if (x.stopped) return { variant: id, services, state: 'not-run', reason: x.stopped, ...predicted };
  // The budget is the whole command's wall time, as bench run's: performance.now() counts from the
  // process's start.
  const elapsedS = performance.now() / 1000;
  if (budgetS === 0 || !prediction || elapsedS + prediction.y / 1000 + WRAP_UP_S <= budgetS) return undefined;
  const why = `${services.toLocaleString('en-US')} services: predicted ${s(prediction.y)}, not run (${prediction.model}; ${s(Math.max(0, budgetS - elapsedS) * 1000)} of the ${s(budgetS * 1000)} --time-budget left)`;
  ctx.say(`${id}: ${why}`);
  x.stopped = `an earlier point was predicted past --time-budget (${why})`;
  return { variant: id, services, state: 'not-run', reason: 'predicted past --time-budget', ...predicted };
}

/** Every scale point, smallest first; at each, the series cheapest predicted first, so the budget a
 * slow series uses cannot starve the fast ones. */
async function sweep(
  ctx: SyncCtx,
  run: SyncRun,
  series: Series[],
  servicesList: number[],
  setup: PointSetup,
  flush: () => Promise<void>,
): Promise<void> {
  const progress = new Progress(series.length * servicesList.length, ctx.write, ctx.tty);
  try {
    for (const services of servicesList) {
      const order = series
        .map((x) => ({ x, prediction: predictNext(pointsOf(run, x.variant.id), services) }))
        .sort((a, b) => (a.prediction?.y ?? 0) - (b.prediction?.y ?? 0));
      for (const { x, prediction } of order) {
        ctx.check();
        const skip = notRun(ctx, x, services, prediction, setup.f.timeBudget);
        if (skip) {
          run.points.push(skip);
          continue;
        }
        const at = `${x.variant.id} @${services.toLocaleString('en-US')}`;
        progress.step(`${at} services`);
        const point = await runPoint(ctx, x, services, setup, run);
        run.points.push(point);
        if (point.state === 'errored' || point.reason?.startsWith('full sync')) x.stopped = `${at}: ${point.reason}`;
        progress.finishStep(point.state === 'completed' ? `done in ${s(point.wallMs ?? 0)}` : `${point.state}: ${point.reason}`);
        await flush();
      }
    }
  } finally {
    progress.end();
  }
}

/** `bench sync`. What it makes outside its sandboxes (sync.json's temporary file) is in its own
 * state file (command-record.ts), removed last. */
export async function runSync(
  ctx: SyncCtx,
  f: SyncFlags,
  o: { variants: Variant[]; shape?: ClusterShape; argv: string[] },
): Promise<{ run: SyncRun; dir: string }> {
  const record = await openCommandRecord(ctx.exec, 'sync', guestRunId()?.slice(-6));
  try {
    return await sweepAll(ctx, f, o, record);
  } finally {
    await record.close();
  }
}

async function sweepAll(
  ctx: SyncCtx,
  f: SyncFlags,
  o: { variants: Variant[]; shape?: ClusterShape; argv: string[] },
  record: CommandRecord,
): Promise<{ run: SyncRun; dir: string }> {
  const seed = f.seed ?? randomInt(2 ** 31 - 1);
  const servicesList = [...new Set(f.services ?? (o.shape ? [o.shape.services.length + 1] : DEFAULT_SERVICES))].sort((a, b) => a - b);
  const endpoints = o.shape ? undefined : (f.endpoints ?? DEFAULT_ENDPOINTS);
  const series = await preflightSeries(ctx, o.variants);
  const run = await newSyncRun(ctx, f, { series, shape: o.shape, argv: o.argv, seed, endpoints, id: record.id });
  const writer = new SyncWriter(resolve(f.out), run);
  await record.record([{ kind: 'file', path: tempPathOf(join(writer.dir, 'sync.json')) }]);
  await alter(ctx.exec, () => writer.init());
  ctx.say(
    `sync run ${run.runId}: ${o.variants.map((v) => v.id).join(', ')} at ${servicesList.map((n) => n.toLocaleString('en-US')).join(', ')} services, ${f.repeat} repetitions; results in ${writer.dir}/sync.json (seed ${seed})`,
  );
  try {
    for (const x of series) if (x.preflight.state === 'ready') await openSeries(ctx, x, f);
    await sweep(ctx, run, series, servicesList, { f, seed, endpoints, shape: o.shape }, () => alter(ctx.exec, () => writer.flush()));
    run.state = 'completed';
  } catch (e) {
    run.state = aborted(ctx, e) ? 'aborted' : 'failed';
    throw aborted(ctx, e) ?? e;
  } finally {
    for (const x of series) if (x.sandbox) await closeSandbox(ctx.exec, x.sandbox);
    run.finishedAt = new Date().toISOString();
    await alter(ctx.exec, () => finish(ctx, writer, run));
  }
  return { run, dir: writer.dir };
}

/** The AbortedError behind a failure: a signal can make a step fail before the handler's
 * AbortedError surfaces; once a signal has arrived, the run is aborted whatever came first. */
function aborted(ctx: SyncCtx, e: unknown): AbortedError | undefined {
  if (e instanceof AbortedError) return e;
  try {
    ctx.check();
  } catch (signalled) {
    if (signalled instanceof AbortedError) return signalled;
  }
  return undefined;
}

/** sync.json once more and every report, also of an interrupted or failed run. */
async function finish(ctx: SyncCtx, writer: SyncWriter, run: SyncRun): Promise<void> {
  await writer.flush();
  try {
    const { writeSyncReports } = await import('./report.js');
    await writeSyncReports(writer.dir, run);
    ctx.say(`reports: ${writer.dir}/report.md, ${writer.dir}/report.html`);
  } catch (e) {
    ctx.say(`reports could not be rendered (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Every repetition's point of a series so far, as (services, wall time of the point per repetition). */
function pointsOf(run: SyncRun, variant: string): { x: number; y: number }[] {
  return run.points
    .filter((p) => p.variant === variant && p.state === 'completed' && p.wallMs !== undefined && p.wallMs > 0)
    .map((p) => ({ x: p.services, y: p.wallMs! }));
}

/** What one point's repetitions share: the series, its states, and where samples go. */
interface PointRun {
  ctx: SyncCtx;
  x: Series;
  services: number;
  pt: PointStates;
  steps: PartialSteps;
  run: SyncRun;
  point: SyncPoint;
  f: SyncFlags;
  /** A new target per full sync: kube-proxy restarted (or a new node) keeps nothing in memory. */
  fresh: () => NodeTarget;
  /** The other nodes' instances (--nodes N > 1): each follows node 0's timed syncs, untimed. */
  others: NodeTarget[];
}

async function runPoint(ctx: SyncCtx, x: Series, services: number, o: PointSetup, run: SyncRun): Promise<SyncPoint> {
  const started = performance.now();
  const sb = x.sandbox!;
  const { plan } = sb;
  const servers = plan.pods.filter((p) => p.kind === 'server');
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
    variant: x.variant.id,
    services,
    state: 'completed',
    endpoints: pt.endpoints,
    withoutNodePort: pt.withoutNodePort,
    readBackDifferences: [],
  };
  const memProbe = x.probe;
  const fresh = (): NodeTarget => ({
    ...nodeTarget(ctx.exec, sb, x.variant.options),
    ...(memProbe
      ? {
          measure: async (cmd: Command) => {
            const { result, memory } = await memProbe.run(cmd);
            const measured = Object.entries(memory).filter((e): e is [string, number] => e[1] !== undefined);
            return { result, memory: Object.fromEntries(measured) };
          },
        }
      : {}),
  });
  const others = plan.nodes.slice(1).map((n) => nodeTarget(ctx.exec, sb, x.variant.options, n.index));
  const p: PointRun = { ctx, x, services, pt, steps, run, point, f: o.f, fresh, others };
  try {
    for (let rep = 1; rep <= o.f.repeat && (await repetition(p, rep)); rep++) ctx.check();
  } catch (e) {
    const signal = aborted(ctx, e);
    if (signal) throw signal;
    point.state = 'errored';
    point.reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    ctx.say(`${x.variant.id} @${services}: ERROR: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    for (const t of [fresh(), ...others]) await x.backend.teardown(t).catch(() => {});
  }
  point.wallMs = performance.now() - started;
  return point;
}

/** One repetition of a point; false when the point cannot go on (recorded in point.reason). */
async function repetition(p: PointRun, rep: number): Promise<boolean> {
  const { ctx, x, services, pt, steps, point } = p;
  const { backend } = x;
  const push = (step: Step, r: SyncRecord) => p.run.samples.push(sample(x.variant.id, services, rep, step, r));
  let target = p.fresh();
  for (const t of [target, ...p.others]) await backend.teardown(t);
  const cold = await sync(backend, target, undefined, pt.state);
  push('full-cold', cold.record);
  if (cold.record.exceeded) {
    point.reason = `full sync ${exceededText(cold.record.exceeded)} (--sync-timeout)`;
    ctx.say(`${x.variant.id} @${services}: ${point.reason}`);
    return false;
  }
  await follow(p, undefined, pt.state);
  if (rep === 1 && !(await readBackClean(p, target, cold.rendered))) return false;
  ctx.check();
  if (p.f.rawTool === 'yes' && backend.rawLoad) await rawLoad(p, rep, cold.rendered, cold.record.size);
  target = p.fresh();
  const restart = await sync(backend, target, undefined, pt.state);
  push('full-restart', restart.record);
  ctx.check();
  const times: string[] = [];
  for (const [step, from, to, label] of [
    ['add-service', pt.state, steps.added, 'add a service'],
    ['add-endpoint', steps.added, steps.grown, 'add an endpoint'],
    ['remove-service', steps.grown, steps.removed, 'remove a service'],
    ['churn', steps.removed, steps.churned, `churn ${p.f.churn}`],
  ] as const) {
    const r = await sync(backend, target, from, to);
    push(step, r.record);
    await follow(p, from, to);
    times.push(`${label} ${s(r.record.totalMs)}`);
    ctx.check();
  }
  if (!(await probeAnswers(p, rep))) return false;
  ctx.say(
    `${x.variant.id} @${services}: repetition ${rep}: cold ${s(cold.record.totalMs)}, restart ${s(restart.record.totalMs)}, ${times.join(', ')}`,
  );
  return true;
}

/** The other nodes' instances make the change node 0's timed sync made, untimed (src/sync.ts
 * syncNodes: every node's kube-proxy programs the same Services; only node 0's is measured). The
 * restart sync is node 0's alone: a restarted proxy on one node changes nothing on the others. */
async function follow(p: PointRun, from: PointStates['state'] | undefined, to: PointStates['state']): Promise<void> {
  for (const t of p.others) await sync(p.x.backend, t, from, to);
}

async function readBackClean(p: PointRun, target: NodeTarget, rendered: Rendered<unknown>): Promise<boolean> {
  const diffs = await p.ctx.exec.observe(() => p.x.backend.readBack(target, rendered), []);
  p.point.readBackDifferences!.push(diffs.length);
  if (diffs.length === 0) return true;
  p.point.state = 'errored';
  p.point.reason = `read-back after the full sync found ${diffs.length} differences: ${diffs.slice(0, 3).join('; ')}`;
  return false;
}

/** The backend's raw tool loading the cold sync's payload onto empty tables, timed; then the
 * table back by an untimed full sync, for the restart to find. */
async function rawLoad(p: PointRun, rep: number, rendered: Rendered<unknown>, size: SyncRecord['size']): Promise<void> {
  const { backend } = p.x;
  const target = p.fresh();
  await backend.teardown(target);
  const t0 = performance.now();
  await backend.rawLoad!(target, rendered);
  const ms = performance.now() - t0;
  p.run.samples.push({
    variant: p.x.variant.id,
    services: p.services,
    repetition: rep,
    step: 'raw-load',
    totalMs: ms,
    phases: { apply: ms },
    size,
    commands: 1,
  });
  await backend.teardown(target);
  await sync(backend, p.fresh(), undefined, p.pt.state);
}

/** One new connection to the probe service's ClusterIP must be answered by one of its pods: from
 * the client pod on node 0 and, with --nodes N > 1, from every other node's own namespace, so each
 * node's instance of the backend is shown to forward (to its own pods or across nodes). */
async function probeAnswers(p: PointRun, rep: number): Promise<boolean> {
  const sb = p.x.sandbox!;
  const client = sb.plan.pods.find((x) => x.kind === 'client')!.netns;
  const from = [{ netns: client, label: '' }, ...sb.plan.nodes.slice(1).map((n) => ({ netns: n.netns, label: `from node ${n.index}: ` }))];
  // Its endpoints after the steps: the three probe pods and the spare one the add-endpoint step added.
  const expected = sb.plan.pods.filter((x) => x.kind === 'server').map((x) => x.role as string);
  const vip = `${p.pt.probe.clusterIP}:80`;
  const asMade = { target: vip, ok: true, reply: expected[0]!, ms: 0 };
  for (const { netns, label } of from) {
    const [r] = await p.ctx.exec.observe(() => probe(sb.exec, netns, [vip]), [asMade]);
    const pass = r !== undefined && r.ok && expected.includes(r.reply ?? '');
    const detail = `${label}${vip} ${r === undefined ? 'no result' : r.ok ? `answered by ${r.reply}` : `failed: ${r.error}`}`;
    p.run.probes.push({ variant: p.x.variant.id, services: p.services, repetition: rep, pass, detail });
    if (pass) continue;
    p.point.state = 'errored';
    p.point.reason = `the probe service did not answer after the syncs: ${detail}`;
    return false;
  }
  return true;
}
