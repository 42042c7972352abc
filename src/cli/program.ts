import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { backendOptionsShape } from '../config/backend.js';
import { sandboxShape } from '../config/sandbox.js';
import { AbortedError, BenchError, UsageError } from '../errors.js';
import { signalExitCode } from '../lifecycle.js';
import { fromRoot } from '../package-root.js';
import { clean } from './commands/clean.js';
import { compareCommand } from './commands/compare.js';
import { doctor } from './commands/doctor.js';
import { down } from './commands/down.js';
import { execIn } from './commands/exec.js';
import { report } from './commands/report.js';
import { up } from './commands/up.js';
import { run, runFlagsShape } from './commands/run.js';
import { syncCommand, syncFlagsShape } from './commands/sync.js';
import { verify, verifyShape } from './commands/verify.js';
import { defaultIo, makeContext, type Context, type GlobalOptions } from './context.js';
import { addShapeOptions } from './options.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;
}

/** Builds the CLI. `io` and `contextFor` are injectable so CLI tests can run it against a
 * fake exec (FakeExec) and capture both streams. Resolves to the process exit code. */
export async function runCli(
  argv: string[],
  opts: { io?: typeof defaultIo; contextFor?: (g: GlobalOptions) => Context } = {},
): Promise<number> {
  const io = opts.io ?? defaultIo;
  const contextFor = opts.contextFor ?? ((g: GlobalOptions) => makeContext(g, io));
  let exitCode = 0;
  const program = new Command('bench')
    .description('svcbench: what each way of implementing Kubernetes Services costs, measured in a node built from network namespaces')
    .version(packageVersion(), '-V, --version')
    .addOption(new Option('--print-commands', 'print every command as it runs (stderr)'))
    .addOption(new Option('--dry-run', 'print the commands instead of running them; creates nothing'))
    .exitOverride()
    .showHelpAfterError('(run bench --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: (s) => io.say(s.trimEnd()) });
  const wiring: Wiring = {
    ctx: () => contextFor(program.opts<GlobalOptions>()),
    argv,
    setExit: (code) => {
      exitCode = code;
    },
  };
  addSandboxCommands(program, wiring);
  addMeasureCommands(program, wiring);
  addCheckCommands(program, wiring);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, io.say);
  }
}

/** What the command actions need from runCli: the context, the raw argv (recorded in run.json) and
 * a way to set the exit code that runCli resolves to. */
interface Wiring {
  ctx: () => Context;
  argv: string[];
  setExit: (code: number) => void;
}

/** up, down, exec: a sandbox to explore by hand. */
function addSandboxCommands(program: Command, { ctx, setExit }: Wiring): void {
  addShapeOptions(program.command('up').description('build a sandbox (node, pods, external client) and leave it to explore'), sandboxShape)
    .option('--scenario <file>', 'scenario file (YAML or JSON) whose sandbox settings and endpoints size the sandbox')
    .option('--json', 'print the sandbox as JSON on stdout')
    .action(async (flags) => up(ctx(), flags));
  program
    .command('down')
    .argument('[RUN]', 'run id printed by bench up (default: the only sandbox)')
    .description('remove a sandbox left by bench up')
    .action(async (run: string | undefined) => down(ctx(), run));
  program
    .command('exec')
    .argument('<TARGET>', 'srv-N, cli-N, node or external')
    .argument('[CMD...]', 'command to run (after --); without it an interactive shell')
    .option('--run <RUN>', 'sandbox to use (default: the only one)')
    .description('run a command, or an interactive shell, inside a sandbox namespace')
    .action(async (target: string, cmd: string[], flags: { run?: string }) => {
      setExit(await execIn(ctx(), target, cmd, flags));
    });
}

/** run, report, compare: measuring and reading results. */
function addMeasureCommands(program: Command, { ctx, argv, setExit }: Wiring): void {
  addShapeOptions(
    program
      .command('run')
      .description(
        'measure backends × paths × workloads × scale points, repeated and interleaved; writes results/<run-id>/run.json and its reports',
      ),
    runFlagsShape,
  )
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (flags) => {
      setExit(await run(ctx(), flags, argv));
    });
  addShapeOptions(
    program
      .command('sync')
      .description(
        'time syncs only, per backend (and kube-proxy line) and scale point: cold and restart full syncs, partial syncs, their phases, growth; writes results/<run-id>/sync.json and its reports',
      ),
    syncFlagsShape,
  )
    .option('--json', 'print the points as JSON on stdout')
    .action(async (flags) => {
      setExit(await syncCommand(ctx(), flags, argv));
    });
  program
    .command('report')
    .argument('[RUN]', 'run directory or run id under results/ (default: results/latest)')
    .option('--json', 'print the files written as JSON on stdout')
    .description('re-render summary.csv, syncs.csv, report.md, charts/*.svg and report.html of a run from its run.json')
    .action(async (runArg: string | undefined, flags: { json?: boolean }) => {
      setExit(await report(ctx(), runArg, flags));
    });
  program
    .command('compare')
    .argument('<RUN_A>', 'baseline run: run directory or run id under results/')
    .argument('<RUN_B>', 'run compared with it')
    .option('--fail-on-regression <PCT>', 'exit 1 when a significant regression exceeds PCT percent (its whole 95% CI beyond it)')
    .option('--json', 'print the comparison as JSON on stdout')
    .description('per-case changes of RUN_B against RUN_A with their significance (bootstrap CIs)')
    .action(async (a: string, b: string, flags: { failOnRegression?: string; json?: boolean }) => {
      setExit(await compareCommand(ctx(), a, b, flags));
    });
}

/** verify, doctor, clean: checks and cleanup. */
function addCheckCommands(program: Command, { ctx, argv, setExit }: Wiring): void {
  addShapeOptions(
    program
      .command('verify')
      .description('conformance suite: install services with a backend and prove they forward (exits 1 on any failure)'),
    verifyShape,
  )
    .option('--json', 'print the report as JSON on stdout')
    .action(async (flags) => {
      setExit(await verify(ctx(), flags, argv));
    });
  addShapeOptions(program.command('doctor'), { iptablesMode: backendOptionsShape.iptablesMode })
    .option('--json', 'print the checks as JSON on stdout')
    .description('check, per backend, binaries, kernel features, cgroup2 and bpffs; say what is missing and how to fix it')
    .action(async (flags) => doctor(ctx(), flags));
  program
    .command('clean')
    .option('--json', 'print what was removed as JSON on stdout')
    .description('remove everything that killed runs and kept sandboxes left behind (idempotent)')
    .action(async (flags) => clean(ctx(), flags));
}

function reportError(e: unknown, say: (l: string) => void): number {
  if (e instanceof CommanderError) {
    // Help and version are not errors; everything else commander rejects is a usage error.
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
  }
  if (e instanceof UsageError) {
    say(`bench: ${e.message}`);
    return 2;
  }
  if (e instanceof AbortedError) {
    say(`bench: ${e.message}; everything it created was removed`);
    return signalExitCode(e.signal);
  }
  if (e instanceof BenchError) {
    say(`bench: ${e.message}${e.hint ? `\nhint: ${e.hint}` : ''}`);
    return 1;
  }
  say(`bench: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return 1;
}
