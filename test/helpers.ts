import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { RealExec, type Exec } from '../src/exec/index.js';
import { isAlive, processStartTime, STATE_DIR, tempFileWriter } from '../src/sandbox/state.js';
import type { ProbeResult } from '../src/probe/connect.js';
import { rootSnapshot } from './root-snapshot.js';
import { afterAll, beforeAll, expect } from 'vitest';

// Shared by the e2e tier: run the built CLI as a user would, look at the root namespace, and
// probe real connections inside sandboxes.

export const BENCH = resolve('dist/bench.mjs');
export const PROBE = resolve('dist/src/probe/connect.js');
export const isRoot = process.getuid?.() === 0;

export function requireBuild(): void {
  if (!existsSync(BENCH) || !existsSync(PROBE)) throw new Error('dist/ is missing: run `npm run build` (scripts/test does)');
}

export async function bench(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}) {
  const r = await execa(process.execPath, [BENCH, ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stdin: 'ignore',
    cwd: opts.cwd,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export const exec: Exec = new RealExec();

/** The parent of `pid` (field 4 of /proc/PID/stat), or undefined once it has gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether live process `pid` belongs to another test file: the e2e project runs two files at once,
 * each in its own fork of the vitest process (vitest.config.ts), and the unit files run in that
 * process's threads. So a process whose ancestry reaches the vitest process without passing through
 * this fork is another file's; one under this fork is ours, and so is an orphan (reparented to
 * init: a leak, whoever made it). Objects such a process owns are left out of the checks below,
 * which in a file run alone see everything, as before. */
export function ownedElsewhere(pid: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf(p), hops++) {
    if (p === process.pid) return false;
    if (p === process.ppid) return true;
  }
  return false;
}

/** Run ids whose state file (or the temporary file being written) names a live owner that is
 * another test file's process (ownedElsewhere). */
function othersRuns(): Set<string> {
  const ids = new Set<string>();
  for (const name of stateFilesAll()) {
    const writer = tempFileWriter(name);
    if (writer !== undefined) {
      if (processStartTime(writer.pid) !== undefined && ownedElsewhere(writer.pid)) ids.add(writer.runId);
      continue;
    }
    try {
      const s = JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as { runId: string; owner: { pid: number; startTime: string } };
      if (isAlive(s.owner) && ownedElsewhere(s.owner.pid)) ids.add(s.runId);
    } catch {
      // removed meanwhile, or not yet complete
    }
  }
  return ids;
}

/** The run an entry of the state directory belongs to: `<id>.json`, its `<id>.json.<pid>.tmp` while
 * written, the `<id>-bpffs` mount point. */
const runIdOfFile = (name: string): string => name.slice(0, 6);

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

/** `list()` less the entries of runs another file's live process owns, whose run `runOf` names.
 * Those runs are read before and after the listing: a run records its state file before it creates
 * anything and removes it after everything else, so an entry listed while the run starts or ends
 * is its in one of the two reads. */
function withoutOthers(list: () => string[], runOf: (entry: string) => string): string[] {
  const before = othersRuns();
  const entries = list();
  const after = othersRuns();
  return entries.filter((e) => !before.has(runOf(e)) && !after.has(runOf(e))).sort();
}

function stateFilesAll(): string[] {
  return existsSync(STATE_DIR) ? readdirSync(STATE_DIR) : [];
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
      argv: [process.execPath, PROBE.replace(/connect\.js$/, 'serve.js'), '--name', name, '--tcp', String(port), '--report'],
    }),
  );
}

export async function probe(netns: string, targets: string[], opts: { timeoutMs?: number; udp?: boolean } = {}): Promise<ProbeResult[]> {
  const args = ['--timeout', String(opts.timeoutMs ?? 2000), ...(opts.udp ? ['--udp'] : []), ...targets];
  const r = await exec.run({ netns, argv: [process.execPath, PROBE, ...args] });
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeResult);
}

/** Waits until every target answers (servers take a moment to bind). */
export async function waitListening(netns: string, targets: string[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await probe(netns, targets, { timeoutMs: 500 });
    if (r.every((x) => x.ok)) return;
    if (Date.now() > deadline)
      throw new Error(
        `not listening: ${r
          .filter((x) => !x.ok)
          .map((x) => `${x.target} ${x.error}`)
          .join(', ')}`,
      );
    await new Promise((res) => setTimeout(res, 100));
  }
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
