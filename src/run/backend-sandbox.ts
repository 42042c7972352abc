import type { Backend, BackendOptions, NodeTarget } from '../../backends/types.js';
import { cpuPlan, pinned, type CpuPlan } from './pin.js';
import type { Workload } from '../../workloads/types.js';
import { sandboxSchema, type Placement } from '../config/sandbox.js';
import type { Exec, Started } from '../exec/index.js';
import type { ClusterState, Service } from '../model/types.js';
import { SERVE_SCRIPT, waitListening } from '../probe/client.js';
import { closeSandbox, nodeTargets, openSandbox, type Sandbox } from '../sandbox/session.js';
import { processStartTime } from '../sandbox/state.js';
import { IDENT_PORT, type CrossNodeServices } from './services.js';

/** The sandbox's shape: --nodes and --placement (one node when absent). */
export interface Cluster {
  nodes: number;
  placement: Placement;
}

/** One backend's own sandbox for a whole run: its node namespace holds only that backend's rules,
 * so cases of different backends interleave without re-syncing. */
export interface BackendEnv {
  backend: Backend;
  /** The backend as the run's cases and reports name it: its name, or a variant's (nft (1.37)). */
  label?: string;
  options: BackendOptions;
  sandbox: Sandbox;
  /** Node 0's target: the client's node, whose syncs are timed. */
  target: NodeTarget;
  /** Every node's target, node 0 first (one on a single node). */
  targets: NodeTarget[];
  servers: Started[];
  /** Servers that died while the sandbox was open (PodServers.gone). */
  gone: GoneServer[];
  /** Where workloads that place their processes run them (pin.ts); undefined: below 2 CPUs. */
  cpus: CpuPlan | undefined;
  /** State installed now, and the measured service in it. */
  installed?: ClusterState;
  measured?: Service;
  /** On more than one node: the cross-node paths' services. */
  crossNode?: CrossNodeServices;
  /** Set when this backend cannot be measured at the current scale (sync over budget, read-back
   * differences): its cases are recorded as errored with this reason. */
  unusable?: string;
}

/** A sandbox whose server pods run the workloads' servers, as bench run measures them. */
export interface PodServers {
  sandbox: Sandbox;
  servers: Started[];
  /** Each server that ended killed by a signal or with a non-zero code, in the order they died;
   * filled as they die, so a case can name a dead server as its cause (src/run/damage.ts). */
  gone: GoneServer[];
  /** Where workloads that place their processes run them (pin.ts); undefined: below 2 CPUs. */
  cpus: CpuPlan | undefined;
}

/** GoneServer.workload of the ident server. */
export const IDENT_WORKLOAD = 'ident';

/** A server that died: the workload it served ('ident': the path check's server, which every case
 * uses) and what happened, as "srv-0's tcp-crr server (pid 123) was killed by SIGKILL". */
export interface GoneServer {
  workload: string;
  text: string;
}

/** Notes in `gone` a server that dies on its own or from outside: killed by a signal or exiting
 * non-zero, not stopped through its stop() (the teardown's kills come after the last case, when
 * nothing reads `gone`). */
function watchServer(s: Started, pod: string, workload: string, gone: GoneServer[]): Started {
  let stopping = false;
  const what = `${pod}'s ${workload} server (pid ${s.pid})`;
  void s.exited.then((r) => {
    if (stopping) return;
    if (r.signal !== undefined) gone.push({ workload, text: `${what} was killed by ${r.signal}` });
    else if (r.exitCode !== 0) gone.push({ workload, text: `${what} exited with code ${r.exitCode}` });
  });
  return {
    ...s,
    stop: () => {
      stopping = true;
      return s.stop();
    },
  };
}

/** Builds a sandbox of `endpoints` server pods plus a spare one (partial syncs add it as an
 * endpoint) and one client pod, starts in every server pod the ident server and each workload's
 * server, placed by pin.ts and inside the run's cgroup, and resolves once every TCP server listens.
 * Shared by bench run (openEnv) and the load-generator benchmark (scripts/bench-loadgen.ts). */
export async function openPods(
  exec: Exec,
  o: { endpoints: number; workloads: readonly Workload[]; command: string; check: () => void; cluster?: Cluster },
): Promise<PodServers> {
  const cfg = sandboxSchema.parse({ pods: o.endpoints + 1, clients: 1, ...o.cluster });
  const sandbox = await openSandbox(exec, cfg, { command: o.command, check: o.check });
  try {
    const { plan } = sandbox;
    // Pod processes join the run's cgroup before entering their namespace (sandbox.exec).
    const servers: Started[] = [];
    const gone: GoneServer[] = [];
    const cpus = cpuPlan();
    for (const pod of plan.pods.filter((p) => p.kind === 'server')) {
      const ident = sandbox.exec.start({
        netns: pod.netns,
        argv: [process.execPath, SERVE_SCRIPT, '--name', pod.role, '--tcp', String(IDENT_PORT)],
      });
      servers.push(watchServer(ident, pod.role, IDENT_WORKLOAD, gone));
      for (const w of o.workloads) {
        const started = sandbox.exec.start({ netns: pod.netns, argv: pinned(w, cpus, 'server', w.serverArgv(pod.role)) });
        servers.push(watchServer(started, pod.role, w.name, gone));
      }
    }
    await sandbox.state?.record(servers.map((s) => ({ kind: 'process', pid: s.pid, startTime: processStartTime(s.pid) ?? '' })));
    const client = plan.pods.find((p) => p.kind === 'client')!.netns;
    const targets = plan.pods
      .filter((p) => p.kind === 'server')
      .flatMap((p) => [`${p.ip}:${IDENT_PORT}`, ...o.workloads.filter((w) => w.protocol === 'TCP').map((w) => `${p.ip}:${w.serverPort}`)]);
    await waitListening(sandbox.exec, client, targets);
    return { sandbox, servers, gone, cpus };
  } catch (e) {
    await closeSandbox(exec, sandbox);
    throw e;
  }
}

/** A backend's own sandbox for the whole run (openPods), with the node target it syncs into. */
export async function openEnv(
  exec: Exec,
  backend: Backend,
  options: BackendOptions,
  o: { endpoints: number; workloads: readonly Workload[]; check: () => void; cluster?: Cluster },
): Promise<BackendEnv> {
  const { sandbox, servers, gone, cpus } = await openPods(exec, { ...o, command: `run (${backend.name})` });
  const targets = nodeTargets(exec, sandbox, options);
  return { backend, options, sandbox, target: targets[0]!, targets, servers, gone, cpus };
}

export async function closeEnv(exec: Exec, env: BackendEnv): Promise<void> {
  await closeSandbox(exec, env.sandbox);
}
