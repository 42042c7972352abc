import type { Backend, BackendOptions } from '../../backends/types.js';
import { sandboxSchema, type Placement } from '../config/sandbox.js';
import type { Exec } from '../exec/index.js';
import { allocate } from '../model/generate.js';
import type { ClusterState, Service } from '../model/types.js';
import { probeTogether, SERVE_SCRIPT, waitListening } from '../probe/client.js';
import { closeSandbox, nodeTargets, openSandbox, type Sandbox } from '../sandbox/session.js';
import { processStartTime } from '../sandbox/state.js';
import { exceededText, syncNodes, type SyncRecord } from '../sync.js';
import { affinityCheck, answeredBy, check, notAnswered, reaches, spreadCheck, type CheckResult } from './checks.js';
import { crossNodeChecks } from './cross-node.js';
import { NS, SERVER_PODS, SERVER_PORT, UDP_PORT, verifyServices } from './services.js';

export interface VerifyReport {
  backend: string;
  options: BackendOptions;
  services: number;
  syncs: (SyncRecord & { step: string })[];
  checks: CheckResult[];
  passed: boolean;
}

interface Ctx {
  exec: Exec;
  say: (line: string) => void;
  check: () => void;
}

/** `bench verify`: builds a sandbox, installs the conformance services (plus fillers up to
 * `services`) with the backend, and proves over real connections that they forward as Kubernetes
 * Services must. Everything is torn down afterwards, whatever happens. */
export async function verify(
  ctx: Ctx,
  backend: Backend,
  options: BackendOptions,
  services: number,
  cluster: { nodes: number; placement: Placement } = { nodes: 1, placement: 'spread' },
): Promise<VerifyReport> {
  const cfg = sandboxSchema.parse({ pods: SERVER_PODS, clients: 1, ...cluster });
  const sb = await openSandbox(ctx.exec, cfg, { command: `verify --backend ${backend.name}`, check: ctx.check });
  try {
    return await verifyIn(ctx, sb, backend, options, services);
  } finally {
    await closeSandbox(ctx.exec, sb);
  }
}

async function verifyIn(ctx: Ctx, sb: Sandbox, backend: Backend, options: BackendOptions, total: number): Promise<VerifyReport> {
  await startServers(ctx, sb);
  const v = verifying(ctx, sb, backend, options, total);
  const report = (passed: boolean): VerifyReport => ({
    backend: backend.name,
    options,
    services: total,
    syncs: v.syncs,
    checks: v.checks,
    passed,
  });

  // Full sync, then read back outside the timed region.
  const full = await syncNodes(backend, v.targets, undefined, v.state);
  v.syncs.push({ step: `full sync (${total} services)`, ...full.record });
  ctx.say(`full sync of ${total} services: ${fmtSync(full.record)}`);
  if (full.record.exceeded) {
    v.checks.push(check('full sync within budget', false, `${exceededText(full.record.exceeded)} (--sync-timeout)`));
    return report(false);
  }
  await v.readBack('full sync', full);
  ctx.check();

  await forwardingChecks(v);
  ctx.check();
  v.checks.push(...(await crossNodeChecks(v)));
  ctx.check();
  await partialSyncChecks(v);
  ctx.check();

  const { byRole, vip, nodePort, three } = v;
  v.checks.push(
    ...(await filterAfterRewrite(v.exec, v.node, v.client, {
      podIp: `${byRole('srv-3').ip}:${SERVER_PORT}`,
      clientIp: byRole('cli-0').ip,
      serverIp: byRole('srv-3').ip,
      vip: vip('solo'),
      nodePort: nodePort('solo'),
      control: vip('web'),
      three,
    })),
  );

  for (const t of v.targets) await backend.teardown(t);
  return report(v.checks.every((c) => c.pass));
}

/** Conformance servers: each answers with its pod's name over TCP and UDP. Pod-side processes
 * join the run's cgroup (src/sandbox/run-cgroup.ts). */
