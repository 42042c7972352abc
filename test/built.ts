import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { fromRoot } from '../src/package-root.js';
import { PROBE_SCRIPT } from '../src/probe/client.js';

// The built CLI, run as a user would, without vitest: the e2e helpers (test/helpers.ts), the
// random-kill and fuzz campaigns and the benchmark scripts, some of which run outside vitest.

/** What `npm run build` bundles the CLI into (scripts/bundle). */
export const BENCH = fromRoot('dist/bench.mjs');

export function requireBuild(): void {
  if (!existsSync(BENCH) || !existsSync(PROBE_SCRIPT)) throw new Error('dist/ is missing: run `npm run build` (scripts/test does)');
}

export async function bench(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}) {
  const r = await execa(process.execPath, [BENCH, ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stdin: 'ignore',
    cwd: opts.cwd,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
