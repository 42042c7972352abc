import type { Clock } from '../clock.js';
import type { Exec } from '../exec/index.js';
import { PROBE_SCRIPT } from '../probe/client.js';
import type { PollResult } from '../probe/poll.js';
import { bootstrapCI, median } from '../stats/index.js';
import type { SyncRecord } from '../sync.js';
import type { ProgrammingLatency, ProgrammingSample } from './results.js';

// Network-programming latency: from the start of a sync that adds a service to the send time of
// the first new connection that service answers, probed from a client pod every millisecond
// (src/probe/poll.ts says why the attempts overlap). Repeated, reported as a median with a
// bootstrap CI beside the same syncs' own time.

export interface ProbeWait {
  /** How long the prober gets to start (nsenter, Node) before the sync begins. */
  startMs: number;
  /** How long after the sync returned the prober may still wait for an answer. */
  answerMs: number;
}

export const DEFAULT_PROBE_WAIT: ProbeWait = { startMs: 200, answerMs: 3000 };

/** The prober runs under SCHED_FIFO priority 1 (chrt(1)): its resolution is the spacing of its
 * attempts, and a normal-priority process on a loaded machine waits for the CPU behind every
 * runnable task of its runqueue at each 1 ms timer (sched(7): a runnable real-time thread preempts
 * any SCHED_OTHER one at once). Priority 1 is the lowest real-time priority; the kernel's
 * real-time throttling (sched_rt_runtime_us, 95% by default) still leaves the CPU to others if the
 * prober ever spun, and it spends most of each millisecond asleep. */
export const PROBER_PRIORITY = ['chrt', '--fifo', '1'] as const;

/** One timed sync with the prober running: the sample, and the sync's record. `late` when the
 * prober had not started before the sync did (the caller repeats with a longer start wait). */
export async function timeProgramming(
  exec: Exec,
  clock: Clock,
  o: { netns: string; target: string; wait?: ProbeWait },
  doSync: () => Promise<SyncRecord>,
): Promise<{ sample: ProgrammingSample; record: SyncRecord; late: boolean }> {
  const wait = o.wait ?? DEFAULT_PROBE_WAIT;
  // The prober's own deadline only guards against a parent that died; the parent stops it.
  const poller = exec.start({ netns: o.netns, argv: [...PROBER_PRIORITY, process.execPath, PROBE_SCRIPT, '--poll', '600000', o.target] });
  let record: SyncRecord;
  let t0: number;
  try {
    await clock.sleep(wait.startMs);
    t0 = clock.now();
    record = await doSync();
    const answered = await Promise.race([poller.exited.then(() => true), clock.sleep(wait.answerMs).then(() => false)]);
    if (!answered) await poller.stop();
  } catch (e) {
    await poller.stop();
    throw e;
  }
  const polled = await poller.exited;
  const asMade = { sample: { ms: null, syncMs: record.totalMs, attempts: 0, note: 'a dry run sends nothing' }, late: false };
  const read = await exec.observe(async () => toSample(polled.stdout, polled.stderr, t0, record), asMade);
  return { ...read, record };
}

/** `repeat` repetitions of timeProgramming: `add` is the timed sync, `undo` (untimed) removes
 * what it added before the next repetition; the added state stays installed at the end. A prober
 * that started after the sync (a loaded machine) gets its repetition again with twice the start-up
 * wait, three times at most; an unanswered repetition ends the series (the next ones would wait out
 * the same). Returns the samples and the first repetition's sync record. */
export async function repeatProgramming(
  exec: Exec,
  clock: Clock,
  o: { netns: string; target: string; repeat: number },
  add: () => Promise<SyncRecord>,
  undo: () => Promise<unknown>,
): Promise<{ samples: ProgrammingSample[]; first: SyncRecord }> {
  const probe = { netns: o.netns, target: o.target, wait: { ...DEFAULT_PROBE_WAIT } };
  const samples: ProgrammingSample[] = [];
  let first: SyncRecord | undefined;
  for (let late = 0; samples.length < o.repeat && late <= 3;) {
    if (first) await undo();
    const r = await timeProgramming(exec, clock, probe, add);
    first ??= r.record;
    if (r.late) {
      late++;
      probe.wait.startMs *= 2;
      continue;
    }
    samples.push(r.sample);
    if (r.sample.ms === null) break;
  }
  return { samples, first: first! };
}

