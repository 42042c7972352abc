import type { Schedule, Workload } from '../../workloads/types.js';
import type { Command, Exec, ExecResult, Started } from '../exec/index.js';
import { answerWithin, probe } from '../probe/client.js';
import { pinned } from './pin.js';
import type { PodPlan } from '../sandbox/plan.js';
import { machineDelta, processCpuS, readMachineCpu } from './cpu.js';
import type { BackendEnv } from './backend-sandbox.js';
import type { PlannedCase } from './plan.js';
import type { CaseProfileJson, CaseResult } from './results.js';
import type { WorkloadResult } from '../../workloads/types.js';
import type { Path } from './types.js';
import { INITIAL_TTL, type ProbeResult } from '../probe/reply.js';
import type { ProfileOutcome, Sampler, Sampling, SamplingPlan } from '../profile/sampler.js';

export interface CaseSettings {
  endpoints: number;
  target: string;
  durationMs: number;
  warmupMs: number;
  connections: number;
  rate?: number;
  messageSize: number;
  /** Samples the kernel in half of the measured window's blocks (src/profile); absent: this case
   * is not sampled. */
  sampling?: { sampler: Sampler; plan: SamplingPlan };
}

/** The server pods that are the measured service's endpoints: the first `endpoints` ones. */
export function endpointPods(env: Pick<BackendEnv, 'sandbox'>, endpoints: number): PodPlan[] {
  return env.sandbox.plan.pods.filter((p) => p.kind === 'server').slice(0, endpoints);
}

export interface PathTarget {
  /** Namespace the client runs in. */
  netns: string;
  /** Addresses the client connects to, all on `port` (WorkloadParams.hosts). */
  hosts: string[];
  port: number;
  /** For each host, who must answer it; undefined: any endpoint (the Service picks). */
  expect: string[] | undefined;
  /** Who may answer when `expect` is undefined; absent: the measured service's endpoints. */
  pool?: string[];
  /** The path must not be answered at all (policy Local on a node without a local endpoint). */
  unanswered?: true;
}

/** Where a path's client runs and what it connects to, for a given service port. */
export function pathEndpoints(
  env: BackendEnv,
  path: Path,
  port: { name?: string; port: number; targetPort: number; nodePort?: number },
  endpoints: number,
): PathTarget {
  const { plan } = env.sandbox;
  const pod = (role: string) => plan.pods.find((p) => p.role === role)!;
  const vip = env.measured!.clusterIP;
  // The cross-node paths go to the services whose endpoints are all off node 0 (scaleState).
  const cross = () => {
    const x = env.crossNode!;
    const nodePort = (svc: typeof x.remote) => svc.ports.find((p) => p.name === port.name)?.nodePort ?? port.nodePort!;
    const pool = x.pods.map((p) => p.role as string);
    // A node that holds one of the Local service's endpoints: the first endpoint's.
    const localNode = plan.nodes[x.pods[0]!.node]!;
    return { x, pool, localNode, remotePort: nodePort(x.remote), localPort: nodePort(x.local) };
  };
  switch (path) {
    case 'pod': {
      // The baseline: straight to the endpoint pods' IPs, no Service rules in the way, the client
      // spreading its connections over them; so it ends at the same servers as the Service paths
      // (one server against three would change the throughput whatever does the balancing).
      const pods = endpointPods(env, endpoints);
      return { netns: pod('cli-0').netns, hosts: pods.map((p) => p.ip), port: port.targetPort, expect: pods.map((p) => p.role) };
    }
    case 'clusterip':
      return { netns: pod('cli-0').netns, hosts: [vip], port: port.port, expect: undefined };
    case 'clusterip-node':
      return { netns: plan.node.netns, hosts: [vip], port: port.port, expect: undefined };
    case 'nodeport':
      return { netns: plan.external.netns, hosts: [plan.node.ip], port: port.nodePort!, expect: undefined };
    case 'hairpin':
      // A server pod reaching its own Service (it may land on itself: the hairpin case).
      return { netns: pod('srv-0').netns, hosts: [vip], port: port.port, expect: undefined };
    case 'pod-remote': {
      // The cross-node baseline: the client pod straight to the endpoint pods on other nodes.
      const { x } = cross();
      return { netns: pod('cli-0').netns, hosts: x.pods.map((p) => p.ip), port: port.targetPort, expect: x.pods.map((p) => p.role) };
    }
    case 'clusterip-remote': {
      const { x, pool } = cross();
      return { netns: pod('cli-0').netns, hosts: [x.remote.clusterIP], port: port.port, expect: undefined, pool };
    }
    case 'nodeport-remote': {
      const { pool, remotePort } = cross();
      return { netns: plan.external.netns, hosts: [plan.node.ip], port: remotePort, expect: undefined, pool };
    }
    case 'nodeport-local': {
      const { pool, localNode, localPort } = cross();
      return { netns: plan.external.netns, hosts: [localNode.ip], port: localPort, expect: undefined, pool };
    }
    case 'nodeport-local-miss': {
      // Node 0 holds none of the Local service's endpoints.
      const { pool, localPort } = cross();
      return { netns: plan.external.netns, hosts: [plan.node.ip], port: localPort, expect: undefined, pool, unanswered: true };
    }
  }
}

