import type { BackendOptions, NodeTarget } from '../../backends/types.js';
import type { SandboxConfig } from '../config/sandbox.js';
import type { Exec } from '../exec/index.js';
import { newRunId } from './names.js';
import { planTopology, type TopologyPlan } from './plan.js';
import { createRunPaths, joiningCgroup, planRunPaths, type RunPaths } from './run-cgroup.js';
import { buildTopology, removeObjects, type Removed } from './sandbox.js';
import { StateFile, type Recorder, type StateObject } from './state.js';

/** A live sandbox: its plan and the state file that lists everything it made. */
export interface Sandbox {
  plan: TopologyPlan;
  /** The run's cgroup and bpffs (run-cgroup.ts). */
  paths: RunPaths;
  /** The exec to start pod-side and node-side processes with: they join the run's cgroup before
   * entering their namespace, whatever the backend; external-namespace commands stay outside. */
  exec: Exec;
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
  const paths = planRunPaths(runId);
  const members = [plan.node.netns, ...plan.pods.map((p) => p.netns)];
  const sandboxExec = joiningCgroup(exec, paths.cgroup, members);
  const started = performance.now();
  if (exec.dryRun) {
    const recorder = memoryRecorder();
    await buildTopology(exec, plan, recorder, opts.check);
    await createRunPaths(exec, paths, recorder);
    return { plan, paths, exec: sandboxExec, buildMs: performance.now() - started };
  }
  const state = await StateFile.create(runId, opts.command);
  const sb: Sandbox = { plan, paths, exec: sandboxExec, state, buildMs: 0 };
  try {
    await buildTopology(exec, plan, state, opts.check);
    await createRunPaths(exec, paths, state);
  } catch (e) {
    await closeSandbox(exec, sb);
    throw e;
  }
  sb.buildMs = performance.now() - started;
  return sb;
}

/** Where a backend programs this sandbox: its node namespace, with the run's cgroup and bpffs and
 * the node's external-facing veth (for tc programs). `exec` is the plain one, not `sb.exec`: rule
 * programs need not join the run's cgroup, and joining costs one more process (sh) per command,
 * inside the timed syncs. The masquerade mark is kube-proxy's default (--iptables-masquerade-bit 14). */
export function nodeTarget(exec: Exec, sb: Sandbox, options: BackendOptions): NodeTarget {
  const { plan } = sb;
  return {
    exec,
    netns: plan.node.netns,
    cfg: { podCidr: plan.podCidr, masqueradeMark: '0x4000', nodeIPs: [plan.node.ip] },
    options,
    cgroup: sb.paths.cgroup,
    bpffs: sb.paths.bpffs,
    devices: [plan.node.extIf],
    memory: new Map(),
  };
}

export async function closeSandbox(exec: Exec, sb: Sandbox): Promise<Removed & { ms: number }> {
  const started = performance.now();
  if (!sb.state) return { processes: 0, namespaces: [], cgroups: [], mounts: [], files: [], ms: 0 };
  const removed = await removeObjects(exec, sb.state.data.objects);
  await sb.state.remove();
  return { ...removed, ms: performance.now() - started };
}
