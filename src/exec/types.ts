// The one exec port (DESIGN.md §2): every external command the project runs is a Command,
// an argv array (never a shell string) with an optional network namespace and stdin.

export interface Command {
  argv: readonly string[];
  /** Name of a namespace under /run/netns; the command runs inside it via nsenter. */
  netns?: string;
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
  /** True when commands are only printed (`--dry-run`): callers skip reading state back. */
  readonly dryRun: boolean;
}

/** The argv actually executed: namespaced commands go through nsenter, which (unlike
 * `ip netns exec`) does not remount /sys, so cgroup2 and bpffs stay visible
 * (../shared/reference/environment.md, "Gotchas"). */
export function resolveArgv(cmd: Command): string[] {
  return cmd.netns === undefined ? [...cmd.argv] : ['nsenter', `--net=/run/netns/${cmd.netns}`, '--', ...cmd.argv];
}

/** Render a command for people: shell-quoted argv, with its namespace and stdin size. */
export function formatCommand(cmd: Command): string {
  const quoted = cmd.argv.map(shellQuote).join(' ');
  const ns = cmd.netns === undefined ? '' : `[${cmd.netns}] `;
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