function toSample(stdout: string, stderr: string, t0: number, record: SyncRecord): { sample: ProgrammingSample; late: boolean } {
  let p: PollResult;
  try {
    p = JSON.parse(stdout) as PollResult;
  } catch {
    return {
      sample: { ms: null, syncMs: record.totalMs, attempts: 0, note: `prober failed: ${stderr.trim() || 'no output'}` },
      late: false,
    };
  }
  const base = {
    syncMs: record.totalMs,
    ...(record.commitStartMs === undefined ? {} : { commitStartMs: record.commitStartMs }),
    attempts: p.attempts,
  };
  if (p.firstSentAtMs > t0) return { sample: { ...base, ms: null, note: 'the prober started after the sync' }, late: true };
  if (!p.ok || p.sentAtMs === undefined) return { sample: { ...base, ms: null, note: p.error ?? 'no attempt answered' }, late: false };
  // Nothing forwards to the new address before its sync: an answer to an earlier attempt means
  // something else answered (rules or conntrack entries left from before).
  if (p.sentAtMs < t0) return { sample: { ...base, ms: null, note: 'an attempt sent before the sync was answered' }, late: false };
  return {
    sample: {
      ...base,
      ms: p.sentAtMs - t0,
      ...(p.previousSentAtMs === undefined ? {} : { stepMs: p.sentAtMs - p.previousSentAtMs }),
    },
    late: false,
  };
}

/** A sample whose interval (from the start of the attempt before the answered one to the end of
 * the answered one's connect()) is longer than this is flagged: the rules appeared somewhere in
 * it, so the sample's resolution is its length. */
export const COARSE_STEP_MS = 3;

/** The repetitions of one backend and scale point as run.json keeps them: the median of the
 * answered ones with its bootstrap 95% CI (seeded with the run's seed), the syncs' median, every
 * sample, and a note when some or all went unanswered. */
export function summarizeProgramming(backend: string, services: number, samples: ProgrammingSample[], seed: number): ProgrammingLatency {
  const answered = samples.flatMap((s) => (s.ms === null ? [] : [s.ms]));
  const unanswered = samples.filter((s) => s.ms === null);
  const notes = [...new Set(unanswered.map((s) => s.note ?? 'no answer'))];
  const coarse = samples.filter((s) => s.ms !== null && (s.stepMs ?? 0) > COARSE_STEP_MS);
  const parts = [
    answered.length === 0
      ? (notes[0] ?? 'not measured')
      : unanswered.length > 0
        ? `${unanswered.length} of ${samples.length} repetitions unanswered: ${notes.join('; ')}`
        : undefined,
    coarse.length > 0
      ? `${coarse.length} of ${answered.length} answered repetitions resolved worse than ${COARSE_STEP_MS} ms (the rules appeared in an interval of up to ${Math.max(...coarse.map((s) => s.stepMs!)).toFixed(1)} ms: the prober stalled)`
      : undefined,
  ].filter((x) => x !== undefined);
  const note = parts.length > 0 ? parts.join('; ') : undefined;
  const syncMs = samples.length > 0 ? median(samples.map((s) => s.syncMs)) : undefined;
  const commits = samples.flatMap((s) => (s.commitStartMs === undefined ? [] : [s.commitStartMs]));
  const times = {
    ...(syncMs === undefined ? {} : { syncMs }),
    ...(commits.length > 0 ? { commitStartMs: median(commits) } : {}),
  };
  if (answered.length === 0) return { backend, services, ms: null, samples, ...times, ...(note ? { note } : {}) };
  const ci = bootstrapCI(answered, { seed });
  return {
    backend,
    services,
    ms: ci.estimate,
    ...(ci.degenerate ? {} : { ci: { low: ci.low, high: ci.high } }),
    ...times,
    samples,
    ...(note ? { note } : {}),
  };
}
