// Samples the case's processes (load generator and servers, kernel and user time) with perf while
// the case's measured window runs (src/profile/README.md). perf rather than perf_event_open from Node: perf resolves kernel and
// JIT'd BPF symbols from /proc/kallsyms, unwinds kernel call chains and writes a compact file,
// all of which a Node binding would redo by hand; tracing BPF (fentry) is refused on this kernel
// (lockdown), so sampling is the way (../shared/reference/environment.md).
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec, ExecResult, Started } from '../exec/index.js';
import type { CommandRecord } from '../sandbox/command-record.js';
import { processStartTime } from '../sandbox/state.js';
import { createRng, type Rng } from '../stats/index.js';
import { attribute, type Attribution } from './attribute.js';
import { parsePerfScript } from './parse.js';

export interface SamplerSettings {
  /** Samples per second per CPU (the cpu-clock period is 1e9 / hz ns). */
  hz: number;
}

/** What one case's sampling recorded (run.json keeps it: results.ts caseProfile). */
export interface CaseProfile extends Attribution {
  hz: number;
  /** Nanoseconds of CPU one sample stands for. */
  periodNs: number;
  /** Time the sampler was enabled (the sampled blocks' total, between the enable and disable
   * commands sent to perf). */
  windowMs: number;
}

export type ProfileOutcome = { ok: true; profile: CaseProfile } | { ok: false; reason: string };

/** One case's sampling: perf runs with its events disabled and counts only between enable() and
 * disable() (perf record's control fifo); finish() waits for it and reads the recording back. */
export interface Sampling {
  enable(): void;
  disable(): void;
  finish(): Promise<ProfileOutcome>;
}

export interface Sampler {
  readonly settings: SamplerSettings;
  /** Starts perf for `totalMs` from now, disabled; `pids` are the case's own processes (their
   * samples count as the workload's, the others' path groups only: attribute.ts). */
  start(pids: readonly number[], totalMs: number): Promise<Sampling>;
}

const periodOf = (hz: number) => Math.round(1e9 / hz);

/** perf record's argv: every CPU (-a: softirq work runs wherever the CPU was; per-task events
 * with -p instead cost more here, their clock being started and stopped at each of tcp-crr's many
 * context switches), kernel call chains only (user stacks of a JIT'd runtime unwind poorly and are
 * 10× the data), the cpu-clock software event (no hardware counters in this VM) at a fixed period,
 * no build-id collection (-B -N: it reads every mapped file at exit). The events start disabled
 * (-D -1) and the control fifo turns them on and off (perf-record(1) --control), so one perf
 * process samples the chosen blocks of a case and not the others. `sleep` times the recording. */
export function perfRecordArgv(file: string, settings: SamplerSettings, controlFifo: string, totalMs: number): string[] {
  return [
    'perf',
    'record',
    '-a',
    '-g',
    '--kernel-callchains',
    '-e',
    'cpu-clock',
    '-c',
    String(periodOf(settings.hz)),
    '--sample-cpu',
    '-B',
    '-N',
    '-q',
    '-D',
    '-1',
    '--control',
    `fifo:${controlFifo}`,
    '-o',
    file,
    '--',
    'sleep',
    (totalMs / 1000).toFixed(3),
  ];
}

export const PERF_SCRIPT_FIELDS = 'comm,pid,tid,cpu,period,event,ip,sym,dso';

/** Where the sampler keeps its recordings: temporary directories and processes recorded in the
 * command's state file (command-record.ts), so `bench clean` finds them after a SIGKILL. */
export type PerfSpace = Pick<CommandRecord, 'tempDir' | 'record'>;

export function perfSampler(exec: Exec, settings: SamplerSettings, space: PerfSpace): Sampler {
  return {
    settings,
    async start(pids, totalMs) {
      const dir = await space.tempDir('perf');
      const file = join(dir, 'perf.data');
      const fifo = join(dir, 'control');
      await exec.run({ argv: ['mkfifo', '-m', '600', fifo] });
      // Read-write and non-blocking: the open returns at once (a write-only open of a fifo waits
      // for its reader), and a command written before perf reads it waits in the pipe.
      const control = await exec.alter<number | undefined>(
        async () => openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK),
        () => undefined,
      );
      // perf runs in the root namespace, outside every sandbox: its pid goes into the state file
      // too (and, should a kill land before that, bench clean finds it naming the recorded dir).
      const rec: Started = exec.start({ argv: perfRecordArgv(file, settings, fifo, totalMs) });
      if (rec.pid > 0) await space.record([{ kind: 'process', pid: rec.pid, startTime: processStartTime(rec.pid) ?? '' }]);
      let enabledAt: bigint | undefined;
      let enabledNs = 0n;
      const send = (command: string) => {
        if (control !== undefined) writeSync(control, `${command}\n`);
      };
      const enable = () => {
        if (enabledAt !== undefined) return;
        send('enable');
        enabledAt = process.hrtime.bigint();
      };
      const disable = () => {
        if (enabledAt === undefined) return;
        send('disable');
        enabledNs += process.hrtime.bigint() - enabledAt;
        enabledAt = undefined;
      };
      return {
        enable,
        disable,
        async finish() {
          disable();
          try {
            const done = await rec.exited;
            // Nothing was recorded when nothing ran.
            return await exec.observe(() => readRecording(done), { ok: false, reason: 'dry run' });
          } catch (e) {
            return { ok: false, reason: e instanceof Error ? e.message : String(e) };
          } finally {
            if (control !== undefined) closeSync(control);
            await exec.alter(
              () => rm(dir, { recursive: true, force: true }),
              () => undefined,
            );
          }
          async function readRecording(done: ExecResult): Promise<ProfileOutcome> {
            if (done.exitCode !== 0) return { ok: false, reason: `perf record exited with ${done.exitCode}: ${lastLine(done.stderr)}` };
            const script = await exec.run({
              argv: ['perf', 'script', '-i', file, '-F', PERF_SCRIPT_FIELDS, '--max-stack', '64'],
              allowFailure: true,
              timeoutMs: 120_000,
            });
            if (script.exitCode !== 0)
              return { ok: false, reason: `perf script exited with ${script.exitCode}: ${lastLine(script.stderr)}` };
            // SVCBENCH_PERF_KEEP=DIR keeps each case's perf script text there, for a closer look.
            const keep = process.env['SVCBENCH_PERF_KEEP'];
            if (keep !== undefined && keep !== '') await writeFile(join(keep, `perf-${Date.now()}.txt`), script.stdout);
            const a = attribute(parsePerfScript(script.stdout), { pids: new Set(pids) });
            return { ok: true, profile: { hz: settings.hz, periodNs: periodOf(settings.hz), windowMs: Number(enabledNs) / 1e6, ...a } };
          }
        },
      };
    },
  };
}

