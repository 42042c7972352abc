// Shared by the workload tests: make sure dist/ is current, load the compiled workload, and run a
// server + client pair on loopback inside a throwaway network namespace (`unshare --net`, gone
// when its last process exits; no `ip netns add`, nothing in the root namespace).

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect } from 'vitest';
import type { Workload, WorkloadParams } from '../types.js';

/** Project root: this file is workloads/test-support/real-run.ts (tests import the source). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKLOADS = join(ROOT, 'workloads');
const HARNESS = join(ROOT, 'dist/workloads/test-support/netns-run.js');

export const isRoot = process.getuid?.() === 0;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function staleOutputs(): string[] {
  return sources(WORKLOADS).filter((src) => {
    const out = join(ROOT, 'dist', relative(ROOT, src)).replace(/\.ts$/, '.js');
    return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
  });
}

/**
 * Compiles the project (tsc, as `npm run build`) when any workload source is newer than its .js.
 * A type error elsewhere in the project makes tsc exit non-zero but still emit (noEmitOnError is
 * off); that only fails these tests if the workloads' own output is still missing or stale.
 */
export function ensureBuilt(): void {
  if (staleOutputs().length === 0) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const still = staleOutputs();
    if (still.length > 0) {
      const out = String((e as { stdout?: unknown }).stdout ?? '');
      throw new Error(`tsc did not produce dist/ for ${still.map((f) => relative(ROOT, f)).join(', ')}:\n${out}`);
    }
  }
}

/** The compiled workload object (its argv point at dist/, where the programs are). */
export async function compiledWorkload(folder: string, exportName: string): Promise<Workload> {
  const mod = (await import(join(ROOT, 'dist/workloads', folder, 'index.js'))) as Record<string, Workload>;
  const w = mod[exportName];
  if (w === undefined) throw new Error(`dist/workloads/${folder}/index.js exports no ${exportName}`);
  return w;
}

/** Two loopback addresses, each standing for one endpoint pod: a client given both must spread
 * its connections over them (the pod path). */
export const TWO_HOSTS = ['127.0.0.1', '127.0.0.2'];

export const loopbackParams = (w: Workload, over: Partial<WorkloadParams> = {}): WorkloadParams => ({
  hosts: ['127.0.0.1'],
  port: w.serverPort,
  durationMs: 1000,
  warmupMs: 200,
  connections: 4,
  messageSize: 64,
  ...over,
});

export interface RealRun {
  code: number;
  stdout: string;
  stderr: string;
  /** With NetnsSpec.countTo: what reached each address (TCP: connection attempts; UDP: datagrams). */
  countsTo?: Record<string, number>;
}

export interface NetnsSpec {
  server?: string[];
  client: string[];
  protocol: 'TCP' | 'UDP';
  port: number;
  timeoutMs?: number;
  /** Addresses to count traffic to (netns-run.ts: `countTo`). */
  countTo?: string[];
}

/** Runs netns-run.js in a fresh network namespace: server (if any), then one client run. */
export function runInNetns(spec: NetnsSpec): Promise<RealRun> {
  const { timeoutMs = 20_000, ...rest } = spec;
  const harnessSpec = { ...rest, callerNetns: readlinkSync('/proc/self/ns/net') };
  return new Promise((resolve) => {
    execFile(
      'unshare',
      ['--net', process.execPath, HARNESS, JSON.stringify(harnessSpec)],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        const counted = /^netns-run counts: (.*)$/m.exec(stderr);
        resolve({ code, stdout, stderr, ...(counted === null ? {} : { countsTo: JSON.parse(counted[1]!) as Record<string, number> }) });
      },
    );
  });
}

/** A workload's server (unless `server: false`) and one client run, in a fresh namespace;
 * `countTo: true` counts the traffic to each of params.hosts (RealRun.countsTo). */
