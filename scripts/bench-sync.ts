// Benchmark: full and partial sync of N services × 3 endpoints with each backend, in a sandbox,
// against the raw tool loading the same payload (issue targets at 10,000 services: full sync at
// most 1.3× the raw load, timed in the same run; adding one service with nftables at most 0.3 s;
// the rule-by-rule backend stops at its budget and says so).
//
// Usage: node dist/scripts/bench-sync.js [SERVICES] [--reps N] [--sync-timeout S] [--only NAME,…]
//   SERVICES        scale (default 10000)
//   --reps N        repetitions per case (default 3); a case whose repetition takes longer than
//                   --slow seconds (default 60) stops after that repetition, and says so
//   --sync-timeout  budget of the rule-by-rule backend's sync in seconds (default 20)
//   --partials N    partial syncs timed per repetition (default 5): each adds the service, then an
//                   untimed partial sync removes it again
//   --only          cases to run: iptables-restore/legacy, iptables-restore/nft, nft, iptables/legacy, ebpf, ipvs
//                   (ipvs needs IP_VS: inside a guest kernel; elsewhere it is reported skipped)
//
// Per repetition, on empty tables in the sandbox's node namespace:
//   1. full sync (render + apply, src/sync.ts), timed; read back outside the timed region;
//   2. teardown, then the backend's rawLoad of the same rendered payload (iptables-restore onto
//      empty tables, nft -f), timed; ratio = full sync total / raw load;
//   3. teardown, full sync again (untimed: the state is installed as the backend installs it),
//      then --partials times: a partial sync adding one service (render + apply), timed, and one
//      removing it again, untimed; read back after the first addition; teardown.
// Progress goes to stderr, the result tables to stdout. Ctrl-C tears the sandbox down.
import { loadavg, release } from 'node:os';
import { backendByName, type Backend, type BackendOptions } from '../backends/index.js';
import type { IptablesMode } from '../backends/types.js';
import { sandboxSchema } from '../src/config/sandbox.js';
import { RealExec } from '../src/exec/index.js';
import { Interrupts, signalExitCode } from '../src/lifecycle.js';
import { sameEndpoints, sameService } from '../src/model/change.js';
import { serviceKey, type ClusterState } from '../src/model/types.js';
import { closeSandbox, nodeTarget, openSandbox } from '../src/sandbox/session.js';
import { median } from '../src/stats/index.js';
import { exceededText, sync, type SyncRecord } from '../src/sync.js';
import { scaleStates } from './bench-render.js';

const RATIO_TARGET = 1.3;
const PARTIAL_TARGET_MS: Record<string, number> = { nft: 300, ebpf: 5 };
/** Full-sync targets for backends without a raw tool to compare with (eBPF: issue 6). */
const FULL_TARGET_MS: Record<string, number> = { ebpf: 200 };

interface Case {
  id: string;
  backend: string;
  mode: IptablesMode;
  /** The +1-service state shares the unchanged service and endpoint objects of the installed one,
   * as bench run's states (src/run/services.ts) and an informer cache do; otherwise it is a fresh
   * deep copy, and a partial render compares every service field by field. */
  shared?: boolean;
}

const CASES: Case[] = [
  { id: 'iptables-restore/legacy', backend: 'iptables-restore', mode: 'legacy' },
  { id: 'iptables-restore/nft', backend: 'iptables-restore', mode: 'nft' },
  { id: 'nft', backend: 'nft', mode: 'legacy' },
  { id: 'iptables/legacy', backend: 'iptables', mode: 'legacy' },
  // The eBPF proxy: a full sync from nothing loads and attaches the programs too.
  { id: 'ebpf', backend: 'ebpf', mode: 'legacy', shared: true },
  // kube-proxy's IPVS mode; its small iptables side in the project's default flavour.
  { id: 'ipvs', backend: 'ipvs', mode: 'nft' },
];

