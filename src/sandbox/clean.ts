import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Exec } from '../exec/index.js';
import { parseNetnsName } from './names.js';
import { removeObjects } from './sandbox.js';
import { leftoverRunPaths } from './run-cgroup.js';
import { isAlive, processStartTime, StateFile, tempFileWriter, type RunState, type StateObject } from './state.js';

export interface CleanEntry {
  runId: string;
  source: 'state file' | 'name prefix';
  processes: number;
  namespaces: string[];
  cgroups: string[];
  mounts: string[];
  files: string[];
}

export interface CleanReport {
  removed: CleanEntry[];
  /** Runs left alone because their owner process is still running. */
  inUse: { runId: string; pid: number; command: string }[];
}

/** Our namespaces that exist now, grouped by run id (found by name prefix alone). */
export function sandboxNamespaces(): Map<string, string[]> {
  const byRun = new Map<string, string[]>();
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns');
  } catch {
    // no namespaces at all
  }
  for (const name of names) {
    const parsed = parseNetnsName(name);
    if (parsed) byRun.set(parsed.runId, [...(byRun.get(parsed.runId) ?? []), name]);
  }
  return byRun;
}

const ownerRunning = (s: RunState): boolean => s.owner.pid !== process.pid && isAlive(s.owner);

/** Removes what runs left behind: every run whose owner is gone (killed runs, and sandboxes kept by
 * `bench up`), from its state file first and then by name prefix for anything no file names.
 * Runs whose owner is alive are left alone. Idempotent. */
export async function clean(exec: Exec, opts: { only?: string } = {}): Promise<CleanReport> {
  const report: CleanReport = { removed: [], inUse: [] };
  const protectedRuns = new Set<string>();
  for (const entry of await StateFile.readAll()) {
    if (!entry.state) {
      // A state file being written right now by a live run: removing it would make that run's
      // rename fail, and its run is that writer's to tear down.
      const writer = tempFileWriter(basename(entry.path));
      if (writer && writer.pid !== process.pid && processStartTime(writer.pid) !== undefined) {
        protectedRuns.add(writer.runId);
        continue;
      }
      // A half-written file of a dead writer, or a foreign one: the name-prefix pass below finds
      // its namespaces.
      if (opts.only === undefined) await removeStateFile(exec, entry.path);
      continue;
    }
    const s = entry.state;
    if (opts.only !== undefined && s.runId !== opts.only) {
      protectedRuns.add(s.runId);
      continue;
    }
    if (ownerRunning(s)) {
      report.inUse.push({ runId: s.runId, pid: s.owner.pid, command: s.command });
      protectedRuns.add(s.runId);
      continue;
    }
    const r = await removeObjects(exec, s.objects);
    await removeStateFile(exec, entry.path);
    report.removed.push({ runId: s.runId, source: 'state file', ...r });
  }
  const namespacesByRun = sandboxNamespaces();
  const pathsByRun = leftoverRunPaths();
  for (const runId of new Set([...namespacesByRun.keys(), ...pathsByRun.keys()])) {
    if (protectedRuns.has(runId) || (opts.only !== undefined && runId !== opts.only)) continue;
    const paths = pathsByRun.get(runId);
    const r = await removeObjects(exec, [
      ...(namespacesByRun.get(runId) ?? []).map((name): StateObject => ({ kind: 'netns', name })),
      ...(paths?.cgroups ?? []).map((path): StateObject => ({ kind: 'cgroup', path })),
      ...(paths?.mounts ?? []).map((path): StateObject => ({ kind: 'mount', path })),
    ]);
    if (r.namespaces.length + r.cgroups.length + r.mounts.length === 0) continue;
    const prior = report.removed.find((e) => e.runId === runId);
    if (prior) {
      prior.namespaces.push(...r.namespaces);
      prior.cgroups.push(...r.cgroups);
      prior.mounts.push(...r.mounts);
    } else report.removed.push({ runId, source: 'name prefix', ...r });
  }
  return report;
}

/** In a dry run the removal is printed, not done (as removeObjects' printRemoval). */
async function removeStateFile(exec: Exec, path: string): Promise<void> {
  await exec.alter(
    () => rm(path, { force: true }),
    async () => void (await exec.run({ argv: ['rm', '-f', path], allowFailure: true })),
  );
}

/** Sandboxes that exist now (kept by `bench up` or belonging to live runs), newest first. */
export async function listSandboxes(): Promise<{ runId: string; state?: RunState; namespaces: string[] }[]> {
  const byRun = sandboxNamespaces();
  // A state file that names no namespace and was not kept by bench up is no sandbox: a
  // command's own record (command-record.ts: results' temporary file, perf's directories) or a
  // guest job's.
  const isSandbox = (s: RunState): boolean => s.keep || s.objects.some((o) => o.kind === 'netns');
  const states = (await StateFile.readAll()).flatMap((e) => (e.state && isSandbox(e.state) ? [e.state] : []));
  const ids = new Set([...byRun.keys(), ...states.map((s) => s.runId)]);
  return [...ids]
    .map((runId) => {
      const state = states.find((s) => s.runId === runId);
      return { runId, namespaces: byRun.get(runId) ?? [], ...(state ? { state } : {}) };
    })
    .sort((a, b) => (b.state?.createdAt ?? '').localeCompare(a.state?.createdAt ?? ''));
}