export const base = (c: PlannedCase, s: CaseSettings) => ({
  id: c.id,
  backend: c.backend,
  services: c.services,
  endpoints: s.endpoints,
  target: s.target,
  path: c.path,
  workload: c.workload,
  repetition: c.repetition,
  connections: s.connections,
  startedAt: new Date().toISOString(),
});

/** Runs one case: checks the path really forwards to the right server, then drives the workload
 * through it, accounting CPU. Never throws for a measurement problem: the case is `errored`. */
export async function runCase(exec: Exec, env: BackendEnv, c: PlannedCase, w: Workload, s: CaseSettings): Promise<CaseResult> {
  const b = base(c, s);
  if (env.unusable) return { ...b, state: 'errored', reason: env.unusable };

  // Start every case from the same state: no conntrack entries left by the previous one, on any node.
  for (const t of env.targets) await exec.run({ netns: t.netns, argv: ['conntrack', '-F'], allowFailure: true });

  const checked = await checkPath(exec, env, c, s);
  if ('reason' in checked) return { ...b, state: 'errored', reason: checked.reason };
  if ('unanswered' in checked)
    return { ...b, state: 'skipped', reason: `${checked.unanswered} (checked; nothing to measure)`, ...seenField(checked.seen) };
  const load = await driveLoad(exec, env, c, w, s);
  // Nothing was measured when nothing ran: the case is skipped, not errored.
  return exec.observe(
    async () => {
      return withSeen(judgeLoad(b, w, load, checked.checkedBy), checked.seen);
    },
    { ...b, state: 'skipped', reason: 'dry run' },
  );
}

/** What the servers saw of the path check's connections, one per host: the peer address and the
 * routers crossed (64 minus the TTL the SYN arrived with; src/probe/serve.ts). */
export interface Seen {
  peer: string;
  hops: number | null;
  /** The address the client sent from (a pod's or the external client's; absent for the node,
   * whose source address the kernel picks per route). */
  client?: string;
  /** The address the client connected to (a pod IP, a ClusterIP, a node IP). */
  to?: string;
  /** The pod that answered. */
  by?: string;
}

const seenField = (seen: Seen[]): { seen?: Seen[] } => (seen.length > 0 ? { seen } : {});

/** A completed case with what the servers saw of its path check. */
export const withSeen = (r: CaseResult, seen: Seen[]): CaseResult => (r.state === 'completed' ? { ...r, ...seenField(seen) } : r);

