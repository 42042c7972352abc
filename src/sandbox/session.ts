import type { BackendOptions, NodeTarget } from '../../backends/types.js';
import type { SandboxConfig } from '../config/sandbox.js';
import type { Exec } from '../exec/index.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { newRunId, nodeRole } from './names.js';
import { planTopology, podsOn, type TopologyPlan } from './plan.js';
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
  /** Absent when the exec creates nothing (--dry-run, the test fake): objects are then kept in memory. */
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
  const sandboxExec = sandboxProcesses(exec, plan, paths);
  const started = performance.now();
  const state = await exec.alter<StateFile | undefined>(
    () => StateFile.create(runId, opts.command),
    () => undefined,
  );
  const recorder = state ?? memoryRecorder();
  const sb: Sandbox = { plan, paths, exec: sandboxExec, ...(state === undefined ? {} : { state }), buildMs: 0 };
  try {
    await buildTopology(exec, plan, recorder, opts.check);
    await createRunPaths(exec, paths, recorder);
    await createNodePaths(exec, plan, paths, recorder);
  } catch (e) {
    await closeSandbox(exec, sb);
    throw e;
  }
  sb.buildMs = performance.now() - started;
  return sb;
}

/** Where each node's processes go. One node: the run's cgroup and bpffs. More: a child cgroup and a
 * bpffs directory per node, so a socket-level backend's cgroup programs act on that node's pods and
 * node processes only (cgroup sock_addr programs act on every process of their cgroup, whatever its
 * network namespace) and each node's instance pins apart. */
export function nodePaths(plan: TopologyPlan, paths: RunPaths, i: number): { cgroup?: string; bpffs: string } {
  if (plan.nodes.length === 1) return paths;
  const role = nodeRole(i);
  return { ...(paths.cgroup === undefined ? {} : { cgroup: join(paths.cgroup, role) }), bpffs: join(paths.bpffs, role) };
}

/** Records, then creates each node's cgroup and bpffs directory (nodePaths) on more than one node. */
async function createNodePaths(exec: Exec, plan: TopologyPlan, paths: RunPaths, recorder: Recorder): Promise<void> {
  if (plan.nodes.length === 1) return;
  const each = plan.nodes.map((n) => nodePaths(plan, paths, n.index));
  await recorder.record(each.flatMap((p) => (p.cgroup === undefined ? [] : [{ kind: 'cgroup' as const, path: p.cgroup }])));
  // The bpffs directories live inside the run's bpffs mount and go with it.
  await exec.alter(
    async () => {
      for (const p of each) {
        if (p.cgroup !== undefined) await mkdir(p.cgroup);
        await mkdir(p.bpffs);
      }
    },
    () => undefined,
  );
}

/** The exec pod-side and node-side processes start through: they join their node's cgroup. */
function sandboxProcesses(exec: Exec, plan: TopologyPlan, paths: RunPaths): Exec {
  return plan.nodes.reduce(
    (inner, node) =>
      joiningCgroup(inner, nodePaths(plan, paths, node.index).cgroup, [node.netns, ...podsOn(plan, node.index).map((p) => p.netns)]),
    exec,
  );
}

/** Where a backend programs node `i` of this sandbox: its node namespace, with its cgroup and bpffs
 * (nodePaths) and its external-facing veth (for tc programs), and its node IP. `exec` is the plain
 * one, not `sb.exec`: rule programs need not join the run's cgroup, and joining costs one more
 * process (sh) per command, inside the timed syncs. The masquerade mark is kube-proxy's default
 * (--iptables-masquerade-bit 14). Which endpoints are local to the node is the state's business
 * (src/model/nodes.ts localizes it per node). */
export function nodeTarget(exec: Exec, sb: Sandbox, options: BackendOptions, i = 0): NodeTarget {
  const { plan } = sb;
  const node = plan.nodes[i]!;
  const where = nodePaths(plan, sb.paths, i);
  return {
    exec,
    netns: node.netns,
    cfg: { podCidr: plan.podCidr, masqueradeMark: '0x4000', nodeIPs: [node.ip] },
    options,
    ...(where.cgroup === undefined ? {} : { cgroup: where.cgroup }),
    bpffs: where.bpffs,
    devices: [node.extIf],
    memory: new Map(),
    ...(plan.nodes.length > 1 ? { localEndpoints: new Set(podsOn(plan, i).map((p) => p.ip)) } : {}),
  };
}

/** Every node's target, node 0 first. */
export const nodeTargets = (exec: Exec, sb: Sandbox, options: BackendOptions): NodeTarget[] =>
  sb.plan.nodes.map((n) => nodeTarget(exec, sb, options, n.index));

export async function closeSandbox(exec: Exec, sb: Sandbox): Promise<Removed & { ms: number }> {
  const started = performance.now();
  if (!sb.state) return { processes: 0, namespaces: [], cgroups: [], mounts: [], files: [], ms: 0 };
  const removed = await removeObjects(exec, sb.state.data.objects);
  await sb.state.remove();
  return { ...removed, ms: performance.now() - started };
}
