import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import { CommandError, type Exec } from '../exec/index.js';
import { killAll, pidsInCgroups, pidsInNetns, pidsNaming, withDescendants } from './procs.js';
import { removeCgroup, removeMount } from './run-cgroup.js';
import {
  planNamespaces,
  renderExternalBatch,
  renderNodeBatch,
  renderPodBatch,
  renderUnderlayBatch,
  sysctlsFor,
  type TopologyPlan,
} from './plan.js';
import { isAlive, type Recorder, type StateObject } from './state.js';

// Namespaces are configured in parallel: each needs its own `ip -n` and sysctl process, and on two
// cores eight in flight keeps both busy while processes start.
const CONCURRENCY = 8;

/** Builds the topology with few processes: one `ip -batch` for the namespaces, one for the node
 * (all veths, routes), then one `ip -n` batch and one sysctl per other namespace, in parallel.
 * `step` is called between steps; it throws to abandon the build (SIGINT), leaving teardown to the
 * caller, which finds everything in the recorder. */
export async function buildTopology(exec: Exec, plan: TopologyPlan, recorder: Recorder, step: () => void = () => {}): Promise<void> {
  const namespaces = planNamespaces(plan);
  await recorder.record(namespaces.map((name) => ({ kind: 'netns', name })));
  step();
  await exec.run({ argv: ['ip', '-batch', '-'], stdin: namespaces.map((n) => `netns add ${n}\n`).join('') });
  step();
  const limit = pLimit(CONCURRENCY);
  // sysctls before links: the node's veths inherit conf/default (proxy_arp, rp_filter) at creation.
  await settleAll(
    // The underlay holds only a bridge: it needs no sysctl.
    namespaces
      .filter((ns) => Object.keys(sysctlsFor(plan, ns)).length > 0)
      .map((ns) =>
        limit(() => {
          step();
          const settings = Object.entries(sysctlsFor(plan, ns)).map(([k, v]) => `${k}=${v}`);
          return exec.run({ netns: ns, argv: ['sysctl', '-q', '-w', ...settings] });
        }),
      ),
  );
  step();
  // More than one node: the underlay first, since it creates each node's ext0.
  if (plan.underlay) await exec.run({ argv: ['ip', '-n', plan.underlay.netns, '-batch', '-'], stdin: renderUnderlayBatch(plan) });
  step();
  await settleAll(
    plan.nodes.map((node) => limit(() => exec.run({ argv: ['ip', '-n', node.netns, '-batch', '-'], stdin: renderNodeBatch(plan, node) }))),
  );
  step();
  const rest = [
    { netns: plan.external.netns, batch: renderExternalBatch(plan) },
    ...plan.pods.map((p) => ({ netns: p.netns, batch: renderPodBatch(plan, p) })),
  ];
  await settleAll(
    rest.map(({ netns, batch }) =>
      limit(() => {
        step();
        return exec.run({ argv: ['ip', '-n', netns, '-batch', '-'], stdin: batch });
      }),
    ),
  );
}

/** Like Promise.all, but waits for every command to finish before rethrowing the first failure,
 * so teardown never races a command still configuring a namespace. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface Removed {
  processes: number;
  namespaces: string[];
  cgroups: string[];
  mounts: string[];
  files: string[];
}

/** Removes recorded objects that still exist, in dependency order: processes (they keep a namespace
 * or a cgroup alive), namespaces (deleting one deletes its veths, and the veth's peer with it, and
 * the tc programs on them), cgroups (their BPF programs go with them), bpffs mounts (their pins go
 * with them), files. Idempotent: objects already gone are skipped silently. */