const seenOf = (answers: ProbeResult[], client: string | undefined): Seen[] =>
  answers.flatMap((a) =>
    a.ok && a.peer !== undefined
      ? [
          {
            peer: a.peer,
            hops: a.ttl === undefined ? null : INITIAL_TTL - a.ttl,
            ...(client === undefined ? {} : { client }),
            to: a.target.replace(/:\d+$/, ''),
            ...(a.reply === undefined ? {} : { by: a.reply }),
          },
        ]
      : [],
  );

/** The one address a client namespace sends from: a pod's, or the external client's. */
function clientAddress(env: BackendEnv, netns: string): string | undefined {
  const { plan } = env.sandbox;
  if (netns === plan.external.netns) return plan.external.ip;
  return plan.pods.find((p) => p.netns === netns)?.ip;
}

/** One real request per host of the path to the ident port: the right server must answer each
 * (the pod path: every endpoint pod itself; a Service path: any endpoint). */
export async function checkPath(
  exec: Exec,
  env: BackendEnv,
  c: PlannedCase,
  s: CaseSettings,
): Promise<{ checkedBy: string; seen: Seen[] } | { unanswered: string; seen: Seen[] } | { reason: string }> {
  const ident = env.measured!.ports.find((p) => p.name === 'ident')!;
  const check = pathEndpoints(env, c.path, ident, s.endpoints);
  const endpointRoles = check.pool ?? endpointPods(env, s.endpoints).map((p) => p.role as string);
  const answers = await probe(
    exec,
    check.netns,
    check.hosts.map((h) => `${h}:${check.port}`),
    { timeoutMs: check.unanswered ? 1000 : answerWithin(3000) },
  );
  if (check.unanswered) {
    const answered = await exec.observe(async () => answers.find((a) => a.ok), undefined);
    if (answered) return { reason: `path ${c.path} must not be answered, but ${answered.target} was, by ${answered.reply}` };
    return {
      unanswered: `${c.path}: ${check.hosts.map((h) => `${h}:${check.port}`).join(', ')} not answered, as it must not be`,
      seen: [],
    };
  }
  const misrouted = await exec.observe(async () => wrongAnswer(check, answers, endpointRoles), undefined);
  if (misrouted !== undefined) return { reason: `path ${c.path} does not forward: ${misrouted}` };
  return { checkedBy: answers.map((a) => a.reply ?? '').join(','), seen: seenOf(answers, clientAddress(env, check.netns)) };
}

/** The first host of the path that the wrong server (or nobody) answered, described; undefined
 * when each was answered as expected. */
function wrongAnswer(check: PathTarget, answers: readonly ProbeResult[], endpointRoles: readonly string[]): string | undefined {
  for (const [i, host] of check.hosts.entries()) {
    const answer = answers[i];
    const expected = check.expect === undefined ? endpointRoles : [check.expect[i]!];
    if (answer?.ok && expected.includes(answer.reply ?? '')) continue;
    return `${host}:${check.port} ${answer?.ok ? `answered by ${answer.reply}, expected ${expected.join(' or ')}` : `failed (${answer?.error ?? 'no answer'})`}`;
  }
  return undefined;
}

/** The workload's client on a case's path: its namespace and argv, placed by pin.ts; with a
 * schedule (paired blocks) the client follows its windows instead of one warm-up and measured time. */
export function clientCommand(env: BackendEnv, c: PlannedCase, w: Workload, s: CaseSettings, schedule?: Schedule): Command {
  const port = env.measured!.ports.find((p) => p.name === w.name)!;
  const to = pathEndpoints(env, c.path, port, s.endpoints);
  return {
    netns: to.netns,
    argv: pinned(
      w,
      env.cpus,
      'client',
      w.clientArgv({
        hosts: to.hosts,
        port: to.port,
        durationMs: s.durationMs,
        warmupMs: s.warmupMs,
        connections: s.connections,
        messageSize: s.messageSize,
        ...(s.rate === undefined ? {} : { rate: s.rate }),
        ...(schedule === undefined ? {} : { schedule }),
      }),
    ),
  };
}

