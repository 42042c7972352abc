import { AbortedError } from './errors.js';

// Teardown always runs (DESIGN.md §10): the first SIGINT/SIGTERM/SIGHUP aborts the work in
// progress, which unwinds to a `finally` that tears down; later signals only say that teardown is
// under way, so a second Ctrl-C cannot leave half a sandbox behind. `bench clean` covers SIGKILL.

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Interrupts {
  private readonly controller = new AbortController();
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  received?: NodeJS.Signals;

  constructor(private readonly say: (line: string) => void) {
    for (const sig of SIGNALS) {
      const handler = () => {
        if (this.received) {
          this.say(`${sig} again: still tearing down, please wait (bench clean removes leftovers)`);
          return;
        }
        this.received = sig;
        this.say(`${sig}: stopping and tearing down…`);
        this.controller.abort(new AbortedError(sig));
      };
      this.handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Throws AbortedError once a signal has arrived; call it between steps. */
  check = (): void => {
    if (this.controller.signal.aborted) throw this.controller.signal.reason;
  };

  /** What a failed step ends the command with: once a signal has arrived, the AbortedError,
   * whatever error came first. Ctrl-C at a terminal signals the whole foreground process group,
   * so a child (a probe, a load generator) can die of it and fail its step before this handler's
   * AbortedError surfaces; the command was still interrupted (exit 130, not 1). */
  reason = (e: unknown): unknown => (this.controller.signal.aborted && !(e instanceof AbortedError) ? this.controller.signal.reason : e);

  dispose(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
  }
}

/** Conventional exit status for a process that stopped because of a signal: 128 + its number. */
export const signalExitCode = (sig: NodeJS.Signals): number =>
  128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[sig]!;
