import type { Backend, BudgetExceeded, NodeTarget, Rendered } from '../backends/types.js';
import { localize } from './model/nodes.js';
import type { ClusterState } from './model/types.js';

/** One sync's own timing split (render is pure CPU work, apply is the kernel transaction). */
export interface SyncRecord {
  kind: 'full' | 'partial';
  renderMs: number;
  applyMs: number;
  totalMs: number;
  size: { count: number; unit: string };
  commands: number;
  exceeded?: BudgetExceeded;
  /** Milliseconds per phase: `render`, then the backend's own (nft: list, read-elements,
   * stale-delete, apply); a backend without phases has render and apply. */
  phases: Record<string, number>;
  /** Milliseconds from the sync's start to the start of its committing step (Applied.commitAt). */
  commitStartMs?: number;
  /** The memory the backend measured of this sync (NodeTarget.measure), when it did. */
  memory?: Record<string, number>;
}

/** Renders and applies one sync (full when `prev` is undefined), timing each half. Read-back is
 * left to the caller, outside the timed region. */
export async function sync<P>(
  backend: Backend<P>,
  target: NodeTarget,
  prev: ClusterState | undefined,
  next: ClusterState,
): Promise<{ record: SyncRecord; rendered: Rendered<P> }> {
  // The node's own view of the state (which endpoints are local to it): prepared before the clock
  // starts, so a node of a multi-node sandbox times the same render as a single node does.
  const local = target.localEndpoints;
  const [before, after] = local === undefined ? [prev, next] : [prev && localize(prev, local), localize(next, local)];
  const t0 = performance.now();
  const rendered = backend.render(before, after, target.cfg, target.options);
  const t1 = performance.now();
  const applied = await backend.apply(target, rendered);
  const t2 = performance.now();
  return {
    rendered,
    record: {
      kind: rendered.kind,
      renderMs: t1 - t0,
      applyMs: t2 - t1,
      totalMs: t2 - t0,
      size: rendered.size,
      commands: applied.commands,
      phases: { render: t1 - t0, ...(applied.phases ?? { apply: t2 - t1 }) },
      ...(applied.commitAt === undefined ? {} : { commitStartMs: applied.commitAt - t0 }),
      ...(applied.exceeded ? { exceeded: applied.exceeded } : {}),
      ...(applied.memory ? { memory: applied.memory } : {}),
    },
  };
}

const seconds = (ms: number): string => `${Number((ms / 1000).toPrecision(3))} s`;

/** How a time-budgeted sync stopped, in words, for every place that reports it. */
export function exceededText(ex: BudgetExceeded): string {
  const done = `${ex.done.toLocaleString('en-US')} of ${ex.total.toLocaleString('en-US')} commands`;
  return ex.projectedMs === undefined
    ? `stopped at its ${seconds(ex.budgetMs)} budget after ${done}`
    : `stopped after ${done}: at their pace the whole sync needs at least ${seconds(ex.projectedMs)}, over its ${seconds(ex.budgetMs)} budget`;
}

/** Programs every node of a sandbox with the same change, as each node's kube-proxy does: node 0's
 * sync (the client's node) is the one returned and timed by the caller's record; the other nodes
 * follow, one after another, and their renders are returned for read-back. */
export async function syncNodes<P>(
  backend: Backend<P>,
  targets: readonly NodeTarget[],
  prev: ClusterState | undefined,
  next: ClusterState,
): Promise<{ record: SyncRecord; rendered: Rendered<P>; others: { target: NodeTarget; rendered: Rendered<P> }[] }> {
  const [first, ...rest] = targets;
  const main = await sync(backend, first!, prev, next);
  const others: { target: NodeTarget; rendered: Rendered<P> }[] = [];
  if (!main.record.exceeded)
    for (const target of rest) others.push({ target, rendered: (await sync(backend, target, prev, next)).rendered });
  return { ...main, others };
}
