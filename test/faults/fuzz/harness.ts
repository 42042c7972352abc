import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { BENCH } from '../../built.js';

// Runs the built CLI on one fuzzed input the way a user would (its own process, its own working
// directory) and judges the outcome by issue 19's rules: exit 0, 1 (with a message) or 2 (with a
// message naming the flag or field); never a stack trace; never a hang (TIMEOUT_MS); nothing
// created: no svcb-* namespace, state file, cgroup or bpffs mount, and no file in the working
// directory unless the command succeeded and writes files by design (bench report).

export { BENCH };
// A hang is a command that does not end. Alone, 20 run.json inputs take about 5 s in all, but the
// suite runs this file beside the machine-wide and guest files on 2 vCPUs, where `bench compare`
// of two corrupted runs once took over 10 s: so 30 s.
export const TIMEOUT_MS = 30_000;

export interface Outcome {
  argv: string[];
  exitCode: number | undefined;
  signal: string | undefined;
  ms: number;
  stderr: string;
  /** What broke the rules; empty when the input was handled as it should be. */
  problems: string[];
}

/** Every object a run could create outside its working directory, as sorted strings. */
export function systemSnapshot(): string[] {
  const list = (dir: string, keep: (n: string) => boolean, tag: string) => {
    try {
      return readdirSync(dir)
        .filter(keep)
        .map((n) => `${tag}:${n}`);
    } catch {
      return [];
    }
  };
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes('svcb'))
    .map((l) => `mount:${l.split(' ')[1]}`);
  return [
    ...list('/run/netns', (n) => n.startsWith('svcb-'), 'netns'),
    ...list('/run/svcbench', () => true, 'state'),
    ...list('/sys/fs/cgroup', (n) => n.startsWith('svcb'), 'cgroup'),
    ...mounts,
  ].sort();
}

/** Files and directories under `dir`, relative, with their sizes (so a rewritten file shows). */
export function treeSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      out.push(`${relative(dir, p)}${st.isDirectory() ? '/' : `:${st.size}:${st.mtimeMs}`}`);
      if (st.isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const added = (before: string[], after: string[]): string[] => {
  const b = new Set(before);
  return after.filter((x) => !b.has(x));
};

/** Whether every new svcb-* object counts as the input's (nothing else runs: under the e2e lock),
 * or only those whose run id the input's output mentions (other runs' sandboxes come and go
 * meanwhile, in CI too, where the machine-wide e2e files run beside the unit files; an input that
 * made one prints its run id: dry runs print every command). */
export const EXCLUSIVE = process.env.FAULTS_EXCLUSIVE === '1';

const mentionsRunOf = (object: string, output: string): boolean => {
  const id = /(?:svcb-|state:|\/run\/svcbench\/)([a-z0-9]{6})/.exec(object)?.[1];
  // `bench --dry-run clean` names other runs it would remove, in words and in its --json report
  // ({"removed":[…],"inUse":[…]}): those lines are not the input's own.
  const own = output
    .split('\n')
    .filter((l) => !/would remove|left run|netns del|\brm -r?f\b|\bumount\b|\brmdir\b|\bkill -KILL\b|"removed":\[/.test(l))
    .join('\n');
  return id === undefined || own.includes(id);
};

/** A JavaScript stack frame ("    at f (file:1:2)") or the CLI's own last-resort message. */
const STACK = /^\s+at .+:\d+:\d+\)?$|unexpected error/m;

export interface Judge {
  /** Does this usage error (exit 2) name the flag, argument or field at fault? */
  namesField(stderr: string): boolean;
  /** Files the command may write into its working directory when it exits 0. */
  mayWrite: boolean;
}

/** Runs `bench argv` in `cwd` and judges it. `system` snapshots are compared around it unless a
 * concurrent input shares the machine (then the caller compares around the batch). */
export async function runInput(argv: string[], cwd: string, judge: Judge, opts: { checkSystem?: boolean } = {}): Promise<Outcome> {
  const sysBefore = opts.checkSystem === false ? [] : systemSnapshot();
  const treeBefore = treeSnapshot(cwd);
  const t0 = performance.now();
  const run = () =>
    execa(process.execPath, [BENCH, ...argv], {
      cwd,
      reject: false,
      stdin: 'ignore',
      timeout: TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { NO_COLOR: '1' },
      maxBuffer: 256 * 1024 * 1024,
    });
  let r = await run();
  // The shared node_modules of a development machine can change under a long campaign (another
  // checkout's npm install): Node then fails to load a module before bench runs. Not the input's
  // doing: tried once more.
  if (/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/.test(String(r.stderr))) r = await run();
  const ms = performance.now() - t0;
  const stderr = String(r.stderr);
  const stdout = String(r.stdout);
  const problems: string[] = [];
  if (r.timedOut) problems.push(`hang: still running after ${TIMEOUT_MS / 1000} s`);
  else if (r.exitCode === undefined || ![0, 1, 2].includes(r.exitCode)) problems.push(`exit ${r.exitCode ?? r.signal}`);
  if (STACK.test(stderr) || STACK.test(stdout)) problems.push('stack trace');
  if (r.exitCode === 1 && !/^[^+\s]/m.test(stderr)) problems.push('exit 1 without a message');
  if (r.exitCode === 2 && !judge.namesField(stderr)) problems.push('exit 2 without naming the flag or field');
  const newFiles = added(treeBefore, treeSnapshot(cwd));
  if (newFiles.length > 0 && !(r.exitCode === 0 && judge.mayWrite))
    problems.push(`created in the working directory: ${newFiles.slice(0, 5).join(', ')}`);
  if (opts.checkSystem !== false) {
    const created = added(sysBefore, systemSnapshot()).filter((o) => EXCLUSIVE || mentionsRunOf(o, stdout + stderr));
    if (created.length > 0) problems.push(`created: ${created.join(', ')}`);
  }
  return { argv, exitCode: r.exitCode, signal: r.signal ?? undefined, ms, stderr, problems };
}