export function runWorkload(w: Workload, params: WorkloadParams, opts: { server?: boolean; countTo?: boolean } = {}): Promise<RealRun> {
  return runInNetns({
    ...(opts.server === false ? {} : { server: w.serverArgv('srv-0') }),
    ...(opts.countTo === true ? { countTo: params.hosts } : {}),
    client: w.clientArgv(params),
    protocol: w.protocol,
    port: w.serverPort,
    timeoutMs: params.warmupMs + params.durationMs + 15_000,
  });
}

/** Persistent clients on the pod path: 2 connections over 2 hosts open exactly one connection to
 * each (connection i → host i % hosts), and every transaction succeeds. */
export async function expectOneConnectionPerHost(w: Workload): Promise<void> {
  const run = await runWorkload(w, loopbackParams(w, { hosts: TWO_HOSTS, connections: 2, warmupMs: 0, durationMs: 500 }), {
    countTo: true,
  });
  expect(run.code, run.stderr).toBe(0);
  const r = w.parseResult(run.stdout);
  expect(r.errors + r.timeouts).toBe(0);
  expect(r.ops).toBeGreaterThan(0);
  expect(run.countsTo).toEqual({ [TWO_HOSTS[0]!]: 1, [TWO_HOSTS[1]!]: 1 });
}

/** A scheduled client (paired blocks, WorkloadParams.schedule): a warm-up and two measured windows
 * with an idle gap longer than udp-rr's loss timeout between them. Each measured window is one
 * block with operations, the blocks add up to the run's totals, and idling between windows costs
 * no error or timeout. Returns the result for the workload's own checks. */
export async function expectScheduledBlocks(w: Workload, connections = 2): Promise<ReturnType<Workload['parseResult']>> {
  const windows = [
    { kind: 'warmup' as const, startMs: 0, durationMs: 200 },
    { kind: 'measure' as const, startMs: 220, durationMs: 300 },
    { kind: 'measure' as const, startMs: 820, durationMs: 300 },
  ];
  // The epoch leaves the namespace, the server and the client's start a second.
  const run = await runWorkload(w, loopbackParams(w, { connections, schedule: { epochMs: Date.now() + 1000, windows } }));
  expect(run.code, run.stderr).toBe(0);
  const r = w.parseResult(run.stdout);
  expect(r.errors + r.timeouts, run.stderr).toBe(0);
  expect(r.blocks?.map((b) => b.plannedMs)).toEqual([300, 300]);
  for (const b of r.blocks ?? []) expect(b.ops).toBeGreaterThan(0);
  expect((r.blocks ?? []).reduce((a, b) => a + b.ops, 0)).toBe(r.ops);
  return r;
}

/** The real-run tests of one workload: `tests` runs inside one describe (root only: it needs a
 * throwaway namespace), after the build is current and the compiled workload of
 * dist/workloads/<folder>/index.js (export `exportName`) is loaded into `suite.w`. */
export function realRunSuite(folder: string, exportName: string, tests: (suite: { w: Workload }) => void): void {
  describe.runIf(isRoot)(`${folder} workload: real run on loopback in a throwaway namespace`, () => {
    const suite = {} as { w: Workload };
    beforeAll(async () => {
      ensureBuilt();
      suite.w = await compiledWorkload(folder, exportName);
    });
    tests(suite);
  });
}

/** Connection-per-transaction clients on the pod path pick a host at random per connection, as a
 * Service's random DNAT does: over 2 hosts each gets a share. */
export async function expectRandomSpread(w: Workload): Promise<void> {
  const run = await runWorkload(w, loopbackParams(w, { hosts: TWO_HOSTS, warmupMs: 0, durationMs: 500 }), { countTo: true });
  expect(run.code, run.stderr).toBe(0);
  const r = w.parseResult(run.stdout);
  expect(r.errors + r.timeouts).toBe(0);
  const [a, b] = TWO_HOSTS.map((h) => run.countsTo![h]!);
  expect(a! + b!).toBeGreaterThan(50);
  // independent draws: each host's share of n is binomial(n, 1/2), far inside [0.25, 0.75] for n > 50
  expect(Math.min(a!, b!) / (a! + b!)).toBeGreaterThan(0.25);
}
