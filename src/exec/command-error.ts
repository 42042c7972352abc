import { BenchError } from '../errors.js';
import { formatCommand, type Command } from './types.js';

/** A failed command, carrying what a person needs: the command, the namespace, the exit
 * code and stderr, with the original error as `cause`. */
export class CommandError extends BenchError {
  constructor(
    readonly command: Command,
    readonly exitCode_: number | undefined,
    readonly stderr: string,
    opts: { cause?: unknown; timedOut?: boolean } = {},
  ) {
    const where = command.netns === undefined ? '' : ` in namespace ${command.netns}`;
    const how = opts.timedOut ? `timed out after ${command.timeoutMs} ms` : `exited with code ${exitCode_ ?? 'unknown'}`;
    const tail = stderr.trim().split('\n').slice(-8).join('\n');
    super(`command ${how}${where}: ${formatCommand(command)}${tail ? `\n${tail}` : ''}`, { cause: opts.cause });
    this.name = 'CommandError';
  }
}
