import { Bench } from 'tinybench';
import { systemClock, type Clock } from '../clock.js';
import type { Exec } from '../exec/index.js';
import { exceededText, sync, syncNodes, type SyncRecord } from '../sync.js';
import type { BackendEnv } from './backend-sandbox.js';
import { repeatProgramming, summarizeProgramming } from './proglat.js';
import type { RunJson, SyncRow } from './results.js';
import { NS, scaleState, withExtraEndpoint, withExtraService } from './services.js';
import type { ClusterState } from '../model/types.js';
import type { EndpointsDist } from '../model/endpoint-counts.js';
import type { Workload } from '../../workloads/types.js';

// Sync timing at one scale point, per backend: a full sync of N services (from empty tables), read
// back outside the timed region; partial syncs (add a service, add an endpoint, remove the service);
// network-programming latency (from the start of the sync that adds a service to the first new
// connection it answers, probed every millisecond from a client pod, repeated: proglat.ts); then
// the add-a-service sync repeated under
// tinybench for its statistics. Leaves the N-service state installed for the cases.

type Out = Pick<RunJson, 'syncs' | 'programmingLatency' | 'syncBench'>;

export interface ScaleOptions {
  services: number;
  /** The measured service's endpoints (real pods). */
  endpoints: number;
  /** The other services' endpoint counts, when they follow a distribution. */
  fillers?: EndpointsDist;
  target: 'first' | 'middle' | 'last' | 'random';
  seed: number;
  workloads: readonly Workload[];
  syncIterations: number;
  say: (l: string) => void;
  check: () => void;
  /** Repetitions of the network-programming latency measurement. */
  proglatRepeat: number;
  /** Waits for the latency prober to start, and timestamps the syncs it times. */
  clock?: Clock;
}

/** What every step at one scale point works on. */
interface Step {
  exec: Exec;
  env: BackendEnv;
  o: ScaleOptions;
  out: Out;
  row: (step: SyncRow['step'], r: SyncRecord, readBackDifferences?: string[]) => SyncRow;
}

export async function prepareScale(exec: Exec, env: BackendEnv, o: ScaleOptions, out: Out): Promise<void> {
  const row = (step: SyncRow['step'], r: SyncRecord, readBackDifferences: string[] = []): SyncRow => ({
    backend: env.label ?? env.backend.name,
    services: o.services,
    step,
    ...r,
    readBackDifferences,
  });
  const s: Step = { exec, env, o, out, row };
  const state = resetScale(env, o);
  for (const t of env.targets) await env.backend.teardown(t);
  if (!(await fullSync(s, state))) return;
  o.check();
  const added = await addServiceTimed(s, state);
  await partialSyncs(s, state, added);
  o.check();
  // The add-a-service partial sync, repeated under tinybench (the removal is untimed); a
  // measurement, so it is read only when the syncs really ran. Node 0 only: the other nodes stay
  // at `state`, where node 0 returns after every iteration.
  if (o.syncIterations > 0) out.syncBench.push(...(await exec.observe(() => benchAddService(s, state, added), [])));
}

/** The scale point's cluster state; forgets what the previous scale point installed. */
function resetScale(env: BackendEnv, o: ScaleOptions): ClusterState {
  const { state, measured, crossNode } = scaleState({
    plan: env.sandbox.plan,
    services: o.services,
    endpoints: o.endpoints,
    target: o.target,
    seed: o.seed,
    workloads: o.workloads,
    ...(o.fillers ? { fillers: o.fillers } : {}),
  });
  delete env.unusable;
  env.installed = undefined;
  env.measured = measured;
  if (crossNode) env.crossNode = crossNode;
  else delete env.crossNode;
  return state;
}

/** Every node's installed state against what was rendered for it (syncNodes programs every node;
 * node 0's sync is the timed one), outside the timed region; differences name their node. */
async function readBackNodes(
  exec: Exec,
  backend: BackendEnv['backend'],
  target: BackendEnv['target'],
  synced: Awaited<ReturnType<typeof syncNodes>>,
): Promise<string[]> {
  const diffs = await exec.observe(() => backend.readBack(target, synced.rendered), []);
  for (const [i, o] of synced.others.entries())
    diffs.push(...(await exec.observe(() => backend.readBack(o.target, o.rendered), [])).map((d) => `node ${i + 1}: ${d}`));
  return diffs;
}

/** A full sync of N services from empty tables, read back outside the timed region. False when
 * the backend cannot be measured at this scale (env.unusable says why). */
