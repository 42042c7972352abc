import { CommandError } from './command-error.js';
import { formatCommand, type Command, type Exec, type ExecResult, type Started } from './types.js';

export type Responder = (cmd: Command) => Partial<ExecResult> | undefined;

/** The test fake (hyperfine's MockExecutor): records every command and answers each with canned
 * output from `responder` (default: success, empty output). Reads beyond commands run, so tests
 * reach read-back and probe code through the canned answers; changes to the machine outside
 * commands (directories, BPF loads, the state file) are not made. */
export class FakeExec implements Exec {
  readonly commands: Command[] = [];

  constructor(
    private readonly responder: Responder = () => undefined,
    private readonly onCommand?: (cmd: Command) => void,
  ) {}

  async run(cmd: Command): Promise<ExecResult> {
    const r = this.answer(cmd);
    if (r.exitCode !== 0 && !cmd.allowFailure) throw new CommandError(cmd, r.exitCode, r.stderr);
    return r;
  }

  start(cmd: Command): Started {
    const r = this.answer(cmd);
    return { pid: -1, exited: Promise.resolve(r), stop: async () => {} };
  }

  observe<T>(read: () => Promise<T>): Promise<T> {
    return read();
  }

  async alter<T>(_change: () => Promise<T>, instead: () => T | Promise<T>): Promise<T> {
    return instead();
  }

  /** The recorded commands as people read them. */
  transcript(): string[] {
    return this.commands.map(formatCommand);
  }

  private answer(cmd: Command): ExecResult {
    this.commands.push(cmd);
    this.onCommand?.(cmd);
    return { stdout: '', stderr: '', exitCode: 0, durationMs: 0, ...this.responder(cmd) };
  }
}
