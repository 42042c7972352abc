// Samples the case's processes (load generator and servers, kernel and user time) with perf while
// the case's measured window runs (src/profile/README.md). perf rather than perf_event_open from Node: perf resolves kernel and
// JIT'd BPF symbols from /proc/kallsyms, unwinds kernel call chains and writes a compact file,
// all of which a Node binding would redo by hand; tracing BPF (fentry) is refused on this kernel
// (lockdown), so sampling is the way (../shared/reference/environment.md).
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec, ExecResult, Started } from '../exec/index.js';
import type { CommandRecord } from '../sandbox/command-record.js';
import { processStartTime } from '../sandbox/state.js';
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
  /** The sampled window (the measured time, after the warm-up). */
  windowMs: number;
}

export type ProfileOutcome = { ok: true; profile: CaseProfile } | { ok: false; reason: string };

/** One case's sampling: started with the load generator, finished after it. */
export interface Sampling {
  finish(): Promise<ProfileOutcome>;
}

export interface Sampler {
  readonly settings: SamplerSettings;
  /** Samples the processes `pids` from `delayMs` from now for `durationMs` (the warm-up, then the
   * measured window). */
  start(pids: readonly number[], delayMs: number, durationMs: number): Promise<Sampling>;
}

const periodOf = (hz: number) => Math.round(1e9 / hz);

/** perf record's argv: every CPU (-a: softirq work runs wherever the CPU was; per-task events
 * with -p instead cost more here, their clock being started and stopped at each of tcp-crr's many
 * context switches), kernel call chains only (user stacks of a JIT'd runtime unwind poorly and are
 * 10× the data), the cpu-clock software event (no hardware counters in this VM) at a fixed period,
 * no build-id collection (-B -N: it reads every mapped file at exit). `sleep` times the recording. */
export function perfRecordArgv(file: string, settings: SamplerSettings, delayMs: number, durationMs: number): string[] {
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
    ...(delayMs > 0 ? ['-D', String(Math.round(delayMs))] : []),
    '-o',
    file,
    '--',
    'sleep',
    ((delayMs + durationMs) / 1000).toFixed(3),
  ];
}

export const PERF_SCRIPT_FIELDS = 'comm,pid,tid,cpu,period,event,ip,sym,dso';

/** Where the sampler keeps its recordings: temporary directories and processes recorded in the
 * command's state file (command-record.ts), so `bench clean` finds them after a SIGKILL. */
export type PerfSpace = Pick<CommandRecord, 'tempDir' | 'record'>;

export function perfSampler(exec: Exec, settings: SamplerSettings, space: PerfSpace): Sampler {
  return {
    settings,
    async start(pids, delayMs, durationMs) {
      const dir = await space.tempDir('perf');
      const file = join(dir, 'perf.data');
      // perf runs in the root namespace, outside every sandbox: its pid goes into the state file
      // too (and, should a kill land before that, bench clean finds it naming the recorded dir).
      const rec: Started = exec.start({ argv: perfRecordArgv(file, settings, delayMs, durationMs) });
      if (rec.pid > 0) await space.record([{ kind: 'process', pid: rec.pid, startTime: processStartTime(rec.pid) ?? '' }]);
      return {
        async finish() {
          try {
            const done = await rec.exited;
            // Nothing was recorded when nothing ran.
            return await exec.observe(() => readRecording(done), { ok: false, reason: 'dry run' });
          } catch (e) {
            return { ok: false, reason: e instanceof Error ? e.message : String(e) };
          } finally {
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
            return { ok: true, profile: { hz: settings.hz, periodNs: periodOf(settings.hz), windowMs: durationMs, ...a } };
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

/** Repetitions whose number is a multiple of this run without the sampler, so the run measures the
 * sampler's own overhead on the same groups (the report compares their throughput). */
export const UNSAMPLED_EVERY = 3;

export interface ProfilingRecord {
  state: 'on' | 'off' | 'unavailable';
  reason?: string;
  hz?: number;
  perf?: string;
  unsampledEvery?: number;
}

/** The run's profiling: what run.json records, and each case's sampler (none for an unsampled
 * repetition, or when profiling is off or unavailable). */
export interface Profiler {
  record: ProfilingRecord;
  forRepetition(repetition: number): { sampler?: Sampler };
}

export async function openProfiler(exec: Exec, mode: 'on' | 'off', hz: number, space: PerfSpace): Promise<Profiler> {
  if (mode === 'off') return { record: { state: 'off', reason: '--profile off' }, forRepetition: () => ({}) };
  const pre = await perfPreflight(exec, space);
  if (!pre.ok) return { record: { state: 'unavailable', reason: pre.reason }, forRepetition: () => ({}) };
  const sampler = perfSampler(exec, { hz }, space);
  return {
    record: { state: 'on', hz, perf: pre.version, unsampledEvery: UNSAMPLED_EVERY },
    forRepetition: (repetition) => (repetition % UNSAMPLED_EVERY === 0 ? {} : { sampler }),
  };
}
