import { execa } from 'execa';
import { CommandError } from './command-error.js';
import { resolveArgv, type Command, type Exec, type ExecResult, type Started } from './types.js';

/** Runs commands for real through execa. */
export class RealExec implements Exec {
  async run(cmd: Command): Promise<ExecResult> {
    const [file, ...args] = resolveArgv(cmd);
    const started = performance.now();
    const result = await execa(file!, args, {
      reject: false,
      stripFinalNewline: false,
      ...(cmd.inheritStdio ? { stdio: 'inherit' as const } : { input: cmd.stdin ?? '' }),
      ...(cmd.timeoutMs === undefined ? {} : { timeout: cmd.timeoutMs }),
    });
    const out: ExecResult = {
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      exitCode: result.exitCode ?? -1,
      durationMs: performance.now() - started,
    };
    if (result.failed && !(cmd.allowFailure && result.exitCode !== undefined && !result.timedOut)) {
      throw new CommandError(cmd, result.exitCode, out.stderr || (result.message ?? ''), {
        cause: result,
        timedOut: result.timedOut === true,
      });
    }
    return out;
  }

  observe<T>(read: () => Promise<T>): Promise<T> {
    return read();
  }

  alter<T>(change: () => Promise<T>): Promise<T> {
    return change();
  }

  start(cmd: Command): Started {
    const [file, ...args] = resolveArgv(cmd);
    const started = performance.now();
    const child = execa(file!, args, {
      reject: false,
      input: cmd.stdin ?? '',
      buffer: { stdout: true, stderr: true },
      stripFinalNewline: false,
    });
    const exited = child.then((r) => ({
      stdout: typeof r.stdout === 'string' ? r.stdout : '',
      stderr: typeof r.stderr === 'string' ? r.stderr : '',
      exitCode: r.exitCode ?? -1,
      durationMs: performance.now() - started,
      ...(r.signal === undefined ? {} : { signal: r.signal }),
    }));
    return {
      pid: child.pid ?? -1,
      exited,
      stop: async () => {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}