interface Rep {
  full: SyncRecord;
  fullDiffs: number;
  rawMs?: number;
  /** The median partial sync (by total) of this repetition's additions. */
  partial?: SyncRecord;
  /** Totals of every addition, in order. */
  partialMs?: number[];
  partialDiffs?: number;
  repMs: number;
}

interface CaseResult {
  c: Case;
  state: 'completed' | 'skipped' | 'errored';
  reason?: string;
  reps: Rep[];
  /** Why fewer repetitions than asked were taken. */
  note?: string;
  load: string;
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const s = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 3 : 1);
const fmt = (r: SyncRecord): string =>
  `${s(r.totalMs)} s (render ${s(r.renderMs)}, apply ${s(r.applyMs)}; ${r.size.count} ${r.size.unit}, ${r.commands} commands)${
    r.exceeded ? ` EXCEEDED: ${exceededText(r.exceeded)}` : ''
  }`;

function parseArgs(argv: string[]) {
  const args = [...argv];
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const reps = Number(flag('--reps') ?? 3);
  const syncTimeout = Number(flag('--sync-timeout') ?? 20);
  const slow = Number(flag('--slow') ?? 60);
  const partials = Number(flag('--partials') ?? 5);
  const only = flag('--only')?.split(',');
  const n = Number(args[0] ?? 10_000);
  const bad =
    [n, reps, syncTimeout, slow, partials].some((x) => !Number.isInteger(x) || x < 1) || only?.some((o) => !CASES.some((c) => c.id === o));
  if (bad) {
    say(
      `usage: bench-sync.js [SERVICES] [--reps N] [--sync-timeout S] [--slow S] [--partials N] [--only ${CASES.map((c) => c.id).join(',')}]`,
    );
    process.exit(2);
  }
  return { n, reps, syncTimeout, slow, partials, cases: only ? CASES.filter((c) => only.includes(c.id)) : CASES };
}

