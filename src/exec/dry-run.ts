import { formatCommand, type Command, type Exec, type ExecResult, type Started } from './types.js';

/** `--dry-run`: prints every command (with its stdin) and runs nothing. Each command succeeds with
 * empty output; a read beyond commands answers as a machine that did all it was told would
 * (`observe`'s asMade), and nothing outside commands is changed. */
export class DryRunExec implements Exec {
  constructor(private readonly print: (line: string) => void) {}

  async run(cmd: Command): Promise<ExecResult> {
    this.say(cmd);
    return { stdout: '', stderr: '', exitCode: 0, durationMs: 0 };
  }

  start(cmd: Command): Started {
    this.say(cmd);
    return { pid: -1, exited: Promise.resolve({ stdout: '', stderr: '', exitCode: 0, durationMs: 0 }), stop: async () => {} };
  }

  async observe<T>(_read: () => Promise<T>, asMade: T): Promise<T> {
    return asMade;
  }

  async alter<T>(_change: () => Promise<T>, instead: () => T | Promise<T>): Promise<T> {
    return instead();
  }

  private say(cmd: Command): void {
    this.print(`+ ${formatCommand(cmd)}${cmd.stdin ? `\n${indent(cmd.stdin)}` : ''}`);
  }
}

const indent = (s: string): string =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
