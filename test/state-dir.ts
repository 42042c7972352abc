import { afterAll, vi } from 'vitest';

/** Points src/sandbox/state.ts, which reads SVCBENCH_STATE_DIR when it loads, at `dir` for the
 * calling test file. Unit files share their worker thread's modules and environment
 * (vitest.config.ts: isolate false), so the modules load afresh now (import the ones under test
 * after this call, with await import), and the environment and modules are put back after the
 * file. */
export function useStateDir(dir: string): void {
  const previous = process.env.SVCBENCH_STATE_DIR;
  process.env.SVCBENCH_STATE_DIR = dir;
  vi.resetModules();
  afterAll(() => {
    if (previous === undefined) delete process.env.SVCBENCH_STATE_DIR;
    else process.env.SVCBENCH_STATE_DIR = previous;
    vi.resetModules();
  });
}
