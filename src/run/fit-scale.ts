import type { Exec } from '../exec/index.js';
import { predictNext, type GrowthPoint } from '../stats/index.js';
import { sync } from '../sync.js';
import type { EndpointsDist } from '../model/endpoint-counts.js';
import type { Workload } from '../../workloads/types.js';
import type { BackendEnv } from './backend-sandbox.js';
import type { ScaleFit } from './results.js';
import { scaleState } from './services.js';

// A backend whose syncs can outgrow --sync-timeout (Backend.scaledToSyncTimeout: one process per
// rule, each reading and writing back the whole table) is measured at the largest scale its pace
// fits, not errored at every case of a scale it cannot sync: before its first scale point, full
// syncs of a few services time its pace, and the power law through them (src/stats/growth.ts
// predictNext: the last two points, never less than linear) predicts the largest number of
// services whose full sync takes at most FIT_SHARE of the budget.

/** Services of the probe's full syncs, smallest first. */
export const PROBE_SERVICES = [10, 30] as const;

/** The share of --sync-timeout a predicted full sync may take: the probe's pace is a lower bound
 * (later commands of a growing table cost more) and this machine's speed varies about 2× by itself. */
export const FIT_SHARE = 0.5;

/** The probe's points: services and full-sync milliseconds. */
export type ProbePoint = GrowthPoint;

/** `x` rounded down to two significant digits (1,234 → 1,200; 147 → 140), at least 1: a scale
 * people read as chosen, not as an artefact of the fit. */
export function roundDown2(x: number): number {
  if (x < 1) return 1;
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1);
  return Math.max(1, Math.floor(x / unit) * unit);
}

/** Pure: the largest number of services up to `requested` whose predicted full sync (predictNext
 * through the probe's points) takes at most `share` of `budgetMs`, rounded down to two
 * significant digits; with the prediction at that scale and the model that made it. */
export function largestFitting(
  points: readonly ProbePoint[],
  budgetMs: number,
  requested: number,
  share = FIT_SHARE,
): { services: number; predictedMs: number; model: string } {
  const limit = share * budgetMs;
  const at = (n: number) => predictNext(points, n)!;
  if (at(requested).y <= limit) return { services: requested, predictedMs: at(requested).y, model: at(requested).model };
  // The prediction grows with n (exponent ≥ 1): bisect for the largest n within the limit.
  let lo = 0;
  let hi = requested;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (at(mid).y <= limit) lo = mid;
    else hi = mid;
  }
  const services = roundDown2(Math.max(1, lo));
  return { services, predictedMs: at(services).y, model: at(services).model };
}

export interface FitOptions {
  requested: number;
  endpoints: number;
  fillers?: EndpointsDist;
  target: 'first' | 'middle' | 'last' | 'random';
  seed: number;
  workloads: readonly Workload[];
}

/** The probe: full syncs of PROBE_SERVICES services on node 0 from empty tables, each torn down
 * after; stops at the first that exceeds its budget (its pace so far is then the point). */
export async function probePace(exec: Exec, env: BackendEnv, o: FitOptions): Promise<ProbePoint[]> {
  const points: ProbePoint[] = [];
  for (const services of PROBE_SERVICES) {
    const { state } = scaleState({ plan: env.sandbox.plan, ...o, services });
    await env.backend.teardown(env.target);
    const { record } = await sync(env.backend, env.target, undefined, state);
    await env.backend.teardown(env.target);
    const ex = record.exceeded;
    // An exceeded sync's whole time is at least its projection, or its budget over the share done.
    const ms = ex === undefined ? record.totalMs : (ex.projectedMs ?? (ex.budgetMs * ex.total) / Math.max(1, ex.done));
    points.push({ x: services, y: Math.max(ms, 1e-3) });
    if (ex !== undefined) break;
  }
  return exec.observe(async () => points, []);
}

/** The scale a backend is measured at for a requested scale point: the requested one for a backend
 * that is not scaled to its sync timeout, or whose probe predicts it fits; else the largest that
 * fits, with the reason in words. `points` is the backend's probe (probePace), run once. */
export function fitScale(env: BackendEnv, requested: number, points: readonly ProbePoint[]): ScaleFit | undefined {
  if (env.backend.scaledToSyncTimeout !== true || points.length === 0) return undefined;
  const budgetMs = env.options.syncTimeoutMs;
  const fit = largestFitting(points, budgetMs, requested);
  const label = env.label ?? env.backend.name;
  const probe = points.map((p) => `${p.x} services ${(p.y / 1000).toFixed(2)} s`).join(', ');
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const reason =
    fit.services >= requested
      ? `its probe (full syncs of ${probe}) predicts ${s(fit.predictedMs)} at ${requested} services, within ${FIT_SHARE * 100}% of the ${s(budgetMs)} --sync-timeout`
      : `its probe (full syncs of ${probe}; ${fit.model}) predicts a full sync of ${requested} services past ${FIT_SHARE * 100}% of the ${s(budgetMs)} --sync-timeout: ${fit.services} services is the largest that fits (predicted ${s(fit.predictedMs)})`;
  return {
    backend: label,
    requested,
    services: fit.services,
    budgetMs,
    probe: [...points].map((p) => ({ services: p.x, ms: p.y })),
    predictedMs: fit.predictedMs,
    reason,
  };
}
