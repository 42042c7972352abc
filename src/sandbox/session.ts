import type { SandboxConfig } from '../config/sandbox.js';
import type { Exec } from '../exec/index.js';
import { newRunId } from './names.js';
import { planTopology, type TopologyPlan } from './plan.js';
import { buildTopology, removeObjects, type Recorder, type Removed } from './sandbox.js';
import { StateFile, type StateObject } from './state.js';

/** A live sandbox: its plan and the state file that lists everything it made. */
export interface Sandbox {
  plan: TopologyPlan;
  /** Absent in --dry-run, where nothing is created. */
  state?: StateFile;
  buildMs: number;
}

const memoryRecorder = (): Recorder & { objects: StateObject[] } => {
  const objects: StateObject[] = [];
  return { objects, record: async (o) => void objects.push(...o) };
};

/** Creates a sandbox; on any failure or interrupt while building, removes what was made and rethrows. */
export async function openSandbox(
  exec: Exec,
  cfg: SandboxConfig,
  opts: { command: string; check?: () => void; runId?: string },
): Promise<Sandbox> {
  const runId = opts.runId ?? newRunId();
  const plan = planTopology(runId, cfg);
  const started = performance.now();
  if (exec.dryRun) {
    await buildTopology(exec, plan, memoryRecorder(), opts.check);
    return { plan, buildMs: performance.now() - started };
  }
  const state = await StateFile.create(runId, opts.command);
  try {
    await buildTopology(exec, plan, state, opts.check);
  } catch (e) {
    await closeSandbox(exec, { plan, state, buildMs: 0 });
    throw e;
  }
  return { plan, state, buildMs: performance.now() - started };
}

export async function closeSandbox(exec: Exec, sb: Sandbox): Promise<Removed & { ms: number }> {
  const started = performance.now();
  if (!sb.state) return { processes: 0, namespaces: [], files: [], ms: 0 };
  const removed = await removeObjects(exec, sb.state.data.objects);
  await sb.state.remove();
  return { ...removed, ms: performance.now() - started };
}