/** The load generator's run through the path and the CPU the machine and the servers spent meanwhile. */
export interface LoadRun {
  r: ExecResult;
  /** The machine's kernel and busy CPU seconds meanwhile (machineDelta). */
  machine: { kernelS: number; totalBusyS: number };
  serversS: number;
  /** A sampled case: the sampler's outcome and, per measured block, whether perf sampled it. */
  sampled?: { profile: ProfileOutcome; blocks: readonly boolean[] };
}

/** Drives the workload's client through the path, reading CPU counters before and after. */
async function driveLoad(exec: Exec, env: BackendEnv, c: PlannedCase, w: Workload, s: CaseSettings): Promise<LoadRun> {
  const serverPids = env.servers.map((x) => x.pid);
  const cpu0 = readMachineCpu();
  const srv0 = serverPids.reduce((a, p) => a + processCpuS(p), 0);
  if (s.sampling !== undefined) return driveSampled(exec, env, c, w, s, s.sampling, { cpu0, srv0 });
  const cmd = { ...clientCommand(env, c, w, s), timeoutMs: s.durationMs + s.warmupMs + 30_000, allowFailure: true };
  const r = await exec.run(cmd);
  const cpu1 = readMachineCpu();
  const srv1 = serverPids.reduce((a, p) => a + processCpuS(p), 0);
  return { r, machine: machineDelta(cpu0, cpu1), serversS: srv1 - srv0 };
}

/** Time from building a sampled case's schedule to its first measured block, at least: the client
 * (Node) starts in ≈0.1 s idle, more on a busy 2-vCPU machine, and perf reads its control fifo
 * once it has set up its buffers; the warm-up counts. */
const SAMPLED_LEAD_MS = 500;

/** A sampled case: the client follows a schedule (its warm-up, then the plan's blocks back to
 * back, each reported on its own), and perf, started disabled, is enabled over the sampled blocks
 * only (src/profile/README.md): each pair of blocks, a second apart, gives the sampler's overhead
 * and the sampled blocks the attribution. */
async function driveSampled(
  exec: Exec,
  env: BackendEnv,
  c: PlannedCase,
  w: Workload,
  s: CaseSettings,
  { sampler, plan }: { sampler: Sampler; plan: SamplingPlan },
  { cpu0, srv0 }: { cpu0: ReturnType<typeof readMachineCpu>; srv0: number },
): Promise<LoadRun> {
  const serverPids = env.servers.map((x) => x.pid);
  const leadMs = Math.max(0, SAMPLED_LEAD_MS - s.warmupMs);
  const warmupMs = Math.round(s.warmupMs);
  const blockMs = Math.round(plan.blockMs);
  const windows = [
    ...(warmupMs > 0 ? [{ kind: 'warmup' as const, startMs: 0, durationMs: warmupMs }] : []),
    ...plan.sampled.map((_, i) => ({ kind: 'measure' as const, startMs: warmupMs + i * blockMs, durationMs: blockMs })),
  ];
  const totalMs = warmupMs + plan.sampled.length * blockMs;
  const epochMs = Date.now() + leadMs;
  const cmd = {
    ...clientCommand(env, c, w, s, { epochMs, windows }),
    timeoutMs: leadMs + totalMs + 30_000,
    allowFailure: true,
  };
  const client = exec.start(cmd);
  // perf gets the client's pid and the servers'; it runs a little past the last block's end,
  // where it is disabled.
  const sampling = await sampler.start([...serverPids, client.pid], epochMs + totalMs + 100 - Date.now());
  const timers = toggleTimers(sampling, plan.sampled, { epochMs, firstMs: warmupMs, blockMs });
  let r: ExecResult;
  try {
    r = await exitedWithin(client, cmd.timeoutMs);
  } finally {
    for (const t of timers) clearTimeout(t);
    sampling.disable();
  }
  const cpu1 = readMachineCpu();
  const srv1 = serverPids.reduce((a, p) => a + processCpuS(p), 0);
  // After the CPU counters: reading the recording back is not the case's CPU.
  const profile = await sampling.finish();
  return { r, machine: machineDelta(cpu0, cpu1), serversS: srv1 - srv0, sampled: { profile, blocks: plan.sampled } };
}