function lastLine(s: string): string {
  return s.trim().split('\n').slice(-2).join(' ') || 'no message';
}

/** Whether perf can sample here; the reason when not ("perf not found: apt-get install linux-perf"). */
export async function perfPreflight(exec: Exec, space: PerfSpace): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  let version;
  try {
    version = await exec.run({ argv: ['perf', '--version'], allowFailure: true, timeoutMs: 10_000 });
  } catch (e) {
    return { ok: false, reason: `perf not found (${(e as Error).message.split('\n')[0]}); scripts/setup installs linux-perf` };
  }
  if (version.exitCode !== 0) return { ok: false, reason: `perf --version exited with ${version.exitCode}: ${lastLine(version.stderr)}` };
  // A dry run records nothing, so it assumes perf may sample.
  return exec.observe(() => perfRecords(exec, version, space), { ok: true, version: 'dry run' });
}

async function perfRecords(
  exec: Exec,
  version: ExecResult,
  space: PerfSpace,
): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  const dir = await space.tempDir('perf');
  try {
    const probe = await exec.run({
      argv: [
        'perf',
        'record',
        '-a',
        '-g',
        '--kernel-callchains',
        '-e',
        'cpu-clock',
        '-c',
        '1000000',
        '-B',
        '-N',
        '-q',
        '-o',
        join(dir, 'p.data'),
        '--',
        'true',
      ],
      allowFailure: true,
      timeoutMs: 20_000,
    });
    if (probe.exitCode !== 0) return { ok: false, reason: `perf record refused (exit ${probe.exitCode}): ${lastLine(probe.stderr)}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { ok: true, version: version.stdout.trim() };
}

/** Length of the sampled and unsampled blocks a sampled case alternates (at most; a shorter
 * --duration divides into one pair). Half a second keeps the two blocks of a pair a second apart,
 * so the machine's drift (this VM's speed wanders by tens of percent over minutes) moves both and
 * cancels in their ratio, and perf's enable/disable take a few milliseconds of it at most. */
export const PROFILE_BLOCK_MS = 500;

/** A sampled case's measured blocks: `durationMs` as pairs of one sampled and one unsampled block,
 * which of the two comes first drawn per pair (so neither position's bias, e.g. the first block
 * after the warm-up, falls on one side). */
export interface SamplingPlan {
  blockMs: number;
  sampled: boolean[];
}

export function samplingPlan(durationMs: number, rng: Rng): SamplingPlan {
  const pairs = Math.max(1, Math.round(durationMs / (2 * PROFILE_BLOCK_MS)));
  const sampled: boolean[] = [];
  for (let i = 0; i < pairs; i++) {
    const first = rng.nextInt(2) === 0;
    sampled.push(first, !first);
  }
  return { blockMs: durationMs / (2 * pairs), sampled };
}

export interface ProfilingRecord {
  state: 'on' | 'off' | 'unavailable';
  reason?: string;
  hz?: number;
  perf?: string;
  /** The sampled and unsampled blocks' length (samplingPlan). */
  blockMs?: number;
}

/** The run's profiling: what run.json records, and the sampler with each case's blocks (none when
 * profiling is off or unavailable). */
export interface Profiler {
  record: ProfilingRecord;
  forCase(durationMs: number): { sampler: Sampler; plan: SamplingPlan } | undefined;
}

export async function openProfiler(exec: Exec, mode: 'on' | 'off', hz: number, space: PerfSpace, seed: number): Promise<Profiler> {
  if (mode === 'off') return { record: { state: 'off', reason: '--profile off' }, forCase: () => undefined };
  const pre = await perfPreflight(exec, space);
  if (!pre.ok) return { record: { state: 'unavailable', reason: pre.reason }, forCase: () => undefined };
  const sampler = perfSampler(exec, { hz }, space);
  const rng = createRng(seed + 16);
  return {
    record: { state: 'on', hz, perf: pre.version, blockMs: PROFILE_BLOCK_MS },
    forCase: (durationMs) => ({ sampler, plan: samplingPlan(durationMs, rng) }),
  };
}
