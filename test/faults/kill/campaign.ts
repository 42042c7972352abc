import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { readRunChecked } from '../../../src/run/results.js';
import { createRng } from '../../../src/stats/prng.js';
import { BENCH, bench, rootSnapshot } from './host.js';
import { bpfProgramsSettled, residue, snapshotBefore } from './residue.js';
import { phaseAt, SCENARIOS, type Scenario } from './scenarios.js';

// Seeded random kills (issue 19 item 1): each trial picks a scenario (command × backend × phase),
// a signal, whom it goes to and a delay from the seed, runs the built CLI with --print-commands,
// sends the signal the drawn delay after the scenario's trigger line, and then checks:
// - SIGINT: the command tears itself down (exit 130, nothing left before any `bench clean`);
// - SIGKILL, or a command that ended first: `bench clean` exits 0 and leaves nothing;
// - either way: residue.ts finds nothing, and (when asked) the root namespace is unchanged;
// - an interrupted bench run / bench sync keeps a results file that verifies, holding every case
//   it reported done (SIGKILL: all but possibly the one whose rewrite the kill cut), and
//   `bench report` renders from it once a case (a point) completed.

export type Signal = 'SIGINT' | 'SIGKILL';

export interface Trial {
  index: number;
  scenario: Scenario;
  signal: Signal;
  /** 'group': the command's whole process group (Ctrl-C, a job killed); 'process': bench alone
   * (its children are orphaned: only bench clean can find them). SIGINT always goes to the group. */
  to: 'group' | 'process';
  delayMs: number;
}

export interface TrialOutcome {
  trial: Trial;
  /** Where the kill landed ('finished' when the command ended first). */
  phase: string;
  exitCode: number | undefined;
  signalled: boolean;
  residues: string[];
  /** Failures of the other checks (exit code, results file, report). */
  problems: string[];
  /** Keys of the root namespace snapshot that changed (when snapshots are taken). */
  rootChanged: string[];
  /** Completed cases (points) in the results file, and whether bench report rendered from it. */
  completed: number;
  reported: boolean;
  /** How long after the teardown (or bench clean) the kernel still listed eBPF programs of a
   * removed cgroup (residue.ts bpfProgramsSettled); 0: none. */
  bpfSettleMs: number;
  ms: number;
}

/** The trials of a campaign: scenario, signal, target and delay drawn from the seed. */
export function planTrials(seed: number, count: number, opts: { full: boolean; only?: RegExp }): Trial[] {
  const pool = SCENARIOS.filter((s) => (opts.full || !s.full) && (opts.only === undefined || opts.only.test(s.name)));
  if (pool.length === 0) throw new Error(`no scenario matches ${String(opts.only)}`);
  const rng = createRng(seed);
  // Stratified: every scenario once per round, in a seeded order, so a campaign of at least as
  // many trials as scenarios aims at each of them.
  const order: Scenario[] = [];
  while (order.length < count) {
    const round = [...pool];
    for (let i = round.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    order.push(...round);
  }
  return Array.from({ length: count }, (_, index) => {
    const scenario = order[index]!;
    const signal: Signal = rng.nextInt(2) === 0 ? 'SIGKILL' : 'SIGINT';
    const to = signal === 'SIGKILL' && rng.nextInt(3) === 0 ? 'process' : 'group';
    return { index, scenario, signal, to, delayMs: rng.nextInt(scenario.windowMs) };
  });
}

/** How long a trial may wait for its trigger line, and for its command to end after the signal. */
const TRIGGER_TIMEOUT_MS = 300_000;
const EXIT_TIMEOUT_MS = 180_000;

interface Launched {
  lines: string[];
  /** The lines seen when the signal was due (undefined: not due before the command ended). */
  atKill?: number;
  /** The signal reached the command while it ran. */
  sent: boolean;
  exitCode: number | undefined;
  signalled: boolean;
  pgid: number;
}

/** Runs the trial's command and signals it; resolves once it has ended. */
async function launch(t: Trial, out: string): Promise<Launched> {
  const child = execa(process.execPath, [BENCH, '--print-commands', ...t.scenario.argv(out)], {
    reject: false,
    stdin: 'ignore',
    detached: true,
    timeout: TRIGGER_TIMEOUT_MS + EXIT_TIMEOUT_MS,
  });
  const l: Launched = { lines: [], exitCode: undefined, signalled: false, sent: false, pgid: child.pid! };
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    if (l.atKill !== undefined) return;
    l.atKill = l.lines.length;
    try {
      process.kill(t.to === 'group' ? -child.pid! : child.pid!, t.signal);
      l.sent = child.exitCode === null;
    } catch {
      // ended already
    }
  };
  const arm = () => {
    if (timer === undefined) timer = setTimeout(fire, t.delayMs);
  };
  const watchdog = setTimeout(fire, TRIGGER_TIMEOUT_MS);
  if (t.scenario.trigger === undefined) arm();
  let buf = '';
  child.stderr!.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      l.lines.push(line);
      if (t.scenario.trigger?.test(line)) arm();
    }
  });
  const r = await child;
  clearTimeout(timer);
  clearTimeout(watchdog);
  l.exitCode = r.exitCode;
  l.signalled = l.sent && (r.signal !== undefined || r.exitCode !== 0);
  return l;
}

