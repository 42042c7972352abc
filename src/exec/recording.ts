import { CommandError } from './command-error.js';
import { formatCommand, type Command, type Exec, type ExecResult, type Started } from './types.js';

export type Responder = (cmd: Command) => Partial<ExecResult> | undefined;

/** Records every command instead of running it. Used by `--dry-run` and by the CLI test tier;
 * a responder may supply canned output for commands whose output the caller parses. */
export class RecordingExec implements Exec {
  readonly dryRun = true;
  readonly commands: Command[] = [];

  constructor(
    private readonly responder: Responder = () => undefined,
    private readonly onCommand?: (cmd: Command) => void,
  ) {}

  async run(cmd: Command): Promise<ExecResult> {
    this.commands.push(cmd);
    this.onCommand?.(cmd);
    const r = { stdout: '', stderr: '', exitCode: 0, durationMs: 0, ...this.responder(cmd) };
    if (r.exitCode !== 0 && !cmd.allowFailure) throw new CommandError(cmd, r.exitCode, r.stderr);
    return r;
  }

  start(cmd: Command): Started {
    this.commands.push(cmd);
    this.onCommand?.(cmd);
    const r = { stdout: '', stderr: '', exitCode: 0, durationMs: 0, ...this.responder(cmd) };
    return { pid: -1, exited: Promise.resolve(r), stop: async () => {} };
  }

  /** The recorded commands as people read them. */
  transcript(): string[] {
    return this.commands.map(formatCommand);
  }
}

/** Wraps an Exec and prints each command to a sink before it runs (`--print-commands`). */
export class PrintingExec implements Exec {
  constructor(
    private readonly inner: Exec,
    private readonly print: (line: string) => void,
  ) {}
  get dryRun(): boolean {
    return this.inner.dryRun;
  }
  run(cmd: Command): Promise<ExecResult> {
    this.print(`+ ${formatCommand(cmd)}`);
    return this.inner.run(cmd);
  }
  start(cmd: Command): Started {
    this.print(`+ ${formatCommand(cmd)} &`);
    return this.inner.start(cmd);
  }
}