async function runCase(
  exec: RealExec,
  interrupts: Interrupts,
  c: Case,
  o: { n: number; reps: number; syncTimeout: number; slow: number; partials: number },
): Promise<CaseResult> {
  const info = backendByName(c.backend);
  if (!info) return { c, state: 'skipped', reason: 'no such backend', reps: [], load: load() };
  const backend: Backend = info;
  const options: BackendOptions = { iptablesMode: c.mode, syncTimeoutMs: o.syncTimeout * 1000 };
  const pre = await backend.preflight(options);
  if (pre.state === 'unavailable') return { c, state: 'skipped', reason: `${pre.reason} (${pre.fix})`, reps: [], load: load() };

  const cfg = sandboxSchema.parse({ pods: 3, clients: 1 });
  const sb = await openSandbox(exec, cfg, { command: `bench-sync ${c.id} ${o.n}`, check: interrupts.check });
  const result: CaseResult = { c, state: 'completed', reps: [], load: load() };
  const { plan } = sb;
  const target = nodeTarget(exec, sb, options);
  try {
    const scaled = scaleStates(o.n, plan.serviceCidr, plan.podCidr);
    const { state } = scaled;
    const plusOne = c.shared ? sharing(state, scaled.plusOne) : scaled.plusOne;
    await backend.teardown(target);
    for (let r = 1; r <= o.reps; r++) {
      const started = performance.now();
      say(`[${c.id}] repetition ${r}/${o.reps} (load ${load()})`);
      // 1. Full sync, timed; read back outside the timed region.
      const full = await sync(backend, target, undefined, state);
      say(`[${c.id}]   full sync: ${fmt(full.record)}`);
      interrupts.check();
      if (full.record.exceeded) {
        // The installed state is incomplete: nothing to compare or to build on.
        result.reps.push({ full: full.record, fullDiffs: -1, repMs: performance.now() - started });
        await backend.teardown(target);
        result.note = 'stopped at its budget: no raw load, read-back or partial sync';
        break;
      }
      const fullDiffs = (await backend.readBack(target, full.rendered)).length;
      say(`[${c.id}]   read-back after full sync: ${fullDiffs} differences`);
      interrupts.check();

      // 2. The raw tool loading the same payload onto empty tables, timed.
      await backend.teardown(target);
      let rawMs: number | undefined;
      if (backend.rawLoad) {
        const t0 = performance.now();
        await backend.rawLoad(target, full.rendered);
        rawMs = performance.now() - t0;
        say(`[${c.id}]   raw load: ${s(rawMs)} s; full sync / raw = ${(full.record.totalMs / rawMs).toFixed(2)}`);
        await backend.teardown(target);
      }
      interrupts.check();

      // 3. The state installed again by a full sync (untimed), then one service added, timed.
      await sync(backend, target, undefined, state);
      interrupts.check();
      const adds: SyncRecord[] = [];
      let partialDiffs: number | undefined;
      for (let k = 0; k < o.partials; k++) {
        const add = await sync(backend, target, state, plusOne);
        adds.push(add.record);
        if (k === 0 && r === 1) {
          partialDiffs = (await backend.readBack(target, add.rendered)).length;
          say(`[${c.id}]   read-back after partial sync: ${partialDiffs} differences`);
        }
        interrupts.check();
        await sync(backend, target, plusOne, state); // and away again, untimed
        interrupts.check();
      }
      const byTotal = [...adds].sort((a, b) => a.totalMs - b.totalMs);
      const partial = byTotal[(byTotal.length - 1) >> 1]!;
      say(
        `[${c.id}]   partial sync (+1 service), median of ${adds.length}: ${fmt(partial)}; all: ${adds.map((a) => s(a.totalMs)).join(', ')} s`,
      );
      await backend.teardown(target);
      interrupts.check();
      const repMs = performance.now() - started;
      result.reps.push({
        full: full.record,
        fullDiffs,
        ...(rawMs === undefined ? {} : { rawMs }),
        partial,
        partialMs: adds.map((a) => a.totalMs),
        partialDiffs,
        repMs,
      });
      if (r < o.reps && repMs > o.slow * 1000) {
        result.note = `${r} repetition${r > 1 ? 's' : ''}: one took ${s(repMs)} s (> --slow ${o.slow} s)`;
        break;
      }
    }
  } catch (e) {
    if (interrupts.received) throw e;
    result.state = 'errored';
    result.reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    say(`[${c.id}] ERROR: ${e instanceof Error ? e.message : String(e)}`);
    await backend.teardown(target).catch(() => {});
  } finally {
    const closed = await closeSandbox(exec, sb);
    say(`[${c.id}] sandbox removed (${closed.namespaces.length} namespaces, ${s(closed.ms)} s)`);
  }
  return result;
}

/** `next` with the objects of `prev` wherever they are equal (untimed). */
function sharing(prev: ClusterState, next: ClusterState): ClusterState {
  const before = new Map(prev.services.map((x) => [serviceKey(x), x]));
  const services = next.services.map((x) => {
    const p = before.get(serviceKey(x));
    return p && sameService(p, x) ? p : x;
  });
  const endpoints = Object.fromEntries(
    Object.entries(next.endpoints).map(([k, eps]) => [k, sameEndpoints(prev.endpoints[k], eps) ? prev.endpoints[k]! : eps]),
  );
  return { services, endpoints };
}

