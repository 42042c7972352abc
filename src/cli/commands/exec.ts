import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { formatCommand, resolveArgv } from '../../exec/index.js';
import { planRunPaths } from '../../sandbox/run-cgroup.js';
import { netnsName, type Role } from '../../sandbox/names.js';
import type { Context } from '../context.js';
import { resolveRun } from './down.js';

const TARGET = /^(node|node-\d+|underlay|external|srv-\d+|cli-\d+)$/;

/** `bench exec POD|node|external [-- CMD…]`: a command, or an interactive shell, in a namespace. */
export async function execIn(ctx: Context, target: string, argv: string[], flags: { run?: string }): Promise<number> {
  if (!TARGET.test(target))
    throw new UsageError(`TARGET: must be node, node-N, underlay, external, srv-N or cli-N (got ${JSON.stringify(target)})`);
  const runId = await resolveRun(flags.run);
  const netns = netnsName(runId, target as Role);
  if (!existsSync(`/run/netns/${netns}`)) throw new UsageError(`TARGET: sandbox ${runId} has no ${target}`);
  // Pod and node processes join the run's cgroup, as the run's own do: the eBPF backend's
  // connect4/sendmsg4 programs hang off it, so without it a ClusterIP would not answer here. The
  // external namespace stays outside, like the run's external client.
  // On more than one node each node has a cgroup of its own below the run's (session.ts, nodePaths):
  // a node joins its own; a pod joins the run's, since its node is not known from its name.
  const runCgroup = target === 'external' || target === 'underlay' ? undefined : planRunPaths(runId).cgroup;
  const nodeCgroup = runCgroup !== undefined && target.startsWith('node') ? join(runCgroup, target) : undefined;
  const cgroup = nodeCgroup !== undefined && existsSync(nodeCgroup) ? nodeCgroup : runCgroup;
  const joined = cgroup !== undefined && existsSync(cgroup) ? { cgroup } : {};
  if (argv.length > 0) {
    const r = await ctx.exec.run({ netns, argv, ...joined, inheritStdio: true, allowFailure: true });
    return r.exitCode;
  }
  // The shell runs on a pseudo-terminal, outside the exec port's commands: a change only the real
  // exec makes (with --dry-run it is printed, as every command is, and nothing starts).
  const shell = { netns, argv: [shellPath(), '-i'], ...joined };
  return ctx.exec.alter(
    () => interactiveShell(resolveArgv(shell), netns, `${runId}:${target}`),
    () => {
      ctx.say(`+ ${formatCommand(shell)}  (interactive, on a pseudo-terminal)`);
      return 0;
    },
  );
}

const shellPath = (): string => (process.env.SHELL && existsSync(process.env.SHELL) ? process.env.SHELL : '/bin/bash');

/** An interactive shell on a real pseudo-terminal (node-pty), so job control, line editing and
 * window size work as in any terminal: the pty is the shell's controlling terminal, our stdin is put
 * in raw mode and forwarded byte for byte, and SIGWINCH resizes the pty. */
async function interactiveShell(argv: string[], netns: string, label: string): Promise<number> {
  const pty = await import('node-pty');
  const stdin = process.stdin;
  const stdout = process.stdout;
  const term = pty.spawn(argv[0]!, argv.slice(1), {
    name: process.env.TERM ?? 'xterm-256color',
    cols: stdout.columns || 80,
    rows: stdout.rows || 24,
    cwd: process.cwd(),
    env: { ...process.env, SVCBENCH_NETNS: netns, SVCBENCH_TARGET: label } as Record<string, string>,
  });
  const onResize = () => term.resize(stdout.columns || 80, stdout.rows || 24);
  const onInput = (d: Buffer) => term.write(d.toString('binary'));
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onInput);
  stdin.resume();
  stdout.on('resize', onResize);
  term.onData((d) => stdout.write(d));
  return new Promise((resolve) => {
    term.onExit(({ exitCode }) => {
      stdout.off('resize', onResize);
      stdin.off('data', onInput);
      if (stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      resolve(exitCode);
    });
  });
}