export async function removeObjects(exec: Exec, objects: readonly StateObject[]): Promise<Removed> {
  const namespaces = objects.flatMap((o) => (o.kind === 'netns' && existsSync(`/run/netns/${o.name}`) ? [o.name] : []));
  const recorded = objects.flatMap((o) => (o.kind === 'process' && isAlive(o) ? [o.pid] : []));
  const cgroups = objects.flatMap((o) => (o.kind === 'cgroup' ? [o.path] : []));
  const files = objects.flatMap((o) => (o.kind === 'file' ? [o.path] : []));
  const pids = withDescendants([...new Set([...recorded, ...pidsInNetns(namespaces), ...pidsInCgroups(cgroups), ...pidsNaming(files)])]);
  // A dry run prints the removal (printRemoval) instead of doing it.
  return exec.alter(
    () => removeFound(outlivingInterrupt(exec), objects, pids, namespaces, cgroups),
    () => printRemoval(exec, objects, pids, namespaces, cgroups),
  );
}

/** The removal outlives a Ctrl-C that lands during it: the terminal sends SIGINT to the whole
 * process group, so the `ip netns del` batch running at that moment dies of it while bench itself
 * goes on tearing down. A command of the removal that a signal ended runs once more. */
export function outlivingInterrupt(exec: Exec): Exec {
  const killed = (e: unknown) => e instanceof CommandError && (e.cause as { signal?: string } | undefined)?.signal !== undefined;
  return {
    run: (cmd) => exec.run(cmd).catch((e: unknown) => (killed(e) ? exec.run(cmd) : Promise.reject(e))),
    start: (cmd) => exec.start(cmd),
    observe: (read, asMade) => exec.observe(read, asMade),
    alter: (change, instead) => exec.alter(change, instead),
  };
}

async function removeFound(
  exec: Exec,
  objects: readonly StateObject[],
  pids: number[],
  namespaces: string[],
  cgroups: string[],
): Promise<Removed> {
  const processes = killAll(pids);
  await waitGone(pids, 2000);
  if (namespaces.length > 0) {
    // -force: keep going past a namespace another cleaner removed meanwhile.
    await exec.run({
      argv: ['ip', '-force', '-batch', '-'],
      stdin: namespaces.map((n) => `netns del ${n}\n`).join(''),
      allowFailure: true,
    });
  }
  const removedCgroups: string[] = [];
  for (const path of cgroups) if (await removeCgroup(path).catch(() => false)) removedCgroups.push(path);
  const mounts: string[] = [];
  for (const o of objects) if (o.kind === 'mount' && (await removeMount(exec, o.path))) mounts.push(o.path);
  const files: string[] = [];
  for (const o of objects) {
    if (o.kind === 'file' && existsSync(o.path)) {
      await rm(o.path, { recursive: true, force: true });
      files.push(o.path);
    }
  }
  return { processes, namespaces, cgroups: removedCgroups, mounts, files };
}

/** --dry-run: the removal as commands through the printing exec, and nothing touched. Killing,
 * rmdir and rm are direct system calls in removeObjects, which a printing exec would not stop: in a
 * dry run they would remove other runs' processes, cgroups and files. */
async function printRemoval(
  exec: Exec,
  objects: readonly StateObject[],
  pids: number[],
  namespaces: string[],
  cgroups: string[],
): Promise<Removed> {
  const mounts = objects.flatMap((o) => (o.kind === 'mount' && existsSync(o.path) ? [o.path] : []));
  const files = objects.flatMap((o) => (o.kind === 'file' && existsSync(o.path) ? [o.path] : []));
  const existing = cgroups.filter((c) => existsSync(c));
  if (pids.length > 0) await exec.run({ argv: ['kill', '-KILL', ...pids.map(String)], allowFailure: true });
  if (namespaces.length > 0)
    await exec.run({
      argv: ['ip', '-force', '-batch', '-'],
      stdin: namespaces.map((n) => `netns del ${n}\n`).join(''),
      allowFailure: true,
    });
  for (const path of existing) await exec.run({ argv: ['rmdir', path], allowFailure: true });
  for (const path of mounts) await exec.run({ argv: ['umount', path], allowFailure: true });
  for (const path of files) await exec.run({ argv: ['rm', '-rf', path], allowFailure: true });
  return { processes: pids.length, namespaces, cgroups: existing, mounts, files };
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = () => pids.filter((p) => existsSync(`/proc/${p}`) && !isZombie(p));
  while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

// A killed child stays a zombie until its parent reaps it; it no longer holds its namespace.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
