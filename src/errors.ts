// Errors name what failed, where, and what to do (DESIGN.md §8). Usage errors exit 2, failures 1.

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class BenchError extends Error {
  readonly exitCode = 1;
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BenchError';
    if (opts.hint !== undefined) this.hint = opts.hint;
  }
}

/** Thrown when a run is interrupted by SIGINT/SIGTERM; teardown still runs. */
export class AbortedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.name = 'AbortedError';
  }
}