async function startServers(ctx: Ctx, sb: Sandbox): Promise<void> {
  const { exec, plan } = sb;
  const client = plan.pods.find((p) => p.kind === 'client')!.netns;
  const servers = plan.pods
    .filter((p) => p.kind === 'server')
    .map((p) =>
      exec.start({
        netns: p.netns,
        argv: [process.execPath, SERVE_SCRIPT, '--name', p.role, '--tcp', String(SERVER_PORT), '--udp', String(UDP_PORT)],
      }),
    );
  await sb.state?.record(servers.map((s) => ({ kind: 'process', pid: s.pid, startTime: processStartTime(s.pid) ?? '' })));
  await waitListening(
    exec,
    client,
    plan.pods.filter((p) => p.kind === 'server').map((p) => `${p.ip}:${SERVER_PORT}`),
  );
  ctx.check();
}

/** One verification's sandbox, services and what it has found so far, with the helpers its steps share. */
export type Verifying = ReturnType<typeof verifying>;

function verifying(ctx: Ctx, sb: Sandbox, backend: Backend, options: BackendOptions, total: number) {
  const { exec, plan } = sb;
  const targets = nodeTargets(ctx.exec, sb, options);
  const target = targets[0]!;
  const { specs, ip } = verifyServices(plan, total);
  const { state, withoutNodePort } = allocate(specs, plan.serviceCidr);
  if (withoutNodePort.length > 0)
    ctx.say(`${withoutNodePort.length} NodePort services got no node port (range exhausted): ${withoutNodePort.slice(0, 5).join(', ')}…`);
  const svc = (name: string): Service => state.services.find((s) => s.namespace === NS && s.name === name)!;
  const syncs: VerifyReport['syncs'] = [];
  const checks: CheckResult[] = [];
  // Every node's installed state must equal what was rendered for it.
  const readBack = async (step: string, synced: Awaited<ReturnType<typeof syncNodes>>) => {
    const diffs: string[] = [];
    for (const [i, { target: t, rendered }] of [{ target, rendered: synced.rendered }, ...synced.others].entries())
      diffs.push(...(await exec.observe(() => backend.readBack(t, rendered), [])).map((d) => (targets.length > 1 ? `node ${i}: ${d}` : d)));
    checks.push(
      check(
        `read-back after ${step}`,
        diffs.length === 0,
        diffs.length === 0 ? 'installed state equals the desired state' : `${diffs.length} differences: ${diffs.slice(0, 5).join('; ')}`,
      ),
    );
  };
  return {
    ctx,
    exec,
    plan,
    backend,
    target,
    targets,
    state,
    ip,
    syncs,
    checks,
    readBack,
    svc,
    node: plan.node.netns,
    client: plan.pods.find((p) => p.kind === 'client')!.netns,
    byRole: (role: string) => plan.pods.find((p) => p.role === role)!,
    vip: (name: string) => `${svc(name).clusterIP}:80`,
    nodePort: (name: string) => `${plan.node.ip}:${svc(name).ports[0]!.nodePort}`,
    three: ['srv-0', 'srv-1', 'srv-2'],
  };
}

/** After the full sync: every path of a Service reaches the right pods. The checks make
 * independent connections (each its own service or namespace), so they run together. */
async function forwardingChecks(v: Verifying): Promise<void> {
  const { exec, client, node, plan, checks, vip, nodePort, svc, byRole, three } = v;
  checks.push(
    ...(await probeTogether(exec, (probe) => [
      answeredBy(probe, 'ClusterIP from a pod', client, vip('web'), three),
      answeredBy(probe, 'ClusterIP from the node', node, vip('web'), three),
      answeredBy(probe, 'hairpin: a pod reaches its own service', byRole('srv-3').netns, vip('solo'), ['srv-3']),
      answeredBy(probe, 'NodePort from the external namespace', plan.external.netns, nodePort('web'), three),
      answeredBy(probe, 'NodePort from a pod', client, nodePort('web'), three),
      answeredBy(probe, 'UDP through ClusterIP', client, `${svc('dns').clusterIP}:53`, three, true),
      spreadCheck(probe, client, vip('web'), three),
      affinityCheck(probe, client, vip('sticky')),
      answeredBy(probe, 'service to be deleted answers before', client, vip('doomed'), ['srv-0']),
    ])),
  );
}

