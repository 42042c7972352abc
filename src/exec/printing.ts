import { formatCommand, type Command, type Exec, type ExecResult, type Started } from './types.js';

/** Wraps an Exec and prints each command to a sink before it runs (`--print-commands`). */
export class PrintingExec implements Exec {
  constructor(
    private readonly inner: Exec,
    private readonly print: (line: string) => void,
  ) {}
  run(cmd: Command): Promise<ExecResult> {
    this.print(`+ ${formatCommand(cmd)}`);
    return this.inner.run(cmd);
  }
  start(cmd: Command): Started {
    this.print(`+ ${formatCommand(cmd)} &`);
    return this.inner.start(cmd);
  }
  observe<T>(read: () => Promise<T>, asMade: T): Promise<T> {
    return this.inner.observe(read, asMade);
  }
  alter<T>(change: () => Promise<T>, instead: () => T | Promise<T>): Promise<T> {
    return this.inner.alter(change, instead);
  }
}