/** Timers on the client's wall clock that enable the sampler as each run of consecutive sampled
 * blocks opens and disable it as the run closes (one timer each: two at the same moment could
 * fire in either order). */
function toggleTimers(sampling: Sampling, sampled: readonly boolean[], at: { epochMs: number; firstMs: number; blockMs: number }) {
  const timers: ReturnType<typeof setTimeout>[] = [];
  const atBlock = (i: number) => at.epochMs + at.firstMs + i * at.blockMs - Date.now();
  for (let i = 0; i < sampled.length; i++) {
    if (!sampled[i] || sampled[i - 1] === true) continue;
    let end = i + 1;
    while (sampled[end] === true) end++;
    timers.push(setTimeout(() => sampling.enable(), atBlock(i)));
    timers.push(setTimeout(() => sampling.disable(), atBlock(end)));
  }
  return timers;
}

/** A started process's result, stopped (SIGTERM, then SIGKILL) after `timeoutMs`. */
async function exitedWithin(p: Started, timeoutMs: number): Promise<ExecResult> {
  const timer = setTimeout(() => void p.stop(), timeoutMs);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** The case's result from the load generator's output: errored when it failed, did nothing, or
 * more than 1% of its operations failed. */
export function judgeLoad(
  b: ReturnType<typeof base>,
  w: Workload,
  { r, machine: m, serversS, sampled }: LoadRun,
  checkedBy: string,
): CaseResult {
  if (r.exitCode !== 0)
    return {
      ...b,
      state: 'errored',
      reason: `load generator exited with ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
    };
  let result;
  try {
    result = w.parseResult(r.stdout);
  } catch (e) {
    return { ...b, state: 'errored', reason: `load generator output: ${(e as Error).message}` };
  }
  const failures = result.errors + result.timeouts;
  if (result.ops === 0)
    return { ...b, state: 'errored', reason: `no ${w.opUnit} completed (${result.errors} errors, ${result.timeouts} timeouts)`, result };
  // More than 1% failed operations: the number would describe failures, not the path.
  if (failures > 0.01 * (result.ops + failures))
    return {
      ...b,
      state: 'errored',
      reason: `${failures} of ${result.ops + failures} ${w.opUnit} failed (${result.errors} errors, ${result.timeouts} timeouts) — above 1%`,
      result,
    };
  return {
    ...b,
    state: 'completed',
    checkedBy,
    cpu: {
      loadGeneratorS: (result.cpuUs.user + result.cpuUs.system) / 1e6,
      serversS,
      kernelS: m.kernelS,
      totalBusyS: m.totalBusyS,
    },
    ...profileFields(result, sampled),
  };
}

/** A sampled case's blocks go to its profile, each with whether perf sampled it (the attribution
 * divides by the sampled blocks' operations, the overhead compares the two kinds); the result's
 * own blocks mean paired path blocks (paired.ts), which these are not. */
function profileFields(
  result: WorkloadResult,
  s: LoadRun['sampled'],
): { result: WorkloadResult; profile?: CaseProfileJson; profileError?: string } {
  if (s === undefined) return { result };
  const { profile, blocks: sampled } = s;
  const { blocks = [], ...whole } = result;
  if (!profile.ok) return { result: whole, profileError: profile.reason };
  if (blocks.length !== sampled.length)
    return { result: whole, profileError: `the load generator reported ${blocks.length} blocks, ${sampled.length} were planned` };
  const profiled = blocks.map((b, i) => ({ sampled: sampled[i]!, plannedMs: b.plannedMs, durationMs: b.durationMs, ops: b.ops }));
  return { result: whole, profile: { ...profile.profile, blocks: profiled } };
}