function report(n: number, results: CaseResult[]): void {
  const med = (xs: (number | undefined)[]): number | undefined => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length === 0 ? undefined : median(v);
  };
  const sec = (ms: number | undefined): string => (ms === undefined ? '—' : s(ms));
  const rows = results.map((r) => {
    const reps = r.reps;
    const ratios = reps.map((x) => (x.rawMs === undefined ? undefined : x.full.totalMs / x.rawMs));
    const exceeded = reps.find((x) => x.full.exceeded)?.full.exceeded;
    return {
      case: r.c.id,
      state: r.state,
      reps: reps.length,
      'full render s': sec(med(reps.map((x) => x.full.renderMs))),
      'full apply s': sec(med(reps.map((x) => x.full.applyMs))),
      'full total s': sec(med(reps.map((x) => x.full.totalMs))),
      'raw load s': sec(med(reps.map((x) => x.rawMs))),
      'sync/raw': med(ratios)?.toFixed(2) ?? '—',
      'partial render s': sec(med(reps.map((x) => x.partial?.renderMs))),
      'partial apply s': sec(med(reps.map((x) => x.partial?.applyMs))),
      'partial total s': sec(med(reps.map((x) => x.partial?.totalMs))),
      'read-back diffs':
        reps.length === 0 || exceeded
          ? '—'
          : `full ${reps.map((x) => x.fullDiffs).join(',')}; partial ${reps.flatMap((x) => (x.partialDiffs === undefined ? [] : [x.partialDiffs])).join(',')}`,
      exceeded: exceeded ? `${exceeded.done}/${exceeded.total} cmds in ${exceeded.budgetMs / 1000} s` : '',
      'load at start': r.load,
    };
  });
  console.log(`\nsync benchmark: ${n} services × 3 endpoints (every 10th NodePort); kernel ${release()}; medians over repetitions`);
  console.table(rows);
  for (const r of results) {
    if (r.state !== 'completed') {
      console.log(`${r.c.id}: ${r.state}: ${r.reason}`);
      continue;
    }
    const ratios = r.reps.flatMap((x) => (x.rawMs === undefined ? [] : [x.full.totalMs / x.rawMs]));
    const exceeded = r.reps.find((x) => x.full.exceeded)?.full.exceeded;
    if (exceeded) {
      console.log(`${r.c.id}: full sync EXCEEDED: ${exceededText(exceeded)} (reported, not hung)`);
    } else if (FULL_TARGET_MS[r.c.backend] !== undefined) {
      const full = r.reps.map((x) => x.full.totalMs);
      const m = median(full);
      const target = FULL_TARGET_MS[r.c.backend]!;
      console.log(
        `${r.c.id}: full sync = ${s(m)} s (median of ${full.length}: ${full.map(s).join(', ')} s) ${m <= target ? 'MEETS' : 'MISSES'} the ${target / 1000} s target`,
      );
    } else if (ratios.length > 0) {
      const m = median(ratios);
      console.log(
        `${r.c.id}: full sync / raw load = ${m.toFixed(2)} (per repetition: ${ratios.map((x) => x.toFixed(2)).join(', ')}) ${
          m <= RATIO_TARGET ? 'MEETS' : 'MISSES'
        } the ${RATIO_TARGET}× target`,
      );
    }
    const partial = r.reps.flatMap((x) => x.partialMs ?? []);
    if (partial.length > 0) {
      const m = median(partial);
      const target = PARTIAL_TARGET_MS[r.c.backend];
      console.log(
        `${r.c.id}: add one service = ${s(m)} s (median of ${partial.length}; min ${s(Math.min(...partial))}, max ${s(Math.max(...partial))})${
          target === undefined ? ' (reported)' : ` ${m <= target ? 'MEETS' : 'MISSES'} the ${target / 1000} s target`
        }`,
      );
    }
    if (r.note) console.log(`${r.c.id}: note: ${r.note}`);
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const exec = new RealExec();
  const interrupts = new Interrupts(say);
  const results: CaseResult[] = [];
  say(`bench-sync: ${o.n} services, up to ${o.reps} repetitions; kernel ${release()}; load ${load()}`);
  try {
    for (const c of o.cases) {
      interrupts.check();
      results.push(await runCase(exec, interrupts, c, o));
    }
  } catch (e) {
    if (interrupts.received) {
      say('interrupted: sandbox torn down');
      return signalExitCode(interrupts.received);
    }
    throw e;
  } finally {
    interrupts.dispose();
  }
  report(o.n, results);
  return results.some((r) => r.state === 'errored') ? 1 : 0;
}

process.exitCode = await main();
