// The one exec port (DESIGN.md §2): every external command the project runs is a Command,
// an argv array (never a shell string) with an optional network namespace and stdin.

export interface Command {
  argv: readonly string[];
  /** Name of a namespace under /run/netns; the command runs inside it via nsenter. */
  netns?: string;
  /** A cgroup2 directory the process joins before it enters `netns` (and before it runs), so
   * cgroup BPF programs attached there see its sockets from the first syscall. */
  cgroup?: string;
  stdin?: string;
  /** Kill the command after this many milliseconds. */
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit code (the caller inspects exitCode). */
  allowFailure?: boolean;
  /** Inherit the terminal's stdio (interactive `bench exec -- CMD`). */
  inheritStdio?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
  /** The signal that ended the process, when one did (a started process killed from outside). */
  signal?: string;
}

/** A long-running process (a server in a pod, a load generator) started through the port. */
export interface Started {
  pid: number;
  /** Settles when the process exits; never rejects. */
  exited: Promise<ExecResult>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface Exec {
  run(cmd: Command): Promise<ExecResult>;
  start(cmd: Command): Started;
  /** Reads the machine: what this process made (rules read back, servers listening, a path
   * answering, a measurement's outcome) or what it needs (a tool's version). The real and fake
   * execs call `read`, and the commands it runs go through this exec; the dry-run exec, which runs
   * nothing, answers `asMade`: what a machine that has everything and did all it was told would
   * answer (no differences, nobody to wait for, the tool there). Callers never ask which exec
   * they have. */
  observe<T>(read: () => Promise<T>, asMade: T): Promise<T>;
  /** Touches this machine outside a command: changes it (a directory, the state file, a BPF load,
   * results on disk, a guest VM) or asks the kernel directly (a netlink dump). Only the real exec calls `change`; the fake and dry-run execs touch nothing
   * and call `instead` (what stands for the change when none is made: a memory record, a plan). */
  alter<T>(change: () => Promise<T>, instead: () => T | Promise<T>): Promise<T>;
}

/** The argv actually executed: namespaced commands go through nsenter, which (unlike
 * `ip netns exec`) does not remount /sys, so cgroup2 and bpffs stay visible
 * (../shared/reference/environment.md, "Gotchas"). A command with a cgroup first runs a fixed
 * two-statement sh program that writes its own pid to the cgroup's cgroup.procs and execs the rest
 * of its arguments: the path and argv travel as arguments, never inside the script text. */
export function resolveArgv(cmd: Command): string[] {
  const inNetns = cmd.netns === undefined ? [...cmd.argv] : ['nsenter', `--net=/run/netns/${cmd.netns}`, '--', ...cmd.argv];
  return cmd.cgroup === undefined ? inNetns : ['sh', '-c', JOIN_CGROUP, 'svcbench-cgroup', cmd.cgroup, ...inNetns];
}

const JOIN_CGROUP = 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"';

/** Render a command for people: shell-quoted argv, with its namespace and stdin size. */
export function formatCommand(cmd: Command): string {
  const quoted = cmd.argv.map(shellQuote).join(' ');
  const where = [cmd.netns, cmd.cgroup === undefined ? undefined : `cgroup ${cmd.cgroup}`].filter((x) => x !== undefined);
  const ns = where.length === 0 ? '' : `[${where.join(' ')}] `;
  const stdin = cmd.stdin === undefined ? '' : ` <<stdin (${lineCount(cmd.stdin)} lines)`;
  return `${ns}${quoted}${stdin}`;
}

function lineCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return s.length > 0 && !s.endsWith('\n') ? n + 1 : n;
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
