import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { RealExec, type Exec } from '../src/exec/index.js';
import { probe as probeIn, SERVE_SCRIPT, waitListening as waitListeningIn } from '../src/probe/client.js';
import type { ProbeResult } from '../src/probe/connect.js';
import { BENCH, bench, requireBuild } from './built.js';
import { ownedElsewhere, runIdOfFile, stateFilesAll, withoutOthers } from './owners.js';
import { rootSnapshot } from './root-snapshot.js';
import { afterAll, beforeAll, expect } from 'vitest';

// Shared by the e2e tier: run the built CLI as a user would, look at the root namespace, and
// probe real connections inside sandboxes.

export { BENCH, bench, requireBuild };
export const isRoot = process.getuid?.() === 0;

export const exec: Exec = new RealExec();

/** Namespaces of ours (by prefix), optionally of one run; without a run id, those of runs another
 * test file's live process owns are left out. */
export function ourNamespaces(runId?: string): string[] {
  const list = () => (existsSync('/run/netns') ? readdirSync('/run/netns') : []);
  if (runId !== undefined)
    return list()
      .filter((n) => n.startsWith(`svcb-${runId}-`))
      .sort();
  return withoutOthers(list, (n) => n.split('-')[1]!).filter((n) => n.startsWith('svcb-'));
}

/** State files, less those of runs another test file's live process owns. */
export function stateFiles(): string[] {
  return withoutOthers(stateFilesAll, runIdOfFile);
}

/** Processes whose command line names a run (sysctl, ip, nsenter, socat left running), less
 * another test file's (ownedElsewhere). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      // (still there after the walk: one that exited meanwhile is nobody's leak)
      if (cmdline.includes(text) && !ownedElsewhere(Number(p)) && existsSync(`/proc/${p}`)) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids;
}

export { rootSnapshot };

/** The guard of an e2e suite that builds sandboxes (call it inside the describe): before its tests
 * the build is there and the root namespace is snapshotted; after them no svcb- namespace (with
 * `stateFiles`, no state file either) is left and the root namespace is exactly as it was. */
export function leavesNothingBehind(opts: { stateFiles?: boolean } = {}): void {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    before = await rootSnapshot();
  });
  afterAll(async () => {
    expect(ourNamespaces()).toEqual([]);
    if (opts.stateFiles) expect(stateFiles()).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
  });
}

/** A socat server per namespace that answers every connection with `reply`. */
export function startReplyServers(servers: { netns: string; reply: string; port: number; udp?: boolean }[]) {
  return servers.map(({ netns, reply, port, udp }) =>
    exec.start({
      netns,
      argv: [
        'socat',
        ...(udp ? [] : ['-U']),
        udp ? `UDP4-RECVFROM:${port},reuseaddr,fork` : `TCP4-LISTEN:${port},reuseaddr,fork,backlog=1024`,
        `EXEC:/bin/echo ${reply}`,
      ],
    }),
  );
}

/** svcbench's own ident servers (dist/src/probe/serve.js): each answers "NAME PEER TTL". */
export function startIdentServers(servers: { netns: string; name: string; port: number }[]) {
  return servers.map(({ netns, name, port }) =>
    exec.start({
      netns,
      argv: [process.execPath, SERVE_SCRIPT, '--name', name, '--tcp', String(port), '--report'],
    }),
  );
}

export async function probe(netns: string, targets: string[], opts: { timeoutMs?: number; udp?: boolean } = {}): Promise<ProbeResult[]> {
  return probeIn(exec, netns, targets, opts);
}

/** Waits until every target accepts connections (servers take a moment to bind). */
export async function waitListening(netns: string, targets: string[], timeoutMs = 5000): Promise<void> {
  await waitListeningIn(exec, netns, targets, timeoutMs);
}

/** A backend's preflight verdict on this machine, as `bench doctor --json` gives it: tests that
 * involve a backend the kernel may or may not support (IPVS) assert what this verdict implies. */
export interface Verdict {
  state: 'ready' | 'unavailable';
  reason?: string;
  fix?: string;
}

const verdicts = new Map<string, Verdict>();

export async function preflightVerdict(backend: string): Promise<Verdict> {
  if (verdicts.size === 0) {
    const r = await bench(['doctor', '--json']);
    if (r.exitCode !== 0) throw new Error(`bench doctor --json exited with ${r.exitCode}:\n${r.stderr}`);
    for (const b of (JSON.parse(r.stdout) as { backends: { name: string; preflight: Verdict }[] }).backends)
      verdicts.set(b.name, b.preflight);
  }
  const v = verdicts.get(backend);
  if (v === undefined) throw new Error(`bench doctor reported no backend ${backend}`);
  return v;
}
