import type { Workload } from '../../workloads/types.js';
import type { Exec } from '../exec/index.js';
import type { Rng } from '../stats/index.js';
import type { BackendEnv } from './backend-sandbox.js';
import { base, checkPath, clientCommand, judgeLoad, withSeen, type CaseSettings, type Seen } from './case.js';
import { machineDelta, processCpuS, readMachineCpu, type MachineCpu } from './cpu.js';
import { BLOCK_GAP_MS, pairedSchedule, type PairedSchedule } from './paired.js';
import type { PlannedCase } from './plan.js';
import type { CaseResult } from './results.js';

// One repetition of a backend's paths at one scale point and workload as alternating blocks
// (paired.ts): every path is checked as a case is, then each path's client starts at once with
// the same schedule and takes its turns; each path still gets its own case in run.json, with the
// blocks its client reported.

/** Time between starting the clients and the schedule's first window: Node starts in ≈0.1 s idle,
 * up to ≈1 s on this busy 2-vCPU machine; a later start only shortens that client's warm-up. */
export const LEAD_MS = 700;

/** CPU counters read at a moment: the machine's and the servers' (seconds). */
interface CpuReading {
  machine: MachineCpu;
  serversS: number;
}

/** Runs the cases of one paired unit (same backend, services, workload and repetition; one per
 * path). Never throws for a measurement problem: a path that fails its check or whose client
 * fails is `errored`, the others still run. */
export async function runPairedCases(
  exec: Exec,
  env: BackendEnv,
  cases: readonly PlannedCase[],
  w: Workload,
  s: CaseSettings & { blockMs: number },
  rng: Rng,
): Promise<CaseResult[]> {
  const results = new Map<PlannedCase, CaseResult>();
  if (env.unusable) return cases.map((c) => ({ ...base(c, s), state: 'errored', reason: env.unusable! }));
  // No conntrack entries left by the previous unit, on any node.
  for (const t of env.targets) await exec.run({ netns: t.netns, argv: ['conntrack', '-F'], allowFailure: true });
  const checked: { c: PlannedCase; checkedBy: string; seen: Seen[] }[] = [];
  for (const c of cases) {
    const check = await checkPath(exec, env, c, s);
    if ('reason' in check) results.set(c, { ...base(c, s), state: 'errored', reason: check.reason });
    else if ('unanswered' in check)
      results.set(c, { ...base(c, s), state: 'skipped', reason: `${check.unanswered} (checked; nothing to measure)` });
    else checked.push({ c, checkedBy: check.checkedBy, seen: check.seen });
  }
  if (checked.length > 0) {
    const schedule = pairedSchedule(
      checked.map(({ c }) => c.path),
      { blockMs: s.blockMs, durationMs: s.durationMs, warmupMs: s.warmupMs, gapMs: BLOCK_GAP_MS },
      rng,
    );
    const epochMs = Date.now() + LEAD_MS;
    const sampler = sampleBoundaries(env, schedule, epochMs);
    const runs = await Promise.all(checked.map(({ c }) => runClient(exec, env, c, w, s, schedule, epochMs)));
    const readings = sampler.finish();
    for (const [i, { c, checkedBy, seen }] of checked.entries()) {
      const cpu = cpuOfPath(schedule, c.path, readings);
      results.set(c, withSeen(judgeLoad(base(c, s), w, { r: runs[i]!, ...cpu }, checkedBy), seen));
    }
  }
  return exec.observe(
    async () => cases.map((c) => results.get(c)!),
    cases.map((c) => results.get(c) ?? { ...base(c, s), state: 'skipped', reason: 'dry run' }),
  );
}

/** One path's client with the shared schedule. */
function runClient(exec: Exec, env: BackendEnv, c: PlannedCase, w: Workload, s: CaseSettings, schedule: PairedSchedule, epochMs: number) {
  return exec.run({
    ...clientCommand(env, c, w, s, { epochMs, windows: schedule.windows.get(c.path)! }),
    timeoutMs: LEAD_MS + schedule.totalMs + 30_000,
    allowFailure: true,
  });
}

/** Reads the CPU counters at every measured window's planned start and end (timers on the same
 * wall clock as the clients). finish() cancels what has not fired (a run that ended early, or a
 * fake exec that returned at once) and fills those moments with a reading taken then. */
function sampleBoundaries(env: BackendEnv, schedule: PairedSchedule, epochMs: number) {
  const read = (): CpuReading => ({
    machine: readMachineCpu(),
    serversS: env.servers.reduce((a, x) => a + processCpuS(x.pid), 0),
  });
  const moments = [
    ...new Set([...schedule.windows.values()].flat().flatMap((w) => (w.kind === 'measure' ? [w.startMs, w.startMs + w.durationMs] : []))),
  ];
  const readings = new Map<number, CpuReading>();
  const timers = moments.map((t) => setTimeout(() => readings.set(t, read()), epochMs + t - Date.now()));
  return {
    finish(): Map<number, CpuReading> {
      for (const t of timers) clearTimeout(t);
      const now = read();
      for (const t of moments) if (!readings.has(t)) readings.set(t, now);
      return readings;
    },
  };
}

/** A path's share of the CPU: the machine's and the servers' time summed over its measured
 * windows (while one path's block runs, the others are idle). */
function cpuOfPath(schedule: PairedSchedule, path: string, readings: Map<number, CpuReading>) {
  const machine = { kernelS: 0, totalBusyS: 0 };
  let serversS = 0;
  for (const w of schedule.windows.get(path)!) {
    if (w.kind !== 'measure') continue;
    const a = readings.get(w.startMs)!;
    const b = readings.get(w.startMs + w.durationMs)!;
    const d = machineDelta(a.machine, b.machine);
    machine.kernelS += d.kernelS;
    machine.totalBusyS += d.totalBusyS;
    serversS += b.serversS - a.serversS;
  }
  return { machine, serversS };
}