/** The run directories (results/<run-id>/) a trial's command made. */
const runDirs = (out: string): string[] =>
  existsSync(out)
    ? readdirSync(out)
        .filter((d) => d !== 'latest')
        .map((d) => join(out, d))
    : [];

/** Results checks: the file verifies, holds what the command reported done, and renders. */
async function checkResults(t: Trial, l: Launched, out: string): Promise<{ problems: string[]; completed: number; reported: boolean }> {
  const problems: string[] = [];
  let completed = 0;
  let reported = false;
  for (const dir of runDirs(out)) {
    const said = l.lines.filter((x) => /^ {2}→ /.test(x) && !/→ (errored|skipped|aborted)/.test(x)).length;
    if (t.scenario.command === 'run' && existsSync(join(dir, 'run.json'))) {
      try {
        const { run, checksum } = await readRunChecked(dir);
        if (checksum !== 'verified') problems.push(`${dir}/run.json: checksum ${checksum}`);
        completed = run.cases.filter((c) => c.state === 'completed').length;
        // SIGKILL may cut the rewrite that follows a case's progress line.
        const least = t.signal === 'SIGKILL' ? said - 1 : said;
        if (completed < least || completed > said) problems.push(`run.json holds ${completed} completed cases, the progress said ${said}`);
      } catch (e) {
        problems.push(`${dir}/run.json: ${(e as Error).message.slice(0, 200)}`);
      }
    } else if (t.scenario.command === 'sync' && existsSync(join(dir, 'sync.json'))) {
      try {
        const sync = JSON.parse(readFileSync(join(dir, 'sync.json'), 'utf8')) as { points: { state: string }[] };
        completed = sync.points.filter((p) => p.state === 'completed').length;
      } catch (e) {
        problems.push(`${dir}/sync.json: ${(e as Error).message.slice(0, 200)}`);
      }
    }
    if (completed > 0) {
      const r = await bench(['report', dir], { timeoutMs: 120_000 });
      reported = r.exitCode === 0 && existsSync(join(dir, 'report.md'));
      if (!reported) problems.push(`bench report ${dir}: exit ${r.exitCode}: ${r.stderr.slice(-300)}`);
    }
  }
  return { problems, completed, reported };
}

/** bench run's 'teardown' is 'report writing' once run.json was finished (its last rewrite
 * follows the teardown, the reports follow it). */
function refinePhase(phase: string, t: Trial, out: string): string {
  if (t.scenario.command !== 'run' || !phase.endsWith('teardown')) return phase;
  for (const dir of runDirs(out)) {
    try {
      const text = readFileSync(join(dir, 'run.json'), 'utf8');
      if (/"finishedAt"/.test(text)) return phase.replace('teardown', 'report writing');
    } catch {
      // no run.json
    }
  }
  return phase;
}