/** Partial sync: delete one service, add an endpoint to another; both changes must show in traffic. */
async function partialSyncChecks(v: Verifying): Promise<void> {
  const { ctx, exec, state, ip, client, checks, svc, vip } = v;
  const next: ClusterState = {
    services: state.services.filter((s) => s !== svc('doomed')),
    endpoints: { ...state.endpoints, [`${NS}/grow`]: [...state.endpoints[`${NS}/grow`]!, { ip: ip('srv-3'), local: true }] },
  };
  delete next.endpoints[`${NS}/doomed`];
  const partial = await syncNodes(v.backend, v.targets, state, next);
  v.syncs.push({ step: 'partial sync (delete a service, add an endpoint)', ...partial.record });
  ctx.say(`partial sync: ${fmtSync(partial.record)}`);
  await v.readBack('partial sync', partial);
  // kube-proxy clears conntrack entries of deleted services; flushing the nodes' tables does that.
  for (const t of v.targets) await exec.run({ netns: t.netns, argv: ['conntrack', '-F'], allowFailure: true });
  // Two independent reads of the same synced state, run at once: the first waits out its probe's
  // timeout, the second needs no wait.
  checks.push(
    ...(await probeTogether(exec, (probe) => [
      notAnswered(probe, "a deleted service's VIP no longer answers", client, vip('doomed')),
      reaches(probe, 'an endpoint added by a partial sync receives traffic', client, vip('grow'), 'srv-3'),
    ])),
  );
}

/** A filter rule dropping client-pod → server-pod-IP traffic also blocks that server's ClusterIP
 * and NodePort paths: Services rewrite the destination (DNAT in prerouting/output, or at connect()
 * for socket-level LB) before any filter hook sees the packet. The rule lives in a table of its own
 * in the node namespace, whatever the backend, and is removed afterwards. It sits in the output
 * hook too: IPVS rewrites in local-in and sends the packet on through local-out, never through
 * forward (net/netfilter/ipvs/ip_vs_xmit.c, ip_vs_nat_send_or_cont), which is where policy
 * engines filter it in IPVS mode; forwarded pod traffic never passes output. */
async function filterAfterRewrite(
  exec: Exec,
  node: string,
  client: string,
  t: { podIp: string; clientIp: string; serverIp: string; vip: string; nodePort: string; control: string; three: string[] },
): Promise<CheckResult[]> {
  const table = 'svcbench-filter';
  const drop = `ip saddr ${t.clientIp} ip daddr ${t.serverIp} drop`;
  const rules = `table ip ${table} {\n chain forward {\n  type filter hook forward priority -50; policy accept;\n  ${drop}\n }\n chain output {\n  type filter hook output priority -50; policy accept;\n  ${drop}\n }\n}\n`;
  await exec.run({ netns: node, argv: ['nft', '-f', '-'], stdin: rules });
  try {
    await exec.run({ netns: node, argv: ['conntrack', '-F'], allowFailure: true });
    // Four independent connections under the same rule, started at once: three of them must wait
    // out their probe's timeout, and they need not wait for each other.
    const parts = await probeTogether(exec, (probe) => [
      notAnswered(probe, 'filter: pod IP blocked', client, t.podIp),
      notAnswered(probe, 'filter: also blocks the ClusterIP path', client, t.vip),
      notAnswered(probe, 'filter: also blocks the NodePort path', client, t.nodePort),
      answeredBy(probe, 'filter: other services unaffected', client, t.control, t.three),
    ]);
    return [
      check(
        'a filter on the pod IP also blocks its ClusterIP and NodePort',
        parts.every((c) => c.pass),
        parts.map((c) => `${c.pass ? 'ok' : 'FAIL'} ${c.name.replace('filter: ', '')}: ${c.detail}`).join('; '),
      ),
    ];
  } finally {
    await exec.run({ netns: node, argv: ['nft', 'delete', 'table', 'ip', table], allowFailure: true });
  }
}

export const fmtSync = (r: SyncRecord): string =>
  `${r.totalMs.toFixed(0)} ms (render ${r.renderMs.toFixed(0)} ms, apply ${r.applyMs.toFixed(0)} ms; ${r.size.count} ${r.size.unit}, ${r.commands} commands)${r.exceeded ? ' BUDGET EXCEEDED' : ''}`;