async function fullSync({ exec, env, o, out, row }: Step, state: ClusterState): Promise<boolean> {
  const { backend, target } = env;
  const full = await syncNodes(backend, env.targets, undefined, state);
  if (full.record.exceeded) {
    out.syncs.push(row('full', full.record));
    env.unusable = `full sync of ${o.services} services ${exceededText(full.record.exceeded)} (--sync-timeout)`;
    o.say(`${env.label ?? backend.name} @${o.services}: ${env.unusable}`);
    return false;
  }
  const diffs = await readBackNodes(exec, backend, target, full);
  out.syncs.push(row('full', full.record, diffs));
  env.installed = state;
  o.say(
    `${env.label ?? backend.name} @${o.services}: full sync ${full.record.totalMs.toFixed(0)} ms (render ${full.record.renderMs.toFixed(0)}, apply ${full.record.applyMs.toFixed(0)})`,
  );
  if (diffs.length > 0) {
    env.unusable = `read-back after the full sync found ${diffs.length} differences: ${diffs.slice(0, 3).join('; ')}`;
    return false;
  }
  return true;
}

type Added = ReturnType<typeof withExtraService> & { record: SyncRecord };

/** Adds a service, measuring network-programming latency around it (proglat.ts), --proglat-repeat
 * times: between repetitions the service is removed again by an untimed sync. The first
 * repetition's sync is the scale point's add-service row; the added service stays installed. */
async function addServiceTimed({ exec, env, o, out, row }: Step, state: ClusterState): Promise<Added> {
  const { backend, target } = env;
  const { plan } = env.sandbox;
  const clock = o.clock ?? systemClock;
  const netns = plan.pods.find((p) => p.kind === 'client')!.netns;
  const added = withExtraService(state, plan, 'added');
  const { samples, first } = await repeatProgramming(
    exec,
    clock,
    { netns, target: `${added.service.clusterIP}:80`, repeat: o.proglatRepeat },
    async () => (await syncNodes(backend, env.targets, state, added.state)).record,
    () => syncNodes(backend, env.targets, added.state, state),
  );
  out.syncs.push(row('add-service', first));
  const pl = summarizeProgramming(env.label ?? backend.name, o.services, samples, o.seed);
  out.programmingLatency.push(pl);
  o.say(
    `${env.label ?? backend.name} @${o.services}: network-programming latency ${pl.ms === null ? `not measured (${pl.note ?? 'no answer'})` : `${pl.ms.toFixed(1)} ms${pl.ci ? ` [${pl.ci.low.toFixed(1)}, ${pl.ci.high.toFixed(1)}]` : ''}`} over ${samples.length} repetition${samples.length === 1 ? '' : 's'}, the same syncs ${pl.syncMs?.toFixed(1) ?? '?'} ms${pl.commitStartMs === undefined ? '' : ` (their committing step began at ${pl.commitStartMs.toFixed(1)} ms)`}`,
  );
  return { ...added, record: first };
}

/** Adds an endpoint to a filler (or to the added service when there are no fillers), then goes
 * back to the scale point's state, reading it back. */
async function partialSyncs({ exec, env, o, out, row }: Step, state: ClusterState, added: Added): Promise<void> {
  const { backend, target } = env;
  const { plan } = env.sandbox;
  const filler = state.services.find((s) => s.name.startsWith('filler-'));
  const key = filler ? `${NS}/${filler.name}` : `${NS}/added`;
  const grown = withExtraEndpoint(added.state, plan, key);
  const ep = await syncNodes(backend, env.targets, added.state, grown);
  out.syncs.push(row('add-endpoint', ep.record));
  const back = await syncNodes(backend, env.targets, grown, state);
  const backDiffs = await readBackNodes(exec, backend, target, back);
  out.syncs.push(row('remove-service', back.record, backDiffs));
  o.say(
    `${env.label ?? backend.name} @${o.services}: add a service ${added.record.totalMs.toFixed(0)} ms, add an endpoint ${ep.record.totalMs.toFixed(0)} ms, remove a service ${back.record.totalMs.toFixed(0)} ms`,
  );
  if (backDiffs.length > 0)
    env.unusable = `read-back after partial syncs found ${backDiffs.length} differences: ${backDiffs.slice(0, 3).join('; ')}`;
}

/** The add-a-service partial sync under tinybench, undone after each iteration (untimed). */
async function benchAddService({ env, o }: Step, state: ClusterState, added: Added): Promise<Out['syncBench']> {
  const { backend, target } = env;
  const bench = new Bench({ iterations: o.syncIterations, time: 0, warmup: false, throws: true });
  bench.add('add one service (partial sync)', async () => void (await sync(backend, target, state, added.state)), {
    afterEach: async () => void (await sync(backend, target, added.state, state)),
  });
  await bench.run();
  return bench.tasks.flatMap((task) => {
    const lat = task.result?.latency;
    if (!lat) return [];
    return [
      {
        backend: env.label ?? backend.name,
        services: o.services,
        task: task.name,
        mean: lat.mean,
        p50: lat.p50 ?? lat.mean,
        p75: lat.p75 ?? lat.max,
        p99: lat.p99 ?? lat.max,
        min: lat.min,
        max: lat.max,
        samples: [...lat.samples],
      },
    ];
  });
}