export async function runTrial(t: Trial, out: string, opts: { root?: Record<string, string> } = {}): Promise<TrialOutcome> {
  const t0 = performance.now();
  const before = snapshotBefore();
  const l = await launch(t, out);
  const problems: string[] = [];
  const phase = l.atKill === undefined || !l.signalled ? 'finished' : refinePhase(phaseAt(l.lines.slice(0, l.atKill), t.scenario), t, out);
  // Processes may take a moment to be reaped after their parent died.
  await new Promise((r) => setTimeout(r, 200));
  let residues: string[] = [];
  let bpfSettleMs = 0;
  if (t.signal === 'SIGINT' && l.signalled) {
    // Before a command installs its handler (lifecycle.ts) Node's default action ends it, and
    // nothing exists yet (the residue check below says so if something did).
    const early = phase === 'start' && l.exitCode === undefined;
    if (l.exitCode !== 130 && !early) problems.push(`SIGINT: exit ${l.exitCode}, not 130: ${l.lines.slice(-3).join(' | ')}`);
    // The command tore itself down: nothing may be left before any bench clean.
    bpfSettleMs = await bpfProgramsSettled(before);
    residues = residue({ before, out, pgid: l.pgid }).map((r) => `after SIGINT, before clean: ${r}`);
  } else if (phase === 'finished' && l.exitCode !== 0) {
    problems.push(`ended before the signal with exit ${l.exitCode}: ${l.lines.slice(-3).join(' | ')}`);
  }
  // bench clean after a SIGKILL or a command that ended (bench up keeps its sandbox on purpose);
  // after a SIGINT that left nothing it has nothing to do, and is skipped (CI time).
  if (!(t.signal === 'SIGINT' && l.signalled && residues.length === 0)) {
    const c = await bench(['clean'], { timeoutMs: 120_000 });
    if (c.exitCode !== 0) problems.push(`bench clean: exit ${c.exitCode}: ${c.stderr.slice(-300)}`);
    bpfSettleMs = await bpfProgramsSettled(before);
    residues.push(...residue({ before, out, pgid: l.pgid }).map((r) => `after bench clean: ${r}`));
  }
  const results = await checkResults(t, l, out);
  problems.push(...results.problems);
  const rootChanged: string[] = [];
  if (opts.root) {
    const now = await rootSnapshot();
    for (const k of Object.keys(opts.root)) if (now[k] !== opts.root[k]) rootChanged.push(k);
  }
  // Leave nothing for the next trial whatever was found (residues are counted above).
  if (residues.length > 0) await bench(['clean'], { timeoutMs: 120_000 });
  return {
    trial: t,
    phase,
    exitCode: l.exitCode,
    signalled: l.signalled,
    residues,
    problems,
    rootChanged,
    completed: results.completed,
    reported: results.reported,
    bpfSettleMs,
    ms: performance.now() - t0,
  };
}

export const describeTrial = (t: Trial): string =>
  `#${t.index} ${t.scenario.name}, ${t.signal}${t.to === 'process' ? ' (bench alone)' : ''} ${t.delayMs} ms after ${t.scenario.trigger ? 'its trigger' : 'start'}`;

/** The campaign's table: per scenario and phase hit, trials, signals, residues, problems. */
export function summaryTable(outcomes: readonly TrialOutcome[]): string {
  const rows = new Map<string, TrialOutcome[]>();
  for (const o of outcomes) {
    const k = `${o.trial.scenario.name} | ${o.phase}`;
    rows.set(k, [...(rows.get(k) ?? []), o]);
  }
  const lines = [
    '| scenario | phase hit | trials | SIGKILL | SIGINT | reports rendered | residues | other problems | root changes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [k, os] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    const n = (f: (o: TrialOutcome) => boolean) => os.filter(f).length;
    lines.push(
      `| ${k} | ${os.length} | ${n((o) => o.trial.signal === 'SIGKILL')} | ${n((o) => o.trial.signal === 'SIGINT')} | ${n((o) => o.reported)} | ${os.reduce((a, o) => a + o.residues.length, 0)} | ${os.reduce((a, o) => a + o.problems.length, 0)} | ${n((o) => o.rootChanged.length > 0)} |`,
    );
  }
  const phases = new Set(outcomes.filter((o) => o.phase !== 'finished').map((o) => o.phase.replace(/^guest: /, 'guest: ')));
  const residues = outcomes.reduce((a, o) => a + o.residues.length, 0);
  const problems = outcomes.reduce((a, o) => a + o.problems.length, 0);
  const root = outcomes.filter((o) => o.rootChanged.length > 0).length;
  lines.push(
    '',
    `trials ${outcomes.length}; signalled ${outcomes.filter((o) => o.signalled).length}; scenarios ${new Set(outcomes.map((o) => o.trial.scenario.name)).size}; phases hit ${phases.size} (${[...phases].sort().join(', ')}); residues ${residues}; other problems ${problems}; trials with root-namespace changes ${root}; reports rendered from interrupted runs ${outcomes.filter((o) => o.reported).length}; trials whose eBPF programs the kernel freed after the teardown ${outcomes.filter((o) => (o.bpfSettleMs ?? 0) > 0).length} (longest ${Math.max(0, ...outcomes.map((o) => o.bpfSettleMs ?? 0))} ms)`,
  );
  return lines.join('\n');
}
